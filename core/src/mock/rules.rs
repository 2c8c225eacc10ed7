//! Stripe's money rules as the mock applies them at finalization: how the customer
//! balance meets the invoice total, and the per-currency minimum charge.

/// What finalizing an invoice does to the money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Application {
    /// What the payer is asked for (never negative).
    pub amount_due: i64,
    /// The `applied_to_invoice` balance transaction amount (0: none is written).
    /// Positive when credit was used, negative when a debit was added to the invoice.
    pub applied: i64,
    /// The customer balance afterwards.
    pub ending_balance: i64,
}

/// Apply balance `balance` (negative = credit) to an invoice of `total`.
///
/// Credit: applied = min(−B, max(T, 0)); due = max(T, 0) − applied; ending = B + applied.
/// Debit: due = max(T, 0) + B; ending = 0.
/// A negative total is *unconfirmed* in Stripe's documentation: modelled here, and only
/// here, as amount due 0 with the whole total moved into the balance as credit.
pub(crate) fn apply_balance(balance: i64, total: i64) -> Application {
    if total < 0 {
        return Application {
            amount_due: 0,
            applied: total,
            ending_balance: balance.saturating_add(total),
        };
    }
    if balance < 0 {
        let applied = balance.saturating_neg().min(total);
        Application {
            amount_due: total - applied,
            applied,
            ending_balance: balance + applied,
        }
    } else {
        Application {
            amount_due: total.saturating_add(balance),
            applied: balance.saturating_neg(),
            ending_balance: 0,
        }
    }
}

/// Stripe's minimum charge per currency, in minor units. Below it (and above zero)
/// a finalized invoice is marked paid and the amount moves to the balance as a debit.
/// Currencies missing from Stripe's table default to 50 minor units (*unconfirmed*).
pub(crate) fn minimum_charge(currency: &str) -> i64 {
    match currency {
        "usd" | "eur" | "cad" | "aud" | "nzd" | "chf" | "sgd" | "brl" | "inr" => 50,
        "gbp" => 30,
        "jpy" => 50,
        "aed" | "myr" | "pln" | "ron" => 200,
        "bgn" => 100,
        "czk" => 1500,
        "dkk" => 250,
        "hkd" => 400,
        "huf" => 17500,
        "mxn" | "thb" => 1000,
        "nok" | "sek" => 300,
        _ => 50,
    }
}

/// Stripe's largest amount for most currencies: 8 digits.
pub(crate) const MAX_AMOUNT: i64 = 99_999_999;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_example_credit_500_on_1099() {
        let result = apply_balance(-500, 1099);
        assert_eq!(result.amount_due, 599);
        assert_eq!(result.applied, 500);
        assert_eq!(result.ending_balance, 0);
    }

    #[test]
    fn credit_larger_than_total_leaves_rest() {
        let result = apply_balance(-2000, 1099);
        assert_eq!(result.amount_due, 0);
        assert_eq!(result.ending_balance, -901);
    }

    #[test]
    fn debit_is_added() {
        let result = apply_balance(300, 1000);
        assert_eq!(result.amount_due, 1300);
        assert_eq!(result.applied, -300);
        assert_eq!(result.ending_balance, 0);
    }

    #[test]
    fn negative_total_becomes_credit() {
        let result = apply_balance(-100, -400);
        assert_eq!(result.amount_due, 0);
        assert_eq!(result.ending_balance, -500);
    }

    #[test]
    fn minimums() {
        assert_eq!(minimum_charge("gbp"), 30);
        assert_eq!(minimum_charge("usd"), 50);
        assert_eq!(minimum_charge("jpy"), 50);
    }
}
