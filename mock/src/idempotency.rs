//! Stripe's idempotency layer: the first response to a key (per account) is stored for
//! 24 hours of mock time and replayed, errors included; the same key on another
//! endpoint or with other parameters is an `idempotency_error` saying which; a key whose first request is still running
//! answers 409 `idempotency_key_in_use`.

use std::collections::HashMap;

use billbridge::stripe::transport::Method;

/// How long a key is remembered, in mock seconds.
const RETENTION_SECONDS: i64 = 24 * 60 * 60;

/// What identifies "the same request": method, path and the parameters as a set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fingerprint {
    method: Method,
    path: String,
    params: Vec<(String, String)>,
}

impl Fingerprint {
    pub(crate) fn new(method: Method, path: &str, params: &[(String, String)]) -> Self {
        let mut params = params.to_vec();
        params.sort();
        Self {
            method,
            path: path.to_owned(),
            params,
        }
    }
}

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone)]
enum Record {
    InFlight {
        fingerprint: Fingerprint,
    },
    Done {
        fingerprint: Fingerprint,
        stored_at: i64,
        response: StoredResponse,
    },
}

/// What the idempotency layer decides for an incoming request.
#[derive(Debug)]
pub(crate) enum Check {
    /// First use (or expired): run it; the key is now in flight.
    Proceed,
    /// Seen before with the same parameters: answer this again.
    Replay(StoredResponse),
    /// Seen before on the same endpoint with other parameters.
    OtherParameters,
    /// Seen before on another endpoint (method and path), named here.
    OtherEndpoint(String),
    /// The first request with this key has not finished.
    InFlight,
}

/// Records per (account, key).
#[derive(Debug, Default)]
pub(crate) struct IdempotencyStore {
    records: HashMap<(String, String), Record>,
}

impl IdempotencyStore {
    pub(crate) fn begin(
        &mut self,
        account: &str,
        key: &str,
        fingerprint: Fingerprint,
        now: i64,
    ) -> Check {
        let slot = (account.to_owned(), key.to_owned());
        match self.records.get(&slot) {
            Some(Record::InFlight { .. }) => return Check::InFlight,
            Some(Record::Done {
                fingerprint: stored,
                stored_at,
                response,
            }) if now - stored_at < RETENTION_SECONDS => {
                return if *stored == fingerprint {
                    Check::Replay(response.clone())
                } else if stored.method != fingerprint.method || stored.path != fingerprint.path {
                    Check::OtherEndpoint(stored.path.clone())
                } else {
                    Check::OtherParameters
                };
            }
            _ => {}
        }
        self.records.insert(slot, Record::InFlight { fingerprint });
        Check::Proceed
    }

    /// Store the response of a request that began with [`IdempotencyStore::begin`].
    pub(crate) fn finish(&mut self, account: &str, key: &str, response: StoredResponse, now: i64) {
        let slot = (account.to_owned(), key.to_owned());
        if let Some(Record::InFlight { fingerprint }) = self.records.remove(&slot) {
            self.records.insert(
                slot,
                Record::Done {
                    fingerprint,
                    stored_at: now,
                    response,
                },
            );
        }
    }

    /// Forget an in-flight key whose request never ran (cancelled or refused).
    pub(crate) fn abandon(&mut self, account: &str, key: &str) {
        let slot = (account.to_owned(), key.to_owned());
        if matches!(self.records.get(&slot), Some(Record::InFlight { .. })) {
            self.records.remove(&slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(value: &str) -> Fingerprint {
        Fingerprint::new(
            Method::Post,
            "/v1/customers",
            &[("name".into(), value.into())],
        )
    }

    #[test]
    fn replay_mismatch_in_flight_and_expiry() {
        let mut store = IdempotencyStore::default();
        assert!(matches!(
            store.begin("", "k", print("a"), 0),
            Check::Proceed
        ));
        assert!(matches!(
            store.begin("", "k", print("a"), 0),
            Check::InFlight
        ));
        let response = StoredResponse {
            status: 200,
            headers: Vec::new(),
            body: b"{}".to_vec(),
        };
        store.finish("", "k", response.clone(), 0);
        assert!(
            matches!(store.begin("", "k", print("a"), 10), Check::Replay(stored) if stored == response)
        );
        assert!(matches!(
            store.begin("", "k", print("b"), 10),
            Check::OtherParameters
        ));
        let elsewhere = Fingerprint::new(Method::Post, "/v1/invoices", &[]);
        assert!(
            matches!(store.begin("", "k", elsewhere, 10), Check::OtherEndpoint(path) if path == "/v1/customers")
        );
        assert!(matches!(
            store.begin("acct_1", "k", print("b"), 10),
            Check::Proceed
        ));
        assert!(matches!(
            store.begin("", "k", print("b"), RETENTION_SECONDS + 1),
            Check::Proceed
        ));
    }
}
