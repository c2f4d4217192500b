//! The store's behaviour, run the same on SQLite and on PostgreSQL (`<test>::sqlite`,
//! `<test>::postgres`; the PostgreSQL ones need `REGLAMENT_TEST_POSTGRES`).

mod store_support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use reglament_runtime::{Actor, CaseId, CommandError, EventKind};
use reglament_store::canonical::{self, RecordHeader};
use reglament_store::{
    InboxQuery, InboxStatus, Service, ServiceError, Store, StoreError, TamperKind,
};
use serde_json::json;
use store_support::*;

both_backends!(
    deploy_is_idempotent_and_versions_only_grow,
    a_case_runs_and_every_event_is_chained,
    a_stale_append_is_a_conflict,
    a_second_claim_loses_after_reloading,
    the_inbox_pages_by_due_instant,
    deadlines_fire_once_and_move_the_wakeup,
    a_dead_nodes_lease_runs_out,
    rebuilt_projections_equal_live_ones,
    tampering_is_reported_with_the_event,
    the_store_reopens_with_everything,
    a_pinned_calendar_comes_back_from_the_store,
    two_nodes_race_for_claims_and_deadlines,
    checkpoints_are_stored_once_per_number_and_never_changed,
    a_calendar_decree_reaches_running_cases_once,
);

async fn deploy_is_idempotent_and_versions_only_grow(db: &TestDb) {
    let (store, _, process) = setup(db).await;
    let (again, _) = store
        .deploy(REGULATION, "admin", t0())
        .await
        .expect("same content again");
    assert!(!again.new);
    assert_eq!(again.digest, process.digest);
    // Version 1 with other content: refused.
    let changed = REGULATION.replace("15 minutes", "20 minutes");
    let err = store.deploy(&changed, "admin", t0()).await.unwrap_err();
    assert!(matches!(err, StoreError::VersionTaken { .. }), "{err}");
    // As version 2: fine, and now the latest.
    let v2 = changed.replace("version: 1", "version: 2");
    let (d2, _) = store.deploy(&v2, "admin", t0()).await.expect("v2");
    assert!(d2.new);
    assert_eq!(
        store
            .latest("register-review-escalated")
            .await
            .expect("latest")
            .digest,
        d2.digest
    );
    // Version 1 can no longer come in with new content.
    let v1b = REGULATION.replace("15 minutes", "25 minutes");
    let err = store.deploy(&v1b, "admin", t0()).await.unwrap_err();
    assert!(matches!(err, StoreError::VersionTaken { .. }), "{err}");
    let v0 = REGULATION.replace("version: 1", "version: 1\nvalid_to: 2030-01-01");
    assert!(store.deploy(&v0, "admin", t0()).await.is_err());
    // Broken YAML is refused with the validator's findings.
    let err = store.deploy("id: x\n", "admin", t0()).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidRegulation { .. }), "{err}");
    let list = store.regulations().await.expect("list");
    assert_eq!(
        list.iter().map(|r| r.version).collect::<Vec<_>>(),
        vec![1, 2]
    );
    // A pinned version compiles again from its stored source.
    assert_eq!(
        store.process(&process.digest).await.expect("v1").version(),
        1
    );
    store.close().await;
}

