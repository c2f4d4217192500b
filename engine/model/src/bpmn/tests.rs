//! The export against the bundled regulations and the synthetic one: round trip through the
//! import, the diagram's geometry, ids, determinism; the import against hand-written BPMN.

use std::path::PathBuf;

use super::*;
use crate::load::load_str;
use crate::model::Regulation;
use crate::render::Rect;
use crate::validate::check_str;

fn regulations() -> Vec<(String, String)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../regulations");
    let mut out = Vec::new();
    for region in ["atyrau", "north-kazakhstan"] {
        let mut files: Vec<_> = std::fs::read_dir(root.join(region))
            .expect("regulations folder")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for f in files {
            let text = std::fs::read_to_string(&f).expect("readable");
            out.push((f.file_name().unwrap().to_string_lossy().into_owned(), text));
        }
    }
    assert_eq!(out.len(), 9, "the nine bundled regulations");
    out
}

fn process(name: &str, text: &str) -> Process {
    let report = check_str(text, name, None);
    report.process.unwrap_or_else(|| panic!("{name} compiles"))
}

fn reload(yaml: &str) -> Regulation {
    match load_str(yaml, "draft.yaml") {
        Ok(l) => l.regulation,
        Err(d) => panic!(
            "the draft does not load:\n{}\n{yaml}",
            d.iter()
                .map(|d| d.render(Some(yaml)))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

#[test]
fn every_regulation_comes_back_the_same_from_bpmn_in_every_language() {
    for (name, text) in regulations() {
        let p = process(&name, &text);
        for lang in Lang::ALL {
            let xml = export(&p, lang);
            let imported = import(
                &xml,
                &ImportOptions {
                    lang,
                    ..ImportOptions::default()
                },
            )
            .unwrap_or_else(|e| panic!("{name} ({lang:?}): {e}"));
            assert!(
                imported.findings.is_empty(),
                "{name}: {:?}",
                imported.findings
            );
            assert!(imported.gaps.is_empty(), "{name}: {:?}", imported.gaps);
            let back = reload(&imported.yaml);
            assert_eq!(back, p.regulation, "{name} ({lang:?}) changed on the way");
            let report = check_str(&imported.yaml, "draft.yaml", None);
            assert_eq!(report.errors(), 0, "{name}: the draft validates");
        }
    }
}

#[test]
fn the_same_regulation_gives_byte_identical_xml() {
    for (name, text) in regulations().into_iter().take(3) {
        let a = export(&process(&name, &text), Lang::Kk);
        let b = export(&process(&name, &text), Lang::Kk);
        assert_eq!(a, b, "{name}");
    }
}

/// Every id an NCName, shapes inside their lanes and pools, none overlapping another but a
/// boundary event its task.
fn check_geometry(p: &Process, lang: Lang) {
    let plan = plan::plan(p, lang);
    let d = diagram::diagram(p, &plan, lang);
    let ncname = |s: &str| {
        let mut c = s.chars();
        c.next().is_some_and(|f| f.is_alphabetic() || f == '_')
            && c.all(|ch| ch.is_alphanumeric() || "_-.".contains(ch))
    };
    for n in &plan.nodes {
        assert!(ncname(&n.id), "{} is not an NCName", n.id);
    }
    for f in &plan.flows {
        assert!(ncname(&f.id));
    }
    let mut shapes: Vec<(String, Rect, Option<usize>)> = Vec::new();
    for (i, n) in plan.nodes.iter().enumerate() {
        let lane = d.lanes[n.lane];
        assert!(lane.contains(&d.nodes[i]), "{} leaves its lane", n.id);
        shapes.push((n.id.clone(), d.nodes[i], None));
    }
    for (i, dl) in plan.deadlines.iter().enumerate() {
        let lane = d.lanes[plan.nodes[dl.node].lane];
        assert!(lane.contains(&d.boundaries[i]) && lane.contains(&d.breach_ends[i]));
        shapes.push((dl.id.clone(), d.boundaries[i], Some(dl.node)));
        shapes.push((dl.end_id.clone(), d.breach_ends[i], None));
    }
    for (l, lane) in plan.lanes.iter().enumerate() {
        let pool = plan.orgs.iter().position(|o| *o == lane.org).expect("pool");
        assert!(d.pools[pool].contains(&d.lanes[l]));
    }
    for w in d.pools.windows(2) {
        assert!(!w[0].overlaps(&w[1]));
    }
    assert!(!d.pools.iter().any(|p| p.overlaps(&d.applicant)));
    shapes.sort_by(|a, b| a.1.x.total_cmp(&b.1.x));
    let mut active: Vec<usize> = Vec::new();
    for i in 0..shapes.len() {
        active.retain(|&a| shapes[a].1.right() > shapes[i].1.x);
        for &a in &active {
            let (x, y) = (&shapes[a], &shapes[i]);
            let host = |s: &(String, Rect, Option<usize>), other: &str| {
                s.2.is_some_and(|n| plan.nodes[n].id == other)
            };
            if host(x, &y.0) || host(y, &x.0) {
                continue;
            }
            assert!(!x.1.overlaps(&y.1), "{} overlaps {}", x.0, y.0);
        }
        active.push(i);
    }
}

#[test]
fn no_shape_overlaps_another_and_ids_are_ncnames() {
    for (name, text) in regulations() {
        let p = process(&name, &text);
        for lang in Lang::ALL {
            check_geometry(&p, lang);
        }
    }
    let synthetic = crate::synthetic::regulation(400);
    check_geometry(&process("synthetic.yaml", &synthetic), Lang::Ru);
}

#[test]
fn the_synthetic_regulation_round_trips() {
    let text = crate::synthetic::regulation(200);
    let p = process("synthetic.yaml", &text);
    let imported = import(&export(&p, Lang::Ru), &ImportOptions::default()).expect("imports");
    assert!(imported.findings.is_empty(), "{:?}", imported.findings);
    assert_eq!(reload(&imported.yaml), p.regulation);
}

#[test]
fn pools_follow_the_channels() {
    let (name, text) = regulations()
        .into_iter()
        .find(|(n, _)| n.starts_with("nko-"))
        .expect("nko");
    let p = process(&name, &text);
    let xml = export(&p, Lang::En);
    for pool in [
        "Participant_applicant",
        "Participant_egov",
        "Participant_akim",
        "Participant_provider",
    ] {
        assert!(xml.contains(&format!("id=\"{pool}\"")), "{pool}");
    }
    assert!(!xml.contains("Participant_centre"));
    // The portal's steps stand in the portal's pool; the case reaches the registrar by a
    // message flow, never by a sequence flow across pools.
    let egov = xml
        .split("<bpmn:process id=\"Process_egov\"")
        .nth(1)
        .expect("egov process");
    let egov = egov.split("</bpmn:process>").next().expect("end");
    assert!(egov.contains("id=\"portal_authorization\""));
    assert!(!egov.contains("id=\"register\""));
    assert!(xml.contains("<bpmn:messageFlow"));
    assert!(xml.contains("cancelActivity=\"false\""));
    assert!(xml.contains(
        "<bpmn:timeDuration xsi:type=\"bpmn:tFormalExpression\">P5D</bpmn:timeDuration>"
    ));
    assert!(
        xml.contains("term=\"4 working days\""),
        "the rural akim's duration"
    );
    assert!(xml.contains("channel=\"rural_akim\""));
}
