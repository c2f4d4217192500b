//! The BPMN 2.0 XML of a plan and its diagram, written with quick-xml. Element and attribute
//! order is fixed and numbers are printed with one decimal, so the same regulation gives
//! byte-identical XML.

use std::borrow::Cow;

use quick_xml::Writer;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::QName;

use crate::compile::{Edge, Process};
use crate::duration::{Term, Unit};
use crate::model::{Channel, Escalation, LegalSource, Role, SourceRef, StatutoryTerm, Step};
use crate::render::{Point, Rect};
use crate::text::{Lang, Text};

use super::diagram::Diagram;
use super::iso;
use super::plan::{NodeKind, Org, Plan};
use super::{NS_BPMN, NS_BPMNDI, NS_DC, NS_DI, NS_REGLAMENT, NS_XSI, words};

/// An attribute value with what XML would otherwise normalise away (line breaks, tabs)
/// written as character references, so names and quotes come back exactly.
fn attr_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
    out
}

type Attrs<'a> = Vec<(&'a str, String)>;

struct Xml {
    w: Writer<Vec<u8>>,
}

impl Xml {
    fn start(name: &str, attrs: &Attrs) -> BytesStart<'static> {
        let mut e = BytesStart::new(name.to_string());
        for (k, v) in attrs {
            e.push_attribute(Attribute {
                key: QName(k),
                value: Cow::Owned(attr_value(v)),
            });
        }
        e
    }

    fn open(&mut self, name: &str, attrs: Attrs) {
        let _ = self.w.write_event(Event::Start(Self::start(name, &attrs)));
    }

    fn empty(&mut self, name: &str, attrs: Attrs) {
        let _ = self.w.write_event(Event::Empty(Self::start(name, &attrs)));
    }

    fn close(&mut self, name: &str) {
        let _ = self
            .w
            .write_event(Event::End(BytesEnd::new(name.to_string())));
    }

    fn text(&mut self, name: &str, attrs: Attrs, text: &str) {
        let _ = self.w.write_event(Event::Start(Self::start(name, &attrs)));
        let _ = self.w.write_event(Event::Text(BytesText::new(text)));
        let _ = self
            .w
            .write_event(Event::End(BytesEnd::new(name.to_string())));
    }
}

fn num(v: f64) -> String {
    format!("{v:.1}")
}

fn opt<'a>(attrs: &mut Attrs<'a>, key: &'a str, value: Option<&str>) {
    if let Some(v) = value {
        attrs.push((key, v.to_string()));
    }
}

fn text_el(x: &mut Xml, name: &str, t: &Text) {
    let mut a: Attrs = vec![("kk", t.kk.clone()), ("ru", t.ru.clone())];
    opt(&mut a, "en", t.en.as_deref());
    x.empty(name, a);
}

fn source_el(x: &mut Xml, name: &str, s: &SourceRef) {
    let mut a: Attrs = Vec::new();
    opt(&mut a, "appendix", s.appendix.as_deref());
    opt(&mut a, "table", s.table.as_deref());
    opt(&mut a, "action", s.action.as_deref());
    opt(&mut a, "paragraph", s.paragraph.as_deref());
    opt(&mut a, "quote", s.quote.as_deref());
    x.empty(name, a);
}

fn term_el(x: &mut Xml, name: &str, t: &StatutoryTerm) {
    let a: Attrs = vec![
        ("text", t.text.clone()),
        ("duration", t.duration.to_string()),
    ];
    match &t.source {
        Some(s) => {
            x.open(name, a);
            source_el(x, "reglament:source", s);
            x.close(name);
        }
        None => x.empty(name, a),
    }
}

fn act_el(x: &mut Xml, s: &LegalSource) {
    let mut a: Attrs = vec![("act", s.act.clone())];
    opt(&mut a, "appendix", s.appendix.as_deref());
    opt(&mut a, "url", s.url.as_deref());
    opt(&mut a, "standard", s.standard.as_deref());
    x.empty("reglament:act", a);
}

fn escalation_el(x: &mut Xml, e: &Escalation) {
    let action = match e.action {
        crate::model::EscalationAction::Notify => "notify",
        crate::model::EscalationAction::Reassign => "reassign",
    };
    let mut a: Attrs = vec![("action", action.to_string()), ("role", e.role.clone())];
    if let Some(after) = e.after {
        a.push(("after", after.to_string()));
    }
    x.empty("reglament:escalation", a);
}

