//! Writes a SQLite database of many valid, hash-chained events, for the audit benchmarks
//! (`reglament audit verify` over ten million events). Not run in CI.
//!
//! ```sh
//! cargo run --release -p reglament-audit --example audit_bulk -- sqlite:/tmp/audit-10m.db 10000000
//! ```
//!
//! The cases are real histories: every bundled regulation is simulated
//! (`runtime::simulate`) over its channels' paths from start instants spread over a year, and
//! each new case takes one of those histories under a new id. Each case's events are hashed
//! into a chain exactly as the store writes them (canonical JSON,
//! `canonical::event_hash`) and its projection rows are derived from its fold
//! (`rows::case_row`, `rows::all_task_rows`), so the database verifies, replays and reports
//! like one the server wrote. The events are written interleaved in time order, chunk by
//! chunk, as a live office's log is, with multi-row `INSERT`s in large transactions
//! (`synchronous = OFF` while loading; the file is checkpointed at the end).

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};
use reglament_calendar::{Calendars, OfficeKind};
use reglament_model::compile::Process;
use reglament_model::paths::{self, DEFAULT_DAY_MINUTES};
use reglament_model::validate;
use reglament_runtime::simulate::{self, Pace, Scenario};
use reglament_runtime::{CaseId, CaseState, Event, EventKind};
use reglament_store::canonical::{self, GENESIS, RecordHeader};
use reglament_store::rows::{self, micros};
use reglament_store::{Store, clocks};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sqlx::{Connection, SqliteConnection};

/// Cases per transaction.
const CHUNK: usize = 4_000;
/// Rows per `INSERT`.
const ROWS: usize = 500;

struct Template {
    process: Arc<Process>,
    events: Vec<Event>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "sqlite:/tmp/audit-bulk.db".to_string());
    let target: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(run(&url, target))
}

fn regulations_dir() -> PathBuf {
    reglament_testkit::regulations_dir()
}

