//! The least a password must be, checked wherever a person chooses one (`PUT
//! /api/v1/me/password`, the change-password page, `POST /api/v1/users`, `reglament user
//! add|password --password-stdin`): long enough, made of more than a few characters, not
//! the login, and not on a list of common passwords compiled into the binary
//! (`server/data/common-passwords.txt`, Django's list of 19,640; see `server/data/README.md`).
//! Generated passwords are random and not checked.

use std::collections::HashSet;
use std::sync::OnceLock;

/// The fewest characters a password has.
pub const MIN_CHARS: usize = 10;
/// The most bytes a password has (argon2 takes any length; this bounds the work).
pub const MAX_BYTES: usize = 1024;
/// The fewest different characters.
const MIN_DISTINCT: usize = 4;
/// A login shorter than this may appear inside a password (`ali` in `salient-…`).
const MIN_LOGIN_INSIDE: usize = 4;

const COMMON: &str = include_str!("../../data/common-passwords.txt");

/// Why a password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weakness {
    TooShort,
    TooLong,
    TooFewCharacters,
    ContainsLogin,
    Common,
}

impl Weakness {
    /// The key of the message in the interface's words ([`crate::web::i18n`]).
    pub fn key(self) -> &'static str {
        match self {
            Weakness::TooShort => "password_too_short",
            Weakness::TooLong => "password_too_long",
            Weakness::TooFewCharacters => "password_too_few_characters",
            Weakness::ContainsLogin => "password_contains_login",
            Weakness::Common => "password_common",
        }
    }
}

impl std::fmt::Display for Weakness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Weakness::TooShort => "a password has at least 10 characters",
            Weakness::TooLong => "a password has at most 1,024 bytes",
            Weakness::TooFewCharacters => {
                "the password repeats too few different characters; use at least 4"
            }
            Weakness::ContainsLogin => "the password must not contain the login",
            Weakness::Common => "the password is on the list of commonly used passwords",
        })
    }
}

fn common() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    // Only entries long enough to pass the length rule can ever match.
    SET.get_or_init(|| {
        COMMON
            .lines()
            .map(str::trim)
            .filter(|l| l.chars().count() >= MIN_CHARS)
            .collect()
    })
}

/// Checks a password `login` chooses.
pub fn check(password: &str, login: &str) -> Result<(), Weakness> {
    if password.len() > MAX_BYTES {
        return Err(Weakness::TooLong);
    }
    if password.chars().count() < MIN_CHARS {
        return Err(Weakness::TooShort);
    }
    if password.chars().collect::<HashSet<char>>().len() < MIN_DISTINCT {
        return Err(Weakness::TooFewCharacters);
    }
    let lower = password.trim().to_lowercase();
    let login = login.trim().to_lowercase();
    if !login.is_empty()
        && (lower == login || (login.chars().count() >= MIN_LOGIN_INSIDE && lower.contains(&login)))
    {
        return Err(Weakness::ContainsLogin);
    }
    if common().contains(lower.as_str()) {
        return Err(Weakness::Common);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_passwords_are_refused_for_their_reason() {
        assert_eq!(check("short", "olga"), Err(Weakness::TooShort));
        assert_eq!(check(&"x".repeat(1025), "olga"), Err(Weakness::TooLong));
        assert_eq!(
            check("aaaaaaaaaaaa", "olga"),
            Err(Weakness::TooFewCharacters)
        );
        assert_eq!(check("ababababab", "olga"), Err(Weakness::TooFewCharacters));
        assert_eq!(
            check("Olga-2026-spring", "olga"),
            Err(Weakness::ContainsLogin)
        );
        assert_eq!(
            check("aigerim.k.ozsp", "aigerim.k.ozsp"),
            Err(Weakness::ContainsLogin)
        );
        assert_eq!(check("QwertyUIOP", "olga"), Err(Weakness::Common));
        assert_eq!(check("1234567890", "olga"), Err(Weakness::Common));
        assert_eq!(check("password123", "olga"), Err(Weakness::Common));
        assert_eq!(check("correct horse battery", "olga"), Ok(()));
        assert_eq!(check("Жаңа құпиясөз-7", "olga"), Ok(()));
        // A short login may occur by chance inside a good password.
        assert_eq!(check("bali trip in may", "ali"), Ok(()));
    }

    #[test]
    fn the_list_is_the_shipped_file() {
        assert!(COMMON.lines().count() > 19_000);
        assert!(common().len() > 1_500);
        assert!(common().contains("1q2w3e4r5t"));
    }
}