/// The place a deadline's extension names: the step's paragraph, else its table action.
fn paragraph(s: &SourceRef) -> Option<String> {
    if let Some(p) = &s.paragraph {
        return Some(p.clone());
    }
    let mut parts = Vec::new();
    if let Some(a) = &s.appendix {
        parts.push(format!("appendix {a}"));
    }
    if let Some(t) = &s.table {
        parts.push(format!("table {t}"));
    }
    if let Some(a) = &s.action {
        parts.push(format!("action {a}"));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

fn counting(term: Term) -> &'static str {
    match term.unit {
        Unit::Minutes | Unit::Hours => "working_time",
        Unit::WorkingDays => "working_days",
        Unit::CalendarDays => "calendar_days",
    }
}

struct Ctx<'a> {
    p: &'a Process,
    plan: &'a Plan,
    d: &'a Diagram,
    lang: Lang,
    incoming: Vec<Vec<usize>>,
    outgoing: Vec<Vec<usize>>,
    /// Deadline flows leave boundary events; their ids by deadline.
    escalations: Vec<(String, String)>,
}

/// Writes the whole document.
pub fn write(p: &Process, plan: &Plan, d: &Diagram, lang: Lang) -> String {
    let mut incoming = vec![Vec::new(); plan.nodes.len()];
    let mut outgoing = vec![Vec::new(); plan.nodes.len()];
    for (f, flow) in plan.flows.iter().enumerate() {
        outgoing[flow.from].push(f);
        incoming[flow.to].push(f);
    }
    // One escalation definition per kind of escalation end event.
    let mut escalations: Vec<(String, String)> = Vec::new();
    for step in &p.regulation.steps {
        let list = match step {
            Step::Task(t) => &t.escalation,
            Step::System(t) => &t.escalation,
            _ => continue,
        };
        if let Some(code) = escalation_code(list)
            && !escalations.iter().any(|(c, _)| *c == code)
        {
            escalations.push((code, words::breach(lang, list, &p.regulation)));
        }
    }
    let c = Ctx {
        p,
        plan,
        d,
        lang,
        incoming,
        outgoing,
        escalations,
    };
    let mut x = Xml {
        w: Writer::new_with_indent(Vec::with_capacity(plan.nodes.len() * 1500 + 4096), b' ', 2),
    };
    let _ =
        x.w.write_event(Event::Decl(quick_xml::events::BytesDecl::new(
            "1.0",
            Some("UTF-8"),
            None,
        )));
    x.open(
        "bpmn:definitions",
        vec![
            ("xmlns:bpmn", NS_BPMN.into()),
            ("xmlns:bpmndi", NS_BPMNDI.into()),
            ("xmlns:dc", NS_DC.into()),
            ("xmlns:di", NS_DI.into()),
            ("xmlns:xsi", NS_XSI.into()),
            ("xmlns:reglament", NS_REGLAMENT.into()),
            ("id", "Definitions_1".into()),
            (
                "targetNamespace",
                format!("urn:reglament:regulation:{}", p.regulation.id),
            ),
            ("exporter", "Reglament".into()),
            ("exporterVersion", env!("CARGO_PKG_VERSION").into()),
        ],
    );
    for (code, name) in &c.escalations {
        x.empty(
            "bpmn:escalation",
            vec![
                (
                    "id",
                    format!("Escalation_{}", code.replace([':', ' '], "_")),
                ),
                ("name", name.clone()),
                ("escalationCode", code.clone()),
            ],
        );
    }
    collaboration(&mut x, &c);
    for (i, org) in plan.orgs.iter().enumerate() {
        process(&mut x, &c, i, *org);
    }
    diagram(&mut x, &c);
    x.close("bpmn:definitions");
    let mut out = String::from_utf8(x.w.into_inner()).unwrap_or_default();
    out.push('\n');
    out
}

fn escalation_code(list: &[Escalation]) -> Option<String> {
    if list.is_empty() {
        return None;
    }
    Some(
        list.iter()
            .map(|e| {
                let action = match e.action {
                    crate::model::EscalationAction::Notify => "notify",
                    crate::model::EscalationAction::Reassign => "reassign",
                };
                format!("{action}:{}", e.role)
            })
            .collect::<Vec<_>>()
            .join(" "),
    )
}

