//! How the addon runs I/O: every call that reaches Stripe, a store or a file runs as a
//! future on napi's tokio runtime (sized here at module load) and hands JS a Promise,
//! so the event loop never waits. The future is wrapped in `catch_unwind`, so a Rust
//! panic rejects the Promise with an `InternalError` (code `panic`) instead of
//! aborting the process, and the outcome is converted on the JS thread, where errors
//! become instances of the registered classes.
//!
//! Exit: napi's environment cleanup hook shuts the runtime down with a short grace
//! period and joins its threads, so a process that exits with Promises still pending
//! exits cleanly; those Promises simply never settle.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use napi::bindgen_prelude::*;

use crate::errors::{BindingError, to_js};

/// Sizes napi's runtime for a library that mostly waits on the network and SQLite:
/// two workers, named so they read well in a profiler.
#[napi_derive::module_init]
fn init() {
    if let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("billbridge")
        .enable_all()
        .build()
    {
        napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
    }
    // If the builder failed, napi builds its default runtime on first use.
}

/// The message of a panic payload (`panic!` with a literal or a formatted message).
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a billbridge task panicked".to_owned()
    }
}

/// The error a caught panic becomes.
pub fn panicked(payload: &(dyn Any + Send)) -> BindingError {
    BindingError::internal(
        "panic",
        format!(
            "billbridge panicked (a bug in billbridge): {}",
            panic_message(payload)
        ),
    )
}

/// Runs `future` on the runtime and returns a Promise of its value, converted by `wrap`
/// on the JS thread.
pub fn promise<'env, F, T, V>(
    env: &'env Env,
    future: F,
    wrap: impl FnOnce(&'env Env, T) -> Result<V> + 'static,
) -> Result<PromiseRaw<'env, V>>
where
    F: Future<Output = std::result::Result<T, BindingError>> + Send + 'static,
    T: Send + 'static,
    V: ToNapiValue,
{
    let guarded = async move {
        let outcome = AssertUnwindSafe(future)
            .catch_unwind()
            .await
            .unwrap_or_else(|payload| Err(panicked(payload.as_ref())));
        Ok::<_, Error>(outcome)
    };
    env.spawn_future_with_callback(guarded, move |env, outcome| match outcome {
        Ok(value) => wrap(env, value),
        Err(error) => Err(to_js(env, &error)),
    })
}

/// [`promise`] for values that convert to JS as they are.
pub fn run<'env, F, T>(env: &'env Env, future: F) -> Result<PromiseRaw<'env, T>>
where
    F: Future<Output = std::result::Result<T, BindingError>> + Send + 'static,
    T: Send + ToNapiValue + 'static,
{
    promise(env, future, |_, value| Ok(value))
}
