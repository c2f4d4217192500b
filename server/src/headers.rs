//! Headers every answer carries, pages and API alike: a Content-Security-Policy that allows
//! scripts, styles and images only from this server (no inline script, no `eval`, no
//! framing: `frame-ancestors 'none'`), `X-Content-Type-Options: nosniff`,
//! `Referrer-Policy: same-origin` (a case id in a URL never leaves for another site) and,
//! for old browsers, `X-Frame-Options: DENY`.
//!
//! The pages need nothing inline: the little script is `/static/app.js`. The one inline
//! `<style>` the server sends is the compliance report's own (it is also a standalone
//! document); the report page allows exactly that block by its hash ([`policy_allowing_styles`]).

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine as _;
use sha2::{Digest, Sha256};

/// The policy of every answer.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Middleware: adds the headers to every answer that does not set its own.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let mut set = |name: header::HeaderName, value: &'static str| {
        if !h.contains_key(&name) {
            h.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::CONTENT_SECURITY_POLICY, CSP);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "same-origin");
    set(header::X_FRAME_OPTIONS, "DENY");
    response
}

/// The policy for a page that embeds `html` with its `<style>` blocks: [`CSP`] with those
/// blocks allowed by their SHA-256, and nothing else inline.
pub fn policy_allowing_styles(html: &str) -> HeaderValue {
    let mut hashes = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<style>") {
        let after = &rest[start + "<style>".len()..];
        let Some(end) = after.find("</style>") else {
            break;
        };
        let digest = Sha256::digest(&after.as_bytes()[..end]);
        hashes.push_str(&format!(
            " 'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest)
        ));
        rest = &after[end..];
    }
    let policy = CSP.replace("style-src 'self'", &format!("style-src 'self'{hashes}"));
    HeaderValue::from_str(&policy).unwrap_or_else(|_| HeaderValue::from_static(CSP))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_with_a_style_block_allows_that_block_only() {
        let p = policy_allowing_styles("<p>x</p><style>a{b:c}</style><style>d{}</style>");
        let p = p.to_str().expect("ascii");
        // printf 'a{b:c}' | openssl dgst -sha256 -binary | base64
        assert!(p.contains("style-src 'self' 'sha256-"), "{p}");
        assert_eq!(p.matches("'sha256-").count(), 2, "{p}");
        assert!(p.contains("script-src 'self';") && p.contains("frame-ancestors 'none'"));
        assert_eq!(
            policy_allowing_styles("<p>no style</p>").to_str().ok(),
            Some(CSP)
        );
    }
}
