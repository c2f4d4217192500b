//! The BPMN graph of a process, before any coordinates: which pool and lane each step stands
//! in, the shapes BPMN needs that the regulation has no step for (a start event per channel,
//! a gateway after a task whose outcomes part ways, merges where flows meet, message events
//! where the case passes to another organisation, an end event after each deadline), and the
//! sequence and message flows between them.

use crate::compile::{Edge, Process, successors};
use crate::duration::Term;
use crate::model::{ChannelKind, Step};
use crate::paths::channel_steps;
use crate::text::Lang;

use super::words;

/// An organisation with a pool of its own. The order is the order of the pools from the top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Org {
    Applicant,
    Egov,
    Centre,
    Akim,
    Provider,
}

impl Org {
    pub fn key(self) -> &'static str {
        match self {
            Org::Applicant => "applicant",
            Org::Egov => "egov",
            Org::Centre => "centre",
            Org::Akim => "akim",
            Org::Provider => "provider",
        }
    }

    fn of_channel(kind: ChannelKind) -> Org {
        match kind {
            ChannelKind::ProviderOffice => Org::Provider,
            ChannelKind::RuralAkim => Org::Akim,
            ChannelKind::ServiceCentre => Org::Centre,
            ChannelKind::EgovPortal => Org::Egov,
        }
    }
}

