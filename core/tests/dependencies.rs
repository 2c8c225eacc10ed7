//! Guards on the dependency tree that the design promises: TLS through rustls only, so
//! no OpenSSL (or native-tls) library is ever linked, on any platform.

use std::collections::BTreeSet;

/// Package names in the workspace's committed `Cargo.lock`.
fn locked_packages() -> BTreeSet<String> {
    let lock = include_str!("../../Cargo.lock");
    lock.lines()
        .filter_map(|line| line.strip_prefix("name = \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn no_openssl_or_native_tls_in_the_lock_file() {
    let packages = locked_packages();
    assert!(
        packages.contains("rustls"),
        "the lock file should hold rustls"
    );
    for forbidden in [
        "openssl",
        "openssl-sys",
        "native-tls",
        "hyper-tls",
        "tokio-native-tls",
    ] {
        assert!(
            !packages.contains(forbidden),
            "{forbidden} is in Cargo.lock: TLS must come from rustls alone"
        );
    }
}
