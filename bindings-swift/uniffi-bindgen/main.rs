//! The UniFFI binding generator, built from the workspace so that the generated Swift and
//! Kotlin always match the `uniffi` runtime compiled into `billbridge-uniffi`.
//! `bindings-swift/generate.sh` runs it on the built library (library mode).

fn main() {
    uniffi::uniffi_bindgen_main()
}
