//! The paths a case can take through a regulation on one channel, and how long they take by
//! the paper. Exclusive choices that depend only on the channel are decided, so the paths of
//! the rural-akim channel do not wander into the provider-office branch.

use std::collections::BTreeMap;

use crate::compile::{Edge, Process};
use crate::condition::Facts;
use crate::duration::Term;
use crate::model::{ChannelKind, OfficeKind, Step};

/// The working day used to add days and minutes when a region's schedule is not at hand.
pub const DEFAULT_DAY_MINUTES: u32 = 8 * 60;

/// The length of a working day, for adding days to minutes: one length everywhere (`u32`,
/// minutes), or one per kind of office ([`DayLengths`]).
///
/// Offices of one case keep different hours (a North Kazakhstan department works 7 hours, the
/// akims who forward to it 8, a service centre 11), but a working day is one day wherever it is
/// spent. So a path's total is counted in the days of the office where the case's term runs
/// (the registering office), and a step done elsewhere counts its hours as the share of its
/// own office's day they are.
pub trait WorkingDay: Copy {
    /// Minutes in a working day at an office of `kind` (`None`: no office is known).
    fn minutes_at(self, kind: Option<OfficeKind>) -> u32;
}

impl WorkingDay for u32 {
    fn minutes_at(self, _: Option<OfficeKind>) -> u32 {
        self
    }
}

/// Working-day lengths of one region, per kind of office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayLengths {
    /// For a kind the region has no office of.
    pub default: u32,
    pub kinds: BTreeMap<OfficeKind, u32>,
}

impl Default for DayLengths {
    fn default() -> Self {
        DayLengths {
            default: DEFAULT_DAY_MINUTES,
            kinds: BTreeMap::new(),
        }
    }
}

impl WorkingDay for &DayLengths {
    fn minutes_at(self, kind: Option<OfficeKind>) -> u32 {
        kind.and_then(|k| self.kinds.get(&k).copied())
            .unwrap_or(self.default)
            .max(1)
    }
}

/// The kind of office where a channel's cases are registered, and so where their term runs.
/// A portal application is registered at the provider's office.
pub fn channel_office(p: &Process, channel: &str) -> Option<OfficeKind> {
    Some(match p.channel(channel)?.kind {
        ChannelKind::ProviderOffice | ChannelKind::EgovPortal => OfficeKind::ProviderOffice,
        ChannelKind::RuralAkim => OfficeKind::RuralAkim,
        ChannelKind::ServiceCentre => OfficeKind::ServiceCentre,
    })
}

/// The kind of office where a step of a case on `channel` is done: its role's office, else
/// the registering office.
pub fn step_office(p: &Process, step: usize, channel: &str) -> Option<OfficeKind> {
    p.step(step)
        .role()
        .and_then(|r| p.regulation.roles.iter().find(|x| x.id == r))
        .and_then(|r| r.office)
        .or_else(|| channel_office(p, channel))
}

/// The length of the working day that a channel's path totals and terms are counted in.
pub fn term_day(p: &Process, channel: &str, day: impl WorkingDay) -> u32 {
    day.minutes_at(channel_office(p, channel))
}

/// One path from a channel's start to an end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// Step indices, start first, the end last.
    pub steps: Vec<usize>,
    /// The outcome taken at each step (parallel to `steps`; `None` where there was no choice).
    pub outcomes: Vec<Option<String>>,
    /// Total of the steps' durations in working minutes of the channel's [`term_day`].
    pub minutes: u64,
}

/// The steps a case on `channel` may go to from `step`: channel-only conditions decided.
pub fn channel_successors(p: &Process, step: usize, channel: &str) -> Vec<usize> {
    successors_given(p, step, channel, None)
        .into_iter()
        .map(|(_, t)| t)
        .collect()
}

