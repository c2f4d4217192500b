//! Shared by the store tests: a small regulation, the bundled calendars, and a fresh database
//! per test on SQLite (a temporary file) or PostgreSQL (a database created in the cluster named
//! by `REGLAMENT_TEST_POSTGRES`).

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use reglament_calendar::Calendars;
use reglament_model::compile::Process;
use reglament_runtime::{Actor, CaseId, Command, NewCase, TaskId};
use reglament_store::{Service, Store};
use serde_json::{Value, json};

pub use reglament_testkit::fixtures::REGISTER_REVIEW_ESCALATED as REGULATION;

pub use reglament_testkit::fixtures::OFFICE;

pub fn calendars() -> Arc<Calendars> {
    static CALENDARS: OnceLock<Arc<Calendars>> = OnceLock::new();
    CALENDARS
        .get_or_init(|| {
            let root = reglament_testkit::regulations_dir();
            Arc::new(Calendars::load(&root).expect("bundled calendars load"))
        })
        .clone()
}

pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

/// Friday 20 March 2026, 10:00 in Atyrau: inside office hours.
pub fn t0() -> DateTime<Utc> {
    t("2026-03-20T10:00:00+05:00")
}

pub fn clerk() -> Actor {
    Actor::new("clerk1", "executor")
}

pub fn new_case(id: &str) -> NewCase {
    NewCase {
        case: CaseId::new(id),
        channel: "provider".into(),
        office: OFFICE.into(),
        data: json!({"full_name": "Айгүл Серікова"}),
    }
}

pub fn complete(task: u32, outcome: Option<&str>, data: Value) -> Command {
    Command::Complete {
        task: TaskId(task),
        outcome: outcome.map(str::to_string),
        data,
        reason: None,
    }
}

pub fn claim(task: u32) -> Command {
    Command::Claim { task: TaskId(task) }
}

/// A database for one test, dropped (PostgreSQL) or deleted (SQLite) at the end.
pub struct TestDb {
    pub url: String,
    dir: Option<PathBuf>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn path(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join("reglament.db"))
    }

    /// Drops the PostgreSQL database (the SQLite folder goes when the value is dropped).
    pub async fn cleanup(mut self) {
        if let Some((admin, name)) = self.pg.take()
            && let Ok(store) = Store::open_with(
                &admin,
                reglament_store::StoreOptions {
                    migrate: false,
                    pool_size: 2,
                    ..Default::default()
                },
            )
            .await
        {
            let _ = store
                .execute_raw(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await;
            store.close().await;
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// A fresh temporary folder.
pub fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("reglament-store-{}", unique()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

pub fn sqlite_db() -> TestDb {
    let dir = temp_dir();
    TestDb {
        url: format!("sqlite:{}", dir.join("reglament.db").display()),
        dir: Some(dir),
        pg: None,
    }
}

/// The PostgreSQL cluster for tests, or `None` (loudly) without one. With `REGLAMENT_CI=1` a
/// missing cluster fails the test instead.
pub fn postgres_url() -> Option<String> {
    match std::env::var("REGLAMENT_TEST_POSTGRES") {
        Ok(u) if !u.is_empty() => Some(u),
        _ => {
            if std::env::var("REGLAMENT_CI").is_ok_and(|v| v == "1") {
                panic!(
                    "REGLAMENT_CI=1 but REGLAMENT_TEST_POSTGRES is not set: the PostgreSQL store tests must run in CI"
                );
            }
            // Straight to the process's stderr: the test harness captures `eprintln!`, and a
            // skip must be seen.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: PostgreSQL tests (set REGLAMENT_TEST_POSTGRES)"
            );
            None
        }
    }
}

pub async fn postgres_db() -> Option<TestDb> {
    let admin = postgres_url()?;
    let name = format!("reglament_t_{}", unique());
    let store = Store::open_with(
        &admin,
        reglament_store::StoreOptions {
            migrate: false,
            pool_size: 2,
            ..Default::default()
        },
    )
    .await
    .expect("the test PostgreSQL cluster is reachable");
    store
        .execute_raw(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create a test database");
    store.close().await;
    let base = match admin.rfind('/') {
        Some(i) if i > "postgres://".len() => &admin[..i],
        _ => admin.as_str(),
    };
    Some(TestDb {
        url: format!("{base}/{name}"),
        dir: None,
        pg: Some((admin.clone(), name)),
    })
}

/// A store with the fixture regulation deployed, and a service on it.
pub async fn setup(db: &TestDb) -> (Store, Service, Arc<Process>) {
    let store = Store::open(&db.url).await.expect("store opens");
    let (_, process) = store
        .deploy(REGULATION, "admin", t0())
        .await
        .expect("deploys");
    let service = Service::new(store.clone(), calendars());
    (store, service, process)
}

/// Runs `$test(db)` on SQLite and on PostgreSQL, as `$test::sqlite` and `$test::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let db = super::store_support::sqlite_db();
                super::$test(&db).await;
                db.cleanup().await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = super::store_support::postgres_db().await {
                    super::$test(&db).await;
                    db.cleanup().await;
                }
            }
        }
    )*};
}
