//! Migration of running cases onto a new regulation version: what each deadline policy does
//! to the due instants, what the fold makes of the event, and what is refused.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use super::migrate::{Migration, migrate};
use super::tests::{FIXTURE, OFFICE, calendars};
use super::*;
use reglament_calendar::OfficeClock;
use reglament_model::compile::Process;
use reglament_model::migration_plan::{LoadedPlan, Policy, load_plan_str};
use reglament_model::validate;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

fn compile(yaml: &str) -> Arc<Process> {
    let report = validate::check_str(yaml, "fixture.yaml", None);
    assert_eq!(report.errors(), 0, "{:#?}", report.diagnostics);
    Arc::new(report.process.expect("compiles"))
}

/// Version 2 of the runtime fixture with `edits` (from, to) made to its text.
fn version2(edits: &[(&str, &str)]) -> Arc<Process> {
    let mut yaml = FIXTURE.replacen("version: 1", "version: 2", 1);
    for (from, to) in edits {
        assert!(yaml.contains(from), "the fixture changed: {from}");
        yaml = yaml.replacen(from, to, 1);
    }
    compile(&yaml)
}

fn v1() -> Arc<Process> {
    compile(FIXTURE)
}

/// The review shortened to 3 working days, the statutory term to 8.
fn shorter() -> Arc<Process> {
    version2(&[
        ("duration: 5 working days", "duration: 3 working days"),
        (
            "term: {text: в течение десяти рабочих дней, duration: 10 working days}\n    extended_term",
            "term: {text: в течение восьми рабочих дней, duration: 8 working days}\n    extended_term",
        ),
    ])
}

fn plan(p: &Arc<Process>, extra: &str) -> LoadedPlan {
    let text = format!(
        "regulation: runtime-fixture\nfrom_version: 1\nto_version: {}\nlegal_basis:\n  act: Decree 45\n  paragraph: p. 3\nreason: the decree shortened the review\n{extra}",
        p.version()
    );
    load_plan_str(&text, "plan.yaml").unwrap_or_else(|d| panic!("{d:?}"))
}

fn clock() -> OfficeClock {
    calendars().clock(Some(OFFICE)).expect("office clock")
}

fn clerk() -> Actor {
    Actor::new("clerk1", "executor")
}

/// A case on `p` registered Monday 2 March 2026 10:00 (+05), taken to its review by Tuesday
/// noon and claimed there by clerk1; the engine holds both versions.
fn at_review(p: &Arc<Process>, versions: &[&Arc<Process>]) -> (Engine, CaseId) {
    let (e, id, _) = at_review_logged(p, versions);
    (e, id)
}

/// [`at_review`], with the events it recorded.
fn at_review_logged(p: &Arc<Process>, versions: &[&Arc<Process>]) -> (Engine, CaseId, Vec<Event>) {
    let mut e = Engine::new(calendars());
    for v in versions {
        e.deploy((*v).clone());
    }
    e.deploy(p.clone());
    let id = CaseId::new("m-1");
    let mut log = e
        .start(
            p,
            NewCase {
                case: id.clone(),
                channel: "provider".into(),
                office: OFFICE.into(),
                data: json!({"full_name": "Айгүл Серікова", "iin": "900101400123"}),
            },
            &clerk(),
            t("2026-03-02T10:00:00+05:00"),
        )
        .expect("start");
    let mut complete = |task: u32, at: &str| {
        let events = e
            .execute(
                &id,
                &Command::Complete {
                    task: TaskId(task),
                    outcome: None,
                    data: json!({}),
                    reason: None,
                },
                &clerk(),
                t(at),
            )
            .expect("complete");
        log.extend(events);
    };
    complete(1, "2026-03-02T10:10:00+05:00");
    complete(2, "2026-03-02T15:00:00+05:00");
    complete(3, "2026-03-03T12:00:00+05:00");
    let claimed = e
        .execute(
            &id,
            &Command::Claim { task: TaskId(4) },
            &clerk(),
            t("2026-03-03T12:05:00+05:00"),
        )
        .expect("claim");
    log.extend(claimed);
    (e, id, log)
}

const NOW: &str = "2026-03-04T11:00:00+05:00";

/// Migrates the case and folds the event in, as the store does.
fn migrated(state: &CaseState, new: &Arc<Process>, p: &LoadedPlan) -> (EventKind, CaseState) {
    let clock = clock();
    let kind = migrate(
        state,
        Migration {
            plan: &p.plan,
            plan_digest: &p.digest,
            new,
            now: t(NOW),
            clock: &clock,
            offices: None,
        },
    )
    .expect("migrates")
    .expect("an event");
    let event = Event {
        at: t(NOW),
        actor: Actor::engine(),
        kind: kind.clone(),
    };
    let mut after = state.clone();
    let resolver = |d: &str| (d == new.digest).then(|| new.clone());
    after.apply_with(&event, resolver).expect("folds");
    (kind, after)
}

