//! `GET /api/v1/cases/{id}/replay`: the audit of one case over HTTP — chain, projections,
//! deadlines recomputed, the timeline with working time against statutory time and the
//! breaches, the state at `?at=`; who may ask; problem+json for a bad `at` and an unknown
//! case; the endpoint and its response in the OpenAPI document.

mod support;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use support::{Server, t, t0};

const OFFICE: &str = "atyrau-city-ozsp";
const REGULATION: &str = "atyrau-social-assistance";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_auditor_replays_a_case_with_its_timeline_and_breaches() {
    let s = Server::start().await;
    let exec = s.user("exec", &[&format!("executor@{OFFICE}")]).await;
    let auditor = s.user("auditor", &["auditor"]).await;
    let elsewhere = s.user("exec-nko", &["executor@nko-petropavl-ozsp"]).await;
    let analyst = s.user("analyst", &["analyst"]).await;

    // Wednesday 15 April 2026, 10:00 in Atyrau: registered; the registration (15 minutes)
    // is handed in five minutes later; the head's assignment (15 minutes) is left undone.
    let p = s.state.store.latest(REGULATION).await.expect("deployed");
    let data =
        reglament_model::sample::sample(&p.regulation.application_form.as_ref().expect("form").0);
    // Chosen ids are for accounts that see every office (an intake system, here).
    let intake = s.user("intake", &["executor"]).await;
    let r = s
        .post(
            "/api/v1/cases",
            &intake,
            &json!({"regulation": REGULATION, "channel": "provider", "office": OFFICE,
                    "data": data, "id": "AUD-1"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    s.clock().set(t("2026-04-15T10:05:00+05:00"));
    let r = s
        .post("/api/v1/tasks/AUD-1:1/claim", &exec, &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .post(
            "/api/v1/tasks/AUD-1:1/complete",
            &exec,
            &json!({"data": {}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Two hours on, the timer has fired the assignment's deadline.
    s.clock().set(t("2026-04-15T12:00:00+05:00"));
    s.tick().await;

    let r = s.get("/api/v1/cases/AUD-1/replay", &auditor).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let j = &r.json;
    assert_eq!(j["case"], "AUD-1");
    assert_eq!(j["regulation"]["id"], REGULATION);
    assert_eq!(j["office"], OFFICE);
    assert_eq!(j["chain"]["intact"], true, "{}", r.text);
    assert_eq!(j["projections"]["matches"], true, "{}", r.text);
    assert_eq!(j["deadlines"]["recomputed"], true);
    assert_eq!(j["deadlines"]["mismatches"], json!([]));
    assert_eq!(j["status"], "open");
    assert_eq!(j["as_of"], "2026-04-15T07:00:00Z");
    let timeline = j["timeline"].as_array().expect("timeline");
    assert_eq!(timeline.len(), 2, "{}", r.text);
    let register = &timeline[0];
    assert_eq!(register["step"], "register");
    assert_eq!(register["closed_by"], "exec");
    assert_eq!(register["working_minutes"], 5);
    assert_eq!(register["statutory"], "15 minutes");
    assert_eq!(register["breached"], false);
    let assign = &timeline[1];
    assert_eq!(assign["step"], "assign_executor");
    assert_eq!(assign["status"], "open");
    assert_eq!(assign["statutory"], "15 minutes");
    assert_eq!(assign["due"], "2026-04-15T05:20:00Z");
    assert_eq!(
        (&assign["breached"], &assign["breach_recorded"]),
        (&json!(true), &json!(true))
    );
    // 10:05 to 12:00: 115 working minutes so far.
    assert_eq!(assign["working_minutes"], 115);
    assert_eq!(j["state_at"], Value::Null);
    let events = j["events"].as_u64().expect("events");
    assert_eq!(j["log"].as_array().map(Vec::len), Some(events as usize));

    // The state at an instant: at 10:02 the registration was still open.
    let r = s
        .get(
            "/api/v1/cases/AUD-1/replay?at=2026-04-15T10:02:00%2B05:00",
            &auditor,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let at = &r.json["state_at"];
    assert_eq!(at["status"], "open");
    assert_eq!(at["open_tasks"][0]["step"], "register");
    assert_eq!(at["open_tasks"].as_array().map(Vec::len), Some(1));
    assert!(at["events"].as_u64().expect("events") < events);
    // A date is its start in Kazakhstan time: before the case.
    let r = s
        .get("/api/v1/cases/AUD-1/replay?at=2026-04-14", &auditor)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["state_at"]["status"], "not started");

    // The office's own staff may ask too; others are told there is no such case.
    let r = s.get("/api/v1/cases/AUD-1/replay", &exec).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["timeline"], j["timeline"]);
    s.get("/api/v1/cases/AUD-1/replay", &elsewhere)
        .await
        .assert_problem(404, "not-found");
    s.get("/api/v1/cases/AUD-1/replay", &analyst)
        .await
        .assert_problem(404, "not-found");
    let r = s
        .call("GET", "/api/v1/cases/AUD-1/replay", None, None)
        .await;
    assert_eq!(r.status, 401, "{}", r.text);
    r.assert_is_problem();

    // Bad input: 4xx problems, never a 5xx.
    let r = s
        .get("/api/v1/cases/AUD-1/replay?at=yesterday", &auditor)
        .await;
    r.assert_problem(400, "bad-instant");
    assert!(
        r.json["detail"]
            .as_str()
            .is_some_and(|d| d.contains("yesterday")),
        "{}",
        r.text
    );
    assert_eq!(r.json["errors"][0]["pointer"], "at");
    s.get("/api/v1/cases/AUD-1/replay?at=2026-02-30", &auditor)
        .await
        .assert_problem(400, "bad-instant");
    s.get("/api/v1/cases/AUD-1/replay?since=2026-04-14", &auditor)
        .await
        .assert_problem(400, "bad-query");
    s.get("/api/v1/cases/NO-SUCH-CASE/replay", &auditor)
        .await
        .assert_problem(404, "not-found");
    s.get("/api/v1/cases/-x/replay", &auditor)
        .await
        .assert_problem(404, "not-found");
    s.stop().await;
}

/// The endpoint is in the OpenAPI document with its parameters and errors, and the schema of
/// its response names exactly the members the response has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_replay_is_described_in_the_openapi_document() {
    let s = Server::start().await;
    let auditor = s.user("auditor", &["auditor"]).await;
    let p = s.state.store.latest(REGULATION).await.expect("deployed");
    let data =
        reglament_model::sample::sample(&p.regulation.application_form.as_ref().expect("form").0);
    let intake = s.user("intake", &["executor"]).await;
    let r = s
        .post(
            "/api/v1/cases",
            &intake,
            &json!({"regulation": REGULATION, "channel": "provider", "office": OFFICE,
                    "data": data, "id": "AUD-2"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    s.clock().set(t0() + chrono::Duration::minutes(30));

    let doc = s.call("GET", "/api/v1/openapi.json", None, None).await.json;
    let op = &doc["paths"]["/api/v1/cases/{id}/replay"]["get"];
    assert!(op.is_object(), "the path is documented");
    let params: BTreeSet<&str> = op["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(params, BTreeSet::from(["id", "at"]));
    for status in ["200", "400", "401", "404", "409"] {
        assert!(op["responses"][status].is_object(), "{status} documented");
    }
    assert!(op["responses"]["404"]["content"]["application/problem+json"].is_object());
    let schema = &doc["components"]["schemas"]["Replay"];
    let documented: BTreeSet<&str> = schema["properties"]
        .as_object()
        .expect("the Replay schema")
        .keys()
        .map(String::as_str)
        .collect();

    let r = s
        .get("/api/v1/cases/AUD-2/replay?at=2026-04-15", &auditor)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let actual: BTreeSet<&str> = r
        .json
        .as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(documented, actual);
    let step = &doc["components"]["schemas"]["ReplayTimelineStep"]["properties"];
    let documented: BTreeSet<&str> = step
        .as_object()
        .expect("the timeline step schema")
        .keys()
        .map(String::as_str)
        .collect();
    let actual: BTreeSet<&str> = r.json["timeline"][0]
        .as_object()
        .expect("a step")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(documented, actual);
    s.stop().await;
}
