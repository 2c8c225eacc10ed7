//! [`Billbridge`]: the one type an EHR, practice-management or CRM product calls. It
//! owns the configuration shared by every workflow (client, store, metadata policy,
//! account, derived idempotency keys, clock) and the helpers they share: request
//! contexts, customer links, and the monotonic update of an invoice's mirror. The
//! workflows themselves live in sibling modules (`customers`, `balances`, `raise`,
//! `invoices`, `webhooks`, `resync`, `bulk`, `services`), each adding methods here.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::builder::BillbridgeBuilder;
use super::error::SyncError;
use super::keys::KeyDeriver;
use crate::clock::Clock;
use crate::domain::catalogue::Catalogue;
use crate::domain::date::Date;
use crate::domain::metadata::MetadataPolicy;
use crate::domain::money::Currency;
use crate::domain::party::PayerRef;
use crate::error::Error;
use crate::mirror::{HostFacts, InvoiceRecord, MergePolicy, merge};
use crate::store::{CustomerLink, InvoiceMirror, PartyKind, SyncStore};
use crate::stripe::client::{RequestContext, StripeClient};
use crate::stripe::models::Invoice;
use crate::stripe::webhook::WebhookSecret;

/// How many times an update of one mirror is retried when concurrent writers keep
/// winning the compare-and-set.
const MIRROR_SWAP_ATTEMPTS: u32 = 16;

#[derive(Clone)]
pub(crate) struct Inner {
    pub(crate) client: StripeClient,
    pub(crate) store: Arc<dyn SyncStore>,
    pub(crate) policy: MetadataPolicy,
    pub(crate) account: Option<String>,
    pub(crate) keys: KeyDeriver,
    pub(crate) webhook_secret: Option<WebhookSecret>,
    pub(crate) webhook_tolerance: Duration,
    pub(crate) catalogue: Catalogue,
    pub(crate) currency: Currency,
    pub(crate) default_days_until_due: Option<u32>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) webhook_clock: Arc<dyn Clock>,
    pub(crate) requests_per_second: u32,
}

/// The host-facing API: customers, balances, invoices, webhooks, re-sync and bulk
/// operations against Stripe, with the host ↔ Stripe relationship kept in a
/// [`SyncStore`].
///
/// Cheap to clone (clones share everything) and safe to use from many tasks at once.
/// Every I/O method is `async` and runtime-agnostic.
#[derive(Clone)]
pub struct Billbridge {
    pub(crate) inner: Arc<Inner>,
}

impl fmt::Debug for Billbridge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Billbridge")
            .field("account", &self.inner.account)
            .field("currency", &self.inner.currency)
            .field("default_days_until_due", &self.inner.default_days_until_due)
            .finish_non_exhaustive()
    }
}

impl Billbridge {
    /// Starts configuring a bridge over `client`.
    pub fn builder(client: StripeClient) -> BillbridgeBuilder {
        BillbridgeBuilder::new(client)
    }

    pub(crate) fn from_inner(inner: Inner) -> Self {
        Billbridge {
            inner: Arc::new(inner),
        }
    }

    /// The same bridge talking through `client` (for example one with a rate limiter in
    /// front of its transport).
    pub(crate) fn with_client(&self, client: StripeClient) -> Self {
        let mut inner = (*self.inner).clone();
        inner.client = client;
        Billbridge::from_inner(inner)
    }

    /// The Stripe client.
    pub fn client(&self) -> &StripeClient {
        &self.inner.client
    }

    /// The store holding links, mirrors, checkpoints and processed events.
    pub fn store(&self) -> &Arc<dyn SyncStore> {
        &self.inner.store
    }

    /// The metadata policy in force.
    pub fn metadata_policy(&self) -> &MetadataPolicy {
        &self.inner.policy
    }

    /// The connected account acted on, `None` for the platform's own account.
    pub fn account(&self) -> Option<&str> {
        self.inner.account.as_deref()
    }

    /// The practice's catalogue.
    pub fn catalogue(&self) -> &Catalogue {
        &self.inner.catalogue
    }

    /// The default currency.
    pub fn currency(&self) -> Currency {
        self.inner.currency
    }

    /// The request rate bulk operations keep to unless told otherwise.
    pub fn requests_per_second(&self) -> u32 {
        self.inner.requests_per_second
    }

    /// Now, unix seconds, from the configured clock.
    pub fn now(&self) -> i64 {
        self.inner.clock.now_unix()
    }

    /// Today's date (UTC) from the configured clock.
    ///
    /// # Errors
    /// A date error when the clock reads outside the supported calendar.
    pub fn today(&self) -> Result<Date, Error> {
        Ok(Date::from_unix_timestamp(self.now())?)
    }

