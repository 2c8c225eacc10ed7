//! Webhook signatures: verifying `Stripe-Signature` on the raw body, parsing the event,
//! and signing payloads for tests and for the mock's deliveries.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The `Stripe-Signature` header value Stripe would send for `payload` signed with
/// `secret` (the whole `whsec_…` string) at unix time `timestamp`: `t=…,v1=…`.
pub fn signature_header(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    format!(
        "t={timestamp},v1={}",
        signature_hex(secret, timestamp, payload)
    )
}

/// Lowercase hex HMAC-SHA256 of `"{timestamp}.{payload}"` keyed with `secret`.
fn signature_hex(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    let digest = mac.finalize().into_bytes();
    let mut hex = String::with_capacity(digest.len() * 2);
    for byte in digest {
        hex.push(char::from_digit(u32::from(byte >> 4), 16).unwrap_or('0'));
        hex.push(char::from_digit(u32::from(byte & 0xf), 16).unwrap_or('0'));
    }
    hex
}
