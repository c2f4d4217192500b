//! The linter: what the paper regulation gets wrong or leaves out. Each rule has a stable
//! code (`W1xx`) documented in `regulations/README.md`.

use std::collections::HashSet;

use petgraph::Direction;
use petgraph::visit::EdgeRef;

use crate::compile::Process;
use crate::diagnostic::{Code, Diagnostic};
use crate::load::Loaded;
use crate::model::{CaseResult, Outcome, Step};
use crate::paths::{self, DayLengths, format_minutes, step_minutes, term_day, term_minutes};
use crate::yaml::escape_token;

/// Runs every lint rule.
pub fn lint(p: &Process, loaded: &Loaded) -> Vec<Diagnostic> {
    lint_with(p, loaded, &DayLengths::default())
}

/// Runs every lint rule with the region's working-day lengths, per kind of office, for adding
/// days to minutes: each step on the day of the office where it is done.
pub fn lint_with(p: &Process, loaded: &Loaded, days: &DayLengths) -> Vec<Diagnostic> {
    let mut l = Linter {
        p,
        loaded,
        days: days.clone(),
        out: Vec::new(),
        results_from: None,
    };
    l.terms();
    l.unused_roles();
    l.step_rules();
    l.out
}

struct Linter<'a> {
    p: &'a Process,
    loaded: &'a Loaded,
    days: DayLengths,
    out: Vec<Diagnostic>,
    results_from: Option<Vec<u8>>,
}