/// The ways on from `step` for a case on `channel` whose earlier outcomes are `outcomes` (if
/// known): conditions that depend only on the channel and those outcomes are decided; the
/// others keep every branch. Each way on carries the outcome it records, if any.
fn successors_given(
    p: &Process,
    step: usize,
    channel: &str,
    outcomes: Option<&BTreeMap<String, String>>,
) -> Vec<(Option<String>, usize)> {
    let next = p.next_steps(step);
    let Step::Exclusive(_) = p.step(step) else {
        return next
            .into_iter()
            .map(|(edge, t)| match edge {
                Edge::Outcome(o) => (Some(o.clone()), t),
                _ => (None, t),
            })
            .collect();
    };
    let conditions = p.conditions(step);
    let facts = Facts {
        channel,
        outcomes,
        ..Facts::default()
    };
    let decidable = |c: &crate::condition::Condition| {
        c.channel_only() || (outcomes.is_some() && c.uses_only(&["channel", "outcomes"]))
    };
    let mut out = Vec::new();
    for (edge, target) in next {
        match edge {
            Edge::Branch(i) => match conditions.get(*i) {
                Some(c) if decidable(c) => match c.evaluate(&facts) {
                    Ok(true) => {
                        out.push((None, target));
                        return out;
                    }
                    Ok(false) => {}
                    // An outcome not taken on this path: the branch cannot be decided.
                    Err(_) => out.push((None, target)),
                },
                _ => out.push((None, target)),
            },
            _ => out.push((None, target)),
        }
    }
    out
}

/// The working minutes a step takes on a channel by the paper (0 when it names none), in
/// minutes of the channel's [`term_day`]: its days are whole days, its hours the share of its
/// own office's day they are.
pub fn step_minutes(p: &Process, step: usize, channel: &str, day: impl WorkingDay) -> u64 {
    let Some(t) = p.duration(step, channel) else {
        return 0;
    };
    let own = day.minutes_at(step_office(p, step, channel)).max(1);
    let unit = term_day(p, channel, day).max(1);
    let minutes = t.approx_working_minutes(own);
    if own == unit {
        return minutes;
    }
    // Rounded to the nearest minute: a quarter of an hour at an 11-hour centre is 9.5 minutes
    // of a 7-hour department's day.
    (minutes * u64::from(unit) + u64::from(own) / 2) / u64::from(own)
}

/// Simple paths from the channel's start to an end, at most `limit` of them. Outcomes taken
/// earlier on a path decide later choices that test them (`outcomes.review == "grant"`).
/// Returns the paths and whether the list was cut short.
pub fn channel_paths(
    p: &Process,
    channel: &str,
    day_minutes: impl WorkingDay,
    limit: usize,
) -> (Vec<Path>, bool) {
    let Some(start) = p.channel(channel).and_then(|c| p.step_index(&c.start)) else {
        return (Vec::new(), false);
    };
    let mut out = Vec::new();
    let mut on_path = vec![false; p.regulation.steps.len()];
    let mut current = Vec::new();
    let mut taken: Vec<Option<String>> = Vec::new();
    let mut outcomes: BTreeMap<String, String> = BTreeMap::new();
    let mut truncated = false;
    // Iterative DFS: regulations can be long chains and recursion would be their stack depth.
    // Each frame: the step, its ways on, the next one to try, the outcome it overwrote.
    type Frame = (
        usize,
        Vec<(Option<String>, usize)>,
        usize,
        Option<Option<String>>,
    );
    let mut stack: Vec<Frame> = Vec::new();
    on_path[start] = true;
    current.push(start);
    taken.push(None);
    stack.push((
        start,
        successors_given(p, start, channel, Some(&outcomes)),
        0,
        None,
    ));
    while let Some((node, succ, i, _)) = stack.last_mut() {
        let node = *node;
        if *i == 0 && matches!(p.step(node), Step::End(_)) {
            let minutes = current
                .iter()
                .map(|&s| step_minutes(p, s, channel, day_minutes))
                .sum();
            out.push(Path {
                steps: current.clone(),
                outcomes: taken.clone(),
                minutes,
            });
            if out.len() >= limit {
                truncated = true;
                break;
            }
        }
        if *i < succ.len() {
            let (outcome, t) = succ[*i].clone();
            *i += 1;
            if !on_path[t] {
                if let Some(last) = taken.last_mut() {
                    last.clone_from(&outcome);
                }
                let restore = outcome.map(|o| outcomes.insert(p.step(node).id().to_string(), o));
                on_path[t] = true;
                current.push(t);
                taken.push(None);
                let next = successors_given(p, t, channel, Some(&outcomes));
                stack.push((t, next, 0, restore));
            }
        } else {
            on_path[node] = false;
            current.pop();
            taken.pop();
            if let Some(last) = taken.last_mut() {
                *last = None;
            }
            if let Some((_, _, _, Some(previous))) = stack.pop() {
                // Undo the outcome the step that led here recorded.
                if let Some(&parent) = current.last() {
                    let key = p.step(parent).id().to_string();
                    match previous {
                        Some(v) => {
                            outcomes.insert(key, v);
                        }
                        None => {
                            outcomes.remove(&key);
                        }
                    }
                }
            }
        }
    }
    (out, truncated)
}

