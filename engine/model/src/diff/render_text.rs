//! The text form of a diff (`reglament diff`, the default): a heading, then one line per
//! change with its sign (`+` added, `-` removed, `~` changed), the change in words, and where
//! it is in the old and the new file (`file:line`, `—` for the side that lacks it).

use std::fmt::Write as _;

use crate::text::Lang;

use super::words::{describe, label};
use super::{Diff, Place};

fn at(place: &Option<Place>) -> String {
    place
        .as_ref()
        .map_or_else(|| "—".to_string(), Place::to_string)
}

/// The diff as text in `lang`, one change a line.
pub fn text(diff: &Diff, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} v{} ({}) → {} v{} ({})\n{}: {}",
        diff.old.id,
        diff.old.version,
        diff.old.file,
        diff.new.id,
        diff.new.version,
        diff.new.file,
        label("changes", lang),
        diff.changes.len()
    );
    if diff.changes.is_empty() {
        let _ = writeln!(out, "{}", label("no_changes", lang));
    }
    for c in &diff.changes {
        let _ = writeln!(
            out,
            "{} {}  [{} → {}]",
            c.what.sign().symbol(),
            describe(&c.what, lang),
            at(&c.old),
            at(&c.new)
        );
    }
    out
}
