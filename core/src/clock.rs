//! Where billbridge reads the time: the [`Clock`] trait, the system's [`SystemClock`],
//! and [`TransportClocks`], by which a transport that keeps its own time (the mock
//! Stripe) tells a bridge over it which clock to live on and which clock its webhook
//! signatures carry, so the two agree without any wiring by the host.

use std::fmt;
use std::sync::Arc;

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// Now, in unix seconds.
    fn now_unix(&self) -> i64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| {
                i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
            })
    }
}

impl<F: Fn() -> i64 + Send + Sync> Clock for F {
    fn now_unix(&self) -> i64 {
        self()
    }
}

/// The clocks a transport keeps (see [`crate::stripe::transport::Transport::clocks`]).
#[derive(Clone)]
pub struct TransportClocks {
    /// The time of the Stripe behind the transport: `created` of its objects, due
    /// dates, "today" for a bridge over it.
    pub now: Arc<dyn Clock>,
    /// The time the `t=` of its webhook signatures carries, which verification checks
    /// the tolerance against.
    pub webhook_signatures: Arc<dyn Clock>,
}

impl fmt::Debug for TransportClocks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportClocks")
            .field("now", &self.now.now_unix())
            .field("webhook_signatures", &self.webhook_signatures.now_unix())
            .finish()
    }
}
