//! Incidents end to end: a completion whose next condition cannot be evaluated (a division
//! by zero in the applicant's data) stands, and the case waits at the choice with an incident
//! instead of refusing the registrar's work; administrators see it (list, case, metrics,
//! health), a retry that fails again records nothing, a retry with corrected data takes the
//! path on, and the log still verifies and replays. The same through the web pages.

mod support;

use reglament_testkit::fixtures::{DIVIDING, LONG_REVIEW, OFFICE};
use serde_json::{Value, json};
use support::browser::Browser;
use support::{Resp, Server, TestDb, test_config};

const METRICS_TOKEN: &str = "incident-metrics-token-0123456789";

async fn server() -> Server {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.demo = true;
    config.metrics_token = Some(METRICS_TOKEN.into());
    Server::start_with(db, config).await
}

async fn deploy(s: &Server, analyst: &str, yaml: &str) {
    let r = support::send(
        s.client
            .post(format!("{}/api/v1/regulations", s.base))
            .bearer_auth(analyst)
            .header("content-type", "application/yaml")
            .body(yaml.to_string()),
    )
    .await;
    assert!(r.status == 201 || r.status == 200, "deploy: {}", r.text);
}

/// Registers a case of `regulation` and has the executor claim and complete its first task:
/// the case's id and the completion's answer.
async fn register_and_complete(
    s: &Server,
    executor: &str,
    regulation: &str,
    data: Value,
) -> (String, Resp) {
    let r = s
        .post(
            "/api/v1/cases",
            executor,
            &json!({"regulation": regulation, "channel": "provider", "office": OFFICE, "data": data}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    let task = format!("{id}:1");
    let r = s
        .post(&format!("/api/v1/tasks/{task}/claim"), executor, &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let done = s
        .post(
            &format!("/api/v1/tasks/{task}/complete"),
            executor,
            &json!({"data": {}}),
        )
        .await;
    (id, done)
}

/// Deploys `dividing`, registers a case whose family size is 0 and completes its
/// registration: the case's id.
async fn stuck_case(s: &Server, analyst: &str, executor: &str) -> String {
    deploy(s, analyst, DIVIDING).await;
    let (id, r) = register_and_complete(
        s,
        executor,
        "dividing",
        json!({"income": 150, "family_size": 0}),
    )
    .await;
    // The registrar's work stands: the fault is in the data the condition met.
    assert_eq!(r.status, 200, "{}", r.text);
    let kinds = types(&r.json["events"]);
    assert_eq!(kinds, ["task_completed", "incident_opened"], "{}", r.text);
    id
}

fn types(events: &Value) -> Vec<String> {
    events
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_condition_that_fails_opens_an_incident_an_administrator_retries() {
    let s = server().await;
    let tokens = s.demo_users().await;
    let (analyst, executor, admin) = (
        &tokens["analyst"],
        &tokens["atyrau-city.executor"],
        &tokens["admin"],
    );
    let id = stuck_case(&s, analyst, executor).await;

    // The case stays open and says why it waits.
    let case = s.get(&format!("/api/v1/cases/{id}"), admin).await;
    assert_eq!(case.status, 200, "{}", case.text);
    assert_eq!(case.json["status"], "open");
    let incident = &case.json["incidents"][0];
    assert_eq!(incident["incident"], 1);
    assert_eq!(incident["step"], "route");
    assert_eq!(incident["cause"], "condition-failed");
    assert!(incident["resolved_at"].is_null(), "{}", case.text);
    assert!(
        incident["message"]
            .as_str()
            .is_some_and(|m| m.to_lowercase().contains("division by zero")),
        "{}",
        case.text
    );

    // Administrators list it; others may not.
    let list = s.get("/api/v1/incidents", admin).await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(list.json["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(list.json["items"][0]["case"], id.as_str());
    assert!(list.json["next"].is_null());
    s.get("/api/v1/incidents", executor)
        .await
        .assert_problem(403, "not-allowed-to-list-incidents");
    let metrics = s.get("/metrics", METRICS_TOKEN).await;
    assert!(
        metrics.text.contains("reglament_incident_cases 1\n"),
        "{}",
        metrics.text
    );
    let health = s.call("GET", "/healthz", None, None).await;
    assert!(health.text.contains("incident"), "{}", health.text);

    // Only an administrator retries, with a reason.
    let retry = format!("/api/v1/cases/{id}/incidents/1/retry");
    s.post(&retry, executor, &json!({"reason": "fixed"}))
        .await
        .assert_problem(403, "not-allowed-to-retry");
    s.post(&retry, admin, &json!({"reason": "  "}))
        .await
        .assert_problem(422, "reason-required");
    s.post(
        &format!("/api/v1/cases/{id}/incidents/7/retry"),
        admin,
        &json!({"reason": "x"}),
    )
    .await
    .assert_problem(404, "no-such-incident");
    let head = s
        .state
        .store
        .head(&reglament_runtime::CaseId::new(&id))
        .await
        .expect("head");
    // Failing again records nothing: the data is still at fault.
    let again = s.post(&retry, admin, &json!({"reason": "try again"})).await;
    again.assert_problem(422, "condition-failed");
    // Corrections are checked against the application form.
    s.post(
        &retry,
        admin,
        &json!({"reason": "typo", "data": {"family_size": "two"}}),
    )
    .await
    .assert_problem(422, "invalid-data");
    s.post(&retry, admin, &json!({"reason": "typo", "data": [1]}))
        .await
        .assert_is_problem();
    assert_eq!(
        s.state
            .store
            .head(&reglament_runtime::CaseId::new(&id))
            .await
            .expect("head"),
        head,
        "refused retries wrote nothing"
    );

    // The applicant's papers say a family of one: 150 per person is not under 100.
    let done = s
        .post(
            &retry,
            admin,
            &json!({"reason": "the applicant's papers give a family of one", "data": {"family_size": 1}}),
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(
        types(&done.json["events"]),
        ["incident_resolved", "branch_taken", "case_ended"],
        "{}",
        done.text
    );
    let case = s.get(&format!("/api/v1/cases/{id}"), admin).await;
    assert_eq!(case.json["status"], "ended");
    assert_eq!(case.json["result"], "refused");
    assert_eq!(case.json["data"]["family_size"], 1);
    assert!(case.json["incidents"][0]["resolved_at"].is_string());
    // A second click changes nothing.
    let twice = s.post(&retry, admin, &json!({"reason": "again"})).await;
    assert_eq!(twice.status, 409, "{}", twice.text);
    let list = s.get("/api/v1/incidents", admin).await;
    assert_eq!(list.json["items"].as_array().map(Vec::len), Some(0));
    let metrics = s.get("/metrics", METRICS_TOKEN).await;
    assert!(metrics.text.contains("reglament_incident_cases 0\n"));

    // The chain holds, and the audit replays the new kinds of event.
    let events = s
        .get(&format!("/api/v1/cases/{id}/events?verify=true"), admin)
        .await;
    assert_eq!(events.status, 200, "{}", events.text);
    assert_eq!(events.json["chain"]["verified"], true, "{}", events.text);
    let replay = s.get(&format!("/api/v1/cases/{id}/replay"), admin).await;
    assert_eq!(replay.status, 200, "{}", replay.text);
    let rebuilt = s.state.store.rebuild().await.expect("rebuild");
    assert!(rebuilt.cases >= 1, "{rebuilt:?}");
    let status = s.state.store.status().await.expect("status");
    assert_eq!(status.incident_cases, 0);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administrators_retry_incidents_from_the_pages() {
    let s = server().await;
    let tokens = s.demo_users().await;
    let id = stuck_case(&s, &tokens["analyst"], &tokens["atyrau-city.executor"]).await;

    // The executor's case page shows the incident, without the form.
    let mut clerk = Browser::new(&s);
    clerk.sign_in("atyrau-city.executor").await;
    let page = clerk.get(&format!("/cases/{id}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("id=\"incident-1\""), "{}", page.body);
    assert!(!page.body.contains("/incidents/1/retry"));
    assert_eq!(clerk.get("/incidents").await.status, 403);

    let mut admin = Browser::new(&s);
    admin.sign_in("admin").await;
    for lang in ["kk", "ru", "en"] {
        let list = admin.get(&format!("/incidents?lang={lang}")).await;
        assert_eq!(list.status, 200, "{}", list.body);
        assert!(list.body.contains(&format!("/cases/{id}#incidents")));
        // The engine's English message is shown on the English page only.
        assert_eq!(
            list.body.contains("Division by zero"),
            lang == "en",
            "{lang}"
        );
    }
    let page = admin.get(&format!("/cases/{id}?lang=en")).await;
    assert!(page.body.contains("a condition could not be evaluated"));
    let csrf = page.csrf();
    let action = format!("/cases/{id}/incidents/1/retry");
    // Without a reason, or with corrections that are not an object: refused, nothing done.
    let r = admin
        .post(&action, &[("_csrf", &csrf), ("reason", ""), ("data", "")])
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = admin
        .post(
            &action,
            &[("_csrf", &csrf), ("reason", "typo"), ("data", "2")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = admin
        .post(
            &action,
            &[("_csrf", "forged"), ("reason", "typo"), ("data", "")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let fields = [
        ("_csrf", csrf.as_str()),
        ("reason", "papers checked"),
        ("data", r#"{"family_size": 3}"#),
    ];
    let r = admin.post(&action, &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/cases/{id}?notice=incident_retried").as_str())
    );
    // A double click lands on the same page, and the case went on once.
    let r = admin.post(&action, &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let case = s
        .get(&format!("/api/v1/cases/{id}"), &tokens["admin"])
        .await;
    assert_eq!(case.json["result"], "granted", "{}", case.text);
    let list = admin.get("/incidents?lang=en").await;
    assert!(list.body.contains("id=\"no-incidents\""), "{}", list.body);
    s.stop().await;
}

/// Near the end of the last calendar year the engine can count, a registration whose term fits
/// is taken, and the step after it, whose own time does not fit, waits with an incident
/// instead of refusing the registrar's completion; a retry before the calendar is extended
/// is refused and records nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_deadline_beyond_the_calendar_is_an_incident_not_a_refusal() {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.demo = true;
    let s = Server::start_at_with(support::t("2057-12-10T10:00:00+05:00"), db, config).await;
    let tokens = s.demo_users().await;
    let (analyst, executor, admin) = (
        &tokens["analyst"],
        &tokens["atyrau-city.executor"],
        &tokens["admin"],
    );
    deploy(&s, analyst, LONG_REVIEW).await;
    let (id, r) = register_and_complete(&s, executor, "long-review", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        types(&r.json["events"]),
        ["task_completed", "incident_opened"],
        "{}",
        r.text
    );
    let case = s.get(&format!("/api/v1/cases/{id}"), admin).await;
    assert_eq!(
        case.json["incidents"][0]["cause"], "beyond-calendar",
        "{}",
        case.text
    );
    assert_eq!(case.json["incidents"][0]["step"], "review");
    s.post(
        &format!("/api/v1/cases/{id}/incidents/1/retry"),
        admin,
        &json!({"reason": "tried before the calendar was extended"}),
    )
    .await
    .assert_problem(409, "beyond-calendar");
    let case = s.get(&format!("/api/v1/cases/{id}"), admin).await;
    assert!(case.json["incidents"][0]["resolved_at"].is_null());
    s.stop().await;
}

/// A case whose stored history was changed (its chain no longer verifies) is held when the
/// store loads it: no command is taken on it, callers get 409 without the details, and the
/// administrators' incident list names the case and the first bad event.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_whose_history_does_not_verify_is_held_not_grown() {
    let db = TestDb::sqlite();
    let url = db.url.clone();
    let mut config = test_config(&db.url);
    config.demo = true;
    let s = Server::start_with(db, config.clone()).await;
    let tokens = s.demo_users().await;
    let id = stuck_case(&s, &tokens["analyst"], &tokens["atyrau-city.executor"]).await;
    let db = s.shut_down().await.expect("db");

    // Someone with write access changes the application data and does not fix the chain.
    let pool = sqlx::SqlitePool::connect(&url).await.expect("open");
    sqlx::raw_sql(
        "DROP TRIGGER events_append_only_update; DROP TRIGGER events_append_only_delete;",
    )
    .execute(&pool)
    .await
    .expect("drop triggers");
    sqlx::query(
        "UPDATE events SET body = replace(body, '\"income\":150', '\"income\":15') \
         WHERE case_id = ? AND seq = 1",
    )
    .bind(&id)
    .execute(&pool)
    .await
    .expect("tamper");
    pool.close().await;

    let s = Server::start_with(db, config).await;
    let tokens = s.demo_users().await;
    let admin = &tokens["admin"];
    let r = s
        .post(
            &format!("/api/v1/cases/{id}/incidents/1/retry"),
            admin,
            &json!({"reason": "retry", "data": {"family_size": 1}}),
        )
        .await;
    r.assert_problem(409, "history-does-not-verify");
    assert!(
        !r.text.contains("income"),
        "no details for the caller: {}",
        r.text
    );
    let head = s
        .state
        .store
        .head(&reglament_runtime::CaseId::new(&id))
        .await
        .expect("head");
    assert_eq!(head, 5, "nothing was appended");
    let list = s.get("/api/v1/incidents", admin).await;
    assert_eq!(list.status, 200, "{}", list.text);
    let held = &list.json["held"][0];
    assert_eq!(held["case"], id.as_str(), "{}", list.text);
    assert_eq!(held["seq"], 1);
    assert_eq!(held["kind"], "changed");
    assert_eq!(held["office"], OFFICE);
    let other = s
        .get("/api/v1/incidents", &tokens["nko-petropavl.head"])
        .await;
    assert_eq!(other.status, 403);
    // Another office's staff cannot tell a held case from one that does not exist.
    s.get(
        &format!("/api/v1/cases/{id}"),
        &tokens["nko-petropavl.head"],
    )
    .await
    .assert_problem(404, "not-found");
    s.get(
        &format!("/api/v1/cases/{id}"),
        &tokens["atyrau-city.executor"],
    )
    .await
    .assert_problem(409, "history-does-not-verify");
    // The administrators' page lists it.
    let mut b = Browser::new(&s);
    b.sign_in("admin").await;
    let page = b.get("/incidents?lang=en").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Cases whose history does not verify"),
        "{}",
        page.body
    );
    assert!(page.body.contains(&id));
    s.stop().await;
}
