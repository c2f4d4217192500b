//! Finding a case in a real headless browser (chromium over WebDriver; see `support::chrome`):
//! the head of the Atyrau city office opens «Поиск дел» from the navigation, types the
//! applicant's name as it sounds in Russian (`айгуль` for «Айгүл»), finds the case and opens
//! it; a mistyped ИИН is said beside its field with the criteria kept; a case of another
//! office is never listed; the results page through with the next page's link. Screens are
//! saved under `target/test-output/web/`.
//!
//! Without chromium and chromedriver the test says SKIPPED loudly; with `REGLAMENT_CI=1` it
//! fails instead.

mod support;

use serde_json::json;
use support::chrome::{CHROMEDRIVER, CHROMIUM, Chrome, output_dir, start_driver, tools_present};
use support::{Server, TestDb, ci, say, t, test_config};

const OFFICE: &str = "atyrau-city-ozsp";
const OTHER: &str = "atyrau-zhylyoi-ozsp";
const REGULATION: &str = "atyrau-social-assistance";

async fn register(s: &Server, login: &str, office: &str, name: &str) -> String {
    let token = s.token(login).await;
    s.start_case_with(&token, REGULATION, office, &json!({"full_name": name}))
        .await
}

#[tokio::test]
async fn a_head_finds_a_case_by_the_applicants_name_in_a_real_browser() {
    if !tools_present() {
        assert!(
            !ci(),
            "REGLAMENT_CI=1 but {CHROMIUM} or {CHROMEDRIVER} is missing: the browser test must run in CI"
        );
        say(
            "SKIPPED: case search end-to-end test (install the `chromium chromium-driver` packages)",
        );
        return;
    }
    let shots = output_dir();
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.demo = true;
    let s = Server::start_at_with(t("2026-04-15T10:00:00+05:00"), db, config).await;
    let case = register(&s, "atyrau-city.executor", OFFICE, "Айгүл Серікқызы").await;
    let elsewhere = register(&s, "atyrau-zhylyoi.executor", OTHER, "Айгүл Нұрланқызы").await;
    let mut many = Vec::new();
    for i in 0..26 {
        many.push(
            register(
                &s,
                "atyrau-city.executor",
                OFFICE,
                &format!("Ерлан Сейтов {i}"),
            )
            .await,
        );
    }

    let http = reqwest::Client::new();
    let driver = start_driver(&http).await;
    let b = Chrome::open(http, &driver, &s.base, &shots).await;
    b.sign_in("atyrau-city.head").await;
    b.go("/lang/ru?back=/inbox").await;
    // From the navigation to the form.
    b.click("nav a[href=\"/search\"]").await;
    b.wait_url("/search").await;
    b.type_into("#name", "айгуль").await;
    b.click("#search-submit").await;
    b.wait_url("name=").await;
    b.find(&format!("#found-{case}")).await;
    let page = b.source().await;
    assert!(
        !page.contains(&elsewhere),
        "another office's case is never listed"
    );
    assert!(!page.contains("Нұрланқызы"));
    assert_eq!(b.text("#found caption").await, "Найденные дела");
    assert!(b.text(&format!("#found-{case}")).await.contains("В работе"));
    b.shot("search-01-found").await;
    // The case opens from its row.
    b.click(&format!("#found-{case} a")).await;
    b.wait_url(&format!("/cases/{case}")).await;
    b.find("#timeline").await;

    // A mistyped ИИН: said beside the field, the name kept.
    b.go("/search").await;
    b.type_into("#name", "айгуль").await;
    b.type_into("#iin", "90010140").await;
    b.click("#search-submit").await;
    b.wait_url("iin=").await;
    b.find("#search-problem").await;
    assert_eq!(b.text("#iin-error").await, "ИИН состоит из 12 цифр.");
    let kept = b
        .call(
            "POST",
            "/execute/sync",
            Some(json!({"script": "return document.getElementById('name').value;", "args": []})),
        )
        .await;
    assert_eq!(kept.as_str(), Some("айгуль"));
    b.shot("search-02-bad-iin").await;

    // Every case of the office, a page of 25 and then the rest.
    b.click("#search-clear").await;
    b.wait_url("/search").await;
    b.click("#search-submit").await;
    b.find("#search-next").await;
    let rows = |html: &str| html.matches("<tr id=\"found-").count();
    assert_eq!(rows(&b.source().await), 25);
    // The demo's own work is in the office too: the API counts what the second page holds.
    let head = s.token("atyrau-city.head").await;
    let all = s.get("/api/v1/cases?limit=200", &head).await;
    let total = all.json["items"].as_array().expect("items").len();
    assert!(total >= 27, "{total}");
    b.click("#search-next").await;
    b.wait_url("cursor=").await;
    b.find("#search-first").await;
    let second = b.source().await;
    assert_eq!(rows(&second), (total - 25).min(25));
    assert!(many.iter().any(|c| second.contains(&format!("found-{c}"))) || total > 50);
    b.shot("search-03-second-page").await;
    let violations = b.csp_violations().await;
    assert!(violations.is_empty(), "CSP violations: {violations:#?}");

    b.close().await;
    drop(driver);
    s.stop().await;
    say("web e2e search: a head found a case by name, in a real browser");
}
