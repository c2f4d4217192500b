//! End to end in a real headless browser (Debian's chromium driven through chromedriver over
//! the WebDriver protocol): a server started here on a free port with a temporary SQLite
//! database and the demo accounts. A clerk registers an application, the head assigns it,
//! the executor grants it, the head signs, the result is issued (the steps of the bundled
//! `nko-social-assistance`); the same with a refusal (`atyrau-child-benefit`, where the
//! executor registers and issues); a user of another office sees none of it. Under the
//! server's Content-Security-Policy the page script still works (an inbox filter applies on
//! change) and the browser reports no violation on any page. Screens are saved as PNG files
//! under `target/test-output/web/`.
//!
//! Without chromium and chromedriver the test says SKIPPED loudly; with `REGLAMENT_CI=1` it
//! fails instead.

mod support;

use serde_json::json;
use support::chrome::{CHROMEDRIVER, CHROMIUM, Chrome, output_dir, start_driver, tools_present};
use support::{Server, TestDb, ci, say, test_config};

#[tokio::test]
async fn staff_work_cases_in_a_real_browser() {
    if !tools_present() {
        assert!(
            !ci(),
            "REGLAMENT_CI=1 but {CHROMIUM} or {CHROMEDRIVER} is missing: the browser test must run in CI"
        );
        say("SKIPPED: web end-to-end test (install the `chromium chromium-driver` packages)");
        return;
    }
    // File times are coarser than the clock: allow a second.
    let started = std::time::SystemTime::now() - std::time::Duration::from_secs(1);
    let shots = output_dir();
    std::fs::create_dir_all(&shots).expect("screenshot folder");
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.demo = true;
    let s = Server::start_with(db, config).await;
    let http = reqwest::Client::new();
    let driver = start_driver(&http).await;
    let b = Chrome::open(http, &driver, &s.base, &shots).await;

    // --- Granted: nko-social-assistance at the provider's office.
    b.sign_in("nko-petropavl.registrar").await;
    b.shot("01-inbox-registrar").await;
    b.go("/register").await;
    b.click("a[href=\"/register/nko-social-assistance\"]").await;
    b.find("#channel").await;
    b.set("channel", "provider").await;
    b.set("office", "nko-petropavl-ozsp").await;
    b.type_into("[name=\"d.full_name\"]", "Ержанова Айгүл")
        .await;
    b.type_into("[name=\"d.iin\"]", "900101400123").await;
    b.type_into("[name=\"d.address\"]", "Петропавл, Абай көшесі 1")
        .await;
    b.type_into("[name=\"d.family_members\"]", "4").await;
    b.click("[name=\"d.consent_personal_data\"]").await;
    b.shot("02-register-form").await;
    b.click("#register-submit").await;
    b.wait_url("/receipt").await;
    let case = b.text("#registration-number").await;
    assert!(case.starts_with("NK-"), "{case}");
    b.shot("03-receipt").await;

    // Registering was the "receive and register" step: the receipt leads to what comes next.
    b.click("#next-step a").await;
    b.wait_url(&format!("/tasks/{case}:2")).await;
    b.shot("04-next-step-send-to-head").await;
    b.click(".outcomes button").await;
    b.wait_url("/inbox?notice=done").await;
    b.sign_in("nko-petropavl.head").await;
    b.work(
        &case,
        &[("d.resolution", "Қарауға")],
        ".outcomes button",
        "06-task-assign",
    )
    .await;
    b.sign_in("nko-petropavl.executor").await;
    // A form error first: shown next to the field, then corrected.
    b.go("/inbox").await;
    b.click(&format!("tr[id^=\"task-{case}:\"] form button"))
        .await;
    b.wait_url("notice=claimed_ok").await;
    b.set("d.amount", "-5").await;
    b.click(".outcomes button").await;
    b.find(".field.invalid [name=\"d.amount\"]").await;
    b.shot("07-task-review-422").await;
    b.set("d.amount", "45000").await;
    b.set("d.decision_number", "17").await;
    b.click(".outcomes button").await;
    b.wait_url("/inbox?notice=done").await;
    b.sign_in("nko-petropavl.head").await;
    b.work(&case, &[], ".outcomes button", "08-task-sign").await;
    b.sign_in("nko-petropavl.executor").await;
    b.work(&case, &[], ".outcomes button", "09-task-issue")
        .await;
    b.go(&format!("/cases/{case}")).await;
    assert_eq!(b.text("#case-status").await, "Завершено");
    assert_eq!(b.text("#case-result").await, "Оказано");
    b.shot("10-case-granted").await;

    // --- Refused: atyrau-child-benefit, where the executor registers and issues.
    b.sign_in("atyrau-city.executor").await;
    b.go("/register/atyrau-child-benefit").await;
    b.set("channel", "provider").await;
    b.set("office", "atyrau-city-ozsp").await;
    for (name, value) in [
        ("d.full_name", "Сериков Асхат"),
        ("d.locality", "Атырау"),
        ("d.street_address", "Сәтбаев көшесі 5"),
        ("d.identity_document_number", "012345678"),
        ("d.iin", "850505300456"),
        ("d.family_size", "3"),
        ("d.family_members.0.full_name", "Серикова Дана"),
        ("d.family_members.0.relationship", "дочь"),
        ("d.family_members.0.birth_date", "2015-03-01"),
    ] {
        b.set(name, value).await;
    }
    for name in [
        "d.doc_birth_certificates",
        "d.doc_identity",
        "d.doc_residence_registration",
        "d.doc_family_composition",
        "d.doc_income_information",
        "d.acknowledged_liability",
    ] {
        b.click(&format!("[name=\"{name}\"]")).await;
    }
    b.click("#register-submit").await;
    b.wait_url("/receipt").await;
    let refused = b.text("#registration-number").await;
    assert!(refused.starts_with("ATY-"), "{refused}");
    assert_eq!(b.text("#result-due").await, "2026-04-29 18:00");
    b.shot("11-receipt-atyrau").await;
    // The executor registered it: what comes next is the head's.
    b.find("#next-step a[href=\"/inbox\"]").await;
    b.sign_in("atyrau-city.head").await;
    b.work(&refused, &[], ".outcomes button", "13-task-assign-atyrau")
        .await;
    b.sign_in("atyrau-city.executor").await;
    b.work(
        &refused,
        &[
            ("d.refusal_ground", "income_above_food_basket"),
            (
                "_reason",
                "Доход на члена семьи выше продовольственной корзины",
            ),
        ],
        "#outcome-refuse",
        "14-task-refuse",
    )
    .await;
    b.sign_in("atyrau-city.head").await;
    b.work(&refused, &[], ".outcomes button", "15-task-sign-refusal")
        .await;
    b.sign_in("atyrau-city.executor").await;
    b.work(
        &refused,
        &[("d.delivery", "in_person")],
        ".outcomes button",
        "16-task-issue-refusal",
    )
    .await;
    b.go(&format!("/cases/{refused}")).await;
    assert_eq!(b.text("#case-result").await, "Отказано");
    b.shot("17-case-refused").await;

    // --- The head's view: the dashboard and the audited case with its timeline.
    b.sign_in("atyrau-city.head").await;
    b.go("/dashboard").await;
    b.find("#open-tasks").await;
    b.shot("18-dashboard-head").await;
    b.go(&format!("/cases/{refused}")).await;
    b.find("#timeline").await;
    assert_eq!(b.text("#chain").await, "Цепочка хэшей проверена");
    b.shot("19-case-audit-head").await;

    // --- Another office sees none of it.
    b.sign_in("nko-kyzylzhar.head").await;
    let inbox = b.source().await;
    assert!(!inbox.contains(&case) && !inbox.contains(&refused));
    for path in [format!("/cases/{case}"), format!("/cases/{refused}")] {
        b.go(&path).await;
        let page = b.source().await;
        assert!(page.contains("(404)"), "{path}: {page}");
        assert!(!page.contains("Ержанова") && !page.contains("Сериков"));
    }
    b.shot("20-other-office-404").await;

    // --- The page script runs under the CSP: a filter applies as soon as it changes.
    b.sign_in("nko-petropavl.executor").await;
    b.go("/inbox").await;
    b.set("status", "claimed").await;
    b.call(
        "POST",
        "/execute/sync",
        Some(json!({
            "script": "document.getElementById('status').dispatchEvent(new Event('change'));",
            "args": []
        })),
    )
    .await;
    b.wait_url("status=claimed").await;
    // The report's own style block is allowed by its hash.
    b.sign_in("nko-petropavl.head").await;
    b.go("/report").await;
    b.find(".reglament-compliance").await;
    b.shot("21-report-head").await;
    let violations = b.csp_violations().await;
    assert!(violations.is_empty(), "CSP violations: {violations:#?}");

    b.close().await;
    drop(driver);
    s.stop().await;
    // The folder is shared with the other browser tests and outlives runs: count only this run's.
    let saved = std::fs::read_dir(&shots)
        .expect("screenshot folder")
        .filter_map(Result::ok)
        .filter(|e| {
            e.metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t >= started)
        })
        .count();
    assert!(saved >= 19, "{saved} screenshots");
    say(&format!("web e2e: screenshots in {}", shots.display()));
}
