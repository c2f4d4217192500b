//! Warnings before a breach, through the server: a regulation with `warnings: [50, 80]`, a
//! task of 15 working minutes opened at 12:50 on a Tuesday in Atyrau (lunch 13:00–14:00, due
//! 14:05): the timer warns at 12:57 and at 14:02, once each, also across a restart; the inbox
//! (API and page) shows the share passed; `/metrics` counts the warnings.

mod support;

use serde_json::{Value, json};
use support::browser::Browser;
use support::{Server, TestDb, t, test_config};

const METRICS_TOKEN: &str = "warnings-metrics-token-0123456789";

fn warned_review() -> String {
    reglament_testkit::fixtures::REGISTER_REVIEW
        .replace("id: register-review", "id: warned-review")
        .replace("\nsteps:\n", "\nwarnings: [50, 80]\nsteps:\n")
}

fn warnings(events: &Value) -> Vec<u64> {
    events
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "deadline_warned")
        .map(|e| e["event"]["percent"].as_u64().expect("percent"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warnings_come_once_each_at_their_share_of_working_time() {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.demo = true;
    config.metrics_token = Some(METRICS_TOKEN.into());
    let s = Server::start_at_with(t("2026-04-14T12:50:00+05:00"), db, config.clone()).await;
    let tokens = s.demo_users().await;
    let executor = &tokens["atyrau-city.executor"];
    let r = support::send(
        s.client
            .post(format!("{}/api/v1/regulations", s.base))
            .bearer_auth(&tokens["analyst"])
            .header("content-type", "application/yaml")
            .body(warned_review()),
    )
    .await;
    assert!(r.status == 201 || r.status == 200, "deploy: {}", r.text);
    let r = s
        .post(
            "/api/v1/cases",
            executor,
            &json!({"regulation": "warned-review", "channel": "provider",
                    "office": "atyrau-city-ozsp", "data": {"full_name": "Айгүл Серікова"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    let inbox_item = |inbox: &Value| {
        inbox["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|i| i["case"] == id.as_str())
            .cloned()
            .expect("the task is in the inbox")
    };
    let inbox = s.get("/api/v1/inbox?limit=200", executor).await;
    assert!(
        inbox_item(&inbox.json)["warning"].is_null(),
        "{}",
        inbox.text
    );

    s.clock().set(t("2026-04-14T12:56:59+05:00"));
    assert_eq!(s.tick().await.events, 0);
    s.clock().set(t("2026-04-14T12:58:00+05:00"));
    assert_eq!(s.tick().await.events, 1);
    let inbox = s.get("/api/v1/inbox?limit=200", executor).await;
    assert_eq!(inbox_item(&inbox.json)["warning"], 50, "{}", inbox.text);
    let mut b = Browser::new(&s);
    b.sign_in("atyrau-city.executor").await;
    let page = b.get("/inbox?lang=en").await;
    assert!(
        page.body
            .contains(&format!("<tr id=\"task-{id}:1\" class=\"warned\">")),
        "{}",
        page.body
    );
    assert!(page.body.contains("Warning: 50 %"));
    let metrics = s.get("/metrics", METRICS_TOKEN).await;
    assert!(
        metrics
            .text
            .contains("reglament_deadline_warnings_total 1\n"),
        "{}",
        metrics.text
    );

    // Restarted during lunch; at 14:03 only the 80 % warning is still to come.
    let db = s.shut_down().await.expect("db");
    let s = Server::start_at_with(t("2026-04-14T13:30:00+05:00"), db, config).await;
    let tokens = s.demo_users().await;
    let executor = &tokens["atyrau-city.executor"];
    let given = async |s: &Server| {
        let events = s.get(&format!("/api/v1/cases/{id}/events"), executor).await;
        warnings(&events.json["events"])
    };
    s.tick().await;
    assert_eq!(given(&s).await, [50]);
    s.clock().set(t("2026-04-14T14:03:00+05:00"));
    s.tick().await;
    s.tick().await;
    assert_eq!(given(&s).await, [50, 80], "once each");
    let inbox = s.get("/api/v1/inbox?limit=200", executor).await;
    assert_eq!(inbox_item(&inbox.json)["warning"], 80);
    // Overdue: late, no longer warned.
    s.clock().set(t("2026-04-14T14:06:00+05:00"));
    assert!(s.tick().await.breaches >= 1);
    let inbox = s.get("/api/v1/inbox?limit=200", executor).await;
    assert!(inbox_item(&inbox.json)["warning"].is_null());
    assert_eq!(inbox_item(&inbox.json)["overdue"], true);
    s.stop().await;
}
