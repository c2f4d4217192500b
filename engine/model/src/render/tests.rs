//! Tests over a small fixture regulation and a large synthetic one.

use std::collections::HashMap;

use quick_xml::events::Event;
use quick_xml::{Reader, XmlVersion};

use super::*;
use crate as crate_under_test;
use crate::validate::check_str;

include!("testdata/synthetic.rs");

const FIXTURE: &str = include_str!("testdata/small.yaml");

fn fixture() -> Process {
    let report = check_str(FIXTURE, "small.yaml", None);
    let errors: Vec<String> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.render(Some(FIXTURE)))
        .collect();
    assert!(
        errors.is_empty(),
        "fixture has errors:\n{}",
        errors.join("\n")
    );
    report.process.expect("the fixture compiles")
}

fn ru() -> Options {
    Options::default()
}

fn channel(c: &str) -> Options {
    Options {
        channel: Some(c.to_string()),
        ..Options::default()
    }
}

/// Every geometric promise of the layout, checked in O(n log n) so it runs on 5,000 steps.
fn check_layout(l: &Layout) {
    // Every node inside its lane band, right of the header.
    for n in &l.nodes {
        let lane = &l.lanes[n.lane];
        assert!(lane.band.contains(&n.bounds), "{} leaves its lane", n.id);
        assert!(
            n.bounds.x >= lane.header.right(),
            "{} is under the header",
            n.id
        );
        assert!(n.bounds.contains(&n.body), "{}: body outside bounds", n.id);
        assert!(n.bounds.right() <= l.width && n.bounds.bottom() <= l.height);
    }
    // Lanes are stacked without overlap.
    for w in l.lanes.windows(2) {
        assert!(w[0].band.bottom() <= w[1].band.y + 1e-6);
    }
    // No two nodes overlap: sweep by x over nodes sorted by their left side.
    let mut order: Vec<&Node> = l.nodes.iter().collect();
    order.sort_by(|a, b| a.bounds.x.total_cmp(&b.bounds.x));
    let mut active: Vec<&Node> = Vec::new();
    for n in order {
        active.retain(|a| a.bounds.right() > n.bounds.x);
        for a in &active {
            assert!(!a.bounds.overlaps(&n.bounds), "{} overlaps {}", a.id, n.id);
        }
        active.push(n);
    }
    // Ranks respect forward edges, and loops are exactly the edges that go back.
    for e in &l.edges {
        let (a, b) = (&l.nodes[e.from], &l.nodes[e.to]);
        if e.back {
            assert!(b.rank <= a.rank, "loop {}→{} goes forward", a.id, b.id);
        } else {
            assert!(b.rank > a.rank, "edge {}→{} does not go right", a.id, b.id);
        }
    }
    // Edges are orthogonal, leave the source's right side, reach the target's left side, and
    // cross no other step: verticals stay in the gaps between columns, horizontals pass only
    // where a row is free.
    let columns = l.nodes.iter().map(|n| n.rank + 1).max().unwrap_or(0);
    let mut in_column: Vec<Vec<usize>> = vec![Vec::new(); columns];
    for (i, n) in l.nodes.iter().enumerate() {
        in_column[n.rank].push(i);
    }
    let span: Vec<(f64, f64)> = in_column
        .iter()
        .map(|c| {
            let left = c
                .iter()
                .map(|&i| l.nodes[i].bounds.x)
                .fold(f64::MAX, f64::min);
            let right = c
                .iter()
                .map(|&i| l.nodes[i].bounds.right())
                .fold(f64::MIN, f64::max);
            (left, right)
        })
        .collect();
    for w in span.windows(2) {
        assert!(w[0].1 < w[1].0, "columns overlap");
    }
    for e in &l.edges {
        let (a, b) = (&l.nodes[e.from], &l.nodes[e.to]);
        assert!(e.points.len() >= 2);
        let (s, t) = (e.points[0], e.points[e.points.len() - 1]);
        assert!(s.x >= a.body.center().x && s.x <= a.body.right() + 1e-6);
        assert!(s.y >= a.body.y && s.y <= a.body.bottom());
        assert!(t.x >= b.body.x - 1e-6 && t.x <= b.body.center().x);
        assert!(t.y >= b.body.y && t.y <= b.body.bottom());
        for w in e.points.windows(2) {
            let (p, q) = (w[0], w[1]);
            let vertical = (p.x - q.x).abs() < 1e-6;
            assert!(
                vertical || (p.y - q.y).abs() < 1e-6,
                "{}→{}: diagonal segment",
                a.id,
                b.id
            );
            let segment = Rect {
                x: p.x.min(q.x),
                y: p.y.min(q.y),
                width: (p.x - q.x).abs().max(0.01),
                height: (p.y - q.y).abs().max(0.01),
            };
            // The columns the segment reaches into.
            let first = span.partition_point(|c| c.1 <= segment.x);
            let last = span.partition_point(|c| c.0 < segment.right());
            for column in &in_column[first..last.max(first)] {
                for &i in column {
                    if i == e.from || i == e.to {
                        continue;
                    }
                    assert!(
                        !segment.overlaps(&l.nodes[i].bounds),
                        "edge {}→{} crosses {}",
                        a.id,
                        b.id,
                        l.nodes[i].id
                    );
                }
            }
        }
    }
}

