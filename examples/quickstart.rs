//! The README's main command. Replaced by the practice day on the mock Stripe later.
fn main() {}