/// The longest path on a channel. Small regulations are searched path by path, so choices on
/// earlier outcomes are respected; past `EXACT_LIMIT` paths the linear-time bound of
/// [`longest_path_bound`] is used instead.
pub fn longest_path(p: &Process, channel: &str, day_minutes: impl WorkingDay) -> Option<Path> {
    const EXACT_LIMIT: usize = 20_000;
    // Every loop-free path is a simple path, so when they alone pass the limit the search would
    // be cut short (unless choices on earlier outcomes prune it below the limit, which is when
    // the bound is used a little early). Counting is linear; a search that reaches the limit
    // before giving up costs seconds on a regulation of thousands of steps.
    let acyclic = Acyclic::of(p, channel)?;
    if acyclic.count_paths(p, EXACT_LIMIT + 1) > EXACT_LIMIT {
        return acyclic.longest(p, channel, day_minutes);
    }
    let (all, truncated) = channel_paths(p, channel, day_minutes, EXACT_LIMIT);
    if truncated {
        return acyclic.longest(p, channel, day_minutes);
    }
    all.into_iter()
        .max_by(|a, b| a.minutes.cmp(&b.minutes).then(b.steps.cmp(&a.steps)))
}

/// An upper bound of the longest path by the paper's durations, found in linear time: back
/// edges (loops for rework) are dropped, then the longest path of the remaining acyclic graph
/// is taken. Choices on earlier outcomes are not followed, so the path may be one no case takes.
pub fn longest_path_bound(
    p: &Process,
    channel: &str,
    day_minutes: impl WorkingDay,
) -> Option<Path> {
    Acyclic::of(p, channel)?.longest(p, channel, day_minutes)
}

/// The steps a case on `channel` can reach from the channel's start, in step order, with the
/// choices on the channel decided (choices on data or outcomes keep every branch).
pub fn channel_steps(p: &Process, channel: &str) -> Vec<usize> {
    let mut steps = Acyclic::of(p, channel).map_or_else(Vec::new, |a| a.order);
    steps.sort_unstable();
    steps
}

/// A channel's graph with its loops cut: what DFS from the start reaches, with back edges
/// (loops for rework) dropped.
struct Acyclic {
    start: usize,
    /// The reachable steps in DFS post-order: every step after all the steps it leads to.
    order: Vec<usize>,
    /// Forward edges, by step index.
    forward: Vec<Vec<usize>>,
}

