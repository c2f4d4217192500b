//! Every class of error comes back as `application/problem+json` with type, title, status,
//! detail and code — 400, 401, 403, 404, 405, 409, 413, 415, 422, 429 — and bad input never
//! gives a 5xx. A throttled sign-in is a 429 problem with Retry-After.

mod support;

use serde_json::{Value, json};
use support::{Server, TestDb, send, test_config};

const OFFICE: &str = "atyrau-city-ozsp";
const REGULATION: &str = "atyrau-social-assistance";

async fn application(s: &Server) -> Value {
    let p = s.state.store.latest(REGULATION).await.expect("deployed");
    reglament_model::sample::sample(&p.regulation.application_form.as_ref().expect("form").0)
}

async fn start_case(s: &Server, token: &str) -> String {
    let r = s
        .post(
            "/api/v1/cases",
            token,
            &json!({"regulation": REGULATION, "channel": "provider", "office": OFFICE,
                    "data": application(s).await}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json["id"].as_str().expect("id").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_class_is_problem_json() {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.body_limit = 16 * 1024;
    let s = Server::start_with(db, config).await;
    let exec = s.user("exec", &["executor@atyrau-city-ozsp"]).await;
    let exec2 = s.user("exec2", &["executor@atyrau-city-ozsp"]).await;
    let head = s.user("head", &["head@atyrau-city-ozsp"]).await;
    let case = start_case(&s, &exec).await;
    let raw = |method: reqwest::Method, path: &str| {
        s.client
            .request(method, format!("{}{path}", s.base))
            .bearer_auth(&exec)
    };

    // 400: a body that is not JSON, a bad query, an unknown query parameter, a bad cursor.
    send(
        raw(reqwest::Method::POST, "/api/v1/cases")
            .header("content-type", "application/json")
            .body("{\"regulation\": "),
    )
    .await
    .assert_problem(400, "bad-json");
    s.get("/api/v1/inbox?limit=abc", &exec)
        .await
        .assert_problem(400, "bad-query");
    s.get("/api/v1/inbox?limit=0", &exec)
        .await
        .assert_problem(400, "bad-query");
    s.get("/api/v1/inbox?status=everything", &exec)
        .await
        .assert_problem(400, "bad-query");
    s.get("/api/v1/inbox?colour=red", &exec)
        .await
        .assert_problem(400, "bad-query");
    s.get("/api/v1/inbox?after=not-a-cursor", &exec)
        .await
        .assert_problem(400, "bad-cursor");

    // 401: no credential, an unknown token, a malformed header.
    s.call("GET", "/api/v1/inbox", None, None)
        .await
        .assert_problem(401, "unauthorized");
    let r = s
        .call("GET", "/api/v1/inbox", Some("rgt_nonsense"), None)
        .await;
    r.assert_problem(401, "unauthorized");
    assert!(
        r.header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer"))
    );
    send(
        s.client
            .get(format!("{}/api/v1/inbox", s.base))
            .header("authorization", "Basic YWxpY2U6c2VjcmV0"),
    )
    .await
    .assert_problem(401, "unauthorized");

    // 403: the task is for another role of the same office.
    s.post(&format!("/api/v1/tasks/{case}:1/claim"), &head, &json!({}))
        .await
        .assert_problem(403, "wrong-role");

    // 404: an unknown case, a task id that cannot be one, an unknown address, a regulation.
    s.get("/api/v1/cases/NO-SUCH-CASE", &exec)
        .await
        .assert_problem(404, "not-found");
    s.post("/api/v1/tasks/nonsense/claim", &exec, &json!({}))
        .await
        .assert_problem(404, "not-found");
    s.post(&format!("/api/v1/tasks/{case}:99/claim"), &exec, &json!({}))
        .await
        .assert_problem(404, "not-found");
    s.get("/api/v1/nowhere", &exec)
        .await
        .assert_problem(404, "not-found");
    s.get("/api/v1/regulations/no-such-regulation", &exec)
        .await
        .assert_problem(404, "not-found");

    // 405, with the methods that are allowed.
    let r = send(raw(reqwest::Method::PUT, "/api/v1/inbox")).await;
    r.assert_problem(405, "method-not-allowed");
    assert!(
        r.header("allow").is_some_and(|a| a.contains("GET")),
        "{:?}",
        r.headers
    );

    // 409: claimed by someone else; completed already.
    s.post(&format!("/api/v1/tasks/{case}:1/claim"), &exec, &json!({}))
        .await;
    let r = s
        .post(&format!("/api/v1/tasks/{case}:1/claim"), &exec2, &json!({}))
        .await;
    r.assert_problem(409, "claimed-by-other");
    assert_eq!(r.json["title"], "Claimed by someone else");
    let done = s
        .post(
            &format!("/api/v1/tasks/{case}:1/complete"),
            &exec,
            &json!({"data": {}}),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    s.post(
        &format!("/api/v1/tasks/{case}:1/complete"),
        &exec,
        &json!({"data": {}}),
    )
    .await
    .assert_problem(409, "task-not-open");

    // 413: a body over the limit, JSON or YAML.
    let big = json!({"regulation": REGULATION, "channel": "provider", "office": OFFICE,
                     "data": {"full_name": "x".repeat(40_000)}});
    s.post("/api/v1/cases", &exec, &big)
        .await
        .assert_problem(413, "body-too-large");
    let analyst = s.user("analyst1", &["analyst"]).await;
    send(
        s.client
            .post(format!("{}/api/v1/regulations", s.base))
            .bearer_auth(&analyst)
            .header("content-type", "application/yaml")
            .body("#".repeat(40_000)),
    )
    .await
    .assert_problem(413, "body-too-large");

    // 415: not JSON.
    send(
        raw(reqwest::Method::POST, "/api/v1/cases")
            .header("content-type", "text/plain")
            .body("regulation=x"),
    )
    .await
    .assert_problem(415, "unsupported-media-type");
    send(
        s.client
            .post(format!("{}/api/v1/regulations", s.base))
            .bearer_auth(&analyst)
            .header("content-type", "image/png")
            .body("x"),
    )
    .await
    .assert_problem(415, "unsupported-media-type");

    // 422: the application fails its form, with the failing fields.
    let r = s
        .post(
            "/api/v1/cases",
            &exec,
            &json!({"regulation": REGULATION, "channel": "provider", "office": OFFICE,
                    "data": {"iin": "12"}}),
        )
        .await;
    r.assert_problem(422, "invalid-data");
    let errors = r.json["errors"].as_array().expect("errors");
    assert!(
        errors.iter().all(|e| e["pointer"]
            .as_str()
            .is_some_and(|p| p.starts_with("/data"))),
        "{}",
        r.text
    );
    assert!(!errors.is_empty());
    // A body of the wrong shape, an unknown channel or office, an unknown outcome.
    s.post("/api/v1/cases", &exec, &json!({"regulation": 5}))
        .await
        .assert_problem(422, "invalid-body");
    s.post(
        "/api/v1/cases",
        &exec,
        &json!({"regulation": REGULATION, "channel": "fax", "office": OFFICE}),
    )
    .await
    .assert_problem(422, "unknown-channel");
    s.post(
        "/api/v1/cases",
        &exec,
        &json!({"regulation": REGULATION, "channel": "provider", "office": "atyrau-city"}),
    )
    .await
    .assert_problem(422, "unknown-office");
    s.post(
        "/api/v1/cases",
        &exec,
        &json!({"regulation": REGULATION, "channel": "provider", "office": "nko-petropavl-ozsp"}),
    )
    .await
    .assert_problem(422, "office-not-in-region");
    let r = s
        .post(
            &format!("/api/v1/tasks/{case}:2/complete"),
            &head,
            &json!({"outcome": "maybe"}),
        )
        .await;
    r.assert_problem(422, "no-outcome-expected");
    assert_eq!(r.json["errors"][0]["pointer"], "/outcome");

    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_sign_in_is_a_429_problem_with_retry_after() {
    let s = Server::start().await;
    s.user_with(
        "olga",
        vec![reglament_server::accounts::GrantRecord {
            role: "executor".into(),
            office: OFFICE.into(),
        }],
        Some("correct horse battery"),
    )
    .await;
    let sign_in = |login: &str, password: &str| {
        s.client
            .post(format!("{}/api/v1/session", s.base))
            .json(&json!({"login": login, "password": password}))
    };
    // Three failures cost nothing; then each further attempt waits (growing delays; the
    // whole policy is tested in api_security.rs).
    for _ in 0..3 {
        send(sign_in("olga", "wrong"))
            .await
            .assert_problem(401, "unauthorized");
    }
    let limited = send(sign_in("olga", "correct horse battery")).await;
    limited.assert_problem(429, "rate-limited");
    assert_eq!(limited.header("retry-after"), Some("1"));
    s.clock().advance(chrono::Duration::seconds(1));
    let ok = send(sign_in("olga", "correct horse battery")).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_need_csrf_for_changes_and_end_on_sign_out() {
    let s = Server::start().await;
    s.user_with(
        "aigul",
        vec![reglament_server::accounts::GrantRecord {
            role: "executor".into(),
            office: OFFICE.into(),
        }],
        Some("a long enough password"),
    )
    .await;
    let token = s.token("aigul").await;
    let case = start_case(&s, &token).await;
    let r = send(
        s.client
            .post(format!("{}/api/v1/session", s.base))
            .json(&json!({"login": "aigul", "password": "a long enough password"})),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let cookie = r.header("set-cookie").expect("cookie").to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let pair = cookie.split(';').next().expect("pair").to_string();
    let csrf = r.json["csrf_token"].as_str().expect("csrf").to_string();
    let session = r.json["token"].as_str().expect("token").to_string();
    let me = send(
        s.client
            .get(format!("{}/api/v1/me", s.base))
            .header("cookie", &pair),
    )
    .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json["auth"], "session");
    assert_eq!(me.json["csrf_token"], csrf.as_str());
    // A change under the cookie without the CSRF header is refused.
    let claim = format!("{}/api/v1/tasks/{case}:1/claim", s.base);
    send(s.client.post(&claim).header("cookie", &pair))
        .await
        .assert_problem(403, "csrf");
    send(
        s.client
            .post(&claim)
            .header("cookie", &pair)
            .header("x-csrf-token", "guess"),
    )
    .await
    .assert_problem(403, "csrf");
    let ok = send(
        s.client
            .post(&claim)
            .header("cookie", &pair)
            .header("x-csrf-token", &csrf),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    // The session token as a bearer needs no CSRF token.
    let release = s
        .post(
            &format!("/api/v1/tasks/{case}:1/release"),
            &session,
            &json!({}),
        )
        .await;
    assert_eq!(release.status, 200, "{}", release.text);
    // Signing out ends the session.
    let out = s
        .call("DELETE", "/api/v1/session", Some(&session), None)
        .await;
    assert_eq!(out.status, 204);
    s.get("/api/v1/me", &session)
        .await
        .assert_problem(401, "unauthorized");
    // A disabled account's token stops working.
    let admin = s.user("boss", &["administrator"]).await;
    let r = s
        .post("/api/v1/users/aigul/disable", &admin, &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    s.get("/api/v1/me", &token)
        .await
        .assert_problem(401, "unauthorized");
    s.stop().await;
}

/// Junk in every place a request can carry it, on every endpoint: never a 5xx.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_never_gives_a_server_error() {
    let s = Server::start().await;
    let exec = s.user("exec", &["executor@atyrau-city-ozsp"]).await;
    let admin = s.user("root", &["administrator", "analyst"]).await;
    let case = start_case(&s, &exec).await;
    let ids = [
        case.clone(),
        format!("{case}:1"),
        "%00".into(),
        "..%2F..%2Fetc".into(),
        "x".repeat(2000),
        "ф:1".into(),
        ":".into(),
        "a:-1".into(),
        "a:99999999999999999999".into(),
    ];
    let templates = [
        ("GET", "/api/v1/cases/{}"),
        ("GET", "/api/v1/cases/{}/events?verify=true"),
        ("POST", "/api/v1/cases/{}/system-results"),
        ("POST", "/api/v1/cases/{}/cancel"),
        ("POST", "/api/v1/tasks/{}/claim"),
        ("POST", "/api/v1/tasks/{}/release"),
        ("POST", "/api/v1/tasks/{}/complete"),
        ("POST", "/api/v1/tasks/{}/reassign"),
        ("GET", "/api/v1/regulations/{}"),
        (
            "GET",
            "/api/v1/regulations/{}/diagram.svg?channel=zz&lang=xx",
        ),
        ("POST", "/api/v1/users/{}/disable"),
    ];
    let bodies = [
        None,
        Some("null"),
        Some("[]"),
        Some("{}"),
        Some("{\"outcome\": 5, \"data\": \"x\"}"),
        Some("{\"step\": [], \"user\": {}}"),
        Some("{\"data\": {\"a\": 1e999}}"),
        Some("\u{feff}{}"),
        Some("{\"reason\": \"\", \"outcome\": \"\\u0000\"}"),
    ];
    let mut checked = 0;
    for (method, template) in templates {
        for id in &ids {
            for body in bodies {
                for token in [&exec, &admin] {
                    let mut req = s
                        .client
                        .request(
                            reqwest::Method::from_bytes(method.as_bytes()).expect("m"),
                            format!("{}{}", s.base, template.replace("{}", id)),
                        )
                        .bearer_auth(token);
                    if let Some(b) = body {
                        req = req.header("content-type", "application/json").body(b);
                    }
                    let r = send(req).await;
                    assert!(
                        r.status < 500,
                        "{method} {template} {id:.40} {body:?}: {}",
                        r.text
                    );
                    if r.status >= 400 {
                        r.assert_is_problem();
                    }
                    checked += 1;
                }
            }
        }
    }
    for query in [
        "limit=-1",
        "limit=201",
        "limit=99999999999",
        "overdue=maybe",
        "role=",
        "office=%FF",
        "after=1.2.3",
        "after=9223372036854775807.0.",
        "role=head&role=executor",
        "status=",
    ] {
        let r = s.get(&format!("/api/v1/inbox?{query}"), &exec).await;
        assert!(r.status < 500, "{query}: {}", r.text);
        checked += 1;
    }
    for body in ["", "id: x", "\u{0}", "steps: [", "- - -", "{\"source\": 5}"] {
        for ct in ["application/yaml", "application/json", "text/plain"] {
            let r = send(
                s.client
                    .post(format!("{}/api/v1/regulations", s.base))
                    .bearer_auth(&admin)
                    .header("content-type", ct)
                    .body(body),
            )
            .await;
            assert!(r.status < 500, "deploy {ct} {body:?}: {}", r.text);
            r.assert_is_problem();
            checked += 1;
        }
    }
    support::say(&format!("api_errors: {checked} junk requests, no 5xx"));
    s.stop().await;
}
