//! Exact money: [`Currency`] (Stripe's supported ISO codes with their decimal rules and
//! minimum charges) and [`Money`] (`i64` minor units plus a currency), with exact decimal
//! parsing and formatting, checked arithmetic and conversion to and from the integer
//! amounts Stripe's API speaks.
//!
//! # Minor units
//! [`Money::amount`] counts the currency's smallest displayed unit: pence for GBP, yen
//! for JPY, fils (1/1000) for BHD, whole krónur for ISK. Stripe's wire amount differs
//! only for ISK and UGX, which Stripe displays without decimals but takes as
//! two-decimal amounts ending in `00`; [`Money::stripe_amount`] and
//! [`Money::from_stripe_amount`] do that conversion, nothing else does.
//!
//! # Decimal text
//! [`Money::parse`] accepts exactly: an optional leading `-`, one or more ASCII digits,
//! and optionally a `.` followed by one digit up to as many digits as the currency has
//! decimals. So for GBP `"12.5"`, `"12.50"`, `"0"`, `"-3.20"` are accepted; `"12.345"`
//! (a third decimal), `"1,000.00"` (grouping separators mean different things in
//! different locales), `"+1"`, `" 1"`, `".5"`, `"5."` and `"1e3"` are rejected. Nothing
//! is ever rounded. [`Money::to_decimal_string`] writes the canonical form
//! (`"12.50"`, `"-3.20"`, `"0.00"`, `"50"` for JPY) that `parse` reads back unchanged.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::classify::{Classify, ErrorCategory};

/// Every presentment currency Stripe accepts, lowercase and sorted (binary-searched).
/// Source: Stripe's "Supported currencies" page, presentment list, plus the
/// three-decimal currencies.
const SUPPORTED: &[&str] = &[
    "aed", "afn", "all", "amd", "ang", "aoa", "ars", "aud", "awg", "azn", "bam", "bbd", "bdt",
    "bgn", "bhd", "bif", "bmd", "bnd", "bob", "brl", "bsd", "bwp", "byn", "bzd", "cad", "cdf",
    "chf", "clp", "cny", "cop", "crc", "cve", "czk", "djf", "dkk", "dop", "dzd", "egp", "etb",
    "eur", "fjd", "fkp", "gbp", "gel", "gip", "gmd", "gnf", "gtq", "gyd", "hkd", "hnl", "htg",
    "huf", "idr", "ils", "inr", "isk", "jmd", "jod", "jpy", "kes", "kgs", "khr", "kmf", "krw",
    "kwd", "kyd", "kzt", "lak", "lbp", "lkr", "lrd", "lsl", "mad", "mdl", "mga", "mkd", "mmk",
    "mnt", "mop", "mur", "mvr", "mwk", "mxn", "myr", "mzn", "nad", "ngn", "nio", "nok", "npr",
    "nzd", "omr", "pab", "pen", "pgk", "php", "pkr", "pln", "pyg", "qar", "ron", "rsd", "rub",
    "rwf", "sar", "sbd", "scr", "sek", "sgd", "shp", "sle", "sos", "srd", "std", "szl", "thb",
    "tjs", "tnd", "top", "try", "ttd", "twd", "tzs", "uah", "ugx", "usd", "uyu", "uzs", "vnd",
    "vuv", "wst", "xaf", "xcd", "xcg", "xof", "xpf", "yer", "zar", "zmw",
];

/// Currencies Stripe treats as having no minor unit (amount 500 = ¥500).
const ZERO_DECIMAL: &[&str] = &[
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];

/// Currencies with three decimals; Stripe only accepts amounts whose last digit is 0.
const THREE_DECIMAL: &[&str] = &["bhd", "jod", "kwd", "omr", "tnd"];

/// Shown without decimals, but Stripe's API takes them as two-decimal amounts ending
/// in `00` (a backwards-compatibility rule of Stripe's).
const SENT_AS_TWO_DECIMAL: &[&str] = &["isk", "ugx"];

