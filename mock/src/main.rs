//! `billbridge-mock`: billbridge's stateful mock Stripe over HTTP, for any Stripe SDK.
//!
//! ```text
//! billbridge-mock --port 12111 [--forward-to http://127.0.0.1:8000/stripe/webhooks] …
//! ```
//!
//! The options, the readiness line and the run loop are the library's
//! ([`billbridge_mock::cli`]), shared with the Python wheel's console script of the
//! same name; `billbridge-mock --help` lists them.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(billbridge_mock::cli::main(std::env::args_os().skip(1)))
}
