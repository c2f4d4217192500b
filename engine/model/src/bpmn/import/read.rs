//! The element tree read as a regulation: pools, lanes, flow nodes and flows checked for
//! dangling references, transparent shapes (merges, hand-overs between pools, the outcome
//! gateways of the export) followed through, and every step, role and channel built with its
//! extension data or, without it, with what BPMN says and the gaps noted.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::NaiveDate;

use crate::duration::Term;
use crate::model::{
    Branch, CaseResult, Channel, ChannelKind, Counting, DispatchStep, EndStep, Escalation,
    EscalationAction, ExclusiveStep, Form, JoinStep, LegalSource, LocalTime, Note, Outcome,
    ParallelStep, Regulation, Repeal, Role, RoleKind, SourceRef, StatutoryTerm, Step, SystemStep,
    TaskStep,
};
use crate::text::{Lang, Text};

use super::super::{NS_BPMN, NS_REGLAMENT, iso};
use super::xml::Doc;
use super::{Finding, ImportError, ImportOptions};

/// A place where the draft lacks what BPMN did not say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    /// JSON pointer of the value; with `remove`, the value is left out of the draft.
    pub pointer: String,
    pub remove: bool,
    pub note: String,
}

#[derive(Debug)]
pub struct Draft {
    pub regulation: Regulation,
    pub gaps: Vec<Gap>,
    pub findings: Vec<Finding>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    UserTask,
    ServiceTask,
    Task,
    Start,
    End,
    Dispatch,
    Boundary,
    Exclusive,
    Parallel,
    Unsupported,
}

#[derive(Debug)]
struct Node {
    el: usize,
    id: String,
    kind: Kind,
    lane: Option<usize>,
    /// The pool's process element.
    process: usize,
    out: Vec<usize>,
    inn: Vec<usize>,
}

#[derive(Debug)]
struct Flow {
    el: usize,
    id: String,
    to: usize,
}

/// Lower-case letters, digits and `_`, starting with a letter: a step, role or channel id.
fn slug(s: &str, sep: char) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with(sep) && !out.is_empty() {
            out.push(sep);
        }
    }
    while out.ends_with(sep) {
        out.pop();
    }
    if !out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out.insert_str(0, if sep == '_' { "x_" } else { "x-" });
    }
    out
}

fn finding(doc: &Doc, el: usize, message: impl Into<String>, unsupported: bool) -> Finding {
    let e = &doc.elements[el];
    Finding {
        line: e.line,
        id: e.attr("id").map(str::to_string),
        element: e.name.clone(),
        message: message.into(),
        unsupported,
    }
}

struct Reader<'d> {
    doc: &'d Doc,
    options: &'d ImportOptions,
    nodes: Vec<Node>,
    flows: Vec<Flow>,
    by_id: HashMap<String, usize>,
    /// Message flows as (source element id, target element id).
    messages: Vec<(String, String, usize)>,
    findings: RefCell<Vec<Finding>>,
    gaps: RefCell<Vec<Gap>>,
}

/// The Reglament extension element `name` under `el`'s `extensionElements`.
fn ext(doc: &Doc, el: usize, name: &str) -> Option<usize> {
    doc.named(el, NS_BPMN, "extensionElements")
        .flat_map(|x| doc.named(x, NS_REGLAMENT, name).collect::<Vec<_>>())
        .next()
}

fn exts(doc: &Doc, el: usize, name: &'static str) -> Vec<usize> {
    doc.named(el, NS_BPMN, "extensionElements")
        .flat_map(|x| doc.named(x, NS_REGLAMENT, name).collect::<Vec<_>>())
        .collect()
}

fn text_of(doc: &Doc, el: usize) -> Option<Text> {
    let e = &doc.elements[el];
    Some(Text {
        kk: e.attr("kk")?.to_string(),
        ru: e.attr("ru")?.to_string(),
        en: e.attr("en").map(str::to_string),
    })
}

fn source_of(doc: &Doc, el: usize) -> SourceRef {
    let e = &doc.elements[el];
    let get = |k: &str| e.attr(k).map(str::to_string);
    SourceRef {
        appendix: get("appendix"),
        table: get("table"),
        action: get("action"),
        paragraph: get("paragraph"),
        quote: get("quote"),
    }
}

fn child_source(doc: &Doc, el: usize) -> Option<SourceRef> {
    doc.first(el, NS_REGLAMENT, "source")
        .map(|s| source_of(doc, s))
}

fn term_of(doc: &Doc, el: usize) -> Option<StatutoryTerm> {
    let e = &doc.elements[el];
    Some(StatutoryTerm {
        text: e.attr("text")?.to_string(),
        duration: e.attr("duration")?.parse().ok()?,
        source: child_source(doc, el),
    })
}

fn order(doc: &Doc, el: Option<usize>) -> Option<usize> {
    el.and_then(|e| doc.elements[e].attr("order"))
        .and_then(|o| o.parse().ok())
}

const TASK_CHILDREN: &[&str] = &["extensionElements", "incoming", "outgoing", "documentation"];

impl Reader<'_> {
    fn el(&self, n: usize) -> &super::xml::Element {
        &self.doc.elements[self.nodes[n].el]
    }

    fn name(&self, n: usize) -> String {
        self.el(n)
            .attr("name")
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    fn gap(&self, pointer: String, remove: bool, note: String) {
        self.gaps.borrow_mut().push(Gap {
            pointer,
            remove,
            note,
        });
    }

    /// A name in three languages: the extension's, with the BPMN name in the import's
    /// language where a modeller changed it; or the BPMN name alone, copied into the other
    /// languages with a gap noted.
    fn text(&self, el: usize, ext_el: Option<usize>, pointer: &str) -> Text {
        let bpmn = self.doc.elements[el]
            .attr("name")
            .unwrap_or_default()
            .trim()
            .to_string();
        if let Some(mut t) = ext_el
            .and_then(|x| self.doc.first(x, NS_REGLAMENT, "name"))
            .and_then(|n| text_of(self.doc, n))
        {
            let known = [Some(&t.kk), Some(&t.ru), t.en.as_ref()];
            if !bpmn.is_empty() && !known.iter().flatten().any(|k| **k == bpmn) {
                match self.options.lang {
                    Lang::Kk => t.kk = bpmn,
                    Lang::Ru => t.ru = bpmn,
                    Lang::En => t.en = Some(bpmn),
                }
            }
            return t;
        }
        let name = if bpmn.is_empty() {
            self.doc.elements[el].attr("id").unwrap_or("?").to_string()
        } else {
            bpmn
        };
        self.gap(
            pointer.to_string(),
            false,
            format!(
                "TODO(import): `{name}` is the BPMN name ({}); write it in Kazakh and Russian",
                self.options.lang.code()
            ),
        );
        Text {
            kk: name.clone(),
            ru: name.clone(),
            en: (self.options.lang == Lang::En).then_some(name),
        }
    }
}