/// Stripe's published minimum charge per settlement currency, in minor units. For
/// currencies not listed Stripe requires the equivalent of USD 0.50 after conversion,
/// which cannot be known without an exchange rate, so no minimum is applied for them.
const MINIMUM_CHARGE: &[(&str, i64)] = &[
    ("aed", 200),
    ("aud", 50),
    ("bgn", 100),
    ("brl", 50),
    ("cad", 50),
    ("chf", 50),
    ("czk", 1500),
    ("dkk", 250),
    ("eur", 50),
    ("gbp", 30),
    ("hkd", 400),
    ("huf", 17500),
    ("inr", 50),
    ("jpy", 50),
    ("mxn", 1000),
    ("myr", 200),
    ("nok", 300),
    ("nzd", 50),
    ("pln", 200),
    ("ron", 200),
    ("sek", 300),
    ("sgd", 50),
    ("usd", 50),
];

/// Stripe accepts amounts of at most eight digits (99,999,999 minor units).
pub const MAX_STRIPE_AMOUNT: i64 = 99_999_999;
/// IDR is the documented exception: up to twelve digits.
const MAX_STRIPE_AMOUNT_IDR: i64 = 999_999_999_999;

/// Longest piece of rejected input quoted back in an error message.
const MAX_QUOTED_INPUT: usize = 32;

/// Errors about money: parsing, currencies, arithmetic and Stripe's amount rules.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// The code is not one of Stripe's supported presentment currencies.
    #[error("unknown currency {code:?}: not one of Stripe's supported currencies")]
    UnknownCurrency {
        /// The code as given (truncated).
        code: String,
    },
    /// The text is not a plain decimal amount.
    #[error("invalid amount {input:?}: {reason}")]
    InvalidDecimal {
        /// The text as given (truncated).
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The text has more decimals than the currency allows; amounts are never rounded.
    #[error("amount {input:?} has {found} decimal places, {currency} allows {allowed}")]
    TooManyDecimals {
        /// The text as given (truncated).
        input: String,
        /// The currency it was parsed for.
        currency: Currency,
        /// Decimals found.
        found: usize,
        /// Decimals the currency has.
        allowed: u8,
    },
    /// An amount or a result does not fit in 64 bits.
    #[error("amount overflow while computing {operation}")]
    Overflow {
        /// The operation that overflowed.
        operation: &'static str,
    },
    /// Two amounts in different currencies were combined.
    #[error("currency mismatch: {left} and {right} cannot be combined")]
    CurrencyMismatch {
        /// The first operand's currency.
        left: Currency,
        /// The second operand's currency.
        right: Currency,
    },
    /// A three-decimal amount whose last digit is not 0, which Stripe rejects.
    #[error("{currency} amount {amount} must end in 0 to be sent to Stripe")]
    ThreeDecimalNotRounded {
        /// Amount in minor units.
        amount: i64,
        /// Its currency.
        currency: Currency,
    },
    /// A Stripe amount for ISK or UGX that is not a whole number of units (not a
    /// multiple of 100).
    #[error("Stripe amount {amount} in {currency} is not a multiple of 100")]
    StripeAmountNotWhole {
        /// The Stripe amount received.
        amount: i64,
        /// Its currency.
        currency: Currency,
    },
    /// The amount has more digits than Stripe accepts.
    #[error("{currency} amount {amount} exceeds Stripe's limit of {max}")]
    AmountTooLarge {
        /// The Stripe amount that was refused.
        amount: i64,
        /// Its currency.
        currency: Currency,
        /// The largest amount Stripe accepts in this currency.
        max: i64,
    },
}

impl Classify for MoneyError {
    fn code(&self) -> &'static str {
        match self {
            MoneyError::UnknownCurrency { .. } => "unknown_currency",
            MoneyError::InvalidDecimal { .. } => "invalid_amount",
            MoneyError::TooManyDecimals { .. } => "too_many_decimals",
            MoneyError::Overflow { .. } => "amount_overflow",
            MoneyError::CurrencyMismatch { .. } => "currency_mismatch",
            MoneyError::ThreeDecimalNotRounded { .. } => "three_decimal_not_rounded",
            MoneyError::StripeAmountNotWhole { .. } => "stripe_amount_not_whole",
            MoneyError::AmountTooLarge { .. } => "amount_too_large",
        }
    }

    fn category(&self) -> ErrorCategory {
        ErrorCategory::Validation
    }
}

fn quoted(input: &str) -> String {
    input.chars().take(MAX_QUOTED_INPUT).collect()
}

