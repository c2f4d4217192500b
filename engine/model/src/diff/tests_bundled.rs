//! Each bundled regulation against a copy edited here: a step renamed in its place, one
//! removed, one added, a duration changed on one channel, the statutory term changed, a
//! branch condition (or an outcome) changed, a form field made required, a role added and a
//! channel changed. The diff names each edit at its line in both files.
//!
//! The copy is written as JSON (which YAML 1.2 reads), so its lines are found by searching
//! its text; the original's lines are the YAML parser's, through the part's pointer.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};

use super::*;
use crate::load::load_str;

fn files() -> Vec<std::path::PathBuf> {
    let root = reglament_testkit::regulations_dir();
    let mut out = Vec::new();
    for region in ["atyrau", "north-kazakhstan"] {
        let mut here: Vec<_> = std::fs::read_dir(root.join(region))
            .expect("region folder")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
            .collect();
        here.sort();
        out.extend(here);
    }
    out
}

/// Where each step goes: (edge holder pointer, target) for every reference to a step.
fn references(reg: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, c) in reg["channels"].as_array().into_iter().flatten().enumerate() {
        out.push((
            format!("/channels/{i}/start"),
            c["start"].as_str().unwrap_or_default().into(),
        ));
    }
    for (i, s) in reg["steps"].as_array().into_iter().flatten().enumerate() {
        for key in ["next", "default"] {
            if let Some(t) = s[key].as_str() {
                out.push((format!("/steps/{i}/{key}"), t.into()));
            }
        }
        for (j, o) in s["outcomes"].as_array().into_iter().flatten().enumerate() {
            out.push((
                format!("/steps/{i}/outcomes/{j}/next"),
                o["next"].as_str().unwrap_or_default().into(),
            ));
        }
        for (j, b) in s["branches"].as_array().into_iter().flatten().enumerate() {
            match b {
                Value::String(t) => out.push((format!("/steps/{i}/branches/{j}"), t.clone())),
                b => out.push((
                    format!("/steps/{i}/branches/{j}/next"),
                    b["next"].as_str().unwrap_or_default().into(),
                )),
            }
        }
    }
    out
}

/// The step a reference holder belongs to (`None` for a channel's start).
fn holder(pointer: &str, reg: &Value) -> Option<String> {
    let i: usize = pointer
        .strip_prefix("/steps/")?
        .split('/')
        .next()?
        .parse()
        .ok()?;
    reg["steps"][i]["id"].as_str().map(str::to_string)
}

fn retarget(reg: &mut Value, from: &str, to: &str) {
    for (at, t) in references(reg) {
        if t == from {
            *reg.pointer_mut(&at).expect("reference") = json!(to);
        }
    }
}

fn line_of(text: &str, needle: &str) -> usize {
    let hits: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains(needle))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(hits.len(), 1, "`{needle}` should be on exactly one line");
    hits[0]
}

fn old_line(old: &Loaded, pointer: &str) -> usize {
    let s = old
        .spans
        .get(pointer)
        .unwrap_or_else(|| panic!("{pointer} in the original"));
    s.key.unwrap_or(s.value).line
}

struct Plan {
    renamed: (usize, String),
    removed: (usize, String),
    /// The step the new one is put after, and its edge.
    insert: (String, String),
}

