//! A bounded load test of the HTTP server on loopback.
//!
//! ```sh
//! cargo run --release -p reglament-server --example load -- \
//!     [--clients 64] [--seconds 10] [--open 100000] [--warmup 2] [--db URL] [--server-threads 2]
//! ```
//!
//! It starts the real server (`app::open` + `app::serve`, the router and middleware of
//! `reglament serve`, default settings, SQLite in a temporary folder unless `--db` names one)
//! on a port of 127.0.0.1, on a runtime of its own, and then, from a second runtime in the same
//! process, over plain HTTP/1.1 connections with bearer tokens:
//!
//! 1. seeds `--open` cases through the engine (each with an open first task, in one office and
//!    role, due instants spread over a year): the open tasks an inbox has to sort;
//! 2. runs `--clients` workers for `--warmup` + `--seconds`; each owns one case of a small
//!    looping regulation and completes its open task, then the next one it opened, over and
//!    over (`POST /api/v1/tasks/{id}/complete`, one connection per worker);
//! 3. at the same time one more connection asks for the first inbox page of the office
//!    (`GET /api/v1/inbox?limit=50`, a user with the role of all those open tasks) as fast as
//!    it is answered.
//!
//! It prints completions per second with their latency (median, p99) and the inbox latency
//! (median, p99, max) under that load, then checks that every completion answered 200, that
//! the event log holds exactly the events the answers reported, and that the hash chains verify.
//! It exits non-zero if anything was refused or the log does not add up.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use futures_util::StreamExt as _;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use reglament_runtime::{Actor, CaseId, NewCase};
use reglament_server::accounts::{GrantRecord, NewUser};
use reglament_server::app;
use reglament_server::auth::secret;
use reglament_server::config::Config;
use reglament_server::state::AppState;
use reglament_server::timer::Clock;
use serde_json::{Value, json};

// The allocator of the `reglament` binary (server/src/main.rs), so the figures are its own.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use reglament_testkit::fixtures::REGISTER_REVIEW as REGULATION;

/// The open tasks the inbox sorts are here; the workers' cases too.
use reglament_testkit::fixtures::OFFICE;

struct Args {
    clients: usize,
    seconds: u64,
    warmup: u64,
    open: usize,
    db: Option<String>,
    server_threads: usize,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        clients: 64,
        seconds: 10,
        warmup: 2,
        open: 100_000,
        db: None,
        server_threads: 2,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{flag}: `{v}` is not a number"))
        };
        match flag.as_str() {
            "--clients" => a.clients = number(value()?)?.max(1) as usize,
            "--seconds" => a.seconds = number(value()?)?.max(1),
            "--warmup" => a.warmup = number(value()?)?,
            "--open" => a.open = number(value()?)? as usize,
            "--db" => a.db = Some(value()?),
            "--server-threads" => a.server_threads = number(value()?)?.max(1) as usize,
            "--bench" => {}
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(a)
}

/// Wednesday 15 April 2026, 10:00 in Atyrau: the server's (manual) clock.
fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-04-15T10:00:00+05:00")
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
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

