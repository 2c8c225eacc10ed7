//! `MockStripe`: a stateful in-memory Stripe behind the [`crate::stripe::transport::Transport`] trait.
