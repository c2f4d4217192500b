//! Deploying a calendar decree to many open deadlines on SQLite: the dry run and the
//! recomputation (`Service::follow_calendars`), with the inbox read all along.
//!
//! `cargo run --release -p reglament-store --example calendar_deploy -- [CASES]`
//!
//! CASES open cases (default 100,000) of `register-review` are started on Friday 20 March
//! 2026 in Atyrau, each with two running deadlines (the case's 10 working days, due 8 April,
//! and its registration task). A decree then declares Wednesday 1 April a day off, which moves
//! every case's term. Printed: the time to start the cases, the dry run's and the
//! deployment's wall time, and the inbox's latency (median, p99, max) measured by a reader
//! that pages an office's inbox without pause while the deployment runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use reglament_calendar::{Calendars, OfficeClock};
use reglament_runtime::{Actor, CaseId, Clocks, EngineError, NewCase};
use reglament_store::{InboxQuery, Service, Store, StoreOptions};
use serde_json::json;

const OFFICE: &str = reglament_testkit::fixtures::OFFICE;

// As in the `reglament` binary, which runs the deployment.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The loaded calendars of a server: one version per office.
struct Loaded(OfficeClock);

impl Clocks for Loaded {
    fn clock(&self, office: &str, version: Option<&str>) -> Result<OfficeClock, EngineError> {
        match version {
            Some(v) if v != self.0.version() => Err(EngineError::CalendarVersion {
                office: office.into(),
                wanted: v.into(),
                loaded: self.0.version().into(),
            }),
            _ => Ok(self.0.clone()),
        }
    }
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let cases: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.replace('_', "").parse().ok())
        .unwrap_or(100_000);
    let dir =
        std::env::temp_dir().join(format!("reglament-calendar-deploy-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let url = format!("sqlite:{}", dir.join("r.db").display());
    let store = Store::open_with(&url, StoreOptions::default())
        .await
        .expect("store");
    let root = reglament_testkit::regulations_dir();
    let calendars = Calendars::load(&root).expect("calendars");
    let old = calendars.clock(Some(OFFICE)).expect("clock");
    let t0 = t("2026-03-20T10:00:00+05:00");
    let (_, process) = store
        .deploy(reglament_testkit::fixtures::REGISTER_REVIEW, "bench", t0)
        .await
        .expect("deploy");
    let before = Service::new(store.clone(), Arc::new(Loaded(old.clone())));
    let started = Instant::now();
    let clerk = Actor::new("clerk1", "executor");
    let mut starts = futures_util::stream::iter(0..cases)
        .map(|i| {
            let (before, process, clerk) = (&before, &process, &clerk);
            async move {
                let new = NewCase {
                    case: CaseId::new(format!("C-{i:08}")),
                    channel: "provider".into(),
                    office: OFFICE.into(),
                    data: json!({"full_name": "Айгүл Серікова"}),
                };
                before.start(process, new, clerk, t0).await.expect("start")
            }
        })
        .buffer_unordered(128);
    while starts.next().await.is_some() {}
    println!(
        "started {cases} cases ({} deadlines) in {:.1} s",
        cases * 2,
        started.elapsed().as_secs_f64()
    );

    let text = std::fs::read_to_string(root.join("calendars/kz.yaml")).expect("kz.yaml");
    let text = text.replacen(
        "\ntransfers:\n",
        "\ntransfers:\n  - day_off: 2026-04-01\n    source: {act: decree (benchmark)}\n",
        1,
    );
    let national = reglament_calendar::national_from_str(&text, "kz.yaml").expect("decree");
    let new = OfficeClock::new(&national, old.schedule().clone(), old.zone()).expect("clock");
    let after = Service::new(store.clone(), Arc::new(Loaded(new)));
    let now = t("2026-03-25T12:00:00+05:00");

    let t_dry = Instant::now();
    let dry = after
        .follow_calendars(now, true, false)
        .await
        .expect("dry run");
    println!(
        "dry run: {} cases looked at, {} move ({} due instants) in {:.1} s",
        dry.cases,
        dry.rescheduled,
        dry.deadlines,
        t_dry.elapsed().as_secs_f64()
    );

    let running = Arc::new(AtomicBool::new(true));
    let reader = {
        let (store, running) = (store.clone(), running.clone());
        tokio::spawn(async move {
            let mut lat = Vec::new();
            while running.load(Ordering::Relaxed) {
                let q = InboxQuery::open("executor", OFFICE, 50);
                let t = Instant::now();
                store.inbox(&q).await.expect("inbox");
                lat.push(t.elapsed());
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            lat
        })
    };
    let t_run = Instant::now();
    let done = after
        .follow_calendars(now, false, false)
        .await
        .expect("deploy");
    let wall = t_run.elapsed();
    running.store(false, Ordering::Relaxed);
    let mut lat = reader.await.expect("reader");
    lat.sort();
    println!(
        "deployment: {} cases looked at, {} rescheduled, {} failed in {:.1} s ({:.0} cases/s)",
        done.cases,
        done.rescheduled,
        done.failed.len(),
        wall.as_secs_f64(),
        done.rescheduled as f64 / wall.as_secs_f64()
    );
    println!(
        "inbox during the deployment: {} reads, median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        lat.len(),
        percentile(&lat, 0.5).as_secs_f64() * 1e3,
        percentile(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
