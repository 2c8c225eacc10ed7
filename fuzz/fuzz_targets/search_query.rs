//! libFuzzer entry point of the `search_query` target; its body and properties live in
//! `billbridge_fuzz_targets::search_query`, which `cargo test` runs over the corpus too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| billbridge_fuzz_targets::search_query(data));
