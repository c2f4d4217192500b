//! A deputy's day in a real headless browser (chromium over WebDriver; see
//! `support::chrome`): the head of the Atyrau city office records on `/deputies` that the
//! Zhylyoi office's executor acts for the city's executor by order № 45-к; the deputy signs in,
//! finds the task the city's executor had claimed in their own inbox, takes it over and
//! finishes it; the case's history says for whom. Screens are saved under
//! `target/test-output/web/`.
//!
//! Without chromium and chromedriver the test says SKIPPED loudly; with `REGLAMENT_CI=1` it
//! fails instead.

mod support;

use serde_json::json;
use support::chrome::{CHROMEDRIVER, CHROMIUM, Chrome, output_dir, start_driver, tools_present};
use support::{Server, TestDb, ci, say, t, test_config};

const OFFICE: &str = "atyrau-city-ozsp";
const PRINCIPAL: &str = "atyrau-city.executor";
const DEPUTY: &str = "atyrau-zhylyoi.executor";

#[tokio::test]
async fn a_deputy_takes_over_the_principals_work_in_a_real_browser() {
    if !tools_present() {
        assert!(
            !ci(),
            "REGLAMENT_CI=1 but {CHROMIUM} or {CHROMEDRIVER} is missing: the browser test must run in CI"
        );
        say("SKIPPED: deputy end-to-end test (install the `chromium chromium-driver` packages)");
        return;
    }
    let shots = output_dir();
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.demo = true;
    let s = Server::start_at_with(t("2026-04-15T10:00:00+05:00"), db, config).await;

    // The principal registered an application and claimed its first task before leaving.
    let principal = s.token(PRINCIPAL).await;
    let case = s
        .start_case(&principal, "atyrau-social-assistance", OFFICE)
        .await;
    let r = s
        .post(
            &format!("/api/v1/tasks/{case}:1/claim"),
            &principal,
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let http = reqwest::Client::new();
    let driver = start_driver(&http).await;
    let b = Chrome::open(http, &driver, &s.base, &shots).await;

    // The head records the rule.
    b.sign_in("atyrau-city.head").await;
    b.go("/deputies").await;
    b.set("principal", PRINCIPAL).await;
    b.set("deputy", DEPUTY).await;
    b.set("office", OFFICE).await;
    b.click("input[name=\"roles\"][value=\"executor\"]").await;
    b.set("valid_from", "2026-04-15").await;
    b.set("valid_to", "2026-04-17").await;
    b.type_into("#order_number", "№ 45-к").await;
    b.shot("deputies-01-record").await;
    b.click("#record-button").await;
    b.wait_url("notice=dep_recorded").await;
    let table = b.text("#deputies").await;
    assert!(table.contains("№ 45-к"), "{table}");
    assert!(table.contains("2026-04-15 — 2026-04-17"), "{table}");
    b.shot("deputies-02-recorded").await;

    // The deputy finds the principal's claimed task in their inbox and takes it over.
    b.sign_in(DEPUTY).await;
    b.go("/inbox?status=claimed").await;
    let row = format!("tr[id=\"task-{case}:1\"]");
    let text = b.text(&row).await;
    assert!(
        text.contains(PRINCIPAL),
        "the row says whose claim it is: {text}"
    );
    b.shot("deputies-03-deputy-inbox").await;
    b.click(&format!("{row} form button")).await;
    b.wait_url("notice=claimed_ok").await;
    b.click(".outcomes button").await;
    b.wait_url("/inbox?notice=done").await;

    // The case's history names both.
    b.go(&format!("/cases/{case}")).await;
    let history = b.text(".history").await;
    assert!(
        history.contains(&format!("{DEPUTY} (")) && history.contains(PRINCIPAL),
        "{history}"
    );
    b.shot("deputies-04-case-history").await;
    let violations = b.csp_violations().await;
    assert!(violations.is_empty(), "{violations:?}");
    b.close().await;
    s.stop().await;
}
