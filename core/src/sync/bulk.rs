//! Bulk operations: upsert many customers or raise many invoices with bounded
//! concurrency (`buffer_unordered`, no runtime assumed) behind a client-side
//! token-bucket rate limiter set to the account's limit, with a progress callback. One
//! failure does not stop the rest; the result lists every item's outcome in input order.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use futures_util::stream::{self, StreamExt};

use super::bridge::Billbridge;
use super::error::SyncError;
use super::records::{CustomerRecord, InvoiceRecord, Raise};
use crate::domain::invoice::InvoiceDraft;
use crate::domain::party::{Party, Patient};
use crate::error::Error;
use crate::stripe::retry::Sleeper;
use crate::stripe::transport::{StripeRequest, StripeResponse, Transport, TransportError};

/// How far a bulk operation got, passed to [`BulkOptions::progress`] after each item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkProgress {
    /// Items finished (succeeded or failed).
    pub done: usize,
    /// Items that failed so far.
    pub failed: usize,
    /// Items in all.
    pub total: usize,
}

/// A progress callback.
pub type ProgressCallback = Arc<dyn Fn(BulkProgress) + Send + Sync>;

/// How a bulk operation runs.
#[derive(Clone)]
pub struct BulkOptions {
    /// How many items are in flight at once (at least 1).
    pub concurrency: usize,
    /// The request rate to stay under; `None` uses the bridge's
    /// ([`super::BillbridgeBuilder::requests_per_second`], 25 by default).
    pub requests_per_second: Option<u32>,
    /// Called after each item.
    pub progress: Option<ProgressCallback>,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions {
            concurrency: 8,
            requests_per_second: None,
            progress: None,
        }
    }
}

impl fmt::Debug for BulkOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BulkOptions")
            .field("concurrency", &self.concurrency)
            .field("requests_per_second", &self.requests_per_second)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

/// One item's outcome.
#[derive(Debug)]
pub struct BulkItem<T> {
    /// The item's position in the input.
    pub index: usize,
    /// What happened to it.
    pub result: Result<T, Error>,
}

/// An invoice to raise in bulk: the draft and, optionally, its patient (for the
/// invoice's patient metadata). `Debug` shows the host invoice id only.
#[derive(Clone)]
pub struct InvoiceRequest {
    /// The draft, with its host id.
    pub draft: InvoiceDraft,
    /// The draft's patient.
    pub patient: Option<Patient>,
}

impl fmt::Debug for InvoiceRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvoiceRequest")
            .field("host_id", &self.draft.host_id)
            .finish_non_exhaustive()
    }
}

/// Paces requests: each takes the next free slot, `interval` after the previous one.
/// Without bursts the rate never exceeds the limit in any window.
struct TokenBucket {
    interval: Duration,
    next_slot: Mutex<Option<Instant>>,
}

impl TokenBucket {
    fn new(requests_per_second: u32) -> Self {
        TokenBucket {
            interval: Duration::from_secs(1) / requests_per_second.max(1),
            next_slot: Mutex::new(None),
        }
    }

    /// Reserves the next slot; returns how long to wait for it.
    fn reserve(&self) -> Duration {
        let now = Instant::now();
        let mut next = self
            .next_slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = next.map_or(now, |next| next.max(now));
        *next = Some(slot + self.interval);
        slot.saturating_duration_since(now)
    }
}

/// A transport that waits for a [`TokenBucket`] slot before every attempt.
struct RateLimited {
    inner: Arc<dyn Transport>,
    bucket: TokenBucket,
    sleeper: Arc<dyn Sleeper>,
}

#[async_trait]
impl Transport for RateLimited {
    async fn send(&self, request: &StripeRequest) -> Result<StripeResponse, TransportError> {
        let wait = self.bucket.reserve();
        if !wait.is_zero() {
            self.sleeper.sleep(wait).await;
        }
        self.inner.send(request).await
    }

    fn livemode(&self) -> Option<bool> {
        self.inner.livemode()
    }
}

impl Billbridge {
    /// This bridge behind a rate limiter of `options` (or the bridge's default rate).
    fn limited(&self, options: &BulkOptions) -> Result<Billbridge, Error> {
        let rate = options
            .requests_per_second
            .unwrap_or(self.inner.requests_per_second);
        if rate == 0 {
            return Err(SyncError::InvalidRateLimit {
                requests_per_second: 0,
            }
            .into());
        }
        let sleeper = self.inner.client.sleeper();
        let client = self.inner.client.with_transport_layer(|inner| {
            Arc::new(RateLimited {
                inner,
                bucket: TokenBucket::new(rate),
                sleeper,
            })
        });
        Ok(self.with_client(client))
    }

    async fn run_bulk<I, T, F, Fut>(
        &self,
        items: Vec<I>,
        options: &BulkOptions,
        work: F,
    ) -> Result<Vec<BulkItem<T>>, Error>
    where
        F: Fn(Billbridge, I) -> Fut,
        Fut: std::future::Future<Output = Result<T, Error>>,
    {
        let limited = self.limited(options)?;
        let total = items.len();
        let mut done = 0;
        let mut failed = 0;
        let mut results: Vec<BulkItem<T>> = Vec::with_capacity(total);
        let work = &work;
        let mut outcomes = stream::iter(items.into_iter().enumerate())
            .map(|(index, item)| {
                let bridge = limited.clone();
                async move {
                    BulkItem {
                        index,
                        result: work(bridge, item).await,
                    }
                }
            })
            .buffer_unordered(options.concurrency.max(1));
        while let Some(outcome) = outcomes.next().await {
            done += 1;
            if outcome.result.is_err() {
                failed += 1;
            }
            if let Some(progress) = &options.progress {
                progress(BulkProgress {
                    done,
                    failed,
                    total,
                });
            }
            results.push(outcome);
        }
        results.sort_by_key(|outcome| outcome.index);
        Ok(results)
    }

    /// Upserts every party (see [`Billbridge::upsert_customer`]) with at most
    /// `options.concurrency` in flight and every request paced under the rate limit.
    ///
    /// # Errors
    /// Only [`SyncError::InvalidRateLimit`]; each party's own error is in its
    /// [`BulkItem`].
    pub async fn upsert_customers(
        &self,
        parties: &[Party],
        options: &BulkOptions,
    ) -> Result<Vec<BulkItem<CustomerRecord>>, Error> {
        self.run_bulk(
            parties.iter().collect(),
            options,
            |bridge, party| async move { bridge.upsert_customer(party).await },
        )
        .await
    }

    /// Raises every invoice (see [`Billbridge::raise_invoice`]) to `mode`, bounded and
    /// paced like [`Billbridge::upsert_customers`].
    ///
    /// # Errors
    /// Only [`SyncError::InvalidRateLimit`]; each invoice's own error is in its
    /// [`BulkItem`].
    pub async fn raise_invoices(
        &self,
        requests: &[InvoiceRequest],
        mode: Raise,
        options: &BulkOptions,
    ) -> Result<Vec<BulkItem<InvoiceRecord>>, Error> {
        self.run_bulk(
            requests.iter().collect(),
            options,
            |bridge, request| async move {
                bridge
                    .raise_invoice(&request.draft, request.patient.as_ref(), mode)
                    .await
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_spaces_slots_by_the_interval() {
        let bucket = TokenBucket::new(10);
        assert_eq!(bucket.reserve(), Duration::ZERO);
        let second = bucket.reserve();
        let third = bucket.reserve();
        assert!(second > Duration::from_millis(90) && second <= Duration::from_millis(100));
        assert!(third > Duration::from_millis(190) && third <= Duration::from_millis(200));
    }
}
