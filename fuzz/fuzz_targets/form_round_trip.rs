//! libFuzzer entry point of the `form_round_trip` target; its body and properties live in
//! `billbridge_fuzz_targets::form_round_trip`, which `cargo test` runs over the corpus too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| billbridge_fuzz_targets::form_round_trip(data));
