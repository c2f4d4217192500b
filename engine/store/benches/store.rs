//! Store benchmarks (a plain binary, not a harness: it needs concurrency and seeded data).
//!
//! ```sh
//! cargo bench -p reglament-store --bench store -- [all|throughput|inbox|startup]
//!     [--pg URL] [--clients N] [--seconds S] [--rows N] [--keep] [--db URL]
//! ```
//!
//! - `throughput`: N concurrent clients, each with its own case, complete tasks through
//!   [`Service::execute`] for S seconds; every completion is acknowledged only after its commit
//!   (SQLite: WAL, `synchronous=FULL`, group commit). Reports completions per second, the
//!   latency of one completion (median, p99), and the CPU time the process (and SQLite's
//!   writer thread) used in the measured seconds, which the load of a shared machine distorts
//!   less than wall time.
//! - `inbox`: `--rows` open tasks (default 1,000,000) seeded with bulk `INSERT … SELECT` (not
//!   through the engine), over 10 offices × 2 roles; 2,000 first-page queries (one role, one
//!   office, 50 rows by due instant) at random offices. Median and p99.
//! - `startup`: on the seeded database, `Store::open` (connect + migrate check) and the first
//!   inbox page, ten times. Median and max.
//!
//! Without `--pg` the SQLite back end is measured, in a folder under the system temp dir.
//! Each database is deleted (SQLite) or dropped (PostgreSQL) at the end, unless `--keep`
//! (then the seeded one's URL is printed, e.g. to time `reglament serve` on it); `--db URL`
//! measures `inbox`/`startup` on such a kept database again, without seeding it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use reglament_calendar::Calendars;
use reglament_runtime::{Actor, CaseId, Command, NewCase, TaskId};
use reglament_store::{InboxQuery, Service, Store, StoreOptions};
use serde_json::json;

use reglament_testkit::fixtures::REGISTER_REVIEW as REGULATION;

use reglament_testkit::fixtures::OFFICE;

struct Args {
    what: String,
    pg: Option<String>,
    clients: usize,
    seconds: u64,
    rows: u64,
    keep: bool,
    db: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        what: "all".into(),
        pg: None,
        clients: 64,
        seconds: 10,
        rows: 1_000_000,
        keep: false,
        db: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--pg" => a.pg = it.next(),
            "--clients" => a.clients = it.next().and_then(|v| v.parse().ok()).unwrap_or(64),
            "--seconds" => a.seconds = it.next().and_then(|v| v.parse().ok()).unwrap_or(10),
            "--rows" => a.rows = it.next().and_then(|v| v.parse().ok()).unwrap_or(1_000_000),
            "--keep" => a.keep = true,
            "--db" => a.db = it.next(),
            "--bench" => {}
            w if !w.starts_with('-') => a.what = w.to_string(),
            _ => {}
        }
    }
    a
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-03-20T10:00:00+05:00")
        .map(|t| t.with_timezone(&Utc))
        .expect("instant")
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

