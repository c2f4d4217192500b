//! Secrets: API tokens, session cookies, CSRF tokens, generated passwords. Random bytes come
//! from the operating system; only the SHA-256 of a token or session is stored, so a copy of
//! the database does not let anyone in.

use sha2::{Digest, Sha256};

/// Prefix of API tokens (`reglament token create`).
pub const TOKEN_PREFIX: &str = "rgt_";
/// Prefix of session secrets (the cookie value; also accepted as a bearer token).
pub const SESSION_PREFIX: &str = "rgs_";

/// Characters of a listed token's prefix (the `rgt_` and 8 more), enough to tell tokens apart.
pub const SHOWN_PREFIX_LEN: usize = 12;

/// Crockford's base32: no I, L, O, U, so that a secret read aloud or copied by hand survives.
const BASE32: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed: {0}")]
pub struct RandomError(String);

/// `n` random bytes.
pub fn random_bytes(n: usize) -> Result<Vec<u8>, RandomError> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).map_err(|e| RandomError(e.to_string()))?;
    Ok(buf)
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// `n` random base32 characters (5 bits each).
pub fn random_base32(n: usize) -> Result<String, RandomError> {
    Ok(random_bytes(n)?
        .into_iter()
        .map(|b| BASE32[usize::from(b & 31)] as char)
        .collect())
}

/// A new secret with its prefix: 32 random bytes in hex (256 bits).
pub fn new_secret(prefix: &str) -> Result<String, RandomError> {
    Ok(format!("{prefix}{}", hex(&random_bytes(32)?)))
}

/// What is stored for a secret.
pub fn sha256_hex(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// A generated password: 20 base32 characters (100 bits), in groups of five for reading.
pub fn new_password() -> Result<String, RandomError> {
    let raw = random_base32(20)?;
    Ok(raw
        .as_bytes()
        .chunks(5)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-"))
}

/// Compares without stopping at the first difference (for CSRF tokens).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_prefixed() {
        let a = new_secret(TOKEN_PREFIX).expect("random");
        let b = new_secret(TOKEN_PREFIX).expect("random");
        assert!(a.starts_with("rgt_") && a.len() == 4 + 64);
        assert_ne!(a, b);
        assert_eq!(sha256_hex("abc").len(), 64);
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn passwords_read_well() {
        let p = new_password().expect("random");
        assert_eq!(p.len(), 23);
        assert_eq!(p.matches('-').count(), 3);
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
