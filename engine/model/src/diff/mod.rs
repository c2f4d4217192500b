//! What changed between two versions of a regulation, in the terms an analyst uses: steps
//! added, removed, renamed (the same kind, role and place in the graph under a new id) or
//! moved to another role; durations per channel; statutory terms and how they are counted;
//! outcomes and branch conditions; forms; roles; channels; suspensions; the dates of force;
//! title and source.
//!
//! A diff reads two [`Loaded`] texts rather than compiled processes: a draft that does not
//! validate yet can be compared, and every change points at its line in each file through the
//! spans the YAML parse recorded (`file:line` of the old side, of the new side, or both).
//!
//! - [`changes`] the typed list of what may change ([`What`]);
//! - `steps`, `forms` how steps are matched and compared, how form schemas are compared;
//! - [`words`] each change said in Kazakh, Russian or English;
//! - [`render_text`], [`render_html`] the outputs of `reglament diff` (JSON is serde's).
//!
//! The order is deterministic: the regulation's own fields, roles, channels, the application
//! form, then the steps in the new file's order (each with all its changes), removed steps last
//! in the old file's order.

pub mod changes;
mod forms;
pub mod render_html;
pub mod render_text;
mod steps;
pub mod words;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_bundled;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

pub use changes::What;

use crate::load::Loaded;
use crate::yaml::Spans;

/// A place in one of the two files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    pub file: String,
    pub line: usize,
    pub column: usize,
    /// The JSON pointer of the part (or of the nearest enclosing part present in this file).
    pub pointer: String,
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One change, with where it is in the old file and in the new one (whichever exist).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    #[serde(flatten)]
    pub what: What,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Place>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Place>,
}

/// Which regulation, which version, which file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Side {
    pub file: String,
    pub id: String,
    pub version: u32,
}

/// Everything that changed from `old` to `new`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub old: Side,
    pub new: Side,
    pub changes: Vec<Change>,
}

/// How a step of the new version is marked on its diagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepMark {
    Added,
    Changed,
    Removed,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// Steps of the new version that were added, steps (by their new id) with any other
    /// change (renamed and moved included), and steps of the old version that are gone.
    pub fn step_marks(&self) -> StepMarks {
        let mut m = StepMarks::default();
        for c in &self.changes {
            match &c.what {
                What::StepAdded { step, .. } => {
                    m.added.insert(step.clone());
                }
                What::StepRemoved { step, .. } => {
                    m.removed.insert(step.clone());
                }
                other => {
                    if let Some(step) = other.step() {
                        m.changed.insert(step.to_string());
                    }
                }
            }
        }
        // An added step's own details are part of its addition.
        m.changed.retain(|s| !m.added.contains(s));
        m
    }
}

impl Diff {
    /// Marks for the new version's diagram ([`crate::render::svg_marked`]): steps added and
    /// steps changed, with a sign and legend words in `lang`. Removed steps are not in the new
    /// diagram; callers list them ([`StepMarks::removed`]).
    pub fn diagram_marks(&self, lang: crate::text::Lang) -> Vec<crate::render::Mark> {
        let m = self.step_marks();
        vec![
            crate::render::Mark {
                class: "added".into(),
                colour: "#2b8a3e".into(),
                sign: "+".into(),
                legend: words::label("legend_added", lang).into(),
                steps: m.added.into_iter().collect(),
            },
            crate::render::Mark {
                class: "changed".into(),
                colour: "#1971c2".into(),
                sign: "~".into(),
                legend: words::label("legend_changed", lang).into(),
                steps: m.changed.into_iter().collect(),
            },
        ]
    }
}

/// The steps a diff touches, by how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepMarks {
    pub added: BTreeSet<String>,
    pub changed: BTreeSet<String>,
    pub removed: BTreeSet<String>,
}

/// The two files being compared, for the comparers to place their findings.
pub(crate) struct Pair<'a> {
    // `old` and `new` are shared references, so a comparer can hold parts of the regulations
    // while it pushes changes.
    pub old: &'a Loaded,
    pub new: &'a Loaded,
    /// Steps renamed: old id → new id.
    pub renames: BTreeMap<String, String>,
    pub out: Vec<Change>,
}

impl Pair<'_> {
    /// The id a step of the old version has in the new one (its own, unless renamed).
    pub fn now_called<'s>(&'s self, old_id: &'s str) -> &'s str {
        self.renames.get(old_id).map_or(old_id, String::as_str)
    }

    /// Records a change found at `old` (a pointer into the old file) and `new`.
    pub fn push(&mut self, what: What, old: Option<&str>, new: Option<&str>) {
        let old = old.and_then(|p| place(self.old, p));
        let new = new.and_then(|p| place(self.new, p));
        self.out.push(Change { what, old, new });
    }
}

