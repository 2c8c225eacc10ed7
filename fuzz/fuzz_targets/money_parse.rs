//! libFuzzer entry point of the `money_parse` target; its body and properties live in
//! `billbridge_fuzz_targets::money_parse`, which `cargo test` runs over the corpus too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| billbridge_fuzz_targets::money_parse(data));