/// Steps to rename, remove and insert after, chosen so that no edit moves the renamed step's
/// neighbours (otherwise it would not be in its place).
fn plan(reg: &Value) -> Plan {
    let steps = reg["steps"].as_array().expect("steps");
    let refs = references(reg);
    let preds = |id: &str| -> BTreeSet<String> {
        refs.iter()
            .filter(|(_, t)| t == id)
            .filter_map(|(at, _)| holder(at, reg))
            .collect()
    };
    let succs = |id: &str| -> BTreeSet<String> {
        refs.iter()
            .filter(|(at, _)| holder(at, reg).as_deref() == Some(id))
            .map(|(_, t)| t.clone())
            .collect()
    };
    let kind = |s: &Value| s["kind"].as_str().unwrap_or_default().to_string();
    let starts: BTreeSet<String> = refs
        .iter()
        .filter(|(at, _)| at.starts_with("/channels"))
        .map(|(_, t)| t.clone())
        .collect();
    for (di, d) in steps.iter().enumerate() {
        let did = d["id"].as_str().unwrap_or_default();
        let removable = (kind(d) == "task" && d["next"].is_string() && d["outcomes"].is_null())
            || kind(d) == "end";
        if !removable || starts.contains(did) {
            continue;
        }
        for (ri, r) in steps.iter().enumerate() {
            let rid = r["id"].as_str().unwrap_or_default();
            if kind(r) != "task" || ri == di {
                continue;
            }
            let near_d: BTreeSet<String> = preds(did).union(&succs(did)).cloned().collect();
            if near_d.contains(rid) {
                continue;
            }
            for (at, y) in &refs {
                let Some(x) = holder(at, reg) else { continue };
                let xs = steps
                    .iter()
                    .find(|s| s["id"] == x.as_str())
                    .expect("holder");
                if kind(xs) != "task"
                    || [rid, did].contains(&x.as_str())
                    || [rid, did].contains(&y.as_str())
                {
                    continue;
                }
                // A task put where a removed task was would be that task renamed.
                if kind(d) == "task" && preds(did).contains(&x) {
                    continue;
                }
                return Plan {
                    renamed: (ri, rid.to_string()),
                    removed: (di, did.to_string()),
                    insert: (at.clone(), y.clone()),
                };
            }
        }
    }
    panic!("no steps to edit in {}", reg["id"]);
}

