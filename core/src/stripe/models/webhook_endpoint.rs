//! Webhook endpoints (`we_…`): where Stripe delivers events. The signing secret is
//! deliberately not read.

use serde::{Deserialize, Serialize};

use super::{HasId, MetadataMap, null_as_default};

/// A webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    /// `we_…`.
    pub id: String,
    /// Where events are posted.
    pub url: String,
    /// `enabled` or `disabled`.
    #[serde(default)]
    pub status: Option<String>,
    /// Event types delivered (`*` for all).
    #[serde(default, deserialize_with = "null_as_default")]
    pub enabled_events: Vec<String>,
    /// The API version events are rendered in; `None` for the account default.
    #[serde(default)]
    pub api_version: Option<String>,
    /// Internal description.
    #[serde(default)]
    pub description: Option<String>,
    /// Key-value pairs; empty when Stripe sends `null`.
    #[serde(default)]
    pub metadata: MetadataMap,
    /// Creation time, unix seconds.
    pub created: i64,
    /// Live mode (`true`) or test mode.
    #[serde(default)]
    pub livemode: bool,
}

impl HasId for WebhookEndpoint {
    fn id(&self) -> &str {
        &self.id
    }
}
