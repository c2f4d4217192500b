//! The calendar's horizon through HTTP: past the last decreed year (2027) deadlines are
//! counted on provisional years generated from the rules of the law, and the API, the
//! receipt and the case page say so; `/healthz` and `/metrics` tell the operator how much
//! decreed calendar is left; a deadline beyond every calendar is a 409, never a 500.

mod support;

use reglament_model::sample::sample;
use reglament_runtime::CaseId;
use serde_json::{Value, json};
use support::{Server, TestDb, t, test_config};

const REGULATION: &str = "atyrau-child-benefit";
const OFFICE: &str = "atyrau-city-ozsp";
/// `/metrics` is served only to a bearer of this token (or on a separate address).
const METRICS_TOKEN: &str = "horizon-metrics-token-0123456789";

async fn start_case(s: &Server, token: &str) -> support::Resp {
    let process = s.state.store.latest(REGULATION).await.expect("deployed");
    let data = process
        .regulation
        .application_form
        .as_ref()
        .map(|f| sample(&f.0))
        .unwrap_or(json!({}));
    s.post(
        "/api/v1/cases",
        token,
        &json!({"regulation": REGULATION, "channel": "provider", "office": OFFICE, "data": data}),
    )
    .await
}

/// Claims and completes the case's open task at `step` as `token`'s user.
async fn complete(s: &Server, token: &str, case: &str, step: &str, data: Value) -> support::Resp {
    let view = s.get(&format!("/api/v1/cases/{case}"), token).await;
    let task = view.json["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["step"] == step && t["status"] == "open")
        .unwrap_or_else(|| panic!("no open task at {step}: {}", view.text))["id"]
        .as_str()
        .expect("id")
        .to_string();
    let r = s
        .post(&format!("/api/v1/tasks/{task}/claim"), token, &json!({}))
        .await;
    assert_eq!(r.status, 200, "claim {task}: {}", r.text);
    s.post(
        &format!("/api/v1/tasks/{task}/complete"),
        token,
        &json!({"data": data}),
    )
    .await
}

fn task_at<'a>(case: &'a Value, step: &str) -> &'a Value {
    case["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["step"] == step)
        .unwrap_or_else(|| panic!("no task at {step}: {case}"))
}

/// The clock set to Wednesday 1 March 2028, a provisional year: cases are registered, their
/// deadlines counted on the generated calendar, and every place that shows one says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_provisional_year_cases_are_registered_and_their_deadlines_say_so() {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.metrics_token = Some(METRICS_TOKEN.into());
    let s = Server::start_at_with(t("2028-03-01T10:00:00+05:00"), db, config).await;
    let tokens = s.demo_users().await;
    let executor = &tokens["atyrau-city.executor"];

    let health = s.call("GET", "/healthz", None, None).await;
    assert_eq!(health.status, 200, "{}", health.text);
    assert_eq!(health.json["status"], "ok");
    assert_eq!(health.json["calendars"][0]["calendar"], "kz");
    assert_eq!(health.json["calendars"][0]["provisional_now"], true);
    assert_eq!(health.json["calendars"][0]["decreed_months_left"], 0);
    let warning = health.json["warnings"][0].as_str().expect("a warning");
    assert!(
        warning.contains("decreed only to the end of 2027") && warning.contains("provisional"),
        "{warning}"
    );
    let metrics = s.get("/metrics", METRICS_TOKEN).await;
    assert_eq!(metrics.status, 200, "{}", metrics.text);
    assert!(
        metrics
            .text
            .contains("reglament_calendar_decreed_months_left{calendar=\"kz\"} 0\n"),
        "{}",
        metrics.text
    );
    assert!(
        metrics
            .text
            .contains("reglament_calendar_provisional{calendar=\"kz\"} 1\n")
    );

    let r = start_case(&s, executor).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    // 10 working days from Wed 1 March 2028: 8 March (Women's Day) and 15 March
    // (Constitution Day) are off, so 2, 3, 6, 7, 9, 10, 13, 14, 16, 17.
    assert_eq!(r.json["due"], "2028-03-17T13:00:00Z", "{}", r.text);
    assert_eq!(r.json["due_provisional"], true, "{}", r.text);
    let register = task_at(&r.json, "register");
    assert_eq!(register["due_provisional"], true);

    // The receipt and the case page say it, in the reader's language.
    for (lang, word) in [
        ("en", "provisional calendar"),
        ("ru", "предварительному календарю"),
        ("kk", "алдын ала күнтізбе"),
    ] {
        let receipt = s
            .get(&format!("/cases/{id}/receipt?lang={lang}"), executor)
            .await;
        assert_eq!(receipt.status, 200, "{}", receipt.text);
        assert!(
            receipt.text.contains("id=\"due-provisional\"") && receipt.text.contains(word),
            "{lang}: {}",
            receipt.text
        );
        let page = s.get(&format!("/cases/{id}?lang={lang}"), executor).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(
            page.text.contains("id=\"due-provisional\"") && page.text.contains(word),
            "{lang}: {}",
            page.text
        );
    }
    s.stop().await;
}