/// Reads the tree.
pub fn read(doc: &Doc, options: &ImportOptions) -> Result<Draft, ImportError> {
    let root = &doc.elements[0];
    if root.ns != NS_BPMN || root.name != "definitions" {
        let found = if root.ns.is_empty() {
            root.name.clone()
        } else {
            format!("{{{}}}{}", root.ns, root.name)
        };
        return Err(ImportError::NotBpmn {
            line: root.line,
            found,
        });
    }
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for (i, e) in doc.elements.iter().enumerate() {
        // Ids of BPMN and DI elements (the extension's `id`s name steps, not elements).
        if !e.ns.starts_with("http://www.omg.org/spec/") {
            continue;
        }
        let Some(id) = e.attr("id") else { continue };
        if let Some(&first) = ids.get(id) {
            return Err(ImportError::DuplicateId {
                line: e.line,
                first: doc.elements[first].line,
                id: id.to_string(),
            });
        }
        ids.insert(id, i);
    }
    let mut r = Reader {
        doc,
        options,
        nodes: Vec::new(),
        flows: Vec::new(),
        by_id: HashMap::new(),
        messages: Vec::new(),
        findings: RefCell::new(Vec::new()),
        gaps: RefCell::new(Vec::new()),
    };
    let processes: Vec<usize> = doc.named(0, NS_BPMN, "process").collect();
    if processes.is_empty() {
        return Err(ImportError::NoProcess);
    }
    for c in doc.children(0) {
        let e = &doc.elements[c];
        let known = e.ns == NS_BPMN
            && matches!(
                e.name.as_str(),
                "process"
                    | "collaboration"
                    | "escalation"
                    | "message"
                    | "extensionElements"
                    | "documentation"
            );
        let diagram = e.ns.starts_with("http://www.omg.org/spec/BPMN/20100524/DI");
        if !known && !diagram {
            r.findings.borrow_mut().push(finding(
                doc,
                c,
                "is outside the supported subset; not imported",
                true,
            ));
        }
    }
    let mut lane_of: HashMap<String, usize> = HashMap::new();
    let mut lanes: Vec<(usize, usize)> = Vec::new(); // (lane element, process element)
    for &p in &processes {
        read_process(&mut r, p, &mut lanes, &mut lane_of)?;
    }
    // References that must resolve.
    for f in 0..r.flows.len() {
        let _ = f;
    }
    let collaboration = doc.first(0, NS_BPMN, "collaboration");
    let mut participants: Vec<(usize, Option<String>)> = Vec::new();
    if let Some(c) = collaboration {
        for child in doc.children(c) {
            let e = &doc.elements[child];
            if e.ns != NS_BPMN {
                continue;
            }
            match e.name.as_str() {
                "participant" => {
                    let process = e.attr("processRef").map(str::to_string);
                    if let Some(p) = &process
                        && !processes
                            .iter()
                            .any(|&q| doc.elements[q].attr("id") == Some(p))
                    {
                        return Err(dangling(doc, child, "processRef", p, "a process"));
                    }
                    participants.push((child, process));
                }
                "messageFlow" => {
                    let get = |a: &str| e.attr(a).unwrap_or_default().to_string();
                    let (s, t) = (get("sourceRef"), get("targetRef"));
                    for (attr, v) in [("sourceRef", &s), ("targetRef", &t)] {
                        if !ids.contains_key(v.as_str()) {
                            return Err(dangling(doc, child, attr, v, "an element"));
                        }
                    }
                    r.messages.push((s, t, child));
                }
                "extensionElements" | "documentation" => {}
                _ => r.findings.borrow_mut().push(finding(
                    doc,
                    child,
                    "is outside the supported subset; not imported",
                    true,
                )),
            }
        }
    }
    for (n, node) in r.nodes.iter_mut().enumerate() {
        node.lane = lane_of.get(&node.id).copied();
        let _ = n;
    }
    build(r, collaboration, &participants, &lanes)
}

fn dangling(doc: &Doc, el: usize, attribute: &str, target: &str, expected: &str) -> ImportError {
    let e = &doc.elements[el];
    ImportError::Broken {
        line: e.line,
        element: e.name.clone(),
        id: e.attr("id").unwrap_or("?").to_string(),
        message: format!("refers by `{attribute}` to `{target}`, which is not {expected}"),
    }
}

fn read_lanes(
    doc: &Doc,
    set: usize,
    process: usize,
    lanes: &mut Vec<(usize, usize)>,
    lane_of: &mut HashMap<String, usize>,
    refs: &mut Vec<(usize, String)>,
) {
    for lane in doc.named(set, NS_BPMN, "lane").collect::<Vec<_>>() {
        let children: Vec<usize> = doc.named(lane, NS_BPMN, "childLaneSet").collect();
        if !children.is_empty() {
            for c in children {
                read_lanes(doc, c, process, lanes, lane_of, refs);
            }
            continue;
        }
        let index = lanes.len();
        lanes.push((lane, process));
        for r in doc.named(lane, NS_BPMN, "flowNodeRef") {
            let id = doc.elements[r].text.trim().to_string();
            lane_of.insert(id.clone(), index);
            refs.push((r, id));
        }
    }
}

