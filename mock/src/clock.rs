//! The mock's time and randomness: a clock tests move by hand, and a seeded generator
//! for ids in Stripe's shapes, invoice prefixes, secrets and probabilistic faults.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// The mock's default start time: 2026-01-01T00:00:00Z.
pub const DEFAULT_START_TIME: i64 = 1_767_225_600;

/// The mock's clock, in unix seconds. Time only moves when a test moves it, so
/// `created`, due dates and webhook timestamps are reproducible.
///
/// Cheap to clone; every clone moves the same clock.
#[derive(Debug, Clone)]
pub struct MockClock {
    now: Arc<AtomicI64>,
}

impl MockClock {
    pub(crate) fn new(start: i64) -> Self {
        Self {
            now: Arc::new(AtomicI64::new(start)),
        }
    }

    /// The current mock time in unix seconds.
    pub fn now(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    /// Jump to `unix` seconds (backwards too).
    pub fn set(&self, unix: i64) {
        self.now.store(unix, Ordering::SeqCst);
    }

    /// Move forward by `seconds` (negative moves back).
    pub fn advance(&self, seconds: i64) {
        self.now.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl billbridge::clock::Clock for MockClock {
    fn now_unix(&self) -> i64 {
        self.now()
    }
}

const ALPHANUMERIC: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// SplitMix64: tiny, seedable and good enough for ids and fault dice.
#[derive(Debug, Clone)]
pub(crate) struct Random {
    state: u64,
}

impl Random {
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.state;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    /// A uniform number in `[0, 1)`, for fault rates.
    pub(crate) fn unit(&mut self) -> f64 {
        // 53 random bits are exactly representable in an f64 mantissa.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform index below `bound` (`bound > 0`).
    pub(crate) fn below(&mut self, bound: usize) -> usize {
        if bound == 0 {
            return 0;
        }
        (self.next_u64() % bound as u64) as usize
    }

    fn text(&mut self, alphabet: &[u8], length: usize) -> String {
        (0..length)
            .map(|_| char::from(alphabet[self.below(alphabet.len())]))
            .collect()
    }

    /// `length` characters of `[0-9A-Za-z]`.
    pub(crate) fn alphanumeric(&mut self, length: usize) -> String {
        self.text(ALPHANUMERIC, length)
    }

    /// An invoice number prefix like Stripe's (`7FE1103A`): uppercase hex.
    pub(crate) fn invoice_prefix(&mut self) -> String {
        self.text(b"0123456789ABCDEF", 8)
    }

    /// An id in Stripe's shape for `prefix` (`cus`, `in`, `ii`, `il`, `cbtxn`, `evt`,
    /// `prod`, `price`, `req`, `pi`, `ch`).
    pub(crate) fn id(&mut self, prefix: &str) -> String {
        match prefix {
            // Customers, products and request ids are short in Stripe.
            "cus" | "prod" | "req" => format!("{prefix}_{}", self.alphanumeric(14)),
            _ => format!("{prefix}_1{}", self.alphanumeric(23)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_same_ids_and_other_seed_differs() {
        let mut first = Random::new(7);
        let mut second = Random::new(7);
        let mut third = Random::new(8);
        let a = first.id("cus");
        assert_eq!(a, second.id("cus"));
        assert_ne!(a, third.id("cus"));
        assert!(a.starts_with("cus_") && a.len() == 18);
        let invoice = first.id("in");
        assert!(invoice.starts_with("in_1") && invoice.len() == 27);
    }

    #[test]
    fn unit_stays_in_range() {
        let mut random = Random::new(1);
        for _ in 0..1000 {
            let value = random.unit();
            assert!((0.0..1.0).contains(&value));
        }
    }

    #[test]
    fn clock_moves_only_when_told() {
        let clock = MockClock::new(100);
        assert_eq!(clock.now(), 100);
        clock.advance(5);
        assert_eq!(clock.clone().now(), 105);
        clock.set(10);
        assert_eq!(clock.now(), 10);
    }
}
