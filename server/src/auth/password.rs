//! Password hashing with argon2id. Hashing is deliberately slow (tens of milliseconds and
//! 19 MiB with the default cost), so it runs on the blocking pool, never on the async workers
//! that serve other requests.

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// How expensive a new hash is. Verification always uses the parameters stored in the hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Cost {
    /// OWASP's recommendation for argon2id: m = 19 MiB, t = 2, p = 1.
    #[default]
    Standard,
    /// m = 1 MiB, t = 1: for tests only, where hundreds of accounts are made.
    Fast,
}

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("hashing the password failed: {0}")]
    Hash(String),
    #[error("the password hashing task was cancelled")]
    Cancelled,
}

fn hasher(cost: Cost) -> Result<Argon2<'static>, PasswordError> {
    let params = match cost {
        Cost::Standard => Params::new(19 * 1024, 2, 1, None),
        Cost::Fast => Params::new(1024, 1, 1, None),
    }
    .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes synchronously (the command line uses it directly).
pub fn hash_blocking(password: &str, cost: Cost) -> Result<String, PasswordError> {
    let hash = hasher(cost)?
        .hash_password(password.as_bytes())
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(hash.to_string())
}

/// Hashes a password into a PHC string (`$argon2id$v=19$m=...`).
pub async fn hash(password: String, cost: Cost) -> Result<String, PasswordError> {
    tokio::task::spawn_blocking(move || hash_blocking(&password, cost))
        .await
        .map_err(|_| PasswordError::Cancelled)?
}

/// Checks a password against a stored hash. A missing or unreadable hash never matches,
/// but costs the same as a real check, so that the answer's timing does not tell whether
/// the login exists.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (dummy_hash().to_string(), false),
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), hash.as_str())
            .is_ok();
        ok && real
    })
    .await
    .unwrap_or(false)
}

/// A hash of nothing anyone knows, made once, at the standard cost.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_blocking("reglament: no such user", Cost::Standard).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_hash_only() {
        let h = hash("correct horse".into(), Cost::Fast)
            .await
            .expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert!(verify("correct horse".into(), Some(h.clone())).await);
        assert!(!verify("wrong".into(), Some(h)).await);
        assert!(!verify("anything".into(), None).await);
        assert!(!verify("x".into(), Some("not a hash".into())).await);
    }
}
