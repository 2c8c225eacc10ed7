//! Domain tests across modules.
