//! Audit benchmarks (issue 8): chain verification and case replay, in events per second
//! (target: at least 1,000,000 events/s for verification).
//!
//! The input is real histories: every bundled regulation simulated over its channels' paths
//! (`runtime::simulate`), each history given new case ids and hashed into a chain exactly as
//! the store writes it (canonical JSON, `canonical::event_hash`), with its projection rows
//! from its fold — the same rows `Store::case_log_rows` and `Store::case_projection` give the
//! audit. No database: the figures are the audit's own work, not SQLite's (for that, see
//! `reglament audit verify` over the ten-million-event database in BENCHMARKS.md).
//!
//! Run: `cargo bench -p reglament-engine --bench audit`.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use divan::Bencher;
use divan::counter::ItemsCount;
use reglament_engine::audit::replay::{ReplayOptions, replay_rows};
use reglament_engine::audit::verify::verify_case_rows;
use reglament_engine::calendar::{Calendars, OfficeClock, OfficeKind};
use reglament_engine::compile::Process;
use reglament_engine::paths::{self, DEFAULT_DAY_MINUTES};
use reglament_engine::runtime::simulate::{self, Pace, Scenario};
use reglament_engine::runtime::{CaseId, CaseState, EventKind};
use reglament_engine::store::canonical::{self, GENESIS, RecordHeader};
use reglament_engine::store::rows::{self, EventRow, micros};
use reglament_engine::store::scan::CaseProjection;
use reglament_engine::validate;

/// Cases in the input (about twenty events each).
const CASES: usize = 5_000;

/// One case as the audit reads it from the store.
struct Case {
    id: String,
    rows: Vec<EventRow>,
    projection: CaseProjection,
    process: Arc<Process>,
    clock: Arc<OfficeClock>,
}

fn regulations_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../regulations")
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-06-01T12:00:00+05:00")
        .expect("instant")
        .with_timezone(&Utc)
}

/// Histories of every bundled regulation's paths, a few start days each.
fn histories() -> Vec<(
    Arc<Process>,
    Arc<OfficeClock>,
    Vec<reglament_engine::runtime::Event>,
)> {
    let root = regulations_dir();
    let calendars = Calendars::load(&root).expect("calendars");
    let files = validate::regulation_files(std::slice::from_ref(&root)).expect("files");
    let first = DateTime::parse_from_rfc3339("2025-01-06T09:15:00+05:00")
        .expect("instant")
        .with_timezone(&Utc);
    let mut out = Vec::new();
    for f in &files {
        let source = std::fs::read_to_string(f).expect("read");
        let report = validate::check_str(&source, &f.display().to_string(), None);
        let p = Arc::new(report.process.expect("the bundled regulations compile"));
        let office = calendars
            .offices()
            .find(|o| o.region == p.regulation.region && o.data.kind == OfficeKind::ProviderOffice)
            .map(|o| o.data.id.clone())
            .expect("a provider office");
        let clock = Arc::new(calendars.clock(Some(&office)).expect("clock"));
        for channel in &p.regulation.channels {
            let (list, _) = paths::channel_paths(&p, &channel.id, DEFAULT_DAY_MINUTES, 100);
            for (k, path) in list.iter().enumerate() {
                let decisions = path
                    .steps
                    .iter()
                    .zip(&path.outcomes)
                    .filter_map(|(&s, o)| Some((p.step(s).id().to_string(), o.clone()?)))
                    .collect();
                for day in [0i64, 37, 101] {
                    let scenario = Scenario {
                        channel: channel.id.clone(),
                        office: office.clone(),
                        start: first + Duration::days(day + k as i64),
                        decisions: std::collections::BTreeMap::clone(&decisions),
                        data: None,
                        documents_missing: channel.extended_term.is_some() && day == 37,
                        pace: if day == 101 { Pace::Instant } else { Pace::Due },
                    };
                    if let Ok(sim) = simulate::run(&p, &clock, &scenario) {
                        out.push((p.clone(), clock.clone(), sim.events));
                    }
                }
            }
        }
    }
    assert!(!out.is_empty(), "no history simulated");
    out
}

/// `CASES` cases cycling through the histories, each under its own id, as stored rows.
fn corpus() -> (Vec<Case>, u64) {
    let templates = histories();
    let mut cases = Vec::with_capacity(CASES);
    let mut events = 0u64;
    for n in 0..CASES {
        let (process, clock, template) = &templates[n % templates.len()];
        let id = format!("BENCH-{n:07}");
        let mut evs = template.clone();
        if let Some(EventKind::CaseStarted { case, .. }) = evs.first_mut().map(|e| &mut e.kind) {
            *case = CaseId::new(&id);
        }
        let p = process.clone();
        let state = CaseState::fold(&evs, |_| Some(p.clone())).expect("folds");
        let mut prev = GENESIS.to_string();
        let mut rows_out = Vec::with_capacity(evs.len());
        for (k, e) in evs.iter().enumerate() {
            let body = canonical::canonical(&serde_json::to_value(e).expect("JSON"));
            let hash = canonical::event_hash(
                RecordHeader {
                    case: &id,
                    seq: k as u64 + 1,
                    prev_hash: &prev,
                    digest: &process.digest,
                    calendar_version: &state.calendar_version,
                },
                &body,
            );
            rows_out.push(EventRow {
                case_id: id.clone(),
                seq: k as i64 + 1,
                kind: e.kind.name().to_string(),
                at: micros(e.at),
                actor_user: e.actor.user.to_string(),
                actor_role: e.actor.role.to_string(),
                digest: process.digest.clone(),
                calendar_version: state.calendar_version.to_string(),
                body,
                prev_hash: std::mem::replace(&mut prev, hash.clone()),
                hash,
            });
        }
        events += rows_out.len() as u64;
        let projection = CaseProjection {
            case: rows::case_row(&state, &prev),
            tasks: rows::all_task_rows(&state),
            wake_at: state.next_wakeup().map(micros),
        };
        cases.push(Case {
            id,
            rows: rows_out,
            projection,
            process: process.clone(),
            clock: clock.clone(),
        });
    }
    (cases, events)
}

fn main() {
    divan::main();
}

/// Every chain checked: each event's hash recomputed over its stored bytes, its link to the
/// one before, its columns against its body, and the head against the projection.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn verify(bencher: Bencher) {
    let (cases, events) = corpus();
    bencher.counter(ItemsCount::new(events)).bench_local(|| {
        let mut checked = 0;
        for c in &cases {
            let head = reglament_engine::store::verify::Head {
                last_seq: c.projection.case.last_seq,
                last_hash: c.projection.case.last_hash.clone(),
            };
            checked += verify_case_rows(&c.id, &c.rows, Some(&head)).expect("intact");
        }
        assert_eq!(checked as u64, events);
        checked
    });
}

/// Every case replayed: chain, parse, fold, projections compared, every due instant
/// recomputed on the pinned calendar, the timeline with working times, the case's term.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn replay(bencher: Bencher) {
    let (cases, events) = corpus();
    let opts = ReplayOptions {
        at: None,
        now: now(),
        clocks: None,
    };
    bencher.counter(ItemsCount::new(events)).bench_local(|| {
        let mut n = 0;
        for c in &cases {
            let r = replay_rows(
                &c.id,
                &c.rows,
                Some(&c.projection),
                &c.process,
                Some(&c.clock),
                &opts,
            )
            .expect("replays");
            assert!(r.is_clean(), "{}: {:#?}", c.id, r.projections);
            n += r.events;
        }
        assert_eq!(n, events);
        n
    });
}
