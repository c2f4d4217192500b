//! The words of deputy rules (web/deputies.rs), `(key, kk, ru, en)`.

pub const WORDS: &[(&str, &str, &str, &str)] = &[];
