//! The diff on small regulations written here, each edit checked for its change and both
//! its places.

use super::*;
use crate::load::load_str;
use crate::text::Lang;

const BASE: &str = r#"id: diff-test
version: 1
valid_from: 2020-01-01
title: {kk: Сынақ, ru: Проверка, en: Check}
source: {act: Тест}
region: atyrau
roles:
  - id: executor
    kind: person
    name: {kk: Орындаушы, ru: Исполнитель}
  - id: head
    kind: person
    name: {kk: Басшы, ru: Руководитель}
channels:
  - id: provider
    kind: provider_office
    start: register
    term: {text: десять рабочих дней, duration: 10 working days}
  - id: portal
    kind: egov_portal
    start: register
application_form:
  type: object
  required: [name]
  properties:
    name: {type: string, maxLength: 100}
    phone: {type: string}
steps:
  - id: register
    kind: task
    name: {kk: Тіркеу, ru: Регистрация}
    role: executor
    duration: 15 minutes
    next: review
  - id: review
    kind: task
    name: {kk: Қарау, ru: Рассмотрение}
    role: executor
    duration: 2 working days
    next: decide
  - id: decide
    kind: exclusive
    branches:
      - {when: 'data.name == "x"', next: refused}
    default: sign
  - id: sign
    kind: task
    name: {kk: Қол қою, ru: Подписание}
    role: head
    duration: 1 working day
    outcomes:
      - {id: ok, next: granted}
      - {id: no, next: refused}
  - {id: granted, kind: end, name: {kk: Берілді, ru: Оказано}, result: granted}
  - {id: refused, kind: end, name: {kk: Бас тарту, ru: Отказ}, result: refused}
"#;

fn loaded(text: &str, file: &str) -> Loaded {
    load_str(text, file).unwrap_or_else(|d| panic!("{file}: {:?}", d[0].header()))
}

fn run(new: &str) -> Diff {
    diff(&loaded(BASE, "old.yaml"), &loaded(new, "new.yaml"))
}

/// The 1-based line of the first line of `text` containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` not in the text"))
        + 1
}

fn lines(c: &Change) -> (Option<usize>, Option<usize>) {
    (
        c.old.as_ref().map(|p| p.line),
        c.new.as_ref().map(|p| p.line),
    )
}

fn only(d: &Diff) -> &Change {
    assert_eq!(d.changes.len(), 1, "{:#?}", d.changes);
    &d.changes[0]
}

#[test]
fn a_file_against_itself_has_no_changes() {
    let d = run(BASE);
    assert!(d.is_empty(), "{:#?}", d.changes);
    assert!(render_text::text(&d, Lang::En).contains("No differences"));
}

#[test]
fn a_step_renamed_in_its_place_is_a_rename_at_both_lines() {
    let new = BASE
        .replace("- id: review", "- id: examine")
        .replace("next: review", "next: examine");
    let d = run(&new);
    let c = only(&d);
    assert_eq!(
        c.what,
        What::StepRenamed {
            from: "review".into(),
            to: "examine".into()
        }
    );
    assert_eq!(
        lines(c),
        (
            Some(line_of(BASE, "- id: review")),
            Some(line_of(&new, "- id: examine"))
        )
    );
    assert_eq!(c.old.as_ref().map(|p| p.file.as_str()), Some("old.yaml"));
    assert_eq!(
        c.new.as_ref().map(|p| p.pointer.as_str()),
        Some("/steps/1/id")
    );
}

#[test]
fn two_neighbours_renamed_together_are_found_from_the_ends_inwards() {
    let new = BASE
        .replace("- id: review", "- id: examine")
        .replace("next: review", "next: examine")
        .replace("- id: decide", "- id: choose")
        .replace("next: decide", "next: choose");
    let d = run(&new);
    let renamed: Vec<_> = d.changes.iter().map(|c| c.what.clone()).collect();
    assert_eq!(
        renamed,
        vec![
            What::StepRenamed {
                from: "review".into(),
                to: "examine".into()
            },
            What::StepRenamed {
                from: "decide".into(),
                to: "choose".into()
            },
        ]
    );
}