impl Acyclic {
    fn of(p: &Process, channel: &str) -> Option<Acyclic> {
        let start = p.channel(channel).and_then(|c| p.step_index(&c.start))?;
        let n = p.regulation.steps.len();
        // An edge to a step still on the stack is a back edge.
        let mut state = vec![0u8; n]; // 0 new, 1 on stack, 2 done
        let mut order = Vec::with_capacity(n);
        let mut forward: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut stack: Vec<(usize, Vec<usize>, usize)> =
            vec![(start, channel_successors(p, start, channel), 0)];
        state[start] = 1;
        while let Some((node, succ, i)) = stack.last_mut() {
            if *i < succ.len() {
                let t = succ[*i];
                *i += 1;
                match state[t] {
                    0 => {
                        forward[*node].push(t);
                        state[t] = 1;
                        let next = channel_successors(p, t, channel);
                        stack.push((t, next, 0));
                    }
                    2 => forward[*node].push(t),
                    _ => {} // back edge: a loop for rework, not part of the paper's path
                }
            } else {
                state[*node] = 2;
                order.push(*node);
                stack.pop();
            }
        }
        Some(Acyclic {
            start,
            order,
            forward,
        })
    }

    /// The number of paths from the start to an end, counted up to `cap`.
    fn count_paths(&self, p: &Process, cap: usize) -> usize {
        let mut count = vec![0usize; self.forward.len()];
        for &node in &self.order {
            let own = usize::from(matches!(p.step(node), Step::End(_)));
            count[node] = self.forward[node]
                .iter()
                .fold(own, |sum, &t| sum.saturating_add(count[t]))
                .min(cap);
        }
        count[self.start]
    }

    fn longest(&self, p: &Process, channel: &str, day_minutes: impl WorkingDay) -> Option<Path> {
        let n = self.forward.len();
        // Reverse post-order is a topological order of the forward edges.
        let mut best: Vec<Option<(u64, Option<usize>)>> = vec![None; n];
        best[self.start] = Some((step_minutes(p, self.start, channel, day_minutes), None));
        for &node in self.order.iter().rev() {
            let Some((here, _)) = best[node] else {
                continue;
            };
            for &t in &self.forward[node] {
                let candidate = here + step_minutes(p, t, channel, day_minutes);
                if best[t].is_none_or(|(m, _)| candidate > m) {
                    best[t] = Some((candidate, Some(node)));
                }
            }
        }
        let (end, minutes) = (0..n)
            .filter(|&i| matches!(p.step(i), Step::End(_)))
            .filter_map(|i| best[i].map(|(m, _)| (i, m)))
            .max_by_key(|&(i, m)| (m, std::cmp::Reverse(i)))?;
        let mut steps = vec![end];
        let mut cur = end;
        while let Some((_, Some(prev))) = best[cur] {
            steps.push(prev);
            cur = prev;
        }
        steps.reverse();
        let outcomes = vec![None; steps.len()];
        Some(Path {
            steps,
            outcomes,
            minutes,
        })
    }
}

/// "11 working days 45 min" for a number of working minutes.
pub fn format_minutes(minutes: u64, day_minutes: u32) -> String {
    let day = u64::from(day_minutes.max(1));
    let days = minutes / day;
    let rest = minutes % day;
    let (h, m) = (rest / 60, rest % 60);
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(format!(
            "{days} working day{}",
            if days == 1 { "" } else { "s" }
        ));
    }
    if h > 0 {
        parts.push(format!("{h} h"));
    }
    if m > 0 || parts.is_empty() {
        parts.push(format!("{m} min"));
    }
    parts.join(" ")
}

/// A term in working minutes, for comparing with path totals.
pub fn term_minutes(term: Term, day_minutes: u32) -> u64 {
    term.approx_working_minutes(day_minutes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_minutes() {
        assert_eq!(format_minutes(11 * 480 + 45, 480), "11 working days 45 min");
        assert_eq!(format_minutes(135, 480), "2 h 15 min");
        assert_eq!(format_minutes(0, 480), "0 min");
        assert_eq!(format_minutes(480, 480), "1 working day");
    }
}
