//! Audit benchmarks (issue 8): chain verification and case replay, in events per second
//! (target: at least 1,000,000 events/s for both, on the two-core machine).
//!
//! The input is real histories: every bundled regulation simulated over its channels' paths
//! (`runtime::simulate`), each history given new case ids and hashed into a chain exactly as
//! the store writes it (canonical JSON, `canonical::event_hash`), with its projection rows
//! from its fold — the same rows `Store::case_log_rows` and `Store::case_projection` give the
//! audit. No database: the figures are the audit's own work, not SQLite's (for that, see
//! `reglament audit verify` over the ten-million-event database in BENCHMARKS.md).
//!
//! Run: `cargo bench -p reglament-audit --bench audit`.

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use divan::Bencher;
use divan::counter::ItemsCount;
use reglament_audit::replay::{ReplayOptions, replay_rows};
use reglament_audit::verify::{LogPage, check_log, verify_case_rows};
use reglament_calendar::{Calendars, OfficeClock, OfficeKind};
use reglament_model::compile::Process;
use reglament_model::paths::{self, DEFAULT_DAY_MINUTES};
use reglament_model::validate;
use reglament_runtime::simulate::{self, Pace, Scenario};
use reglament_runtime::{CaseId, CaseState, EventKind};
use reglament_store::canonical::{self, GENESIS, RecordHeader};
use reglament_store::rows::{self, EventRow, micros};
use reglament_store::scan::{CaseProjection, HeadRow, LogBatch, LogRowRef};

/// The allocator of the `reglament` binary, which runs these functions for `audit verify`,
/// `replay` and the API (under glibc's, replay took about a quarter more CPU here).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    reglament_testkit::regulations_dir()
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
    Vec<reglament_runtime::Event>,
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

/// The corpus as `reglament audit verify` reads it: every row interleaved in time order (as a
/// live log is), packed into the reader's batches, then the heads.
fn log_pages(cases: &[Case]) -> Vec<LogPage> {
    let mut rows: Vec<&EventRow> = cases.iter().flat_map(|c| &c.rows).collect();
    rows.sort_by(|a, b| (a.at, &a.case_id, a.seq).cmp(&(b.at, &b.case_id, b.seq)));
    let mut pages = Vec::new();
    for (k, chunk) in rows.chunks(4_096).enumerate() {
        let mut batch = LogBatch::default();
        for (i, r) in chunk.iter().enumerate() {
            let mut row = LogRowRef::of(r);
            row.id = (k * 4_096 + i + 1) as i64;
            batch.push(&row);
        }
        pages.push(LogPage::Events(Arc::new(batch)));
    }
    let heads = cases
        .iter()
        .map(|c| HeadRow {
            case_id: c.id.clone(),
            last_seq: c.projection.case.last_seq,
            last_hash: c.projection.case.last_hash.clone(),
        })
        .collect();
    pages.push(LogPage::Heads(Arc::new(heads)));
    pages
}

fn main() {
    divan::main();
}

/// What `reglament audit verify` does after reading the rows (`audit::verify::check_log`, on
/// two threads): every chain followed in log order, each event's hash recomputed over its
/// stored bytes, its link to the one before, its columns against its body, and every head
/// against the projection.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn verify(bencher: Bencher) {
    let (cases, events) = corpus();
    let pages = log_pages(&cases);
    bencher.counter(ItemsCount::new(events)).bench_local(|| {
        let mut it = pages.iter().cloned().map(Ok);
        let check = check_log(&mut || it.next(), &|_| {}, events, &mut |_| {}).expect("checks");
        assert_eq!(check.events, events);
        assert!(check.suspects.is_empty(), "{:?}", check.suspects);
        check.events
    });
}

/// One case's chain at a time on one thread (`audit::verify::verify_case_rows`, what replay
/// and the API's replay run): the same checks, rows already grouped by case.
#[divan::bench(sample_count = 20, sample_size = 1)]
fn verify_by_case(bencher: Bencher) {
    let (cases, events) = corpus();
    bencher.counter(ItemsCount::new(events)).bench_local(|| {
        let mut checked = 0;
        for c in &cases {
            let head = reglament_store::verify::Head {
                last_seq: c.projection.case.last_seq,
                last_hash: c.projection.case.last_hash.clone(),
            };
            checked += verify_case_rows(&c.id, &c.rows, Some(&head)).expect("intact");
        }
        assert_eq!(checked as u64, events);
        checked
    });
}

/// Replays the cases `cases`, each with `audit::replay::replay_rows` (what `reglament replay`
/// and the API run for one case), and returns the events replayed.
fn replay_cases(cases: &[Case], opts: &ReplayOptions<'_>) -> u64 {
    let mut n = 0;
    for c in cases {
        let r = replay_rows(
            &c.id,
            &c.rows,
            Some(&c.projection),
            &c.process,
            Some(&c.clock),
            opts,
        )
        .expect("replays");
        assert!(r.is_clean(), "{}: {:#?}", c.id, r.projections);
        n += r.events;
    }
    n
}

fn replay_options() -> ReplayOptions<'static> {
    ReplayOptions {
        at: None,
        now: now(),
        clocks: None,
    }
}

/// Every case replayed, the cases split between two threads as an auditor's requests (or a
/// report's) are spread over the cores: chain, parse, fold, projections compared, every due
/// instant recomputed on the pinned calendar, the timeline with working times, the term.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn replay(bencher: Bencher) {
    let (cases, events) = corpus();
    bencher.counter(ItemsCount::new(events)).bench_local(|| {
        let (a, b) = cases.split_at(cases.len() / 2);
        let n = std::thread::scope(|s| {
            let other = s.spawn(|| replay_cases(b, &replay_options()));
            let mine = replay_cases(a, &replay_options());
            mine + other.join().expect("the other thread replays")
        });
        assert_eq!(n, events);
        n
    });
}

/// The same on one thread.
#[divan::bench(sample_count = 10, sample_size = 1)]
fn replay_one_thread(bencher: Bencher) {
    let (cases, events) = corpus();
    let opts = replay_options();
    bencher.counter(ItemsCount::new(events)).bench_local(|| {
        let n = replay_cases(&cases, &opts);
        assert_eq!(n, events);
        n
    });
}
