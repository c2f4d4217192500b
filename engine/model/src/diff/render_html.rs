//! The HTML form of a diff: a table of the changes (for the web page) and a self-contained
//! page around it (`reglament diff --format html`), with the new version's diagram when the
//! caller has one. Text is escaped; the ids the sentences quote between backquotes are set as
//! `<code>`.

use std::fmt::Write as _;

use crate::markup::xml as esc;
use crate::text::Lang;

use super::changes::Sign;
use super::words::{describe, label};
use super::{Diff, Place};

/// A sentence with its `` `ids` `` as code, the rest escaped.
pub fn sentence(s: &str) -> String {
    let mut out = String::new();
    for (i, part) in s.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", esc(part));
        } else {
            out.push_str(&esc(part));
        }
    }
    out
}

fn place(p: &Option<Place>) -> String {
    match p {
        Some(p) => format!("<code>{}</code>", esc(&p.to_string())),
        None => "—".to_string(),
    }
}

/// The word for a change's sign: added, removed or changed.
pub fn sign_word(sign: Sign, lang: Lang) -> &'static str {
    match sign {
        Sign::Added => label("added", lang),
        Sign::Removed => label("removed", lang),
        Sign::Changed => label("changed", lang),
    }
}

/// The changes as an HTML `<table>` (or a paragraph when there are none).
pub fn table(diff: &Diff, lang: Lang) -> String {
    if diff.changes.is_empty() {
        return format!(
            "<p class=\"diff-none\">{}</p>\n",
            esc(label("no_changes", lang))
        );
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<table class=\"diff\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{} (v{})</th><th scope=\"col\">{} (v{})</th></tr></thead><tbody>",
        esc(label("kind", lang)),
        esc(label("change", lang)),
        esc(label("old", lang)),
        diff.old.version,
        esc(label("new", lang)),
        diff.new.version,
    );
    for c in &diff.changes {
        let sign = c.what.sign();
        let _ = writeln!(
            out,
            "<tr class=\"diff-{}\" data-change=\"{}\"><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(sign_word(sign, Lang::En)),
            esc(&c.what.tag()),
            sign.symbol(),
            esc(sign_word(sign, lang)),
            sentence(&describe(&c.what, lang)),
            place(&c.old),
            place(&c.new),
        );
    }
    out.push_str("</tbody></table>\n");
    out
}

const STYLE: &str = "body{font-family:'Segoe UI','Noto Sans','DejaVu Sans',Arial,sans-serif;margin:2em;color:#343a40}\
table{border-collapse:collapse}th,td{border:1px solid #ced4da;padding:.3em .6em;text-align:left;vertical-align:top}\
tr.diff-added td:first-child{color:#2b8a3e}tr.diff-removed td:first-child{color:#c92a2a}\
tr.diff-changed td:first-child{color:#1864ab}code{background:#f1f3f5;padding:0 .2em}\
.diagram{overflow:auto;margin-top:1em}";

/// A standalone HTML page: heading, the table, the removed steps and the new diagram.
pub fn page(diff: &Diff, lang: Lang, svg: Option<&str>) -> String {
    let title = format!(
        "{}: {} v{} → {} v{}",
        label("changes", lang),
        diff.old.id,
        diff.old.version,
        diff.new.id,
        diff.new.version
    );
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n<p>{} <code>{}</code> → {} <code>{}</code></p>",
        lang.code(),
        esc(&title),
        esc(&title),
        esc(label("old", lang)),
        esc(&diff.old.file),
        esc(label("new", lang)),
        esc(&diff.new.file),
    );
    out.push_str(&table(diff, lang));
    let removed = diff.step_marks().removed;
    if !removed.is_empty() {
        let _ = writeln!(
            out,
            "<h2>{}</h2>\n<ul class=\"removed-steps\">",
            esc(label("removed_steps", lang))
        );
        for s in removed {
            let _ = writeln!(out, "<li><code>{}</code></li>", esc(&s));
        }
        out.push_str("</ul>\n");
    }
    if let Some(svg) = svg {
        let _ = writeln!(
            out,
            "<h2>{}</h2>\n<div class=\"diagram\">{svg}</div>",
            esc(label("diagram", lang))
        );
    }
    out.push_str("</body>\n</html>\n");
    out
}
