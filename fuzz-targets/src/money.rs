//! Money: decimal text, currency codes and the checked arithmetic, each against a
//! small independent oracle (128-bit integers and the documented grammar), so that a
//! wrong answer fails as loudly as a panic.

use billbridge::Classify;
use billbridge::ErrorCategory;
use billbridge::domain::money::{Currency, Money, MoneyError};

use crate::bytes::Bytes;

/// The input: a currency choice, two amounts and a factor, then the decimal text.
///
/// Properties: [`Money::parse`] accepts exactly `-?digits(.digits)?` with at most the
/// currency's decimals and a value that fits, giving that value, and refuses the rest
/// with the code the first broken rule names; every amount prints to text that parses
/// back to it; addition, subtraction, multiplication, negation and the Stripe amount
/// conversions agree with 128-bit arithmetic and Stripe's limits; currency codes are
/// accepted exactly when Stripe supports them, in any letter case.
pub fn money_parse(data: &[u8]) {
    let mut input = Bytes::new(data);
    let currencies: Vec<Currency> = Currency::all().collect();
    let currency = currencies[usize::from(input.byte()) % currencies.len()];
    let left = input.i64();
    let right = input.i64();
    let factor = input.i64();
    let text = String::from_utf8_lossy(input.remainder()).into_owned();

    parse_matches_the_grammar(&text, currency);
    currency_codes(&text);
    arithmetic(
        Money::new(left, currency),
        Money::new(right, currency),
        factor,
    );
}

fn parse_matches_the_grammar(text: &str, currency: Currency) {
    let result = Money::parse(text, currency);
    match (oracle(text, currency.exponent()), &result) {
        (Ok(expected), Ok(money)) => {
            assert_eq!(i128::from(money.amount()), expected, "{text:?}");
            assert_eq!(money.currency(), currency);
        }
        (Err(code), Err(error)) => {
            assert_eq!(error.code(), code, "{text:?}: {error:?}");
            check_refusal(error);
        }
        (expected, actual) => {
            panic!("{text:?} in {currency}: expected {expected:?}, got {actual:?}")
        }
    }
}

/// The accepted grammar, written out on its own: `Ok(minor units)` or the code of the
/// first rule the text breaks, in the order the parser documents.
fn oracle(text: &str, exponent: u8) -> Result<i128, &'static str> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = match unsigned.find('.') {
        Some(dot) => (&unsigned[..dot], Some(&unsigned[dot + 1..])),
        None => (unsigned, None),
    };
    let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    if whole.is_empty() || !digits(whole) {
        return Err("invalid_amount");
    }
    if fraction.is_some_and(|fraction| fraction.is_empty() || !digits(fraction)) {
        return Err("invalid_amount");
    }
    let fraction = fraction.unwrap_or("");
    if fraction.len() > usize::from(exponent) {
        return Err("too_many_decimals");
    }
    let padded = format!("{whole}{fraction:0<width$}", width = usize::from(exponent));
    let significant = padded.trim_start_matches('0');
    // More than 19 significant digits never fits in 64 bits.
    if significant.len() > 19 {
        return Err("amount_overflow");
    }
    let magnitude: i128 = significant.parse().unwrap_or(0);
    let value = if negative { -magnitude } else { magnitude };
    if i64::try_from(value).is_err() {
        return Err("amount_overflow");
    }
    Ok(value)
}

fn check_refusal(error: &MoneyError) {
    assert_eq!(Classify::category(error), ErrorCategory::Validation);
    // The input is quoted truncated to 32 characters (each at most 10 once escaped):
    // the message stays short whatever was given.
    assert!(error.to_string().len() < 640, "{error}");
    let _ = format!("{error:?}");
}

fn currency_codes(text: &str) {
    let candidate: String = text.chars().take(4).collect();
    for code in [text, candidate.as_str()] {
        let supported = code.len() == 3
            && code.is_ascii()
            && Currency::all().any(|currency| currency.code() == code.to_ascii_lowercase());
        match Currency::new(code) {
            Ok(currency) => {
                assert!(supported, "{code:?} accepted");
                assert_eq!(currency.code(), code.to_ascii_lowercase());
            }
            Err(error) => {
                assert!(!supported, "{code:?} refused: {error:?}");
                assert_eq!(error.code(), "unknown_currency");
                check_refusal(&error);
            }
        }
    }
}

fn arithmetic(left: Money, right: Money, factor: i64) {
    let currency = left.currency();
    let (a, b) = (i128::from(left.amount()), i128::from(right.amount()));
    agrees("addition", left.checked_add(right), a + b, currency);
    agrees("subtraction", left.checked_sub(right), a - b, currency);
    agrees(
        "multiplication",
        left.checked_mul(factor),
        a * i128::from(factor),
        currency,
    );
    agrees("negation", left.checked_neg(), -a, currency);

    // Printing and parsing back is the identity, the extremes included.
    let text = left.to_decimal_string();
    assert_eq!(Money::parse(&text, currency).ok(), Some(left), "{text}");

    // What may be sent to Stripe.
    let multiplier = i128::from(currency.stripe_multiplier());
    let wire = a * multiplier;
    let expected = if currency.is_three_decimal() && a % 10 != 0 {
        Err("three_decimal_not_rounded")
    } else if i64::try_from(wire).is_err() {
        Err("amount_overflow")
    } else if wire.abs() > i128::from(currency.max_stripe_amount()) {
        Err("amount_too_large")
    } else {
        Ok(wire)
    };
    let actual = left.stripe_amount();
    assert_eq!(
        actual
            .as_ref()
            .map(|amount| i128::from(*amount))
            .map_err(|error| error.code()),
        expected,
        "{left:?}"
    );

    // What Stripe reports back.
    let reported = Money::from_stripe_amount(right.amount(), currency);
    if b % multiplier == 0 {
        assert_eq!(
            reported.map(Money::amount).ok().map(i128::from),
            Some(b / multiplier)
        );
    } else {
        assert_eq!(
            reported.map_err(|error| error.code()),
            Err("stripe_amount_not_whole")
        );
    }
}

fn agrees(operation: &str, result: Result<Money, MoneyError>, exact: i128, currency: Currency) {
    match (i64::try_from(exact), result) {
        (Ok(expected), Ok(money)) => {
            assert_eq!(money.amount(), expected, "{operation}");
            assert_eq!(money.currency(), currency);
        }
        (Err(_), Err(error)) => assert_eq!(error.code(), "amount_overflow", "{operation}"),
        (expected, actual) => panic!("{operation}: expected {expected:?}, got {actual:?}"),
    }
}
