//! Steps: which step of the old version is which of the new one, and what changed in each.
//!
//! Steps with the same id are the same step. Of the rest, an old step and a new one are the
//! same step renamed when they have the same kind and role and the same place in the graph:
//! the same predecessors and successors (a channel that starts at a step counts as one of its
//! predecessors). Neighbours that are themselves renamed are matched in later rounds, so a
//! run of renamed steps is found from its ends inwards; a step that fits more than one
//! candidate is not guessed at, it is reported removed and added.

use std::collections::{BTreeMap, BTreeSet};

use crate::compile::successors;
use crate::duration::Term;
use crate::model::{Outcome, Regulation, Step, Suspension};

use super::{Pair, What, forms};

/// Steps renamed from the old version to the new: old id → new id.
pub fn renames(old: &Regulation, new: &Regulation) -> BTreeMap<String, String> {
    let old_ids: BTreeSet<&str> = old.steps.iter().map(Step::id).collect();
    let new_ids: BTreeSet<&str> = new.steps.iter().map(Step::id).collect();
    let (old_n, new_n) = (neighbours(old), neighbours(new));
    // What each old node is called in the new version, as far as known.
    let mut known: BTreeMap<String, String> = old_ids
        .intersection(&new_ids)
        .map(|s| (s.to_string(), s.to_string()))
        .collect();
    for c in &old.channels {
        if new.channels.iter().any(|n| n.id == c.id) {
            let node = format!("channel:{}", c.id);
            known.insert(node.clone(), node);
        }
    }
    let gone: Vec<&Step> = old
        .steps
        .iter()
        .filter(|s| !new_ids.contains(s.id()))
        .collect();
    let came: Vec<&Step> = new
        .steps
        .iter()
        .filter(|s| !old_ids.contains(s.id()))
        .collect();
    let mut renames = BTreeMap::new();
    loop {
        let image: BTreeSet<&str> = known.values().map(String::as_str).collect();
        let fits = |r: &Step, a: &Step| {
            r.kind_name() == a.kind_name()
                && r.role() == a.role()
                && same_place(
                    &old_n[r.id()],
                    &new_n[a.id()],
                    r.id(),
                    a.id(),
                    &known,
                    &image,
                )
        };
        let mut found = Vec::new();
        for r in gone.iter().filter(|r| !renames.contains_key(r.id())) {
            let open = |a: &&&Step| !image.contains(a.id());
            let cands: Vec<&&Step> = came.iter().filter(open).filter(|a| fits(r, a)).collect();
            if let [a] = cands.as_slice() {
                let rivals = gone
                    .iter()
                    .filter(|o| !renames.contains_key(o.id()) && fits(o, a))
                    .count();
                if rivals == 1 {
                    found.push((r.id().to_string(), a.id().to_string()));
                }
            }
        }
        if found.is_empty() {
            break;
        }
        for (r, a) in found {
            // Two old steps may have settled on the same new one in one round; the first wins.
            if known.values().any(|v| *v == a) {
                continue;
            }
            known.insert(r.clone(), a.clone());
            renames.insert(r, a);
        }
    }
    renames
}

/// A step's predecessors and successors (ids, and `channel:ID` for a channel's start).
#[derive(Default)]
struct Around {
    before: BTreeSet<String>,
    after: BTreeSet<String>,
}

fn neighbours(r: &Regulation) -> BTreeMap<String, Around> {
    let mut out: BTreeMap<String, Around> = r
        .steps
        .iter()
        .map(|s| (s.id().to_string(), Around::default()))
        .collect();
    for s in &r.steps {
        for (_, to) in successors(s) {
            if let Some(n) = out.get_mut(s.id()) {
                n.after.insert(to.to_string());
            }
            if let Some(n) = out.get_mut(to) {
                n.before.insert(s.id().to_string());
            }
        }
    }
    for c in &r.channels {
        if let Some(n) = out.get_mut(&c.start) {
            n.before.insert(format!("channel:{}", c.id));
        }
    }
    out
}

