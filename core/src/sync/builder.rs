//! [`BillbridgeBuilder`]: how a host configures its [`Billbridge`]: the Stripe client,
//! the metadata policy, the store, the Connect account, the idempotency and webhook
//! secrets, the catalogue, the currency, the default due days and the clock.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::bridge::{Billbridge, Inner};
use super::error::SyncError;
use super::keys::{IdempotencySecret, KeyDeriver};
use crate::clock::{Clock, SystemClock};
use crate::domain::catalogue::Catalogue;
use crate::domain::metadata::MetadataPolicy;
use crate::domain::money::Currency;
use crate::error::Error;
use crate::store::{MemoryStore, SyncStore};
use crate::stripe::client::StripeClient;
use crate::stripe::webhook::{DEFAULT_TOLERANCE, WebhookSecret};

/// Stripe's request rate limit in test mode, the default of the client-side limiter
/// used by bulk operations (live mode allows 100).
pub const TEST_MODE_REQUESTS_PER_SECOND: u32 = 25;

/// Stripe's request rate limit in live mode.
pub const LIVE_MODE_REQUESTS_PER_SECOND: u32 = 100;

/// Configures a [`Billbridge`]. Start with [`Billbridge::builder`].
///
/// ```
/// use billbridge::domain::metadata::{Field, MetadataPolicy};
/// use billbridge::stripe::client::StripeClient;
/// use billbridge::sync::{Billbridge, IdempotencySecret};
/// # use billbridge::stripe::transport::{StripeRequest, StripeResponse, Transport, TransportError};
/// # struct Offline;
/// # #[async_trait::async_trait]
/// # impl Transport for Offline {
/// #     async fn send(&self, _: &StripeRequest) -> Result<StripeResponse, TransportError> {
/// #         Err(TransportError::new(billbridge::stripe::transport::TransportErrorKind::Connection, "offline"))
/// #     }
/// # }
/// let bridge = Billbridge::builder(StripeClient::new(Offline))
///     .metadata_policy(MetadataPolicy::hero_compatible().without(Field::PatientGender))
///     .idempotency_secret(IdempotencySecret::new("a secret kept by the host")?)
///     .default_days_until_due(14)
///     .build()?;
/// assert_eq!(bridge.account(), None);
/// # Ok::<(), billbridge::Error>(())
/// ```
pub struct BillbridgeBuilder {
    client: StripeClient,
    policy: MetadataPolicy,
    store: Option<Arc<dyn SyncStore>>,
    account: Option<String>,
    idempotency_secret: Option<IdempotencySecret>,
    webhook_secret: Option<WebhookSecret>,
    webhook_tolerance: Duration,
    catalogue: Catalogue,
    currency: Currency,
    default_days_until_due: Option<u32>,
    /// `None`: the transport's own clock, else the system's.
    clock: Option<Arc<dyn Clock>>,
    /// `None`: Stripe's limit for the client's mode (live or test).
    requests_per_second: Option<u32>,
}

impl fmt::Debug for BillbridgeBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BillbridgeBuilder")
            .field("account", &self.account)
            .field("currency", &self.currency)
            .field("default_days_until_due", &self.default_days_until_due)
            .field("requests_per_second", &self.requests_per_second)
            .finish_non_exhaustive()
    }
}

impl BillbridgeBuilder {
    pub(crate) fn new(client: StripeClient) -> Self {
        BillbridgeBuilder {
            client,
            policy: MetadataPolicy::default(),
            store: None,
            account: None,
            idempotency_secret: None,
            webhook_secret: None,
            webhook_tolerance: DEFAULT_TOLERANCE,
            catalogue: Catalogue::default(),
            currency: Currency::GBP,
            default_days_until_due: None,
            clock: None,
            requests_per_second: None,
        }
    }

