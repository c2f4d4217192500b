//! The words of case search (web/search.rs), `(key, kk, ru, en)`.

pub const WORDS: &[(&str, &str, &str, &str)] = &[];
