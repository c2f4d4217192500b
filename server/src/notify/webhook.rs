//! Webhook deliveries: a JSON POST signed with the subscriber's secret.
//!
//! Headers of every delivery:
//! - `Idempotency-Key`: the notice's id, the same on every attempt (a receiver that already
//!   has it answers 2xx and does nothing);
//! - `X-Reglament-Timestamp`: Unix seconds when this attempt was signed;
//! - `X-Reglament-Signature`: `sha256=` and the lower-case hex HMAC-SHA256, keyed with the
//!   secret, of `<timestamp>.<body>` (binding the time stops a captured request from being
//!   replayed later with the same signature).
//!
//! A 2xx answer is delivered; anything else (another status, no answer in time) is a failed
//! attempt, tried again after the backoff.

use hmac::{KeyInit as _, Mac as _};

/// The signature header's value for `body` signed at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    // An HMAC key may have any length; `new_from_slice` never fails for HMAC.
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    let tag = mac.finalize().into_bytes();
    let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Sends one delivery; `Err` says why it failed, for `last_error`.
pub async fn send(
    client: &reqwest::Client,
    url: &str,
    secret: &str,
    idempotency_key: &str,
    body: &str,
    timestamp: i64,
) -> Result<(), String> {
    let answer = client
        .post(url)
        .header("content-type", "application/json")
        .header("idempotency-key", idempotency_key)
        .header("x-reglament-timestamp", timestamp.to_string())
        .header("x-reglament-signature", signature(secret, timestamp, body))
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| format!("{e}"))?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the receiver answered {status}"))
    }
}

/// A subscriber's URL: http or https, with a host, no user or password in it.
pub fn valid_url(url: &str) -> Result<(), &'static str> {
    let u = url::Url::parse(url).map_err(|_| "not a URL")?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err("the scheme is http or https");
    }
    if u.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host");
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err("the URL may not carry a user or a password");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected value is Python's `hmac.new(b"secret", b'1700000000.{"a":1}',
    /// hashlib.sha256).hexdigest()`: what a receiver computes to check a delivery.
    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        let s = signature("secret", 1_700_000_000, "{\"a\":1}");
        assert_eq!(
            s,
            "sha256=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
        );
        assert_ne!(s, signature("secret", 1_700_000_001, "{\"a\":1}"));
        assert_ne!(s, signature("other", 1_700_000_000, "{\"a\":1}"));
    }

    #[test]
    fn subscriber_urls_are_plain_http_or_https() {
        assert!(valid_url("https://portal.egov.kz/hooks/reglament").is_ok());
        assert!(valid_url("http://127.0.0.1:9000/x").is_ok());
        assert!(valid_url("ftp://x/y").is_err());
        assert!(valid_url("https://user:pw@x/y").is_err());
        assert!(valid_url("not a url").is_err());
    }
}
