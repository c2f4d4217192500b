//! Crash safety of the SQLite store: a child process runs a bounded load of completions and
//! prints the id of every command the store acknowledged; the parent kills it with SIGKILL at
//! a random moment, many times, and after each kill reopens the store and checks that every
//! acknowledged command is in the log exactly once, every chain verifies, and the projections
//! equal a rebuild from the log.
//!
//! The child is this same test binary, run with `REGLAMENT_CRASH_CHILD` set and filtered to
//! `crash_child`, so no other binary has to be built.

mod store_support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use reglament_runtime::{Actor, CaseId, EventKind};
use reglament_store::{Service, Store};
use serde_json::json;
use store_support::*;

const CHILD_ENV: &str = "REGLAMENT_CRASH_CHILD";
const ROUNDS: u64 = 25;

/// The load, when run as the child: 24 clients, each starting cases and completing their
/// tasks, printing `ACK <command id> END` after each acknowledged command.
#[test]
fn crash_child() {
    let Ok(db) = std::env::var(CHILD_ENV) else {
        return;
    };
    let round: u64 = std::env::var("REGLAMENT_CRASH_ROUND")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let store = Store::open(&db).await.expect("child opens the store");
        let process = store
            .latest("register-review-escalated")
            .await
            .expect("deployed");
        let service = Arc::new(Service::new(store, calendars()));
        let mut clients = Vec::new();
        for c in 0..24u64 {
            let (service, process) = (service.clone(), process.clone());
            clients.push(tokio::spawn(async move {
                let actor = Actor::new(format!("clerk{c}"), "executor");
                for k in 0..1_000u64 {
                    let case = format!("r{round}-c{c}-k{k}");
                    let id = CaseId::new(&case);
                    service
                        .start(&process, new_case(&case), &actor, t0())
                        .await
                        .expect("start");
                    println!("ACK start:{case} END");
                    let now = t0() + TimeDelta::minutes(1);
                    for task in 1..=4u32 {
                        let command = format!("{case}-t{task}");
                        let outcome = match task {
                            1 => None,
                            4 => Some("grant"),
                            _ => Some("again"),
                        };
                        service
                            .execute(
                                &id,
                                &complete(task, outcome, json!({ "command": command })),
                                &actor,
                                now,
                            )
                            .await
                            .expect("complete");
                        println!("ACK {command} END");
                    }
                }
            }));
        }
        for c in clients {
            let _ = c.await;
        }
    });
}

/// A small, reproducible random number generator (no dependency needed for kill timings).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % below
    }
}

/// Kills on one database before starting afresh: the checks read the whole database, so it is
/// kept small enough for the test to stay well under a minute.
const KILLS_PER_DATABASE: u64 = 5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_completions_survive_sigkill() {
    let exe = std::env::current_exe().expect("test binary");
    let mut rng = Lcg(0x5EED);
    let started = Instant::now();
    let mut acked_total = 0usize;
    let mut db = sqlite_db();
    for round in 0..ROUNDS {
        if round % KILLS_PER_DATABASE == 0 {
            db = sqlite_db();
            let (store, _, _) = setup(&db).await;
            store.close().await;
        }
        let mut child = Command::new(&exe)
            .args(["crash_child", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, &db.url)
            .env("REGLAMENT_CRASH_ROUND", round.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("child starts");
        let stdout = child.stdout.take().expect("stdout");
        let (first_ack, first_acked) = std::sync::mpsc::channel::<()>();
        let reader = std::thread::spawn(move || {
            let mut acked = Vec::new();
            let mut first_ack = Some(first_ack);
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // A line cut by the kill has no END: it was not fully acknowledged.
                if let Some(id) = line
                    .strip_prefix("ACK ")
                    .and_then(|l| l.strip_suffix(" END"))
                {
                    acked.push(id.to_string());
                    if let Some(tx) = first_ack.take() {
                        let _ = tx.send(());
                    }
                }
            }
            acked
        });
        // Kill at a random moment: one round in five while the child starts, opens or
        // recovers the store; the others in the middle of the load, counted from its first
        // acknowledgement, so that a slow start on a loaded machine does not leave the
        // rounds with nothing to check.
        if round % KILLS_PER_DATABASE == 2 {
            tokio::time::sleep(Duration::from_millis(rng.next(150))).await;
        } else {
            let started = tokio::task::spawn_blocking(move || {
                first_acked.recv_timeout(Duration::from_secs(60)).is_ok()
            })
            .await
            .expect("waits");
            assert!(
                started,
                "round {round}: the child ended or took 60 s without acknowledging anything"
            );
            tokio::time::sleep(Duration::from_millis(rng.next(400))).await;
        }
        let _ = child.kill();
        let _ = child.wait();
        let acked = reader.join().expect("reader");
        acked_total += acked.len();

        let store = Store::open(&db.url).await.expect("reopens after the kill");
        check(&store, &db, round, &acked).await;
        store.close().await;
    }
    assert!(
        acked_total > 100,
        "the children acknowledged only {acked_total} commands: the kills came too early to test anything"
    );
    eprintln!(
        "crash test: {ROUNDS} kills, {acked_total} acknowledged commands, {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

async fn check(store: &Store, db: &TestDb, round: u64, acked: &[String]) {
    // Every completion in the log, by command id; every case started. Read straight from the
    // file, in two queries.
    let prefix = format!("r{round}-%");
    let pool = sqlx::SqlitePool::connect(&db.url)
        .await
        .expect("read the file");
    let bodies: Vec<String> = sqlx::query_scalar(
        "SELECT body FROM events WHERE type = 'task_completed' AND case_id LIKE $1",
    )
    .bind(&prefix)
    .fetch_all(&pool)
    .await
    .expect("completions");
    let cases: BTreeSet<String> =
        sqlx::query_scalar("SELECT case_id FROM events WHERE seq = 1 AND case_id LIKE $1")
            .bind(&prefix)
            .fetch_all(&pool)
            .await
            .expect("starts")
            .into_iter()
            .collect();
    pool.close().await;
    let mut commands: BTreeMap<String, usize> = BTreeMap::new();
    for body in bodies {
        let event: reglament_runtime::Event = serde_json::from_str(&body).expect("an event");
        if let EventKind::TaskCompleted { data, .. } = &event.kind
            && let Some(id) = data.get("command").and_then(|v| v.as_str())
        {
            *commands.entry(id.to_string()).or_default() += 1;
        }
    }
    for id in acked {
        match id.strip_prefix("start:") {
            Some(case) => assert!(
                cases.contains(case),
                "round {round}: acknowledged start of {case} is lost"
            ),
            None => assert_eq!(
                commands.get(id),
                Some(&1),
                "round {round}: acknowledged command {id} must be in the log exactly once"
            ),
        }
    }
    assert!(
        commands.values().all(|n| *n == 1),
        "round {round}: a command is in the log twice"
    );
    let live = store.projections().await.expect("live");
    // `rebuild` checks every chain first and refuses if one does not verify.
    if let Err(e) = store.rebuild().await {
        panic!("round {round}: {e}");
    }
    assert_eq!(
        store.projections().await.expect("rebuilt"),
        live,
        "round {round}: projections differ from a rebuild"
    );
}