async fn a_case_runs_and_every_event_is_chained(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    let id = CaseId::new("ATR-1");
    let started = service
        .start(&process, new_case("ATR-1"), &clerk(), t0())
        .await
        .expect("starts");
    assert_eq!(started[0].seq, 1);
    assert_eq!(started[0].prev_hash, canonical::GENESIS);
    let err = service
        .start(&process, new_case("ATR-1"), &clerk(), t0())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ServiceError::Command(CommandError::CaseExists(_))),
        "{err}"
    );
    let now = t0() + TimeDelta::minutes(5);
    service
        .execute(&id, &complete(1, None, json!({})), &clerk(), now)
        .await
        .expect("register");
    for _ in 0..3 {
        let state = service.case_state(&id).await.expect("state");
        let task = state.open_tasks().next().expect("review open").id.0;
        service
            .execute(
                &id,
                &complete(task, Some("again"), json!({})),
                &clerk(),
                now,
            )
            .await
            .expect("again");
    }
    let state = service.case_state(&id).await.expect("state");
    let task = state.open_tasks().next().expect("review").id.0;
    let err = service
        .execute(
            &id,
            &complete(task, Some("refuse"), json!({})),
            &clerk(),
            now,
        )
        .await
        .unwrap_err();
    assert!(err.is_client_error(), "{err}");
    service
        .execute(
            &id,
            &complete(task, Some("grant"), json!({})),
            &clerk(),
            now,
        )
        .await
        .expect("grant");
    let events = store.events(&id).await.expect("events");
    let mut prev = canonical::GENESIS.to_string();
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e.seq, i as u64 + 1);
        assert_eq!(e.prev_hash, prev);
        let body = canonical::canonical(&serde_json::to_value(&e.event).expect("json"));
        let hash = canonical::event_hash(
            RecordHeader {
                case: "ATR-1",
                seq: e.seq,
                prev_hash: &prev,
                digest: &process.digest,
                calendar_version: &state.calendar_version,
            },
            &body,
        );
        assert_eq!(e.hash, hash, "event {}", e.seq);
        prev = e.hash.clone();
    }
    assert!(matches!(
        events.last().map(|e| &e.event.kind),
        Some(EventKind::CaseEnded { .. })
    ));
    assert_eq!(
        store.verify_case(&id).await.expect("verify"),
        Ok(events.len())
    );
    let view = store.case(&id).await.expect("read").expect("case");
    assert_eq!(view.status, "ended");
    assert_eq!(view.result.as_deref(), Some("granted"));
    assert_eq!(view.applicant.as_deref(), Some("Айгүл Серікова"));
    assert_eq!(view.last_seq, events.len() as u64);
    assert_eq!(view.last_hash, prev);
    assert_eq!(view.tasks.len(), 5);
    assert!(view.tasks.iter().all(|t| t.status == "completed"));
    // An ended case has nothing left to wake up for.
    assert!(store.projections().await.expect("p").wakeups.is_empty());
    let err = service
        .execute(&id, &claim(1), &clerk(), now)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ServiceError::Command(CommandError::CaseClosed)),
        "{err}"
    );
    let err = service
        .execute(&CaseId::new("nope"), &claim(1), &clerk(), now)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ServiceError::Command(CommandError::NoSuchCase(_))),
        "{err}"
    );
    store.close().await;
}

async fn a_stale_append_is_a_conflict(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    let id = CaseId::new("C-1");
    service
        .start(&process, new_case("C-1"), &clerk(), t0())
        .await
        .expect("starts");
    let state = store.load(&id).await.expect("load").expect("case");
    let stale = state.version;
    service
        .execute(&id, &claim(1), &clerk(), t0())
        .await
        .expect("claim");
    // Events decided on the old state cannot be appended any more.
    let ev = reglament_runtime::decide::decide(
        &state,
        &claim(1),
        reglament_runtime::Ctx {
            now: t0(),
            actor: &Actor::new("clerk2", "executor"),
            clock: &calendars().clock(Some(OFFICE)).expect("clock"),
            offices: None,
        },
    )
    .expect("decides on the stale state");
    let mut after = state.clone();
    for e in &ev {
        after.apply(e).expect("applies");
    }
    let err = store.append(&id, stale, &ev, &after).await.unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict { expected, actual, .. } if expected == stale && actual == stale + 1),
        "{err}"
    );
    assert_eq!(store.head(&id).await.expect("head"), stale + 1);
    store.close().await;
}

async fn a_second_claim_loses_after_reloading(db: &TestDb) {
    let (store, a, process) = setup(db).await;
    let b = Service::new(store.clone(), calendars());
    let id = CaseId::new("C-2");
    a.start(&process, new_case("C-2"), &clerk(), t0())
        .await
        .expect("starts");
    // Both services have the case cached at the same state.
    b.case_state(&id).await.expect("b loads");
    a.execute(&id, &claim(1), &Actor::new("alice", "executor"), t0())
        .await
        .expect("alice claims");
    // b decides on its stale copy, loses the append, reloads and decides again.
    let err = b
        .execute(&id, &claim(1), &Actor::new("bob", "executor"), t0())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ServiceError::Command(CommandError::ClaimedByOther { by, .. }) if &**by == "alice"),
        "{err}"
    );
    let claims = store
        .events(&id)
        .await
        .expect("events")
        .iter()
        .filter(|e| matches!(e.event.kind, EventKind::TaskClaimed { .. }))
        .count();
    assert_eq!(claims, 1);
    store.close().await;
}