#[test]
fn every_bundled_regulation_against_an_edited_copy_names_each_edit_at_both_lines() {
    let files = files();
    assert_eq!(files.len(), 9, "the nine bundled regulations");
    for path in files {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).expect("reads");
        let old = load_str(&text, &name).unwrap_or_else(|d| panic!("{}", d[0].header()));
        let mut reg: Value = crate::yaml::parse(&text, &name).expect("parses").0;
        let p = plan(&reg);
        let steps_before = reg["steps"].as_array().expect("steps").clone();
        let (ri, rid) = p.renamed.clone();
        let (di, did) = p.removed.clone();

        // Insert `added_step` on the edge from X to Y (before anything moves).
        let role = steps_before[ri]["role"].clone();
        *reg.pointer_mut(&p.insert.0).expect("edge") = json!("added_step");
        // Rename R everywhere.
        retarget(&mut reg, &rid, "renamed_step");
        reg["steps"][ri]["id"] = json!("renamed_step");
        // Remove D: what led to it leads where it led (an end's callers go to another end).
        let replacement = match steps_before[di]["next"].as_str() {
            Some(n) => n.to_string(),
            None => steps_before
                .iter()
                .filter(|s| s["kind"] == "end" && s["id"] != did.as_str())
                .map(|s| s["id"].as_str().unwrap_or_default().to_string())
                .next()
                .expect("another end"),
        };
        let replacement = if replacement == rid {
            "renamed_step".to_string()
        } else {
            replacement
        };
        retarget(&mut reg, &did, &replacement);
        // The duration on one channel, of a task that is neither renamed nor removed.
        let first_channel = reg["channels"][0]["id"]
            .as_str()
            .expect("channel")
            .to_string();
        let ti = (0..steps_before.len())
            .find(|&i| {
                i != ri
                    && i != di
                    && steps_before[i]["kind"] == "task"
                    && steps_before[i]["duration"].is_string()
            })
            .expect("a task with a duration");
        let tid = steps_before[ti]["id"].as_str().expect("id").to_string();
        reg["steps"][ti]["durations"][&first_channel] = json!("17 working days");
        // The choice's condition, or else an outcome's reason.
        let choice = (0..steps_before.len()).find(|&i| {
            i != di
                && steps_before[i]["kind"] == "exclusive"
                && steps_before[i]["branches"][0]["next"] != did.as_str()
        });
        let outcome_at = (0..steps_before.len())
            .find(|&i| i != di && steps_before[i]["outcomes"].is_array())
            .expect("a step with outcomes");
        match choice {
            Some(ci) => {
                let when = steps_before[ci]["branches"][0]["when"]
                    .as_str()
                    .expect("when");
                reg["steps"][ci]["branches"][0]["when"] = json!(format!("({when}) && true"));
            }
            None => {
                let was = steps_before[outcome_at]["outcomes"][0]["requires_reason"]
                    .as_bool()
                    .unwrap_or(false);
                reg["steps"][outcome_at]["outcomes"][0]["requires_reason"] = json!(!was);
            }
        }
        // A field now required.
        let form = &reg["application_form"];
        let required: Vec<String> = form["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect();
        let field = form["properties"]
            .as_object()
            .expect("fields")
            .keys()
            .find(|k| !required.contains(k))
            .expect("an optional field")
            .clone();
        reg["application_form"]["required"]
            .as_array_mut()
            .expect("required")
            .push(json!(field));
        // A role, a channel's kind, the statutory term.
        reg["roles"].as_array_mut().expect("roles").push(json!({
            "id": "added_role", "kind": "person", "office": "provider_office",
            "name": {"kk": "Жаңа рөл", "ru": "Новая роль"}
        }));
        let last = reg["channels"].as_array().expect("channels").len() - 1;
        let used: BTreeSet<String> = reg["channels"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|c| c["kind"].as_str().map(str::to_string))
            .collect();
        let new_kind = [
            "service_centre",
            "rural_akim",
            "egov_portal",
            "provider_office",
        ]
        .into_iter()
        .find(|k| !used.contains(*k))
        .expect("a kind no channel has");
        reg["channels"][last]["kind"] = json!(new_kind);
        let had_term = reg["channels"][0]["term"].is_object();
        reg["channels"][0]["term"] = json!({"text": "тест", "duration": "29 working days"});
        // The new step, after the rest so the removal index holds until now.
        let added = json!({
            "id": "added_step", "kind": "task", "role": role,
            "name": {"kk": "Жаңа қадам", "ru": "Новый шаг"},
            "duration": "1 hour", "next": p.insert.1,
        });
        let steps = reg["steps"].as_array_mut().expect("steps");
        steps.remove(di);
        steps.push(added);

        let copy = serde_json::to_string_pretty(&reg).expect("json");
        let new =
            load_str(&copy, "copy.json").unwrap_or_else(|d| panic!("{name}: {}", d[0].header()));
        let d = diff(&old, &new);
        let by_tag: BTreeMap<String, Vec<&Change>> =
            d.changes.iter().fold(BTreeMap::new(), |mut m, c| {
                m.entry(c.what.tag()).or_insert_with(Vec::new).push(c);
                m
            });
        let one = |tag: &str, pred: &dyn Fn(&What) -> bool| -> &Change {
            let hits: Vec<&&Change> = by_tag
                .get(tag)
                .into_iter()
                .flatten()
                .filter(|c| pred(&c.what))
                .collect();
            assert_eq!(
                hits.len(),
                1,
                "{name}: one {tag} expected in {:#?}",
                d.changes
            );
            hits[0]
        };
        let lines = |c: &Change| {
            (
                c.old.as_ref().map(|p| p.line),
                c.new.as_ref().map(|p| p.line),
            )
        };
        let both = |c: &Change, old_at: usize, new_at: usize| {
            assert_eq!(lines(c), (Some(old_at), Some(new_at)), "{name}: {c:#?}");
            assert_eq!(c.old.as_ref().map(|p| p.file.as_str()), Some(name.as_str()));
            assert_eq!(c.new.as_ref().map(|p| p.file.as_str()), Some("copy.json"));
        };

        let c = one(
            "step_renamed",
            &|w| matches!(w, What::StepRenamed { from, to } if *from == rid && to == "renamed_step"),
        );
        both(
            c,
            old_line(&old, &format!("/steps/{ri}/id")),
            line_of(&copy, "\"id\": \"renamed_step\""),
        );
        let c = one(
            "step_removed",
            &|w| matches!(w, What::StepRemoved { step, .. } if *step == did),
        );
        assert_eq!(
            lines(c),
            (Some(old_line(&old, &format!("/steps/{di}/id"))), None),
            "{name}"
        );
        let c = one(
            "step_added",
            &|w| matches!(w, What::StepAdded { step, .. } if step == "added_step"),
        );
        assert_eq!(
            lines(c),
            (None, Some(line_of(&copy, "\"id\": \"added_step\""))),
            "{name}"
        );
        let c = one(
            "duration_changed",
            &|w| matches!(w, What::DurationChanged { step, channels, .. } if *step == tid && *channels == [first_channel.clone()]),
        );
        both(
            c,
            old_line(&old, &format!("/steps/{ti}/duration")),
            line_of(&copy, "\"17 working days\""),
        );
        let c = one(
            "statutory_term_changed",
            &|w| matches!(w, What::StatutoryTermChanged { extended: false, to: Some(t), .. } if *t == crate::Term::working_days(29)),
        );
        let term_old = if had_term {
            "/channels/0/term/duration".to_string()
        } else {
            "/channels/0/id".to_string()
        };
        both(
            c,
            old_line(&old, &term_old),
            line_of(&copy, "\"29 working days\""),
        );
        match choice {
            Some(ci) => {
                let c = one("branch_condition_changed", &|_| true);
                both(
                    c,
                    old_line(&old, &format!("/steps/{ci}/branches/0/when")),
                    line_of(&copy, "&& true\""),
                );
            }
            None => {
                let c = one("outcome_reason_changed", &|_| true);
                let at = format!("/steps/{outcome_at}/outcomes/0");
                let old_at = old
                    .spans
                    .get(&format!("{at}/requires_reason"))
                    .map(|s| s.key.unwrap_or(s.value).line)
                    .unwrap_or_else(|| old.spans.get(&at).expect("outcome").value.line);
                let id = steps_before[outcome_at]["id"].as_str().expect("id");
                let k = reg["steps"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .position(|s| s["id"] == id)
                    .expect("still there");
                let new_at = new
                    .spans
                    .get(&format!("/steps/{k}/outcomes/0/requires_reason"))
                    .and_then(|s| s.key)
                    .expect("written")
                    .line;
                both(c, old_at, new_at);
            }
        }
        let c = one(
            "field_now_required",
            &|w| matches!(w, What::FieldNowRequired { step: None, field: f } if *f == field),
        );
        let required_line = copy
            .lines()
            .position(|l| l.trim().trim_end_matches(',') == format!("\"{field}\""))
            .expect("the required entry")
            + 1;
        both(
            c,
            old_line(&old, &format!("/application_form/properties/{field}")),
            required_line,
        );
        let c = one(
            "role_added",
            &|w| matches!(w, What::RoleAdded { role, .. } if role == "added_role"),
        );
        assert_eq!(
            lines(c),
            (None, Some(line_of(&copy, "\"id\": \"added_role\""))),
            "{name}"
        );
        let c = one("channel_kind_changed", &|_| true);
        both(
            c,
            old_line(&old, &format!("/channels/{last}/kind")),
            line_of(&copy, &format!("\"kind\": \"{new_kind}\"")),
        );

        // Nothing else but the rewiring the removal and the insertion made.
        let expected: BTreeSet<&str> = [
            "step_renamed",
            "step_removed",
            "step_added",
            "duration_changed",
            "statutory_term_changed",
            "branch_condition_changed",
            "outcome_reason_changed",
            "field_now_required",
            "role_added",
            "channel_kind_changed",
            "next_changed",
            "outcome_next_changed",
            "branch_target_changed",
            "default_changed",
            "parallel_branches_changed",
            "channel_start_changed",
        ]
        .into_iter()
        .collect();
        for tag in by_tag.keys() {
            assert!(
                expected.contains(tag.as_str()),
                "{name}: unexpected {tag}: {:#?}",
                by_tag[tag]
            );
        }
        // Every change has a place on each side it exists on.
        for c in &d.changes {
            assert!(c.old.is_some() || c.new.is_some(), "{name}: {c:#?}");
        }
    }
}
