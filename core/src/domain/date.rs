//! A small civil calendar date ([`Date`], proleptic Gregorian, years 1–9999) for dates
//! of birth, service dates, due dates and invoiced dates: `YYYY-MM-DD` text, validation
//! with leap years, conversion to and from days and seconds since the Unix epoch at
//! midnight UTC, and day arithmetic. No time zones: a date is a calendar day.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::classify::{Classify, ErrorCategory};

const SECONDS_PER_DAY: i64 = 86_400;
const MIN_YEAR: i32 = 1;
const MAX_YEAR: i32 = 9999;

/// Errors about dates.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DateError {
    /// The text is not `YYYY-MM-DD`.
    #[error("invalid date text: expected YYYY-MM-DD")]
    InvalidFormat,
    /// Year, month and day do not name a calendar day. The date itself is not kept:
    /// it can be a patient's date of birth, mistyped.
    #[error("the year, month and day given are not a calendar date")]
    InvalidDate,
    /// The result falls outside years 1–9999.
    #[error("date out of range (years 1 to 9999 are supported)")]
    OutOfRange,
}

impl Classify for DateError {
    fn code(&self) -> &'static str {
        match self {
            DateError::InvalidFormat => "invalid_date_format",
            DateError::InvalidDate => "invalid_date",
            DateError::OutOfRange => "date_out_of_range",
        }
    }

    fn category(&self) -> ErrorCategory {
        ErrorCategory::Validation
    }
}

