//! libFuzzer entry point of the `response_decode` target; its body and properties live in
//! `billbridge_fuzz_targets::response_decode`, which `cargo test` runs over the corpus too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| billbridge_fuzz_targets::response_decode(data));
