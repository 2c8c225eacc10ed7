//! libFuzzer entry point of the `webhook_event` target; its body and properties live in
//! `billbridge_fuzz_targets::webhook_event`, which `cargo test` runs over the corpus too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| billbridge_fuzz_targets::webhook_event(data));
