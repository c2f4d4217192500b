//! The interface's words, by feature, beside the main table in `i18n.rs`: each feature keeps
//! its own list, so that work on one page never edits another's.

mod deputies;
mod interventions;
mod pages;
mod search;
mod views;

/// Every feature's `(key, kk, ru, en)` list.
pub const PARTS: &[&[(&str, &str, &str, &str)]] = &[
    deputies::WORDS,
    interventions::WORDS,
    pages::WORDS,
    search::WORDS,
    views::WORDS,
];