async fn the_inbox_pages_by_due_instant(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    // Seven cases started a minute apart: their registration tasks fall due a minute apart.
    for i in 0..7 {
        service
            .start(
                &process,
                new_case(&format!("IN-{i}")),
                &clerk(),
                t0() + TimeDelta::minutes(i),
            )
            .await
            .expect("starts");
    }
    service
        .execute(&CaseId::new("IN-3"), &claim(1), &clerk(), t0())
        .await
        .expect("claim");
    let mut q = InboxQuery::open("executor", OFFICE, 2);
    let mut seen = Vec::new();
    loop {
        let page = store.inbox(&q).await.expect("page");
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|i| i.case.clone()));
        match page.next {
            Some(n) => q.after = Some(n),
            None => break,
        }
    }
    assert_eq!(seen, ["IN-0", "IN-1", "IN-2", "IN-4", "IN-5", "IN-6"]);
    let first = store
        .inbox(&InboxQuery::open("executor", OFFICE, 1))
        .await
        .expect("first");
    assert_eq!(first.items[0].applicant.as_deref(), Some("Айгүл Серікова"));
    assert_eq!(first.items[0].regulation, "register-review-escalated");
    assert_eq!(first.items[0].due, Some(t0() + TimeDelta::minutes(15)));
    // Claimed by me.
    let mine = store
        .inbox(&InboxQuery {
            status: InboxStatus::ClaimedBy("clerk1".into()),
            ..InboxQuery::open("executor", OFFICE, 10)
        })
        .await
        .expect("mine");
    assert_eq!(
        mine.items
            .iter()
            .map(|i| i.case.as_str())
            .collect::<Vec<_>>(),
        ["IN-3"]
    );
    // Overdue at 10:17: due at 10:15 and 10:16.
    let late = store
        .inbox(&InboxQuery {
            overdue_at: Some(t0() + TimeDelta::minutes(17)),
            ..InboxQuery::open("executor", OFFICE, 10)
        })
        .await
        .expect("overdue");
    assert_eq!(
        late.items
            .iter()
            .map(|i| i.case.as_str())
            .collect::<Vec<_>>(),
        ["IN-0", "IN-1"]
    );
    // Several roles and offices in one inbox; other offices and roles stay out.
    let multi = store
        .inbox(&InboxQuery {
            roles: vec!["head".into(), "executor".into()],
            offices: vec!["atyrau-zhylyoi-ozsp".into(), OFFICE.into()],
            ..InboxQuery::open("executor", OFFICE, 3)
        })
        .await
        .expect("multi");
    assert_eq!(
        multi
            .items
            .iter()
            .map(|i| i.case.as_str())
            .collect::<Vec<_>>(),
        ["IN-0", "IN-1", "IN-2"]
    );
    assert!(
        store
            .inbox(&InboxQuery::open("head", OFFICE, 10))
            .await
            .expect("head")
            .items
            .is_empty()
    );
    let bad = InboxQuery {
        after: Some("garbage".into()),
        ..InboxQuery::open("executor", OFFICE, 10)
    };
    assert!(matches!(
        store.inbox(&bad).await,
        Err(StoreError::BadCursor(_))
    ));
    store.close().await;
}

fn breaches(events: &[reglament_store::StoredEvent]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e.event.kind, EventKind::DeadlineBreached { .. }))
        .count()
}

async fn deadlines_fire_once_and_move_the_wakeup(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    let id = CaseId::new("D-1");
    service
        .start(&process, new_case("D-1"), &clerk(), t0())
        .await
        .expect("starts");
    let p = store.projections().await.expect("p");
    assert_eq!(
        p.wakeups[0].wake_at,
        (t0() + TimeDelta::minutes(15)).timestamp_micros()
    );
    // Nothing is due before the registration task's 15 minutes.
    let r = service
        .tick(t0() + TimeDelta::minutes(10))
        .await
        .expect("tick");
    assert!(r.fired.is_empty() && r.failed.is_empty());
    let late = t0() + TimeDelta::minutes(20);
    let r = service.tick(late).await.expect("tick");
    assert_eq!(r.fired.len(), 1, "{:?}", r.failed);
    assert_eq!(breaches(&r.fired[0].1), 1);
    // Again at the same instant: nothing more.
    let r = service.tick(late).await.expect("tick");
    assert!(r.fired.is_empty(), "{:?}", r.fired);
    assert_eq!(breaches(&store.events(&id).await.expect("events")), 1);
    // The case's next wake-up is its statutory term now.
    let view = store.case(&id).await.expect("read").expect("case");
    let p = store.projections().await.expect("p");
    assert_eq!(
        Some(p.wakeups[0].wake_at),
        view.due.map(|d| d.timestamp_micros())
    );
    assert!(view.tasks[0].breached);
    store.close().await;
}