/// A currency Stripe supports, as its lowercase ISO 4217 code.
///
/// Construct with [`Currency::new`] (validates) or a constant such as [`Currency::GBP`].
/// Serialises as the lowercase code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency(&'static str);

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0)
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Currency::new(&code).map_err(serde::de::Error::custom)
    }
}

impl Currency {
    /// Pound sterling.
    pub const GBP: Currency = Currency("gbp");
    /// US dollar.
    pub const USD: Currency = Currency("usd");
    /// Euro.
    pub const EUR: Currency = Currency("eur");
    /// Canadian dollar.
    pub const CAD: Currency = Currency("cad");
    /// Australian dollar.
    pub const AUD: Currency = Currency("aud");
    /// New Zealand dollar.
    pub const NZD: Currency = Currency("nzd");
    /// Swiss franc.
    pub const CHF: Currency = Currency("chf");
    /// Japanese yen (zero-decimal).
    pub const JPY: Currency = Currency("jpy");
    /// Icelandic króna (shown without decimals, sent to Stripe ×100).
    pub const ISK: Currency = Currency("isk");
    /// Ugandan shilling (shown without decimals, sent to Stripe ×100).
    pub const UGX: Currency = Currency("ugx");
    /// Bahraini dinar (three-decimal).
    pub const BHD: Currency = Currency("bhd");
    /// Kuwaiti dinar (three-decimal).
    pub const KWD: Currency = Currency("kwd");

    /// Looks up an ISO 4217 code (any letter case) among Stripe's supported currencies.
    ///
    /// # Errors
    /// [`MoneyError::UnknownCurrency`] if Stripe does not support the code.
    pub fn new(code: &str) -> Result<Currency, MoneyError> {
        let unknown = || MoneyError::UnknownCurrency { code: quoted(code) };
        if code.len() != 3 || !code.is_ascii() {
            return Err(unknown());
        }
        let lower = code.to_ascii_lowercase();
        SUPPORTED
            .binary_search(&lower.as_str())
            .map(|index| Currency(SUPPORTED[index]))
            .map_err(|_| unknown())
    }

    /// Every currency Stripe supports, in code order.
    pub fn all() -> impl Iterator<Item = Currency> {
        SUPPORTED.iter().map(|code| Currency(code))
    }

    /// The lowercase ISO code, as Stripe expects it.
    pub fn code(self) -> &'static str {
        self.0
    }

    /// How many decimals the currency is shown with, which is also how many decimals
    /// one minor unit of [`Money::amount`] represents: 2 for most, 0 for zero-decimal
    /// currencies and ISK/UGX, 3 for three-decimal ones.
    pub fn exponent(self) -> u8 {
        if ZERO_DECIMAL.contains(&self.0) || SENT_AS_TWO_DECIMAL.contains(&self.0) {
            0
        } else if THREE_DECIMAL.contains(&self.0) {
            3
        } else {
            2
        }
    }

    /// In Stripe's zero-decimal list (JPY, KRW, …).
    pub fn is_zero_decimal(self) -> bool {
        ZERO_DECIMAL.contains(&self.0)
    }

    /// In Stripe's three-decimal list (BHD, JOD, KWD, OMR, TND).
    pub fn is_three_decimal(self) -> bool {
        THREE_DECIMAL.contains(&self.0)
    }

    /// Stripe's wire amount is the minor-unit amount times this (100 for ISK and UGX,
    /// 1 otherwise).
    pub fn stripe_multiplier(self) -> i64 {
        if SENT_AS_TWO_DECIMAL.contains(&self.0) {
            100
        } else {
            1
        }
    }

    /// The largest Stripe wire amount (absolute value) Stripe accepts in this currency.
    pub fn max_stripe_amount(self) -> i64 {
        if self.0 == "idr" {
            MAX_STRIPE_AMOUNT_IDR
        } else {
            MAX_STRIPE_AMOUNT
        }
    }

    /// Stripe's minimum charge in this currency, if Stripe publishes one for it
    /// (USD/EUR/CAD/AUD 0.50, GBP 0.30, JPY 50, …). `None` means no fixed minimum is
    /// known and none is applied.
    pub fn minimum_charge(self) -> Option<Money> {
        MINIMUM_CHARGE
            .iter()
            .find(|(code, _)| *code == self.0)
            .map(|(_, amount)| Money::new(*amount, self))
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.0)
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl FromStr for Currency {
    type Err = MoneyError;

    fn from_str(code: &str) -> Result<Self, Self::Err> {
        Currency::new(code)
    }
}