    pub(crate) fn context(&self, idempotency_key: Option<String>) -> RequestContext {
        RequestContext {
            stripe_account: self.inner.account.clone(),
            idempotency_key,
        }
    }

    pub(crate) fn keyed(&self, subject: &str, operation: &str, revision: &str) -> RequestContext {
        self.context(Some(self.inner.keys.key(subject, operation, revision)))
    }

    /// The customer link of `payer`, or [`SyncError::CustomerNotSynced`].
    pub(crate) async fn require_customer(&self, payer: &PayerRef) -> Result<CustomerLink, Error> {
        let kind = payer_kind(payer);
        self.inner
            .store
            .customer_link(self.account(), kind, payer.host_id())
            .await?
            .ok_or_else(|| {
                SyncError::CustomerNotSynced {
                    party_kind: kind,
                    host_party_id: payer.host_id().to_owned(),
                }
                .into()
            })
    }

    /// The mirror of `host_invoice_id`, or [`SyncError::InvoiceNotRaised`].
    pub(crate) async fn require_mirror(
        &self,
        host_invoice_id: &str,
    ) -> Result<InvoiceMirror, Error> {
        self.inner
            .store
            .invoice_mirror(self.account(), host_invoice_id)
            .await?
            .ok_or_else(|| {
                SyncError::InvoiceNotRaised {
                    host_invoice_id: host_invoice_id.to_owned(),
                }
                .into()
            })
    }

    /// Replaces the mirror of `host_invoice_id` with a compare-and-set loop, so
    /// concurrent webhooks and actions never overwrite each other: `candidate` gets the
    /// current mirror (`None` when there is none) and returns what to store, or `None`
    /// to keep it. Returns the mirror before and after.
    pub(crate) async fn update_mirror(
        &self,
        host_invoice_id: &str,
        mut candidate: impl FnMut(Option<&InvoiceMirror>) -> Option<InvoiceMirror>,
    ) -> Result<(Option<InvoiceMirror>, Option<InvoiceMirror>), Error> {
        let store = &self.inner.store;
        for _ in 0..MIRROR_SWAP_ATTEMPTS {
            let current = store
                .invoice_mirror(self.account(), host_invoice_id)
                .await?;
            let Some(next) = candidate(current.as_ref()) else {
                return Ok((current.clone(), current));
            };
            if current.as_ref() == Some(&next) {
                return Ok((current, Some(next)));
            }
            if store.swap_invoice_mirror(current.as_ref(), &next).await? {
                return Ok((current, Some(next)));
            }
        }
        Err(SyncError::MirrorContention {
            host_invoice_id: host_invoice_id.to_owned(),
        }
        .into())
    }

    /// Folds Stripe's `invoice`, current at `observed_at`, into the row of
    /// `host_invoice_id` under `policy` (`facts` says who pays when there is no row
    /// yet). Returns the row before and after.
    pub(crate) async fn absorb_invoice(
        &self,
        host_invoice_id: &str,
        invoice: &Invoice,
        observed_at: i64,
        facts: Option<&HostFacts>,
        policy: MergePolicy,
    ) -> Result<(Option<InvoiceMirror>, InvoiceMirror), Error> {
        let account = self.account();
        let (before, after) = self
            .update_mirror(host_invoice_id, |current| {
                merge(
                    account,
                    current,
                    facts,
                    host_invoice_id,
                    invoice,
                    observed_at,
                    policy,
                )
            })
            .await?;
        let after = after.ok_or_else(|| -> Error {
            SyncError::InvoiceNotRaised {
                host_invoice_id: host_invoice_id.to_owned(),
            }
            .into()
        })?;
        Ok((before, after))
    }

    /// [`Billbridge::absorb_invoice`] for what an action on the invoice just returned,
    /// as the host's record.
    pub(crate) async fn record_after_action(
        &self,
        host_invoice_id: &str,
        invoice: &Invoice,
        facts: Option<&HostFacts>,
    ) -> Result<InvoiceRecord, Error> {
        let (_, row) = self
            .absorb_invoice(
                host_invoice_id,
                invoice,
                self.now(),
                facts,
                MergePolicy::Monotonic,
            )
            .await?;
        Ok(InvoiceRecord::from_row(&row)?)
    }
}

/// The store's party kind of a payer.
pub(crate) fn payer_kind(payer: &PayerRef) -> PartyKind {
    match payer {
        PayerRef::Patient(_) => PartyKind::Patient,
        PayerRef::Organisation(_) => PartyKind::Organisation,
    }
}

/// The subject of derived keys for a payer's customer.
pub(crate) fn payer_subject(payer: &PayerRef) -> String {
    format!("{}:{}", payer.kind(), payer.host_id())
}

/// The subject of derived keys for a host invoice.
pub(crate) fn invoice_subject(host_invoice_id: &str) -> String {
    format!("invoice:{host_invoice_id}")
}