#[test]
fn fixture_layout_keeps_its_promises() {
    let p = fixture();
    for options in [ru(), channel("office"), channel("portal")] {
        let l = layout(&p, &options);
        check_layout(&l);
    }
    let l = layout(&p, &ru());
    assert_eq!(
        l.nodes.len(),
        p.regulation.steps.len(),
        "every step is drawn"
    );
    assert_eq!(l.lanes.len(), p.regulation.roles.len());
}

#[test]
fn ranks_follow_the_flow_and_the_rework_loop_goes_back() {
    let p = fixture();
    let l = layout(&p, &ru());
    let rank = |id: &str| l.node(id).map(|n| n.rank).expect("shown");
    assert_eq!(rank("receive"), 0);
    assert_eq!(rank("auth"), 0);
    assert!(rank("send") < rank("route"));
    assert!(rank("verify") < rank("review"));
    assert_eq!(rank("sign"), rank("notify"));
    assert!(rank("done") > rank("sign"));
    let loops: Vec<(&str, &str)> = l
        .edges
        .iter()
        .filter(|e| e.back)
        .map(|e| (l.nodes[e.from].id.as_str(), l.nodes[e.to].id.as_str()))
        .collect();
    assert_eq!(loops, [("review", "receive")]);
}

#[test]
fn steps_without_a_role_follow_their_first_predecessor() {
    let p = fixture();
    let l = layout(&p, &ru());
    let lane = |id: &str| {
        let n = l.node(id).expect("shown");
        l.lanes[n.lane].role.clone()
    };
    assert_eq!(lane("route").as_deref(), Some("registrar"));
    assert_eq!(lane("both").as_deref(), Some("head"));
    assert_eq!(lane("done").as_deref(), Some("head"));
    assert_eq!(lane("granted").as_deref(), Some("head"));
    assert_eq!(lane("refused").as_deref(), Some("head"));
}

#[test]
fn a_channel_shows_only_its_steps_and_durations() {
    let p = fixture();
    let office = layout(&p, &channel("office"));
    assert!(office.node("auth").is_none());
    assert!(
        office.node("verify").is_none(),
        "the portal branch is decided away"
    );
    assert!(
        office
            .lanes
            .iter()
            .all(|l| l.role.as_deref() != Some("egov"))
    );
    assert_eq!(
        office.node("receive").map(|n| n.details.clone()),
        Some(vec!["15 минут".to_string()])
    );

    let portal = layout(&p, &channel("portal"));
    assert!(portal.node("auth").is_some());
    assert!(portal.node("verify").is_some());
    assert_eq!(
        portal.node("receive").map(|n| n.details.clone()),
        Some(vec!["30 минут".to_string()])
    );

    let all = layout(&p, &ru());
    assert_eq!(
        all.node("receive").map(|n| n.details.clone()),
        Some(vec![
            "15 минут".to_string(),
            "через портал: 30 минут".to_string()
        ])
    );
    assert_eq!(
        all.node("send").map(|n| n.details.clone()),
        Some(vec!["11:00, 16:00".to_string()])
    );
}

#[test]
fn unknown_channel_is_reported_and_draws_nothing() {
    let p = fixture();
    let options = channel("post");
    assert_eq!(
        options.check(&p),
        Err(RenderError::UnknownChannel {
            channel: "post".into(),
            known: vec!["office".into(), "portal".into()]
        })
    );
    assert!(layout(&p, &options).nodes.is_empty());
    assert!(svg(&p, &options).contains("</svg>"));
    assert_eq!(ru().check(&p), Ok(()));
}

