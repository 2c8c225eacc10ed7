//! Stripe's money rules as the mock applies them at finalization. The rules themselves
//! live in the domain ([`billbridge::domain::balance::apply_balance`] and
//! [`billbridge::domain::money::Currency::minimum_charge`]); this module only translates the
//! mock's raw minor-unit integers to and from them, so the mock and billbridge's own
//! previews can never disagree.

use billbridge::domain::balance::{self, FinalizationOutcome};
use billbridge::domain::money::{Currency, Money, MoneyError};

/// What finalizing an invoice does to the money, in the mock's raw integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Application {
    /// What the invoice's `amount_due` shows (never negative; 0 below the minimum
    /// charge).
    pub amount_due: i64,
    /// The `applied_to_invoice` balance transaction amount (0: none is written):
    /// positive when credit was used, negative when a debit was added to the invoice or
    /// a negative total was credited.
    pub applied: i64,
    /// The customer balance after `applied`, before any `invoice_too_small` movement.
    pub ending_balance: i64,
    /// What was left after the balance, above zero but below the currency's minimum
    /// charge: the invoice is marked paid and this moves to the balance as a debit
    /// (`invoice_too_small`). 0 otherwise.
    pub too_small: i64,
}

/// Apply `balance` (negative = credit, already in the invoice's currency) to an invoice
/// of `total` in `currency`.
///
/// # Errors
/// An unknown currency or an amount overflow (the routes reject both earlier).
pub(crate) fn apply_balance(
    balance: i64,
    total: i64,
    currency: &str,
) -> Result<Application, MoneyError> {
    let currency = Currency::new(currency)?;
    let application =
        balance::apply_balance(Money::new(total, currency), Money::new(balance, currency))?;
    let too_small = match application.outcome {
        FinalizationOutcome::PaidBelowMinimum { moved_to_balance } => moved_to_balance.amount(),
        _ => 0,
    };
    // The domain folds the below-minimum debit into its ending balance; the mock writes
    // that movement as its own `invoice_too_small` transaction, so undo it here.
    let ending_balance = application.ending_balance.amount() - too_small;
    Ok(Application {
        amount_due: application.amount_due.amount(),
        applied: ending_balance - balance,
        ending_balance,
        too_small,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_example_credit_500_on_1099() {
        let result = apply_balance(-500, 1099, "usd").unwrap();
        assert_eq!(result.amount_due, 599);
        assert_eq!(result.applied, 500);
        assert_eq!(result.ending_balance, 0);
        assert_eq!(result.too_small, 0);
    }

    #[test]
    fn debit_is_added_and_written_as_negative_application() {
        let result = apply_balance(300, 1000, "usd").unwrap();
        assert_eq!(result.amount_due, 1300);
        assert_eq!(result.applied, -300);
        assert_eq!(result.ending_balance, 0);
    }

    #[test]
    fn below_minimum_is_flagged_and_leaves_the_debit_to_its_own_transaction() {
        let result = apply_balance(-1000, 1020, "gbp").unwrap();
        assert_eq!(result.amount_due, 0);
        assert_eq!(result.too_small, 20);
        assert_eq!(result.ending_balance, 0);
    }

    #[test]
    fn negative_total_is_credited_to_the_balance() {
        let result = apply_balance(-100, -400, "gbp").unwrap();
        assert_eq!(result.amount_due, 0);
        assert_eq!(result.ending_balance, -500);
        assert_eq!(result.applied, -400);
    }
}
