//! The library behind billbridge's Swift module (`BillbridgeKit`) and Kotlin package
//! (`billbridge`), exported through UniFFI (namespace `billbridge`).
//!
//! Each file translates one area between the apps' records and the core's types:
//! errors ([`error`]), money, days and instants ([`money`]), parties ([`parties`]),
//! drafts ([`invoices`]), returned records ([`records`]), the bridge ([`bridge`]),
//! webhooks ([`webhooks`]), offline billing ([`offline`]) and the mock Stripe
//! ([`mock`]). Every rule is the `billbridge` and `billbridge-mock` crates'.
//!
//! Every export that does work returns `Result<_, BillbridgeError>` and runs its body
//! under [`error::guard`] or [`error::guarded`]: a panic is thrown as `Internal` in
//! Swift and Kotlin alike, where UniFFI's `try!` around an infallible export would
//! crash a Swift app. The only infallible exports are pure reads of a value the app
//! already holds, which cannot panic: `BillbridgeError.code()` and `.category()`, and
//! the redacted printing (`Display`) of records that hold personal data or secrets. Every async export runs inside tokio's context (`async_runtime = "tokio"`),
//! which the HTTP client needs.

// `BillbridgeError` is the foreign error's shape, lowered by value (UniFFI has no boxed
// fields); its size costs a move per failed call, nothing on success.
#![allow(clippy::result_large_err)]

uniffi::setup_scaffolding!("billbridge");

pub mod bridge;
pub mod error;
pub mod invoices;
pub mod mock;
pub mod money;
pub mod offline;
pub mod parties;
pub mod records;
pub mod webhooks;

pub use error::BillbridgeError;

use error::{guard, guarded};

/// The version of billbridge this library was built from.
///
/// # Errors
/// `Internal` only if the library panicked.
#[uniffi::export]
pub fn billbridge_version() -> Result<String, BillbridgeError> {
    guard(|| Ok(env!("CARGO_PKG_VERSION").to_owned()))
}

/// Panics on purpose, for tests that check a Rust panic reaches the app as a thrown
/// `BillbridgeError.Internal` (code `panic`) instead of aborting it. Not for production
/// use.
///
/// # Errors
/// Always `Internal` with code `panic`.
#[uniffi::export]
pub fn panic_for_tests(message: String) -> Result<(), BillbridgeError> {
    guard(|| {
        #[allow(clippy::panic)] // the whole point of this test hook
        {
            panic!("{message}");
        }
    })
}

/// [`panic_for_tests`] inside an async export polled on tokio.
///
/// # Errors
/// Always `Internal` with code `panic`.
#[uniffi::export(async_runtime = "tokio")]
pub async fn panic_for_tests_async(message: String) -> Result<(), BillbridgeError> {
    guarded(async move {
        // Yield once, so the panic happens on a later poll, as a real one would.
        yield_once().await;
        #[allow(clippy::panic)] // the whole point of this test hook
        {
            panic!("{message}");
        }
    })
    .await
}

/// A future that is pending once, then ready.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|context| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            context.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await;
}
