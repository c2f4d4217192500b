//! A change by hand with a second administrator's approval, in a real headless browser
//! (chromium over WebDriver; see `support::chrome`): an administrator moves a case past the
//! head's assignment straight to the review, sees the what-if, sends it for approval; a second
//! administrator approves it; the case is at the review and its history names both. Screens
//! are saved under `target/test-output/web/` (`intervention-*.png`).
//!
//! Without chromium and chromedriver the test says SKIPPED loudly; with `REGLAMENT_CI=1` it
//! fails instead.

mod support;

use serde_json::json;
use support::chrome::{CHROMEDRIVER, CHROMIUM, Chrome, output_dir, start_driver, tools_present};
use support::{Server, TestDb, ci, say, t, test_config};

#[tokio::test]
async fn two_administrators_skip_a_step_in_a_real_browser() {
    if !tools_present() {
        assert!(
            !ci(),
            "REGLAMENT_CI=1 but {CHROMIUM} or {CHROMEDRIVER} is missing: the browser test must run in CI"
        );
        say(
            "SKIPPED: intervention end-to-end test (install the `chromium chromium-driver` packages)",
        );
        return;
    }
    let shots = output_dir();
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.demo = true;
    let s = Server::start_at_with(t("2026-04-15T10:00:00+05:00"), db, config).await;
    s.person("admin2", &["administrator"]).await;
    let exec = s.token("atyrau-city.executor").await;
    let case = s
        .start_case(&exec, "atyrau-social-assistance", "atyrau-city-ozsp")
        .await;
    let r = s
        .post(
            &format!("/api/v1/tasks/{case}:1/complete"),
            &exec,
            &json!({"data": {}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let http = reqwest::Client::new();
    let driver = start_driver(&http).await;
    let b = Chrome::open(http, &driver, &s.base, &shots).await;

    b.sign_in("admin").await;
    b.go(&format!("/cases/{case}")).await;
    b.click("#intervene").await;
    b.wait_url("/intervene").await;
    b.click("#kind-move").await;
    b.set("step", "review").await;
    b.type_into("#reason", "the head's resolution was given on paper")
        .await;
    b.type_into("#legal_basis", "order No. 45-к, p. 3").await;
    b.shot("intervention-01-form").await;
    b.click("#iv-preview").await;
    b.find("#what-if").await;
    b.find("#needs-approval").await;
    let after = b.text("#tasks-after").await;
    assert!(after.contains("3 ·"), "the review would be task 3: {after}");
    b.shot("intervention-02-what-if").await;
    b.click("#iv-confirm").await;
    b.wait_url("notice=iv_proposed").await;
    let url = b.url().await;
    let path = url
        .split_once("/interventions/")
        .map(|(_, rest)| {
            format!(
                "/interventions/{}",
                rest.split('?').next().unwrap_or_default()
            )
        })
        .expect("the request's page");
    b.shot("intervention-03-waiting").await;
    // The case is unchanged until a second administrator approves.
    let r = s
        .get(&format!("/api/v1/cases/{case}"), &s.token("admin").await)
        .await;
    assert!(!r.text.contains("\"review\""), "{}", r.text);

    b.sign_in("admin2").await;
    b.go(&path).await;
    b.shot("intervention-04-approve").await;
    b.click("#iv-approve").await;
    b.wait_url("notice=iv_applied").await;
    let history = b.text(".history").await;
    assert!(
        history.contains("admin2") && history.contains("order No. 45-к, p. 3"),
        "{history}"
    );
    b.shot("intervention-05-case").await;
    let violations = b.csp_violations().await;
    assert!(violations.is_empty(), "{violations:?}");
    b.close().await;
    let events = s
        .get(
            &format!("/api/v1/cases/{case}/events"),
            &s.token("admin").await,
        )
        .await;
    let iv = events.json["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["type"] == "intervened")
        .expect("the intervention")
        .clone();
    assert_eq!(iv["actor"]["user"], "admin");
    assert_eq!(iv["event"]["approved_by"], "admin2");
    s.stop().await;
}