async fn a_dead_nodes_lease_runs_out(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    service
        .start(&process, new_case("L-1"), &clerk(), t0())
        .await
        .expect("starts");
    let late = t0() + TimeDelta::minutes(20);
    // Another node takes the wake-up and dies before doing anything.
    let taken = store
        .claim_due(late, 10, Duration::from_secs(30))
        .await
        .expect("claim");
    assert_eq!(taken.len(), 1);
    assert!(service.tick(late).await.expect("tick").fired.is_empty());
    // After the lease, this node takes it: late, but not lost.
    let r = service
        .tick(late + TimeDelta::seconds(31))
        .await
        .expect("tick");
    assert_eq!(r.fired.len(), 1);
    store.close().await;
}

/// A workload touching every kind of projection change, then `rebuild`.
async fn rebuilt_projections_equal_live_ones(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    for i in 0..12 {
        let id = CaseId::new(format!("R-{i:02}"));
        service
            .start(&process, new_case(id.as_str()), &clerk(), t0())
            .await
            .expect("starts");
        let now = t0() + TimeDelta::minutes(1);
        if i % 4 == 0 {
            continue;
        }
        service
            .execute(&id, &complete(1, None, json!({})), &clerk(), now)
            .await
            .expect("register");
        if i % 4 == 1 {
            service
                .execute(&id, &claim(2), &clerk(), now)
                .await
                .expect("claim");
            continue;
        }
        let outcome = if i % 4 == 2 { "again" } else { "grant" };
        service
            .execute(&id, &complete(2, Some(outcome), json!({})), &clerk(), now)
            .await
            .expect("review");
    }
    service.tick(t0() + TimeDelta::days(3)).await.expect("tick");
    let live = store.projections().await.expect("live");
    assert_eq!(live.cases.len(), 12);
    let report = store.rebuild().await.expect("rebuild");
    assert_eq!(report.cases, 12);
    let rebuilt = store.projections().await.expect("rebuilt");
    assert_eq!(live, rebuilt);
    store.close().await;
}

/// Turns the append-only triggers off, as someone with database access could.
async fn disable_guards(store: &Store) {
    let sql = match store.backend() {
        reglament_store::BackendKind::Sqlite => {
            "DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete;"
        }
        reglament_store::BackendKind::Postgres => "ALTER TABLE events DISABLE TRIGGER USER",
    };
    store.execute_raw(sql).await.expect("guards off");
}

/// A forged event at `seq` after `prev`, with a hash the forger computed correctly.
fn forge(case: &str, seq: u64, prev: &str, digest: &str, calver: &str) -> (String, String) {
    let body = canonical::canonical(&json!({
        "type": "task_released", "task": 1,
        "at": "2026-03-20T05:30:00Z", "actor": {"user": "mallory", "role": "executor"}
    }));
    let hash = canonical::event_hash(
        RecordHeader {
            case,
            seq,
            prev_hash: prev,
            digest,
            calendar_version: calver,
        },
        &body,
    );
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-20T05:30:00Z")
        .expect("at")
        .timestamp_micros();
    let sql = format!(
        "INSERT INTO events (case_id, seq, type, at, actor_user, actor_role, digest, calendar_version, body, prev_hash, hash) \
         VALUES ('{case}', {seq}, 'task_released', {at}, 'mallory', 'executor', '{digest}', '{calver}', '{body}', '{prev}', '{hash}')"
    );
    (sql, hash)
}