    /// The rules for host data sent as Stripe metadata (default:
    /// [`MetadataPolicy::minimal`], host ids only). Checked by [`build`](Self::build).
    #[must_use]
    pub fn metadata_policy(mut self, policy: MetadataPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Where links, mirrors, checkpoints and processed webhook events are kept
    /// (default: a [`MemoryStore`], lost when the process ends).
    #[must_use]
    pub fn store(mut self, store: impl SyncStore + 'static) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// Like [`store`](Self::store), for a store shared with other code.
    #[must_use]
    pub fn shared_store(mut self, store: Arc<dyn SyncStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Acts on a connected account (`acct_…`, sent as `Stripe-Account`) instead of the
    /// platform's own account.
    #[must_use]
    pub fn account(mut self, account: impl Into<String>) -> Self {
        let account = account.into();
        self.account = if account.is_empty() {
            None
        } else {
            Some(account)
        };
        self
    }

    /// The secret idempotency keys are derived with. **Required**: it must stay the
    /// same across restarts and on every worker, so that a re-run after a crash sends
    /// the same keys and Stripe recognises the requests it already applied. A random
    /// per-process default would silently break that, so there is none.
    #[must_use]
    pub fn idempotency_secret(mut self, secret: IdempotencySecret) -> Self {
        self.idempotency_secret = Some(secret);
        self
    }

    /// The webhook endpoint's signing secret; without it
    /// [`Billbridge::handle_webhook`] refuses every delivery.
    #[must_use]
    pub fn webhook_secret(mut self, secret: WebhookSecret) -> Self {
        self.webhook_secret = Some(secret);
        self
    }

    /// How far a webhook signature's timestamp may be from now (default 300 s).
    #[must_use]
    pub fn webhook_tolerance(mut self, tolerance: Duration) -> Self {
        self.webhook_tolerance = tolerance;
        self
    }

    /// The practice's catalogue, kept on the bridge ([`Billbridge::catalogue`]) so that the
    /// host and the bindings build catalogue lines from one list.
    #[must_use]
    pub fn catalogue(mut self, catalogue: Catalogue) -> Self {
        self.catalogue = catalogue;
        self
    }

    /// The currency balances are read in when a customer has none yet (default GBP).
    #[must_use]
    pub fn currency(mut self, currency: Currency) -> Self {
        self.currency = currency;
        self
    }

    /// Raise drafts that say "charge automatically" as invoices sent for payment due in
    /// `days` days instead: practices mostly bill for payment on the hosted page. Leave
    /// unset to use each draft's collection method as it is.
    #[must_use]
    pub fn default_days_until_due(mut self, days: u32) -> Self {
        self.default_days_until_due = Some(days);
        self
    }

    /// Where "now" comes from ("today" for due dates and invoiced dates, record
    /// timestamps, and the webhook tolerance unless the transport signs its own
    /// webhooks). Default: the transport's clock when it keeps one (the mock Stripe's,
    /// so a bridge over the mock lives on the mock's time), else the system clock.
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// The default request rate of bulk operations. Without it, Stripe's limit for the
    /// client's mode: [`LIVE_MODE_REQUESTS_PER_SECOND`] for a live key,
    /// [`TEST_MODE_REQUESTS_PER_SECOND`] for a test key or a transport that cannot tell.
    #[must_use]
    pub fn requests_per_second(mut self, requests_per_second: u32) -> Self {
        self.requests_per_second = Some(requests_per_second);
        self
    }

    /// Checks the configuration and builds the [`Billbridge`].
    ///
    /// # Errors
    /// - [`SyncError::MissingIdempotencySecret`] without an idempotency secret;
    /// - [`SyncError::InvalidRateLimit`] for a rate of zero;
    /// - the metadata policy's own error when it is invalid.
    pub fn build(self) -> Result<Billbridge, Error> {
        let secret = self
            .idempotency_secret
            .ok_or(SyncError::MissingIdempotencySecret)?;
        let requests_per_second =
            self.requests_per_second
                .unwrap_or(if self.client.livemode() == Some(true) {
                    LIVE_MODE_REQUESTS_PER_SECOND
                } else {
                    TEST_MODE_REQUESTS_PER_SECOND
                });
        if requests_per_second == 0 {
            return Err(SyncError::InvalidRateLimit {
                requests_per_second: 0,
            }
            .into());
        }
        self.policy.validate()?;
        let keys = KeyDeriver::new(secret, self.account.as_deref());
        // A transport that keeps its own time (the mock) also says which time its
        // webhook signatures carry; verification checks the tolerance against that.
        let transport_clocks = self.client.clocks();
        let clock = self
            .clock
            .or_else(|| transport_clocks.as_ref().map(|clocks| clocks.now.clone()))
            .unwrap_or_else(|| Arc::new(SystemClock));
        let webhook_clock = transport_clocks
            .map(|clocks| clocks.webhook_signatures)
            .unwrap_or_else(|| clock.clone());
        Ok(Billbridge::from_inner(Inner {
            client: self.client,
            store: self.store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
            policy: self.policy,
            account: self.account,
            keys,
            webhook_secret: self.webhook_secret,
            webhook_tolerance: self.webhook_tolerance,
            catalogue: self.catalogue,
            currency: self.currency,
            default_days_until_due: self.default_days_until_due,
            clock,
            webhook_clock,
            requests_per_second,
        }))
    }
}
