//! The API against an attacker (issue 12, "Security"): sign-in throttling that slows a
//! guesser without locking out the login's owner or the office behind the same address;
//! a password change that ends the other sessions and the tokens it names, with a minimum
//! strength; a password someone else set, changed before anything else; no oracle for other
//! offices' case ids; system results only for system steps; `/metrics` not public; length
//! limits on free text.

mod support;

use std::time::Duration;

use reglament_server::accounts::GrantRecord;
use reglament_server::app;
use reglament_server::timer::Clock;
use serde_json::{Value, json};
use support::{Resp, Server, TestDb, send, t0, test_config};

const NKO: &str = "nko-petropavl-ozsp";
const KYZ: &str = "nko-kyzylzhar-ozsp";
const REGULATION: &str = "nko-social-assistance";
const METRICS_TOKEN: &str = "metrics-token-for-tests-0123";

fn grant(role: &str, office: &str) -> Vec<GrantRecord> {
    vec![GrantRecord {
        role: role.into(),
        office: office.into(),
    }]
}

/// The value of cookie `name` among an answer's `Set-Cookie` headers.
fn set_cookie(r: &Resp, name: &str) -> Option<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|c| c.split(';').next())
        .filter_map(|c| c.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

async fn sign_in(s: &Server, login: &str, password: &str, device: Option<&str>) -> Resp {
    let mut req = s
        .client
        .post(format!("{}/api/v1/session", s.base))
        .json(&json!({"login": login, "password": password}));
    if let Some(d) = device {
        req = req.header("cookie", format!("reglament_device={d}"));
    }
    send(req).await
}

fn retry_after(r: &Resp) -> i64 {
    r.header("retry-after")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no Retry-After: {}", r.text))
}

async fn metrics(s: &Server) -> String {
    let r = send(
        s.client
            .get(format!("{}/metrics", s.base))
            .bearer_auth(METRICS_TOKEN),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.text
}

fn counter(text: &str, series: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no {series} in\n{text}"))
}

async fn server_with_metrics_token() -> Server {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.metrics_token = Some(METRICS_TOKEN.into());
    Server::start_with(db, config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_slows_a_guesser_but_not_the_owner_nor_the_office_behind_one_address() {
    let s = server_with_metrics_token().await;
    throttling(&s).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_password_changes_on_postgres_too() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let mut config = test_config(&db.url);
    config.metrics_token = Some(METRICS_TOKEN.into());
    let s = Server::start_with(db, config).await;
    throttling(&s).await;
    password_change(&s).await;
    // The purge keeps what throttling still needs and the devices still in use.
    let now = s.state.now();
    s.state
        .accounts
        .purge_accounts(
            now - chrono::Duration::days(1),
            now - chrono::Duration::days(180),
            now,
        )
        .await
        .expect("purge");
    s.stop().await;
}

async fn throttling(s: &Server) {
    let olga = "olga horse battery";
    let timur = "timur steppe wind";
    s.user_with("olga", grant("executor", NKO), Some(olga))
        .await;
    s.user_with("timur", grant("registrar", NKO), Some(timur))
        .await;
    // Olga signed in from her browser before: it holds a device cookie.
    let first = sign_in(s, "olga", olga, None).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let device = set_cookie(&first, "reglament_device").expect("a device cookie");
    assert!(device.starts_with("rgd_"));

    // Someone at the office's NAT address (every request here comes from 127.0.0.1)
    // guesses Olga's password, waiting as told each time; the waits grow.
    let mut failures = 0;
    let mut waits = Vec::new();
    while failures < 12 {
        let r = sign_in(s, "olga", "guess", None).await;
        match r.status {
            401 => failures += 1,
            429 => {
                r.assert_problem(429, "rate-limited");
                let w = retry_after(&r);
                waits.push(w);
                s.clock().advance(chrono::Duration::seconds(w));
            }
            other => panic!("{other}: {}", r.text),
        }
    }
    assert_eq!(waits.first(), Some(&1), "{waits:?}");
    assert!(waits.windows(2).all(|w| w[1] >= w[0]), "{waits:?}");
    assert!(waits.last().is_some_and(|w| *w >= 256), "{waits:?}");
    // … and sprays guesses over other logins from the same address.
    for i in 0..25 {
        sign_in(s, &format!("nobody-{i}"), "guess", None)
            .await
            .assert_problem(401, "unauthorized");
    }

    // The right password from a browser that never signed in to `olga` waits too: a
    // guesser learns nothing from the answer.
    let r = sign_in(s, "olga", olga, None).await;
    r.assert_problem(429, "rate-limited");
    assert!(retry_after(&r) >= 1);
    // Olga from her own browser gets in, at once, from the very same address.
    let r = sign_in(s, "olga", olga, Some(&device)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // So does Timur, another person of the office behind that address.
    let r = sign_in(s, "timur", timur, None).await;
    assert_eq!(r.status, 201, "{}", r.text);

    // A stolen or guessed device cookie gets its own few tries, then waits as well.
    for _ in 0..5 {
        sign_in(s, "olga", "guess", Some(&device))
            .await
            .assert_problem(401, "unauthorized");
    }
    sign_in(s, "olga", olga, Some(&device))
        .await
        .assert_problem(429, "rate-limited");

    // What was refused is counted, by what refused it.
    let text = metrics(s).await;
    assert!(counter(&text, "reglament_logins_total{result=\"throttled\"}") >= 10);
    assert!(
        counter(
            &text,
            "reglament_logins_throttled_total{reason=\"login_and_address\"}"
        ) >= 1
    );
    assert_eq!(
        counter(&text, "reglament_logins_throttled_total{reason=\"device\"}"),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_has_a_far_higher_ceiling_that_known_devices_pass() {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.throttle.per_address = 30;
    config.metrics_token = Some(METRICS_TOKEN.into());
    let s = Server::start_with(db, config).await;
    s.user_with("aliya", grant("head", NKO), Some("aliya horse battery"))
        .await;
    let device = set_cookie(
        &sign_in(&s, "aliya", "aliya horse battery", None).await,
        "reglament_device",
    )
    .expect("device");
    s.user_with("berik", grant("head", KYZ), Some("berik horse battery"))
        .await;
    // Thirty failures over thirty logins: no pair and no login waits, only the address.
    for i in 0..30 {
        sign_in(&s, &format!("spray-{i}"), "guess", None)
            .await
            .assert_problem(401, "unauthorized");
    }
    let r = sign_in(&s, "berik", "berik horse battery", None).await;
    r.assert_problem(429, "rate-limited");
    assert!(
        retry_after(&r) > 3000,
        "until the first spray leaves the hour"
    );
    let r = sign_in(&s, "aliya", "aliya horse battery", Some(&device)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    s.clock().advance(chrono::Duration::minutes(61));
    let r = sign_in(&s, "berik", "berik horse battery", None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let text = metrics(&s).await;
    assert_eq!(
        counter(
            &text,
            "reglament_logins_throttled_total{reason=\"address\"}"
        ),
        1
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_ends_the_other_sessions_and_the_tokens_it_names() {
    let s = Server::start().await;
    password_change(&s).await;
    s.stop().await;
}

async fn password_change(s: &Server) {
    let old = "aigul horse battery";
    let t0 = s
        .user_with("aigul", grant("executor", NKO), Some(old))
        .await;
    let t1 = s.token("aigul").await;
    let t2 = s.token("aigul").await;
    let other = s.user("someone", &[&format!("executor@{NKO}")]).await;
    let prefix = |t: &str| t.chars().take(12).collect::<String>();
    let here = sign_in(s, "aigul", old, None).await.json["token"]
        .as_str()
        .expect("session")
        .to_string();
    let elsewhere = sign_in(s, "aigul", old, None).await.json["token"]
        .as_str()
        .expect("session")
        .to_string();
    let change = async |body: Value| {
        s.call("PUT", "/api/v1/me/password", Some(&here), Some(&body))
            .await
    };

    // Too weak, for each reason; nothing changes.
    for (new, why) in [
        ("short", "at least 10"),
        ("1111111111111", "different characters"),
        ("Aigul-in-2026", "login"),
        ("qwertyuiop", "common"),
        ("1q2w3e4r5t", "common"),
    ] {
        let r = change(json!({"current": old, "new": new})).await;
        r.assert_problem(422, "weak-password");
        assert_eq!(r.json["errors"][0]["pointer"], "/new");
        assert!(
            r.json["detail"].as_str().is_some_and(|d| d.contains(why)),
            "{new}: {}",
            r.text
        );
    }
    // Someone else's token is not ours to name.
    change(
        json!({"current": old, "new": "steppe wind at dawn", "revoke_tokens": [prefix(&other)]}),
    )
    .await
    .assert_problem(422, "unknown-token");
    assert_eq!(s.get("/api/v1/me", &elsewhere).await.status, 200);
    change(json!({"current": "not it", "new": "steppe wind at dawn"}))
        .await
        .assert_problem(422, "wrong-password");

    let r = change(
        json!({"current": old, "new": "steppe wind at dawn", "revoke_tokens": [prefix(&t1)]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["sessions_ended"], 1);
    assert_eq!(r.json["tokens_revoked"], json!([prefix(&t1)]));
    // This session goes on; the other one and the named token are over; the rest stay.
    assert_eq!(s.get("/api/v1/me", &here).await.status, 200);
    s.get("/api/v1/me", &elsewhere)
        .await
        .assert_problem(401, "unauthorized");
    s.get("/api/v1/me", &t1)
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(s.get("/api/v1/me", &t2).await.status, 200);
    assert_eq!(s.get("/api/v1/me", &other).await.status, 200);
    sign_in(s, "aigul", old, None)
        .await
        .assert_problem(401, "unauthorized");
    assert_eq!(
        sign_in(s, "aigul", "steppe wind at dawn", None)
            .await
            .status,
        201
    );
    // `*` revokes every token of the account; a token may end itself.
    let r = s
        .call(
            "PUT",
            "/api/v1/me/password",
            Some(&t2),
            Some(&json!({"current": "steppe wind at dawn", "new": "river under ice", "revoke_tokens": ["*"]})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let mut revoked: Vec<&str> = r.json["tokens_revoked"]
        .as_array()
        .expect("list")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    revoked.sort();
    let mut live = vec![prefix(&t0), prefix(&t2)];
    live.sort();
    assert_eq!(revoked, live);
    assert_eq!(r.json["sessions_ended"], 2);
    for t in [&t0, &t2] {
        s.get("/api/v1/me", t)
            .await
            .assert_problem(401, "unauthorized");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_someone_else_set_must_be_changed_before_anything_else() {
    let s = Server::start().await;
    let admin = s.user("root", &["administrator"]).await;
    // The administrator chose it: still not the user's own.
    let r = s
        .post(
            "/api/v1/users",
            &admin,
            &json!({"login": "erlan", "password": "given by the admin",
                    "roles": [{"role": "executor", "office": NKO}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["user"]["must_change_password"], true);
    s.post(
        "/api/v1/users",
        &admin,
        &json!({"login": "weak", "password": "password123", "roles": []}),
    )
    .await
    .assert_problem(422, "weak-password");

    let session = sign_in(&s, "erlan", "given by the admin", None).await;
    assert_eq!(session.status, 201, "{}", session.text);
    assert_eq!(session.json["must_change_password"], true);
    let token = session.json["token"].as_str().expect("token").to_string();
    for path in ["/api/v1/inbox", "/api/v1/regulations", "/api/v1/cases/X"] {
        s.get(path, &token)
            .await
            .assert_problem(403, "password-change-required");
    }
    s.post(
        "/api/v1/cases",
        &token,
        &json!({"regulation": REGULATION, "channel": "provider", "office": NKO}),
    )
    .await
    .assert_problem(403, "password-change-required");
    // Who am I, and changing the password, stay open.
    let me = s.get("/api/v1/me", &token).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json["must_change_password"], true);
    let r = s
        .call(
            "PUT",
            "/api/v1/me/password",
            Some(&token),
            Some(&json!({"current": "given by the admin", "new": "my own steppe song"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(s.get("/api/v1/inbox", &token).await.status, 200);
    assert_eq!(
        s.get("/api/v1/me", &token).await.json["must_change_password"],
        false
    );
    // API tokens an administrator hands out are not held back by the flag.
    let r = s
        .post(
            "/api/v1/users",
            &admin,
            &json!({"login": "portal2", "roles": [{"role": "portal", "office": "*"}]}),
        )
        .await;
    assert_eq!(r.status, 201);
    let integration = s.token("portal2").await;
    assert_eq!(s.get("/api/v1/inbox", &integration).await.status, 200);
    s.stop().await;
}

async fn sample_data(s: &Server) -> Value {
    let p = s.state.store.latest(REGULATION).await.expect("deployed");
    reglament_model::sample::sample(&p.regulation.application_form.as_ref().expect("form").0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_id_of_another_offices_case_is_answered_as_any_other_id() {
    let s = Server::start().await;
    let here = s.user("reg-p", &[&format!("registrar@{NKO}")]).await;
    let there = s.user("reg-k", &[&format!("registrar@{KYZ}")]).await;
    let portal = s.user("portal", &["portal"]).await;
    let data = sample_data(&s).await;
    let start = async |token: &str, office: &str, channel: &str, id: Option<&str>| {
        let mut body =
            json!({"regulation": REGULATION, "channel": channel, "office": office, "data": data});
        if let Some(id) = id {
            body["id"] = json!(id);
        }
        s.post("/api/v1/cases", token, &body).await
    };
    let r = start(&here, NKO, "provider", None).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let taken = r.json["id"].as_str().expect("id").to_string();

    // The other office's clerk cannot tell a taken id from a free one.
    let a = start(&there, KYZ, "provider", Some(&taken)).await;
    let b = start(&there, KYZ, "provider", Some("FREE-ID-1")).await;
    a.assert_problem(403, "id-not-allowed");
    assert_eq!((a.status, &a.json), (b.status, &b.json));
    // Nor can a clerk of the case's own office (the rule does not look at the id at all).
    start(&here, NKO, "provider", Some(&taken))
        .await
        .assert_problem(403, "id-not-allowed");
    // An account that sees every office may choose ids: a taken one tells it nothing new.
    start(&portal, KYZ, "portal", Some(&taken))
        .await
        .assert_problem(409, "case-exists");
    let r = start(&portal, KYZ, "portal", Some("EGOV-2026-000001")).await;
    assert_eq!(r.status, 201, "{}", r.text);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_results_are_for_system_steps_by_their_system_role() {
    let s = Server::start().await;
    let clerk = s.user("reg-p", &[&format!("registrar@{NKO}")]).await;
    let portal = s.user("portal", &["portal"]).await;
    let data = sample_data(&s).await;
    // A clerk's case waits at `register`, a person's step.
    let r = s
        .post(
            "/api/v1/cases",
            &clerk,
            &json!({"regulation": REGULATION, "channel": "provider", "office": NKO, "data": data}),
        )
        .await;
    let by_clerk = r.json["id"].as_str().expect("id").to_string();
    let r = s
        .post(
            &format!("/api/v1/cases/{by_clerk}/system-results"),
            &clerk,
            &json!({"step": "register"}),
        )
        .await;
    r.assert_problem(422, "not-a-system-step");
    assert_eq!(r.json["errors"][0]["pointer"], "/step");
    // The task is untouched: still open, claimable.
    let task = s
        .post(
            &format!("/api/v1/tasks/{by_clerk}:1/claim"),
            &clerk,
            &json!({}),
        )
        .await;
    assert_eq!(task.status, 200, "{}", task.text);

    // A portal case waits at `portal_authorization`, the portal's (system) step.
    let r = s
        .post(
            "/api/v1/cases",
            &portal,
            &json!({"regulation": REGULATION, "channel": "portal", "office": NKO, "data": data}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let by_portal = r.json["id"].as_str().expect("id").to_string();
    let path = format!("/api/v1/cases/{by_portal}/system-results");
    s.post(
        &path,
        &clerk,
        &json!({"step": "portal_authorization", "outcome": "ok"}),
    )
    .await
    .assert_problem(403, "wrong-role");
    let r = s
        .post(
            &path,
            &portal,
            &json!({"step": "portal_authorization", "outcome": "ok"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_need_their_token_or_their_own_address() {
    // By default: not on the main address, whoever asks.
    let s = Server::start().await;
    let admin = s.user("root", &["administrator"]).await;
    s.call("GET", "/metrics", None, None)
        .await
        .assert_problem(404, "not-found");
    s.get("/metrics", &admin)
        .await
        .assert_problem(404, "not-found");
    let doc = s.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(
        doc.json["paths"]["/metrics"]["get"]["security"],
        json!([{"metrics": []}])
    );
    s.stop().await;

    // With a token: that token only.
    let s = server_with_metrics_token().await;
    let admin = s.user("root", &["administrator"]).await;
    s.call("GET", "/metrics", None, None)
        .await
        .assert_problem(401, "unauthorized");
    s.get("/metrics", &admin)
        .await
        .assert_problem(401, "unauthorized");
    assert!(metrics(&s).await.contains("reglament_http_requests_total"));
    s.stop().await;

    // On an address of its own: no token there, nothing on the main address.
    let db = TestDb::sqlite();
    let config = test_config(&db.url);
    let started = app::open(config, Clock::manual(t0()))
        .await
        .expect("starts");
    let main = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let side = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let (main_at, side_at) = (
        main.local_addr().expect("addr"),
        side.local_addr().expect("addr"),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app::serve_all(
        started.state,
        main,
        Some(side),
        async move {
            let _ = stopped.await;
        },
    ));
    let http = reqwest::Client::new();
    let r = send(http.get(format!("http://{side_at}/metrics"))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("reglament_logins_total"));
    assert!(r.header("content-security-policy").is_some());
    assert_eq!(
        send(http.get(format!("http://{side_at}/healthz")))
            .await
            .status,
        200
    );
    assert_eq!(
        send(http.get(format!("http://{side_at}/api/v1/inbox")))
            .await
            .status,
        404
    );
    send(http.get(format!("http://{main_at}/metrics")))
        .await
        .assert_problem(404, "not-found");
    let _ = stop.send(());
    tokio::time::timeout(Duration::from_secs(30), server)
        .await
        .expect("stops")
        .expect("joins")
        .expect("serves");
    drop(db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_text_has_a_length_limit() {
    let s = Server::start().await;
    let clerk = s.user("reg-p", &[&format!("registrar@{NKO}")]).await;
    let admin = s.user("root", &["administrator"]).await;
    let mut data = sample_data(&s).await;
    // `life_situation` has no maxLength of its own: 1,000 characters at most.
    data["life_situation"] = json!("ж".repeat(1001));
    let r = s
        .post(
            "/api/v1/cases",
            &clerk,
            &json!({"regulation": REGULATION, "channel": "provider", "office": NKO, "data": data}),
        )
        .await;
    r.assert_problem(422, "invalid-data");
    assert_eq!(r.json["errors"][0]["pointer"], "/data/life_situation");
    data["life_situation"] = json!("ж".repeat(1000));
    let r = s
        .post(
            "/api/v1/cases",
            &clerk,
            &json!({"regulation": REGULATION, "channel": "provider", "office": NKO, "data": data}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.json["id"].as_str().expect("id").to_string();
    let r = s
        .post(
            &format!("/api/v1/tasks/{case}:1/complete"),
            &clerk,
            &json!({"reason": "x".repeat(2001)}),
        )
        .await;
    r.assert_problem(422, "too-long");
    assert_eq!(r.json["errors"][0]["pointer"], "/reason");
    s.post(
        &format!("/api/v1/cases/{case}/cancel"),
        &admin,
        &json!({"reason": "x".repeat(2001)}),
    )
    .await
    .assert_problem(422, "too-long");
    s.post(
        "/api/v1/users",
        &admin,
        &json!({"login": "long", "display_name": "x".repeat(201), "roles": []}),
    )
    .await
    .assert_problem(422, "bad-display-name");
    s.stop().await;
}