async fn tampering_is_reported_with_the_event(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    // Eight cases of eight events each: every tampering gets its own case.
    for i in 0..8 {
        let id = CaseId::new(format!("T-{i}"));
        service
            .start(&process, new_case(id.as_str()), &clerk(), t0())
            .await
            .expect("starts");
        service
            .execute(&id, &complete(1, None, json!({})), &clerk(), t0())
            .await
            .expect("register");
        service
            .execute(&id, &complete(2, Some("again"), json!({})), &clerk(), t0())
            .await
            .expect("again");
    }
    let events = store.events(&CaseId::new("T-0")).await.expect("events");
    assert_eq!(events.len(), 8);
    assert!(store.verify_all().await.expect("verify").is_ok());
    let before = store.projections().await.expect("projections");
    disable_guards(&store).await;
    let calver = service
        .case_state(&CaseId::new("T-0"))
        .await
        .expect("state")
        .calendar_version
        .to_string();
    let d = &process.digest;
    let h = |case: &str, seq: usize| {
        let case = case.to_string();
        let store = store.clone();
        async move {
            store.events(&CaseId::new(&case)).await.expect("events")[seq - 1]
                .hash
                .clone()
        }
    };
    // T-0: an event's content changed.
    store
        .execute_raw("UPDATE events SET body = replace(body, 'clerk1', 'clerk9') WHERE case_id = 'T-0' AND seq = 3")
        .await
        .expect("tamper");
    // T-1: a column changed that the body also says.
    store
        .execute_raw("UPDATE events SET actor_user = 'mallory' WHERE case_id = 'T-1' AND seq = 2")
        .await
        .expect("tamper");
    // T-2: an event deleted.
    store
        .execute_raw("DELETE FROM events WHERE case_id = 'T-2' AND seq = 4")
        .await
        .expect("tamper");
    // T-3: an event deleted and the later ones renumbered to hide the gap.
    store
        .execute_raw(
            "DELETE FROM events WHERE case_id = 'T-3' AND seq = 4; \
             UPDATE events SET seq = seq + 1000 WHERE case_id = 'T-3' AND seq > 4; \
             UPDATE events SET seq = seq - 1001 WHERE case_id = 'T-3' AND seq > 1000;",
        )
        .await
        .expect("tamper");
    // T-4: the last event deleted.
    store
        .execute_raw("DELETE FROM events WHERE case_id = 'T-4' AND seq = 8")
        .await
        .expect("tamper");
    // T-5: a forged event appended with a correct hash.
    let (sql, _) = forge("T-5", 9, &h("T-5", 8).await, d, &calver);
    store.execute_raw(&sql).await.expect("tamper");
    // T-6: a forged event put in at 3, the later ones moved up.
    store
        .execute_raw(
            "UPDATE events SET seq = seq + 1000 WHERE case_id = 'T-6' AND seq >= 3; \
             UPDATE events SET seq = seq - 999 WHERE case_id = 'T-6' AND seq > 1000;",
        )
        .await
        .expect("tamper");
    let (sql, _) = forge("T-6", 3, &h("T-6", 2).await, d, &calver);
    store.execute_raw(&sql).await.expect("tamper");
    // T-7: two events swapped.
    store
        .execute_raw(
            "UPDATE events SET seq = 1004 WHERE case_id = 'T-7' AND seq = 4; \
             UPDATE events SET seq = 4 WHERE case_id = 'T-7' AND seq = 5; \
             UPDATE events SET seq = 5 WHERE case_id = 'T-7' AND seq = 1004;",
        )
        .await
        .expect("tamper");

    let report = store.verify_all().await.expect("verify");
    let found: BTreeMap<String, (i64, TamperKind)> = report
        .problems
        .iter()
        .map(|p| (p.case.clone(), (p.seq, p.kind)))
        .collect();
    let want: BTreeMap<String, (i64, TamperKind)> = [
        ("T-0", (3, TamperKind::Changed)),
        ("T-1", (2, TamperKind::Changed)),
        ("T-2", (4, TamperKind::Deleted)),
        ("T-3", (4, TamperKind::Deleted)),
        ("T-4", (8, TamperKind::Deleted)),
        ("T-5", (9, TamperKind::Inserted)),
        ("T-6", (3, TamperKind::Inserted)),
        ("T-7", (4, TamperKind::Reordered)),
    ]
    .into_iter()
    .map(|(c, v)| (c.to_string(), v))
    .collect();
    assert_eq!(found, want, "{:#?}", report.problems);
    assert_eq!(report.cases, 8);
    for p in &report.problems {
        assert_eq!(
            store
                .verify_case(&CaseId::new(&p.case))
                .await
                .expect("verify one")
                .err()
                .as_ref(),
            Some(p),
        );
    }
    // Never repaired: rebuild refuses and leaves everything as it was.
    let err = store.rebuild().await.unwrap_err();
    assert!(
        matches!(err, StoreError::Tampered { problems: 8, .. }),
        "{err}"
    );
    assert_eq!(store.projections().await.expect("after"), before);
    store.close().await;
}