fn collaboration(x: &mut Xml, c: &Ctx) {
    let reg = &c.p.regulation;
    x.open("bpmn:collaboration", vec![("id", "Collaboration_1".into())]);
    x.open("bpmn:extensionElements", vec![]);
    let mut a: Attrs = vec![
        ("id", reg.id.clone()),
        ("version", reg.version.to_string()),
        ("validFrom", reg.valid_from.to_string()),
    ];
    if let Some(from) = reg.in_force_from {
        a.push(("inForceFrom", from.to_string()));
    }
    if let Some(to) = reg.valid_to {
        a.push(("validTo", to.to_string()));
    }
    a.push(("calendar", reg.calendar.clone()));
    a.push(("region", reg.region.clone()));
    if !reg.warnings.is_empty() {
        let w: Vec<String> = reg.warnings.iter().map(u8::to_string).collect();
        a.push(("warnings", w.join(" ")));
    }
    x.open("reglament:regulation", a);
    text_el(x, "reglament:title", &reg.title);
    act_el(x, &reg.source);
    if let Some(r) = &reg.repealed {
        let mut a: Attrs = vec![("text", r.text.clone())];
        if let Some(date) = r.date {
            a.push(("date", date.to_string()));
        }
        opt(&mut a, "act", r.act.as_deref());
        opt(&mut a, "url", r.url.as_deref());
        x.empty("reglament:repealed", a);
    }
    if let Some(form) = &reg.application_form {
        x.text(
            "reglament:applicationForm",
            vec![],
            &serde_json::to_string(&form.0).unwrap_or_default(),
        );
    }
    for note in &reg.notes {
        let a: Attrs = vec![("about", note.about.clone()), ("text", note.text.clone())];
        match &note.source {
            Some(s) => {
                x.open("reglament:note", a);
                source_el(x, "reglament:source", s);
                x.close("reglament:note");
            }
            None => x.empty("reglament:note", a),
        }
    }
    x.close("reglament:regulation");
    x.close("bpmn:extensionElements");
    x.empty(
        "bpmn:participant",
        vec![
            ("id", "Participant_applicant".into()),
            ("name", words::org(Org::Applicant, c.lang).into()),
        ],
    );
    for org in &c.plan.orgs {
        x.empty(
            "bpmn:participant",
            vec![
                ("id", format!("Participant_{}", org.key())),
                ("name", words::org(*org, c.lang).into()),
                ("processRef", format!("Process_{}", org.key())),
            ],
        );
    }
    for m in &c.plan.messages {
        let source = m.from.map_or_else(
            || "Participant_applicant".to_string(),
            |n| c.plan.nodes[n].id.clone(),
        );
        let mut a: Attrs = vec![("id", m.id.clone())];
        opt(&mut a, "name", m.name.as_deref());
        a.push(("sourceRef", source));
        a.push(("targetRef", c.plan.nodes[m.to].id.clone()));
        x.empty("bpmn:messageFlow", a);
    }
    x.close("bpmn:collaboration");
}

fn role_ext(x: &mut Xml, r: usize, role: &Role) {
    let kind = match role.kind {
        crate::model::RoleKind::Person => "person",
        crate::model::RoleKind::System => "system",
    };
    let mut a: Attrs = vec![
        ("id", role.id.clone()),
        ("kind", kind.into()),
        ("order", r.to_string()),
    ];
    if let Some(o) = role.office {
        a.push(("office", o.as_str().to_string()));
    }
    x.open("reglament:role", a);
    text_el(x, "reglament:name", &role.name);
    if let Some(s) = &role.source {
        source_el(x, "reglament:source", s);
    }
    x.close("reglament:role");
}