fn read_process(
    r: &mut Reader,
    p: usize,
    lanes: &mut Vec<(usize, usize)>,
    lane_of: &mut HashMap<String, usize>,
) -> Result<(), ImportError> {
    let doc = r.doc;
    let mut refs = Vec::new();
    let mut flow_els = Vec::new();
    for c in doc.children(p).collect::<Vec<_>>() {
        let e = &doc.elements[c];
        if e.ns != NS_BPMN {
            continue;
        }
        let has = |d: &str| doc.first(c, NS_BPMN, d).is_some();
        let defs: Vec<&str> = doc
            .children(c)
            .map(|d| doc.elements[d].name.as_str())
            .filter(|n| n.ends_with("EventDefinition"))
            .collect();
        let kind = match e.name.as_str() {
            "laneSet" => {
                read_lanes(doc, c, p, lanes, lane_of, &mut refs);
                continue;
            }
            "sequenceFlow" => {
                flow_els.push(c);
                continue;
            }
            "extensionElements" | "documentation" => continue,
            "userTask" => Kind::UserTask,
            "serviceTask" => Kind::ServiceTask,
            "task" => Kind::Task,
            "exclusiveGateway" => Kind::Exclusive,
            "parallelGateway" => Kind::Parallel,
            "startEvent" if defs.iter().all(|d| *d == "messageEventDefinition") => Kind::Start,
            "endEvent"
                if defs.iter().all(|d| {
                    matches!(
                        *d,
                        "messageEventDefinition"
                            | "escalationEventDefinition"
                            | "terminateEventDefinition"
                    )
                }) =>
            {
                Kind::End
            }
            "intermediateCatchEvent" if defs == ["timerEventDefinition"] => Kind::Dispatch,
            "boundaryEvent" if defs == ["timerEventDefinition"] => Kind::Boundary,
            _ => Kind::Unsupported,
        };
        let _ = has;
        let id = e.attr("id").unwrap_or_default().to_string();
        if id.is_empty() {
            return Err(ImportError::Broken {
                line: e.line,
                element: e.name.clone(),
                id: String::new(),
                message: "has no id".into(),
            });
        }
        if kind == Kind::Unsupported {
            let what = if defs.is_empty() {
                format!("{} is outside the supported subset; not imported", e.name)
            } else {
                format!(
                    "{} with {} is outside the supported subset; not imported",
                    e.name,
                    defs.join(", ")
                )
            };
            r.findings.borrow_mut().push(finding(doc, c, what, true));
        } else if matches!(kind, Kind::UserTask | Kind::ServiceTask | Kind::Task) {
            for d in doc.children(c) {
                let de = &doc.elements[d];
                if de.ns == NS_BPMN && !TASK_CHILDREN.contains(&de.name.as_str()) {
                    r.findings.borrow_mut().push(Finding {
                        line: de.line,
                        id: Some(id.clone()),
                        element: de.name.clone(),
                        message: format!(
                            "of {} `{id}` is outside the supported subset; not imported",
                            e.name
                        ),
                        unsupported: true,
                    });
                }
            }
        }
        r.by_id.insert(id.clone(), r.nodes.len());
        r.nodes.push(Node {
            el: c,
            id,
            kind,
            lane: None,
            process: p,
            out: Vec::new(),
            inn: Vec::new(),
        });
    }
    for (el, id) in refs {
        if !r.by_id.contains_key(&id) {
            let lane = doc.elements[el].parent.unwrap_or(0);
            return Err(ImportError::Broken {
                line: doc.elements[el].line,
                element: "lane".into(),
                id: doc.elements[lane].attr("id").unwrap_or("?").to_string(),
                message: format!(
                    "refers by `flowNodeRef` to `{id}`, which is not a flow node of this process"
                ),
            });
        }
    }
    for c in flow_els {
        let e = &doc.elements[c];
        let id = e.attr("id").unwrap_or("?").to_string();
        let mut ends = [0usize; 2];
        for (k, attr) in ["sourceRef", "targetRef"].iter().enumerate() {
            let target = e.attr(attr).unwrap_or_default();
            match r.by_id.get(target) {
                Some(&n) if r.nodes[n].process == p => ends[k] = n,
                _ => {
                    return Err(dangling(
                        doc,
                        c,
                        attr,
                        target,
                        "a flow node of the same process",
                    ));
                }
            }
        }
        let f = r.flows.len();
        r.flows.push(Flow {
            el: c,
            id,
            to: ends[1],
        });
        r.nodes[ends[0]].out.push(f);
        r.nodes[ends[1]].inn.push(f);
    }
    for n in 0..r.nodes.len() {
        if r.nodes[n].process != p {
            continue;
        }
        let e = &doc.elements[r.nodes[n].el];
        if r.nodes[n].kind == Kind::Boundary {
            let target = e.attr("attachedToRef").unwrap_or_default();
            if !r.by_id.contains_key(target) {
                return Err(dangling(
                    doc,
                    r.nodes[n].el,
                    "attachedToRef",
                    target,
                    "an activity",
                ));
            }
        }
        if let Some(d) = e.attr("default")
            && !r.nodes[n].out.iter().any(|&f| r.flows[f].id == d)
        {
            return Err(dangling(
                doc,
                r.nodes[n].el,
                "default",
                d,
                "one of its outgoing flows",
            ));
        }
    }
    Ok(())
}

/// How a node is passed through on the way from a step to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Way {
    /// Reaches this step (the id in the draft).
    Step(String),
    /// Reaches an element that was not imported.
    Lost(String),
}

struct Graph<'r, 'd> {
    r: &'r Reader<'d>,
    /// Start events that receive the case from another pool, with the end event sending it.
    hand_in: HashSet<usize>,
    /// End events that pass the case to a start event of another pool.
    hand_out: HashMap<usize, usize>,
    step_id: HashMap<usize, String>,
}

impl Graph<'_, '_> {
    fn is_step_ext(&self, n: usize) -> bool {
        ext(self.r.doc, self.r.nodes[n].el, "step").is_some()
    }

    fn transparent(&self, n: usize) -> bool {
        let node = &self.r.nodes[n];
        match node.kind {
            Kind::Exclusive => {
                !self.is_step_ext(n)
                    && node.out.len() == 1
                    && ext(self.r.doc, node.el, "outcomes").is_none()
            }
            Kind::Parallel => !self.is_step_ext(n) && node.out.len() == 1 && node.inn.len() <= 1,
            Kind::End => self.hand_out.contains_key(&n),
            Kind::Start => self.hand_in.contains(&n),
            _ => false,
        }
    }

    /// Where a flow into `n` really leads: through merges and hand-overs to a step.
    fn resolve(&self, mut n: usize) -> Result<Way, ImportError> {
        let mut seen = Vec::new();
        loop {
            if seen.contains(&n) {
                let ids: Vec<String> = seen.iter().map(|&k| self.r.nodes[k].id.clone()).collect();
                return Err(ImportError::Trapped {
                    line: self.r.el(n).line,
                    ids,
                });
            }
            seen.push(n);
            if let Some(id) = self.step_id.get(&n) {
                return Ok(Way::Step(id.clone()));
            }
            if !self.transparent(n) {
                return Ok(Way::Lost(self.r.nodes[n].id.clone()));
            }
            let next = match self.r.nodes[n].kind {
                Kind::End => self.hand_out[&n],
                _ => n,
            };
            match self.r.nodes[next].out.first() {
                Some(&f) => n = self.r.flows[f].to,
                None => {
                    let e = self.r.el(next);
                    return Err(ImportError::Broken {
                        line: e.line,
                        element: e.name.clone(),
                        id: self.r.nodes[next].id.clone(),
                        message: "leads nowhere: it has no outgoing sequence flow".into(),
                    });
                }
            }
        }
    }
}

fn way_id(w: Way) -> String {
    match w {
        Way::Step(s) | Way::Lost(s) => s,
    }
}