/// Whether an old step's neighbours are the new step's: the known ones the same (translated
/// to the new version's names), as many unknown ones on each side, and at least one known.
fn same_place(
    old: &Around,
    new: &Around,
    old_id: &str,
    new_id: &str,
    known: &BTreeMap<String, String>,
    image: &BTreeSet<&str>,
) -> bool {
    let side = |set: &BTreeSet<String>, own: &str, old_side: bool| {
        let mut k = BTreeSet::new();
        let mut unknown = 0usize;
        for n in set {
            if n == own {
                k.insert("\u{0}self".to_string());
            } else if old_side {
                match known.get(n) {
                    Some(t) => {
                        k.insert(t.clone());
                    }
                    None => unknown += 1,
                }
            } else if image.contains(n.as_str()) {
                k.insert(n.clone());
            } else {
                unknown += 1;
            }
        }
        (k, unknown)
    };
    let (ob, obu) = side(&old.before, old_id, true);
    let (oa, oau) = side(&old.after, old_id, true);
    let (nb, nbu) = side(&new.before, new_id, false);
    let (na, nau) = side(&new.after, new_id, false);
    ob == nb && oa == na && obu == nbu && oau == nau && !(ob.is_empty() && oa.is_empty())
}

/// Compares every step: the new version's in order, then the removed ones.
pub fn compare(p: &mut Pair<'_>) {
    let (old, new) = (&p.old.regulation, &p.new.regulation);
    let back: BTreeMap<String, String> = p
        .renames
        .iter()
        .map(|(o, n)| (n.clone(), o.clone()))
        .collect();
    for (j, b) in new.steps.iter().enumerate() {
        let old_id = back.get(b.id()).map_or(b.id(), String::as_str);
        match old.steps.iter().enumerate().find(|(_, s)| s.id() == old_id) {
            Some((i, a)) => {
                if old_id != b.id() {
                    p.push(
                        What::StepRenamed {
                            from: old_id.to_string(),
                            to: b.id().to_string(),
                        },
                        Some(&format!("/steps/{i}/id")),
                        Some(&format!("/steps/{j}/id")),
                    );
                }
                one(p, a, b, i, j);
            }
            None => p.push(
                What::StepAdded {
                    step: b.id().to_string(),
                    kind: b.kind_name().to_string(),
                    role: b.role().map(str::to_string),
                },
                None,
                Some(&format!("/steps/{j}/id")),
            ),
        }
    }
    for (i, a) in old.steps.iter().enumerate() {
        if !new.steps.iter().any(|s| s.id() == a.id()) && !p.renames.contains_key(a.id()) {
            p.push(
                What::StepRemoved {
                    step: a.id().to_string(),
                    kind: a.kind_name().to_string(),
                    role: a.role().map(str::to_string),
                },
                Some(&format!("/steps/{i}/id")),
                None,
            );
        }
    }
}

/// The parts of a step that differ between kinds, read uniformly so a step whose kind
/// changed is still compared part by part.
struct Parts<'s> {
    duration: Option<Term>,
    durations: Option<&'s BTreeMap<String, Term>>,
    outcomes: &'s [Outcome],
    next: Option<&'s str>,
    suspensions: &'s [Suspension],
    form: Option<&'s serde_json::Value>,
    produces: Option<&'s crate::text::Text>,
    integration: Option<&'s str>,
    escalation: Vec<String>,
    at: Vec<String>,
}

fn parts(s: &Step) -> Parts<'_> {
    let escalation = |e: &[crate::model::Escalation]| -> Vec<String> {
        e.iter()
            .map(|e| {
                let action = match e.action {
                    crate::model::EscalationAction::Notify => "notify",
                    crate::model::EscalationAction::Reassign => "reassign",
                };
                match e.after {
                    Some(t) => format!("{action} {} after {t}", e.role),
                    None => format!("{action} {}", e.role),
                }
            })
            .collect()
    };
    let mut p = Parts {
        duration: None,
        durations: None,
        outcomes: &[],
        next: None,
        suspensions: &[],
        form: None,
        produces: None,
        integration: None,
        escalation: Vec::new(),
        at: Vec::new(),
    };
    match s {
        Step::Task(t) => {
            p.duration = t.duration;
            p.durations = Some(&t.durations);
            p.outcomes = &t.outcomes;
            p.next = t.next.as_deref();
            p.suspensions = &t.suspensions;
            p.form = t.form.as_ref().map(|f| &f.0);
            p.produces = t.produces.as_ref();
            p.escalation = escalation(&t.escalation);
        }
        Step::System(t) => {
            p.duration = t.duration;
            p.durations = Some(&t.durations);
            p.outcomes = &t.outcomes;
            p.next = t.next.as_deref();
            p.integration = Some(&t.integration);
            p.escalation = escalation(&t.escalation);
        }
        Step::Dispatch(d) => {
            p.duration = d.duration;
            p.next = Some(&d.next);
            p.at = d.at.iter().map(|t| String::from(*t)).collect();
        }
        Step::Join(j) => p.next = Some(&j.next),
        Step::Exclusive(_) | Step::Parallel(_) | Step::End(_) => {}
    }
    p
}