/// A fresh database: a new SQLite file, or a new PostgreSQL database in the cluster.
async fn fresh(pg: &Option<String>, name: &str) -> String {
    match pg {
        None => {
            let dir =
                std::env::temp_dir().join(format!("reglament-bench-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            format!("sqlite:{}", dir.join("reglament.db").display())
        }
        Some(admin) => {
            let db = format!("reglament_bench_{name}_{}", std::process::id());
            let store = Store::open_with(
                admin,
                StoreOptions {
                    migrate: false,
                    pool_size: 2,
                    ..Default::default()
                },
            )
            .await
            .expect("PostgreSQL reachable");
            let _ = store
                .execute_raw(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .await;
            store
                .execute_raw(&format!("CREATE DATABASE {db}"))
                .await
                .expect("create database");
            store.close().await;
            let base = &admin[..admin.rfind('/').expect("URL with a database")];
            format!("{base}/{db}")
        }
    }
}

/// Deletes a database made by [`fresh`] (unless `--keep`).
async fn discard(a: &Args, url: &str) {
    if a.keep {
        println!("            kept {url}");
        return;
    }
    match &a.pg {
        None => {
            if let Some(path) = url.strip_prefix("sqlite:")
                && let Some(dir) = std::path::Path::new(path).parent()
            {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        Some(admin) => {
            let db = &url[url.rfind('/').expect("URL with a database") + 1..];
            if let Ok(store) = Store::open_with(
                admin,
                StoreOptions {
                    migrate: false,
                    pool_size: 1,
                    ..Default::default()
                },
            )
            .await
            {
                let _ = store
                    .execute_raw(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                    .await;
                store.close().await;
            }
        }
    }
}

async fn throughput(a: &Args, calendars: Arc<Calendars>) {
    let url = fresh(&a.pg, "throughput").await;
    let store = Store::open_with(
        &url,
        StoreOptions {
            pool_size: if a.pg.is_some() { 16 } else { 4 },
            ..Default::default()
        },
    )
    .await
    .expect("open");
    let (_, process) = store
        .deploy(REGULATION, "bench", t0())
        .await
        .expect("deploy");
    let service = Arc::new(Service::new(store.clone(), calendars));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    let started = Instant::now();
    for c in 0..a.clients {
        let (service, process, stop, done) =
            (service.clone(), process.clone(), stop.clone(), done.clone());
        handles.push(tokio::spawn(async move {
            let actor = Actor::new(format!("clerk{c}"), "executor");
            let id = CaseId::new(format!("B-{c}"));
            let now = t0();
            service
                .start(
                    &process,
                    NewCase {
                        case: id.clone(),
                        channel: "provider".into(),
                        office: OFFICE.into(),
                        data: json!({"full_name": format!("Applicant {c}")}),
                    },
                    &actor,
                    now,
                )
                .await
                .expect("start");
            let mut lat = Vec::with_capacity(4096);
            let mut task = 1u32;
            while !stop.load(Ordering::Relaxed) {
                let outcome = (task > 1).then(|| "again".to_string());
                let cmd = Command::Complete {
                    task: TaskId(task),
                    outcome,
                    data: json!({"note": format!("c{c}-t{task}")}),
                    reason: None,
                };
                let t = Instant::now();
                service
                    .execute(&id, &cmd, &actor, now + TimeDelta::seconds(1))
                    .await
                    .expect("complete");
                lat.push(t.elapsed());
                done.fetch_add(1, Ordering::Relaxed);
                task += 1;
            }
            lat
        }));
    }
    // Warm up for a second, then measure.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let from = done.load(Ordering::Relaxed);
    let cpu_from = cpu_seconds();
    let t = Instant::now();
    tokio::time::sleep(Duration::from_secs(a.seconds)).await;
    let n = done.load(Ordering::Relaxed) - from;
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_seconds().since(&cpu_from);
    stop.store(true, Ordering::Relaxed);
    let mut lat = Vec::new();
    for h in handles {
        lat.extend(h.await.expect("client"));
    }
    lat.sort();
    println!(
        "throughput  {:<8} clients {:>4}: {:>8.0} completions/s ({n} in {secs:.1} s; {} in all over {:.1} s) latency median {} p99 {}",
        store.backend(),
        a.clients,
        n as f64 / secs,
        lat.len(),
        started.elapsed().as_secs_f64(),
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
    );
    let writer = if a.pg.is_some() {
        " (PostgreSQL's own processes not counted)".to_string()
    } else {
        format!(
            ", SQLite writer thread {:.2} s ({:.0} µs per completion)",
            cpu.writer,
            cpu.writer * 1e6 / (n.max(1) as f64)
        )
    };
    println!(
        "            CPU in the measured {secs:.1} s: process {:.2} s ({:.0} completions per CPU second){writer}",
        cpu.process,
        n as f64 / cpu.process.max(1e-9),
    );
    let status = store.status().await.expect("status");
    println!(
        "            events {} cases {} (verify: {})",
        status.events,
        status.cases,
        if store.verify_all().await.expect("verify").is_ok() {
            "ok"
        } else {
            "FAILED"
        }
    );
    store.close().await;
    discard(a, &url).await;
}

/// CPU time used so far (user + system): by the whole process, and by the SQLite writer
/// thread (`reglament-writer`). From `/proc` (zero elsewhere).
struct Cpu {
    process: f64,
    writer: f64,
}

impl Cpu {
    fn since(&self, before: &Cpu) -> Cpu {
        Cpu {
            process: self.process - before.process,
            writer: self.writer - before.writer,
        }
    }
}

fn cpu_seconds() -> Cpu {
    // utime and stime are fields 14 and 15 of `stat`, counted after the `(comm)` field,
    // which may hold spaces.
    fn ticks(stat: &str) -> f64 {
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let f: Vec<&str> = rest.split_whitespace().collect();
        let field = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
        field(11) + field(12)
    }
    // USER_HZ, the unit of `stat`'s times, is 100 on every Linux ABI (sysconf(_SC_CLK_TCK)
    // only ever reports it).
    let hz = 100.0;
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap_or_default();
    let process = ticks(&read(std::path::Path::new("/proc/self/stat"))) / hz;
    let mut writer = 0.0;
    if let Ok(tasks) = std::fs::read_dir("/proc/self/task") {
        for t in tasks.flatten() {
            if read(&t.path().join("comm")).trim() == "reglament-write" {
                writer += ticks(&read(&t.path().join("stat"))) / hz;
            }
        }
    }
    Cpu { process, writer }
}

/// Seeds `rows` cases, each with one open task and one event, by bulk INSERT … SELECT.
async fn seed(store: &Store, rows: u64) {
    let base = t0().timestamp_micros();
    // The numbers 0..rows as a row source `g(n)`, in each back end's idiom.
    let from = match store.backend() {
        reglament_store::BackendKind::Sqlite => format!(
            "(WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n + 1 < {rows}) SELECT n FROM s) AS g"
        ),
        reglament_store::BackendKind::Postgres => {
            format!("generate_series(0::bigint, {}) AS g(n)", rows - 1)
        }
    };
    let office = "'office-' || (n % 10)";
    let role = "CASE WHEN (n / 10) % 2 = 0 THEN 'executor' ELSE 'head' END";
    // Due instants spread over a year, in an order unrelated to the case ids.
    let due = format!("{base} + ((n * 7919) % 31536000) * 1000000");
    let case = "'S-' || n";
    let sqls = [
        format!(
            "INSERT INTO cases (case_id, regulation_id, regulation_version, digest, channel, office, \
             calendar_version, status, result, applicant, started_at, registered_at, due, breached, \
             documents_missing, ended_at, last_seq, last_hash, last_event_at) \
             SELECT {case}, 'register-review', 1, 'd', 'provider', {office}, 'c', 'open', NULL, 'Applicant ' || n, \
             {base}, {base}, {due}, false, false, NULL, 1, 'h', {base} FROM {from}"
        ),
        format!(
            "INSERT INTO tasks (case_id, task, step, role, office, status, claimed_by, assigned_to, \
             opened_at, due, breached, outcome, closed_at, closed_by) \
             SELECT {case}, 1, 'review', {role}, {office}, 'open', NULL, NULL, {base}, {due}, false, NULL, NULL, NULL FROM {from}"
        ),
        format!(
            "INSERT INTO events (case_id, seq, type, at, actor_user, actor_role, digest, \
             calendar_version, body, prev_hash, hash) \
             SELECT {case}, 1, 'case_started', {base}, 'clerk', 'executor', 'd', 'c', \
             '{{\"type\":\"case_started\",\"seeded\":' || n || '}}', '0', 'h' FROM {from}"
        ),
        format!("INSERT INTO wakeups (case_id, wake_at) SELECT {case}, {due} FROM {from}"),
    ];
    for sql in sqls {
        store.execute_raw(&sql).await.expect("seed");
    }
    // PostgreSQL's autovacuum would vacuum and analyze the inserted rows soon (setting the
    // visibility map that index-only scans need); do it now, for the steady state. SQLite is left
    // without statistics, as the store never runs `ANALYZE`: with `sqlite_stat4` samples
    // (the bundled SQLite has STAT4) every inbox query would be prepared again for each new
    // office and role, costing more than the plan it might improve.
    if store.backend() == reglament_store::BackendKind::Postgres {
        store.execute_raw("VACUUM ANALYZE").await.expect("vacuum");
    }
}

async fn inbox_and_startup(a: &Args, what: &str) {
    let (url, seeded) = match &a.db {
        Some(u) => (u.clone(), false),
        None => (fresh(&a.pg, "inbox").await, true),
    };
    let store = Store::open(&url).await.expect("open");
    if seeded {
        let t = Instant::now();
        seed(&store, a.rows).await;
        println!(
            "seed        {:<8} {} cases, tasks, events and wake-ups in {:.1} s (bulk INSERT … SELECT)",
            store.backend(),
            a.rows,
            t.elapsed().as_secs_f64()
        );
    }
    if what != "startup" {
        let mut lat = Vec::with_capacity(2000);
        let mut x: u64 = 12345;
        for i in 0..2200 {
            // A small linear congruential generator: reproducible offices.
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let office = format!("office-{}", (x >> 33) % 10);
            let q = InboxQuery::open("executor", &office, 50);
            let t = Instant::now();
            let page = store.inbox(&q).await.expect("inbox");
            let d = t.elapsed();
            assert_eq!(page.items.len(), 50);
            if i >= 200 {
                lat.push(d);
            }
        }
        lat.sort();
        println!(
            "inbox       {:<8} {} open tasks, first page of 50 (one role, one office): median {} p99 {} max {}",
            store.backend(),
            a.rows,
            ms(percentile(&lat, 0.5)),
            ms(percentile(&lat, 0.99)),
            ms(percentile(&lat, 1.0)),
        );
    }
    store.close().await;
    if what != "inbox" {
        let mut times = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            let s = Store::open(&url).await.expect("open");
            let page = s
                .inbox(&InboxQuery::open("executor", "office-3", 50))
                .await
                .expect("inbox");
            times.push(t.elapsed());
            assert_eq!(page.items.len(), 50);
            s.close().await;
        }
        times.sort();
        println!(
            "startup     {:<8} {} cases: open + migrate + first inbox page: median {} max {}",
            if url.starts_with("sqlite:") {
                "sqlite"
            } else {
                "postgres"
            },
            a.rows,
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 1.0)),
        );
    }
    if seeded {
        discard(a, &url).await;
    }
}

fn main() {
    let a = args();
    let root = reglament_testkit::regulations_dir();
    let calendars = Arc::new(Calendars::load(&root).expect("calendars"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        if a.what == "all" || a.what == "throughput" {
            throughput(&a, calendars.clone()).await;
        }
        if a.what == "all" {
            inbox_and_startup(&a, "all").await;
        } else if a.what == "inbox" || a.what == "startup" {
            inbox_and_startup(&a, &a.what).await;
        }
    });
}
