//! What each step recorded is shown where the next person needs it: the head who signs the
//! result reads the executor's draft (decision number, amount) and their own resolution on
//! the signing task's page, the case page lists every step's record, and a completed task's
//! page shows its own. On the bundled `nko-social-assistance` at the Petropavl office.

mod support;

use reglament_server::demo::DEMO_PASSWORD;
use serde_json::{Value, json};
use support::browser::Browser;
use support::{Server, TestDb, test_config};

const OFFICE: &str = "nko-petropavl-ozsp";

async fn complete(s: &Server, token: &str, task: &str, body: Value) {
    let r = s
        .post(&format!("/api/v1/tasks/{task}/complete"), token, &body)
        .await;
    assert_eq!(r.status, 200, "{task}: {}", r.text);
}

#[tokio::test]
async fn the_head_who_signs_sees_the_draft_he_signs() {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.demo = true;
    let s = Server::start_with(db, config).await;
    let users = s.demo_users().await;
    let (registrar, head, executor) = (
        &users["nko-petropavl.registrar"],
        &users["nko-petropavl.head"],
        &users["nko-petropavl.executor"],
    );
    let case = s
        .start_case(registrar, "nko-social-assistance", OFFICE)
        .await;
    complete(&s, registrar, &format!("{case}:1"), json!({"data": {}})).await;
    complete(&s, registrar, &format!("{case}:2"), json!({"data": {}})).await;
    complete(
        &s,
        head,
        &format!("{case}:3"),
        json!({"data": {"resolution": "Қарауға, мерзімінде"}}),
    )
    .await;
    complete(
        &s,
        executor,
        &format!("{case}:4"),
        json!({"data": {"decision_number": "СП-17/2026", "amount": 45000, "category": "многодетная семья"}}),
    )
    .await;

    let mut b = Browser::new(&s);
    b.sign_in_with("nko-petropavl.head", DEMO_PASSWORD, "/inbox")
        .await;
    b.get("/lang/ru?back=/inbox").await;
    // The signing task: the draft and the resolution, with who wrote them.
    let page = b.get(&format!("/tasks/{case}:5")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let section = page
        .body
        .split("id=\"recorded\"")
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .unwrap_or_else(|| panic!("no recorded steps on the signing task: {}", page.body));
    for want in [
        "Что записано на предыдущих шагах",
        "Номер решения о назначении социальной помощи",
        "СП-17/2026",
        "45000",
        "многодетная семья",
        "Қарауға, мерзімінде",
        "nko-petropavl.executor",
    ] {
        assert!(
            section.contains(want) || page.body.contains(want),
            "{want} on the signing task"
        );
    }
    // Steps that recorded nothing are not listed; the draft comes after the resolution.
    let resolution = section.find("Қарауға").expect("resolution");
    let draft = section.find("СП-17/2026").expect("draft");
    assert!(resolution < draft, "in the order they were recorded");
    assert!(
        !section.contains("id=\"recorded-1\""),
        "registration recorded nothing"
    );

    // The review's own page, now completed, shows what it recorded.
    let page = b.get(&format!("/tasks/{case}:4")).await;
    assert!(page.body.contains("id=\"recorded-4\""), "{}", page.body);
    // The case page lists every record.
    let page = b.get(&format!("/cases/{case}")).await;
    assert!(
        page.body.contains("id=\"recorded-3\"") && page.body.contains("id=\"recorded-4\""),
        "{}",
        page.body
    );
    // The head's next task before the review existed would not have shown the draft: the
    // assignment's page lists only what came before it (the registration recorded nothing).
    let page = b.get(&format!("/tasks/{case}:3")).await;
    assert!(
        !page.body.contains("СП-17/2026"),
        "a completed task shows what it and its predecessors recorded, not later steps"
    );
    s.stop().await;
}