async fn run(url: &str, target: u64) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let path = url
        .strip_prefix("sqlite:")
        .ok_or("the bulk generator writes SQLite only: sqlite:PATH")?;
    if std::path::Path::new(path).exists() {
        return Err(format!("{path} exists; remove it first").into());
    }
    // The schema and the regulations through the store itself.
    let store = Store::open(url).await?;
    let files = validate::regulation_files(&[regulations_dir()])?;
    let deployed_at =
        DateTime::parse_from_rfc3339("2025-01-01T09:00:00+05:00")?.with_timezone(&Utc);
    let mut processes = Vec::new();
    for f in &files {
        let source = std::fs::read_to_string(f)?;
        let (_, p) = store.deploy(&source, "bulk", deployed_at).await?;
        processes.push(p);
    }
    store.close().await;
    let calendars = Calendars::load(&regulations_dir()).map_err(|d| format!("{d:?}"))?;
    let templates = templates(&processes, &calendars)?;
    eprintln!(
        "{} histories simulated ({} events) in {:.1} s",
        templates.len(),
        templates.iter().map(|t| t.events.len()).sum::<usize>(),
        started.elapsed().as_secs_f64()
    );

    let mut conn = SqliteConnection::connect_with(
        &SqliteConnectOptions::from_str(url)?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Off)
            .pragma("cache_size", "-200000"),
    )
    .await?;
    // The calendar versions the cases are pinned to, as `Service::start` records them.
    let mut versions = std::collections::BTreeSet::new();
    for p in &processes {
        let clock = calendars.clock(Some(&provider_office(&calendars, &p.regulation.region)))?;
        if versions.insert(clock.version().to_string()) {
            let rec = clocks::record(&clock, deployed_at)?;
            sqlx::query(
                "INSERT INTO calendar_versions (version, calendar, schedule, zone, data, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&rec.version)
            .bind(&rec.calendar)
            .bind(&rec.schedule)
            .bind(&rec.zone)
            .bind(&rec.data)
            .bind(rec.recorded_at)
            .execute(&mut conn)
            .await?;
        }
    }

    let mut written = 0u64;
    let mut cases = 0u64;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    while written < target {
        let mut events: Vec<EventOut> = Vec::new();
        let mut case_rows = Vec::new();
        let mut task_rows = Vec::new();
        let mut wakeups = Vec::new();
        for _ in 0..CHUNK {
            if written + events.len() as u64 >= target {
                break;
            }
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let t = &templates[(rng % templates.len() as u64) as usize];
            let id = format!("BULK-{cases:09}");
            cases += 1;
            let mut evs = t.events.clone();
            if let Some(EventKind::CaseStarted { case, .. }) = evs.first_mut().map(|e| &mut e.kind)
            {
                *case = CaseId::new(&id);
            }
            let p = t.process.clone();
            let state = CaseState::fold(&evs, |_| Some(p.clone()))?;
            let mut prev = GENESIS.to_string();
            for (k, e) in evs.iter().enumerate() {
                // What the store writes: the event as canonical JSON, and the columns that
                // repeat its type, instant and actor.
                let body = canonical::canonical(&serde_json::to_value(e)?);
                let hash = canonical::event_hash(
                    RecordHeader {
                        case: &id,
                        seq: k as u64 + 1,
                        prev_hash: &prev,
                        digest: &t.process.digest,
                        calendar_version: &state.calendar_version,
                    },
                    &body,
                );
                events.push(EventOut {
                    case: id.clone(),
                    seq: k as i64 + 1,
                    digest: t.process.digest.clone(),
                    calendar_version: state.calendar_version.to_string(),
                    prev_hash: std::mem::replace(&mut prev, hash.clone()),
                    hash,
                    kind: e.kind.name(),
                    at: micros(e.at),
                    actor_user: e.actor.user.to_string(),
                    actor_role: e.actor.role.to_string(),
                    body,
                });
            }
            case_rows.push(rows::case_row(&state, &prev));
            task_rows.extend(rows::all_task_rows(&state));
            if let Some(w) = state.next_wakeup() {
                wakeups.push((id, micros(w)));
            }
        }
        let built = started.elapsed().as_secs_f64();
        // Interleaved as a live log is: by instant, then case and place.
        events.sort_by(|a, b| (a.at, &a.case, a.seq).cmp(&(b.at, &b.case, b.seq)));
        let mut tx = conn.begin().await?;
        for chunk in events.chunks(ROWS) {
            insert_events(&mut tx, chunk).await?;
        }
        for chunk in case_rows.chunks(ROWS) {
            insert_cases(&mut tx, chunk).await?;
        }
        for chunk in task_rows.chunks(ROWS) {
            insert_tasks(&mut tx, chunk).await?;
        }
        for (case, wake) in &wakeups {
            sqlx::query("INSERT INTO wakeups (case_id, wake_at) VALUES ($1, $2)")
                .bind(case)
                .bind(wake)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        written += events.len() as u64;
        eprintln!(
            "{written} events, {cases} cases, {:.0} s (built at {built:.1} s)",
            started.elapsed().as_secs_f64()
        );
    }
    sqlx::raw_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    let size = std::fs::metadata(path)?.len();
    eprintln!(
        "done: {written} events in {cases} cases, {:.2} GB, {:.0} s",
        size as f64 / 1e9,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

struct EventOut {
    case: String,
    seq: i64,
    digest: String,
    calendar_version: String,
    prev_hash: String,
    hash: String,
    kind: &'static str,
    at: i64,
    actor_user: String,
    actor_role: String,
    body: String,
}

fn provider_office(calendars: &Calendars, region: &str) -> String {
    calendars
        .offices()
        .find(|o| o.region == region && o.data.kind == OfficeKind::ProviderOffice)
        .map(|o| o.data.id.clone())
        .unwrap_or_default()
}

/// Histories of every regulation's paths, from start instants spread over 2025.
fn templates(
    processes: &[Arc<Process>],
    calendars: &Calendars,
) -> Result<Vec<Template>, Box<dyn std::error::Error>> {
    let first = DateTime::parse_from_rfc3339("2025-01-06T09:15:00+05:00")?.with_timezone(&Utc);
    let mut out = Vec::new();
    for p in processes {
        let office = provider_office(calendars, &p.regulation.region);
        let clock = calendars.clock(Some(&office))?;
        for channel in &p.regulation.channels {
            let (list, _) = paths::channel_paths(p, &channel.id, DEFAULT_DAY_MINUTES, 100);
            for (k, path) in list.iter().enumerate() {
                let decisions = path
                    .steps
                    .iter()
                    .zip(&path.outcomes)
                    .filter_map(|(&s, o)| Some((p.step(s).id().to_string(), o.clone()?)))
                    .collect();
                for day in (0..340).step_by(17) {
                    let start = first
                        + Duration::days(day + k as i64)
                        + Duration::minutes(37 * ((day + k as i64) % 11));
                    let scenario = Scenario {
                        channel: channel.id.clone(),
                        office: office.clone(),
                        start,
                        decisions: std::collections::BTreeMap::clone(&decisions),
                        data: None,
                        documents_missing: channel.extended_term.is_some() && day % 3 == 0,
                        pace: if day % 2 == 0 {
                            Pace::Due
                        } else {
                            Pace::Instant
                        },
                    };
                    match simulate::run(p, &clock, &scenario) {
                        Ok(sim) => out.push(Template {
                            process: p.clone(),
                            events: sim.events,
                        }),
                        Err(e) => eprintln!("skipped {} {}: {e}", p.id(), channel.id),
                    }
                }
            }
        }
    }
    if out.is_empty() {
        return Err("no history could be simulated".into());
    }
    Ok(out)
}

/// `INSERT … VALUES (…), (…)` with `n` rows of `cols` placeholders. Anonymous `?`
/// placeholders: sqlx looks numbered ones up one by one, which is quadratic in a statement
/// of thousands of parameters.
fn values_sql(prefix: &str, cols: usize, n: usize) -> String {
    let row = format!("({})", vec!["?"; cols].join(","));
    format!("{prefix} VALUES {}", vec![row; n].join(","))
}

async fn insert_events(c: &mut SqliteConnection, rows: &[EventOut]) -> Result<(), sqlx::Error> {
    let sql = values_sql(
        "INSERT INTO events (case_id, seq, type, at, actor_user, actor_role, digest, \
         calendar_version, body, prev_hash, hash)",
        11,
        rows.len(),
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for r in rows {
        q = q
            .bind(&r.case)
            .bind(r.seq)
            .bind(r.kind)
            .bind(r.at)
            .bind(&r.actor_user)
            .bind(&r.actor_role)
            .bind(&r.digest)
            .bind(&r.calendar_version)
            .bind(&r.body)
            .bind(&r.prev_hash)
            .bind(&r.hash);
    }
    q.execute(c).await.map(|_| ())
}

async fn insert_cases(c: &mut SqliteConnection, rows: &[rows::CaseRow]) -> Result<(), sqlx::Error> {
    let sql = values_sql(
        "INSERT INTO cases (case_id, regulation_id, regulation_version, digest, channel, office, \
         calendar_version, status, result, applicant, started_at, registered_at, due, breached, \
         documents_missing, ended_at, last_seq, last_hash, last_event_at)",
        19,
        rows.len(),
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for r in rows {
        q = q
            .bind(&r.case_id)
            .bind(&r.regulation_id)
            .bind(r.regulation_version)
            .bind(&r.digest)
            .bind(&r.channel)
            .bind(&r.office)
            .bind(&r.calendar_version)
            .bind(&r.status)
            .bind(&r.result)
            .bind(&r.applicant)
            .bind(r.started_at)
            .bind(r.registered_at)
            .bind(r.due)
            .bind(r.breached)
            .bind(r.documents_missing)
            .bind(r.ended_at)
            .bind(r.last_seq)
            .bind(&r.last_hash)
            .bind(r.last_event_at);
    }
    q.execute(c).await.map(|_| ())
}

async fn insert_tasks(c: &mut SqliteConnection, rows: &[rows::TaskRow]) -> Result<(), sqlx::Error> {
    let sql = values_sql(
        "INSERT INTO tasks (case_id, task, step, role, office, status, claimed_by, assigned_to, \
         opened_at, due, breached, outcome, closed_at, closed_by)",
        14,
        rows.len(),
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for r in rows {
        q = q
            .bind(&r.case_id)
            .bind(r.task)
            .bind(&r.step)
            .bind(&r.role)
            .bind(&r.office)
            .bind(&r.status)
            .bind(&r.claimed_by)
            .bind(&r.assigned_to)
            .bind(r.opened_at)
            .bind(r.due)
            .bind(r.breached)
            .bind(&r.outcome)
            .bind(r.closed_at)
            .bind(&r.closed_by);
    }
    q.execute(c).await.map(|_| ())
}
