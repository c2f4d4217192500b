//! The outbox survives `kill -9`, through the `reglament` binary: a server that sends nothing
//! (`--no-notify`) records two notifying events of a case and is killed; a second server
//! finds the SMTP server and the webhook receiver failing, tries, and is killed; a third
//! delivers. Each notice then reached its receiver exactly once: one e-mail per e-mail
//! notice (by Message-ID, at the local aiosmtpd) and one accepted webhook delivery per
//! webhook notice (by Idempotency-Key). `reglament outbox` lists what was stuck, with the
//! attempts and the last error, and nothing at the end.

mod notify_common;
mod support;

use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify_common::{Receiver, SECRET, Smtp};
use serde_json::{Value, json};

const OFFICE: &str = "atyrau-city-ozsp";

fn temp_data() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let d = std::env::temp_dir().join(format!("reglament-notify-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

/// A `reglament serve` process.
struct Served {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    base: String,
}

impl Served {
    fn start(data: &Path, extra: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_reglament"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--demo",
                "--demo-history-months",
                "0",
                "--no-checkpoints",
            ])
            .args(["--tick-interval", "1h", "--notify-interval", "100ms"])
            .args(["--notify-backoff", "100ms", "--notify-backoff-max", "200ms"])
            .args(["--notify-lease", "1s"])
            .arg("--data")
            .arg(data)
            .args(extra)
            .env_remove("REGLAMENT_DB")
            .env_remove("REGLAMENT_SMTP_URL")
            .env(
                "REGLAMENT_REGULATIONS",
                reglament_testkit::regulations_dir(),
            )
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
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            match s.lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    if let Some(rest) = line.split("Reglament is listening on ").nth(1) {
                        s.base = rest.split_whitespace().next().expect("url").to_string();
                        return s;
                    }
                    s.seen.push(line);
                }
                Err(_) => {
                    if let Ok(Some(status)) = s.child.try_wait() {
                        panic!("the server exited ({status}):\n{}", s.seen.join("\n"));
                    }
                }
            }
        }
        panic!("the server did not start:\n{}", s.seen.join("\n"));
    }

    /// SIGKILL: no shutdown, no last round.
    fn kill_9(mut self) {
        self.child.kill().expect("kill -9");
        let _ = self.child.wait();
    }

    fn terminate(mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let status = self.child.wait().expect("exit");
        assert!(status.success(), "{status}");
    }
}

async fn call(
    client: &reqwest::Client,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
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
}

async fn sign_in(client: &reqwest::Client, base: &str, login: &str) -> String {
    let (status, session) = call(
        client,
        "POST",
        &format!("{base}/api/v1/session"),
        None,
        Some(json!({"login": login, "password": reglament_server::demo::DEMO_PASSWORD})),
    )
    .await;
    assert_eq!(status, 201, "{session}");
    session["token"].as_str().expect("token").to_string()
}

fn outbox(data: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_reglament"))
        .args(["outbox", "--stale", "0s", "--format", "json", "--data"])
        .arg(data)
        .env_remove("REGLAMENT_DB")
        .output()
        .expect("reglament outbox")
}

