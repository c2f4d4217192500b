//! Moving running cases onto a new regulation version through the store, on SQLite and on
//! PostgreSQL: the selection, the dry run, one `case_migrated` per case with its projections,
//! a command on a case cached before the move, and a second run that changes nothing.

mod store_support;

use std::collections::BTreeMap;

use chrono::TimeDelta;
use reglament_model::migration_plan::{LoadedPlan, load_plan_str};
use reglament_runtime::{CaseId, TaskId};
use reglament_store::Service;
use reglament_store::case_migration::CaseMigrationError;
use serde_json::json;
use store_support::*;

both_backends!(a_plan_moves_each_open_case_once_with_its_projections);

/// Version 2: the review renamed `examine` and given 3 working days instead of 1.
fn version2() -> String {
    let v2 = REGULATION
        .replacen("version: 1", "version: 2", 1)
        .replace("  - id: review\n", "  - id: examine\n")
        .replace("next: review", "next: examine")
        .replace("duration: 1 working day\n", "duration: 3 working days\n");
    assert_ne!(v2.matches("examine").count(), 0, "the fixture changed");
    v2
}

fn plan(extra: &str) -> LoadedPlan {
    let text = format!(
        "regulation: register-review-escalated\nfrom_version: 1\nto_version: 2\nlegal_basis:\n  act: Decree 45 of 1 March 2026\n  paragraph: p. 3\nreason: the review takes three days\n{extra}"
    );
    load_plan_str(&text, "plan.yaml").unwrap_or_else(|d| panic!("{d:?}"))
}

async fn a_plan_moves_each_open_case_once_with_its_projections(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    store
        .deploy(&version2(), "admin", t0())
        .await
        .expect("v2 deploys");
    let now = t0() + TimeDelta::minutes(5);
    // C-0, C-1 wait at registration; C-2..C-4 at the review (C-2 claimed); C-5 is granted.
    for i in 0..6 {
        let id = CaseId::new(format!("C-{i}"));
        service
            .start(&process, new_case(id.as_str()), &clerk(), t0())
            .await
            .expect("starts");
        if i < 2 {
            continue;
        }
        service
            .execute(&id, &complete(1, None, json!({})), &clerk(), now)
            .await
            .expect("register");
        if i == 2 {
            service
                .execute(&id, &claim(2), &clerk(), now)
                .await
                .expect("claim");
        }
        if i == 5 {
            service
                .execute(&id, &complete(2, Some("grant"), json!({})), &clerk(), now)
                .await
                .expect("grant");
        }
    }
    let at = t0() + TimeDelta::hours(2);
    // Another process runs the plan (as `reglament migrate` does beside the server).
    let runner = Service::new(store.clone(), calendars());

    // A plan that leaves the review unmapped is refused whole, at its place in the plan.
    match runner.migrate_cases(&plan(""), at, true, true).await {
        Err(CaseMigrationError::Plan(d)) => {
            assert!(d[0].message.contains("`review`"), "{d:?}");
            assert_eq!(d[0].location.line, 3, "{}", d[0]);
        }
        other => panic!("{other:?}"),
    }

    let mapped = "mapping:\n  review: examine\ndeadlines:\n  default: recompute\n";
    // The selection: only the cases waiting at registration.
    let some = plan(&format!("{mapped}select:\n  steps: [register]\n"));
    let dry = runner
        .migrate_cases(&some, at, true, true)
        .await
        .expect("dry");
    assert_eq!((dry.selected, dry.migrated), (2, 2));
    let all = plan(mapped);
    let dry = runner
        .migrate_cases(&all, at, true, true)
        .await
        .expect("dry");
    assert_eq!((dry.selected, dry.migrated), (5, 5), "{:?}", dry.refused);
    let c2 = dry.cases.iter().find(|c| c.case == "C-2").expect("C-2");
    assert_eq!(c2.tasks[0].from_step, "review");
    assert_eq!(c2.tasks[0].to_step, "examine");
    assert_eq!(c2.tasks[0].claimed_by.as_deref(), Some("clerk1"));
    assert!(c2.tasks[0].due_after > c2.tasks[0].due_before);
    // Nothing was written.
    let before = store.projections().await.expect("projections");
    assert!(before.cases.iter().all(|c| c.regulation_version == 1));

    let done = runner
        .migrate_cases(&all, at, false, false)
        .await
        .expect("migrates");
    assert_eq!((done.selected, done.migrated), (5, 5), "{:?}", done.refused);
    let live = store.projections().await.expect("projections");
    let versions: BTreeMap<&str, i64> = live
        .cases
        .iter()
        .map(|c| (c.case_id.as_str(), c.regulation_version))
        .collect();
    assert_eq!(versions["C-5"], 1, "a closed case stays where it ended");
    for i in 0..5 {
        assert_eq!(versions[format!("C-{i}").as_str()], 2);
    }
    let task = live
        .tasks
        .iter()
        .find(|t| t.case_id == "C-2" && t.task == 2)
        .expect("C-2's review");
    assert_eq!(task.step, "examine");
    assert_eq!(task.claimed_by.as_deref(), Some("clerk1"));
    assert_eq!(
        Some(task.due),
        c2.tasks[0].due_after.map(|d| d.timestamp_micros())
    );
    // One `case_migrated` per moved case, in chains that verify.
    for i in 0..6 {
        let events = store
            .events(&CaseId::new(format!("C-{i}")))
            .await
            .expect("events");
        let n = events
            .iter()
            .filter(|e| e.event.kind.name() == "case_migrated")
            .count();
        assert_eq!(n, usize::from(i < 5), "C-{i}");
    }
    assert!(store.verify_all().await.expect("verify").is_ok());
    // What the log says is what the projections say.
    store.rebuild().await.expect("rebuild");
    assert_eq!(store.projections().await.expect("rebuilt"), live);

    // The server's service had C-2 cached on version 1: its next command runs on version 2.
    let events = service
        .execute(
            &CaseId::new("C-2"),
            &complete(2, Some("grant"), json!({})),
            &clerk(),
            at + TimeDelta::minutes(1),
        )
        .await
        .expect("completes on the new version");
    assert!(events.iter().any(|e| e.event.kind.name() == "case_ended"));
    let loaded = store
        .load(&CaseId::new("C-3"))
        .await
        .expect("loads")
        .expect("exists");
    assert_eq!(loaded.process.version(), 2);
    assert_eq!(&*loaded.task(TaskId(2)).expect("task").step_id, "examine");

    // Running the plan again changes nothing.
    let again = runner
        .migrate_cases(&all, at, false, false)
        .await
        .expect("again");
    assert_eq!((again.selected, again.migrated), (0, 0));
    store.close().await;
}
