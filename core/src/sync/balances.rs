//! Balances: credits and debits on a payer's Stripe customer balance (exactly once per
//! host adjustment id), reading the balance, and previewing what the payer's next
//! invoice will ask by Stripe's balance rule, without any side effect.

use super::bridge::{Billbridge, payer_subject};
use super::error::SyncError;
use super::reconcile::write_once;
use super::records::{BalanceAdjustment, InvoicePreview};
use crate::domain::balance::apply_balance;
use crate::domain::invoice::InvoiceDraft;
use crate::domain::money::{Currency, Money};
use crate::domain::party::PayerRef;
use crate::error::Error;
use crate::stripe::client::CreateBalanceTransaction;

/// The metadata key carrying the host's id of a balance adjustment on Stripe.
pub const ADJUSTMENT_ID_METADATA_KEY: &str = "host_adjustment_id";

fn currency_of(code: &str, fallback: Currency) -> Currency {
    Currency::new(code).unwrap_or(fallback)
}

impl Billbridge {
    /// Adds a credit (negative `amount`, e.g. a prepaid appointment missed at late
    /// notice, kept instead of refunded) or a debit (positive, e.g. postage) to the
    /// payer's customer balance. Stripe applies it to the payer's next invoice in that
    /// currency when it is finalized.
    ///
    /// `adjustment_id` is the host's id of this adjustment: it is part of the derived
    /// idempotency key, so running the same adjustment again never doubles it.
    /// `reason` becomes the transaction's description, which the payer may see.
    ///
    /// # Errors
    /// [`SyncError::InvalidAdjustmentId`], [`SyncError::CustomerNotSynced`], a money
    /// error for an amount over Stripe's limit, a Stripe or store error.
    pub async fn adjust_balance(
        &self,
        payer: &PayerRef,
        amount: Money,
        reason: &str,
        adjustment_id: &str,
    ) -> Result<BalanceAdjustment, Error> {
        if adjustment_id.trim().is_empty() || adjustment_id.chars().any(char::is_control) {
            return Err(SyncError::InvalidAdjustmentId.into());
        }
        let stripe_amount = amount.stripe_amount()?;
        let link = self.require_customer(payer).await?;
        let params = CreateBalanceTransaction {
            amount: stripe_amount,
            currency: amount.currency().code().to_owned(),
            description: Some(reason.to_owned()).filter(|reason| !reason.is_empty()),
            metadata: vec![(
                ADJUSTMENT_ID_METADATA_KEY.to_owned(),
                adjustment_id.to_owned(),
            )],
        };
        let transactions = self.inner.client.balance_transactions();
        let customer = link.stripe_customer_id.as_str();
        let transaction = write_once!(
            self,
            &payer_subject(payer),
            "balance.adjust",
            adjustment_id,
            |context| transactions.create(customer, &params, &context),
            found: self.find_balance_transaction(customer, ADJUSTMENT_ID_METADATA_KEY, adjustment_id),
        )?;
        let currency = currency_of(&transaction.currency, amount.currency());
        Ok(BalanceAdjustment {
            stripe_transaction_id: transaction.id,
            amount: Money::from_stripe_amount(transaction.amount, currency)?,
            ending_balance: Money::from_stripe_amount(transaction.ending_balance, currency)?,
        })
    }

    /// The payer's customer balance: negative is a credit owed to them, positive a
    /// debit they owe. In the customer's currency, or the bridge's default currency
    /// when the customer has none yet.
    ///
    /// # Errors
    /// [`SyncError::CustomerNotSynced`], a Stripe or store error.
    pub async fn balance(&self, payer: &PayerRef) -> Result<Money, Error> {
        let link = self.require_customer(payer).await?;
        let customer = self
            .inner
            .client
            .customers()
            .retrieve(&link.stripe_customer_id, &self.context(None))
            .await?;
        let currency = customer
            .currency
            .as_deref()
            .map_or(self.inner.currency, |code| {
                currency_of(code, self.inner.currency)
            });
        Ok(Money::from_stripe_amount(customer.balance, currency)?)
    }

    /// What the invoice for `draft` would ask of its payer if it were finalized now:
    /// the draft's total with the payer's current balance applied by Stripe's rule
    /// (credit used up to the total; a debit added; minimum charge). Reads the balance
    /// and nothing else: no invoice is created. A payer without a customer yet has no
    /// balance.
    ///
    /// # Errors
    /// An invoice error for an invalid draft, a money error, a Stripe or store error.
    pub async fn preview(&self, draft: &InvoiceDraft) -> Result<InvoicePreview, Error> {
        let total = draft.validate()?;
        let payer = self.resolve_payer(draft).await?;
        let balance = match self.customer(&payer).await? {
            Some(_) => self.balance(&payer).await?,
            None => Money::zero(total.currency()),
        };
        let application = apply_balance(total, balance)?;
        Ok(InvoicePreview {
            payer,
            total,
            starting_balance: application.starting_balance,
            applied_balance: application.applied,
            amount_due: application.amount_due,
            carried_to_balance: application.deferred_to_balance(),
            ending_balance: application.ending_balance,
            paid_at_finalization: application.paid_at_finalization(),
        })
    }
}