impl TryFrom<String> for Currency {
    type Error = MoneyError;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        Currency::new(&code)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.0.to_owned()
    }
}

/// An exact amount of money: signed minor units of a [`Currency`].
///
/// Negative amounts are credits. There are no arithmetic operators: every operation is
/// checked and returns a [`MoneyError`] on overflow or currency mismatch. Serialises as
/// `{"amount": 1250, "currency": "gbp"}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    amount: i64,
    currency: Currency,
}

impl Money {
    /// An amount in minor units of `currency`.
    pub const fn new(amount: i64, currency: Currency) -> Money {
        Money { amount, currency }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Money {
        Money::new(0, currency)
    }

    /// Pence.
    pub const fn gbp(pence: i64) -> Money {
        Money::new(pence, Currency::GBP)
    }

    /// US cents.
    pub const fn usd(cents: i64) -> Money {
        Money::new(cents, Currency::USD)
    }

    /// Euro cents.
    pub const fn eur(cents: i64) -> Money {
        Money::new(cents, Currency::EUR)
    }

    /// Canadian cents.
    pub const fn cad(cents: i64) -> Money {
        Money::new(cents, Currency::CAD)
    }

    /// Australian cents.
    pub const fn aud(cents: i64) -> Money {
        Money::new(cents, Currency::AUD)
    }

    /// Yen (zero-decimal).
    pub const fn jpy(yen: i64) -> Money {
        Money::new(yen, Currency::JPY)
    }

    /// The amount in minor units.
    pub const fn amount(self) -> i64 {
        self.amount
    }

    /// The currency.
    pub const fn currency(self) -> Currency {
        self.currency
    }

    /// Exactly zero.
    pub const fn is_zero(self) -> bool {
        self.amount == 0
    }

    /// Below zero (a credit).
    pub const fn is_negative(self) -> bool {
        self.amount < 0
    }

    /// Above zero.
    pub const fn is_positive(self) -> bool {
        self.amount > 0
    }

    /// Parses a decimal amount (see the module docs for the accepted form).
    ///
    /// # Errors
    /// [`MoneyError::InvalidDecimal`] for anything but the accepted form,
    /// [`MoneyError::TooManyDecimals`] when the text has more decimals than the currency,
    /// [`MoneyError::Overflow`] when it does not fit in `i64` minor units.
    pub fn parse(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let invalid = |reason| MoneyError::InvalidDecimal {
            input: quoted(text),
            reason,
        };
        let (negative, unsigned) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (whole, fraction) = match unsigned.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (unsigned, None),
        };
        if whole.is_empty() {
            return Err(invalid(
                "expected at least one digit before the decimal point",
            ));
        }
        if !whole.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(invalid(
                "only digits, one optional leading '-' and one '.' are allowed",
            ));
        }
        let exponent = currency.exponent();
        let fraction = fraction.unwrap_or("");
        if unsigned.contains('.') && fraction.is_empty() {
            return Err(invalid("expected digits after the decimal point"));
        }
        if !fraction.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(invalid(
                "only digits, one optional leading '-' and one '.' are allowed",
            ));
        }
        if fraction.len() > usize::from(exponent) {
            return Err(MoneyError::TooManyDecimals {
                input: quoted(text),
                currency,
                found: fraction.len(),
                allowed: exponent,
            });
        }
        let overflow = || MoneyError::Overflow {
            operation: "decimal parse",
        };
        // Accumulate in i128 so that i64::MIN, whose magnitude exceeds i64::MAX, parses.
        let mut magnitude: i128 = 0;
        for byte in whole.bytes().chain(fraction.bytes()) {
            magnitude = magnitude
                .checked_mul(10)
                .and_then(|value| value.checked_add(i128::from(byte - b'0')))
                .filter(|value| *value <= i128::from(i64::MAX) + 1)
                .ok_or_else(overflow)?;
        }
        for _ in fraction.len()..usize::from(exponent) {
            magnitude = magnitude
                .checked_mul(10)
                .filter(|value| *value <= i128::from(i64::MAX) + 1)
                .ok_or_else(overflow)?;
        }
        let signed = if negative { -magnitude } else { magnitude };
        let amount = i64::try_from(signed).map_err(|_| overflow())?;
        Ok(Money::new(amount, currency))
    }

    /// The canonical decimal text: `"12.50"`, `"-3.20"`, `"0.00"`, `"50"` (JPY),
    /// `"1.230"` (BHD). No grouping separators, no currency symbol.
    pub fn to_decimal_string(self) -> String {
        let exponent = usize::from(self.currency.exponent());
        let digits = self.amount.unsigned_abs().to_string();
        let sign = if self.amount < 0 { "-" } else { "" };
        if exponent == 0 {
            return format!("{sign}{digits}");
        }
        let padded = format!("{digits:0>width$}", width = exponent + 1);
        let (whole, fraction) = padded.split_at(padded.len() - exponent);
        format!("{sign}{whole}.{fraction}")
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            })
        }
    }

    /// `self + other`.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] or [`MoneyError::Overflow`].
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.amount
            .checked_add(other.amount)
            .map(|amount| Money::new(amount, self.currency))
            .ok_or(MoneyError::Overflow {
                operation: "addition",
            })
    }

    /// `self - other`.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] or [`MoneyError::Overflow`].
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.amount
            .checked_sub(other.amount)
            .map(|amount| Money::new(amount, self.currency))
            .ok_or(MoneyError::Overflow {
                operation: "subtraction",
            })
    }

    /// `self × factor` (a quantity).
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub fn checked_mul(self, factor: i64) -> Result<Money, MoneyError> {
        self.amount
            .checked_mul(factor)
            .map(|amount| Money::new(amount, self.currency))
            .ok_or(MoneyError::Overflow {
                operation: "multiplication",
            })
    }

    /// `-self`.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`] for the most negative amount.
    pub fn checked_neg(self) -> Result<Money, MoneyError> {
        self.amount
            .checked_neg()
            .map(|amount| Money::new(amount, self.currency))
            .ok_or(MoneyError::Overflow {
                operation: "negation",
            })
    }

    /// The larger of `self` and `other`.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`].
    pub fn checked_max(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Ok(if other.amount > self.amount {
            other
        } else {
            self
        })
    }

    /// The smaller of `self` and `other`.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`].
    pub fn checked_min(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        Ok(if other.amount < self.amount {
            other
        } else {
            self
        })
    }

    /// Sum of `amounts`, all in `currency` (zero when empty).
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] or [`MoneyError::Overflow`].
    pub fn checked_sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Money>,
    ) -> Result<Money, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Money::zero(currency), Money::checked_add)
    }

    /// Orders two amounts of the same currency.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] for amounts in different currencies: ordering
    /// them is the same mistake as adding them.
    pub fn checked_cmp(self, other: Money) -> Result<std::cmp::Ordering, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: other.currency,
            });
        }
        Ok(self.amount.cmp(&other.amount))
    }

    /// The integer amount to send to Stripe: minor units, ×100 for ISK and UGX.
    ///
    /// # Errors
    /// [`MoneyError::ThreeDecimalNotRounded`] for a three-decimal amount not ending in
    /// 0, [`MoneyError::Overflow`] or [`MoneyError::AmountTooLarge`] beyond Stripe's
    /// digit limit (checked on the absolute value: credits have the same limit).
    pub fn stripe_amount(self) -> Result<i64, MoneyError> {
        if self.currency.is_three_decimal() && self.amount % 10 != 0 {
            return Err(MoneyError::ThreeDecimalNotRounded {
                amount: self.amount,
                currency: self.currency,
            });
        }
        let wire = self.stripe_units()?;
        let max = self.currency.max_stripe_amount();
        if wire.unsigned_abs() > max.unsigned_abs() {
            return Err(MoneyError::AmountTooLarge {
                amount: wire,
                currency: self.currency,
                max,
            });
        }
        Ok(wire)
    }

    /// The amount counted in Stripe's API units (×100 for ISK and UGX), as Stripe reports
    /// amounts back: unlike [`Money::stripe_amount`] it does not apply Stripe's checks on
    /// what may be *sent* (three-decimal rounding, the digit limit), so it suits
    /// records and exports of amounts Stripe already holds.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`] when the ×100 does not fit in 64 bits.
    pub fn stripe_units(self) -> Result<i64, MoneyError> {
        self.amount
            .checked_mul(self.currency.stripe_multiplier())
            .ok_or(MoneyError::Overflow {
                operation: "conversion to a Stripe amount",
            })
    }

    /// Reads an integer amount as Stripe sends it (÷100 for ISK and UGX). Amounts Stripe
    /// reports are not limited to its request digit limit (balances can grow past it).
    ///
    /// # Errors
    /// [`MoneyError::StripeAmountNotWhole`] for an ISK or UGX amount that is not a
    /// multiple of 100.
    pub fn from_stripe_amount(amount: i64, currency: Currency) -> Result<Money, MoneyError> {
        let multiplier = currency.stripe_multiplier();
        if amount % multiplier != 0 {
            return Err(MoneyError::StripeAmountNotWhole { amount, currency });
        }
        Ok(Money::new(amount / multiplier, currency))
    }
}