fn dues(s: &CaseState) -> Vec<(u32, Option<DateTime<Utc>>)> {
    let mut out: Vec<_> = s
        .open_tasks()
        .map(|t| (t.id.0, t.deadline.as_ref().map(|d| d.due)))
        .collect();
    out.push((0, s.deadline.as_ref().map(|d| d.due)));
    out
}

#[test]
fn an_identity_plan_between_versions_differing_in_an_unrelated_step_moves_no_due_instant() {
    let old = v1();
    // Only the signing step, which the case has not reached, changes.
    let new = version2(&[(
        "name: {kk: Қол қою, ru: Подписание}",
        "name: {kk: Қол қою, ru: Подпись}",
    )]);
    let (e, id) = at_review(&old, &[&new]);
    let before = e.case(&id).expect("case").clone();
    let p = plan(
        &new,
        "deadlines:\n  default: recompute\n  case: recompute\n",
    );
    let (kind, after) = migrated(&before, &new, &p);
    assert_eq!(dues(&before), dues(&after));
    assert_eq!(after.process.digest, new.digest);
    let EventKind::CaseMigrated { steps, tasks, .. } = &kind else {
        panic!("{kind:?}")
    };
    assert!(steps.is_empty(), "{steps:?}");
    assert_eq!(tasks.len(), 1);
    assert_eq!(&*tasks[0].to_step, "review");
}

#[test]
fn keep_leaves_every_due_instant_as_it_was() {
    let old = v1();
    let new = shorter();
    let (e, id) = at_review(&old, &[&new]);
    let before = e.case(&id).expect("case").clone();
    let (kind, after) = migrated(&before, &new, &plan(&new, ""));
    assert_eq!(dues(&before), dues(&after));
    // The term in force is still the old one: a later recomputation on a new calendar
    // counts what was kept.
    let review = after.task(TaskId(4)).expect("review");
    assert_eq!(
        review.deadline.as_ref().map(|d| d.term.to_string()),
        Some("5 working days".into())
    );
    let EventKind::CaseMigrated { tasks, .. } = &kind else {
        panic!()
    };
    assert_eq!(tasks[0].policy, Policy::Keep);
}

#[test]
fn recompute_equals_a_fresh_case_on_the_new_version_from_the_same_registration() {
    let old = v1();
    let new = shorter();
    let (e, id) = at_review(&old, &[&new]);
    let before = e.case(&id).expect("case").clone();
    let p = plan(
        &new,
        "deadlines:\n  default: recompute\n  case: recompute\n",
    );
    let (_, after) = migrated(&before, &new, &p);
    // The same case, started and worked the same way on the new version.
    let (fresh, fid) = at_review(&new, &[]);
    let fresh = fresh.case(&fid).expect("fresh case");
    assert_eq!(dues(&after), dues(fresh));
    // And by hand: the review opened Tuesday 3 March, 3 working days → the end of Friday 6
    // March; the case registered Monday 2 March, 8 working days counted from the next day,
    // with Monday 9 March off (8 March moved) → the end of Friday 13 March (+05).
    let review = after.task(TaskId(4)).expect("review");
    assert_eq!(
        review.deadline.as_ref().map(|d| d.due),
        Some(t("2026-03-06T18:00:00+05:00"))
    );
    assert_eq!(
        after.deadline.as_ref().map(|d| d.due),
        Some(t("2026-03-13T18:00:00+05:00"))
    );
    assert_ne!(dues(&before), dues(&after));
}

#[test]
fn restart_counts_the_new_duration_from_the_migration() {
    let old = v1();
    let new = shorter();
    let (e, id) = at_review(&old, &[&new]);
    let before = e.case(&id).expect("case").clone();
    let p = plan(&new, "deadlines:\n  steps:\n    review: restart\n");
    let (_, after) = migrated(&before, &new, &p);
    let review = after.task(TaskId(4)).expect("review");
    // 3 working days from Wednesday 4 March, with Monday 9 March off.
    let expected = clock()
        .due_at(
            t(NOW),
            "3 working days".parse().expect("term"),
            &Default::default(),
        )
        .expect("due");
    assert_eq!(review.deadline.as_ref().map(|d| d.due), Some(expected));
    assert_eq!(review.term_from, t(NOW));
    // The case's statutory due instant keeps (the case policy is `keep` by default).
    assert_eq!(after.deadline, before.deadline);
}

