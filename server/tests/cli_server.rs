//! `reglament serve`, `reglament user …` and `reglament token …` as an operator runs them:
//! a first start that makes an administrator with a one-time password, `--demo`, accounts and
//! tokens made on the command line and used over HTTP, and SIGTERM stopping the server cleanly.

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

fn root() -> PathBuf {
    reglament_testkit::regulations_dir()
}

fn temp_data() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let d = std::env::temp_dir().join(format!("reglament-cli-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn reglament(args: &[&str], data: &Path, stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reglament"))
        .args(args)
        .arg("--data")
        .arg(data)
        .env_remove("REGLAMENT_DB")
        .env("REGLAMENT_REGULATIONS", root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run reglament");
    if let Some(text) = stdin {
        let _ = child
            .stdin
            .take()
            .expect("stdin")
            .write_all(text.as_bytes());
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A `reglament serve` process and the lines it printed.
struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    base: String,
}

impl Served {
    fn start(data: &Path, extra: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_reglament"))
            .arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data")
            .arg(data)
            .args(extra)
            .env_remove("REGLAMENT_DB")
            .env("REGLAMENT_REGULATIONS", root())
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start reglament serve");
        let (tx, rx) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().expect("stdout")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().expect("stderr")),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        let mut s = Served {
            child,
            lines: rx,
            seen: Vec::new(),
            base: String::new(),
        };
        let line = s.wait_for("Reglament is listening on ");
        let url = line
            .split("listening on ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .expect("address")
            .to_string();
        s.base = url;
        s
    }

    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(120);
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return l.clone();
        }
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        panic!("the server exited ({status}):\n{}", self.seen.join("\n"));
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        panic!("`{needle}` never came:\n{}", self.seen.join("\n"));
    }

    /// SIGTERM, then the exit status.
    fn terminate(mut self) -> (std::process::ExitStatus, Vec<String>) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(100)) {
                    self.seen.push(line);
                }
                return (status, self.seen);
            }
            assert!(
                Instant::now() < deadline,
                "the server did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn call(method: &str, url: &str, token: Option<&str>, body: Option<Value>) -> (u16, Value) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut req = client.request(
            reqwest::Method::from_bytes(method.as_bytes()).expect("m"),
            url,
        );
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.expect("answer");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    })
}

#[test]
fn a_first_start_makes_an_administrator_and_sigterm_stops_cleanly() {
    let data = temp_data();
    let mut s = Served::start(&data, &[]);
    let line = s.wait_for("one-time password");
    assert!(line.contains("`admin`"), "{line}");
    // The password is on a line of its own, indented (log lines on stderr may come between).
    let password = s
        .seen
        .iter()
        .skip_while(|l| !l.contains("one-time password"))
        .skip(1)
        .find(|l| l.starts_with("    ") && !l.trim().is_empty())
        .map(|l| l.trim().to_string())
        .expect("the password line");
    let (status, session) = call(
        "POST",
        &format!("{}/api/v1/session", s.base),
        None,
        Some(json!({"login": "admin", "password": password})),
    );
    assert_eq!(status, 201, "{session}");
    assert_eq!(session["must_change_password"], true);
    assert_eq!(session["roles"][0]["role"], "administrator");
    let (status, _) = call("GET", &format!("{}/healthz", s.base), None, None);
    assert_eq!(status, 200);
    let (exit, lines) = s.terminate();
    assert!(exit.success(), "{exit}: {}", lines.join("\n"));
    assert!(
        lines.iter().any(|l| l.contains("SIGTERM")),
        "{}",
        lines.join("\n")
    );
    assert!(
        lines.iter().any(|l| l.contains("stopped")),
        "{}",
        lines.join("\n")
    );
    // The log goes to a pipe here, as to a file or a journal: no colour codes in it.
    assert!(
        !lines.iter().any(|l| l.contains('\u{1b}')),
        "{}",
        lines.join("\n")
    );
    // A second start keeps the administrator and prints no password.
    let mut again = Served::start(&data, &[]);
    again.wait_for("store ready");
    let (exit, lines) = again.terminate();
    assert!(exit.success());
    assert!(!lines.iter().any(|l| l.contains("one-time password")));
    let _ = std::fs::remove_dir_all(&data);
}

