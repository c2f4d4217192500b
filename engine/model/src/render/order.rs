//! The order of steps that share a lane and a rank (a cell): each cell is stacked top to
//! bottom, and a barycenter sweep puts a step near the steps it is connected to, which keeps
//! edges short and their crossings few.

use super::view::View;

/// Each node's slot (its row within its lane), and the number of rows of each lane.
pub struct Arrangement {
    pub slot: Vec<usize>,
    pub rows: Vec<usize>,
}

pub fn arrange(view: &View) -> Arrangement {
    let ranks = view.rank.iter().max().map_or(0, |r| r + 1);
    // Nodes of each rank, sorted by lane then by the order within their cell.
    let mut by_rank: Vec<Vec<usize>> = vec![Vec::new(); ranks];
    for node in 0..view.len() {
        by_rank[view.rank[node]].push(node);
    }
    let mut slot = vec![0usize; view.len()];
    let mut size = vec![1usize; view.len()];
    for nodes in &mut by_rank {
        nodes.sort_by_key(|&n| view.lane[n]);
        number(view, nodes, &mut slot, &mut size);
    }

    // Where a node sits vertically, in lanes: a lane index plus the fraction of the way down
    // its cell. Lane heights are not known yet, and this is enough to order by.
    let position = |slot: &[usize], size: &[usize], n: usize| {
        view.lane[n] as f64 + (slot[n] as f64 + 0.5) / size[n] as f64
    };
    let sweep = |nodes: &mut Vec<usize>, slot: &mut Vec<usize>, size: &mut Vec<usize>, down| {
        if !nodes.windows(2).any(|w| view.lane[w[0]] == view.lane[w[1]]) {
            return; // every cell of this rank holds one node: nothing to order
        }
        let keys: Vec<(usize, f64)> = nodes
            .iter()
            .map(|&n| {
                let (sum, count) = if down {
                    view.forward_in(n).fold((0.0, 0), |(s, c), (_, m)| {
                        (s + position(slot, size, m), c + 1)
                    })
                } else {
                    view.forward_out(n).fold((0.0, 0), |(s, c), (_, m)| {
                        (s + position(slot, size, m), c + 1)
                    })
                };
                let key = if count == 0 {
                    position(slot, size, n)
                } else {
                    sum / f64::from(count)
                };
                (n, key)
            })
            .collect();
        let mut keyed = keys;
        // Stable: equal keys keep the current order, so the result is deterministic.
        keyed.sort_by(|a, b| {
            view.lane[a.0]
                .cmp(&view.lane[b.0])
                .then(a.1.total_cmp(&b.1))
        });
        *nodes = keyed.into_iter().map(|(n, _)| n).collect();
        number(view, nodes, slot, size);
    };
    for nodes in by_rank.iter_mut().skip(1) {
        sweep(nodes, &mut slot, &mut size, true);
    }
    for nodes in by_rank.iter_mut().rev().skip(1) {
        sweep(nodes, &mut slot, &mut size, false);
    }

    let mut rows = vec![0usize; view.lanes.len()];
    for (&lane, &s) in view.lane.iter().zip(&slot) {
        rows[lane] = rows[lane].max(s + 1);
    }
    Arrangement { slot, rows }
}

/// Numbers the nodes of one rank (sorted by lane) within their cells.
fn number(view: &View, nodes: &[usize], slot: &mut [usize], size: &mut [usize]) {
    let mut start = 0;
    while start < nodes.len() {
        let lane = view.lane[nodes[start]];
        let end = nodes[start..]
            .iter()
            .position(|&n| view.lane[n] != lane)
            .map_or(nodes.len(), |k| start + k);
        for (i, &n) in nodes[start..end].iter().enumerate() {
            slot[n] = i;
            size[n] = end - start;
        }
        start = end;
    }
}