/// The notices of `case` (as an administrator sees them), polled until `done` holds.
async fn notices_until(
    client: &reqwest::Client,
    base: &str,
    admin: &str,
    case: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, n) = call(
            client,
            "GET",
            &format!("{base}/api/v1/cases/{case}/notices"),
            Some(admin),
            None,
        )
        .await;
        assert_eq!(status, 200, "{n}");
        let list = n.as_array().cloned().unwrap_or_default();
        if done(&list) {
            return list;
        }
        assert!(
            Instant::now() < deadline,
            "notices of {case} never got there: {n:#}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn start_case(client: &reqwest::Client, base: &str, token: &str) -> String {
    let (status, r) = call(
        client,
        "POST",
        &format!("{base}/api/v1/cases"),
        Some(token),
        Some(
            json!({"regulation": "register-review", "channel": "provider", "office": OFFICE,
                    "data": {"full_name": "Айгүл Серікова"}}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{r}");
    r["id"].as_str().expect("id").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_survives_kill_9_and_each_notice_is_delivered_once() {
    let Some(smtp) = Smtp::start() else {
        return;
    };
    let data = temp_data();
    let client = reqwest::Client::new();
    let (hook_url, receiver) = Receiver::start(0).await;
    receiver.failing.store(true, Ordering::SeqCst);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a port")
        .port();
    let dead_smtp = format!("smtp://127.0.0.1:{closed}");

    // 1. A server that sends nothing: settings, a subscriber, case A; then kill -9.
    let s = Served::start(&data, &["--no-notify"]);
    let admin = sign_in(&client, &s.base, "admin").await;
    let analyst = sign_in(&client, &s.base, "analyst").await;
    let executor = sign_in(&client, &s.base, "atyrau-city.executor").await;
    let r = client
        .post(format!("{}/api/v1/regulations", s.base))
        .bearer_auth(&analyst)
        .header("content-type", "application/yaml")
        .body(reglament_testkit::fixtures::REGISTER_REVIEW)
        .send()
        .await
        .expect("deploy");
    assert!(r.status().is_success(), "{}", r.status());
    let (status, body) = call(
        &client,
        "PUT",
        &format!("{}/api/v1/me/notifications", s.base),
        Some(&executor),
        Some(json!({"email": "executor@example.kz", "language": "ru", "choices": {"task": "now"}})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(
        &client,
        "POST",
        &format!("{}/api/v1/webhooks", s.base),
        Some(&admin),
        Some(
            json!({"id": "egov-portal", "url": hook_url, "secret": SECRET,
                    "events": ["registered"], "reason": "the e-gov portal hears of registrations"}),
        ),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let case_a = start_case(&client, &s.base, &executor).await;
    s.kill_9();
    let o = outbox(&data);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let report: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    assert!(
        report["outbox"]["waiting"].as_i64().expect("waiting") >= 2,
        "{report:#}"
    );

    // 2. Receivers that fail: attempts are made and recorded; case B too; then kill -9.
    let s = Served::start(&data, &["--smtp-url", &dead_smtp]);
    let admin = sign_in(&client, &s.base, "admin").await;
    let executor = sign_in(&client, &s.base, "atyrau-city.executor").await;
    let case_b = start_case(&client, &s.base, &executor).await;
    let tried = |n: &[Value]| n.len() == 2 && n.iter().all(|x| x["attempts"].as_i64() >= Some(1));
    for case in [&case_a, &case_b] {
        let n = notices_until(&client, &s.base, &admin, case, tried).await;
        assert!(
            n.iter()
                .all(|x| x["status"] == "pending" && x["last_error"].is_string()),
            "{n:?}"
        );
    }
    s.kill_9();
    let o = outbox(&data);
    assert_eq!(o.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&o.stdout).expect("JSON");
    let stuck = report["stuck"].as_array().expect("stuck");
    for case in [&case_a, &case_b] {
        assert_eq!(
            stuck.iter().filter(|n| n["case"] == case.as_str()).count(),
            2,
            "{report:#}"
        );
    }
    assert!(
        stuck.iter().any(|n| n["channel"] == "webhook"
            && n["last_error"].as_str().is_some_and(|e| e.contains("503"))),
        "{report:#}"
    );
    assert!(
        stuck
            .iter()
            .any(|n| n["channel"] == "email" && n["last_error"].is_string()),
        "{report:#}"
    );

    // 3. Receivers that work: everything arrives, once.
    receiver.failing.store(false, Ordering::SeqCst);
    let s = Served::start(&data, &["--smtp-url", &smtp.url()]);
    let admin = sign_in(&client, &s.base, "admin").await;
    let delivered = |n: &[Value]| n.len() == 2 && n.iter().all(|x| x["status"] == "delivered");
    for case in [&case_a, &case_b] {
        notices_until(&client, &s.base, &admin, case, delivered).await;
    }
    // Until nothing is stuck (the demo cases' notices too), then a few more rounds: nothing
    // is sent twice.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !outbox(&data).status.success() {
        assert!(
            Instant::now() < deadline,
            "{}",
            String::from_utf8_lossy(&outbox(&data).stdout)
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    s.terminate();
    // Every notice the servers made (the demo cases' too, dispatched once the executor had
    // an address and the portal a subscription), against what the receivers got.
    let pool =
        sqlx::SqlitePool::connect(&format!("sqlite:{}", data.join("reglament.db").display()))
            .await
            .expect("open the database");
    let all: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, channel, status FROM notices ORDER BY id")
            .fetch_all(&pool)
            .await
            .expect("notices");
    pool.close().await;
    let hits = receiver.hits();
    let mails = smtp.mails();
    assert!(all.len() >= 4, "{all:?}");
    for (id, channel, status) in &all {
        assert_eq!(status, "delivered", "{id}");
        match channel.as_str() {
            "webhook" => {
                let accepted = hits
                    .iter()
                    .filter(|h| &h.key == id && h.status == 200)
                    .count();
                assert_eq!(accepted, 1, "{id}: {hits:?}");
            }
            "email" => {
                let m = mails
                    .iter()
                    .filter(|m| m.message_id == format!("<{id}@reglament>"))
                    .count();
                assert_eq!(m, 1, "{id}: {mails:?}");
            }
            other => panic!("a channel {other:?}"),
        }
    }
    // Case B's webhook failed first and was delivered after the restart, under one key.
    let b_hook = hits
        .iter()
        .find(|h| h.body.contains(&case_b))
        .expect("case B's delivery");
    assert!(
        hits.iter().filter(|h| h.key == b_hook.key).count() >= 2,
        "{hits:?}"
    );
    let emails = all.iter().filter(|n| n.1 == "email").count();
    assert_eq!(mails.len(), emails, "{mails:?}");
    assert_eq!(
        hits.iter().filter(|h| h.status == 200).count(),
        all.len() - emails,
        "{hits:?}"
    );
    let o = outbox(&data);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    let _ = std::fs::remove_dir_all(&data);
}
