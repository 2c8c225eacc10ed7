//! Money, calendar days and instants as the apps see them, and the one place they
//! become the core's values and back. [`Money`] is integer minor units and a currency
//! code, never a float; a day is ISO `YYYY-MM-DD` text; an instant is the platform's
//! own (`Date` in Swift, `java.time.Instant` in Kotlin). Every check (known currency,
//! decimals, calendar days) is the core's, and fails as a thrown `BillbridgeError`
//! from the call that was given the value.

use std::time::{Duration, SystemTime};

use billbridge::domain::date::Date;
use billbridge::domain::money::{Currency, Money as CoreMoney};

use crate::error::{BillbridgeError, guard};

/// An exact amount: `amount` in the currency's minor units (pence, cents; yen and other
/// zero-decimal currencies in whole units; three-decimal currencies in thousandths)
/// and `currency`, a lowercase ISO 4217 code Stripe supports (`"gbp"`). £12.50 is
/// `Money(amount: 1250, currency: "gbp")`; a negative amount is a credit.
///
/// The currency is checked when the value is used: an unknown code makes that call
/// throw `Validation` with code `unknown_currency`. [`money`] checks it up front.
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Record)]
pub struct Money {
    /// Minor units of `currency`.
    pub amount: i64,
    /// Lowercase ISO 4217 code, e.g. `"gbp"`.
    pub currency: String,
}

impl Money {
    /// The core's money.
    pub(crate) fn to_core(&self) -> Result<CoreMoney, BillbridgeError> {
        Ok(CoreMoney::new(self.amount, Currency::new(&self.currency)?))
    }
}

impl From<CoreMoney> for Money {
    fn from(money: CoreMoney) -> Self {
        Money {
            amount: money.amount(),
            currency: money.currency().code().to_owned(),
        }
    }
}

#[uniffi::export]
impl Money {
    /// The amount as exact decimal text in major units, without the currency: `"12.50"`
    /// for 1250 GBP, `"1200"` for 1200 JPY, `"-5.00"` for a £5 credit.
    ///
    /// # Errors
    /// `Validation` (`unknown_currency`) when the currency is not one Stripe supports.
    pub fn decimal(&self) -> Result<String, BillbridgeError> {
        guard(|| Ok(self.to_core()?.to_decimal_string()))
    }
}

/// `amount` minor units of `currency` (any letter case), checked: the currency comes
/// back as its lowercase code.
///
/// # Errors
/// `Validation` (`unknown_currency`) when Stripe does not support the currency.
#[uniffi::export]
pub fn money(amount: i64, currency: String) -> Result<Money, BillbridgeError> {
    guard(|| Ok(CoreMoney::new(amount, Currency::new(&currency)?).into()))
}

/// Parses decimal text in major units, never rounding: `parseMoney("12.50", "gbp")` is
/// 1250 pence; `"-5"` is a £5 credit.
///
/// # Errors
/// `Validation`: `unknown_currency`, `invalid_amount` (not a plain decimal),
/// `too_many_decimals` (more decimals than the currency has), `amount_overflow`.
#[uniffi::export]
pub fn parse_money(text: String, currency: String) -> Result<Money, BillbridgeError> {
    guard(|| Ok(CoreMoney::parse(&text, Currency::new(&currency)?)?.into()))
}

/// A day given as ISO `YYYY-MM-DD` text, checked by the core.
pub(crate) fn day(text: &str) -> Result<Date, BillbridgeError> {
    Ok(Date::parse(text)?)
}

/// An optional ISO day.
pub(crate) fn optional_day(text: Option<&String>) -> Result<Option<Date>, BillbridgeError> {
    text.map(|text| day(text)).transpose()
}

/// A day as ISO `YYYY-MM-DD` text.
pub(crate) fn day_text(date: Date) -> String {
    date.to_string()
}

/// Unix seconds as an instant. On every platform this library ships for (iOS, macOS,
/// Android, Linux) an instant holds any `i64` seconds, so the epoch fallback is never
/// taken; it only keeps the conversion total.
pub(crate) fn instant(unix_seconds: i64) -> SystemTime {
    let offset = Duration::from_secs(unix_seconds.unsigned_abs());
    let moved = if unix_seconds >= 0 {
        SystemTime::UNIX_EPOCH.checked_add(offset)
    } else {
        SystemTime::UNIX_EPOCH.checked_sub(offset)
    };
    moved.unwrap_or(SystemTime::UNIX_EPOCH)
}

/// An instant as unix seconds (whole seconds, rounded down). Instants beyond `i64`
/// seconds do not occur in billing; they saturate.
pub(crate) fn unix_seconds(instant: SystemTime) -> i64 {
    match instant.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_secs()).unwrap_or(i64::MAX),
        Err(before) => {
            let before = before.duration();
            let whole = i64::try_from(before.as_secs()).unwrap_or(i64::MAX);
            // -1.5 s is second -2: round down, as unix time does.
            if before.subsec_nanos() > 0 {
                whole.saturating_neg().saturating_sub(1)
            } else {
                whole.saturating_neg()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_checked_by_the_core_and_kept_exact() {
        let parsed = parse_money("12.50".into(), "GBP".into()).unwrap();
        assert_eq!(
            parsed,
            Money {
                amount: 1250,
                currency: "gbp".into()
            }
        );
        assert_eq!(parsed.decimal().unwrap(), "12.50");
        let error = parse_money("12.345".into(), "gbp".into()).unwrap_err();
        assert_eq!(error.code(), "too_many_decimals");
        assert_eq!(
            money(5, "xyz".into()).unwrap_err().code(),
            "unknown_currency"
        );
    }

    #[test]
    fn instants_round_trip_through_unix_seconds() {
        for seconds in [0, 1_780_000_000, -86_400] {
            assert_eq!(unix_seconds(instant(seconds)), seconds);
        }
        let before_epoch = SystemTime::UNIX_EPOCH - Duration::from_millis(1500);
        assert_eq!(unix_seconds(before_epoch), -2);
    }
}