/// `--fake-now` (for tests only) runs the server as if it were another day: on 15 February
/// 2027 ten months of decreed calendar are left, and the start-up log and `/healthz` warn.
#[test]
fn the_server_warns_when_less_than_a_year_of_decreed_calendar_is_left() {
    let data = temp_data();
    let mut s = Served::start(
        &data,
        &["--no-deploy", "--fake-now", "2027-02-15T10:00:00+05:00"],
    );
    let line = s.wait_for("month(s) of decreed calendar left");
    assert!(line.contains("WARN"), "{line}");
    assert!(
        line.contains("calendar `kz` is decreed to the end of 2027: 10 month(s)"),
        "{line}"
    );
    let (status, health) = call("GET", &format!("{}/healthz", s.base), None, None);
    assert_eq!(status, 200, "{health}");
    assert_eq!(health["status"], "ok");
    assert_eq!(health["calendars"][0]["decreed_months_left"], 10);
    assert!(
        health["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("10 month(s) of decreed calendar left")),
        "{health}"
    );
    let (exit, lines) = s.terminate();
    assert!(exit.success(), "{exit}: {}", lines.join("\n"));
    // The flag is for tests: `--help` does not offer it.
    let help = reglament(&["serve", "--help"], &data, None);
    assert!(!String::from_utf8_lossy(&help.stdout).contains("fake-now"));
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn accounts_and_tokens_from_the_command_line() {
    let data = temp_data();
    let out = reglament(
        &[
            "user",
            "add",
            "alice",
            "--role",
            "executor@atyrau-city-ozsp",
            "--role",
            "auditor",
            "--name",
            "Alice",
            "--password-stdin",
        ],
        &data,
        Some("alice-password-123\n"),
    );
    // A password with the login in it is refused (as any weak one).
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("login"), "{}", text(&out));
    let out = reglament(
        &[
            "user",
            "add",
            "alice",
            "--role",
            "executor@atyrau-city-ozsp",
            "--role",
            "auditor",
            "--name",
            "Alice",
            "--password-stdin",
        ],
        &data,
        Some("orchard by the river 7\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = reglament(
        &["user", "add", "bob", "--role", "auditor@atyrau-city-ozsp"],
        &data,
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("every office"), "{}", text(&out));
    let out = reglament(
        &["user", "add", "carol", "--role", "executor@nowhere-ozsp"],
        &data,
        None,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = reglament(
        &["user", "add", "dan", "--role", "head@atyrau-city-ozsp"],
        &data,
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("password (shown once"),
        "{}",
        text(&out)
    );
    let out = reglament(&["user", "list"], &data, None);
    let listed = text(&out);
    assert!(
        listed.contains("alice")
            && listed.contains("executor@atyrau-city-ozsp")
            && listed.contains("auditor@*"),
        "{listed}"
    );
    let out = reglament(&["user", "list", "--format", "json"], &data, None);
    let users: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(users.as_array().map(Vec::len), Some(2));
    let out = reglament(
        &[
            "token",
            "create",
            "--user",
            "alice",
            "--name",
            "portal-sync",
        ],
        &data,
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(token.starts_with("rgt_") && token.len() == 68, "{token}");
    let out = reglament(&["token", "create", "--user", "nobody"], &data, None);
    assert_eq!(out.status.code(), Some(2));

    let s = Served::start(&data, &["--no-deploy"]);
    let (status, me) = call("GET", &format!("{}/api/v1/me", s.base), Some(&token), None);
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["login"], "alice");
    let (status, session) = call(
        "POST",
        &format!("{}/api/v1/session", s.base),
        None,
        Some(json!({"login": "alice", "password": "orchard by the river 7"})),
    );
    assert_eq!(status, 201, "{session}");
    // An administrator chose it: Alice changes it before anything else.
    assert_eq!(session["must_change_password"], true);
    let (exit, _) = s.terminate();
    assert!(exit.success());

    let out = reglament(&["token", "list", "--user", "alice"], &data, None);
    let prefix = text(&out)
        .split('…')
        .next()
        .expect("prefix")
        .trim()
        .to_string();
    assert!(prefix.starts_with("rgt_"), "{}", text(&out));
    let out = reglament(&["token", "revoke", &prefix], &data, None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&reglament(&["token", "list"], &data, None)).contains("revoked"));
    let out = reglament(&["user", "disable", "alice"], &data, None);
    assert!(out.status.success());
    assert!(text(&reglament(&["user", "list"], &data, None)).contains("alice (disabled)"));
    let out = reglament(&["user", "password", "dan"], &data, None);
    assert!(
        text(&out).contains("password (shown once"),
        "{}",
        text(&out)
    );
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn the_demo_has_an_account_for_every_role_and_work_in_the_inboxes() {
    let data = temp_data();
    let mut s = Served::start(&data, &["--demo", "--demo-history-months", "0"]);
    let line = s.wait_for("Demo:");
    assert!(line.contains("31 new account(s)"), "{line}");
    for (login, role) in [
        ("atyrau-city.executor", "executor"),
        ("nko-kyzylzhar.registrar", "registrar"),
        ("portal", "portal"),
    ] {
        let (status, session) = call(
            "POST",
            &format!("{}/api/v1/session", s.base),
            None,
            Some(json!({"login": login, "password": reglament_server::demo::DEMO_PASSWORD})),
        );
        assert_eq!(status, 201, "{login}: {session}");
        let token = session["token"].as_str().expect("token");
        let (status, inbox) = call(
            "GET",
            &format!("{}/api/v1/inbox?role={role}", s.base),
            Some(token),
            None,
        );
        assert_eq!(status, 200);
        assert!(
            inbox["items"].as_array().is_some_and(|i| !i.is_empty()),
            "{login}'s inbox is empty: {inbox}"
        );
    }
    let (exit, _) = s.terminate();
    assert!(exit.success());
    // A second demo start adds nothing.
    let mut again = Served::start(&data, &["--demo", "--demo-history-months", "0"]);
    let line = again.wait_for("Demo:");
    assert!(line.contains("0 new account(s), 0 new case(s)"), "{line}");
    let _ = again.terminate();
    let _ = std::fs::remove_dir_all(&data);
}

/// A fresh database in the cluster named by `REGLAMENT_TEST_POSTGRES` and its URL; `None`
/// (said loudly) without one, a failure with `REGLAMENT_CI=1`.
fn postgres_database() -> Option<(String, String, String)> {
    let admin = match std::env::var("REGLAMENT_TEST_POSTGRES") {
        Ok(u) if !u.is_empty() => u,
        _ => {
            assert!(
                std::env::var("REGLAMENT_CI").as_deref() != Ok("1"),
                "REGLAMENT_CI=1 but REGLAMENT_TEST_POSTGRES is not set"
            );
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: two `reglament serve` processes on PostgreSQL (set REGLAMENT_TEST_POSTGRES)"
            );
            return None;
        }
    };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name = format!("reglament_cli_{}_{nanos}", std::process::id());
    raw_sql(&admin, &format!("CREATE DATABASE {name}"));
    let base = &admin[..admin.rfind('/').expect("a URL with a database")];
    Some((format!("{base}/{name}"), admin, name))
}

fn raw_sql(url: &str, sql: &str) {
    use reglament_store::{Store, StoreOptions};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let store = Store::open_with(
            url,
            StoreOptions {
                migrate: false,
                pool_size: 1,
                ..Default::default()
            },
        )
        .await
        .expect("the test PostgreSQL cluster is reachable");
        store.execute_raw(sql).await.expect(sql);
        store.close().await;
    });
}