#[test]
fn a_renamed_step_is_mapped_and_the_claimed_task_stays_with_its_user() {
    let old = v1();
    let new = version2(&[
        ("  - id: review\n", "  - id: examine\n"),
        (
            "kind: join\n    next: review",
            "kind: join\n    next: examine",
        ),
        ("outcomes.review ==", "outcomes.examine =="),
    ]);
    let (e, id) = at_review(&old, &[&new]);
    let before = e.case(&id).expect("case").clone();
    let p = plan(&new, "mapping:\n  review: examine\n");
    let (kind, after) = migrated(&before, &new, &p);
    let EventKind::CaseMigrated { steps, .. } = &kind else {
        panic!()
    };
    assert_eq!(steps.get("review").map(String::as_str), Some("examine"));
    let task = after.task(TaskId(4)).expect("task");
    assert_eq!(&*task.step_id, "examine");
    assert_eq!(task.claimed_by.as_deref(), Some("clerk1"));
    assert_eq!(after.step_of(task).id(), "examine");
    // The case goes on on the new version: completing the task opens the signing there.
    let clock = clock();
    let events = decide::decide(
        &after,
        &Command::Complete {
            task: TaskId(4),
            outcome: Some("grant".into()),
            data: json!({}),
            reason: None,
        },
        Ctx {
            now: t("2026-03-04T12:00:00+05:00"),
            actor: &clerk(),
            clock: &clock,
            offices: None,
        },
    )
    .expect("completes on the new version");
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::TaskOpened { step, .. } if &**step == "sign"))
    );
    // Without the mapping the case is refused, and names the step.
    let err = migrate(
        &before,
        Migration {
            plan: &plan(&new, "").plan,
            plan_digest: "x",
            new: &new,
            now: t(NOW),
            clock: &clock,
            offices: None,
        },
    )
    .expect_err("unmapped");
    assert!(err.to_string().contains("`review`"), "{err}");
}

#[test]
fn the_history_folds_again_across_both_versions_and_only_with_the_new_one() {
    let old = v1();
    let new = shorter();
    let (e, id) = at_review(&old, &[&new]);
    let before = e.case(&id).expect("case").clone();
    let p = plan(&new, "deadlines:\n  default: recompute\n");
    let clock = clock();
    let _ = id;
    let kind = migrate(
        &before,
        Migration {
            plan: &p.plan,
            plan_digest: &p.digest,
            new: &new,
            now: t(NOW),
            clock: &clock,
            offices: None,
        },
    )
    .expect("migrates")
    .expect("event");
    let (_, _, mut history) = at_review_logged(&old, &[&new]);
    history.push(Event {
        at: t(NOW),
        actor: Actor::engine(),
        kind,
    });
    let both = |d: &str| [&old, &new].into_iter().find(|p| p.digest == d).cloned();
    let folded = CaseState::fold(&history, both).expect("folds across versions");
    assert_eq!(folded.process.digest, new.digest);
    // A caller that resolves every digest to the first version cannot fold it wrongly.
    let only_old = |_: &str| Some(old.clone());
    assert!(matches!(
        CaseState::fold(&history, only_old),
        Err(FoldError::UnknownRegulation { .. })
    ));
    // Migrating again changes nothing.
    let again = migrate(
        &folded,
        Migration {
            plan: &p.plan,
            plan_digest: &p.digest,
            new: &new,
            now: t(NOW),
            clock: &clock,
            offices: None,
        },
    )
    .expect("no error");
    assert!(again.is_none());
}

#[test]
fn closed_cases_and_other_versions_are_refused() {
    let old = v1();
    let new = shorter();
    let (mut e, id) = at_review(&old, &[&new]);
    let p = plan(&new, "");
    let clock = clock();
    fn m<'a>(p: &'a LoadedPlan, new: &'a Arc<Process>, clock: &'a OfficeClock) -> Migration<'a> {
        Migration {
            plan: &p.plan,
            plan_digest: "x",
            new,
            now: t(NOW),
            clock,
            offices: None,
        }
    }
    let wrong = plan(&new, "").plan;
    let mut from3 = wrong.clone();
    from3.from_version = 3;
    let loaded3 = LoadedPlan {
        plan: from3,
        ..plan(&new, "")
    };
    let state = e.case(&id).expect("case").clone();
    assert!(matches!(
        migrate(&state, m(&loaded3, &new, &clock)),
        Err(super::migrate::MigrateError::WrongVersion {
            version: 1,
            from: 3,
            ..
        })
    ));
    e.execute(
        &id,
        &Command::Withdraw {
            reason: "changed mind".into(),
        },
        &clerk(),
        t("2026-03-03T13:00:00+05:00"),
    )
    .expect("withdraw");
    let state = e.case(&id).expect("case").clone();
    assert!(matches!(
        migrate(&state, m(&p, &new, &clock)),
        Err(super::migrate::MigrateError::Closed(_))
    ));
}
