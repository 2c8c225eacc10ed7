//! The edge to Stripe: the [`transport::Transport`] trait every request goes through,
//! the wire format (form encoding, JSON models, webhook signatures) and the typed client.

pub mod client;
pub mod error;
pub mod form;
#[cfg(feature = "http")]
pub mod http;
pub mod key;
pub mod models;
pub mod pagination;
pub mod retry;
pub mod transport;
pub mod webhook;
