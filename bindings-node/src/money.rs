//! `Money` and `Currency`: exact amounts in integer minor units. Every rule (parsing,
//! decimals, currencies that do not mix, Stripe amounts, overflow, safe integers) is
//! the core's.

use billbridge::domain::money::{Currency as CoreCurrency, Money as CoreMoney};
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::convert::{integer, number};
use crate::errors::OrThrow;

/// A currency Stripe supports, as its lowercase ISO 4217 code.
#[napi]
#[derive(Clone, Copy)]
pub struct Currency(pub(crate) CoreCurrency);

/// A currency given as a `Currency` or its code (`"gbp"`, `"EUR"`).
pub type CurrencyLike<'a> = Either<String, &'a Currency>;

/// The core currency of a `CurrencyLike`; an unknown code is a `ValidationError`
/// (`unknown_currency`).
pub fn currency(env: &Env, value: &CurrencyLike) -> Result<CoreCurrency> {
    match value {
        Either::A(code) => CoreCurrency::new(code).or_throw(env),
        Either::B(currency) => Ok(currency.0),
    }
}

#[napi]
impl Currency {
    /// `new Currency("gbp")`; throws `ValidationError` (`unknown_currency`).
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, code: String) -> Result<Self> {
        CoreCurrency::new(&code).map(Currency).or_throw(env)
    }

    /// The lowercase code, e.g. `"gbp"`.
    #[napi(getter, catch_unwind)]
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// Decimal places of the currency (0 for JPY, 2 for GBP, 3 for BHD).
    #[napi(getter, catch_unwind)]
    pub fn exponent(&self) -> u32 {
        u32::from(self.0.exponent())
    }

    /// Stripe's minimum charge in this currency, when Stripe publishes one.
    #[napi(getter, catch_unwind)]
    pub fn minimum_charge(&self) -> Option<Money> {
        self.0.minimum_charge().map(Money)
    }

    /// Whether `other` is the same currency.
    #[napi(catch_unwind)]
    pub fn equals(&self, other: &Currency) -> bool {
        self.0 == other.0
    }

    /// The code.
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_text(&self) -> &'static str {
        self.0.code()
    }

    /// The code (how a currency appears in JSON).
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json(&self) -> &'static str {
        self.0.code()
    }
}

/// An exact amount: integer minor units (pence, cents, yen) and a currency. Immutable;
/// arithmetic returns new objects and refuses mixed currencies and overflow.
#[napi]
#[derive(Clone, Copy)]
pub struct Money(pub(crate) CoreMoney);

/// The plain form of an amount (`toJSON()`).
#[napi(object)]
pub struct MoneyJson {
    /// Integer minor units.
    pub amount: f64,
    /// Lowercase ISO code.
    pub currency: String,
}

#[napi]
impl Money {
    /// `new Money(1250, "gbp")`: £12.50. `amount` is integer minor units; a fraction,
    /// `NaN` or a number beyond `Number.MAX_SAFE_INTEGER` throws `ValidationError`
    /// (`not_a_safe_integer`), an unknown currency `ValidationError`
    /// (`unknown_currency`).
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, amount: f64, currency: CurrencyLike) -> Result<Self> {
        let amount = integer(env, "amount", amount)?;
        Ok(Money(CoreMoney::new(
            amount,
            self::currency(env, &currency)?,
        )))
    }

    /// Parses decimal text, never rounding: `Money.parse("12.50", "gbp")`. Throws
    /// `ValidationError` (`too_many_decimals`, `invalid_amount`, …).
    #[napi(factory, catch_unwind)]
    pub fn parse(env: &Env, text: String, currency: CurrencyLike) -> Result<Self> {
        CoreMoney::parse(&text, self::currency(env, &currency)?)
            .map(Money)
            .or_throw(env)
    }

    /// Zero in `currency`.
    #[napi(factory, catch_unwind)]
    pub fn zero(env: &Env, currency: CurrencyLike) -> Result<Self> {
        Ok(Money(CoreMoney::zero(self::currency(env, &currency)?)))
    }

    /// Reads an integer amount as Stripe sends it (÷100 for ISK and UGX).
    #[napi(factory, catch_unwind)]
    pub fn from_stripe_amount(env: &Env, amount: f64, currency: CurrencyLike) -> Result<Self> {
        let amount = integer(env, "amount", amount)?;
        CoreMoney::from_stripe_amount(amount, self::currency(env, &currency)?)
            .map(Money)
            .or_throw(env)
    }

    /// Integer minor units (pence, cents, yen).
    #[napi(getter, catch_unwind)]
    pub fn amount(&self, env: &Env) -> Result<f64> {
        number(env, "amount", self.0.amount())
    }

    /// The currency.
    #[napi(getter, catch_unwind)]
    pub fn currency(&self) -> Currency {
        Currency(self.0.currency())
    }

    /// The amount as decimal text, e.g. `"12.50"`.
    #[napi(catch_unwind)]
    pub fn to_decimal_string(&self) -> String {
        self.0.to_decimal_string()
    }

    /// The integer amount to send to Stripe; throws `ValidationError` past Stripe's
    /// limit.
    #[napi(catch_unwind)]
    pub fn stripe_amount(&self, env: &Env) -> Result<f64> {
        let amount = self.0.stripe_amount().or_throw(env)?;
        number(env, "amount", amount)
    }

    /// True for zero.
    #[napi(catch_unwind)]
    pub fn is_zero(&self) -> bool {
        self.0.is_zero()
    }

    /// True below zero (a credit).
    #[napi(catch_unwind)]
    pub fn is_negative(&self) -> bool {
        self.0.is_negative()
    }

    /// The sum; throws `ValidationError` (`currency_mismatch`, `amount_overflow`).
    #[napi(catch_unwind)]
    pub fn add(&self, env: &Env, other: &Money) -> Result<Money> {
        self.0.checked_add(other.0).map(Money).or_throw(env)
    }

    /// The difference; throws like `add`.
    #[napi(catch_unwind)]
    pub fn sub(&self, env: &Env, other: &Money) -> Result<Money> {
        self.0.checked_sub(other.0).map(Money).or_throw(env)
    }

    /// The product with an integer factor; throws `ValidationError`
    /// (`not_a_safe_integer`, `amount_overflow`).
    #[napi(catch_unwind)]
    pub fn mul(&self, env: &Env, factor: f64) -> Result<Money> {
        let factor = integer(env, "factor", factor)?;
        self.0.checked_mul(factor).map(Money).or_throw(env)
    }

    /// The opposite amount (a debit becomes a credit).
    #[napi(catch_unwind)]
    pub fn neg(&self, env: &Env) -> Result<Money> {
        self.0.checked_neg().map(Money).or_throw(env)
    }

    /// Same amount and currency.
    #[napi(catch_unwind)]
    pub fn equals(&self, other: &Money) -> bool {
        self.0 == other.0
    }

    /// -1, 0 or 1, for sorting; throws `ValidationError` (`currency_mismatch`) for
    /// amounts in different currencies, which have no order.
    #[napi(catch_unwind)]
    pub fn compare(&self, env: &Env, other: &Money) -> Result<i32> {
        let ordering = self.0.checked_cmp(other.0).or_throw(env)?;
        Ok(ordering as i32)
    }

    /// `"12.50 gbp"`.
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_text(&self) -> String {
        self.0.to_string()
    }

    /// `{ amount, currency }`, what `JSON.stringify` writes.
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json(&self, env: &Env) -> Result<MoneyJson> {
        Ok(MoneyJson {
            amount: number(env, "amount", self.0.amount())?,
            currency: self.0.currency().code().to_owned(),
        })
    }
}