/// The place of `pointer` in `loaded`: its key's line where it is a mapping entry, or the
/// nearest enclosing part the file has. A part whose nearest enclosing part is the whole
/// document is not in the file at all and has no place.
fn place(loaded: &Loaded, pointer: &str) -> Option<Place> {
    let (at, found) = nearest(&loaded.spans, pointer)?;
    Some(Place {
        file: loaded.file.clone(),
        line: at.line,
        column: at.column,
        pointer: found.to_string(),
    })
}

fn nearest<'p>(spans: &Spans, pointer: &'p str) -> Option<(crate::diagnostic::Location, &'p str)> {
    let mut p = pointer;
    loop {
        if p.is_empty() {
            return None;
        }
        if let Some(s) = spans.get(p) {
            return Some((s.key.unwrap_or(s.value), p));
        }
        p = &p[..p.rfind('/')?];
    }
}

/// What changed from `old` to `new`.
pub fn diff(old: &Loaded, new: &Loaded) -> Diff {
    let side = |l: &Loaded| Side {
        file: l.file.clone(),
        id: l.regulation.id.clone(),
        version: l.regulation.version,
    };
    let mut pair = Pair {
        old,
        new,
        renames: steps::renames(&old.regulation, &new.regulation),
        out: Vec::new(),
    };
    regulation_fields(&mut pair);
    roles(&mut pair);
    channels(&mut pair);
    forms::compare(
        &mut pair,
        None,
        old.regulation.application_form.as_ref().map(|f| &f.0),
        new.regulation.application_form.as_ref().map(|f| &f.0),
        "/application_form",
        "/application_form",
    );
    steps::compare(&mut pair);
    Diff {
        old: side(old),
        new: side(new),
        changes: pair.out,
    }
}

fn regulation_fields(p: &mut Pair<'_>) {
    let (a, b) = (&p.old.regulation, &p.new.regulation);
    if a.id != b.id {
        p.push(
            What::IdChanged {
                from: a.id.clone(),
                to: b.id.clone(),
            },
            Some("/id"),
            Some("/id"),
        );
    }
    if a.version != b.version {
        p.push(
            What::VersionChanged {
                from: a.version,
                to: b.version,
            },
            Some("/version"),
            Some("/version"),
        );
    }
    if a.title != b.title {
        p.push(
            What::TitleChanged {
                from: a.title.clone(),
                to: b.title.clone(),
            },
            Some("/title"),
            Some("/title"),
        );
    }
    let source = [
        ("act", Some(&a.source.act), Some(&b.source.act)),
        (
            "appendix",
            a.source.appendix.as_ref(),
            b.source.appendix.as_ref(),
        ),
        ("url", a.source.url.as_ref(), b.source.url.as_ref()),
        (
            "standard",
            a.source.standard.as_ref(),
            b.source.standard.as_ref(),
        ),
    ];
    for (field, from, to) in source {
        if from != to {
            let at = format!("/source/{field}");
            p.push(
                What::SourceChanged {
                    field: field.to_string(),
                    from: from.cloned(),
                    to: to.cloned(),
                },
                Some(&at),
                Some(&at),
            );
        }
    }
    let dates = [
        ("valid_from", Some(a.valid_from), Some(b.valid_from)),
        ("in_force_from", a.in_force_from, b.in_force_from),
        ("valid_to", a.valid_to, b.valid_to),
    ];
    for (field, from, to) in dates {
        if from != to {
            let at = format!("/{field}");
            p.push(
                What::DateChanged {
                    field: field.to_string(),
                    from,
                    to,
                },
                Some(&at),
                Some(&at),
            );
        }
    }
    if a.repealed != b.repealed {
        p.push(
            What::RepealChanged {
                from: a.repealed.clone(),
                to: b.repealed.clone(),
            },
            Some("/repealed"),
            Some("/repealed"),
        );
    }
    if a.calendar != b.calendar {
        p.push(
            What::CalendarChanged {
                from: a.calendar.clone(),
                to: b.calendar.clone(),
            },
            Some("/calendar"),
            Some("/calendar"),
        );
    }
    if a.region != b.region {
        p.push(
            What::RegionChanged {
                from: a.region.clone(),
                to: b.region.clone(),
            },
            Some("/region"),
            Some("/region"),
        );
    }
    if a.warnings != b.warnings {
        p.push(
            What::WarningsChanged {
                from: a.warnings.clone(),
                to: b.warnings.clone(),
            },
            Some("/warnings"),
            Some("/warnings"),
        );
    }
}