async fn the_store_reopens_with_everything(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    let id = CaseId::new("O-1");
    service
        .start(&process, new_case("O-1"), &clerk(), t0())
        .await
        .expect("starts");
    service
        .execute(&id, &claim(1), &clerk(), t0())
        .await
        .expect("claims");
    let before = store.projections().await.expect("p");
    let version = store.schema_version().await.expect("version");
    store.close().await;
    let store = Store::open(&db.url).await.expect("reopens");
    assert_eq!(store.schema_version().await.expect("version"), version);
    assert_eq!(store.migrate().await.expect("again"), version);
    assert_eq!(store.projections().await.expect("p"), before);
    let service = Service::new(store.clone(), calendars());
    let state = service.case_state(&id).await.expect("state");
    assert_eq!(
        state
            .task(reglament_runtime::TaskId(1))
            .and_then(|t| t.claimed_by.clone())
            .as_deref(),
        Some("clerk1")
    );
    let status = store.status().await.expect("status");
    assert_eq!((status.cases, status.events, status.regulations), (1, 3, 1));
    assert_eq!(status.calendar_versions, 1);
    store.close().await;
}

async fn a_pinned_calendar_comes_back_from_the_store(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    let id = CaseId::new("P-1");
    service
        .start(&process, new_case("P-1"), &clerk(), t0())
        .await
        .expect("starts");
    let version = service
        .case_state(&id)
        .await
        .expect("state")
        .calendar_version
        .to_string();
    let data = store
        .calendar_data(&version)
        .await
        .expect("read")
        .expect("recorded when the case started");
    let clock = reglament_store::clocks::clock_from_data(&version, &data).expect("clock");
    assert_eq!(clock.version(), version);
    // The loaded calendars change (here: a single clock of another version); the case still
    // runs on the version it is pinned to, rebuilt from the store.
    struct Other(reglament_calendar::OfficeClock);
    impl reglament_runtime::Clocks for Other {
        fn clock(
            &self,
            office: &str,
            version: Option<&str>,
        ) -> Result<reglament_calendar::OfficeClock, reglament_runtime::EngineError> {
            match version {
                Some(v) if v != self.0.version() => {
                    Err(reglament_runtime::EngineError::CalendarVersion {
                        office: office.into(),
                        wanted: v.into(),
                        loaded: self.0.version().into(),
                    })
                }
                _ => Ok(self.0.clone()),
            }
        }
    }
    let standard = calendars().standard_clock().expect("standard");
    assert_ne!(standard.version(), version);
    let other = Service::new(store.clone(), Arc::new(Other(standard)));
    other
        .execute(&id, &complete(1, None, json!({})), &clerk(), t0())
        .await
        .expect("runs on the pinned calendar");
    store.close().await;
}