fn process(x: &mut Xml, c: &Ctx, pool: usize, org: Org) {
    let plan = c.plan;
    let key = org.key();
    x.open(
        "bpmn:process",
        vec![
            ("id", format!("Process_{key}")),
            ("name", words::org(org, c.lang).into()),
            ("isExecutable", "false".into()),
        ],
    );
    x.open("bpmn:laneSet", vec![("id", format!("LaneSet_{key}"))]);
    for (l, lane) in plan.lanes.iter().enumerate() {
        if lane.org != org {
            continue;
        }
        let (id, name) = match lane.role {
            Some(r) => {
                let role = &c.p.regulation.roles[r];
                (
                    format!("Lane_{}", role.id),
                    role.name.get(c.lang).to_string(),
                )
            }
            None => (
                format!("Lane_process_{key}"),
                words::process_lane(c.lang).to_string(),
            ),
        };
        x.open("bpmn:lane", vec![("id", id), ("name", name)]);
        x.open("bpmn:extensionElements", vec![]);
        match lane.role {
            Some(r) => role_ext(x, r, &c.p.regulation.roles[r]),
            None => x.empty("reglament:noRole", vec![]),
        }
        x.close("bpmn:extensionElements");
        for (n, node) in plan.nodes.iter().enumerate() {
            if node.lane == l {
                x.text("bpmn:flowNodeRef", vec![], &node.id);
                for d in plan.deadlines_of(n) {
                    x.text("bpmn:flowNodeRef", vec![], &d.id);
                    x.text("bpmn:flowNodeRef", vec![], &d.end_id);
                }
            }
        }
        x.close("bpmn:lane");
    }
    x.close("bpmn:laneSet");
    let _ = pool;
    for (n, node) in plan.nodes.iter().enumerate() {
        if plan.lanes[node.lane].org != org {
            continue;
        }
        flow_node(x, c, n);
        for (i, d) in plan.deadlines.iter().enumerate() {
            if d.node == n {
                deadline(x, c, i);
            }
        }
    }
    for f in &plan.flows {
        if plan.lanes[plan.nodes[f.from].lane].org != org {
            continue;
        }
        sequence_flow(x, c, f);
    }
    for d in &plan.deadlines {
        if plan.lanes[plan.nodes[d.node].lane].org != org {
            continue;
        }
        x.empty(
            "bpmn:sequenceFlow",
            vec![
                ("id", d.flow_id.clone()),
                ("sourceRef", d.id.clone()),
                ("targetRef", d.end_id.clone()),
            ],
        );
    }
    x.close("bpmn:process");
}

fn refs(x: &mut Xml, c: &Ctx, n: usize) {
    for &f in &c.incoming[n] {
        x.text("bpmn:incoming", vec![], &c.plan.flows[f].id);
    }
    for &f in &c.outgoing[n] {
        x.text("bpmn:outgoing", vec![], &c.plan.flows[f].id);
    }
}

fn step_ext(x: &mut Xml, c: &Ctx, s: usize) {
    let step = c.p.step(s);
    let mut a: Attrs = vec![
        ("id", step.id().to_string()),
        ("kind", step.kind_name().to_string()),
        ("order", s.to_string()),
    ];
    opt(&mut a, "role", step.role());
    match step {
        Step::System(t) => a.push(("integration", t.integration.clone())),
        Step::Dispatch(d) => {
            let at: Vec<String> = d.at.iter().map(|t| String::from(*t)).collect();
            a.push(("at", at.join(" ")));
            opt(&mut a, "text", d.text.as_deref());
            if let Some(t) = d.duration {
                a.push(("duration", t.to_string()));
            }
        }
        Step::End(e) => a.push(("result", e.result.as_str().to_string())),
        _ => {}
    }
    x.open("bpmn:extensionElements", vec![]);
    x.open("reglament:step", a);
    if let Some(name) = step.name() {
        text_el(x, "reglament:name", name);
    }
    match step {
        Step::Task(t) => {
            if let Some(p) = &t.produces {
                text_el(x, "reglament:produces", p);
            }
            if let Some(form) = &t.form {
                x.text(
                    "reglament:form",
                    vec![],
                    &serde_json::to_string(&form.0).unwrap_or_default(),
                );
            }
            for e in &t.escalation {
                escalation_el(x, e);
            }
            // Like the form: JSON inside the extension element, so that names in three
            // languages and the source reference come back exactly.
            if !t.suspensions.is_empty() {
                x.text(
                    "reglament:suspensions",
                    vec![],
                    &serde_json::to_string(&t.suspensions).unwrap_or_default(),
                );
            }
        }
        Step::System(t) => {
            for e in &t.escalation {
                escalation_el(x, e);
            }
        }
        _ => {}
    }
    if let Some(src) = step.source() {
        source_el(x, "reglament:source", src);
    }
    x.close("reglament:step");
    x.close("bpmn:extensionElements");
}