fn build(
    r: Reader,
    collaboration: Option<usize>,
    participants: &[(usize, Option<String>)],
    lanes: &[(usize, usize)],
) -> Result<Draft, ImportError> {
    let doc = r.doc;
    // Hand-overs: a message flow from an end event to a start event.
    let mut hand_in = HashSet::new();
    let mut hand_out = HashMap::new();
    for (s, t, _) in &r.messages {
        if let (Some(&a), Some(&b)) = (r.by_id.get(s), r.by_id.get(t))
            && r.nodes[a].kind == Kind::End
            && r.nodes[b].kind == Kind::Start
        {
            hand_out.insert(a, b);
            hand_in.insert(b);
        }
    }
    let mut g = Graph {
        r: &r,
        hand_in,
        hand_out,
        step_id: HashMap::new(),
    };
    // Which nodes are steps, with their draft ids (end events that are copies of one step
    // share it).
    let from_deadline: HashSet<usize> = r
        .nodes
        .iter()
        .filter(|m| m.kind == Kind::Boundary)
        .flat_map(|m| m.out.iter().copied())
        .collect();
    let mut used: HashSet<String> = HashSet::new();
    let mut step_nodes: Vec<usize> = Vec::new();
    for (n, node) in r.nodes.iter().enumerate() {
        let e = &doc.elements[node.el];
        let is_step = match node.kind {
            Kind::UserTask | Kind::ServiceTask | Kind::Task | Kind::Dispatch => true,
            Kind::Exclusive => {
                ext(doc, node.el, "outcomes").is_none() && (g.is_step_ext(n) || node.out.len() > 1)
            }
            Kind::Parallel => g.is_step_ext(n) || node.out.len() > 1 || node.inn.len() > 1,
            Kind::End => {
                let after_deadline =
                    !node.inn.is_empty() && node.inn.iter().all(|f| from_deadline.contains(f));
                if after_deadline && ext(doc, node.el, "breach").is_none() {
                    r.findings.borrow_mut().push(finding(
                        doc,
                        node.el,
                        "ends the path after a deadline; Reglament records the breach and escalates instead",
                        false,
                    ));
                }
                !g.hand_out.contains_key(&n)
                    && ext(doc, node.el, "breach").is_none()
                    && !after_deadline
            }
            _ => false,
        };
        if !is_step {
            continue;
        }
        let from_ext = ext(doc, node.el, "step").and_then(|x| doc.elements[x].attr("id"));
        let id = match from_ext {
            Some(id) if node.kind == Kind::End && used.contains(id) => {
                g.step_id.insert(n, id.to_string());
                continue;
            }
            Some(id) => id.to_string(),
            None => {
                let base = slug(e.attr("id").unwrap_or("step"), '_');
                let mut id = base.clone();
                let mut k = 2;
                while used.contains(&id) {
                    id = format!("{base}_{k}");
                    k += 1;
                }
                id
            }
        };
        used.insert(id.clone());
        g.step_id.insert(n, id);
        step_nodes.push(n);
    }
    for node in &r.nodes {
        if node.kind == Kind::Unsupported {
            g.step_id.remove(&usize::MAX);
        }
    }

    // Roles: one per leaf lane (but the export's lane of no role), or per pool without lanes.
    let mut roles: Vec<(Role, Option<usize>)> = Vec::new();
    let mut lane_role: Vec<Option<String>> = vec![None; lanes.len()];
    let mut role_gaps: Vec<(usize, String)> = Vec::new();
    for (l, &(lane, _)) in lanes.iter().enumerate() {
        if ext(doc, lane, "noRole").is_some() {
            continue;
        }
        let x = ext(doc, lane, "role");
        let e = &doc.elements[lane];
        let id = match x.and_then(|x| doc.elements[x].attr("id")) {
            Some(id) => id.to_string(),
            None => {
                let name = e.attr("name").unwrap_or_default();
                let base = if name.is_ascii() && name.chars().any(|c| c.is_ascii_alphabetic()) {
                    slug(name, '_')
                } else {
                    slug(e.attr("id").unwrap_or("role"), '_')
                };
                let mut id = base.clone();
                let mut k = 2;
                while roles.iter().any(|(r, _)| r.id == id) {
                    id = format!("{base}_{k}");
                    k += 1;
                }
                id
            }
        };
        lane_role[l] = Some(id.clone());
        if roles.iter().any(|(r, _)| r.id == id) {
            continue;
        }
        let pointer = format!("/roles/{}/name", roles.len());
        let name = r.text(lane, x, &pointer);
        let kind = x
            .and_then(|x| doc.elements[x].attr("kind"))
            .and_then(|k| match k {
                "person" => Some(RoleKind::Person),
                "system" => Some(RoleKind::System),
                _ => None,
            });
        let kind = kind.or_else(|| {
            let kinds: HashSet<Kind> = r
                .nodes
                .iter()
                .filter(|n| n.lane == Some(l))
                .map(|n| n.kind)
                .filter(|k| matches!(k, Kind::UserTask | Kind::ServiceTask | Kind::Task))
                .collect();
            if kinds == HashSet::from([Kind::UserTask]) {
                Some(RoleKind::Person)
            } else if kinds == HashSet::from([Kind::ServiceTask]) {
                Some(RoleKind::System)
            } else {
                None
            }
        });
        if kind.is_none() {
            role_gaps.push((roles.len(), e.attr("name").unwrap_or(&id).to_string()));
        }
        let office = x
            .and_then(|x| doc.elements[x].attr("office"))
            .and_then(|o| serde_json::from_value(serde_json::Value::String(o.to_string())).ok());
        roles.push((
            Role {
                id,
                kind: kind.unwrap_or(RoleKind::Person),
                name,
                office,
                source: x.and_then(|x| child_source(doc, x)),
            },
            order(doc, x),
        ));
    }
    // Tasks of a pool without lanes act for the pool.
    let mut pool_role: HashMap<usize, String> = HashMap::new();
    for &n in &step_nodes {
        let node = &r.nodes[n];
        if node.lane.is_some()
            || !matches!(
                node.kind,
                Kind::UserTask | Kind::ServiceTask | Kind::Task | Kind::Dispatch
            )
            || pool_role.contains_key(&node.process)
        {
            continue;
        }
        let p = node.process;
        let participant = participants
            .iter()
            .find(|(_, pr)| pr.as_deref() == doc.elements[p].attr("id"))
            .map(|(e, _)| *e);
        let named = participant.unwrap_or(p);
        let id = slug(doc.elements[named].attr("id").unwrap_or("pool"), '_');
        let pointer = format!("/roles/{}/name", roles.len());
        let name = r.text(named, None, &pointer);
        role_gaps.push((roles.len(), id.clone()));
        pool_role.insert(p, id.clone());
        roles.push((
            Role {
                id,
                kind: RoleKind::Person,
                name,
                office: None,
                source: None,
            },
            None,
        ));
    }
    let role_of = |n: usize| -> Option<String> {
        let node = &r.nodes[n];
        match node.lane {
            Some(l) => lane_role[l].clone(),
            None => pool_role.get(&node.process).cloned(),
        }
    };

    // Steps.
    let mut steps: Vec<(Step, Option<usize>, usize)> = Vec::new();
    let mut deadlines: Vec<usize> = Vec::new();
    for (n, node) in r.nodes.iter().enumerate() {
        if node.kind == Kind::Boundary {
            deadlines.push(n);
        }
    }
    let mut lost: Vec<(String, usize)> = Vec::new();
    let mut step_gaps: Vec<(String, String, bool, String)> = Vec::new(); // (step id, field, remove, note)
    let mut outcome_texts: Vec<(String, usize, usize)> = Vec::new();
    let _ = &mut outcome_texts;
    for (pos, &n) in step_nodes.iter().enumerate() {
        let node = &r.nodes[n];
        let el = node.el;
        let e = &doc.elements[el];
        let x = ext(doc, el, "step");
        let id = g.step_id[&n].clone();
        let index = steps.len();
        let pointer = format!("/steps/{index}/name");
        let resolve = |f: usize, lost: &mut Vec<(String, usize)>| -> Result<String, ImportError> {
            let w = g.resolve(r.flows[f].to)?;
            if let Way::Lost(target) = &w {
                lost.push((target.clone(), index));
            }
            Ok(way_id(w))
        };
        let single_next = |lost: &mut Vec<(String, usize)>,
                           step_gaps: &mut Vec<(String, String, bool, String)>|
         -> Result<String, ImportError> {
            match node.out.as_slice() {
                [f] => resolve(*f, lost),
                [] => {
                    step_gaps.push((
                        id.clone(),
                        "next".into(),
                        false,
                        format!("TODO(import): `{}` has no outgoing sequence flow", node.id),
                    ));
                    Ok(String::new())
                }
                [f, ..] => {
                    step_gaps.push((
                        id.clone(),
                        "next".into(),
                        false,
                        format!(
                            "TODO(import): `{}` has several outgoing flows; only the first is kept",
                            node.id
                        ),
                    ));
                    resolve(*f, lost)
                }
            }
        };
        let role = |step_gaps: &mut Vec<(String, String, bool, String)>| -> String {
            match role_of(n) {
                Some(role) => role,
                None => {
                    step_gaps.push((
                        id.clone(),
                        "role".into(),
                        true,
                        format!(
                            "TODO(import): `{}` stands in no role's lane; name its role",
                            node.id
                        ),
                    ));
                    String::new()
                }
            }
        };
        let source = x.and_then(|x| child_source(doc, x));
        let step = match node.kind {
            Kind::UserTask | Kind::ServiceTask | Kind::Task => {
                let name = r.text(el, x, &pointer);
                // The export's outcome gateway stands between the task and its targets.
                let mut flows = node.out.clone();
                if let [f] = flows.as_slice() {
                    let t = r.flows[*f].to;
                    if let Some(o) = ext(doc, r.nodes[t].el, "outcomes")
                        && doc.elements[o].attr("step") == Some(id.as_str())
                    {
                        flows = r.nodes[t].out.clone();
                    }
                }
                let mut outcomes: Vec<(Outcome, usize)> = Vec::new();
                let mut next = None;
                let any_ext = flows.iter().any(|&f| {
                    !exts(doc, r.flows[f].el, "outcome").is_empty()
                        || ext(doc, r.flows[f].el, "next").is_some()
                });
                for (k, &f) in flows.iter().enumerate() {
                    let target = resolve(f, &mut lost)?;
                    let fe = r.flows[f].el;
                    if any_ext {
                        for o in exts(doc, fe, "outcome") {
                            let oe = &doc.elements[o];
                            outcomes.push((
                                Outcome {
                                    id: oe.attr("id").unwrap_or("outcome").to_string(),
                                    name: doc
                                        .first(o, NS_REGLAMENT, "name")
                                        .and_then(|t| text_of(doc, t)),
                                    next: target.clone(),
                                    requires_reason: oe.attr("requiresReason") == Some("true"),
                                },
                                order(doc, Some(o)).unwrap_or(k),
                            ));
                        }
                        if ext(doc, fe, "next").is_some() {
                            next = Some(target);
                        }
                    } else if flows.len() == 1 {
                        next = Some(target);
                    } else {
                        let fname = doc.elements[fe]
                            .attr("name")
                            .unwrap_or_default()
                            .trim()
                            .to_string();
                        let oid = slug(
                            if fname.is_ascii() && !fname.is_empty() {
                                &fname
                            } else {
                                &r.flows[f].id
                            },
                            '_',
                        );
                        outcomes.push((
                            Outcome {
                                id: oid,
                                name: (!fname.is_empty()).then(|| Text {
                                    kk: fname.clone(),
                                    ru: fname.clone(),
                                    en: None,
                                }),
                                next: target,
                                requires_reason: false,
                            },
                            k,
                        ));
                    }
                }
                if flows.is_empty() {
                    step_gaps.push((
                        id.clone(),
                        "next".into(),
                        false,
                        format!("TODO(import): `{}` has no outgoing sequence flow", node.id),
                    ));
                    next = Some(String::new());
                }
                outcomes.sort_by_key(|(_, o)| *o);
                let outcomes: Vec<Outcome> = outcomes.into_iter().map(|(o, _)| o).collect();
                let escalation = x.map(|x| escalations(doc, x)).unwrap_or_default();
                let role = role(&mut step_gaps);
                if node.kind == Kind::ServiceTask {
                    let integration = x
                        .and_then(|x| doc.elements[x].attr("integration"))
                        .map(str::to_string);
                    if integration.is_none() {
                        step_gaps.push((id.clone(), "integration".into(), false, "TODO(import): BPMN does not say which integration reports this step's result".into()));
                    }
                    Step::System(SystemStep {
                        id: id.clone(),
                        name,
                        role,
                        integration: integration.unwrap_or_else(|| "todo.integration".into()),
                        duration: None,
                        durations: BTreeMap::new(),
                        outcomes,
                        next,
                        escalation,
                        source,
                    })
                } else {
                    let produces = x
                        .and_then(|x| doc.first(x, NS_REGLAMENT, "produces"))
                        .and_then(|p| text_of(doc, p));
                    let form = x
                        .and_then(|x| doc.first(x, NS_REGLAMENT, "form"))
                        .and_then(|f| serde_json::from_str(&doc.elements[f].text).ok())
                        .map(Form);
                    let suspensions = x
                        .and_then(|x| doc.first(x, NS_REGLAMENT, "suspensions"))
                        .and_then(|f| serde_json::from_str(&doc.elements[f].text).ok())
                        .unwrap_or_default();
                    Step::Task(TaskStep {
                        id: id.clone(),
                        name,
                        role,
                        duration: None,
                        durations: BTreeMap::new(),
                        produces,
                        form,
                        outcomes,
                        next,
                        escalation,
                        suspensions,
                        source,
                    })
                }
            }
            Kind::Dispatch => {
                let name = r.text(el, x, &pointer);
                let xe = x.map(|x| &doc.elements[x]);
                let at: Option<Vec<LocalTime>> = xe
                    .and_then(|x| x.attr("at"))
                    .and_then(|a| {
                        a.split_whitespace()
                            .map(|t| LocalTime::try_from(t.to_string()).ok())
                            .collect()
                    })
                    .or_else(|| {
                        let timer = doc.first(el, NS_BPMN, "timerEventDefinition")?;
                        let cycle = doc.first(timer, NS_BPMN, "timeCycle")?;
                        iso::parse_cron(&doc.elements[cycle].text)
                    });
                if at.is_none() {
                    step_gaps.push((id.clone(), "at".into(), false, format!("TODO(import): the timer of `{}` names no times of day Reglament can read; write them, e.g. [\"11:00\", \"16:00\"]", node.id)));
                }
                let next = single_next(&mut lost, &mut step_gaps)?;
                Step::Dispatch(DispatchStep {
                    id: id.clone(),
                    name,
                    role: role(&mut step_gaps),
                    at: at.unwrap_or_default(),
                    text: xe.and_then(|x| x.attr("text")).map(str::to_string),
                    duration: xe
                        .and_then(|x| x.attr("duration"))
                        .and_then(|d| d.parse().ok()),
                    next,
                    source,
                })
            }
            Kind::Exclusive => {
                let named = x.and_then(|x| doc.first(x, NS_REGLAMENT, "name")).is_some()
                    || (x.is_none() && !e.attr("name").unwrap_or_default().trim().is_empty());
                let name = if named {
                    Some(r.text(el, x, &pointer))
                } else {
                    None
                };
                let default_flow = e.attr("default");
                let mut branches: Vec<(Branch, usize)> = Vec::new();
                let mut default = None;
                for (k, &f) in node.out.iter().enumerate() {
                    let target = resolve(f, &mut lost)?;
                    let fe = r.flows[f].el;
                    if Some(r.flows[f].id.as_str()) == default_flow {
                        default = Some(target);
                        continue;
                    }
                    let condition = doc
                        .first(fe, NS_BPMN, "conditionExpression")
                        .map(|c| doc.elements[c].text.trim().to_string());
                    let marks = exts(doc, fe, "branch");
                    if marks.len() > 1 {
                        for m in marks {
                            let me = &doc.elements[m];
                            branches.push((
                                Branch {
                                    when: me.attr("when").unwrap_or_default().to_string(),
                                    next: target.clone(),
                                },
                                order(doc, Some(m)).unwrap_or(k),
                            ));
                        }
                        continue;
                    }
                    let when = condition.filter(|c| !c.is_empty()).or_else(|| {
                        marks
                            .first()
                            .and_then(|&m| doc.elements[m].attr("when"))
                            .map(str::to_string)
                    });
                    if when.is_none() {
                        step_gaps.push((
                            id.clone(),
                            format!("branch:{}", branches.len()),
                            false,
                            format!(
                                "TODO(import): flow `{}` has no condition; write one in CEL",
                                r.flows[f].id
                            ),
                        ));
                    }
                    branches.push((
                        Branch {
                            when: when.unwrap_or_default(),
                            next: target,
                        },
                        marks
                            .first()
                            .and_then(|&m| order(doc, Some(m)))
                            .unwrap_or(k),
                    ));
                }
                branches.sort_by_key(|(_, o)| *o);
                Step::Exclusive(ExclusiveStep {
                    id: id.clone(),
                    name,
                    branches: branches.into_iter().map(|(b, _)| b).collect(),
                    default,
                })
            }
            Kind::Parallel => {
                let kind = x.and_then(|x| doc.elements[x].attr("kind"));
                let named = x.and_then(|x| doc.first(x, NS_REGLAMENT, "name")).is_some()
                    || (x.is_none() && !e.attr("name").unwrap_or_default().trim().is_empty());
                let name = if named {
                    Some(r.text(el, x, &pointer))
                } else {
                    None
                };
                let split = match kind {
                    Some("join") => false,
                    Some(_) => true,
                    None => node.out.len() > 1,
                };
                if split {
                    let mut branches: Vec<(String, usize)> = Vec::new();
                    for (k, &f) in node.out.iter().enumerate() {
                        let target = resolve(f, &mut lost)?;
                        let o = ext(doc, r.flows[f].el, "split");
                        branches.push((target, order(doc, o).unwrap_or(k)));
                    }
                    branches.sort_by_key(|(_, o)| *o);
                    Step::Parallel(ParallelStep {
                        id: id.clone(),
                        name,
                        branches: branches.into_iter().map(|(b, _)| b).collect(),
                    })
                } else {
                    let next = single_next(&mut lost, &mut step_gaps)?;
                    Step::Join(JoinStep {
                        id: id.clone(),
                        name,
                        next,
                    })
                }
            }
            Kind::End => {
                let name = r.text(el, x, &pointer);
                let result = x
                    .and_then(|x| doc.elements[x].attr("result"))
                    .and_then(|res| {
                        serde_json::from_value::<CaseResult>(serde_json::Value::String(res.into()))
                            .ok()
                    });
                let result = match result {
                    Some(res) => res,
                    None => {
                        let guess = guess_result(&name);
                        step_gaps.push((id.clone(), "result".into(), false, format!("TODO(import): BPMN does not say how the case ends; `{}` read from the name", guess.as_str())));
                        guess
                    }
                };
                Step::End(EndStep {
                    id: id.clone(),
                    name,
                    result,
                })
            }
            _ => continue,
        };
        let _ = pos;
        steps.push((step, order(doc, x), n));
    }
    // Deadlines onto their tasks.
    for &b in &deadlines {
        let be = r.el(b);
        let host = be.attr("attachedToRef").unwrap_or_default();
        let Some(&h) = r.by_id.get(host) else {
            continue;
        };
        let Some(step_id) = g.step_id.get(&h).cloned() else {
            r.findings.borrow_mut().push(finding(
                doc,
                r.nodes[b].el,
                format!("is attached to `{host}`, which was not imported"),
                true,
            ));
            continue;
        };
        let d = ext(doc, r.nodes[b].el, "deadline");
        let de = d.map(|d| &doc.elements[d]);
        let term: Option<Term> = de
            .and_then(|d| d.attr("term"))
            .and_then(|t| t.parse().ok())
            .or_else(|| {
                let timer = doc.first(r.nodes[b].el, NS_BPMN, "timerEventDefinition")?;
                let dur = doc.first(timer, NS_BPMN, "timeDuration")?;
                iso::parse_duration(&doc.elements[dur].text)
            });
        let Some(term) = term else {
            r.findings.borrow_mut().push(finding(doc, r.nodes[b].el, "has no duration Reglament can read (an ISO 8601 duration such as PT15M, PT2H or P10D); not imported", true));
            continue;
        };
        if be.attr("cancelActivity") != Some("false") {
            r.findings.borrow_mut().push(finding(
                doc,
                r.nodes[b].el,
                "interrupts its task; read as a deadline, which in Reglament leaves the task open",
                false,
            ));
        }
        for &f in &r.nodes[b].out {
            let t = r.flows[f].to;
            if ext(doc, r.nodes[t].el, "breach").is_none() && r.nodes[t].kind != Kind::End {
                r.findings.borrow_mut().push(finding(doc, r.flows[f].el, "leaves a deadline; Reglament escalates a breach and does not branch, so the path after it is not imported", true));
            }
        }
        let channel = de.and_then(|d| d.attr("channel")).map(str::to_string);
        if let Some((step, _, _)) = steps.iter_mut().find(|(s, _, _)| s.id() == step_id) {
            let (duration, durations) = match step {
                Step::Task(t) => (&mut t.duration, &mut t.durations),
                Step::System(t) => (&mut t.duration, &mut t.durations),
                _ => {
                    r.findings.borrow_mut().push(finding(
                        doc,
                        r.nodes[b].el,
                        "is attached to a step that has no deadline in Reglament",
                        true,
                    ));
                    continue;
                }
            };
            match channel {
                Some(c) => {
                    durations.insert(c, term);
                }
                None if duration.is_none() => *duration = Some(term),
                None => r.findings.borrow_mut().push(finding(
                    doc,
                    r.nodes[b].el,
                    "is a second deadline of its task; the first is kept",
                    false,
                )),
            }
        }
    }
    // Steps in the order the extension gives, else in document order.
    steps.sort_by_key(|(_, o, n)| (o.unwrap_or(usize::MAX), *n));
    let steps: Vec<(Step, usize)> = steps.into_iter().map(|(s, _, n)| (s, n)).collect();
    let index_of: HashMap<String, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, (s, _))| (s.id().to_string(), i))
        .collect();

    // Cycles with no way out: steps that reach no end.
    trapped(&r, &steps, &index_of)?;

    // Channels: the start events that do not receive the case from another pool.
    let mut channels: Vec<(Channel, Option<usize>)> = Vec::new();
    let mut channel_gaps: Vec<(usize, String)> = Vec::new();
    for (n, node) in r.nodes.iter().enumerate() {
        if node.kind != Kind::Start || g.hand_in.contains(&n) {
            continue;
        }
        let x = ext(doc, node.el, "channel");
        let xe = x.map(|x| &doc.elements[x]);
        let start = match node.out.as_slice() {
            [f, ..] => {
                let w = g.resolve(r.flows[*f].to)?;
                if let Way::Lost(t) = &w {
                    lost.push((t.clone(), usize::MAX));
                }
                way_id(w)
            }
            [] => {
                return Err(ImportError::Broken {
                    line: r.el(n).line,
                    element: "startEvent".into(),
                    id: node.id.clone(),
                    message: "leads nowhere: it has no outgoing sequence flow".into(),
                });
            }
        };
        let id = xe
            .and_then(|x| x.attr("id"))
            .map_or_else(|| slug(&node.id, '_'), str::to_string);
        let kind = xe.and_then(|x| x.attr("kind")).and_then(|k| {
            serde_json::from_value::<ChannelKind>(serde_json::Value::String(k.into())).ok()
        });
        if kind.is_none() {
            channel_gaps.push((channels.len(), node.id.clone()));
        }
        let pointer = format!("/channels/{}/name", channels.len());
        let has_name = x.and_then(|x| doc.first(x, NS_REGLAMENT, "name")).is_some()
            || (x.is_none() && !r.name(n).is_empty());
        let name = if has_name {
            Some(r.text(node.el, x, &pointer))
        } else {
            None
        };
        channels.push((
            Channel {
                id,
                kind: kind.unwrap_or(ChannelKind::ProviderOffice),
                name,
                start,
                term: x
                    .and_then(|x| doc.first(x, NS_REGLAMENT, "term"))
                    .and_then(|t| term_of(doc, t)),
                extended_term: x
                    .and_then(|x| doc.first(x, NS_REGLAMENT, "extendedTerm"))
                    .and_then(|t| term_of(doc, t)),
                counting: Counting {
                    receipt_and_issue_days_excluded: xe
                        .and_then(|x| x.attr("receiptAndIssueDaysExcluded"))
                        == Some("true"),
                },
            },
            order(doc, x),
        ));
    }
    let mut channel_order: Vec<usize> = (0..channels.len()).collect();
    channel_order.sort_by_key(|&c| (channels[c].1.unwrap_or(usize::MAX), c));
    let mut role_order: Vec<usize> = (0..roles.len()).collect();
    role_order.sort_by_key(|&i| (roles[i].1.unwrap_or(usize::MAX), i));

    // The regulation itself.
    let rx = collaboration.and_then(|c| ext(doc, c, "regulation"));
    let rxe = rx.map(|x| &doc.elements[x]);
    let title_el = participants
        .iter()
        .rev()
        .map(|(e, _)| *e)
        .find(|&e| doc.elements[e].attr("processRef").is_some())
        .unwrap_or_else(|| doc.named(0, NS_BPMN, "process").next().unwrap_or(0));
    let mut regulation_gaps: Vec<Gap> = Vec::new();
    let title = match rx
        .and_then(|x| doc.first(x, NS_REGLAMENT, "title"))
        .and_then(|t| text_of(doc, t))
    {
        Some(t) => t,
        None => r.text(title_el, None, "/title"),
    };
    let id = rxe.and_then(|x| x.attr("id")).map_or_else(
        || {
            let name = doc.elements[title_el].attr("name").unwrap_or_default();
            let base = if name.is_ascii() && name.chars().any(|c| c.is_ascii_alphabetic()) {
                name
            } else {
                doc.elements[title_el].attr("id").unwrap_or("imported")
            };
            slug(base, '-')
        },
        str::to_string,
    );
    let valid_from = rxe
        .and_then(|x| x.attr("validFrom"))
        .and_then(|d| d.parse::<NaiveDate>().ok())
        .or(r.options.valid_from);
    if valid_from.is_none() {
        regulation_gaps.push(Gap {
            pointer: "/valid_from".into(),
            remove: true,
            note: "TODO(import): BPMN does not say from which day the regulation applies; write valid_from (or pass --valid-from)".into(),
        });
    }
    let act = rx.and_then(|x| doc.first(x, NS_REGLAMENT, "act")).map(|a| {
        let e = &doc.elements[a];
        LegalSource {
            act: e.attr("act").unwrap_or_default().to_string(),
            appendix: e.attr("appendix").map(str::to_string),
            url: e.attr("url").map(str::to_string),
            standard: e.attr("standard").map(str::to_string),
        }
    });
    let source = act.unwrap_or_else(|| {
        if r.options.act.is_none() {
            regulation_gaps.push(Gap {
                pointer: "/source".into(),
                remove: true,
                note: "TODO(import): BPMN does not name the legal act; write source.act (or pass --act)".into(),
            });
        }
        LegalSource {
            act: r.options.act.clone().unwrap_or_default(),
            appendix: None,
            url: None,
            standard: None,
        }
    });
    let region = rxe
        .and_then(|x| x.attr("region"))
        .map(str::to_string)
        .or_else(|| r.options.region.clone());
    if region.is_none() {
        regulation_gaps.push(Gap {
            pointer: "/region".into(),
            remove: true,
            note: "TODO(import): BPMN does not say which region's offices provide the service; write region (or pass --region)".into(),
        });
    }
    let mut application_form = rx
        .and_then(|x| doc.first(x, NS_REGLAMENT, "applicationForm"))
        .and_then(|f| serde_json::from_str(&doc.elements[f].text).ok())
        .map(Form);
    if application_form.is_none() {
        let conditions = steps.iter().flat_map(|(s, _)| match s {
            Step::Exclusive(x) => x.branches.iter().map(|b| b.when.as_str()).collect(),
            _ => Vec::new(),
        });
        let fields = super::form::implied_fields(conditions);
        if !fields.is_empty() {
            application_form = Some(Form(super::form::implied_form(&fields)));
            regulation_gaps.push(Gap {
                pointer: "/application_form".into(),
                remove: false,
                note: format!(
                    "TODO(import): the form is inferred from the conditions ({}); give each field its title and constraints",
                    fields.keys().map(String::as_str).collect::<Vec<_>>().join(", ")
                ),
            });
        }
    }
    let notes = rx
        .map(|x| {
            doc.named(x, NS_REGLAMENT, "note")
                .map(|n| {
                    let e = &doc.elements[n];
                    Note {
                        about: e.attr("about").unwrap_or_default().to_string(),
                        text: e.attr("text").unwrap_or_default().to_string(),
                        source: child_source(doc, n),
                    }
                })
                .collect()
        })
        .unwrap_or_default();

    let mut gaps = r.gaps.take();
    gaps.extend(regulation_gaps);
    // Remap role and channel pointers to their final order.
    let role_pos: Vec<usize> = {
        let mut pos = vec![0; roles.len()];
        for (new, &old) in role_order.iter().enumerate() {
            pos[old] = new;
        }
        pos
    };
    let channel_pos: Vec<usize> = {
        let mut pos = vec![0; channels.len()];
        for (new, &old) in channel_order.iter().enumerate() {
            pos[old] = new;
        }
        pos
    };
    let step_pos: HashMap<usize, usize> = HashMap::new();
    let _ = step_pos;
    for gap in &mut gaps {
        gap.pointer = remap(&gap.pointer, "/roles/", &role_pos);
        gap.pointer = remap(&gap.pointer, "/channels/", &channel_pos);
    }
    // Step name gaps were recorded by build position; move them to the sorted order.
    let built_ids: Vec<String> = step_nodes
        .iter()
        .filter_map(|n| g.step_id.get(n).cloned())
        .collect();
    for gap in &mut gaps {
        if let Some(rest) = gap.pointer.strip_prefix("/steps/")
            && let Some((k, tail)) = rest.split_once('/')
            && let Ok(k) = k.parse::<usize>()
            && let Some(id) = built_ids.get(k)
            && let Some(&i) = index_of.get(id)
        {
            gap.pointer = format!("/steps/{i}/{tail}");
        }
    }
    for (i, name) in &role_gaps {
        gaps.push(Gap {
            pointer: format!("/roles/{}/kind", role_pos[*i]),
            remove: true,
            note: format!("TODO(import): BPMN does not say whether `{name}` is a person or a system; write kind: person or kind: system"),
        });
    }
    for (c, start) in &channel_gaps {
        gaps.push(Gap {
            pointer: format!("/channels/{}/kind", channel_pos[*c]),
            remove: false,
            note: format!("TODO(import): BPMN does not say how applications reach the provider at `{start}`; provider_office assumed (or rural_akim, service_centre, egov_portal)"),
        });
    }
    for (step, field, remove, note) in step_gaps {
        if let Some(&i) = index_of.get(&step) {
            let field = match field.strip_prefix("branch:") {
                Some(b) => format!("branches/{b}/when"),
                None => field,
            };
            gaps.push(Gap {
                pointer: format!("/steps/{i}/{field}"),
                remove,
                note,
            });
        }
    }
    for (target, _) in &lost {
        let element = r
            .by_id
            .get(target)
            .map(|&n| (r.el(n).name.clone(), r.el(n).line))
            .unwrap_or_default();
        gaps.push(Gap {
            pointer: String::new(),
            remove: false,
            note: format!(
                "TODO(import): `{target}` ({} on line {}) is not supported, so the steps that lead to it lead nowhere",
                element.0, element.1
            ),
        });
    }
    gaps.dedup();

    let regulation = Regulation {
        id,
        version: rxe
            .and_then(|x| x.attr("version"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(1),
        valid_from: valid_from.unwrap_or_default(),
        in_force_from: rxe
            .and_then(|x| x.attr("inForceFrom"))
            .and_then(|d| d.parse().ok()),
        valid_to: rxe
            .and_then(|x| x.attr("validTo"))
            .and_then(|d| d.parse().ok()),
        repealed: rx
            .and_then(|x| doc.first(x, NS_REGLAMENT, "repealed"))
            .map(|r| {
                let e = &doc.elements[r];
                Repeal {
                    text: e.attr("text").unwrap_or_default().to_string(),
                    date: e.attr("date").and_then(|d| d.parse().ok()),
                    act: e.attr("act").map(str::to_string),
                    url: e.attr("url").map(str::to_string),
                }
            }),
        title,
        source,
        calendar: rxe
            .and_then(|x| x.attr("calendar"))
            .unwrap_or("kz")
            .to_string(),
        region: region.unwrap_or_default(),
        warnings: rxe
            .and_then(|x| x.attr("warnings"))
            .map(|w| {
                w.split_whitespace()
                    .filter_map(|n| n.parse().ok())
                    .collect()
            })
            .unwrap_or_default(),
        roles: role_order.iter().map(|&i| roles[i].0.clone()).collect(),
        channels: channel_order
            .iter()
            .map(|&i| channels[i].0.clone())
            .collect(),
        application_form,
        steps: steps.into_iter().map(|(s, _)| s).collect(),
        notes,
    };
    Ok(Draft {
        regulation,
        gaps,
        findings: r.findings.take(),
    })
}

fn remap(pointer: &str, prefix: &str, pos: &[usize]) -> String {
    if let Some(rest) = pointer.strip_prefix(prefix)
        && let Some((k, tail)) = rest.split_once('/')
        && let Ok(k) = k.parse::<usize>()
        && let Some(&new) = pos.get(k)
    {
        return format!("{prefix}{new}/{tail}");
    }
    pointer.to_string()
}

fn escalations(doc: &Doc, x: usize) -> Vec<Escalation> {
    doc.named(x, NS_REGLAMENT, "escalation")
        .filter_map(|e| {
            let e = &doc.elements[e];
            Some(Escalation {
                action: match e.attr("action")? {
                    "notify" => EscalationAction::Notify,
                    "reassign" => EscalationAction::Reassign,
                    _ => return None,
                },
                role: e.attr("role")?.to_string(),
                after: e.attr("after").and_then(|a| a.parse().ok()),
            })
        })
        .collect()
}

/// How a case ends, read from an end event's name where BPMN has no other word for it.
fn guess_result(name: &Text) -> CaseResult {
    let all = format!(
        "{} {} {}",
        name.kk,
        name.ru,
        name.en.as_deref().unwrap_or("")
    )
    .to_lowercase();
    if ["refus", "reject", "отказ", "бас тарт"]
        .iter()
        .any(|w| all.contains(w))
    {
        CaseResult::Refused
    } else if ["return", "возврат", "вернут", "қайтар"]
        .iter()
        .any(|w| all.contains(w))
    {
        CaseResult::Returned
    } else if ["withdraw", "отозв", "отзыв"]
        .iter()
        .any(|w| all.contains(w))
    {
        CaseResult::Withdrawn
    } else {
        CaseResult::Granted
    }
}

/// A loop of steps from which no end step can be reached is an error of the BPMN itself.
fn trapped(
    r: &Reader,
    steps: &[(Step, usize)],
    index_of: &HashMap<String, usize>,
) -> Result<(), ImportError> {
    let n = steps.len();
    let succ: Vec<Vec<usize>> = steps
        .iter()
        .map(|(s, _)| {
            crate::compile::successors(s)
                .into_iter()
                .filter_map(|(_, t)| index_of.get(t).copied())
                .collect()
        })
        .collect();
    // Steps whose way on is lost (unsupported or missing) are not trapped: the gap says so.
    let open: Vec<bool> = steps
        .iter()
        .map(|(s, _)| {
            matches!(s, Step::End(_))
                || crate::compile::successors(s)
                    .iter()
                    .any(|(_, t)| !index_of.contains_key(*t))
        })
        .collect();
    let mut pred: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (a, ts) in succ.iter().enumerate() {
        for &t in ts {
            pred[t].push(a);
        }
    }
    let mut reaches = open.clone();
    let mut queue: Vec<usize> = (0..n).filter(|&i| open[i]).collect();
    while let Some(s) = queue.pop() {
        for &p in &pred[s] {
            if !reaches[p] {
                reaches[p] = true;
                queue.push(p);
            }
        }
    }
    if let Some(first) = (0..n).find(|&i| !reaches[i]) {
        // Walk from it until a step repeats: that is the cycle to name.
        let mut path = vec![first];
        let mut at = first;
        while let Some(&next) = succ[at].iter().find(|&&t| !reaches[t]) {
            if let Some(k) = path.iter().position(|&p| p == next) {
                path.drain(..k);
                path.push(next);
                break;
            }
            path.push(next);
            at = next;
        }
        let ids: Vec<String> = path.iter().map(|&i| steps[i].0.id().to_string()).collect();
        return Err(ImportError::Trapped {
            line: r.el(steps[path[0]].1).line,
            ids,
        });
    }
    Ok(())
}