/// A lane: a role's, or the lane of steps no role's lane took (in the provider's pool).
#[derive(Debug, Clone, PartialEq)]
pub struct PlanLane {
    pub org: Org,
    /// Index into `regulation.roles`.
    pub role: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A step of the regulation (an end step's first copy).
    Step(usize),
    /// An end step drawn again in another pool that reaches it.
    EndCopy(usize),
    /// The start of a channel's cases (index into `regulation.channels`).
    ChannelStart(usize),
    /// The choice after a task or system step whose outcomes lead to different steps.
    Outcomes(usize),
    /// Where several flows meet before a step.
    Merge,
    /// The case leaves the pool for another organisation (a message end event).
    HandOut,
    /// The case arrives from another organisation (a message start event).
    HandIn,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanNode {
    pub id: String,
    pub kind: NodeKind,
    pub lane: usize,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanFlow {
    pub id: String,
    pub from: usize,
    pub to: usize,
    /// The step whose ways on this flow carries, and which (outcomes, branches, `next`).
    pub step: Option<usize>,
    pub edges: Vec<Edge>,
    /// The default flow of an exclusive choice.
    pub default: bool,
    pub name: Option<String>,
    /// A CEL condition, on the flows out of a choice.
    pub condition: Option<String>,
}

/// A step's deadline: a non-interrupting boundary timer and the end event after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Deadline {
    pub id: String,
    /// The task's node.
    pub node: usize,
    pub step: usize,
    /// The channel a specific duration is for; `None` for the step's default duration.
    pub channel: Option<String>,
    pub term: Term,
    pub end_id: String,
    pub end_name: String,
    pub flow_id: String,
}

/// A message flow between pools.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageFlow {
    pub id: String,
    /// A node, or `None` for the applicant's pool.
    pub from: Option<usize>,
    pub to: usize,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Pools with their own process, in order from the top (the applicant's has none).
    pub orgs: Vec<Org>,
    pub lanes: Vec<PlanLane>,
    pub nodes: Vec<PlanNode>,
    pub flows: Vec<PlanFlow>,
    pub deadlines: Vec<Deadline>,
    pub messages: Vec<MessageFlow>,
    /// The node of each step (its first copy for an end step).
    pub step_node: Vec<usize>,
    /// The organisation of each role.
    pub role_org: Vec<Org>,
}

impl Plan {
    /// The deadlines of a node, in order.
    pub fn deadlines_of(&self, node: usize) -> impl Iterator<Item = &Deadline> {
        self.deadlines.iter().filter(move |d| d.node == node)
    }
}

/// Which organisation each role belongs to: a role all of whose steps only cases of channels
/// of one other kind reach (the ЦОН's inspectors, the rural akim, the portal) is that
/// organisation's; every other role is the provider's.
pub fn role_orgs(p: &Process) -> Vec<Org> {
    let reg = &p.regulation;
    let mut reached: Vec<Vec<Org>> = vec![Vec::new(); reg.steps.len()];
    for channel in &reg.channels {
        let org = Org::of_channel(channel.kind);
        for s in channel_steps(p, &channel.id) {
            if !reached[s].contains(&org) {
                reached[s].push(org);
            }
        }
    }
    reg.roles
        .iter()
        .map(|role| {
            let mut orgs: Vec<Org> = Vec::new();
            for (s, step) in reg.steps.iter().enumerate() {
                if step.role() == Some(role.id.as_str()) {
                    for o in &reached[s] {
                        if !orgs.contains(o) {
                            orgs.push(*o);
                        }
                    }
                }
            }
            match orgs.as_slice() {
                [only] => *only,
                _ => Org::Provider,
            }
        })
        .collect()
}

/// Where each step stands, as (organisation, role): a step with a role in its role's lane;
/// one without (a choice, split, join or end) in the lane of its first predecessor, or of
/// its first successor, as the swimlane diagram does; else in the provider's lane of no role.
fn step_lanes(p: &Process, role_org: &[Org]) -> Vec<(Org, Option<usize>)> {
    let reg = &p.regulation;
    let n = reg.steps.len();
    let mut lane: Vec<Option<(Org, Option<usize>)>> = reg
        .steps
        .iter()
        .map(|s| {
            let r = s
                .role()
                .and_then(|r| reg.roles.iter().position(|x| x.id == r))?;
            Some((role_org[r], Some(r)))
        })
        .collect();
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    for s in 0..n {
        for (_, t) in p.ways_on(s) {
            if !preds[*t].contains(&s) {
                preds[*t].push(s);
            }
        }
    }
    // Passes until nothing changes: a chain of role-less steps takes its lane link by link.
    loop {
        let mut changed = false;
        for s in 0..n {
            if lane[s].is_none() {
                let from_pred = preds[s].iter().find_map(|&q| lane[q]);
                let found = from_pred.or_else(|| p.ways_on(s).iter().find_map(|(_, t)| lane[*t]));
                if found.is_some() {
                    lane[s] = found;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    lane.into_iter()
        .map(|l| l.unwrap_or((Org::Provider, None)))
        .collect()
}

struct Builder<'p> {
    p: &'p Process,
    lang: Lang,
    lane_keys: Vec<(Org, Option<usize>)>,
    nodes: Vec<PlanNode>,
    flows: Vec<PlanFlow>,
    messages: Vec<MessageFlow>,
    /// End steps' copies by (step, organisation).
    end_copies: Vec<(usize, Org, usize)>,
    step_node: Vec<usize>,
    step_lane: Vec<(Org, Option<usize>)>,
}

impl Builder<'_> {
    fn lane(&mut self, key: (Org, Option<usize>)) -> usize {
        match self.lane_keys.iter().position(|k| *k == key) {
            Some(i) => i,
            None => {
                self.lane_keys.push(key);
                self.lane_keys.len() - 1
            }
        }
    }

    fn node(&mut self, id: String, kind: NodeKind, lane: usize, name: String) -> usize {
        self.nodes.push(PlanNode {
            id,
            kind,
            lane,
            name,
        });
        self.nodes.len() - 1
    }

    fn org_of(&self, node: usize) -> Org {
        self.lane_keys[self.nodes[node].lane].0
    }

    fn flow(&mut self, from: usize, to: usize) -> usize {
        self.flows.push(PlanFlow {
            id: format!("Flow_{}", self.flows.len() + 1),
            from,
            to,
            step: None,
            edges: Vec::new(),
            default: false,
            name: None,
            condition: None,
        });
        self.flows.len() - 1
    }

    fn step_name(&self, s: usize) -> String {
        self.p
            .step(s)
            .name()
            .map_or_else(String::new, |t| t.get(self.lang).to_string())
    }

    /// The node a flow from `from` to step `target` ends at: the step itself in the same
    /// pool, an end step's copy in this pool, or a message end event that hands the case to
    /// the pool the step stands in.
    fn target(&mut self, from: usize, target: usize) -> usize {
        let org = self.org_of(from);
        if let Step::End(_) = self.p.step(target) {
            if let Some(&(_, _, n)) = self
                .end_copies
                .iter()
                .find(|(s, o, _)| *s == target && *o == org)
            {
                return n;
            }
            let lane = if self.step_lane[target].0 == org {
                self.lane(self.step_lane[target])
            } else {
                self.nodes[from].lane
            };
            let id = format!("End_{}_{}", self.p.step(target).id(), org.key());
            let name = self.step_name(target);
            let n = self.node(id, NodeKind::EndCopy(target), lane, name);
            self.end_copies.push((target, org, n));
            return n;
        }
        let to = self.step_node[target];
        if self.org_of(to) == org {
            return to;
        }
        let k = self.messages.len() + 1;
        let out_name = format!("→ {}", self.step_name(target));
        let in_name = format!("← {}", self.nodes[from].name);
        let from_lane = self.nodes[from].lane;
        let out = self.node(
            format!("Handoff_{k}_out"),
            NodeKind::HandOut,
            from_lane,
            out_name,
        );
        let to_lane = self.nodes[to].lane;
        let inn = self.node(
            format!("Handoff_{k}_in"),
            NodeKind::HandIn,
            to_lane,
            in_name,
        );
        self.flow(inn, to);
        self.messages.push(MessageFlow {
            id: format!("Message_{k}"),
            from: Some(out),
            to: inn,
            name: None,
        });
        out
    }
}

/// Builds the BPMN graph of a compiled process, names in `lang`.
pub fn plan(p: &Process, lang: Lang) -> Plan {
    let reg = &p.regulation;
    let role_org = role_orgs(p);
    let step_lane = step_lanes(p, &role_org);
    let mut b = Builder {
        p,
        lang,
        lane_keys: Vec::new(),
        nodes: Vec::with_capacity(reg.steps.len() * 2),
        flows: Vec::with_capacity(reg.steps.len() * 2),
        messages: Vec::new(),
        end_copies: Vec::new(),
        step_node: vec![usize::MAX; reg.steps.len()],
        step_lane: step_lane.clone(),
    };
    // Every role has a lane, even one no step uses: the lanes are the regulation's roles.
    for (r, org) in role_org.iter().enumerate() {
        b.lane((*org, Some(r)));
    }
    for (s, step) in reg.steps.iter().enumerate() {
        let lane = b.lane(step_lane[s]);
        let name = match step {
            Step::Exclusive(x) if x.name.is_none() => words::choice(lang).to_string(),
            _ => b.step_name(s),
        };
        let org = step_lane[s].0;
        let n = b.node(step.id().to_string(), NodeKind::Step(s), lane, name);
        b.step_node[s] = n;
        if let Step::End(_) = step {
            b.end_copies.push((s, org, n));
        }
    }
    for (s, step) in reg.steps.iter().enumerate() {
        let from = b.step_node[s];
        // Ways on grouped by where they lead: two outcomes to one step are one flow.
        let mut groups: Vec<(usize, Vec<Edge>)> = Vec::new();
        for (edge, target) in successors(step) {
            let Some(t) = p.step_index(target) else {
                continue;
            };
            let joinable = !matches!(edge, Edge::Default | Edge::Split(_));
            match groups
                .iter_mut()
                .find(|(g, e)| *g == t && joinable && !e.iter().any(|x| matches!(x, Edge::Default)))
            {
                Some((_, edges)) => edges.push(edge),
                None => groups.push((t, vec![edge])),
            }
        }
        let outcomes = matches!(step, Step::Task(_) | Step::System(_));
        let source = if outcomes && groups.len() > 1 {
            let lane = b.nodes[from].lane;
            let g = b.node(
                format!("Gateway_{}_outcome", step.id()),
                NodeKind::Outcomes(s),
                lane,
                words::outcome(lang).to_string(),
            );
            b.flow(from, g);
            g
        } else {
            from
        };
        let forks = groups.len() > 1;
        for (t, edges) in groups {
            let to = b.target(source, t);
            let f = b.flow(source, to);
            let (name, condition) = flow_label(p, s, &edges, lang, forks);
            let flow = &mut b.flows[f];
            flow.step = Some(s);
            flow.default = edges.iter().any(|e| matches!(e, Edge::Default));
            flow.edges = edges;
            flow.name = name;
            flow.condition = condition;
        }
    }
    for (c, channel) in reg.channels.iter().enumerate() {
        let Some(start) = p.step_index(&channel.start) else {
            continue;
        };
        let target = b.step_node[start];
        let lane = b.nodes[target].lane;
        let name = channel
            .name
            .as_ref()
            .map_or_else(|| channel.id.clone(), |n| n.get(lang).to_string());
        let n = b.node(
            format!("Start_{}", channel.id),
            NodeKind::ChannelStart(c),
            lane,
            name,
        );
        b.flow(n, target);
        b.messages.push(MessageFlow {
            id: format!("Application_{}", channel.id),
            from: None,
            to: n,
            name: Some(words::application(lang).to_string()),
        });
    }
    merge_joins(&mut b);

    let mut deadlines = Vec::new();
    for (s, step) in reg.steps.iter().enumerate() {
        let (duration, durations, escalation) = match step {
            Step::Task(t) => (t.duration, &t.durations, &t.escalation),
            Step::System(t) => (t.duration, &t.durations, &t.escalation),
            _ => continue,
        };
        let node = b.step_node[s];
        let end_name = words::breach(lang, escalation, reg);
        let all = duration
            .map(|t| (None, t))
            .into_iter()
            .chain(durations.iter().map(|(c, t)| (Some(c.clone()), *t)));
        for (channel, term) in all {
            let suffix = channel.clone().unwrap_or_else(|| "default".to_string());
            deadlines.push(Deadline {
                id: format!("Deadline_{}_{suffix}", step.id()),
                node,
                step: s,
                channel,
                term,
                end_id: format!("Breach_{}_{suffix}", step.id()),
                end_name: end_name.clone(),
                flow_id: format!("BreachFlow_{}_{suffix}", step.id()),
            });
        }
    }

    // Lanes in pool order (the pools from the top), each pool's lanes in role order.
    let mut order: Vec<usize> = (0..b.lane_keys.len()).collect();
    order.sort_by_key(|&l| {
        let (org, role) = b.lane_keys[l];
        (org, role.map_or(usize::MAX, |r| r))
    });
    let mut new_index = vec![0; order.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    for node in &mut b.nodes {
        node.lane = new_index[node.lane];
    }
    let lanes: Vec<PlanLane> = order
        .iter()
        .map(|&l| PlanLane {
            org: b.lane_keys[l].0,
            role: b.lane_keys[l].1,
        })
        .collect();
    let mut orgs: Vec<Org> = lanes.iter().map(|l| l.org).collect();
    orgs.dedup();
    Plan {
        orgs,
        lanes,
        nodes: b.nodes,
        flows: b.flows,
        deadlines,
        messages: b.messages,
        step_node: b.step_node,
        role_org,
    }
}

/// A step with several flows in gets a merging gateway before it (BPMN joins only at
/// gateways), except a parallel join, which is that gateway.
fn merge_joins(b: &mut Builder) {
    let mut incoming: Vec<Vec<usize>> = vec![Vec::new(); b.nodes.len()];
    for (f, flow) in b.flows.iter().enumerate() {
        incoming[flow.to].push(f);
    }
    for (n, flows) in incoming.into_iter().enumerate() {
        if flows.len() < 2 {
            continue;
        }
        if let NodeKind::Step(s) = b.nodes[n].kind
            && matches!(b.p.step(s), Step::Join(_))
        {
            continue;
        }
        let lane = b.nodes[n].lane;
        let id = format!("Merge_{}", b.nodes[n].id);
        let m = b.node(id, NodeKind::Merge, lane, String::new());
        for f in flows {
            b.flows[f].to = m;
        }
        b.flow(m, n);
    }
}

/// The name and condition of a flow that carries `edges` of step `s`: outcome names and
/// a condition on the outcome, a branch's condition, «otherwise» for the default.
fn flow_label(
    p: &Process,
    s: usize,
    edges: &[Edge],
    lang: Lang,
    forks: bool,
) -> (Option<String>, Option<String>) {
    let step = p.step(s);
    let outcome_list = match step {
        Step::Task(t) => Some(&t.outcomes),
        Step::System(t) => Some(&t.outcomes),
        _ => None,
    };
    let mut names = Vec::new();
    let mut ids = Vec::new();
    let mut whens = Vec::new();
    for e in edges {
        match e {
            Edge::Outcome(id) => {
                let name = outcome_list
                    .and_then(|os| os.iter().find(|o| &o.id == id))
                    .and_then(|o| o.name.as_ref())
                    .map_or_else(|| id.clone(), |n| n.get(lang).to_string());
                names.push(name);
                ids.push(format!("\"{id}\""));
            }
            Edge::Branch(i) => {
                if let Step::Exclusive(x) = step
                    && let Some(b) = x.branches.get(*i)
                {
                    whens.push(b.when.clone());
                }
            }
            Edge::Default => return (Some(words::otherwise(lang).to_string()), None),
            Edge::Next | Edge::Split(_) => {}
        }
    }
    if !forks {
        return (None, None);
    }
    if !whens.is_empty() {
        let condition = if whens.len() == 1 {
            whens[0].clone()
        } else {
            whens
                .iter()
                .map(|w| format!("({w})"))
                .collect::<Vec<_>>()
                .join(" || ")
        };
        return (Some(condition.clone()), Some(condition));
    }
    if ids.is_empty() {
        return (None, None);
    }
    let id = step.id();
    let condition = if ids.len() == 1 {
        format!("outcomes.{id} == {}", ids[0])
    } else {
        format!("outcomes.{id} in [{}]", ids.join(", "))
    };
    (Some(names.join(" / ")), Some(condition))
}
