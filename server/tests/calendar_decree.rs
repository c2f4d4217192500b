//! A calendar decree reaching running cases through the server: a case registered on Friday
//! 20 March 2026 in Atyrau is due on 8 April (10 working days after Nauryz). The server is
//! restarted with a `kz.yaml` that makes Wednesday 1 April a day off: its deployment pass moves
//! the case's term to 9 April with a `deadlines_rescheduled` event naming the day, the case page
//! shows it, and a second restart changes nothing.

mod support;

use std::path::Path;

use serde_json::{Value, json};
use support::browser::Browser;
use support::{Server, TestDb, t, test_config};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).expect("copy");
        }
    }
}

fn kinds(events: &Value) -> Vec<String> {
    events["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decree_deployed_at_restart_moves_the_running_case_once() {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.demo = true;
    let s = Server::start_at_with(t("2026-03-20T10:00:00+05:00"), db, config.clone()).await;
    let tokens = s.demo_users().await;
    let executor = tokens["atyrau-city.executor"].clone();
    let r = support::send(
        s.client
            .post(format!("{}/api/v1/regulations", s.base))
            .bearer_auth(&tokens["analyst"])
            .header("content-type", "application/yaml")
            .body(reglament_testkit::fixtures::REGISTER_REVIEW),
    )
    .await;
    assert!(r.status == 201 || r.status == 200, "deploy: {}", r.text);
    let r = s
        .post(
            "/api/v1/cases",
            &executor,
            &json!({"regulation": "register-review", "channel": "provider",
                    "office": "atyrau-city-ozsp", "data": {"full_name": "Айгүл Серікова"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    let case = s.get(&format!("/api/v1/cases/{id}"), &executor).await;
    assert_eq!(case.json["due"], "2026-04-08T13:00:00Z", "{}", case.text);

    // The decree: the regulations folder as deployed, with 1 April made a day off.
    let db = s.shut_down().await.expect("db");
    let dir = std::env::temp_dir().join(format!("reglament-decree-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&reglament_testkit::regulations_dir(), &dir);
    let kz = dir.join("calendars/kz.yaml");
    let text = std::fs::read_to_string(&kz).expect("kz.yaml");
    std::fs::write(
        &kz,
        text.replacen(
            "\ntransfers:\n",
            "\ntransfers:\n  - day_off: 2026-04-01\n    source: {act: Постановление (тест)}\n",
            1,
        ),
    )
    .expect("write");
    let mut decreed = config.clone();
    decreed.regulations = dir.clone();
    let s = Server::start_at_with(t("2026-03-25T12:00:00+05:00"), db, decreed.clone()).await;
    let tokens = s.demo_users().await;
    let executor = tokens["atyrau-city.executor"].clone();
    // What the timer does first when it starts.
    reglament_server::timer::follow_calendars(&s.state).await;
    let case = s.get(&format!("/api/v1/cases/{id}"), &executor).await;
    assert_eq!(case.json["due"], "2026-04-09T13:00:00Z", "{}", case.text);
    let events = s
        .get(&format!("/api/v1/cases/{id}/events"), &executor)
        .await;
    let k = kinds(&events.json);
    assert_eq!(
        k.last().map(String::as_str),
        Some("deadlines_rescheduled"),
        "{k:?}"
    );
    let last = events.json["events"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .expect("event");
    assert_eq!(last["event"]["days"], json!(["2026-04-01"]), "{last}");
    assert_eq!(last["event"]["moved"][0]["to"], "2026-04-09T13:00:00Z");
    // The case page tells the history in the reader's language.
    let mut b = Browser::new(&s);
    b.sign_in("atyrau-city.executor").await;
    let page = b.get(&format!("/cases/{id}?lang=ru")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Сроки пересчитаны по новому календарю"),
        "{}",
        page.body
    );
    assert!(page.body.contains("01.04.2026"), "{}", page.body);

    // Restarted again on the same calendar: nothing more is recorded.
    let db = s.shut_down().await.expect("db");
    let s = Server::start_at_with(t("2026-03-26T12:00:00+05:00"), db, decreed).await;
    reglament_server::timer::follow_calendars(&s.state).await;
    let tokens = s.demo_users().await;
    let events = s
        .get(
            &format!("/api/v1/cases/{id}/events"),
            &tokens["atyrau-city.executor"],
        )
        .await;
    assert_eq!(kinds(&events.json), k, "once only");
    s.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}
