//! [`Practices`]: many practices served by one deployment. Each practice is a
//! [`Billbridge`] of its own — its Stripe account (sent as `Stripe-Account`), metadata
//! policy and idempotency namespace (keys are derived with the account, so two practices
//! never share one) — and they usually share one store, where every row is keyed by
//! account. This module owns the registry of those bridges by account and the webhook
//! router that hands each delivery to the practice named by the event's `account`.
//!
//! Routing reads only the `account` field of the unverified body, to choose whose
//! secret checks it: the chosen practice verifies the signature before anything else is
//! read or stored, so a forged body naming another account is refused by that
//! account's verification, and acts on nothing.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use super::bridge::Billbridge;
use super::error::SyncError;
use super::webhooks::WebhookOutcome;
use crate::error::Error;

/// The practices of one deployment, by Stripe account. Cheap to clone only as cheap as
/// its bridges are (each an `Arc`); share one `Practices` between request handlers.
///
/// ```
/// use billbridge::sync::{Billbridge, IdempotencySecret, Practices};
/// # use billbridge::stripe::client::StripeClient;
/// # use billbridge::stripe::transport::{StripeRequest, StripeResponse, Transport, TransportError};
/// # struct Offline;
/// # #[async_trait::async_trait]
/// # impl Transport for Offline {
/// #     async fn send(&self, _: &StripeRequest) -> Result<StripeResponse, TransportError> {
/// #         Err(TransportError::new(billbridge::stripe::transport::TransportErrorKind::Connection, "offline"))
/// #     }
/// # }
/// # fn client() -> StripeClient { StripeClient::new(Offline) }
/// let store = std::sync::Arc::new(billbridge::store::MemoryStore::new());
/// let practice = |account: &str, secret: &str| {
///     Billbridge::builder(client())
///         .account(account)
///         .shared_store(store.clone())
///         .idempotency_secret(IdempotencySecret::new(secret)?)
///         .build()
/// };
/// let practices = Practices::new()
///     .with(practice("acct_1Harbour", "harbour-idempotency-secret")?)?
///     .with(practice("acct_1Meadow", "meadow-idempotency-secret-0")?)?;
/// assert_eq!(practices.get(Some("acct_1Meadow"))?.account(), Some("acct_1Meadow"));
/// assert_eq!(practices.get(Some("acct_1Other")).unwrap_err().code(), "unknown_practice");
/// # Ok::<(), billbridge::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Practices {
    /// Keyed by account; `""` is the platform's own account.
    bridges: BTreeMap<String, Billbridge>,
}

impl fmt::Debug for Practices {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Practices")
            .field("accounts", &self.bridges.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The one field routing reads from an unverified delivery.
#[derive(Deserialize)]
struct RoutingFields {
    #[serde(default)]
    account: Option<String>,
}

impl Practices {
    /// No practices yet.
    pub fn new() -> Practices {
        Practices::default()
    }

    /// Adds `bridge` as the practice of its account ([`Billbridge::account`]; none for
    /// the platform's own account).
    ///
    /// # Errors
    /// [`SyncError::DuplicatePractice`] when a practice already acts on that account.
    pub fn add(&mut self, bridge: Billbridge) -> Result<(), Error> {
        let account = bridge.account().unwrap_or_default().to_owned();
        if self.bridges.contains_key(&account) {
            return Err(SyncError::DuplicatePractice { account }.into());
        }
        self.bridges.insert(account, bridge);
        Ok(())
    }

    /// [`Practices::add`], chained.
    ///
    /// # Errors
    /// As [`Practices::add`].
    pub fn with(mut self, bridge: Billbridge) -> Result<Practices, Error> {
        self.add(bridge)?;
        Ok(self)
    }

    /// The practice acting on `account` (`None` or `Some("")`: the platform's own).
    ///
    /// # Errors
    /// [`SyncError::UnknownPractice`] when no practice acts on it.
    pub fn get(&self, account: Option<&str>) -> Result<&Billbridge, Error> {
        let account = account.unwrap_or_default();
        self.bridges.get(account).ok_or_else(|| {
            SyncError::UnknownPractice {
                account: account.to_owned(),
            }
            .into()
        })
    }

    /// The accounts served, in order (`None` for the platform's own).
    pub fn accounts(&self) -> impl Iterator<Item = Option<&str>> {
        self.bridges
            .keys()
            .map(|account| Some(account.as_str()).filter(|account| !account.is_empty()))
    }

    /// How many practices there are.
    pub fn len(&self) -> usize {
        self.bridges.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.bridges.is_empty()
    }

    /// Handles one webhook delivery with the practice its event belongs to (the event's
    /// `account`; none for the platform's own), exactly as that practice's
    /// [`Billbridge::handle_webhook`] does: verified with its secret, claimed once in the
    /// store, applied monotonically.
    ///
    /// A body that is not even JSON goes to the platform's practice when there is one
    /// (else to any), whose verification refuses it: routing never decides on bytes no
    /// one verified.
    ///
    /// # Errors
    /// [`SyncError::UnknownPractice`] for an event of an account no practice here acts
    /// on (answer 2xx if the account left this deployment, so Stripe stops retrying);
    /// otherwise as [`Billbridge::handle_webhook`].
    pub async fn handle_webhook(
        &self,
        raw_body: &[u8],
        signature_header: Option<&str>,
    ) -> Result<WebhookOutcome, Error> {
        let bridge = match serde_json::from_slice::<RoutingFields>(raw_body) {
            Ok(fields) => self.get(fields.account.as_deref())?,
            Err(_) => self
                .bridges
                .get("")
                .or_else(|| self.bridges.values().next())
                .ok_or_else(|| -> Error {
                    SyncError::UnknownPractice {
                        account: String::new(),
                    }
                    .into()
                })?,
        };
        bridge.handle_webhook(raw_body, signature_header).await
    }
}
