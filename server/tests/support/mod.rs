//! Shared by the API tests: a real server on a loopback port with its own database (a
//! temporary SQLite file, or a fresh PostgreSQL database), a manual clock, the bundled
//! regulations, accounts made directly in the store, and a small HTTP client.

#![allow(dead_code)]

pub mod browser;
pub mod chrome;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reglament_server::accounts::{GrantRecord, NewUser};
use reglament_server::app;
use reglament_server::auth::{password, secret};
use reglament_server::config::Config;
use reglament_server::state::AppState;
use reglament_server::timer::{self, Clock};
use reglament_store::{Store, StoreOptions};
use serde_json::Value;

/// Wednesday 15 April 2026, 10:00 in Atyrau (05:00 UTC): a working day, inside office hours.
pub fn t0() -> DateTime<Utc> {
    t("2026-04-15T10:00:00+05:00")
}

pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("instant")
        .with_timezone(&Utc)
}

pub fn regulations_dir() -> PathBuf {
    reglament_testkit::regulations_dir()
}

/// Prints to the real stderr (the harness captures `eprintln!`): skips must be seen.
pub fn say(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{text}");
}

pub fn ci() -> bool {
    std::env::var("REGLAMENT_CI").is_ok_and(|v| v == "1")
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

/// A database for one test.
pub struct TestDb {
    pub url: String,
    dir: Option<PathBuf>,
    pg: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(format!("reglament-api-{}", unique()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        TestDb {
            url: format!("sqlite:{}", dir.join("reglament.db").display()),
            dir: Some(dir),
            pg: None,
        }
    }

    /// A fresh database in the cluster named by `REGLAMENT_TEST_POSTGRES`; `None` (said
    /// loudly) without one, a failure with `REGLAMENT_CI=1`.
    pub async fn postgres() -> Option<TestDb> {
        let admin = match std::env::var("REGLAMENT_TEST_POSTGRES") {
            Ok(u) if !u.is_empty() => u,
            _ => {
                assert!(
                    !ci(),
                    "REGLAMENT_CI=1 but REGLAMENT_TEST_POSTGRES is not set: the PostgreSQL API tests must run in CI"
                );
                say("SKIPPED: PostgreSQL API tests (set REGLAMENT_TEST_POSTGRES)");
                return None;
            }
        };
        let name = format!("reglament_api_{}", unique());
        let store = Store::open_with(
            &admin,
            StoreOptions {
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

    pub async fn cleanup(mut self) {
        if let Some((admin, name)) = self.pg.take()
            && let Ok(store) = Store::open_with(
                &admin,
                StoreOptions {
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

/// The configuration tests start from: no timer (tests tick by hand), cheap password
/// hashes, no credential cache (so that disabling a user shows at once).
pub fn test_config(db: &str) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().expect("addr"),
        db: db.to_string(),
        regulations: regulations_dir(),
        tick_interval: None,
        auth_cache_ttl: Duration::ZERO,
        password_cost: password::Cost::Fast,
        shutdown_grace: Duration::from_secs(5),
        // `--demo`'s months of history take seconds; the tests that want it ask.
        demo_history: reglament_server::demo_history::HistorySize {
            months: 0,
            per_month: 0,
        },
        ..Config::default()
    }
}

/// An answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an RFC 9457 problem with this status and code.
    pub fn assert_problem(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        self.assert_is_problem();
        assert_eq!(self.json["code"], code, "{}", self.text);
    }

    /// Asserts the body is problem+json with its required members.
    pub fn assert_is_problem(&self) {
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{} {}",
            self.status,
            self.text
        );
        for member in ["type", "title", "detail", "code"] {
            assert!(
                self.json[member].as_str().is_some_and(|s| !s.is_empty()),
                "`{member}` missing: {}",
                self.text
            );
        }
        assert_eq!(self.json["status"], self.status, "{}", self.text);
    }
}

/// A running server.
pub struct Server {
    pub base: String,
    pub state: AppState,
    pub client: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
    db: Option<TestDb>,
}

impl Server {
    /// On a fresh SQLite database with the bundled regulations deployed.
    pub async fn start() -> Server {
        let db = TestDb::sqlite();
        let config = test_config(&db.url);
        Server::start_with(db, config).await
    }

    pub async fn start_with(db: TestDb, config: Config) -> Server {
        let mut s = Server::start_on(&db.url, config).await;
        s.db = Some(db);
        s
    }

    /// On a fresh SQLite database, with the clock reading `at` from start-up on.
    pub async fn start_at(at: DateTime<Utc>) -> Server {
        let db = TestDb::sqlite();
        let config = test_config(&db.url);
        Server::start_at_with(at, db, config).await
    }

    /// As [`Server::start_at`], with a configuration of the caller's.
    pub async fn start_at_with(at: DateTime<Utc>, db: TestDb, config: Config) -> Server {
        let mut s = Server::start_clocked(&db.url, config, Clock::manual(at)).await;
        s.db = Some(db);
        s
    }

    /// On a database someone else owns (a second node on a shared PostgreSQL database).
    pub async fn start_on(url: &str, config: Config) -> Server {
        Server::start_clocked(url, config, Clock::manual(t0())).await
    }

    async fn start_clocked(url: &str, mut config: Config, clock: Clock) -> Server {
        config.db = url.to_string();
        let started = app::open(config, clock).await.expect("the server starts");
        for d in &started.deployed {
            assert!(d.result.is_ok(), "{}: {:?}", d.file, d.result);
        }
        let state = started.state;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(app::serve(state.clone(), listener, async move {
            let _ = stopped.await;
        }));
        Server {
            base: format!("http://{addr}"),
            state,
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .expect("client"),
            stop: Some(stop),
            handle: Some(handle),
            db: None,
        }
    }

    /// Stops the server (graceful shutdown) and removes its database.
    pub async fn stop(self) {
        if let Some(db) = self.shut_down().await {
            db.cleanup().await;
        }
    }

    /// Stops the server (graceful shutdown) and hands back its database.
    pub async fn shut_down(mut self) -> Option<TestDb> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.handle.take() {
            let _ = h.await;
        }
        self.db.take()
    }

    pub fn clock(&self) -> &Clock {
        &self.state.clock
    }

    /// One round of the timer at the clock's current instant.
    pub async fn tick(&self) -> timer::Round {
        timer::tick(&self.state).await
    }

    /// Makes an account with these grants (`role@office` or `role`) and returns an API token.
    pub async fn user(&self, login: &str, grants: &[&str]) -> String {
        self.user_with(login, grant_records(grants), None).await
    }

    /// As [`Server::user`], with the demo password, so that the account signs in on the pages.
    pub async fn person(&self, login: &str, grants: &[&str]) -> String {
        let password = reglament_server::demo::DEMO_PASSWORD;
        self.user_with(login, grant_records(grants), Some(password))
            .await
    }

    /// Starts a case of `regulation` by its `provider` channel at `office` with sample data;
    /// its id.
    pub async fn start_case(&self, token: &str, regulation: &str, office: &str) -> String {
        self.start_case_with(token, regulation, office, &serde_json::json!({}))
            .await
    }

    /// As [`Server::start_case`], with some of the sample data replaced (`{"full_name": …}`).
    pub async fn start_case_with(
        &self,
        token: &str,
        regulation: &str,
        office: &str,
        fields: &Value,
    ) -> String {
        let p = self.state.store.latest(regulation).await.expect("deployed");
        let form = &p.regulation.application_form.as_ref().expect("form").0;
        let mut data = reglament_model::sample::sample(form);
        if let (Some(d), Some(f)) = (data.as_object_mut(), fields.as_object()) {
            d.extend(f.clone());
        }
        let r = self
            .post(
                "/api/v1/cases",
                token,
                &serde_json::json!({"regulation": regulation, "channel": "provider",
                                    "office": office, "data": data}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.json["id"].as_str().expect("id").to_string()
    }

    /// The case's one open (or claimed) task as `token` reads it on the case.
    pub async fn open_task(&self, token: &str, case: &str) -> Value {
        let r = self.get(&format!("/api/v1/cases/{case}"), token).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .find(|t| t["status"] == "open" || t["status"] == "claimed")
            .cloned()
            .unwrap_or_else(|| panic!("no open task: {}", r.text))
    }

    /// Sample data for the form of `step` of `regulation` (an empty object without a form).
    pub async fn step_form(&self, regulation: &str, step: &str) -> Value {
        let p = self.state.store.latest(regulation).await.expect("deployed");
        let i = p.step_index(step).expect("the step");
        match p.step(i) {
            reglament_model::model::Step::Task(t) => t
                .form
                .as_ref()
                .map(|f| reglament_model::sample::sample(&f.0))
                .unwrap_or_else(|| serde_json::json!({})),
            _ => serde_json::json!({}),
        }
    }

    pub async fn user_with(
        &self,
        login: &str,
        grants: Vec<GrantRecord>,
        password_text: Option<&str>,
    ) -> String {
        let hash = match password_text {
            Some(p) => Some(
                password::hash(p.to_string(), password::Cost::Fast)
                    .await
                    .expect("hash"),
            ),
            None => None,
        };
        let user = NewUser {
            login: login.to_string(),
            display_name: login.to_string(),
            password_hash: hash,
            must_change_password: false,
            grants,
            created_by: "test".to_string(),
        };
        self.state
            .accounts
            .create_user(&user, t0())
            .await
            .expect("create user");
        self.token(login).await
    }

    /// A new API token for an existing account.
    pub async fn token(&self, login: &str) -> String {
        let token = secret::new_secret(secret::TOKEN_PREFIX).expect("random");
        let prefix: String = token.chars().take(12).collect();
        self.state
            .accounts
            .create_token(
                &secret::sha256_hex(&token),
                &prefix,
                login,
                "test",
                t0(),
                None,
            )
            .await
            .expect("create token");
        token
    }

    /// The demo accounts (as `--demo` makes them, without the demo cases), login → token.
    pub async fn demo_users(&self) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for (login, _, grants) in reglament_server::demo::accounts() {
            // `admin` exists already: the first start made it.
            let token = if self
                .state
                .accounts
                .user(&login)
                .await
                .expect("read")
                .is_some()
            {
                self.token(&login).await
            } else {
                self.user_with(&login, grants, None).await
            };
            out.insert(login, token);
        }
        out
    }

    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Resp {
        let mut req = self.client.request(
            reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
            format!("{}{path}", self.base),
        );
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        send(req).await
    }

    pub async fn get(&self, path: &str, token: &str) -> Resp {
        self.call("GET", path, Some(token), None).await
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Resp {
        self.call("POST", path, Some(token), Some(body)).await
    }
}

/// Grants as written on the command line (`role@office`, or `role` for every office).
pub fn grant_records(grants: &[&str]) -> Vec<GrantRecord> {
    grants
        .iter()
        .map(|g| {
            let (role, office) = g.split_once('@').unwrap_or((g, "*"));
            GrantRecord {
                role: role.to_string(),
                office: office.to_string(),
            }
        })
        .collect()
}

pub async fn send(req: reqwest::RequestBuilder) -> Resp {
    let r = req.send().await.expect("the server answers");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Resp {
        status,
        headers,
        text,
        json,
    }
}
