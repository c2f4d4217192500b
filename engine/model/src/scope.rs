//! Which steps' outcomes a branch condition can see: `outcomes.review` is set only once step
//! `review` has ended, and reading it before fails the condition at run time. For an
//! exclusive choice and a step this says whether the step has ended on every way a case can
//! reach the choice, on some, or on none.
//!
//! Each channel is taken on its own, with the choices on the channel decided (as in
//! [`crate::paths`]): a case on the portal never sees the steps of the office's branch.
//! - *Ended on every way* is a forward data-flow over the channel's graph: what has ended
//!   before a step is what has ended before every step that leads to it, and a join, which
//!   waits for all the paths of its split, adds up what each of those paths has ended.
//! - *Ended on some way* holds for a step that leads, on the channel, to the choice (loops
//!   included: a rework loop brings the case back with the outcome set), and for a step on
//!   another path of a parallel split than the choice, which may end first.
//!
//! Choices on data or on outcomes keep all their branches, so a step counts as ended on
//! every way only when the graph alone guarantees it.

use crate::compile::Process;
use crate::model::Step;
use crate::paths::channel_successors;

/// Whether a step's outcome is recorded when a choice's conditions are evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// On every way a case can reach the choice (or the choice cannot be reached at all,
    /// which the graph checks report).
    Always,
    /// On some ways but not all: reading it needs `has()` first.
    Sometimes,
    /// On no way: the step never ends before the choice, or it records no outcome.
    Never,
}

/// Whether a step ends with a named outcome (a task or system step with `outcomes`).
pub fn records_outcome(step: &Step) -> bool {
    match step {
        Step::Task(t) => !t.outcomes.is_empty(),
        Step::System(s) => !s.outcomes.is_empty(),
        _ => false,
    }
}

/// The outcome scope of a process, computed channel by channel on first use.
pub struct OutcomeScope<'p> {
    p: &'p Process,
    channels: Option<Vec<ChannelScope>>,
}

impl<'p> OutcomeScope<'p> {
    pub fn new(p: &'p Process) -> Self {
        OutcomeScope { p, channels: None }
    }

    /// Whether `step`'s outcome is recorded when the choice `choice` is evaluated.
    pub fn at(&mut self, choice: usize, step: usize) -> Recorded {
        if !records_outcome(self.p.step(step)) {
            return Recorded::Never;
        }
        let p = self.p;
        let channels = self.channels.get_or_insert_with(|| {
            p.regulation
                .channels
                .iter()
                .filter_map(|c| ChannelScope::new(p, &c.id))
                .collect()
        });
        let (mut reached, mut every, mut some) = (false, true, false);
        for c in channels.iter_mut() {
            if !c.reach[choice] {
                continue;
            }
            reached = true;
            let always = c.ended_on_every_way(choice, step);
            every &= always;
            some |= always || c.ended_on_some_way(choice, step);
        }
        match (reached, every, some) {
            (false, _, _) | (true, true, _) => Recorded::Always,
            (true, false, true) => Recorded::Sometimes,
            (true, false, false) => Recorded::Never,
        }
    }
}

/// A set of steps that record outcomes, as bits.
#[derive(Clone, PartialEq, Eq)]
struct Bits(Vec<u64>);

impl Bits {
    fn empty(n: usize) -> Bits {
        Bits(vec![0; n.div_ceil(64)])
    }
    fn full(n: usize) -> Bits {
        Bits(vec![u64::MAX; n.div_ceil(64)])
    }
    fn set(&mut self, i: usize) {
        self.0[i / 64] |= 1 << (i % 64);
    }
    fn get(&self, i: usize) -> bool {
        self.0[i / 64] & (1 << (i % 64)) != 0
    }
    fn and(&mut self, other: &Bits) {
        self.0.iter_mut().zip(&other.0).for_each(|(a, b)| *a &= b);
    }
    fn or(&mut self, other: &Bits) {
        self.0.iter_mut().zip(&other.0).for_each(|(a, b)| *a |= b);
    }
}

/// One channel's graph with its choices on the channel decided.
struct ChannelScope {
    succ: Vec<Vec<usize>>,
    reach: Vec<bool>,
    /// Bit index of each step that records an outcome.
    bit: Vec<Option<usize>>,
    /// The outcomes recorded on every way into each step (valid for reachable steps).
    ended_before: Vec<Bits>,
    /// For each step, the parallel paths it lies on: (split, path index).
    on_paths: Vec<Vec<(usize, usize)>>,
    /// Steps reachable after each step has ended, computed when first asked.
    after: Vec<Option<Vec<bool>>>,
}