impl Linter<'_> {
    fn push(&mut self, code: Code, pointer: &str, key: bool, message: String) -> &mut Diagnostic {
        let spans = &self.loaded.spans;
        let loc = if key {
            spans.key_at(pointer)
        } else {
            spans.value_at(pointer)
        };
        self.out
            .push(Diagnostic::new(&self.loaded.file, code, loc, message).with_pointer(pointer));
        self.out.last_mut().expect("just pushed")
    }

    fn describe_path(&self, path: &paths::Path, channel: &str) -> Vec<String> {
        let mut notes = vec![format!(
            "path: {}",
            path.steps
                .iter()
                .zip(&path.outcomes)
                .map(|(&s, outcome)| {
                    let id = match outcome {
                        Some(o) => format!("{}[{o}]", self.p.step(s).id()),
                        None => self.p.step(s).id().to_string(),
                    };
                    match self.p.duration(s, channel) {
                        Some(d) => format!("{id} ({d})"),
                        None => id,
                    }
                })
                .collect::<Vec<_>>()
                .join(" → ")
        )];
        let sources: Vec<String> = path
            .steps
            .iter()
            .filter_map(|&s| {
                let src = self.p.step(s).source()?;
                let mut parts = Vec::new();
                if let Some(a) = &src.appendix {
                    parts.push(format!("appendix {a}"));
                }
                if let Some(t) = &src.table {
                    parts.push(format!("table {t}"));
                }
                if let Some(a) = &src.action {
                    parts.push(format!("action {a}"));
                }
                if let Some(pg) = &src.paragraph {
                    parts.push(format!("paragraph {pg}"));
                }
                (!parts.is_empty())
                    .then(|| format!("{}: {}", self.p.step(s).id(), parts.join(", ")))
            })
            .collect();
        if !sources.is_empty() {
            notes.push(format!("from the paper: {}", sources.join("; ")));
        }
        notes
    }

    /// W100, W101, W107, W108: statutory terms against the paper's step durations.
    fn terms(&mut self) {
        let channels = self.p.regulation.channels.clone();
        for (c, channel) in channels.iter().enumerate() {
            let base = format!("/channels/{c}");
            let Some(term) = &channel.term else {
                self.push(
                    Code::W101,
                    &base,
                    false,
                    format!("channel `{}` has no statutory term", channel.id),
                )
                .help = Some("add `term: {text: <the paper's words>, duration: <e.g. 10 working days>}`; if the paper states none, say so in `notes`".into());
                continue;
            };
            let day = term_day(self.p, &channel.id, &self.days);
            let limit = term_minutes(term.duration, day);
            let Some(path) = paths::longest_path(self.p, &channel.id, &self.days) else {
                continue;
            };
            if path.minutes > limit {
                let mut notes = self.describe_path(&path, &channel.id);
                notes.push(format!(
                    "over by {}; {}",
                    format_minutes(path.minutes - limit, day),
                    self.day_note(&channel.id)
                ));
                let msg = format!(
                    "on channel `{}` the step durations along the longest path add up to {}, more than the statutory term of {} («{}»)",
                    channel.id,
                    format_minutes(path.minutes, day),
                    term.duration,
                    term.text
                );
                self.push(Code::W100, &format!("{base}/term/duration"), false, msg)
                    .notes = notes;
            }
            if let Some(ext) = &channel.extended_term {
                let ext_limit = term_minutes(ext.duration, day);
                if path.minutes > ext_limit {
                    let notes = self.describe_path(&path, &channel.id);
                    let msg = format!(
                        "on channel `{}` the longest path takes {}, more than even the extended term of {}",
                        channel.id,
                        format_minutes(path.minutes, day),
                        ext.duration
                    );
                    self.push(
                        Code::W107,
                        &format!("{base}/extended_term/duration"),
                        false,
                        msg,
                    )
                    .notes = notes;
                }
            }
            // W108: one step alone longer than the whole term.
            for s in paths::channel_steps(self.p, &channel.id) {
                let Some(d) = self.p.duration(s, &channel.id) else {
                    continue;
                };
                if step_minutes(self.p, s, &channel.id, &self.days) > limit {
                    let pointer = duration_pointer(self.p.step(s), s, &channel.id);
                    let msg = format!(
                        "step `{}` alone takes {d}, longer than channel `{}`'s whole term of {}",
                        self.p.step(s).id(),
                        channel.id,
                        term.duration
                    );
                    self.push(Code::W108, &pointer, false, msg);
                }
            }
        }
    }

    /// How days were counted on a channel, for the reader of a W100: the term's day and,
    /// where steps are done at offices keeping other hours, theirs.
    fn day_note(&self, channel: &str) -> String {
        let term = paths::channel_office(self.p, channel);
        let day = term_day(self.p, channel, &self.days);
        let mut others: Vec<String> = paths::channel_steps(self.p, channel)
            .into_iter()
            .filter_map(|s| paths::step_office(self.p, s, channel))
            .filter(|&k| Some(k) != term)
            .map(|k| {
                let m = paths::WorkingDay::minutes_at(&self.days, Some(k));
                format!("{} {m}", k.as_str())
            })
            .collect();
        others.sort();
        others.dedup();
        let at = term.map_or(String::new(), |k| format!(" (at a {})", k.as_str()));
        if others.is_empty() {
            format!("a working day{at} is counted as {day} working minutes")
        } else {
            format!(
                "a working day{at} is counted as {day} working minutes; steps done elsewhere count their hours as a share of their own office's day ({})",
                others.join(", ")
            )
        }
    }

    /// W102: a declared role that no step and no escalation uses.
    fn unused_roles(&mut self) {
        let mut used: HashSet<&str> = HashSet::new();
        for step in &self.p.regulation.steps {
            if let Some(r) = step.role() {
                used.insert(r);
            }
            let escalation = match step {
                Step::Task(t) => &t.escalation[..],
                Step::System(s) => &s.escalation[..],
                _ => &[],
            };
            used.extend(escalation.iter().map(|e| e.role.as_str()));
        }
        let roles = self.p.regulation.roles.clone();
        for (i, role) in roles.iter().enumerate() {
            if !used.contains(role.id.as_str()) {
                self.push(
                    Code::W102,
                    &format!("/roles/{i}/id"),
                    false,
                    format!("role `{}` is declared but no step uses it", role.id),
                );
            }
        }
    }

    /// W103, W104, W105, W106.
    fn step_rules(&mut self) {
        let steps = self.p.regulation.steps.clone();
        let channels: Vec<String> = self
            .p
            .regulation
            .channels
            .iter()
            .map(|c| c.id.clone())
            .collect();
        for (i, step) in steps.iter().enumerate() {
            let base = format!("/steps/{i}");
            match step {
                Step::Task(t) => {
                    let missing: Vec<&str> = channels
                        .iter()
                        .filter(|c| t.duration.is_none() && !t.durations.contains_key(*c))
                        .map(String::as_str)
                        .collect();
                    if !missing.is_empty() {
                        self.push(
                            Code::W103,
                            &format!("{base}/id"),
                            false,
                            format!(
                                "task `{}` has no duration (for {})",
                                t.id,
                                missing.join(", ")
                            ),
                        )
                        .help = Some(
                            "give the time the paper allows, e.g. `duration: 1 working day`".into(),
                        );
                    }
                    self.reasons(&base, &t.outcomes);
                }
                // A system step's failure carries the integration's own reason.
                Step::Exclusive(x) if x.default.is_none() && !self.channel_routing_complete(i) => {
                    self.push(
                        Code::W106,
                        &format!("{base}/id"),
                        false,
                        format!(
                            "exclusive choice `{}` has no `default`: if no condition holds the case stops here",
                            x.id
                        ),
                    );
                }
                _ => {}
            }
            let needs_source = matches!(step, Step::Task(_) | Step::System(_) | Step::Dispatch(_));
            if needs_source && step.source().is_none() {
                self.push(
                    Code::W105,
                    &format!("{base}/id"),
                    false,
                    format!("step `{}` does not say where in the paper it comes from", step.id()),
                )
                .help = Some("add `source: {appendix: .., table: .., action: ..}` or `source: {paragraph: ..}`".into());
            }
        }
    }

    /// W104: a decision after which every end is a refusal or a return must ask for a reason.
    fn reasons(&mut self, base: &str, outcomes: &[Outcome]) {
        const NEGATIVE: u8 = result_bit(CaseResult::Refused) | result_bit(CaseResult::Returned);
        for (j, o) in outcomes.iter().enumerate() {
            if o.requires_reason {
                continue;
            }
            let Some(target) = self.p.step_index(&o.next) else {
                continue;
            };
            let ends = self.results_from()[target];
            if ends != 0 && ends & !NEGATIVE == 0 {
                self.push(
                    Code::W104,
                    &format!("{base}/outcomes/{j}/id"),
                    false,
                    format!(
                        "outcome `{}` leads only to a refusal or a return but does not ask for a reason",
                        o.id
                    ),
                )
                .help = Some("add `requires_reason: true`: a refusal must be reasoned".into());
            }
        }
    }

    /// For every step, the results of the ends it can reach, as a set of [`result_bit`]s.
    /// Computed once, backwards from the ends: a search forward from every outcome would be
    /// quadratic in the length of the regulation.
    fn results_from(&mut self) -> &[u8] {
        let p = self.p;
        self.results_from.get_or_insert_with(|| {
            let steps = &p.regulation.steps;
            let mut results = vec![0u8; steps.len()];
            let mut stack = Vec::new();
            for (i, step) in steps.iter().enumerate() {
                if let Step::End(e) = step {
                    results[i] = result_bit(e.result);
                    stack.push(i);
                }
            }
            // A step is pushed again only when it gains a result, so at most four times.
            while let Some(s) = stack.pop() {
                for e in p.graph.edges_directed(p.node(s), Direction::Incoming) {
                    let from = p.graph[e.source()];
                    let merged = results[from] | results[s];
                    if merged != results[from] {
                        results[from] = merged;
                        stack.push(from);
                    }
                }
            }
            results
        })
    }

    /// An exclusive choice on the channel alone needs no default when every channel that can
    /// reach it is routed somewhere.
    fn channel_routing_complete(&self, step: usize) -> bool {
        let conditions = self.p.conditions(step);
        if conditions.is_empty() || !conditions.iter().all(|c| c.channel_only()) {
            return false;
        }
        self.p.regulation.channels.iter().all(|c| {
            let facts = crate::condition::Facts {
                channel: &c.id,
                ..Default::default()
            };
            conditions
                .iter()
                .any(|cond| cond.evaluate(&facts) == Ok(true))
        })
    }
}

const fn result_bit(result: CaseResult) -> u8 {
    match result {
        CaseResult::Granted => 1,
        CaseResult::Refused => 2,
        CaseResult::Returned => 4,
        CaseResult::Withdrawn => 8,
    }
}

fn duration_pointer(step: &Step, index: usize, channel: &str) -> String {
    let base = format!("/steps/{index}");
    let per_channel = match step {
        Step::Task(t) => t.durations.contains_key(channel),
        Step::System(s) => s.durations.contains_key(channel),
        _ => false,
    };
    if per_channel {
        format!("{base}/durations/{}", escape_token(channel))
    } else {
        format!("{base}/duration")
    }
}
