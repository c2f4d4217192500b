//! Operations and the remaining commands: health, metrics, the OpenAPI document, the timer
//! worker firing deadlines on its own, graceful shutdown with requests in flight, a head's
//! reassignment, an administrator's cancellation and account management.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Server, TestDb, send, test_config};

const A: &str = "atyrau-city-ozsp";
const REGULATION: &str = "atyrau-social-assistance";

async fn start_case(s: &Server, token: &str) -> String {
    let p = s.state.store.latest(REGULATION).await.expect("deployed");
    let data =
        reglament_model::sample::sample(&p.regulation.application_form.as_ref().expect("form").0);
    let r = s
        .post(
            "/api/v1/cases",
            token,
            &json!({"regulation": REGULATION, "channel": "provider", "office": A, "data": data}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json["id"].as_str().expect("id").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_metrics_and_the_openapi_document() {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.metrics_token = Some("ops-metrics-token-0123456789".into());
    let s = Server::start_with(db, config).await;
    let exec = s.user("exec", &[&format!("executor@{A}")]).await;
    let h = s.call("GET", "/healthz", None, None).await;
    assert_eq!((h.status, h.json["status"].as_str()), (200, Some("ok")));
    assert_eq!(h.json["database"], "sqlite");
    let case = start_case(&s, &exec).await;
    for _ in 0..3 {
        assert_eq!(s.get("/api/v1/inbox", &exec).await.status, 200);
    }
    s.get("/api/v1/cases/NOPE", &exec).await;
    s.clock().advance(chrono::Duration::hours(1));
    s.tick().await;
    let m = s.get("/metrics", "ops-metrics-token-0123456789").await;
    assert_eq!(m.status, 200);
    assert!(
        m.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain; version=0.0.4"))
    );
    for needle in [
        "reglament_http_requests_total{method=\"GET\",route=\"/api/v1/inbox\",status=\"200\"} 3",
        "reglament_http_requests_total{method=\"GET\",route=\"/api/v1/cases/{id}\",status=\"404\"} 1",
        "reglament_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/inbox\",le=\"+Inf\"} 3",
        "reglament_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/cases\"} 1",
        "reglament_open_tasks{status=\"open\"} 1",
        "reglament_breached_open_tasks 1",
        "reglament_deadline_breaches_total{target=\"task\"} 1",
        "reglament_timer_rounds_total 1",
    ] {
        assert!(
            m.text.contains(needle),
            "missing `{needle}` in:\n{}",
            m.text
        );
    }
    let _ = case;

    let doc = s.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(doc.status, 200);
    assert_eq!(doc.json["openapi"], "3.1.0");
    let paths = doc.json["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/api/v1/cases", "post"),
        ("/api/v1/cases/{id}", "get"),
        ("/api/v1/cases/{id}/events", "get"),
        ("/api/v1/cases/{id}/system-results", "post"),
        ("/api/v1/inbox", "get"),
        ("/api/v1/tasks/{id}/claim", "post"),
        ("/api/v1/tasks/{id}/release", "post"),
        ("/api/v1/tasks/{id}/complete", "post"),
        ("/api/v1/tasks/{id}/reassign", "post"),
        ("/api/v1/regulations", "get"),
        ("/api/v1/regulations", "post"),
        ("/api/v1/regulations/{id}", "get"),
        ("/api/v1/regulations/{id}/diagram.svg", "get"),
        ("/healthz", "get"),
        ("/metrics", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path}"
        );
    }
    let schemas = &doc.json["components"]["schemas"];
    assert!(schemas["Problem"]["properties"]["type"].is_object());
    assert!(schemas["CaseDto"].is_object() && schemas["InboxDto"].is_object());
    assert_eq!(
        doc.json["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // Every `$ref` in the document points at something it defines (a dangling one makes
    // client generators and schemathesis skip that parameter or body).
    fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                    out.push(r);
                }
                m.values().for_each(|x| refs(x, out));
            }
            Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc.json, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let pointer = r.strip_prefix('#').expect("a local reference");
        assert!(
            doc.json.pointer(pointer).is_some(),
            "the document refers to `{r}`, which it does not define"
        );
    }
    // Every documented error response is problem+json.
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("item") {
            for (status, resp) in op["responses"].as_object().expect("responses") {
                if status.starts_with('4') {
                    assert!(
                        resp["content"]["application/problem+json"].is_object(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timer_fires_deadlines_by_itself() {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.tick_interval = Some(Duration::from_millis(50));
    let s = Server::start_with(db, config).await;
    let exec = s.user("exec", &[&format!("executor@{A}")]).await;
    let case = start_case(&s, &exec).await;
    s.clock().advance(chrono::Duration::hours(2));
    let mut breached = false;
    for _ in 0..100 {
        let r = s.get(&format!("/api/v1/cases/{case}"), &exec).await;
        if r.json["tasks"][0]["breached"] == true {
            breached = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(breached, "the timer worker fired the task's deadline");
    let events = s.get(&format!("/api/v1/cases/{case}/events"), &exec).await;
    let breach = events.json["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["type"] == "deadline_breached")
        .cloned()
        .expect("a breach event");
    assert_eq!(breach["actor"]["user"], "reglament");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn shutdown_finishes_requests_in_flight_and_leaves_the_log_whole() {
    let db = TestDb::sqlite();
    let url = db.url.clone();
    let s = Server::start_with(db, test_config(&url)).await;
    let exec = s.user("exec", &[&format!("executor@{A}")]).await;
    let mut cases = Vec::new();
    for _ in 0..20 {
        cases.push(start_case(&s, &exec).await);
    }
    let base = s.base.clone();
    let client = s.client.clone();
    let mut requests = Vec::new();
    for c in &cases {
        let req = client
            .post(format!("{base}/api/v1/tasks/{c}:1/complete"))
            .bearer_auth(&exec)
            .json(&json!({"data": {}}));
        requests.push(tokio::spawn(async move { req.send().await }));
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
    let state = s.state.clone();
    let db = s.shut_down().await;
    let mut answered = 0;
    for r in requests {
        match r.await.expect("task") {
            Ok(resp) => {
                assert!(resp.status().as_u16() < 500, "{}", resp.status());
                answered += 1;
            }
            // Sent after the listener closed: refused, never half-done.
            Err(e) => assert!(e.is_connect() || e.is_request(), "{e}"),
        }
    }
    drop(state);
    let store = reglament_server::accounts::open_store(&url, Default::default())
        .await
        .expect("reopens");
    let report = store.verify_all().await.expect("verify");
    assert!(report.is_ok(), "{:?}", report.problems);
    assert!(report.cases >= 20);
    support::say(&format!(
        "api_ops: {answered}/20 completions answered before shutdown"
    ));
    store.close().await;
    drop(db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heads_reassign_and_administrators_cancel_and_manage_accounts() {
    let s = Server::start().await;
    let exec1 = s.user("exec1", &[&format!("executor@{A}")]).await;
    let exec2 = s.user("exec2", &[&format!("executor@{A}")]).await;
    s.user("far-away", &["executor@atyrau-zhylyoi-ozsp"]).await;
    let head = s.user("head", &[&format!("head@{A}")]).await;
    let admin = s.user("root", &["administrator"]).await;
    let case = start_case(&s, &exec1).await;
    let task = format!("{case}:1");
    let r = s
        .post(
            &format!("/api/v1/tasks/{task}/reassign"),
            &head,
            &json!({"user": "exec2"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let view = s.get(&format!("/api/v1/cases/{case}"), &head).await;
    assert_eq!(view.json["tasks"][0]["assigned_to"], "exec2");
    s.post(&format!("/api/v1/tasks/{task}/claim"), &exec1, &json!({}))
        .await
        .assert_problem(409, "assigned-to-other");
    assert_eq!(
        s.post(&format!("/api/v1/tasks/{task}/claim"), &exec2, &json!({}))
            .await
            .status,
        200
    );
    s.post(
        &format!("/api/v1/tasks/{task}/reassign"),
        &head,
        &json!({"user": "far-away"}),
    )
    .await
    .assert_problem(422, "user-cannot-take-task");
    // The head takes the claim back from someone who is away.
    let r = s
        .post(&format!("/api/v1/tasks/{task}/release"), &head, &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The administrator cancels a case registered in error.
    let r = s
        .post(
            &format!("/api/v1/cases/{case}/cancel"),
            &admin,
            &json!({"reason": "registered twice"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let view = s.get(&format!("/api/v1/cases/{case}"), &admin).await;
    assert_eq!(view.json["status"], "cancelled");
    assert_eq!(view.json["tasks"][0]["status"], "cancelled");
    s.post(&format!("/api/v1/tasks/{task}/claim"), &exec1, &json!({}))
        .await
        .assert_problem(409, "case-closed");

    // Accounts: create with a generated password, which must be changed.
    let r = s
        .post(
            "/api/v1/users",
            &admin,
            &json!({"login": "newbie", "roles": [{"role": "executor", "office": A}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let generated = r.json["generated_password"]
        .as_str()
        .expect("password")
        .to_string();
    assert_eq!(r.json["user"]["must_change_password"], true);
    let login = |password: String| {
        s.client
            .post(format!("{}/api/v1/session", s.base))
            .json(&json!({"login": "newbie", "password": password}))
    };
    let session = send(login(generated.clone())).await;
    assert_eq!(session.status, 201, "{}", session.text);
    assert_eq!(session.json["must_change_password"], true);
    let token = session.json["token"].as_str().expect("token").to_string();
    let r = s
        .call(
            "PUT",
            "/api/v1/me/password",
            Some(&token),
            Some(&json!({"current": generated, "new": "a new password of mine"})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let again = send(login("a new password of mine".into())).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.json["must_change_password"], false);
    s.post(
        "/api/v1/users",
        &admin,
        &json!({"login": "newbie", "roles": []}),
    )
    .await
    .assert_problem(409, "user-exists");
    s.post(
        "/api/v1/users",
        &admin,
        &json!({"login": "x", "roles": [{"role": "auditor", "office": A}]}),
    )
    .await
    .assert_problem(422, "bad-role");
    let users = s.get("/api/v1/users", &admin).await;
    let list: &Vec<Value> = users.json.as_array().expect("users");
    assert!(list.iter().any(|u| u["login"] == "newbie"));
    s.post("/api/v1/users/root/disable", &admin, &json!({}))
        .await
        .assert_problem(409, "cannot-disable-self");
    s.stop().await;
}
