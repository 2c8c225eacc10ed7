//! The native addon behind the `billbridge` npm package.
//!
//! Every file here is a table of translations between JS values and the core's types,
//! one area each: money, parties, invoices, rates, metadata, the mock, stores, records,
//! the bridge, offline billing, reports, webhooks, the Stripe edge, errors. Every rule
//! lives in the `billbridge` and `billbridge-mock` crates. I/O runs on the tokio
//! runtime of [`runtime`] and comes back as a Promise.

pub mod bridge;
pub mod convert;
pub mod errors;
pub mod invoices;
pub mod metadata;
pub mod mock;
pub mod money;
pub mod offline;
pub mod parties;
pub mod rates;
pub mod records;
pub mod reports;
pub mod runtime;
pub mod stores;
pub mod stripe;
pub mod webhooks;

use napi::bindgen_prelude::*;
use napi_derive::napi;

/// Panics on purpose, so that tests can check that a Rust panic reaches JS as a thrown
/// error or a rejected Promise (`inTask`) instead of aborting the process.
#[napi(js_name = "_panicForTests", catch_unwind)]
pub fn panic_for_tests<'env>(
    env: &'env Env,
    message: String,
    in_task: Option<bool>,
) -> Result<Either<PromiseRaw<'env, ()>, ()>> {
    if in_task == Some(true) {
        let promise = runtime::run(env, async move {
            #[allow(clippy::panic)] // the whole point of this test hook
            {
                panic!("{message}");
            }
        })?;
        return Ok(Either::A(promise));
    }
    #[allow(clippy::panic)] // the whole point of this test hook
    {
        panic!("{message}");
    }
}
