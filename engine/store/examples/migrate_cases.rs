//! Moving many running cases onto a new regulation version on SQLite: the dry run and the
//! migration (`Service::migrate_cases`, what `reglament migrate` runs).
//!
//! `cargo run --release -p reglament-store --example migrate_cases -- [CASES]`
//!
//! CASES open cases (default 100,000) of `register-review` version 1 are started on Monday 2
//! March 2026 in Atyrau, each with two running deadlines (the case's 10 working days and its
//! registration task's 15 minutes). Version 2 renames the review, gives registration 10
//! minutes and the channel 8 working days; the plan maps the review and recomputes every due
//! instant (the task's and the case's). Printed: the time to start the cases, the dry run's
//! and the migration's wall time, and a second run's (nothing left to move).

use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use reglament_calendar::Calendars;
use reglament_model::migration_plan::load_plan_str;
use reglament_runtime::{Actor, CaseId, NewCase};
use reglament_store::{Service, Store, StoreOptions};
use serde_json::json;

const OFFICE: &str = reglament_testkit::fixtures::OFFICE;

// As in the `reglament` binary, which runs the migration.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

const PLAN: &str = "regulation: register-review
from_version: 1
to_version: 2
legal_basis: {act: Decree No. 45 (benchmark), paragraph: p. 3}
reason: shorter registration and statutory term
mapping: {review: examine}
deadlines: {default: recompute, case: recompute}
";

#[tokio::main]
async fn main() {
    let cases: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.replace('_', "").parse().ok())
        .unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("reglament-migrate-cases-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite:{}", dir.join("r.db").display());
    let store = Store::open_with(&url, StoreOptions::default())
        .await
        .expect("store");
    let root = reglament_testkit::regulations_dir();
    let calendars = Arc::new(Calendars::load(&root).expect("calendars"));
    let t0 = t("2026-03-02T10:00:00+05:00");
    let v1 = reglament_testkit::fixtures::REGISTER_REVIEW;
    let (_, process) = store.deploy(v1, "bench", t0).await.expect("deploy v1");
    let v2 = v1
        .replacen("version: 1", "version: 2", 1)
        .replace("  - id: review\n", "  - id: examine\n")
        .replace("next: review", "next: examine")
        .replace("duration: 15 minutes", "duration: 10 minutes")
        .replace("duration: 10 working days}", "duration: 8 working days}");
    store.deploy(&v2, "bench", t0).await.expect("deploy v2");
    let service = Service::new(store.clone(), calendars);
    let started = Instant::now();
    let clerk = Actor::new("clerk1", "executor");
    let mut starts = futures_util::stream::iter(0..cases)
        .map(|i| {
            let (service, process, clerk) = (&service, &process, &clerk);
            async move {
                let new = NewCase {
                    case: CaseId::new(format!("C-{i:08}")),
                    channel: "provider".into(),
                    office: OFFICE.into(),
                    data: json!({"full_name": "Айгүл Серікова"}),
                };
                service.start(process, new, clerk, t0).await.expect("start")
            }
        })
        .buffer_unordered(128);
    while starts.next().await.is_some() {}
    drop(starts);
    println!(
        "started {cases} cases ({} deadlines) in {:.1} s",
        cases * 2,
        started.elapsed().as_secs_f64()
    );

    let plan = load_plan_str(PLAN, "plan.yaml").expect("plan");
    let now = t("2026-03-02T12:00:00+05:00");
    let t_dry = Instant::now();
    let dry = service
        .migrate_cases(&plan, now, true, false)
        .await
        .expect("dry run");
    println!(
        "dry run: {} cases selected, {} would move, {} not in {:.1} s ({:.0} cases/s)",
        dry.selected,
        dry.migrated,
        dry.refused.len(),
        t_dry.elapsed().as_secs_f64(),
        dry.selected as f64 / t_dry.elapsed().as_secs_f64()
    );
    let t_run = Instant::now();
    let done = service
        .migrate_cases(&plan, now, false, false)
        .await
        .expect("migration");
    let wall = t_run.elapsed();
    println!(
        "migration: {} cases selected, {} moved, {} not in {:.1} s ({:.0} cases/s)",
        done.selected,
        done.migrated,
        done.refused.len(),
        wall.as_secs_f64(),
        done.migrated as f64 / wall.as_secs_f64()
    );
    let t_again = Instant::now();
    let again = service
        .migrate_cases(&plan, now, false, false)
        .await
        .expect("again");
    println!(
        "again: {} selected, {} moved in {:.2} s",
        again.selected,
        again.migrated,
        t_again.elapsed().as_secs_f64()
    );
    assert_eq!(done.migrated as usize, cases);
    assert_eq!(again.migrated, 0);
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
