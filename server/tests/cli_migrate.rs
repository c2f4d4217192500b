//! `reglament migrate PLAN`: the dry run an analyst reads before moving running cases onto a
//! new regulation version, the move itself (replayed and verified by the audit afterwards),
//! a plan that leaves a waiting step unmapped, and a migration of 10,000 cases killed with
//! SIGKILL half-way and run again.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use reglament_audit::replay::{ReplayOptions, replay};
use reglament_calendar::Calendars;
use reglament_runtime::{Actor, CaseId, Command as Cmd, NewCase, TaskId};
use reglament_server::accounts::{Accounts, GrantRecord, NewUser};
use reglament_store::{Service, Store, StoreOptions};
use serde_json::{Value, json};

use reglament_testkit::fixtures::{OFFICE, REGISTER_REVIEW as REGULATION};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

fn reglament(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reglament"))
        .args(args)
        .env(
            "REGLAMENT_REGULATIONS",
            reglament_testkit::regulations_dir(),
        )
        .output()
        .expect("runs")
}

fn version2() -> String {
    reglament_testkit::fixtures::register_review_v2()
}

const PLAN: &str = reglament_testkit::fixtures::REGISTER_REVIEW_PLAN;

const REGISTERED: &str = "2026-03-02T10:00:00+05:00";
const NOW: &str = "2026-03-03T12:00:00+05:00";

/// A SQLite database with both versions deployed, `cases` open cases of version 1 waiting at
/// registration (`M-00000`, …), and clerk1 (executor at the office).
async fn database(dir: &Path, cases: usize) -> (String, Service) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("dir");
    let url = format!("sqlite:{}", dir.join("r.db").display());
    let store = reglament_server::accounts::open_store(&url, StoreOptions::default())
        .await
        .expect("store");
    let (_, process) = store
        .deploy(REGULATION, "analyst", t("2026-03-01T09:00:00+05:00"))
        .await
        .expect("v1");
    store
        .deploy(&version2(), "analyst", t("2026-03-01T09:00:00+05:00"))
        .await
        .expect("v2");
    Accounts::new(store.clone())
        .create_user(
            &NewUser {
                login: "clerk1".into(),
                display_name: "Clerk".into(),
                password_hash: None,
                must_change_password: false,
                grants: vec![GrantRecord {
                    role: "executor".into(),
                    office: OFFICE.into(),
                }],
                created_by: "test".into(),
            },
            t(REGISTERED),
        )
        .await
        .expect("clerk1");
    let root = reglament_testkit::regulations_dir();
    let service = Service::new(
        store.clone(),
        Arc::new(Calendars::load(&root).expect("load")),
    );
    let clerk = Actor::new("clerk1", "executor");
    let mut starts = futures_util::stream::iter(0..cases)
        .map(|i| {
            let (service, process, clerk) = (&service, &process, &clerk);
            async move {
                let new = NewCase {
                    case: CaseId::new(format!("M-{i:05}")),
                    channel: "provider".into(),
                    office: OFFICE.into(),
                    data: json!({"full_name": "Айгүл Серікова"}),
                };
                service
                    .start(process, new, clerk, t(REGISTERED))
                    .await
                    .expect("starts")
            }
        })
        .buffer_unordered(64);
    while starts.next().await.is_some() {}
    drop(starts);
    (url, service)
}