#[test]
fn output_is_deterministic() {
    let p = fixture();
    for options in [ru(), channel("portal")] {
        assert_eq!(layout(&p, &options), layout(&p, &options));
        assert_eq!(svg(&p, &options), svg(&fixture(), &options));
        assert_eq!(mermaid(&p, &options), mermaid(&fixture(), &options));
        assert_eq!(dot(&p, &options), dot(&fixture(), &options));
    }
}

/// Counts elements by name and class, failing on anything that is not well-formed XML.
fn parse_svg(svg: &str) -> HashMap<String, usize> {
    let mut reader = Reader::from_str(svg);
    let mut counts = HashMap::new();
    let mut depth = 0i32;
    loop {
        let event = reader.read_event().unwrap_or_else(|e| {
            panic!(
                "SVG is not well-formed at {}: {e}",
                reader.buffer_position()
            )
        });
        let start = match &event {
            Event::Start(e) => {
                depth += 1;
                Some(e.clone())
            }
            Event::Empty(e) => Some(e.clone()),
            Event::End(_) => {
                depth -= 1;
                None
            }
            Event::GeneralRef(r) => {
                let known = ["amp", "lt", "gt", "quot", "apos"].contains(&r.as_ref());
                assert!(known || r.is_char_ref(), "unknown entity &{};", r.as_ref());
                None
            }
            Event::Eof => break,
            _ => None,
        };
        if let Some(e) = start {
            let name = e.name().as_ref().to_string();
            let mut key = name.clone();
            for a in e.attributes() {
                let a = a.expect("attribute is well-formed");
                let value = a
                    .normalized_value(XmlVersion::Implicit1_0)
                    .expect("attribute value unescapes");
                if a.key.as_ref() == "class" {
                    key = format!("{name}.{value}");
                }
            }
            if key != name {
                *counts.entry(key).or_insert(0) += 1;
            }
            *counts.entry(name).or_insert(0) += 1;
        }
    }
    assert_eq!(depth, 0, "unbalanced elements");
    counts
}