#[test]
fn a_step_with_a_new_id_in_another_place_is_removed_and_added() {
    // `review` goes; `check` comes between `sign` and `granted`: not the same place.
    let new = BASE
        .replace(
            "  - id: review\n    kind: task\n    name: {kk: Қарау, ru: Рассмотрение}\n    role: executor\n    duration: 2 working days\n    next: decide\n",
            "",
        )
        .replace("next: review", "next: decide")
        .replace("{id: ok, next: granted}", "{id: ok, next: check}")
        .replace(
            "  - {id: granted,",
            "  - id: check\n    kind: task\n    name: {kk: Тексеру, ru: Проверка}\n    role: executor\n    duration: 1 hour\n    next: granted\n  - {id: granted,",
        );
    let d = run(&new);
    let tags: Vec<String> = d.changes.iter().map(|c| c.what.tag()).collect();
    assert_eq!(
        tags,
        [
            "next_changed",
            "outcome_next_changed",
            "step_added",
            "step_removed"
        ],
        "{:#?}",
        d.changes
    );
    let added = &d.changes[2];
    assert_eq!(lines(added), (None, Some(line_of(&new, "- id: check"))));
    let removed = &d.changes[3];
    assert_eq!(lines(removed), (Some(line_of(BASE, "- id: review")), None));
    let marks = d.step_marks();
    assert!(marks.added.contains("check") && marks.removed.contains("review"));
    assert!(marks.changed.contains("register") && marks.changed.contains("sign"));
}

#[test]
fn two_steps_that_fit_one_place_are_not_guessed() {
    // Both ends renamed where each new end fits each old one (same kind, no role, the same
    // predecessor): neither is called a rename.
    let old = BASE.replace("next: refused}\n    default", "next: sign}\n    default");
    let new = old
        .replace("{id: granted,", "{id: issued,")
        .replace("next: granted", "next: issued")
        .replace("{id: refused,", "{id: denied,")
        .replace("next: refused", "next: denied");
    let d = diff(&loaded(&old, "old.yaml"), &loaded(&new, "new.yaml"));
    let count = |tag: &str| d.changes.iter().filter(|c| c.what.tag() == tag).count();
    assert_eq!((count("step_added"), count("step_removed")), (2, 2));
    assert!(
        !d.changes
            .iter()
            .any(|c| matches!(c.what, What::StepRenamed { .. })),
        "{:#?}",
        d.changes
    );
}

#[test]
fn a_duration_changed_on_one_channel_names_that_channel_and_its_line() {
    let new = BASE.replace(
        "    duration: 2 working days\n",
        "    duration: 2 working days\n    durations:\n      portal: 3 working days\n",
    );
    let d = run(&new);
    let c = only(&d);
    assert_eq!(
        c.what,
        What::DurationChanged {
            step: "review".into(),
            channels: vec!["portal".into()],
            from: Some(crate::Term::working_days(2)),
            to: Some(crate::Term::working_days(3)),
        }
    );
    assert_eq!(
        lines(c),
        (
            Some(line_of(BASE, "duration: 2 working days")),
            Some(line_of(&new, "portal: 3 working days"))
        )
    );
    // The step's own duration changes the channels that have none of their own: grouped.
    let d = run(&BASE.replace("duration: 2 working days", "duration: 4 working days"));
    let c = only(&d);
    assert!(
        matches!(&c.what, What::DurationChanged { channels, .. } if channels == &["provider", "portal"])
    );
}

#[test]
fn a_step_given_to_another_role_is_moved() {
    let new = BASE.replace(
        "    role: executor\n    duration: 2 working days",
        "    role: head\n    duration: 2 working days",
    );
    let d = run(&new);
    let c = only(&d);
    assert_eq!(
        c.what,
        What::StepMoved {
            step: "review".into(),
            from_role: Some("executor".into()),
            to_role: Some("head".into())
        }
    );
    let l = line_of(BASE, "duration: 2 working days") - 1;
    assert_eq!(lines(c), (Some(l), Some(l)));
}