fn roles(p: &mut Pair<'_>) {
    let (a, b) = (&p.old.regulation.roles, &p.new.regulation.roles);
    for (j, r) in b.iter().enumerate() {
        let at_new = |f: &str| format!("/roles/{j}/{f}");
        let Some((i, o)) = a.iter().enumerate().find(|(_, o)| o.id == r.id) else {
            p.push(
                What::RoleAdded {
                    role: r.id.clone(),
                    kind: r.kind,
                    office: r.office,
                },
                None,
                Some(&at_new("id")),
            );
            continue;
        };
        let at_old = |f: &str| format!("/roles/{i}/{f}");
        if o.kind != r.kind {
            p.push(
                What::RoleKindChanged {
                    role: r.id.clone(),
                    from: o.kind,
                    to: r.kind,
                },
                Some(&at_old("kind")),
                Some(&at_new("kind")),
            );
        }
        if o.office != r.office {
            p.push(
                What::RoleOfficeChanged {
                    role: r.id.clone(),
                    from: o.office,
                    to: r.office,
                },
                Some(&at_old("office")),
                Some(&at_new("office")),
            );
        }
        if o.name != r.name {
            p.push(
                What::RoleNameChanged {
                    role: r.id.clone(),
                    from: o.name.clone(),
                    to: r.name.clone(),
                },
                Some(&at_old("name")),
                Some(&at_new("name")),
            );
        }
    }
    for (i, o) in a.iter().enumerate() {
        if !b.iter().any(|r| r.id == o.id) {
            p.push(
                What::RoleRemoved {
                    role: o.id.clone(),
                    kind: o.kind,
                    office: o.office,
                },
                Some(&format!("/roles/{i}/id")),
                None,
            );
        }
    }
}

fn channels(p: &mut Pair<'_>) {
    let (a, b) = (&p.old.regulation.channels, &p.new.regulation.channels);
    for (j, c) in b.iter().enumerate() {
        let at_new = |f: &str| format!("/channels/{j}/{f}");
        let Some((i, o)) = a.iter().enumerate().find(|(_, o)| o.id == c.id) else {
            p.push(
                What::ChannelAdded {
                    channel: c.id.clone(),
                    kind: c.kind,
                },
                None,
                Some(&at_new("id")),
            );
            continue;
        };
        let at_old = |f: &str| format!("/channels/{i}/{f}");
        if o.kind != c.kind {
            p.push(
                What::ChannelKindChanged {
                    channel: c.id.clone(),
                    from: o.kind,
                    to: c.kind,
                },
                Some(&at_old("kind")),
                Some(&at_new("kind")),
            );
        }
        if o.name != c.name {
            p.push(
                What::ChannelNameChanged {
                    channel: c.id.clone(),
                    from: o.name.clone(),
                    to: c.name.clone(),
                },
                Some(&at_old("name")),
                Some(&at_new("name")),
            );
        }
        if p.now_called(&o.start) != c.start {
            p.push(
                What::ChannelStartChanged {
                    channel: c.id.clone(),
                    from: o.start.clone(),
                    to: c.start.clone(),
                },
                Some(&at_old("start")),
                Some(&at_new("start")),
            );
        }
        for (field, extended, from, to) in [
            ("term", false, &o.term, &c.term),
            ("extended_term", true, &o.extended_term, &c.extended_term),
        ] {
            let (d0, d1) = (
                from.as_ref().map(|t| t.duration),
                to.as_ref().map(|t| t.duration),
            );
            let (t0, t1) = (
                from.as_ref().map(|t| t.text.clone()),
                to.as_ref().map(|t| t.text.clone()),
            );
            if d0 != d1 || t0 != t1 {
                let sub = if d0 != d1 { "/duration" } else { "/text" };
                p.push(
                    What::StatutoryTermChanged {
                        channel: c.id.clone(),
                        extended,
                        from: d0,
                        to: d1,
                        from_text: t0,
                        to_text: t1,
                    },
                    Some(&format!("{}{sub}", at_old(field))),
                    Some(&format!("{}{sub}", at_new(field))),
                );
            }
        }
        if o.counting != c.counting {
            p.push(
                What::CountingChanged {
                    channel: c.id.clone(),
                    receipt_and_issue_days_excluded: c.counting.receipt_and_issue_days_excluded,
                },
                Some(&at_old("counting")),
                Some(&at_new("counting")),
            );
        }
    }
    for (i, o) in a.iter().enumerate() {
        if !b.iter().any(|c| c.id == o.id) {
            p.push(
                What::ChannelRemoved {
                    channel: o.id.clone(),
                    kind: o.kind,
                },
                Some(&format!("/channels/{i}/id")),
                None,
            );
        }
    }
}