/// Two `reglament serve` processes on one PostgreSQL database: both start (one migrates and
/// loads the demo, the other finds it done), a case changed through one is seen through the
/// other, and of two claims of one task sent at once, one to each process, exactly one wins.
#[test]
fn two_server_processes_share_one_postgres_database() {
    let Some((url, admin, name)) = postgres_database() else {
        return;
    };
    let (data_a, data_b) = (temp_data(), temp_data());
    let mut a = Served::start(
        &data_a,
        &["--db", &url, "--demo", "--demo-history-months", "0"],
    );
    a.wait_for("Demo:");
    let mut b = Served::start(&data_b, &["--db", &url]);
    b.wait_for("store ready");
    let out = reglament(
        &[
            "user",
            "add",
            "second.executor",
            "--role",
            "executor@atyrau-city-ozsp",
            "--db",
            &url,
        ],
        &data_b,
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let token = |login: &str| {
        let out = reglament(
            &["token", "create", "--user", login, "--db", &url],
            &data_a,
            None,
        );
        assert!(out.status.success(), "{}", text(&out));
        text(&out)
            .split_whitespace()
            .find(|w| w.starts_with("rgt_") && w.len() > 20)
            .expect("a token")
            .to_string()
    };
    let first = token("atyrau-city.executor");
    let second = token("second.executor");

    // The demo cases, loaded by A, are in B's inbox.
    let (status, inbox) = call(
        "GET",
        &format!("{}/api/v1/inbox?role=executor", b.base),
        Some(&second),
        None,
    );
    assert_eq!(status, 200, "{inbox}");
    let tasks: Vec<String> = inbox["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|t| t["id"].as_str().expect("id").to_string())
        .collect();
    assert!(!tasks.is_empty(), "{inbox}");

    for task in tasks.iter().take(3) {
        let claim = |base: String, token: String, task: String| {
            std::thread::spawn(move || {
                call(
                    "POST",
                    &format!("{base}/api/v1/tasks/{task}/claim"),
                    Some(&token),
                    None,
                )
            })
        };
        let ha = claim(a.base.clone(), first.clone(), task.clone());
        let hb = claim(b.base.clone(), second.clone(), task.clone());
        let (ra, rb) = (ha.join().expect("A"), hb.join().expect("B"));
        let statuses = [ra.0, rb.0];
        assert!(
            statuses.contains(&200) && statuses.contains(&409),
            "{task}: A {ra:?}, B {rb:?}"
        );
        let (winner, loser_answer) = if ra.0 == 200 {
            ("atyrau-city.executor", &rb.1)
        } else {
            ("second.executor", &ra.1)
        };
        assert_eq!(loser_answer["code"], "claimed-by-other", "{loser_answer}");
        // Both processes tell the same story.
        let case = task.rsplit_once(':').expect("case:task").0;
        for (node, token) in [(&a.base, &first), (&b.base, &second)] {
            let (status, events) = call(
                "GET",
                &format!("{node}/api/v1/cases/{case}/events"),
                Some(token),
                None,
            );
            assert_eq!(status, 200, "{events}");
            let claims: Vec<&Value> = events["events"]
                .as_array()
                .expect("events")
                .iter()
                .filter(|e| e["type"] == "task_claimed")
                .collect();
            assert_eq!(claims.len(), 1, "{node}: {events}");
            assert!(claims[0].to_string().contains(winner), "{node}: {events}");
        }
    }
    for s in [a, b] {
        let (exit, lines) = s.terminate();
        assert!(exit.success(), "{exit}: {}", lines.join("\n"));
    }
    raw_sql(
        &admin,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
    let _ = std::fs::remove_dir_all(&data_a);
    let _ = std::fs::remove_dir_all(&data_b);
}
