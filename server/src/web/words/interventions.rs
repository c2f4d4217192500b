//! The words of audited interventions (web/interventions.rs), `(key, kk, ru, en)`.

pub const WORDS: &[(&str, &str, &str, &str)] = &[];
