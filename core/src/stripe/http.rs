//! The real transport (feature `http`): one pooled reqwest client over rustls that
//! carries a [`StripeRequest`] to Stripe (or to any base URL: a proxy, a local mock)
//! with the key, version, idempotency and account headers, and maps timeouts and
//! connection failures to [`TransportErrorKind`].

use crate::classify::{Classify, ErrorCategory};
use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};

use super::form::encode_pairs;
use super::key::ApiKey;
use super::transport::{
    Method, StripeRequest, StripeResponse, Transport, TransportError, TransportErrorKind,
};
use crate::redact;

/// Stripe's API host.
pub const DEFAULT_BASE_URL: &str = "https://api.stripe.com";
/// Time allowed to open a connection (Stripe's SDKs use 30 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Time allowed for a whole request, body read included (Stripe's SDKs use 80 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(80);
/// `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("billbridge/", env!("CARGO_PKG_VERSION"));

/// Why an [`HttpTransport`] could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpTransportError {
    /// The base URL is not an absolute `http`/`https` URL without query or fragment.
    #[error("base URL {url:?} must be an absolute http or https URL without query or fragment")]
    InvalidBaseUrl {
        /// The URL given, with any credentials in it replaced by `[redacted]`.
        url: String,
    },
    /// The HTTP client could not be set up (e.g. the TLS backend failed to initialise).
    #[error("could not set up the HTTP client")]
    Client(#[source] reqwest::Error),
}

impl Classify for HttpTransportError {
    fn code(&self) -> &'static str {
        match self {
            HttpTransportError::InvalidBaseUrl { .. } => "invalid_base_url",
            HttpTransportError::Client(_) => "http_client_setup_failed",
        }
    }

    fn category(&self) -> ErrorCategory {
        match self {
            HttpTransportError::InvalidBaseUrl { .. } => ErrorCategory::Validation,
            HttpTransportError::Client(_) => ErrorCategory::Transport,
        }
    }
}

/// Settings for an [`HttpTransport`]; start with [`HttpTransport::builder`].
#[derive(Clone)]
pub struct HttpTransportBuilder {
    key: ApiKey,
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
}

impl fmt::Debug for HttpTransportBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A proxy's base URL can carry credentials (`https://user:password@proxy`).
        f.debug_struct("HttpTransportBuilder")
            .field("base_url", &redact::url(&self.base_url))
            .field("key", &self.key)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

impl HttpTransportBuilder {
    /// Send to this base URL instead of `https://api.stripe.com` (a proxy or local mock).
    /// A trailing `/` is ignored; a path prefix is kept (`http://proxy/stripe`).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Time allowed for a whole request, response body included.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Time allowed to open a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Builds the transport and its connection pool.
    ///
    /// # Errors
    /// [`HttpTransportError::InvalidBaseUrl`] for a base URL that is not absolute
    /// `http(s)` or has a query or fragment; [`HttpTransportError::Client`] when the
    /// HTTP client cannot be initialised.
    pub fn build(self) -> Result<HttpTransport, HttpTransportError> {
        let trimmed = self.base_url.trim_end_matches('/');
        let valid = reqwest::Url::parse(trimmed).is_ok_and(|url| {
            matches!(url.scheme(), "http" | "https")
                && url.has_host()
                && url.query().is_none()
                && url.fragment().is_none()
        });
        if !valid {
            return Err(HttpTransportError::InvalidBaseUrl {
                url: redact::url(&self.base_url),
            });
        }
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            // Stripe never redirects; following one could carry the key elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(HttpTransportError::Client)?;
        Ok(HttpTransport {
            client,
            base_url: trimmed.to_owned(),
            key: self.key,
            timeout: self.timeout,
            connect_timeout: self.connect_timeout,
        })
    }
}

/// Carries requests to Stripe over HTTPS with reqwest and rustls. Cheap to share: hold
/// one per key (it pools connections) and pass it to the client.
#[derive(Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    base_url: String,
    key: ApiKey,
    timeout: Duration,
    connect_timeout: Duration,
}

impl fmt::Debug for HttpTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpTransport")
            .field("base_url", &self.redacted_base_url())
            .field("key", &self.key)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .finish_non_exhaustive()
    }
}

impl HttpTransport {
    /// A transport to `https://api.stripe.com` with the default timeouts.
    ///
    /// # Errors
    /// [`HttpTransportError::Client`] when the HTTP client cannot be initialised.
    pub fn new(key: ApiKey) -> Result<Self, HttpTransportError> {
        Self::builder(key).build()
    }