/// The time a step has on a channel: the channel's own duration, else the step's.
fn effective(p: &Parts<'_>, channel: &str) -> Option<Term> {
    p.durations
        .and_then(|d| d.get(channel).copied())
        .or(p.duration)
}

fn one(p: &mut Pair<'_>, a: &Step, b: &Step, i: usize, j: usize) {
    let id = b.id().to_string();
    let o = |f: &str| format!("/steps/{i}{f}");
    let n = |f: &str| format!("/steps/{j}{f}");
    if a.kind_name() != b.kind_name() {
        p.push(
            What::StepKindChanged {
                step: id.clone(),
                from: a.kind_name().to_string(),
                to: b.kind_name().to_string(),
            },
            Some(&o("/kind")),
            Some(&n("/kind")),
        );
    }
    if a.role() != b.role() {
        p.push(
            What::StepMoved {
                step: id.clone(),
                from_role: a.role().map(str::to_string),
                to_role: b.role().map(str::to_string),
            },
            Some(&o("/role")),
            Some(&n("/role")),
        );
    }
    if a.name() != b.name() {
        p.push(
            What::StepNameChanged {
                step: id.clone(),
                from: a.name().cloned(),
                to: b.name().cloned(),
            },
            Some(&o("/name")),
            Some(&n("/name")),
        );
    }
    let (pa, pb) = (parts(a), parts(b));
    durations(p, &id, &pa, &pb, &o, &n);
    if pa.at != pb.at {
        p.push(
            What::DispatchTimesChanged {
                step: id.clone(),
                from: pa.at.clone(),
                to: pb.at.clone(),
            },
            Some(&o("/at")),
            Some(&n("/at")),
        );
    }
    if pa.integration != pb.integration {
        p.push(
            What::IntegrationChanged {
                step: id.clone(),
                from: pa.integration.map(str::to_string),
                to: pb.integration.map(str::to_string),
            },
            Some(&o("/integration")),
            Some(&n("/integration")),
        );
    }
    if pa.produces != pb.produces {
        p.push(
            What::ProducesChanged {
                step: id.clone(),
                from: pa.produces.cloned(),
                to: pb.produces.cloned(),
            },
            Some(&o("/produces")),
            Some(&n("/produces")),
        );
    }
    if pa.next.map(|x| p.now_called(x)) != pb.next {
        p.push(
            What::NextChanged {
                step: id.clone(),
                from: pa.next.map(str::to_string),
                to: pb.next.map(str::to_string),
            },
            Some(&o("/next")),
            Some(&n("/next")),
        );
    }
    outcomes(p, &id, pa.outcomes, pb.outcomes, &o, &n);
    match (a, b) {
        (Step::Exclusive(x), Step::Exclusive(y)) => {
            branches(p, &id, &x.branches, &y.branches, &o, &n);
            let from = x.default.as_deref().map(|d| p.now_called(d).to_string());
            if from.as_deref() != y.default.as_deref() {
                p.push(
                    What::DefaultChanged {
                        step: id.clone(),
                        from: x.default.clone(),
                        to: y.default.clone(),
                    },
                    Some(&o("/default")),
                    Some(&n("/default")),
                );
            }
        }
        (Step::Parallel(x), Step::Parallel(y)) => {
            let from: Vec<&str> = x.branches.iter().map(|s| p.now_called(s)).collect();
            if from != y.branches.iter().map(String::as_str).collect::<Vec<_>>() {
                p.push(
                    What::ParallelBranchesChanged {
                        step: id.clone(),
                        from: x.branches.clone(),
                        to: y.branches.clone(),
                    },
                    Some(&o("/branches")),
                    Some(&n("/branches")),
                );
            }
        }
        _ => {}
    }
    let result = |s: &Step| match s {
        Step::End(e) => Some(e.result),
        _ => None,
    };
    if result(a) != result(b) {
        p.push(
            What::EndResultChanged {
                step: id.clone(),
                from: result(a),
                to: result(b),
            },
            Some(&o("/result")),
            Some(&n("/result")),
        );
    }
    if pa.escalation != pb.escalation {
        p.push(
            What::EscalationChanged {
                step: id.clone(),
                from: pa.escalation.clone(),
                to: pb.escalation.clone(),
            },
            Some(&o("/escalation")),
            Some(&n("/escalation")),
        );
    }
    suspensions(p, &id, pa.suspensions, pb.suspensions, &o, &n);
    forms::compare(p, Some(&id), pa.form, pb.form, &o("/form"), &n("/form"));
}