/// Whether `year` has 29 February.
pub fn is_leap_year(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` of `year`, or `None` for a month outside 1–12.
pub fn days_in_month(year: i32, month: u32) -> Option<u32> {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => Some(31),
        4 | 6 | 9 | 11 => Some(30),
        2 if is_leap_year(year) => Some(29),
        2 => Some(28),
        _ => None,
    }
}

/// A calendar day. Orders chronologically; serialises as `"YYYY-MM-DD"`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Date {
    year: i32,
    month: u32,
    day: u32,
}

impl Date {
    /// The date `year-month-day`.
    ///
    /// # Errors
    /// [`DateError::InvalidDate`] when the day does not exist (30 February, 29 February in
    /// a common year, month 13), [`DateError::OutOfRange`] outside years 1–9999.
    pub fn new(year: i32, month: u32, day: u32) -> Result<Date, DateError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(DateError::OutOfRange);
        }
        match days_in_month(year, month) {
            Some(last) if (1..=last).contains(&day) => Ok(Date { year, month, day }),
            _ => Err(DateError::InvalidDate),
        }
    }

    /// Parses `YYYY-MM-DD` (exactly four, two and two ASCII digits).
    ///
    /// # Errors
    /// [`DateError::InvalidFormat`] for any other shape, then as [`Date::new`].
    pub fn parse(text: &str) -> Result<Date, DateError> {
        let bytes = text.as_bytes();
        let shape_ok = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(index, byte)| index == 4 || index == 7 || byte.is_ascii_digit());
        if !shape_ok {
            return Err(DateError::InvalidFormat);
        }
        let number = |range: std::ops::Range<usize>| -> Result<u32, DateError> {
            text.get(range)
                .and_then(|digits| digits.parse().ok())
                .ok_or(DateError::InvalidFormat)
        };
        let year = i32::try_from(number(0..4)?).map_err(|_| DateError::InvalidFormat)?;
        Date::new(year, number(5..7)?, number(8..10)?)
    }

    /// Year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// Month, 1–12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// Day of month, 1–31.
    pub fn day(self) -> u32 {
        self.day
    }

    /// Days since 1970-01-01 (negative before it).
    pub fn to_unix_days(self) -> i64 {
        // Civil-from-days in reverse: count in 400-year eras starting 1 March, so that
        // the leap day is the last day of each shifted year.
        let year = i64::from(self.year) - i64::from(self.month <= 2);
        let era = year.div_euclid(400);
        let year_of_era = year.rem_euclid(400);
        let month = i64::from(self.month);
        let shifted_month = if month > 2 { month - 3 } else { month + 9 };
        let day_of_year = (153 * shifted_month + 2) / 5 + i64::from(self.day) - 1;
        let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
        era * 146_097 + day_of_era - 719_468
    }

    /// The date `days` after 1970-01-01.
    ///
    /// # Errors
    /// [`DateError::OutOfRange`] outside years 1–9999.
    pub fn from_unix_days(days: i64) -> Result<Date, DateError> {
        // Bounds of years 1–9999 keep every intermediate value small.
        const FIRST: i64 = -719_162; // 0001-01-01
        const LAST: i64 = 2_932_896; // 9999-12-31
        if !(FIRST..=LAST).contains(&days) {
            return Err(DateError::OutOfRange);
        }
        let shifted = days + 719_468;
        let era = shifted.div_euclid(146_097);
        let day_of_era = shifted.rem_euclid(146_097);
        let year_of_era =
            (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let shifted_month = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
        let month = if shifted_month < 10 {
            shifted_month + 3
        } else {
            shifted_month - 9
        };
        let year = year_of_era + era * 400 + i64::from(month <= 2);
        let narrow = |value: i64| u32::try_from(value).map_err(|_| DateError::OutOfRange);
        let year = i32::try_from(year).map_err(|_| DateError::OutOfRange)?;
        Date::new(year, narrow(month)?, narrow(day)?)
    }

    /// Unix timestamp (seconds) of midnight UTC at the start of this day.
    pub fn to_unix_timestamp(self) -> i64 {
        self.to_unix_days() * SECONDS_PER_DAY
    }

    /// The UTC calendar day containing the Unix timestamp `seconds`.
    ///
    /// # Errors
    /// [`DateError::OutOfRange`] outside years 1–9999.
    pub fn from_unix_timestamp(seconds: i64) -> Result<Date, DateError> {
        Date::from_unix_days(seconds.div_euclid(SECONDS_PER_DAY))
    }

    /// The date `days` later (earlier when negative).
    ///
    /// # Errors
    /// [`DateError::OutOfRange`] when the result leaves years 1–9999.
    pub fn add_days(self, days: i64) -> Result<Date, DateError> {
        let target = self
            .to_unix_days()
            .checked_add(days)
            .ok_or(DateError::OutOfRange)?;
        Date::from_unix_days(target)
    }

    /// Days from `self` to `later` (negative when `later` is earlier).
    pub fn days_until(self, later: Date) -> i64 {
        later.to_unix_days() - self.to_unix_days()
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

impl FromStr for Date {
    type Err = DateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Date::parse(text)
    }
}

impl TryFrom<String> for Date {
    type Error = DateError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        Date::parse(&text)
    }
}

impl From<Date> for String {
    fn from(date: Date) -> Self {
        date.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_formats_iso_dates() {
        let date = Date::parse("1971-03-02").unwrap();
        assert_eq!((date.year(), date.month(), date.day()), (1971, 3, 2));
        assert_eq!(date.to_string(), "1971-03-02");
        assert_eq!(Date::parse("0001-01-01").unwrap().to_string(), "0001-01-01");
    }

    #[test]
    fn rejects_malformed_text() {
        for text in [
            "",
            "1971-3-2",
            "1971/03/02",
            "19710302",
            "1971-03-02T00:00",
            " 1971-03-02",
            "+971-03-02",
            "1971-0a-02",
            "1971-03-2 ",
        ] {
            assert_eq!(
                Date::parse(text).unwrap_err(),
                DateError::InvalidFormat,
                "{text:?}"
            );
        }
    }

    #[test]
    fn validates_days_and_leap_years() {
        assert!(Date::parse("2024-02-29").is_ok());
        assert!(Date::parse("2000-02-29").is_ok());
        assert_eq!(
            Date::parse("2023-02-29").unwrap_err().code(),
            "invalid_date"
        );
        assert!(Date::parse("1900-02-29").is_err());
        assert!(Date::parse("2024-04-31").is_err());
        assert!(Date::parse("2024-13-01").is_err());
        assert!(Date::parse("2024-00-10").is_err());
        assert!(Date::parse("2024-01-00").is_err());
        assert_eq!(
            Date::parse("0000-01-01").unwrap_err(),
            DateError::OutOfRange
        );
    }

    #[test]
    fn converts_to_and_from_unix_time_at_midnight_utc() {
        let epoch = Date::new(1970, 1, 1).unwrap();
        assert_eq!(epoch.to_unix_days(), 0);
        assert_eq!(Date::new(2000, 3, 1).unwrap().to_unix_days(), 11_017);
        assert_eq!(Date::new(1969, 12, 31).unwrap().to_unix_days(), -1);
        let day = Date::new(2026, 11, 21).unwrap();
        assert_eq!(day.to_unix_timestamp(), 1_795_219_200);
        assert_eq!(Date::from_unix_timestamp(1_795_219_200).unwrap(), day);
        assert_eq!(
            Date::from_unix_timestamp(1_795_219_200 + 86_399).unwrap(),
            day
        );
        assert_eq!(
            Date::from_unix_timestamp(-1).unwrap(),
            Date::new(1969, 12, 31).unwrap()
        );
        assert!(Date::from_unix_timestamp(i64::MAX).is_err());
        assert!(Date::from_unix_timestamp(i64::MIN).is_err());
    }

    #[test]
    fn adds_days_across_months_and_leap_days() {
        let date = Date::parse("2024-02-28").unwrap();
        assert_eq!(date.add_days(1).unwrap().to_string(), "2024-02-29");
        assert_eq!(date.add_days(2).unwrap().to_string(), "2024-03-01");
        assert_eq!(
            Date::parse("2026-12-25")
                .unwrap()
                .add_days(14)
                .unwrap()
                .to_string(),
            "2027-01-08"
        );
        assert_eq!(date.add_days(-59).unwrap().to_string(), "2023-12-31");
        assert!(Date::parse("9999-12-31").unwrap().add_days(1).is_err());
        assert!(date.add_days(i64::MAX).is_err());
        assert_eq!(date.days_until(Date::parse("2024-03-01").unwrap()), 2);
    }

    #[test]
    fn serialises_as_text() {
        let date = Date::parse("1995-07-14").unwrap();
        assert_eq!(serde_json::to_string(&date).unwrap(), "\"1995-07-14\"");
        assert_eq!(
            serde_json::from_str::<Date>("\"1995-07-14\"").unwrap(),
            date
        );
        assert!(serde_json::from_str::<Date>("\"1995-02-30\"").is_err());
    }

    proptest! {
        #[test]
        fn unix_days_round_trip(days in -719_162i64..=2_932_896) {
            let date = Date::from_unix_days(days).unwrap();
            prop_assert_eq!(date.to_unix_days(), days);
            prop_assert_eq!(Date::parse(&date.to_string()).unwrap(), date);
        }

        #[test]
        fn next_day_is_one_day_later(days in -719_162i64..2_932_896) {
            let date = Date::from_unix_days(days).unwrap();
            let next = date.add_days(1).unwrap();
            prop_assert!(next > date);
            let same_month_next_day = next.month() == date.month() && next.day() == date.day() + 1;
            let month_rolled = next.day() == 1;
            prop_assert!(same_month_next_day || month_rolled);
        }
    }
}