impl ChannelScope {
    fn new(p: &Process, channel: &str) -> Option<ChannelScope> {
        let start = p.channel(channel).and_then(|c| p.step_index(&c.start))?;
        let n = p.regulation.steps.len();
        let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut reach = vec![false; n];
        // Reverse post-order of a depth-first search, so the data-flow below settles in few
        // rounds; the search is iterative because regulations can be long chains.
        let mut post = Vec::with_capacity(n);
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        reach[start] = true;
        succ[start] = channel_successors(p, start, channel);
        while let Some((s, i)) = stack.last_mut() {
            let s = *s;
            if let Some(&t) = succ[s].get(*i) {
                *i += 1;
                if !reach[t] {
                    reach[t] = true;
                    succ[t] = channel_successors(p, t, channel);
                    stack.push((t, 0));
                }
            } else {
                post.push(s);
                stack.pop();
            }
        }
        let order: Vec<usize> = post.into_iter().rev().collect();
        let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &s in &order {
            for &t in &succ[s] {
                preds[t].push(s);
            }
        }

        let mut bit = vec![None; n];
        let mut bits = 0;
        for (i, step) in p.regulation.steps.iter().enumerate() {
            if records_outcome(step) {
                bit[i] = Some(bits);
                bits += 1;
            }
        }

        // The paths of each parallel split: what each reaches before its join.
        let mut on_paths: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
        // For each join, the paths that meet there: (split, path index).
        let mut meeting: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
        for &split in &order {
            if !matches!(p.step(split), Step::Parallel(_)) {
                continue;
            }
            let join = p.join_of(split);
            for (k, &first) in succ[split].iter().enumerate() {
                if let Some(j) = join {
                    meeting[j].push((split, k));
                }
                let mut seen = vec![false; n];
                let mut todo = vec![first];
                while let Some(s) = todo.pop() {
                    if Some(s) == join || seen[s] {
                        continue;
                    }
                    seen[s] = true;
                    on_paths[s].push((split, k));
                    todo.extend(succ[s].iter().copied());
                }
            }
        }

        let outcome_of = |s: usize, before: &Bits| {
            let mut out = before.clone();
            if let Some(b) = bit[s] {
                out.set(b);
            }
            out
        };
        let mut ended_before: Vec<Bits> = vec![Bits::full(bits); n];
        ended_before[start] = Bits::empty(bits);
        loop {
            let mut changed = false;
            for &s in &order {
                if s == start {
                    continue; // a case enters here with nothing ended, whatever loops back
                }
                let new = if meeting[s].is_empty() {
                    let mut acc = Bits::full(bits);
                    for &q in &preds[s] {
                        acc.and(&outcome_of(q, &ended_before[q]));
                    }
                    acc
                } else {
                    // A join fires once every path has arrived: what each path ended on every
                    // one of its ways in, all together; ways in from elsewhere are met too.
                    let mut union = Bits::empty(bits);
                    let mut grouped = vec![false; preds[s].len()];
                    for &(split, k) in &meeting[s] {
                        let mut path = None::<Bits>;
                        for (qi, &q) in preds[s].iter().enumerate() {
                            if on_paths[q].contains(&(split, k)) {
                                grouped[qi] = true;
                                let out = outcome_of(q, &ended_before[q]);
                                match &mut path {
                                    None => path = Some(out),
                                    Some(acc) => acc.and(&out),
                                }
                            }
                        }
                        if let Some(path) = path {
                            union.or(&path);
                        }
                    }
                    for (qi, &q) in preds[s].iter().enumerate() {
                        if !grouped[qi] {
                            union.and(&outcome_of(q, &ended_before[q]));
                        }
                    }
                    union
                };
                if new != ended_before[s] {
                    ended_before[s] = new;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        Some(ChannelScope {
            succ,
            reach,
            bit,
            ended_before,
            on_paths,
            after: vec![None; n],
        })
    }

    fn ended_on_every_way(&self, choice: usize, step: usize) -> bool {
        self.bit[step].is_some_and(|b| self.ended_before[choice].get(b))
    }

    fn ended_on_some_way(&mut self, choice: usize, step: usize) -> bool {
        if !self.reach[step] {
            return false;
        }
        let concurrent = self.on_paths[choice].iter().any(|&(split, k)| {
            self.on_paths[step]
                .iter()
                .any(|&(s2, k2)| s2 == split && k2 != k)
        });
        if concurrent {
            return true;
        }
        let succ = &self.succ;
        let after = self.after[step].get_or_insert_with(|| {
            let mut seen = vec![false; succ.len()];
            let mut todo: Vec<usize> = succ[step].clone();
            while let Some(s) = todo.pop() {
                if !seen[s] {
                    seen[s] = true;
                    todo.extend(succ[s].iter().copied());
                }
            }
            seen
        });
        after[choice]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate;

    /// A regulation with the given steps (YAML list items) and channels `office` (starting at
    /// `office_start`) and `portal` (starting at `portal_start`).
    fn process(office_start: &str, portal_start: &str, steps: &str) -> Process {
        let text = format!(
            "id: t
version: 1
valid_from: 2024-01-01
title: {{kk: Т, ru: Т}}
source: {{act: A}}
region: atyrau
roles:
  - {{id: executor, kind: person, name: {{kk: О, ru: И}}}}
channels:
  - {{id: office, kind: provider_office, start: {office_start}}}
  - {{id: portal, kind: egov_portal, start: {portal_start}}}
steps:
{steps}  - {{id: done, kind: end, name: {{kk: Б, ru: К}}, result: granted}}
"
        );
        let report = validate::check_str(&text, "t.yaml", None);
        assert!(
            report.diagnostics.iter().all(|d| !d.is_error()),
            "{:#?}",
            report.diagnostics
        );
        report.process.expect("compiles")
    }

    fn task(id: &str, outcomes: &[(&str, &str)], next: Option<&str>) -> String {
        let mut s = format!(
            "  - id: {id}\n    kind: task\n    name: {{kk: {id}, ru: {id}}}\n    role: executor\n"
        );
        if let Some(n) = next {
            s.push_str(&format!("    next: {n}\n"));
        }
        if !outcomes.is_empty() {
            s.push_str("    outcomes:\n");
            for (o, n) in outcomes {
                s.push_str(&format!("      - {{id: {o}, next: {n}}}\n"));
            }
        }
        s
    }

    fn choice(id: &str, when: &str, then: &str, default: &str) -> String {
        format!(
            "  - id: {id}\n    kind: exclusive\n    branches:\n      - {{when: '{when}', next: {then}}}\n    default: {default}\n"
        )
    }

    fn at(p: &Process, choice: &str, step: &str) -> Recorded {
        OutcomeScope::new(p).at(
            p.step_index(choice).expect("choice"),
            p.step_index(step).expect("step"),
        )
    }

    #[test]
    fn a_step_on_every_way_in_is_always_recorded_and_one_after_is_never() {
        let steps = [
            task("review", &[("grant", "route"), ("refuse", "route")], None),
            choice("route", "outcomes.review == \"grant\"", "sign", "done"),
            task("sign", &[("ok", "done")], None),
        ]
        .concat();
        let p = process("review", "review", &steps);
        assert_eq!(at(&p, "route", "review"), Recorded::Always);
        assert_eq!(at(&p, "route", "sign"), Recorded::Never);
    }

    #[test]
    fn a_step_on_one_branch_of_a_choice_is_sometimes_recorded() {
        let steps = [
            choice("first", "documents_missing", "check", "route"),
            task("check", &[("ok", "route")], None),
            choice("route", "true", "done", "done"),
        ]
        .concat();
        let p = process("first", "first", &steps);
        assert_eq!(at(&p, "route", "check"), Recorded::Sometimes);
    }

    #[test]
    fn each_channel_is_followed_with_its_own_choices_decided() {
        // The office goes through `check`, the portal around it: sometimes. When the portal
        // starts past the choice on the channel, `check` is still only on the office's way.
        let steps = [
            choice("by_channel", "channel == \"office\"", "check", "route"),
            task("check", &[("ok", "route")], None),
            choice("route", "true", "done", "done"),
        ]
        .concat();
        let p = process("by_channel", "by_channel", &steps);
        assert_eq!(at(&p, "route", "check"), Recorded::Sometimes);
        let steps = [
            choice("by_channel", "channel == \"office\"", "check", "route"),
            task("check", &[("ok", "route")], None),
            choice("route", "true", "done", "done"),
        ]
        .concat();
        let p = process("by_channel", "check", &steps);
        assert_eq!(at(&p, "route", "check"), Recorded::Always);
    }

    #[test]
    fn a_rework_loop_records_a_later_step_on_the_way_back() {
        let steps = [
            choice("route", "true", "review", "review"),
            task("review", &[("again", "route"), ("ok", "done")], None),
        ]
        .concat();
        let p = process("route", "route", &steps);
        assert_eq!(at(&p, "route", "review"), Recorded::Sometimes);
    }

    #[test]
    fn a_join_adds_up_what_every_path_of_its_split_ended() {
        let steps = [
            "  - {id: split, kind: parallel, branches: [left, right]}\n".to_string(),
            task("left", &[("ok", "meet")], None),
            task("right", &[("ok", "right_route")], None),
            choice("right_route", "true", "meet", "meet"),
            "  - {id: meet, kind: join, next: route}\n".to_string(),
            choice("route", "true", "done", "done"),
        ]
        .concat();
        let p = process("split", "split", &steps);
        assert_eq!(at(&p, "route", "left"), Recorded::Always);
        assert_eq!(at(&p, "route", "right"), Recorded::Always);
        // Inside the split, the other path's step may or may not have ended yet.
        assert_eq!(at(&p, "right_route", "left"), Recorded::Sometimes);
        assert_eq!(at(&p, "right_route", "right"), Recorded::Always);
    }

    #[test]
    fn a_step_without_outcomes_is_never_recorded() {
        let steps = [
            task("register", &[], Some("route")),
            choice("route", "true", "done", "done"),
        ]
        .concat();
        let p = process("register", "register", &steps);
        assert_eq!(at(&p, "route", "register"), Recorded::Never);
    }
}