/// Durations compared per channel of both versions, channels with the same change grouped.
fn durations(
    p: &mut Pair<'_>,
    id: &str,
    a: &Parts<'_>,
    b: &Parts<'_>,
    o: &dyn Fn(&str) -> String,
    n: &dyn Fn(&str) -> String,
) {
    let old_channels = &p.old.regulation.channels;
    // (before, after) and the channels with that change.
    type Group = ((Option<Term>, Option<Term>), Vec<String>);
    let mut groups: Vec<Group> = Vec::new();
    for c in &p.new.regulation.channels {
        if !old_channels.iter().any(|x| x.id == c.id) {
            continue;
        }
        let change = (effective(a, &c.id), effective(b, &c.id));
        if change.0 == change.1 {
            continue;
        }
        match groups.iter_mut().find(|(k, _)| *k == change) {
            Some((_, v)) => v.push(c.id.clone()),
            None => groups.push((change, vec![c.id.clone()])),
        }
    }
    for ((from, to), channels) in groups {
        // The line that says it: the channel's own duration where the step has one.
        let at = |parts: &Parts<'_>, f: &dyn Fn(&str) -> String| {
            let own = parts
                .durations
                .is_some_and(|d| d.contains_key(&channels[0]));
            if own {
                f(&format!(
                    "/durations/{}",
                    crate::yaml::escape_token(&channels[0])
                ))
            } else if parts.duration.is_some() {
                f("/duration")
            } else {
                f("/id")
            }
        };
        let (old_at, new_at) = (at(a, o), at(b, n));
        p.push(
            What::DurationChanged {
                step: id.to_string(),
                channels,
                from,
                to,
            },
            Some(&old_at),
            Some(&new_at),
        );
    }
}

fn outcomes(
    p: &mut Pair<'_>,
    id: &str,
    a: &[Outcome],
    b: &[Outcome],
    o: &dyn Fn(&str) -> String,
    n: &dyn Fn(&str) -> String,
) {
    for (j, y) in b.iter().enumerate() {
        let new_at = |f: &str| n(&format!("/outcomes/{j}/{f}"));
        match a.iter().enumerate().find(|(_, x)| x.id == y.id) {
            None => p.push(
                What::OutcomeAdded {
                    step: id.to_string(),
                    outcome: y.id.clone(),
                    next: y.next.clone(),
                },
                Some(&o("/outcomes")),
                Some(&new_at("id")),
            ),
            Some((i, x)) => {
                let old_at = |f: &str| o(&format!("/outcomes/{i}/{f}"));
                if p.now_called(&x.next) != y.next {
                    p.push(
                        What::OutcomeNextChanged {
                            step: id.to_string(),
                            outcome: y.id.clone(),
                            from: x.next.clone(),
                            to: y.next.clone(),
                        },
                        Some(&old_at("next")),
                        Some(&new_at("next")),
                    );
                }
                if x.requires_reason != y.requires_reason {
                    p.push(
                        What::OutcomeReasonChanged {
                            step: id.to_string(),
                            outcome: y.id.clone(),
                            requires_reason: y.requires_reason,
                        },
                        Some(&old_at("requires_reason")),
                        Some(&new_at("requires_reason")),
                    );
                }
            }
        }
    }
    for (i, x) in a.iter().enumerate() {
        if !b.iter().any(|y| y.id == x.id) {
            p.push(
                What::OutcomeRemoved {
                    step: id.to_string(),
                    outcome: x.id.clone(),
                    next: x.next.clone(),
                },
                Some(&o(&format!("/outcomes/{i}/id"))),
                Some(&n("/id")),
            );
        }
    }
}

