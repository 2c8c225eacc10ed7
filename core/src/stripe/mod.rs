//! The edge to Stripe: the [`transport::Transport`] trait every request goes through,
//! the wire format (form encoding, JSON models, webhook signatures) and the typed client.

pub mod form;
pub mod models;
pub mod transport;
pub mod webhook;
