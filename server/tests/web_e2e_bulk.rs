//! End to end in a real headless browser (chromium over WebDriver, see `support::chrome`): a
//! head saves the office's executors' queue as a view, an executor chooses it from the list
//! (the page script submits the choice under the CSP), the head ticks two tasks in the inbox
//! and hands both to an executor in one form, the answer page says what became of each, and
//! the executor finds them handed to them in their inbox. Screens go to `output_dir()`.
//!
//! Without chromium and chromedriver the test says SKIPPED loudly; with `REGLAMENT_CI=1` it
//! fails instead.

mod support;

use serde_json::json;
use support::chrome::{CHROMEDRIVER, CHROMIUM, Chrome, output_dir, start_driver, tools_present};
use support::{Server, TestDb, ci, say, test_config};

const OFFICE: &str = "atyrau-city-ozsp";
const REGULATION: &str = "atyrau-social-assistance";

#[tokio::test]
async fn a_head_hands_two_tasks_to_an_executor_in_one_go() {
    if !tools_present() {
        assert!(
            !ci(),
            "REGLAMENT_CI=1 but {CHROMIUM} or {CHROMEDRIVER} is missing: the browser test must run in CI"
        );
        say(
            "SKIPPED: bulk actions end-to-end test (install the `chromium chromium-driver` packages)",
        );
        return;
    }
    let shots = output_dir();
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.demo = true;
    let s = Server::start_with(db, config).await;
    let clerk = s.token("atyrau-city.executor").await;
    let first = s.start_case(&clerk, REGULATION, OFFICE).await;
    let second = s.start_case(&clerk, REGULATION, OFFICE).await;
    let third = s.start_case(&clerk, REGULATION, OFFICE).await;
    s.person("atyrau-city.executor2", &[&format!("executor@{OFFICE}")])
        .await;
    let http = reqwest::Client::new();
    let driver = start_driver(&http).await;
    let b = Chrome::open(http, &driver, &s.base, &shots).await;

    // The head saves the executors' open tasks as a view of the office.
    b.sign_in("atyrau-city.head").await;
    b.go("/inbox?role=executor&status=open").await;
    b.click("details.save-view summary").await;
    b.type_into("#view-name", "Орындаушылар кезегі").await;
    b.click("#view-save").await;
    b.wait_url("notice=view_saved").await;
    assert!(b.text("#view-chosen").await.contains("Орындаушылар кезегі"));
    b.shot("bulk-01-view-saved").await;

    // Two tasks ticked, handed to the second executor in one form.
    for case in [&first, &second] {
        b.click(&format!("input[type=checkbox][value=\"{case}:1\"]"))
            .await;
    }
    b.set("to", "atyrau-city.executor2").await;
    b.shot("bulk-02-ticked").await;
    b.click("#bulk-reassign").await;
    b.wait_url("/inbox/bulk").await;
    assert_eq!(b.text("#bulk-done").await, "2");
    assert_eq!(b.text("#bulk-refused").await, "0");
    let answer = b.source().await;
    assert!(answer.contains(&format!("{first}:1")) && answer.contains(&format!("{second}:1")));
    assert!(
        !answer.contains(&format!("{third}:1")),
        "the third was not ticked"
    );
    b.shot("bulk-03-result").await;
    let violations = b.csp_violations().await;
    assert!(violations.is_empty(), "{violations:?}");

    // The executor chooses the office's view (the page script submits the choice) and finds
    // both tasks handed to them; the third is nobody's.
    b.sign_in("atyrau-city.executor2").await;
    b.go("/inbox").await;
    let id = s
        .get(
            &format!("/api/v1/offices/{OFFICE}/views"),
            &s.token("atyrau-city.executor2").await,
        )
        .await
        .json[0]["id"]
        .as_str()
        .expect("the saved view")
        .to_string();
    b.set("view", &id).await;
    b.call(
        "POST",
        "/execute/sync",
        Some(json!({
            "script": "document.getElementById('view').dispatchEvent(new Event('change'));",
            "args": []
        })),
    )
    .await;
    b.wait_url(&format!("view={id}")).await;
    for case in [&first, &second] {
        let assigned = b.text(&format!("[id=\"assigned-{case}:1\"]")).await;
        assert!(assigned.contains("atyrau-city.executor2"), "{assigned}");
    }
    assert!(
        b.try_find(&format!("[id=\"assigned-{third}:1\"]"))
            .await
            .is_none()
    );
    b.shot("bulk-04-executor-inbox").await;
    let violations = b.csp_violations().await;
    assert!(violations.is_empty(), "{violations:?}");

    // Each case has its own reassignment event, by the head.
    for case in [&first, &second] {
        let events = s.get(&format!("/api/v1/cases/{case}/events"), &clerk).await;
        let reassigned: Vec<_> = events.json["events"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["type"] == "task_reassigned")
            .map(|e| e["actor"]["user"].clone())
            .collect();
        assert_eq!(reassigned, vec![json!("atyrau-city.head")], "{case}");
    }
    b.close().await;
    s.stop().await;
}
