//! The Stripe edge: API keys and the HTTP transport a bridge sends requests through.
//! Secrets never appear in `toString()`, `toJSON()` or an error message.

use billbridge::stripe::http::HttpTransport as CoreTransport;
use billbridge::stripe::key::ApiKey as CoreKey;
use billbridge::vocabulary;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::OrThrow;

/// A Stripe secret (`sk_…`) or restricted (`rk_…`) API key.
#[napi]
pub struct ApiKey(pub(crate) CoreKey);

#[napi]
impl ApiKey {
    /// `new ApiKey("sk_test_…")`; throws `ValidationError` for a publishable or
    /// malformed key.
    #[napi(constructor, catch_unwind)]
    pub fn new(env: &Env, key: String) -> Result<Self> {
        CoreKey::parse(key).map(ApiKey).or_throw(env)
    }

    /// `"secret"` or `"restricted"`.
    #[napi(getter, catch_unwind)]
    pub fn kind(&self) -> &'static str {
        self.0.kind().as_str()
    }

    /// `"test"` or `"live"`.
    #[napi(getter, catch_unwind)]
    pub fn mode(&self) -> &'static str {
        self.0.mode().as_str()
    }

    /// True for a test-mode key.
    #[napi(getter, catch_unwind)]
    pub fn is_test_mode(&self) -> bool {
        self.0.is_test_mode()
    }

    /// The key with its secret part left out.
    #[napi(js_name = "toString", catch_unwind)]
    pub fn to_text(&self) -> String {
        self.0.to_string()
    }

    /// The same redacted text, so `JSON.stringify` cannot leak the key either.
    #[napi(js_name = "toJSON", catch_unwind)]
    pub fn to_json(&self) -> String {
        self.0.to_string()
    }
}

/// Options of `HttpTransport`.
#[napi(object, object_to_js = false)]
pub struct HttpTransportOptions {
    /// Where requests go instead of Stripe: a Stripe-compatible server such as
    /// `MockStripe.serve()`'s.
    pub base_url: Option<String>,
    /// Seconds a whole request may take.
    pub timeout: Option<f64>,
    /// Seconds connecting may take.
    pub connect_timeout: Option<f64>,
}

/// Carries requests to Stripe over HTTPS (rustls), with the key given.
#[napi]
#[derive(Clone)]
pub struct HttpTransport(pub(crate) CoreTransport);

#[napi]
impl HttpTransport {
    /// `new HttpTransport("sk_test_…", { timeout: 30 })`; throws `ValidationError` for
    /// an unusable key, base URL or timeout.
    #[napi(constructor, catch_unwind)]
    pub fn new(
        env: &Env,
        api_key: Either<String, &ApiKey>,
        options: Option<HttpTransportOptions>,
    ) -> Result<Self> {
        let key = match api_key {
            Either::A(text) => CoreKey::parse(text).or_throw(env)?,
            Either::B(key) => key.0.clone(),
        };
        let mut builder = CoreTransport::builder(key);
        if let Some(options) = options {
            if let Some(url) = options.base_url {
                builder = builder.base_url(url);
            }
            if let Some(seconds) = options.timeout {
                builder = builder.timeout(vocabulary::seconds("timeout", seconds).or_throw(env)?);
            }
            if let Some(seconds) = options.connect_timeout {
                builder = builder
                    .connect_timeout(vocabulary::seconds("connectTimeout", seconds).or_throw(env)?);
            }
        }
        builder.build().map(HttpTransport).or_throw(env)
    }

    /// Where requests go.
    #[napi(getter, catch_unwind)]
    pub fn base_url(&self) -> String {
        self.0.base_url().to_owned()
    }
}