    /// Settings to adjust before [`HttpTransportBuilder::build`].
    pub fn builder(key: ApiKey) -> HttpTransportBuilder {
        HttpTransportBuilder {
            key,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// The base URL requests go to, without a trailing `/`. It holds any credentials
    /// written into it; show [`HttpTransport::redacted_base_url`] instead.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The base URL with any credentials in it (`https://user:password@proxy`) replaced
    /// by `[redacted]`: what `Debug` and the bindings' representations show.
    pub fn redacted_base_url(&self) -> String {
        redact::url(&self.base_url)
    }

    fn headers(&self, request: &StripeRequest) -> Result<HeaderMap, TransportError> {
        let mut headers = HeaderMap::new();
        let mut authorization = header_value(
            &format!("Bearer {}", self.key.expose_secret()),
            "Authorization",
        )?;
        authorization.set_sensitive(true);
        headers.insert(AUTHORIZATION, authorization);
        headers.insert(
            "Stripe-Version",
            header_value(&request.stripe_version, "Stripe-Version")?,
        );
        if let Some(key) = &request.idempotency_key {
            headers.insert("Idempotency-Key", header_value(key, "Idempotency-Key")?);
        }
        if let Some(account) = &request.stripe_account {
            headers.insert("Stripe-Account", header_value(account, "Stripe-Account")?);
        }
        Ok(headers)
    }
}

fn header_value(value: &str, name: &'static str) -> Result<HeaderValue, TransportError> {
    HeaderValue::from_str(value).map_err(|error| {
        TransportError::new(
            TransportErrorKind::Other,
            format!("the {name} header value is not valid in HTTP"),
        )
        .with_source(error)
    })
}

fn map_reqwest_error(error: reqwest::Error, request: &StripeRequest) -> TransportError {
    // The URL may carry query parameters (an email in a customer list filter): drop it.
    let error = error.without_url();
    let (kind, what) = if error.is_timeout() {
        (TransportErrorKind::Timeout, "timed out")
    } else if error.is_connect() {
        (TransportErrorKind::Connection, "could not connect")
    } else if error.is_request() || error.is_body() {
        (TransportErrorKind::Connection, "connection failed")
    } else {
        (TransportErrorKind::Other, "failed")
    };
    TransportError::new(kind, format!("{} {} {what}", request.method, request.path))
        .with_source(error)
}

/// A failure while reading the body of a response whose status line arrived: the
/// connection dropped or closed before `Content-Length` bytes came. reqwest reports it
/// as a decode error, which would read as final; it is a lost response (a write may
/// have been applied), so it is a connection error that the client retries with the
/// same idempotency key, or a timeout when the time ran out.
fn map_body_error(error: reqwest::Error, request: &StripeRequest) -> TransportError {
    let error = error.without_url();
    let kind = if error.is_timeout() {
        TransportErrorKind::Timeout
    } else {
        TransportErrorKind::Connection
    };
    TransportError::new(
        kind,
        format!(
            "{} {} lost its response while reading the body",
            request.method, request.path
        ),
    )
    .with_source(error)
}

#[async_trait]
impl Transport for HttpTransport {
    fn livemode(&self) -> Option<bool> {
        Some(!self.key.is_test_mode())
    }

    async fn send(&self, request: &StripeRequest) -> Result<StripeResponse, TransportError> {
        let mut url = format!("{}{}", self.base_url, request.path);
        let headers = self.headers(request)?;
        let builder = match request.method {
            Method::Post => self
                .client
                .post(&url)
                .header(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                )
                .body(encode_pairs(&request.params)),
            Method::Get | Method::Delete => {
                if !request.params.is_empty() {
                    url.push('?');
                    url.push_str(&encode_pairs(&request.params));
                }
                match request.method {
                    Method::Delete => self.client.delete(&url),
                    _ => self.client.get(&url),
                }
            }
        };
        let response = builder
            .headers(headers)
            .send()
            .await
            .map_err(|error| map_reqwest_error(error, request))?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(name, value)| {
                value
                    .to_str()
                    .ok()
                    .map(|value| (name.as_str().to_owned(), value.to_owned()))
            })
            .collect();
        let body = response
            .bytes()
            .await
            .map_err(|error| map_body_error(error, request))?
            .to_vec();
        Ok(StripeResponse {
            status,
            headers,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ApiKey {
        ApiKey::secret("sk_test_httpSecret123").unwrap()
    }

    #[test]
    fn base_url_is_validated_and_trimmed() {
        let transport = HttpTransport::builder(key())
            .base_url("http://127.0.0.1:9/stripe/")
            .build()
            .unwrap();
        assert_eq!(transport.base_url(), "http://127.0.0.1:9/stripe");
        for bad in [
            "",
            "api.stripe.com",
            "ftp://x",
            "http://x/?a=1",
            "http://x/#f",
        ] {
            let error = HttpTransport::builder(key())
                .base_url(bad)
                .build()
                .unwrap_err();
            assert_eq!(error.code(), "invalid_base_url", "{bad}");
        }
    }

    #[test]
    fn transport_debug_hides_the_key() {
        let transport = HttpTransport::new(key()).unwrap();
        let debug = format!("{transport:?}");
        assert!(!debug.contains("httpSecret123"), "{debug}");
        assert!(debug.contains("api.stripe.com"), "{debug}");
    }

    #[tokio::test]
    async fn a_response_body_cut_short_is_a_lost_response_not_a_final_answer() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0_u8; 4096];
            let _ = stream.read(&mut request).unwrap();
            // 400 bytes promised, 16 sent, then the connection closes.
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 400\r\n\r\n{\"name\": \"Ada L")
                .unwrap();
        });
        let transport = HttpTransport::builder(key())
            .base_url(format!("http://{address}"))
            .build()
            .unwrap();
        let request = StripeRequest {
            method: Method::Get,
            path: "/v1/customers/cus_1".to_owned(),
            params: Vec::new(),
            idempotency_key: None,
            stripe_account: None,
            stripe_version: String::new(),
        };
        let error = transport.send(&request).await.unwrap_err();
        server.join().unwrap();
        assert_eq!(error.kind, TransportErrorKind::Connection, "{error:?}");
        assert!(!error.message.contains("Ada"), "{}", error.message);
    }

    #[test]
    fn user_agent_names_the_crate_version() {
        assert_eq!(
            USER_AGENT,
            format!("billbridge/{}", env!("CARGO_PKG_VERSION"))
        );
    }
}