impl fmt::Display for Money {
    /// `12.50 gbp`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn supported_list_is_sorted_lowercase_and_unique() {
        for pair in SUPPORTED.windows(2) {
            assert!(pair[0] < pair[1], "{} before {}", pair[0], pair[1]);
        }
        for code in SUPPORTED {
            assert_eq!(code.len(), 3);
            assert_eq!(*code, code.to_ascii_lowercase());
        }
        for code in ZERO_DECIMAL
            .iter()
            .chain(THREE_DECIMAL)
            .chain(SENT_AS_TWO_DECIMAL)
            .chain(MINIMUM_CHARGE.iter().map(|(code, _)| code))
        {
            assert!(Currency::new(code).is_ok(), "{code} must be supported");
        }
    }

    #[test]
    fn currency_codes_are_normalised_to_lowercase() {
        assert_eq!(Currency::new("GBP").unwrap(), Currency::GBP);
        assert_eq!(Currency::new("gbp").unwrap().code(), "gbp");
    }

    #[test]
    fn unknown_currency_is_a_typed_error() {
        let error = Currency::new("xyz").unwrap_err();
        assert_eq!(error.code(), "unknown_currency");
        assert!(Currency::new("gb").is_err());
        assert!(Currency::new("gbpp").is_err());
        assert!(Currency::new("gb€").is_err());
        assert!(serde_json::from_str::<Currency>("\"zzz\"").is_err());
    }

    #[test]
    fn exponents_follow_stripes_tables() {
        assert_eq!(Currency::GBP.exponent(), 2);
        assert_eq!(Currency::JPY.exponent(), 0);
        assert_eq!(Currency::new("krw").unwrap().exponent(), 0);
        assert_eq!(Currency::BHD.exponent(), 3);
        assert_eq!(Currency::new("tnd").unwrap().exponent(), 3);
        assert_eq!(Currency::ISK.exponent(), 0);
        assert_eq!(Currency::UGX.exponent(), 0);
        assert!(Currency::JPY.is_zero_decimal());
        assert!(!Currency::ISK.is_zero_decimal());
        assert!(Currency::KWD.is_three_decimal());
    }

    #[test]
    fn parse_fills_missing_decimals() {
        assert_eq!(
            Money::parse("12.5", Currency::GBP).unwrap(),
            Money::gbp(1250)
        );
        assert_eq!(
            Money::parse("12.50", Currency::GBP).unwrap(),
            Money::gbp(1250)
        );
        assert_eq!(Money::parse("12", Currency::GBP).unwrap(), Money::gbp(1200));
        assert_eq!(Money::parse("0", Currency::GBP).unwrap(), Money::gbp(0));
        assert_eq!(
            Money::parse("-3.20", Currency::GBP).unwrap(),
            Money::gbp(-320)
        );
        assert_eq!(Money::parse("50", Currency::JPY).unwrap(), Money::jpy(50));
        assert_eq!(
            Money::parse("1.23", Currency::BHD).unwrap(),
            Money::new(1230, Currency::BHD)
        );
    }

    #[test]
    fn parse_never_rounds_extra_decimals() {
        let error = Money::parse("12.345", Currency::GBP).unwrap_err();
        assert_eq!(error.code(), "too_many_decimals");
        assert!(matches!(
            error,
            MoneyError::TooManyDecimals {
                found: 3,
                allowed: 2,
                ..
            }
        ));
        assert!(Money::parse("50.0", Currency::JPY).is_err());
        assert!(Money::parse("1.2345", Currency::BHD).is_err());
    }

    #[test]
    fn parse_rejects_everything_but_plain_decimals() {
        for text in [
            "", "-", "1,000.00", "+1", " 1", "1 ", ".5", "5.", "1e3", "1.2.3", "--1", "£1",
            "1_000", "٣",
        ] {
            let error = Money::parse(text, Currency::GBP).unwrap_err();
            assert_eq!(error.code(), "invalid_amount", "{text:?}");
        }
    }

    #[test]
    fn parse_detects_overflow_and_accepts_extremes() {
        assert_eq!(
            Money::parse("-92233720368547758.08", Currency::GBP).unwrap(),
            Money::gbp(i64::MIN)
        );
        assert_eq!(
            Money::parse("92233720368547758.07", Currency::GBP).unwrap(),
            Money::gbp(i64::MAX)
        );
        let error = Money::parse("92233720368547758.08", Currency::GBP).unwrap_err();
        assert_eq!(error.code(), "amount_overflow");
        assert!(Money::parse("99999999999999999999999999", Currency::JPY).is_err());
    }

    #[test]
    fn format_is_canonical() {
        assert_eq!(Money::gbp(1250).to_decimal_string(), "12.50");
        assert_eq!(Money::gbp(-320).to_decimal_string(), "-3.20");
        assert_eq!(Money::gbp(5).to_decimal_string(), "0.05");
        assert_eq!(Money::gbp(-5).to_decimal_string(), "-0.05");
        assert_eq!(Money::gbp(0).to_decimal_string(), "0.00");
        assert_eq!(Money::jpy(50).to_decimal_string(), "50");
        assert_eq!(Money::new(1230, Currency::BHD).to_decimal_string(), "1.230");
        assert_eq!(
            Money::gbp(i64::MIN).to_decimal_string(),
            "-92233720368547758.08"
        );
        assert_eq!(Money::gbp(1250).to_string(), "12.50 gbp");
    }

    #[test]
    fn arithmetic_is_checked() {
        assert_eq!(
            Money::gbp(100).checked_add(Money::gbp(250)).unwrap(),
            Money::gbp(350)
        );
        assert_eq!(
            Money::gbp(100).checked_sub(Money::gbp(250)).unwrap(),
            Money::gbp(-150)
        );
        assert_eq!(Money::gbp(450).checked_mul(3).unwrap(), Money::gbp(1350));
        let mismatch = Money::gbp(1).checked_add(Money::usd(1)).unwrap_err();
        assert_eq!(mismatch.code(), "currency_mismatch");
        assert_eq!(
            Money::gbp(i64::MAX)
                .checked_add(Money::gbp(1))
                .unwrap_err()
                .code(),
            "amount_overflow"
        );
        assert!(Money::gbp(i64::MIN).checked_neg().is_err());
        assert!(Money::gbp(i64::MAX).checked_mul(2).is_err());
        assert_eq!(
            Money::checked_sum(Currency::GBP, [Money::gbp(5000), Money::gbp(3500)]).unwrap(),
            Money::gbp(8500)
        );
        assert!(Money::checked_sum(Currency::GBP, [Money::usd(1)]).is_err());
    }

    #[test]
    fn stripe_amounts_follow_currency_rules() {
        assert_eq!(Money::gbp(1099).stripe_amount().unwrap(), 1099);
        assert_eq!(Money::jpy(500).stripe_amount().unwrap(), 500);
        // ISK and UGX: shown without decimals, sent as two-decimal amounts ending in 00.
        assert_eq!(
            Money::new(500, Currency::ISK).stripe_amount().unwrap(),
            50_000
        );
        assert_eq!(Money::new(7, Currency::UGX).stripe_amount().unwrap(), 700);
        assert_eq!(
            Money::from_stripe_amount(50_000, Currency::ISK).unwrap(),
            Money::new(500, Currency::ISK)
        );
        assert_eq!(
            Money::from_stripe_amount(50_050, Currency::ISK)
                .unwrap_err()
                .code(),
            "stripe_amount_not_whole"
        );
        assert_eq!(
            Money::from_stripe_amount(1099, Currency::GBP).unwrap(),
            Money::gbp(1099)
        );
        // Three-decimal: the last digit must be 0.
        assert_eq!(
            Money::new(1230, Currency::BHD).stripe_amount().unwrap(),
            1230
        );
        assert_eq!(
            Money::new(1235, Currency::BHD)
                .stripe_amount()
                .unwrap_err()
                .code(),
            "three_decimal_not_rounded"
        );
    }

    #[test]
    fn stripe_amount_limit_is_eight_digits() {
        assert_eq!(Money::usd(99_999_999).stripe_amount().unwrap(), 99_999_999);
        assert_eq!(
            Money::usd(-99_999_999).stripe_amount().unwrap(),
            -99_999_999
        );
        let error = Money::usd(100_000_000).stripe_amount().unwrap_err();
        assert_eq!(error.code(), "amount_too_large");
        assert!(Money::usd(-100_000_000).stripe_amount().is_err());
        // ISK ×100 pushes 1,000,000 krónur over the limit.
        assert!(
            Money::new(1_000_000, Currency::ISK)
                .stripe_amount()
                .is_err()
        );
        assert!(Money::new(i64::MAX, Currency::ISK).stripe_amount().is_err());
        let idr = Currency::new("idr").unwrap();
        assert!(Money::new(100_000_000, idr).stripe_amount().is_ok());
    }

    #[test]
    fn minimum_charges_match_stripes_table() {
        assert_eq!(Currency::USD.minimum_charge(), Some(Money::usd(50)));
        assert_eq!(Currency::EUR.minimum_charge(), Some(Money::eur(50)));
        assert_eq!(Currency::CAD.minimum_charge(), Some(Money::cad(50)));
        assert_eq!(Currency::AUD.minimum_charge(), Some(Money::aud(50)));
        assert_eq!(Currency::GBP.minimum_charge(), Some(Money::gbp(30)));
        assert_eq!(Currency::JPY.minimum_charge(), Some(Money::jpy(50)));
        let hkd = Currency::new("hkd").unwrap();
        assert_eq!(hkd.minimum_charge(), Some(Money::new(400, hkd)));
        assert_eq!(Currency::ISK.minimum_charge(), None);
    }

    #[test]
    fn money_serialises_as_amount_and_currency() {
        let json = serde_json::to_string(&Money::gbp(1250)).unwrap();
        assert_eq!(json, r#"{"amount":1250,"currency":"gbp"}"#);
        let back: Money = serde_json::from_str(r#"{"amount":-320,"currency":"jpy"}"#).unwrap();
        assert_eq!(back, Money::jpy(-320));
        assert!(serde_json::from_str::<Money>(r#"{"amount":1,"currency":"xyz"}"#).is_err());
    }

    fn any_currency() -> impl Strategy<Value = Currency> {
        (0..SUPPORTED.len()).prop_map(|index| Currency(SUPPORTED[index]))
    }

    proptest! {
        #[test]
        fn parse_of_format_is_identity(amount in any::<i64>(), currency in any_currency()) {
            let money = Money::new(amount, currency);
            let text = money.to_decimal_string();
            prop_assert_eq!(Money::parse(&text, currency).unwrap(), money);
        }

        #[test]
        fn format_of_parse_is_identity_on_canonical_text(
            whole in 0u64..1_000_000_000,
            fraction in 0u64..1000,
            negative in any::<bool>(),
            currency in any_currency(),
        ) {
            let exponent = usize::from(currency.exponent());
            let text = if exponent == 0 {
                whole.to_string()
            } else {
                let fraction = fraction % 10u64.pow(u32::try_from(exponent).unwrap());
                format!("{whole}.{fraction:0>exponent$}")
            };
            let text = if negative && text.bytes().any(|b| b != b'0' && b != b'.') {
                format!("-{text}")
            } else {
                text
            };
            let money = Money::parse(&text, currency).unwrap();
            prop_assert_eq!(money.to_decimal_string(), text);
        }

        #[test]
        fn stripe_amount_round_trips(amount in -99_999_999i64..=99_999_999, currency in any_currency()) {
            let money = Money::new(amount, currency);
            if let Ok(wire) = money.stripe_amount() {
                prop_assert_eq!(Money::from_stripe_amount(wire, currency).unwrap(), money);
            }
        }
    }
}