#[test]
fn svg_is_well_formed_with_a_group_per_step_and_lane() {
    let p = fixture();
    for lang in Lang::ALL {
        let options = Options {
            lang,
            highlight: vec!["review".into()],
            ..Options::default()
        };
        let svg = svg(&p, &options);
        let counts = parse_svg(&svg);
        assert_eq!(counts.get("g.step"), Some(&p.regulation.steps.len()));
        assert_eq!(counts.get("g.lane"), Some(&p.regulation.roles.len()));
        assert_eq!(counts.get("g.lane process"), None);
        assert_eq!(counts.get("svg"), Some(&1));
        assert_eq!(counts.get("g.edge loop"), Some(&1));
        assert_eq!(svg.matches(r#"data-highlight="true""#).count(), 1);
    }
}

#[test]
fn svg_escapes_names_and_draws_kinds_apart() {
    let p = fixture();
    let svg = svg(&p, &ru());
    assert!(svg.contains("Тестовая услуга «Справка» &amp; &lt;проверка&gt;"));
    assert!(svg.contains("Приём документов &amp; «регистрация»"));
    assert!(svg.contains("channel == &quot;portal&quot;"));
    assert!(!svg.contains("& "), "an unescaped ampersand");
    assert!(svg.contains(r#"data-kind="system""#));
    assert!(svg.contains(r#"<g class="clock">"#));
    assert!(svg.contains(
        r##"data-result="granted"><title>Справка выдана (granted)</title>
<circle"##
    ));
    assert!(svg.contains(r##"fill="#d3f9d8""##), "granted is green");
    assert!(svg.contains(r##"fill="#ffe3e3""##), "refused is red");
    assert!(svg.contains(">Одобрить</text>"));
    assert!(svg.contains(">2 рабочих дня</text>"));
    let en = super::svg(
        &p,
        &Options {
            lang: Lang::En,
            ..ru()
        },
    );
    assert!(en.contains("Test service &quot;Certificate&quot;"));
    assert!(en.contains(">2 working days</text>"));
    assert!(en.contains(">otherwise</text>"));
}

#[test]
fn mermaid_snapshot() {
    let p = fixture();
    let expected = r##"flowchart LR
  %% Тестовая услуга «Справка» & <проверка>
  subgraph lane_registrar["Регистратор"]
    s_receive("Приём документов #amp; «регистрация» заявления<br/>15 минут<br/>через портал: 30 минут")
    s_send[/"Отправка руководителю<br/>11:00, 16:00"/]
    s_route{"Канал"}
    s_notify("Уведомление заявителя<br/>30 календарных дней")
  end
  subgraph lane_head["Руководитель"]
    s_review("Рассмотрение<br/>2 рабочих дня")
    s_both{"+"}
    s_sign("Подписание<br/>1 час")
    s_done{"+"}
    s_granted(["Справка выдана"])
    s_refused(["Отказано"])
  end
  subgraph lane_egov["Портал «электронного правительства»"]
    s_auth[["Авторизация на портале<br/>5 минут"]]
    s_verify[["Проверка ЭЦП<br/>1 минута"]]
  end
  s_receive --> s_send
  s_auth --> s_send
  s_send --> s_route
  s_route -->|"channel == #quot;portal#quot;"| s_verify
  s_route -->|"иначе"| s_review
  s_verify --> s_review
  s_review -->|"Одобрить"| s_both
  s_review -->|"Отказать"| s_refused
  s_review -.->|"На доработку"| s_receive
  s_both --> s_sign
  s_both --> s_notify
  s_sign --> s_done
  s_notify --> s_done
  s_done --> s_granted
  classDef system fill:#e7f0fa,stroke:#1c7ed6
  class s_auth,s_verify system
  classDef dispatch fill:#fff9db,stroke:#f08c00
  class s_send dispatch
  classDef granted fill:#d3f9d8,stroke:#2b8a3e
  class s_granted granted
  classDef refused fill:#ffe3e3,stroke:#c92a2a
  class s_refused refused
"##;
    assert_eq!(mermaid(&p, &ru()), expected);
}

#[test]
fn mermaid_for_a_channel_with_a_highlight() {
    let p = fixture();
    let options = Options {
        lang: Lang::En,
        channel: Some("office".into()),
        highlight: vec!["review".into(), "nonexistent".into()],
    };
    let expected = r##"flowchart LR
  %% Test service "Certificate" — office
  subgraph lane_registrar["Registrar"]
    s_receive("Receive the #quot;documents#quot;<br/>15 minutes")
    s_send[/"Send to the head<br/>11:00, 16:00"/]
    s_route{"Channel"}
    s_notify("Notify the applicant<br/>30 calendar days")
  end
  subgraph lane_head["Head"]
    s_review("Review<br/>2 working days")
    s_both{"+"}
    s_sign("Sign<br/>1 hour")
    s_done{"+"}
    s_granted(["Certificate issued"])
    s_refused(["Refused"])
  end
  s_receive --> s_send
  s_send --> s_route
  s_route -->|"otherwise"| s_review
  s_review -->|"Approve"| s_both
  s_review -->|"Refuse"| s_refused
  s_review -.->|"Rework"| s_receive
  s_both --> s_sign
  s_both --> s_notify
  s_sign --> s_done
  s_notify --> s_done
  s_done --> s_granted
  classDef dispatch fill:#fff9db,stroke:#f08c00
  class s_send dispatch
  classDef granted fill:#d3f9d8,stroke:#2b8a3e
  class s_granted granted
  classDef refused fill:#ffe3e3,stroke:#c92a2a
  class s_refused refused
  classDef highlight stroke:#e8590c,stroke-width:3px
  class s_review highlight
"##;
    assert_eq!(mermaid(&p, &options), expected);
}

#[test]
fn dot_snapshot() {
    let p = fixture();
    let expected = r##"digraph "render-fixture" {
  graph [rankdir=LR, newrank=true, fontname="Helvetica", labelloc=t, label="Тестовая услуга «Справка» & <проверка>"];
  node [fontname="Helvetica", fontsize=10];
  edge [fontname="Helvetica", fontsize=9];
  subgraph "cluster_registrar" {
    label="Регистратор"; style=filled; fillcolor="#f8f9fa"; color="#ced4da";
    "receive" [label="Приём документов & «регистрация» заявления\n15 минут\nчерез портал: 30 минут", shape=box, style="rounded,filled", fillcolor="#ffffff"];
    "send" [label="Отправка руководителю\n11:00, 16:00", shape=box, style="rounded,filled", fillcolor="#fff9db", color="#f08c00"];
    "route" [label="", xlabel="Канал", shape=diamond, width=0.4, height=0.4];
    "notify" [label="Уведомление заявителя\n30 календарных дней", shape=box, style="rounded,filled", fillcolor="#ffffff"];
  }
  subgraph "cluster_head" {
    label="Руководитель"; style=filled; fillcolor="#f8f9fa"; color="#ced4da";
    "review" [label="Рассмотрение\n2 рабочих дня", shape=box, style="rounded,filled", fillcolor="#ffffff"];
    "both" [label="+", xlabel="", shape=diamond, width=0.4, height=0.4];
    "sign" [label="Подписание\n1 час", shape=box, style="rounded,filled", fillcolor="#ffffff"];
    "done" [label="+", xlabel="", shape=diamond, width=0.4, height=0.4];
    "granted" [label="", xlabel="Справка выдана", shape=circle, width=0.3, style=filled, fillcolor="#d3f9d8", color="#2b8a3e", penwidth=2];
    "refused" [label="", xlabel="Отказано", shape=circle, width=0.3, style=filled, fillcolor="#ffe3e3", color="#c92a2a", penwidth=2];
  }
  subgraph "cluster_egov" {
    label="Портал «электронного правительства»"; style=filled; fillcolor="#f8f9fa"; color="#ced4da";
    "auth" [label="Авторизация на портале\n5 минут", shape=box, style=filled, fillcolor="#e7f0fa", color="#1c7ed6", peripheries=2];
    "verify" [label="Проверка ЭЦП\n1 минута", shape=box, style=filled, fillcolor="#e7f0fa", color="#1c7ed6", peripheries=2];
  }
  "receive" -> "send";
  "auth" -> "send";
  "send" -> "route";
  "route" -> "verify" [label="channel == \"portal\""];
  "route" -> "review" [label="иначе"];
  "verify" -> "review";
  "review" -> "both" [label="Одобрить"];
  "review" -> "refused" [label="Отказать"];
  "review" -> "receive" [label="На доработку", style=dashed, color="#ae3ec9", constraint=false];
  "both" -> "sign";
  "both" -> "notify";
  "sign" -> "done";
  "notify" -> "done";
  "done" -> "granted";
}
"##;
    assert_eq!(dot(&p, &ru()), expected);
}

#[test]
fn synthetic_5000_steps_lay_out_fast_and_cleanly() {
    let p = synthetic_process(500);
    assert_eq!(p.regulation.steps.len(), 5002);
    let options = Options::default();
    let started = std::time::Instant::now();
    let l = layout(&p, &options);
    let elapsed = started.elapsed();
    check_layout(&l);
    assert_eq!(l.nodes.len(), 5002);
    // Unoptimised test builds are several times slower than release, where the benchmark
    // (`cargo bench --bench render`) shows the real figure; this only catches a blow-up.
    let limit = if cfg!(debug_assertions) { 10.0 } else { 1.0 };
    assert!(
        elapsed.as_secs_f64() < limit,
        "layout of 5,000 steps took {elapsed:?}"
    );
    let svg = svg(&p, &options);
    let counts = parse_svg(&svg);
    assert_eq!(counts.get("g.step"), Some(&5002));
    assert_eq!(counts.get("g.lane"), Some(&6));
}

#[test]
fn a_process_without_roles_or_edges_still_draws() {
    let regulation = serde_json::json!({
        "id": "bare", "version": 1, "valid_from": "2024-01-01", "region": "test",
        "title": { "kk": "x", "ru": "x" }, "source": { "act": "x" },
        "roles": [], "channels": [{ "id": "c", "kind": "provider_office", "start": "done" }],
        "steps": [{ "id": "done", "kind": "end", "name": { "kk": "x", "ru": "x" }, "result": "withdrawn" }],
    });
    let p = Process::compile(serde_json::from_value(regulation).expect("fits the model"))
        .expect("compiles");
    let l = layout(&p, &ru());
    check_layout(&l);
    assert_eq!(l.lanes.len(), 1);
    assert_eq!(l.lanes[0].role, None, "the step goes in the process lane");
    let counts = parse_svg(&svg(&p, &ru()));
    assert_eq!(counts.get("g.lane process"), Some(&1));
    assert!(
        svg(&p, &ru()).contains(r##"fill="#e9ecef""##),
        "withdrawn is grey"
    );
    assert!(mermaid(&p, &ru()).contains("subgraph lane_process[\"Процесс\"]"));
    assert!(dot(&p, &ru()).contains("subgraph \"cluster_process\""));
}
