//! The paths a case can take through a regulation on one channel, and how long they take by
//! the paper. Exclusive choices that depend only on the channel are decided, so the paths of
//! the rural-akim channel do not wander into the provider-office branch.

use crate::compile::{Edge, Process};
use crate::condition::Facts;
use crate::duration::Term;
use crate::model::Step;

/// The working day used to add days and minutes when a region's schedule is not at hand.
pub const DEFAULT_DAY_MINUTES: u32 = 8 * 60;

/// One path from a channel's start to an end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// Step indices, start first, the end last.
    pub steps: Vec<usize>,
    /// Total of the steps' durations in working minutes.
    pub minutes: u64,
}

/// The steps a case on `channel` may go to from `step`: channel-only conditions decided.
pub fn channel_successors(p: &Process, step: usize, channel: &str) -> Vec<usize> {
    let next = p.next_steps(step);
    let Step::Exclusive(_) = p.step(step) else {
        return next.into_iter().map(|(_, t)| t).collect();
    };
    let conditions = p.conditions(step);
    let facts = Facts {
        channel,
        ..Facts::default()
    };
    let mut out = Vec::new();
    for (edge, target) in next {
        match edge {
            Edge::Branch(i) => match conditions.get(*i) {
                Some(c) if c.channel_only() => match c.evaluate(&facts) {
                    Ok(true) => {
                        out.push(target);
                        return out;
                    }
                    Ok(false) => {}
                    Err(_) => out.push(target),
                },
                _ => out.push(target),
            },
            _ => out.push(target),
        }
    }
    out
}

/// The working minutes a step takes on a channel by the paper (0 when it names none).
pub fn step_minutes(p: &Process, step: usize, channel: &str, day_minutes: u32) -> u64 {
    p.duration(step, channel)
        .map_or(0, |t| t.approx_working_minutes(day_minutes))
}

/// Simple paths from the channel's start to an end, at most `limit` of them.
/// Returns the paths and whether the list was cut short.
pub fn channel_paths(
    p: &Process,
    channel: &str,
    day_minutes: u32,
    limit: usize,
) -> (Vec<Path>, bool) {
    let Some(start) = p.channel(channel).and_then(|c| p.step_index(&c.start)) else {
        return (Vec::new(), false);
    };
    let mut out = Vec::new();
    let mut on_path = vec![false; p.regulation.steps.len()];
    let mut current = Vec::new();
    let mut truncated = false;
    // Iterative DFS: regulations can be long chains and recursion would be their stack depth.
    let mut stack: Vec<(usize, Vec<usize>, usize)> = Vec::new();
    on_path[start] = true;
    current.push(start);
    stack.push((start, channel_successors(p, start, channel), 0));
    while let Some((node, succ, i)) = stack.last_mut() {
        if matches!(p.step(*node), Step::End(_)) {
            let minutes = current
                .iter()
                .map(|&s| step_minutes(p, s, channel, day_minutes))
                .sum();
            out.push(Path {
                steps: current.clone(),
                minutes,
            });
            if out.len() >= limit {
                truncated = true;
                break;
            }
        }
        if *i < succ.len() {
            let t = succ[*i];
            *i += 1;
            if !on_path[t] {
                on_path[t] = true;
                current.push(t);
                let next = channel_successors(p, t, channel);
                stack.push((t, next, 0));
            }
        } else {
            on_path[*node] = false;
            current.pop();
            stack.pop();
        }
    }
    (out, truncated)
}

/// The longest path by the paper's durations, found in linear time: back edges (loops for
/// rework) are dropped, then the longest path of the remaining acyclic graph is taken.
pub fn longest_path(p: &Process, channel: &str, day_minutes: u32) -> Option<Path> {
    let start = p.channel(channel).and_then(|c| p.step_index(&c.start))?;
    let n = p.regulation.steps.len();
    // DFS post-order over the channel's graph; an edge to a node still on the stack is a back edge.
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
    // Reverse post-order is a topological order of the forward edges.
    let mut best: Vec<Option<(u64, Option<usize>)>> = vec![None; n];
    best[start] = Some((step_minutes(p, start, channel, day_minutes), None));
    for &node in order.iter().rev() {
        let Some((here, _)) = best[node] else { continue };
        for &t in &forward[node] {
            let candidate = here + step_minutes(p, t, channel, day_minutes);
            if best[t].is_none_or(|(m, _)| candidate > m) {
                best[t] = Some((candidate, Some(node)));
            }
        }
    }
    let (end, (minutes, _)) = (0..n)
        .filter(|&i| matches!(p.step(i), Step::End(_)))
        .filter_map(|i| best[i].map(|b| (i, b)))
        .max_by_key(|(i, (m, _))| (*m, std::cmp::Reverse(*i)))?;
    let mut steps = vec![end];
    let mut cur = end;
    while let Some((_, Some(prev))) = best[cur] {
        steps.push(prev);
        cur = prev;
    }
    steps.reverse();
    Some(Path { steps, minutes })
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
