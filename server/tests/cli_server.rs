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
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../regulations")
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
    // The password is on a line of its own, indented.
    let password = s
        .seen
        .iter()
        .skip_while(|l| !l.contains("one-time password"))
        .skip(1)
        .find(|l| !l.trim().is_empty())
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
    // A second start keeps the administrator and prints no password.
    let mut again = Served::start(&data, &[]);
    again.wait_for("store ready");
    let (exit, lines) = again.terminate();
    assert!(exit.success());
    assert!(!lines.iter().any(|l| l.contains("one-time password")));
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
        Some(json!({"login": "alice", "password": "alice-password-123"})),
    );
    assert_eq!(status, 201, "{session}");
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
    let mut s = Served::start(&data, &["--demo"]);
    let line = s.wait_for("Demo:");
    assert!(line.contains("28 new account(s)"), "{line}");
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
    let mut again = Served::start(&data, &["--demo"]);
    let line = again.wait_for("Demo:");
    assert!(line.contains("0 new account(s), 0 new case(s)"), "{line}");
    let _ = again.terminate();
    let _ = std::fs::remove_dir_all(&data);
}