fn channel_ext(x: &mut Xml, c: usize, ch: &Channel) {
    let mut a: Attrs = vec![
        ("id", ch.id.clone()),
        ("kind", ch.kind.as_str().to_string()),
        ("order", c.to_string()),
        ("start", ch.start.clone()),
    ];
    if ch.counting.receipt_and_issue_days_excluded {
        a.push(("receiptAndIssueDaysExcluded", "true".into()));
    }
    x.open("bpmn:extensionElements", vec![]);
    x.open("reglament:channel", a);
    if let Some(n) = &ch.name {
        text_el(x, "reglament:name", n);
    }
    if let Some(t) = &ch.term {
        term_el(x, "reglament:term", t);
    }
    if let Some(t) = &ch.extended_term {
        term_el(x, "reglament:extendedTerm", t);
    }
    x.close("reglament:channel");
    x.close("bpmn:extensionElements");
}

fn flow_node(x: &mut Xml, c: &Ctx, n: usize) {
    let node = &c.plan.nodes[n];
    let id = node.id.clone();
    let named = |x: &mut Xml, el: &str, extra: Attrs| {
        let mut a: Attrs = vec![("id", id.clone())];
        if !node.name.is_empty() {
            a.push(("name", node.name.clone()));
        }
        a.extend(extra);
        x.open(el, a);
        el.to_string()
    };
    match node.kind {
        NodeKind::Step(s) => {
            let step = c.p.step(s);
            let el = match step {
                Step::Task(_) => "bpmn:userTask",
                Step::System(_) => "bpmn:serviceTask",
                Step::Dispatch(_) => "bpmn:intermediateCatchEvent",
                Step::Exclusive(_) => "bpmn:exclusiveGateway",
                Step::Parallel(_) | Step::Join(_) => "bpmn:parallelGateway",
                Step::End(_) => "bpmn:endEvent",
            };
            let mut extra: Attrs = Vec::new();
            if let Step::Exclusive(_) = step
                && let Some(f) = c.outgoing[n].iter().find(|&&f| c.plan.flows[f].default)
            {
                extra.push(("default", c.plan.flows[*f].id.clone()));
            }
            let el = named(x, el, extra);
            step_ext(x, c, s);
            refs(x, c, n);
            if let Step::Dispatch(d) = step {
                x.open(
                    "bpmn:timerEventDefinition",
                    vec![("id", format!("Timer_{id}"))],
                );
                x.text(
                    "bpmn:timeCycle",
                    vec![("xsi:type", "bpmn:tFormalExpression".into())],
                    &iso::cron(&d.at),
                );
                x.close("bpmn:timerEventDefinition");
            }
            x.close(&el);
        }
        NodeKind::EndCopy(s) => {
            let el = named(x, "bpmn:endEvent", vec![]);
            step_ext(x, c, s);
            refs(x, c, n);
            x.close(&el);
        }
        NodeKind::ChannelStart(ch) => {
            let el = named(x, "bpmn:startEvent", vec![]);
            channel_ext(x, ch, &c.p.regulation.channels[ch]);
            refs(x, c, n);
            x.empty(
                "bpmn:messageEventDefinition",
                vec![("id", format!("Message_{id}"))],
            );
            x.close(&el);
        }
        NodeKind::Outcomes(s) => {
            let el = named(x, "bpmn:exclusiveGateway", vec![]);
            x.open("bpmn:extensionElements", vec![]);
            x.empty(
                "reglament:outcomes",
                vec![("step", c.p.step(s).id().to_string())],
            );
            x.close("bpmn:extensionElements");
            refs(x, c, n);
            x.close(&el);
        }
        NodeKind::Merge => {
            let el = named(x, "bpmn:exclusiveGateway", vec![]);
            refs(x, c, n);
            x.close(&el);
        }
        NodeKind::HandOut | NodeKind::HandIn => {
            let el = if node.kind == NodeKind::HandOut {
                "bpmn:endEvent"
            } else {
                "bpmn:startEvent"
            };
            let el = named(x, el, vec![]);
            refs(x, c, n);
            x.empty(
                "bpmn:messageEventDefinition",
                vec![("id", format!("Message_{id}"))],
            );
            x.close(&el);
        }
    }
}

