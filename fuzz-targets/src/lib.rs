//! The bodies of billbridge's fuzz targets, one plain `fn(&[u8])` each, so that the
//! same code runs under libFuzzer (the thin wrappers in `fuzz/fuzz_targets/`) and in
//! `cargo test`, which replays every file of the committed corpus
//! (`fuzz/corpus/<target>/`) through it (`tests/corpus_replay.rs`).
//!
//! A target fails by panicking: on any panic inside the code under test, and on an
//! `assert!` of a property that must hold for every input (a round trip, an oracle,
//! a refusal carrying its typed error). Returning normally means the input was
//! handled, accepted or refused.
//!
//! | target | what it feeds |
//! |---|---|
//! | `webhook_header` | `Stripe-Signature` headers to [`billbridge::stripe::webhook::verify`] |
//! | `webhook_event` | bodies to verify + parse ([`billbridge::stripe::webhook::construct_event`]) |
//! | `form_round_trip` | parameter trees through the client's form encoding and the mock's decoding |
//! | `response_decode` | Stripe responses (any status, any body) to the typed client |
//! | `money_parse` | decimal text to [`billbridge::domain::money::Money::parse`], and its arithmetic |
//! | `search_query` | queries to the mock's search language parser |

mod bytes;
mod form;
mod money;
mod response;
mod search;
mod webhook;

pub use form::form_round_trip;
pub use money::money_parse;
pub use response::response_decode;
pub use search::search_query;
pub use webhook::{webhook_event, webhook_header};

/// A fuzz target's body.
pub type Target = fn(&[u8]);

/// Every target by the name of its `fuzz/fuzz_targets/<name>.rs` wrapper and its
/// `fuzz/corpus/<name>/` seed folder.
pub const TARGETS: &[(&str, Target)] = &[
    ("webhook_header", webhook_header),
    ("webhook_event", webhook_event),
    ("form_round_trip", form_round_trip),
    ("response_decode", response_decode),
    ("money_parse", money_parse),
    ("search_query", search_query),
];