async fn migrated_per_case(store: &Store) -> Vec<(String, i64)> {
    store
        .read_side::<(String, i64)>(
            "SELECT case_id, COUNT(*) FROM events WHERE type = 'case_migrated' GROUP BY case_id ORDER BY case_id",
            Vec::new(),
        )
        .await
        .expect("counts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dry_run_shows_each_move_and_the_migration_replays_and_verifies() {
    let dir = std::env::temp_dir().join(format!("reglament-migrate-{}", std::process::id()));
    let (url, service) = database(&dir, 3).await;
    // M-00001 at the review, claimed by clerk1; M-00002 at the review, unclaimed.
    let clerk = Actor::new("clerk1", "executor");
    let at = t("2026-03-02T11:00:00+05:00");
    for id in ["M-00001", "M-00002"] {
        let id = CaseId::new(id);
        let done = Cmd::Complete {
            task: TaskId(1),
            outcome: None,
            data: json!({}),
            reason: None,
        };
        service
            .execute(&id, &done, &clerk, at)
            .await
            .expect("register");
    }
    let claim = Cmd::Claim { task: TaskId(2) };
    service
        .execute(&CaseId::new("M-00001"), &claim, &clerk, at)
        .await
        .expect("claim");
    service.store().close().await;
    let plan = dir.join("plan.yaml");
    std::fs::write(&plan, PLAN).expect("plan");
    let plan_arg = plan.to_str().expect("path");
    let db = ["--db", url.as_str(), "--now", NOW];

    let dry = reglament(&[&["migrate", plan_arg, "--dry-run"][..], &db].concat());
    let text = String::from_utf8_lossy(&dry.stdout);
    assert!(
        dry.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    // Where the review is and goes, with its due instants in office time: it opened Monday
    // 11:00; 1 working day (counted from the next day) → Tuesday 18:00; recomputed on 3 →
    // Thursday 18:00.
    assert!(
        text.contains("task 2   review → examine  [head]  due 2026-03-03 18:00 +05:00 → 2026-03-05 18:00 +05:00  (recompute)"),
        "{text}"
    );
    assert!(
        text.contains("claimed by clerk1, who does not hold role `head`"),
        "{text}"
    );
    assert!(
        text.contains("3 open case(s) selected, 3 would move"),
        "{text}"
    );
    let json_out = reglament(
        &[
            &["migrate", plan_arg, "--dry-run", "--format", "json"][..],
            &db,
        ]
        .concat(),
    );
    let v: Value = serde_json::from_slice(&json_out.stdout).expect("json");
    assert_eq!(v["report"]["migrated"], 3);
    assert_eq!(v["warnings"].as_array().map(Vec::len), Some(1), "{v:#}");
    let html = reglament(
        &[
            &["migrate", plan_arg, "--dry-run", "--format", "html"][..],
            &db,
        ]
        .concat(),
    );
    assert!(String::from_utf8_lossy(&html.stdout).contains("<td>review → examine</td>"));

    let store = reglament_server::accounts::open_store(&url, StoreOptions::default())
        .await
        .expect("store");
    assert!(
        migrated_per_case(&store).await.is_empty(),
        "a dry run writes nothing"
    );

    // A plan that leaves the review unmapped: one line with its place, a non-zero exit.
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, PLAN.replace("mapping:\n  review: examine\n", "")).expect("bad");
    let out = reglament(&[&["migrate", bad.to_str().expect("path")][..], &db].concat());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.lines().any(|l| l.starts_with("error: ")
            && l.contains("bad.yaml:4:13: error[E022]: step `review` of version 1 is not in version 2 and is not mapped")),
        "{err}"
    );

    let run = reglament(&[&["migrate", plan_arg][..], &db].concat());
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "{text}");
    assert!(
        text.contains("3 open case(s) selected, 3 moved, 0 not moved"),
        "{text}"
    );
    assert_eq!(
        migrated_per_case(&store).await,
        vec![
            ("M-00000".into(), 1),
            ("M-00001".into(), 1),
            ("M-00002".into(), 1)
        ]
    );
    // Each moved case replays clean across both versions: chain, projections, and every
    // due instant (the migration's own recomputed against the new version's 3 days).
    for id in ["M-00000", "M-00001", "M-00002"] {
        let opts = ReplayOptions {
            at: None,
            now: t(NOW),
            clocks: None,
        };
        let r = replay(&store, &CaseId::new(id), &opts)
            .await
            .expect("replay");
        assert!(
            r.is_clean(),
            "{id}: {:#?}",
            (r.fold_error, r.deadlines, r.projections)
        );
        assert!(r.deadlines.checked > 0);
    }
    assert!(store.verify_all().await.expect("verify").is_ok());
    // Again: nothing left to move.
    let again = reglament(&[&["migrate", plan_arg][..], &db].concat());
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(text.contains("0 open case(s) selected, 0 moved"), "{text}");
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_migration_killed_half_way_finishes_on_the_next_run_each_case_once() {
    const CASES: usize = 10_000;
    let dir = std::env::temp_dir().join(format!("reglament-migrate-kill-{}", std::process::id()));
    let started = Instant::now();
    let (url, service) = database(&dir, CASES).await;
    service.store().close().await;
    eprintln!(
        "{CASES} cases started in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let plan = dir.join("plan.yaml");
    std::fs::write(&plan, PLAN).expect("plan");
    let store = Store::open_with(
        &url,
        StoreOptions {
            migrate: false,
            ..Default::default()
        },
    )
    .await
    .expect("store");
    let mut child = Command::new(env!("CARGO_BIN_EXE_reglament"))
        .args([
            "migrate",
            plan.to_str().expect("path"),
            "--db",
            &url,
            "--now",
            NOW,
        ])
        .env(
            "REGLAMENT_REGULATIONS",
            reglament_testkit::regulations_dir(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawns");
    // SIGKILL once some cases have moved and others not.
    let mut moved_at_kill = 0;
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        let n: i64 = migrated_per_case(&store).await.len() as i64;
        if n >= 200 {
            child.kill().expect("SIGKILL");
            moved_at_kill = n;
            break;
        }
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = child.wait();
    let after_kill = migrated_per_case(&store).await;
    assert!(
        moved_at_kill > 0 && (after_kill.len() as i64) < CASES as i64,
        "killed with {moved_at_kill} moved, {} after: the run was not caught half-way",
        after_kill.len()
    );
    assert!(after_kill.iter().all(|(_, n)| *n == 1));
    // Each case moved or not: the log and the projections agree on every one of them.
    assert!(store.verify_all().await.expect("verify").is_ok());
    // Again: the rest moves, and no case moves twice.
    let again = reglament(&[
        "migrate",
        plan.to_str().expect("path"),
        "--db",
        &url,
        "--now",
        NOW,
    ]);
    let text = String::from_utf8_lossy(&again.stdout);
    assert!(
        again.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let counts = migrated_per_case(&store).await;
    assert_eq!(counts.len(), CASES, "{text}");
    assert!(counts.iter().all(|(_, n)| *n == 1));
    let report = store.verify_all().await.expect("verify");
    assert!(report.is_ok());
    let open_v1: Vec<(i64,)> = store
        .read_side(
            "SELECT COUNT(*) FROM cases WHERE regulation_version = 1",
            Vec::new(),
        )
        .await
        .expect("count");
    assert_eq!(open_v1[0].0, 0);
    // The projections are what the log says.
    let live = store.projections().await.expect("live");
    store.rebuild().await.expect("rebuild");
    assert_eq!(store.projections().await.expect("rebuilt"), live);
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