fn deadline(x: &mut Xml, c: &Ctx, i: usize) {
    let d = &c.plan.deadlines[i];
    let step = c.p.step(d.step);
    let reg = &c.p.regulation;
    let channel = d
        .channel
        .as_ref()
        .and_then(|id| reg.channels.iter().find(|ch| &ch.id == id));
    let mut name = crate::render::term_in(d.term, c.lang);
    if let Some(ch) = channel {
        let cname = ch.name.as_ref().map_or(ch.id.as_str(), |n| n.get(c.lang));
        name = format!("{name} ({})", crate::render::truncate(cname, 40));
    }
    x.open(
        "bpmn:boundaryEvent",
        vec![
            ("id", d.id.clone()),
            ("name", name),
            ("cancelActivity", "false".into()),
            ("attachedToRef", c.plan.nodes[d.node].id.clone()),
        ],
    );
    let mut a: Attrs = vec![
        ("term", d.term.to_string()),
        ("counting", counting(d.term).into()),
    ];
    opt(&mut a, "channel", d.channel.as_deref());
    if channel.is_some_and(|ch| ch.counting.receipt_and_issue_days_excluded) {
        a.push(("receiptAndIssueDaysExcluded", "true".into()));
    }
    if let Some(p) = step.source().and_then(paragraph) {
        a.push(("paragraph", p));
    }
    x.open("bpmn:extensionElements", vec![]);
    x.empty("reglament:deadline", a);
    x.close("bpmn:extensionElements");
    x.text("bpmn:outgoing", vec![], &d.flow_id);
    x.open(
        "bpmn:timerEventDefinition",
        vec![("id", format!("Timer_{}", d.id))],
    );
    x.text(
        "bpmn:timeDuration",
        vec![("xsi:type", "bpmn:tFormalExpression".into())],
        &iso::duration(d.term),
    );
    x.close("bpmn:timerEventDefinition");
    x.close("bpmn:boundaryEvent");

    x.open(
        "bpmn:endEvent",
        vec![("id", d.end_id.clone()), ("name", d.end_name.clone())],
    );
    x.open("bpmn:extensionElements", vec![]);
    x.empty("reglament:breach", vec![("step", step.id().to_string())]);
    x.close("bpmn:extensionElements");
    x.text("bpmn:incoming", vec![], &d.flow_id);
    let list = match step {
        Step::Task(t) => &t.escalation[..],
        Step::System(t) => &t.escalation[..],
        _ => &[],
    };
    if let Some(code) = escalation_code(list) {
        x.empty(
            "bpmn:escalationEventDefinition",
            vec![
                ("id", format!("EscalationDef_{}", d.end_id)),
                (
                    "escalationRef",
                    format!("Escalation_{}", code.replace([':', ' '], "_")),
                ),
            ],
        );
    }
    x.close("bpmn:endEvent");
}

fn sequence_flow(x: &mut Xml, c: &Ctx, f: &super::plan::PlanFlow) {
    let mut a: Attrs = vec![("id", f.id.clone())];
    opt(&mut a, "name", f.name.as_deref());
    a.push(("sourceRef", c.plan.nodes[f.from].id.clone()));
    a.push(("targetRef", c.plan.nodes[f.to].id.clone()));
    let ext = f.step.is_some_and(|s| {
        f.edges.iter().any(|e| match e {
            Edge::Outcome(_) | Edge::Next => {
                matches!(c.p.step(s), Step::Task(_) | Step::System(_))
            }
            Edge::Branch(_) | Edge::Split(_) => true,
            Edge::Default => false,
        })
    });
    if !ext && f.condition.is_none() {
        x.empty("bpmn:sequenceFlow", a);
        return;
    }
    x.open("bpmn:sequenceFlow", a);
    if ext && let Some(s) = f.step {
        x.open("bpmn:extensionElements", vec![]);
        let step = c.p.step(s);
        let outcomes = match step {
            Step::Task(t) => &t.outcomes[..],
            Step::System(t) => &t.outcomes[..],
            _ => &[],
        };
        for e in &f.edges {
            match e {
                Edge::Outcome(id) => {
                    if let Some((i, o)) = outcomes.iter().enumerate().find(|(_, o)| &o.id == id) {
                        let mut a: Attrs = vec![("id", o.id.clone()), ("order", i.to_string())];
                        if o.requires_reason {
                            a.push(("requiresReason", "true".into()));
                        }
                        match &o.name {
                            Some(n) => {
                                x.open("reglament:outcome", a);
                                text_el(x, "reglament:name", n);
                                x.close("reglament:outcome");
                            }
                            None => x.empty("reglament:outcome", a),
                        }
                    }
                }
                Edge::Next => x.empty("reglament:next", vec![]),
                Edge::Branch(i) => {
                    let when = match step {
                        Step::Exclusive(xs) => xs.branches.get(*i).map(|b| b.when.clone()),
                        _ => None,
                    };
                    let mut a: Attrs = vec![("order", i.to_string())];
                    opt(&mut a, "when", when.as_deref());
                    x.empty("reglament:branch", a);
                }
                Edge::Split(i) => x.empty("reglament:split", vec![("order", i.to_string())]),
                Edge::Default => {}
            }
        }
        x.close("bpmn:extensionElements");
    }
    if let Some(cond) = &f.condition {
        x.text(
            "bpmn:conditionExpression",
            vec![
                ("xsi:type", "bpmn:tFormalExpression".into()),
                ("language", "cel".into()),
            ],
            cond,
        );
    }
    x.close("bpmn:sequenceFlow");
}

