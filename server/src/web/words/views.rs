//! The words of shared inbox views and bulk task actions (web/views.rs, web/bulk.rs), `(key, kk, ru, en)`.

pub const WORDS: &[(&str, &str, &str, &str)] = &[];