/// Branches of a choice: a branch is the same branch when it leads to the same step (its
/// condition may have changed), else when it has the same condition (its target changed).
fn branches(
    p: &mut Pair<'_>,
    id: &str,
    a: &[crate::model::Branch],
    b: &[crate::model::Branch],
    o: &dyn Fn(&str) -> String,
    n: &dyn Fn(&str) -> String,
) {
    let mut pair_of: Vec<Option<usize>> = vec![None; b.len()];
    let mut used = vec![false; a.len()];
    for (j, y) in b.iter().enumerate() {
        if let Some(i) = (0..a.len()).find(|&i| !used[i] && p.now_called(&a[i].next) == y.next) {
            pair_of[j] = Some(i);
            used[i] = true;
        }
    }
    for (j, y) in b.iter().enumerate() {
        if pair_of[j].is_none()
            && let Some(i) = (0..a.len()).find(|&i| !used[i] && a[i].when == y.when)
        {
            pair_of[j] = Some(i);
            used[i] = true;
        }
    }
    for (j, y) in b.iter().enumerate() {
        let new_at = |f: &str| n(&format!("/branches/{j}/{f}"));
        match pair_of[j] {
            None => p.push(
                What::BranchAdded {
                    step: id.to_string(),
                    when: y.when.clone(),
                    next: y.next.clone(),
                },
                Some(&o("/branches")),
                Some(&new_at("when")),
            ),
            Some(i) => {
                let x = &a[i];
                let old_at = |f: &str| o(&format!("/branches/{i}/{f}"));
                if x.when != y.when {
                    p.push(
                        What::BranchConditionChanged {
                            step: id.to_string(),
                            next: y.next.clone(),
                            from: x.when.clone(),
                            to: y.when.clone(),
                        },
                        Some(&old_at("when")),
                        Some(&new_at("when")),
                    );
                }
                if p.now_called(&x.next) != y.next {
                    p.push(
                        What::BranchTargetChanged {
                            step: id.to_string(),
                            when: y.when.clone(),
                            from: x.next.clone(),
                            to: y.next.clone(),
                        },
                        Some(&old_at("next")),
                        Some(&new_at("next")),
                    );
                }
            }
        }
    }
    for (i, x) in a.iter().enumerate() {
        if !used[i] {
            p.push(
                What::BranchRemoved {
                    step: id.to_string(),
                    when: x.when.clone(),
                    next: x.next.clone(),
                },
                Some(&o(&format!("/branches/{i}/when"))),
                Some(&n("/branches")),
            );
        }
    }
    // The first condition that holds is taken, so the order of the kept branches matters.
    let kept: Vec<usize> = pair_of.iter().flatten().copied().collect();
    if kept.windows(2).any(|w| w[0] > w[1]) {
        p.push(
            What::BranchOrderChanged {
                step: id.to_string(),
                from: a.iter().map(|x| x.next.clone()).collect(),
                to: b.iter().map(|y| y.next.clone()).collect(),
            },
            Some(&o("/branches")),
            Some(&n("/branches")),
        );
    }
}

fn suspensions(
    p: &mut Pair<'_>,
    id: &str,
    a: &[Suspension],
    b: &[Suspension],
    o: &dyn Fn(&str) -> String,
    n: &dyn Fn(&str) -> String,
) {
    for (j, y) in b.iter().enumerate() {
        let new_at = n(&format!("/suspensions/{j}/reason"));
        match a.iter().enumerate().find(|(_, x)| x.reason == y.reason) {
            None => p.push(
                What::SuspensionAdded {
                    step: id.to_string(),
                    reason: y.reason.clone(),
                    stops_case_term: y.stops_case_term,
                },
                Some(&o("/suspensions")),
                Some(&new_at),
            ),
            Some((i, x)) if x.stops_case_term != y.stops_case_term => p.push(
                What::SuspensionChanged {
                    step: id.to_string(),
                    reason: y.reason.clone(),
                    stops_case_term: y.stops_case_term,
                },
                Some(&o(&format!("/suspensions/{i}/stops_case_term"))),
                Some(&n(&format!("/suspensions/{j}/stops_case_term"))),
            ),
            Some(_) => {}
        }
    }
    for (i, x) in a.iter().enumerate() {
        if !b.iter().any(|y| y.reason == x.reason) {
            p.push(
                What::SuspensionRemoved {
                    step: id.to_string(),
                    reason: x.reason.clone(),
                },
                Some(&o(&format!("/suspensions/{i}/reason"))),
                Some(&n("/suspensions")),
            );
        }
    }
}