fn bounds(x: &mut Xml, r: &Rect) {
    x.empty(
        "dc:Bounds",
        vec![
            ("x", num(r.x)),
            ("y", num(r.y)),
            ("width", num(r.width)),
            ("height", num(r.height)),
        ],
    );
}

fn shape(x: &mut Xml, id: &str, r: &Rect, extra: Attrs, label: Option<&Rect>) {
    let mut a: Attrs = vec![("id", format!("DI_{id}")), ("bpmnElement", id.to_string())];
    a.extend(extra);
    x.open("bpmndi:BPMNShape", a);
    bounds(x, r);
    if let Some(l) = label {
        x.open("bpmndi:BPMNLabel", vec![]);
        bounds(x, l);
        x.close("bpmndi:BPMNLabel");
    }
    x.close("bpmndi:BPMNShape");
}

fn edge(x: &mut Xml, id: &str, points: &[Point]) {
    x.open(
        "bpmndi:BPMNEdge",
        vec![("id", format!("DI_{id}")), ("bpmnElement", id.to_string())],
    );
    for p in points {
        x.empty("di:waypoint", vec![("x", num(p.x)), ("y", num(p.y))]);
    }
    x.close("bpmndi:BPMNEdge");
}

fn diagram(x: &mut Xml, c: &Ctx) {
    let (plan, d) = (c.plan, c.d);
    x.open("bpmndi:BPMNDiagram", vec![("id", "BPMNDiagram_1".into())]);
    x.open(
        "bpmndi:BPMNPlane",
        vec![
            ("id", "BPMNPlane_1".into()),
            ("bpmnElement", "Collaboration_1".into()),
        ],
    );
    let horizontal = || -> Attrs { vec![("isHorizontal", "true".into())] };
    shape(x, "Participant_applicant", &d.applicant, horizontal(), None);
    for (i, org) in plan.orgs.iter().enumerate() {
        shape(
            x,
            &format!("Participant_{}", org.key()),
            &d.pools[i],
            horizontal(),
            None,
        );
        for (l, lane) in plan.lanes.iter().enumerate() {
            if lane.org != *org {
                continue;
            }
            let id = match lane.role {
                Some(r) => format!("Lane_{}", c.p.regulation.roles[r].id),
                None => format!("Lane_process_{}", org.key()),
            };
            shape(x, &id, &d.lanes[l], horizontal(), None);
        }
    }
    for (n, node) in plan.nodes.iter().enumerate() {
        let extra: Attrs = match node.kind {
            NodeKind::Outcomes(_) | NodeKind::Merge => vec![("isMarkerVisible", "true".into())],
            NodeKind::Step(s) if matches!(c.p.step(s), Step::Exclusive(_)) => {
                vec![("isMarkerVisible", "true".into())]
            }
            _ => Vec::new(),
        };
        shape(x, &node.id, &d.nodes[n], extra, d.labels[n].as_ref());
    }
    for (i, dl) in plan.deadlines.iter().enumerate() {
        shape(
            x,
            &dl.id,
            &d.boundaries[i],
            vec![],
            Some(&d.boundary_labels[i]),
        );
        shape(
            x,
            &dl.end_id,
            &d.breach_ends[i],
            vec![],
            Some(&d.breach_labels[i]),
        );
    }
    for (f, flow) in plan.flows.iter().enumerate() {
        edge(x, &flow.id, &d.flows[f]);
    }
    for (i, dl) in plan.deadlines.iter().enumerate() {
        edge(x, &dl.flow_id, &d.breach_flows[i]);
    }
    for (m, msg) in plan.messages.iter().enumerate() {
        edge(x, &msg.id, &d.messages[m]);
    }
    x.close("bpmndi:BPMNPlane");
    x.close("bpmndi:BPMNDiagram");
}
