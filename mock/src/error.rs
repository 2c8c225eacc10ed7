//! Stripe-shaped API errors as the mock answers them:
//! `{"error": {type, code, message, param, decline_code, doc_url}}` with the HTTP status
//! Stripe uses for each kind.

use serde_json::{Map, Value, json};

/// One error answer of the mock API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// `invalid_request_error`, `card_error`, `idempotency_error` or `api_error`: the
    /// types of Stripe's published error schema.
    pub kind: &'static str,
    /// Stripe's machine code, when it gives one.
    pub code: Option<&'static str>,
    /// Human-readable message.
    pub message: String,
    /// The offending parameter in bracket notation.
    pub param: Option<String>,
    /// `decline_code` of card errors.
    pub decline_code: Option<&'static str>,
    /// The `Stripe-Should-Retry` response header, when the error sets it.
    pub should_retry: Option<bool>,
}

impl ApiError {
    /// A 400 `invalid_request_error`.
    pub(crate) fn invalid(
        code: Option<&'static str>,
        message: impl Into<String>,
        param: Option<String>,
    ) -> Self {
        Self {
            status: 400,
            kind: "invalid_request_error",
            code,
            message: message.into(),
            param,
            decline_code: None,
            should_retry: None,
        }
    }

    /// A 400 `parameter_missing`.
    pub(crate) fn missing(param: &str) -> Self {
        Self::invalid(
            Some("parameter_missing"),
            format!("Missing required param: {param}."),
            Some(param.to_owned()),
        )
    }

    /// A 400 `parameter_invalid_empty`: `""` sent for a parameter that cannot be unset.
    pub(crate) fn invalid_empty(param: &str) -> Self {
        Self::invalid(
            Some("parameter_invalid_empty"),
            format!(
                "You passed an empty string for '{param}'. We assume empty values are an attempt to unset a parameter; however '{param}' cannot be unset. You should remove '{param}' from your request or supply a non-empty value."
            ),
            Some(param.to_owned()),
        )
    }

    /// A 400 `resource_missing` for an unknown id named in the request's parameters
    /// (`customer=cus_…`, `pricing[price]=…`, a list cursor): Stripe answers 404 only
    /// for the object a URL names.
    pub(crate) fn no_such(object: &str, id: &str, param: &str) -> Self {
        Self {
            status: 400,
            ..Self::not_found(object, id, Some(param))
        }
    }

    /// A 404 `resource_missing` for an unknown id in the URL.
    pub(crate) fn not_found(object: &str, id: &str, param: Option<&str>) -> Self {
        Self {
            status: 404,
            ..Self::invalid(
                Some("resource_missing"),
                format!("No such {object}: '{id}'"),
                param.map(str::to_owned),
            )
        }
    }

    /// A 404 for a path the API does not have.
    pub(crate) fn unknown_route(method: &str, path: &str) -> Self {
        Self {
            status: 404,
            ..Self::invalid(
                None,
                format!(
                    "Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
                ),
                None,
            )
        }
    }

    /// A 400 for an action the invoice's current status does not allow.
    pub(crate) fn unexpected_status(message: impl Into<String>) -> Self {
        Self::invalid(Some("invoice_unexpected_status"), message, None)
    }

    /// A 400 `invoice_not_editable`.
    pub(crate) fn not_editable(message: impl Into<String>, param: Option<&str>) -> Self {
        Self::invalid(
            Some("invoice_not_editable"),
            message,
            param.map(str::to_owned),
        )
    }

    /// A 401. Stripe types authentication failures `invalid_request_error` (its
    /// published error schema has no other type for them); the SDKs map the status.
    pub(crate) fn authentication(message: impl Into<String>) -> Self {
        Self {
            status: 401,
            ..Self::invalid(None, message, None)
        }
    }

    /// A 400 `idempotency_error`: a key reused for another request.
    pub(crate) fn idempotency(message: impl Into<String>) -> Self {
        Self {
            kind: "idempotency_error",
            ..Self::invalid(None, message, None)
        }
    }

    /// A 402 `card_error`.
    pub(crate) fn card_declined(decline_code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: 402,
            kind: "card_error",
            decline_code: Some(decline_code),
            ..Self::invalid(Some("card_declined"), message, None)
        }
    }

    /// The response headers this error adds.
    pub(crate) fn headers(&self) -> Vec<(String, String)> {
        self.should_retry
            .map(|retry| vec![("Stripe-Should-Retry".to_owned(), retry.to_string())])
            .unwrap_or_default()
    }

    /// The JSON body Stripe sends for this error.
    pub(crate) fn body(&self, request_id: &str) -> Value {
        let mut error = Map::new();
        if let Some(code) = self.code {
            error.insert("code".into(), json!(code));
            error.insert(
                "doc_url".into(),
                json!(format!(
                    "https://stripe.com/docs/error-codes/{}",
                    code.replace('_', "-")
                )),
            );
        }
        if let Some(decline_code) = self.decline_code {
            error.insert("decline_code".into(), json!(decline_code));
        }
        error.insert("message".into(), json!(self.message));
        if let Some(param) = &self.param {
            error.insert("param".into(), json!(param));
        }
        error.insert(
            "request_log_url".into(),
            json!(format!(
                "https://dashboard.stripe.com/test/logs/{request_id}"
            )),
        );
        error.insert("type".into(), json!(self.kind));
        json!({ "error": Value::Object(error) })
    }
}