#[test]
fn a_branch_condition_and_a_target_are_told_apart() {
    let new = BASE.replace(r#"data.name == "x""#, r#"data.name == "y""#);
    let d = run(&new);
    let c = only(&d);
    assert!(
        matches!(&c.what, What::BranchConditionChanged { step, next, .. } if step == "decide" && next == "refused")
    );
    let l = line_of(BASE, "- {when:");
    assert_eq!(lines(c), (Some(l), Some(l)));
    let d = run(&BASE.replace("default: sign", "default: granted"));
    assert!(matches!(&only(&d).what, What::DefaultChanged { to: Some(t), .. } if t == "granted"));
    let d = run(&BASE.replace(
        "{id: no, next: refused}",
        "{id: no, next: refused, requires_reason: true}",
    ));
    assert!(
        matches!(&only(&d).what, What::OutcomeReasonChanged { outcome, requires_reason: true, .. } if outcome == "no")
    );
}

#[test]
fn form_fields_required_added_and_constrained() {
    let new = BASE
        .replace("required: [name]", "required: [name, phone]")
        .replace("maxLength: 100", "maxLength: 50")
        .replace(
            "    phone: {type: string}\n",
            "    phone: {type: string}\n    email: {type: string}\n",
        );
    let d = run(&new);
    let tags: Vec<String> = d.changes.iter().map(|c| c.what.tag()).collect();
    // Fields in the schema's key order (serde_json's map).
    assert!(tags.contains(&"field_now_required".to_string()), "{tags:?}");
    assert!(tags.contains(&"field_added".to_string()), "{tags:?}");
    assert!(
        tags.contains(&"field_constraint_changed".to_string()),
        "{tags:?}"
    );
    let req = d
        .changes
        .iter()
        .find(
            |c| matches!(&c.what, What::FieldNowRequired { field, step: None } if field == "phone"),
        )
        .expect("phone required");
    assert_eq!(
        lines(req),
        (
            Some(line_of(BASE, "phone: {type")),
            Some(line_of(&new, "required: [name, phone]"))
        )
    );
    let max = d
        .changes
        .iter()
        .find(|c| matches!(&c.what, What::FieldConstraintChanged { constraint, .. } if constraint == "maxLength"))
        .expect("maxLength");
    assert_eq!(
        max.new.as_ref().map(|p| p.pointer.as_str()),
        Some("/application_form/properties/name/maxLength")
    );
}

#[test]
fn channels_roles_terms_and_dates() {
    let new = BASE
        .replace("duration: 10 working days}", "duration: 15 working days}")
        .replace(
            "    kind: egov_portal\n    start: register\n",
            "    kind: egov_portal\n    start: register\n    counting: {receipt_and_issue_days_excluded: true}\n",
        )
        .replace(
            "channels:\n",
            "  - id: akim\n    kind: person\n    office: rural_akim\n    name: {kk: Әкім, ru: Аким}\nchannels:\n",
        )
        .replace("valid_from: 2020-01-01\n", "valid_from: 2020-01-01\nin_force_from: 2020-02-01\n");
    let d = run(&new);
    let tags: Vec<String> = d.changes.iter().map(|c| c.what.tag()).collect();
    assert_eq!(
        tags,
        [
            "date_changed",
            "role_added",
            "statutory_term_changed",
            "counting_changed"
        ],
        "{:#?}",
        d.changes
    );
    let date = &d.changes[0];
    // Not in the old file at all: no old place.
    assert_eq!(lines(date), (None, Some(line_of(&new, "in_force_from"))));
    let term = &d.changes[2];
    let (l, n) = (
        line_of(BASE, "duration: 10 working days"),
        line_of(&new, "15 working days"),
    );
    assert_eq!(lines(term), (Some(l), Some(n)));
    assert_eq!(
        render_text::text(&d, Lang::Ru)
            .lines()
            .nth(4)
            .unwrap_or_default(),
        format!(
            "~ Канал `provider`: нормативный срок 10 рабочих дней → 15 рабочих дней  [old.yaml:{l} → new.yaml:{n}]"
        )
    );
}

#[test]
fn the_json_names_each_change_and_the_order_is_stable() {
    let new = BASE
        .replace("- id: review", "- id: examine")
        .replace("next: review", "next: examine")
        .replace("version: 1", "version: 2");
    let a = serde_json::to_value(run(&new)).expect("json");
    let b = serde_json::to_value(run(&new)).expect("json");
    assert_eq!(a, b);
    assert_eq!(a["changes"][0]["change"], "version_changed");
    assert_eq!(a["changes"][1]["change"], "step_renamed");
    assert_eq!(a["changes"][1]["old"]["file"], "old.yaml");
    assert_eq!(
        a["changes"][1]["new"]["line"],
        line_of(&new, "- id: examine")
    );
    assert_eq!(a["old"]["version"], 1);
    assert_eq!(a["new"]["version"], 2);
}

#[test]
fn the_html_escapes_and_sets_ids_as_code() {
    let new = BASE.replace(r#"data.name == "x""#, r#"data.name == "<b>""#);
    let html = render_html::page(&run(&new), Lang::En, None);
    assert!(
        html.contains("&lt;b&gt;") && !html.contains("<b>"),
        "{html}"
    );
    assert!(html.contains("<code>decide</code>"));
    assert!(html.starts_with("<!DOCTYPE html>"));
}

#[test]
fn the_new_diagram_marks_added_and_changed_steps_with_a_legend_in_words() {
    let new = BASE
        .replace("duration: 2 working days", "duration: 4 working days")
        .replace("{id: ok, next: granted}", "{id: ok, next: check}")
        .replace(
            "  - {id: granted,",
            "  - id: check\n    kind: task\n    name: {kk: Тексеру, ru: Проверка}\n    role: executor\n    duration: 1 hour\n    next: granted\n  - {id: granted,",
        );
    let d = run(&new);
    let report = crate::validate::check_str(&new, "new.yaml", None);
    let process = report.process.expect("the new version compiles");
    let options = crate::render::Options {
        lang: Lang::Ru,
        ..Default::default()
    };
    let svg = crate::render::svg_marked(&process, &options, &d.diagram_marks(Lang::Ru));
    assert!(
        svg.contains(r#"class="step mark-added" id="step-check""#),
        "{svg}"
    );
    assert!(svg.contains(r#"class="step mark-changed" id="step-review""#));
    assert!(svg.contains(r#"class="step mark-changed" id="step-sign""#));
    assert_eq!(svg.matches("data-mark=").count(), 3);
    assert!(svg.contains("шаг добавлен") && svg.contains("шаг изменён"));
    // Without marks the drawing is what it always was.
    assert_eq!(
        crate::render::svg_marked(&process, &options, &[]),
        crate::render::svg(&process, &options)
    );
}

#[test]
fn suspensions_escalations_ends_roles_and_the_act() {
    let new = BASE
        .replace(
            "    duration: 2 working days\n    next: decide\n",
            "    duration: 2 working days\n    next: decide\n    suspensions:\n      - {reason: awaiting_authority, name: {kk: Күту, ru: Ожидание}, stops_case_term: true}\n    escalation:\n      - {action: notify, role: head, after: 1 hour}\n",
        )
        .replace("result: refused}", "result: returned}")
        .replace(
            "    kind: person\n    name: {kk: Басшы, ru: Руководитель}\n",
            "    kind: person\n    office: provider_office\n    name: {kk: Басшы, ru: Руководитель}\n",
        )
        .replace("source: {act: Тест}", "source: {act: Тест 2, appendix: \"3\"}")
        .replace("valid_from: 2020-01-01\n", "valid_from: 2020-01-01\nvalid_to: 2024-12-31\nrepealed: {text: Утратил силу, date: 2025-01-01, act: Постановление № 1}\n");
    let d = run(&new);
    let tags: Vec<String> = d.changes.iter().map(|c| c.what.tag()).collect();
    assert_eq!(
        tags,
        [
            "source_changed",
            "source_changed",
            "date_changed",
            "repeal_changed",
            "role_office_changed",
            "escalation_changed",
            "suspension_added",
            "end_result_changed",
        ],
        "{:#?}",
        d.changes
    );
    // Each with a place in the new file; in the old one where the part, or the step or role
    // that holds it, is there.
    for c in &d.changes {
        assert!(c.new.is_some(), "{c:#?}");
    }
    let old_missing: Vec<String> = d
        .changes
        .iter()
        .filter(|c| c.old.is_none())
        .map(|c| c.what.tag())
        .collect();
    // The old file has a `source` (without an appendix): the appendix's change points there.
    assert_eq!(old_missing, ["date_changed", "repeal_changed"]);
    let esc = &d.changes[5];
    assert_eq!(
        esc.new.as_ref().map(|p| p.line),
        Some(line_of(&new, "escalation:"))
    );
    assert_eq!(
        esc.old.as_ref().map(|p| p.pointer.as_str()),
        Some("/steps/1")
    );
    let en = render_text::text(&d, Lang::En);
    assert!(
        en.contains("Step `review`: on a breach — → notify head after 1 hour"),
        "{en}"
    );
    assert!(
        en.contains("may now be suspended for `awaiting_authority` (the case's term stops too)")
    );
    assert!(en.contains("End `refused`: result `refused` → `returned`"));
    assert!(en.contains("Role `head`: kind of office — → `provider_office`"));
    let kk = render_text::text(&d, Lang::Kk);
    assert!(kk.contains("істің мерзімі де тоқтайды"), "{kk}");
}