/// Two nodes (two stores with their own connections, two services with their own caches)
/// race for the same claims and the same deadlines.
async fn two_nodes_race_for_claims_and_deadlines(db: &TestDb) {
    let (store_a, node_a, process) = setup(db).await;
    let store_b = if store_a.backend() == reglament_store::BackendKind::Postgres {
        Store::open(&db.url).await.expect("second node")
    } else {
        // One process owns a SQLite file: the second node shares its store.
        store_a.clone()
    };
    let node_b = Arc::new(Service::new(store_b.clone(), calendars()).with_tick_batch(7));
    let node_a = Arc::new(node_a.with_tick_batch(5));
    const N: usize = 40;
    for i in 0..N {
        node_a
            .start(&process, new_case(&format!("X-{i:02}")), &clerk(), t0())
            .await
            .expect("starts");
    }
    // Warm both caches, so that each node decides on what it believes.
    for i in 0..N {
        node_b
            .case_state(&CaseId::new(format!("X-{i:02}")))
            .await
            .expect("b loads");
    }
    // Claims: every task claimed by both nodes at once.
    let mut handles = Vec::new();
    for i in 0..N {
        for (node, user) in [(node_a.clone(), "alice"), (node_b.clone(), "bob")] {
            let id = CaseId::new(format!("X-{i:02}"));
            handles.push(tokio::spawn(async move {
                node.execute(&id, &claim(1), &Actor::new(user, "executor"), t0())
                    .await
            }));
        }
    }
    let mut wins = 0;
    for h in handles {
        match h.await.expect("joins") {
            Ok(_) => wins += 1,
            Err(ServiceError::Command(CommandError::ClaimedByOther { .. })) => {}
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!(wins, N, "each claim has exactly one winner");
    // Deadlines: both nodes tick at once, several times.
    let late = t0() + TimeDelta::minutes(20);
    let mut ticks = Vec::new();
    for _ in 0..3 {
        for node in [node_a.clone(), node_b.clone()] {
            ticks.push(tokio::spawn(async move { node.tick(late).await }));
        }
    }
    let mut fired = 0;
    for t in ticks {
        let r = t.await.expect("joins").expect("tick");
        assert!(r.failed.is_empty(), "{:?}", r.failed);
        fired += r.fired.len();
    }
    assert_eq!(fired, N, "each deadline fires once");
    for i in 0..N {
        let events = store_a
            .events(&CaseId::new(format!("X-{i:02}")))
            .await
            .expect("events");
        assert_eq!(breaches(&events), 1, "X-{i:02}");
        let claims = events
            .iter()
            .filter(|e| matches!(e.event.kind, EventKind::TaskClaimed { .. }))
            .count();
        assert_eq!(claims, 1, "X-{i:02}");
    }
    assert!(store_a.verify_all().await.expect("verify").is_ok());
    let live = store_a.projections().await.expect("live");
    store_a.rebuild().await.expect("rebuild");
    assert_eq!(store_a.projections().await.expect("rebuilt"), live);
    store_b.close().await;
    store_a.close().await;
}

async fn checkpoints_are_stored_once_per_number_and_never_changed(db: &TestDb) {
    let (store, service, process) = setup(db).await;
    for id in ["K-2", "K-1"] {
        service
            .start(&process, new_case(id), &clerk(), t0())
            .await
            .expect("starts");
    }
    service
        .execute(&CaseId::new("K-1"), &claim(1), &clerk(), t0())
        .await
        .expect("claims");
    let heads = store.heads().await.expect("heads");
    assert_eq!(
        heads
            .iter()
            .map(|h| (h.case.as_str(), h.seq))
            .collect::<Vec<_>>(),
        [("K-1", 3), ("K-2", 2)]
    );
    let events = store.events(&CaseId::new("K-1")).await.expect("events");
    assert_eq!(heads[0].hash, events[2].hash);
    let mut found = store
        .event_hashes(&[
            ("K-1".into(), 3),
            ("K-1".into(), 4),
            ("K-2".into(), 2),
            ("K-9".into(), 1),
        ])
        .await
        .expect("hashes");
    found.sort();
    assert_eq!(
        found,
        [
            ("K-1".to_string(), 3, events[2].hash.clone()),
            ("K-2".to_string(), 2, heads[1].hash.clone())
        ]
    );

    store
        .append_checkpoint(1, t0(), "{\"n\":1}")
        .await
        .expect("first");
    let err = store
        .append_checkpoint(1, t0(), "{\"n\":\"again\"}")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::CheckpointTaken(1)), "{err}");
    store
        .append_checkpoint(2, t0(), "{\"n\":2}")
        .await
        .expect("second");
    let stored = store.checkpoints().await.expect("read");
    assert_eq!(
        stored
            .iter()
            .map(|c| (c.number, c.body.as_str()))
            .collect::<Vec<_>>(),
        [(1, "{\"n\":1}"), (2, "{\"n\":2}")]
    );
    // Append-only, as the events are.
    assert!(
        store
            .execute_raw("UPDATE checkpoints SET body = 'x'")
            .await
            .is_err()
    );
    assert!(store.execute_raw("DELETE FROM checkpoints").await.is_err());
    assert_eq!(store.checkpoints().await.expect("read").len(), 2);
    store.close().await;
}

/// Calendars as a server loads them: one version; an older one is not theirs to give.
struct Loaded(reglament_calendar::OfficeClock);

impl reglament_runtime::Clocks for Loaded {
    fn clock(
        &self,
        office: &str,
        version: Option<&str>,
    ) -> Result<reglament_calendar::OfficeClock, reglament_runtime::EngineError> {
        match version {
            Some(v) if v != self.0.version() => {
                Err(reglament_runtime::EngineError::CalendarVersion {
                    office: office.into(),
                    wanted: v.into(),
                    loaded: self.0.version().into(),
                })
            }
            _ => Ok(self.0.clone()),
        }
    }
}

/// The office's clock with Wednesday 1 April 2026 declared a day off.
fn decreed_clock() -> reglament_calendar::OfficeClock {
    let root = reglament_testkit::regulations_dir();
    let text = std::fs::read_to_string(root.join("calendars/kz.yaml")).expect("kz.yaml");
    let text = text.replacen(
        "\ntransfers:\n",
        "\ntransfers:\n  - day_off: 2026-04-01\n    source: {act: Постановление (тест)}\n",
        1,
    );
    let national = reglament_calendar::national_from_str(&text, "kz.yaml").expect("decree");
    let old = calendars().clock(Some(OFFICE)).expect("clock");
    reglament_calendar::OfficeClock::new(&national, old.schedule().clone(), old.zone())
        .expect("clock")
}