fn main() -> std::process::ExitCode {
    let a = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(a.server_threads)
        .thread_name("server")
        .enable_all()
        .build()
        .expect("server runtime");
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("client")
        .enable_all()
        .build()
        .expect("client runtime");
    let dir = std::env::temp_dir().join(format!("reglament-load-{}", std::process::id()));
    let db =
        a.db.clone()
            .unwrap_or_else(|| format!("sqlite:{}", dir.join("reglament.db").display()));
    let setup = server_rt.block_on(setup(&a, &db));
    let (state, base, tokens) = match setup {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let listener = server_rt.block_on(tokio::net::TcpListener::bind(base));
    let listener = listener.expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("address");
    let served = server_rt.spawn(app::serve(state.clone(), listener, async move {
        let _ = stop_rx.await;
    }));
    let ok = client_rt.block_on(drive(&a, addr, &tokens, &state));
    let _ = stop_tx.send(());
    let _ = server_rt.block_on(served);
    drop(server_rt);
    let _ = std::fs::remove_dir_all(&dir);
    if ok {
        std::process::ExitCode::SUCCESS
    } else {
        std::process::ExitCode::FAILURE
    }
}

struct Tokens {
    /// One per worker (each worker is a user of its own, as clerks are).
    workers: Vec<String>,
    inbox: String,
}

/// Opens the server with default settings, deploys the load regulation, makes the users and
/// their tokens, and seeds the open tasks and the workers' cases through the engine.
async fn setup(a: &Args, db: &str) -> Result<(AppState, std::net::SocketAddr, Tokens), String> {
    let config = Config {
        listen: "127.0.0.1:0".parse().expect("address"),
        db: db.to_string(),
        regulations: reglament_testkit::regulations_dir(),
        deploy_bundled: false,
        // Nothing falls due on the manual clock; the timer would only add idle rounds.
        tick_interval: None,
        ..Config::default()
    };
    let started = app::open(config, Clock::manual(t0()))
        .await
        .map_err(|e| e.to_string())?;
    let state = started.state;
    let (_, process) = state
        .store
        .deploy(REGULATION, "load", t0())
        .await
        .map_err(|e| e.to_string())?;
    let user = |login: String| {
        let state = state.clone();
        async move {
            state
                .accounts
                .create_user(
                    &NewUser {
                        login: login.clone(),
                        display_name: login.clone(),
                        password_hash: None,
                        must_change_password: false,
                        grants: vec![GrantRecord {
                            role: "executor".into(),
                            office: OFFICE.into(),
                        }],
                        created_by: "load".into(),
                    },
                    t0(),
                )
                .await
                .map_err(|e| e.to_string())?;
            let token = secret::new_secret(secret::TOKEN_PREFIX).map_err(|e| e.to_string())?;
            let prefix: String = token.chars().take(secret::SHOWN_PREFIX_LEN).collect();
            state
                .accounts
                .create_token(
                    &secret::sha256_hex(&token),
                    &prefix,
                    &login,
                    "load",
                    t0(),
                    None,
                )
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(token)
        }
    };
    let mut workers = Vec::with_capacity(a.clients);
    for c in 0..a.clients {
        workers.push(user(format!("load.worker{c}")).await?);
    }
    let inbox = user("load.inbox".to_string()).await?;

    // The open tasks: cases started a minute apart over a year, in an order unrelated to
    // their ids, so their due instants are all different and the inbox really sorts.
    let t = Instant::now();
    let actor = Actor::new("load.seed", "executor");
    let open = a.open;
    let seeded = futures_util::stream::iter(0..open + a.clients)
        .map(|i| {
            let (state, process, actor) = (state.clone(), process.clone(), actor.clone());
            async move {
                let (case, at) = if i < open {
                    let minute = (i as i64 * 7919) % (365 * 24 * 60);
                    (format!("OPEN-{i}"), t0() - TimeDelta::minutes(minute))
                } else {
                    (format!("WORK-{}", i - open), t0())
                };
                state
                    .service
                    .start(
                        &process,
                        NewCase {
                            case: CaseId::new(case),
                            channel: "provider".into(),
                            office: OFFICE.into(),
                            data: json!({"full_name": format!("Applicant {i}")}),
                        },
                        &actor,
                        at,
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            }
        })
        .buffer_unordered(64)
        .fold(Ok(0usize), |acc, r| async move {
            acc.and_then(|n| r.map(|()| n + 1))
        })
        .await?;
    println!(
        "seeded      {seeded} cases through the engine in {:.1} s ({} open tasks to sort, {} worker cases), {}",
        t.elapsed().as_secs_f64(),
        open,
        a.clients,
        state.store.url()
    );
    Ok((
        state,
        "127.0.0.1:0".parse().expect("address"),
        Tokens { workers, inbox },
    ))
}

async fn connect(addr: std::net::SocketAddr) -> SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("HTTP/1.1 handshake");
    tokio::spawn(connection);
    sender
}

/// Sends one request, returns the status and the body.
async fn send(
    sender: &mut SendRequest<Full<Bytes>>,
    request: hyper::Request<Full<Bytes>>,
) -> (u16, Bytes) {
    sender.ready().await.expect("connection ready");
    let response = sender.send_request(request).await.expect("an answer");
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    (status, body)
}

struct WorkerReport {
    latencies: Vec<Duration>,
    events: u64,
    refused: Vec<(u16, String)>,
}

async fn drive(a: &Args, addr: std::net::SocketAddr, tokens: &Tokens, state: &AppState) -> bool {
    let before = match state.store.status().await {
        Ok(s) => s.events,
        Err(e) => {
            eprintln!("store status: {e}");
            return false;
        }
    };
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for (c, token) in tokens.workers.iter().enumerate() {
        let (stop, measuring, done) = (stop.clone(), measuring.clone(), done.clone());
        let auth = format!("Bearer {token}");
        workers.push(tokio::spawn(async move {
            let mut sender = connect(addr).await;
            let mut report = WorkerReport {
                latencies: Vec::with_capacity(1 << 14),
                events: 0,
                refused: Vec::new(),
            };
            let mut task = 1u32;
            while !stop.load(Ordering::Relaxed) {
                let body = if task == 1 {
                    json!({"data": {}})
                } else {
                    json!({"outcome": "again", "data": {"note": format!("w{c} t{task}")}})
                };
                let request = hyper::Request::post(format!(
                    "http://{addr}/api/v1/tasks/WORK-{c}:{task}/complete"
                ))
                .header("host", addr.to_string())
                .header("authorization", &auth)
                .header("content-type", "application/json")
                .body(Full::new(Bytes::from(body.to_string())))
                .expect("request");
                let t = Instant::now();
                let (status, body) = send(&mut sender, request).await;
                let took = t.elapsed();
                if status != 200 {
                    report
                        .refused
                        .push((status, String::from_utf8_lossy(&body).into_owned()));
                    break;
                }
                let answer: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                report.events += answer["events"].as_array().map_or(0, Vec::len) as u64;
                if measuring.load(Ordering::Relaxed) {
                    report.latencies.push(took);
                    done.fetch_add(1, Ordering::Relaxed);
                }
                task += 1;
            }
            report
        }));
    }
    let inbox = {
        let (stop, measuring) = (stop.clone(), measuring.clone());
        let auth = format!("Bearer {}", tokens.inbox);
        tokio::spawn(async move {
            let mut sender = connect(addr).await;
            let mut latencies = Vec::with_capacity(1 << 14);
            let mut wrong = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let request = hyper::Request::get(format!(
                    "http://{addr}/api/v1/inbox?limit=50&office={OFFICE}"
                ))
                .header("host", addr.to_string())
                .header("authorization", &auth)
                .body(Full::new(Bytes::new()))
                .expect("request");
                let t = Instant::now();
                let (status, body) = send(&mut sender, request).await;
                let took = t.elapsed();
                let page: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let items = page["items"].as_array().map_or(0, Vec::len);
                if status != 200 || items != 50 {
                    wrong.push(format!("{status} with {items} items"));
                    break;
                }
                if measuring.load(Ordering::Relaxed) {
                    latencies.push(took);
                }
            }
            (latencies, wrong)
        })
    };
    tokio::time::sleep(Duration::from_secs(a.warmup)).await;
    measuring.store(true, Ordering::Relaxed);
    let t = Instant::now();
    let cpu_before = process_cpu();
    tokio::time::sleep(Duration::from_secs(a.seconds)).await;
    measuring.store(false, Ordering::Relaxed);
    let n = done.load(Ordering::Relaxed);
    let secs = t.elapsed().as_secs_f64();
    let cpu = process_cpu() - cpu_before;
    stop.store(true, Ordering::Relaxed);

    let mut latencies = Vec::new();
    let mut events = 0u64;
    let mut refused = Vec::new();
    for w in workers {
        let r = w.await.expect("worker");
        latencies.extend(r.latencies);
        events += r.events;
        refused.extend(r.refused);
    }
    let (mut inbox_lat, inbox_wrong) = inbox.await.expect("inbox client");
    latencies.sort();
    inbox_lat.sort();
    println!(
        "complete    {} clients: {:.0} completions/s ({n} in {secs:.1} s), latency median {} p99 {}",
        a.clients,
        n as f64 / secs,
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
    );
    // On a shared machine the rate depends on what else runs; the CPU spent per completion
    // (server, client and the inbox reader: the whole process) does not, or much less.
    println!(
        "cpu         {:.3} ms of process CPU per completion ({:.2} of {} cores busy)",
        cpu * 1e3 / n.max(1) as f64,
        cpu / secs,
        std::thread::available_parallelism().map_or(1, |p| p.get()),
    );
    println!(
        "inbox       under that load, {} open tasks: {} pages of 50, latency median {} p99 {} max {}",
        a.open,
        inbox_lat.len(),
        ms(percentile(&inbox_lat, 0.5)),
        ms(percentile(&inbox_lat, 0.99)),
        ms(inbox_lat.last().copied().unwrap_or_default()),
    );
    let mut ok = true;
    for (status, body) in refused.iter().take(3) {
        eprintln!("refused: {status} {body}");
        ok = false;
    }
    for w in inbox_wrong.iter().take(3) {
        eprintln!("inbox answered {w}");
        ok = false;
    }
    // The log holds exactly what was answered: the events before the run plus the events
    // the completions reported, not one more or less.
    let status = match state.store.status().await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("store status: {e}");
            return false;
        }
    };
    let verified = state.store.verify_all().await.map(|r| r.is_ok());
    println!(
        "checked     events {} (cases {}), completions answered with {events} events; chains verify: {}",
        status.events,
        status.cases,
        match &verified {
            Ok(true) => "yes".to_string(),
            Ok(false) => "NO".to_string(),
            Err(e) => format!("error: {e}"),
        }
    );
    let seeded = (a.open + a.clients) as i64;
    if status.cases != seeded
        || status.events != before + events as i64
        || verified.as_ref().ok() != Some(&true)
    {
        eprintln!(
            "the log does not add up: {} cases (seeded {seeded}), {} events (expected {before} + {events})",
            status.cases, status.events
        );
        ok = false;
    }
    ok
}

/// CPU time (user + system) of the whole process so far, in seconds.
fn process_cpu() -> f64 {
    reglament_testkit::cpu::process_cpu().as_secs_f64()
}