/// A case registered in December 2027 on the decreed calendar: a completion on 28 December
/// opens a task whose ten working days run into 2028. It succeeds, and only that deadline is
/// marked provisional.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completion_on_28_december_2027_counts_into_2028() {
    let s = Server::start_at(t("2027-12-01T10:00:00+05:00")).await;
    let tokens = s.demo_users().await;
    let executor = &tokens["atyrau-city.executor"];
    let head = &tokens["atyrau-city.head"];
    let health = s.call("GET", "/healthz", None, None).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json["calendars"][0]["decreed_months_left"], 1);
    assert!(
        health.json["warnings"][0]
            .as_str()
            .is_some_and(|w| w.contains("1 month(s) of decreed calendar left")),
        "{}",
        health.text
    );

    let r = start_case(&s, executor).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    assert_eq!(r.json["due_provisional"], false, "{}", r.text);

    s.clock().set(t("2027-12-28T10:00:00+05:00"));
    let done = complete(&s, executor, &id, "register", json!({})).await;
    assert_eq!(done.status, 200, "{}", done.text);
    let done = complete(&s, head, &id, "assign_executor", json!({})).await;
    assert_eq!(done.status, 200, "{}", done.text);
    let case = s.get(&format!("/api/v1/cases/{id}"), executor).await;
    let review = task_at(&case.json, "review");
    // 29, 30, 31 December; 1–4 January are off (New Year on the weekend, moved to Monday and
    // Tuesday); 5, 6; 7 January (Orthodox Christmas) is off; 10–14.
    assert_eq!(review["due"], "2028-01-14T13:00:00Z", "{}", case.text);
    assert_eq!(review["due_provisional"], true);
    assert_eq!(case.json["due_provisional"], false);

    // The timer lets the review's deadline pass on the provisional calendar.
    s.clock().set(t("2028-01-15T10:00:00+05:00"));
    let round = s.tick().await;
    assert_eq!(round.failed, 0, "{round:?}");
    let state = s
        .state
        .service
        .case_state(&CaseId::new(&id))
        .await
        .expect("state");
    assert!(state.tasks.iter().any(|t| t.breached), "{:?}", state.tasks);
    s.stop().await;
}

/// Past the last provisional year no deadline can be counted: the registration is refused
/// with a 409 problem that says why, and nothing is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_beyond_every_calendar_is_a_conflict_not_a_server_error() {
    let s = Server::start_at(t("2057-12-27T10:00:00+05:00")).await;
    let tokens = s.demo_users().await;
    let executor = &tokens["atyrau-city.executor"];
    let health = s.call("GET", "/healthz", None, None).await;
    assert_eq!(health.json["calendars"][0]["horizon_months_left"], 0);
    let r = start_case(&s, executor).await;
    r.assert_problem(409, "beyond-calendar");
    let detail = r.json["detail"].as_str().expect("detail");
    assert!(
        detail
            .contains("is beyond the calendar `kz`, which counts working time to the end of 2057"),
        "{detail}"
    );
    let status = s.state.store.status().await.expect("status");
    assert_eq!(status.cases, 0, "{status:?}");
    s.stop().await;
}