async fn a_calendar_decree_reaches_running_cases_once(db: &TestDb) {
    let (store, old, process) = setup(db).await;
    // A: 20 March, due 8 April 18:00 (10 working days after Nauryz), crosses 1 April.
    // B: 1 June, due 15 June: the decree does not touch it. C: 20 March too, first touched by
    // a command.
    for (id, at) in [
        ("A", t0()),
        ("B", t("2026-06-01T10:00:00+05:00")),
        ("C", t0()),
    ] {
        old.start(&process, new_case(id), &clerk(), at)
            .await
            .expect("starts");
    }
    let due = |id: &'static str| {
        let store = store.clone();
        async move {
            store
                .case(&CaseId::new(id))
                .await
                .expect("read")
                .expect("case")
                .due
        }
    };
    assert_eq!(due("A").await, Some(t("2026-04-08T18:00:00+05:00")));
    let new_clock = decreed_clock();
    let new = Service::new(store.clone(), Arc::new(Loaded(new_clock.clone())));
    let now = t("2026-03-25T12:00:00+05:00");

    // A command on C moves it first, in the same append.
    let events = new
        .execute(&CaseId::new("C"), &claim(1), &clerk(), now)
        .await
        .expect("claims");
    let kinds: Vec<&str> = events.iter().map(|e| e.event.kind.name()).collect();
    assert_eq!(kinds, ["deadlines_rescheduled", "task_claimed"]);
    assert_eq!(due("C").await, Some(t("2026-04-09T18:00:00+05:00")));

    // The dry run says what moves and writes nothing.
    let before = store.events(&CaseId::new("A")).await.expect("log").len();
    let dry = new
        .follow_calendars(now, true, true)
        .await
        .expect("dry run");
    assert_eq!((dry.cases, dry.rescheduled, dry.deadlines), (2, 1, 1));
    assert_eq!(dry.moves.len(), 1);
    assert_eq!(dry.moves[0].case, "A");
    assert_eq!(
        dry.moves[0].days,
        [chrono::NaiveDate::from_ymd_opt(2026, 4, 1).expect("date")]
    );
    assert_eq!(
        store.events(&CaseId::new("A")).await.expect("log").len(),
        before
    );
    assert!(store.adoptions().await.expect("adoptions").is_empty());

    // The deployment: A gets the event, B nothing, and the office's old version is done.
    let done = new
        .follow_calendars(now, false, false)
        .await
        .expect("deploys");
    assert_eq!((done.cases, done.rescheduled), (2, 1));
    let a = store.events(&CaseId::new("A")).await.expect("log");
    assert_eq!(a.len(), before + 1);
    assert_eq!(
        a.last().map(|e| e.event.kind.name()),
        Some("deadlines_rescheduled")
    );
    assert_eq!(due("A").await, Some(t("2026-04-09T18:00:00+05:00")));
    assert_eq!(
        store.events(&CaseId::new("B")).await.expect("log").len(),
        2,
        "case_started and task_opened only"
    );
    assert!(
        store
            .calendar_data(new_clock.version())
            .await
            .expect("read")
            .is_some(),
        "the new version is kept for audits"
    );
    let adoptions = store.adoptions().await.expect("adoptions");
    assert_eq!(adoptions.len(), 1);
    assert_eq!(
        (
            adoptions[0].to_version.as_str(),
            adoptions[0].cases,
            adoptions[0].rescheduled
        ),
        (new_clock.version(), 2, 1)
    );
    // Once is enough: a restart looks at nothing again.
    let again = new
        .follow_calendars(now, false, false)
        .await
        .expect("again");
    assert!(again.adoptions.is_empty(), "{again:?}");
    // B's next task counts on the new calendar, with no rescheduling event.
    let events = new
        .execute(
            &CaseId::new("B"),
            &complete(1, None, json!({})),
            &clerk(),
            t("2026-06-01T10:05:00+05:00"),
        )
        .await
        .expect("completes");
    assert!(
        events
            .iter()
            .all(|e| e.event.kind.name() != "deadlines_rescheduled")
    );
    let opened = events.iter().find_map(|e| match &e.event.kind {
        EventKind::TaskOpened { deadline, .. } => deadline.clone(),
        _ => None,
    });
    assert_eq!(
        opened.map(|d| d.calendar_version.to_string()).as_deref(),
        Some(new_clock.version())
    );
    store.close().await;
}
