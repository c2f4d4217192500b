//! The printable receipt (талон / қолхат): the office with its contacts, the registration
//! number, date and time, the documents handed in, the result's due date, and a QR code of the
//! public status page's address with the number filled in; the stylesheet lays it out for A4
//! and for an 80 mm receipt printer.

mod support;

use reglament_server::demo::DEMO_PASSWORD;
use serde_json::json;
use support::browser::Browser;
use support::{Server, TestDb, test_config};

#[tokio::test]
async fn the_receipt_prints_with_the_documents_contacts_and_a_qr_code_of_the_status_page() {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.demo = true;
    let s = Server::start_with(db, config).await;
    let executor = s.token("atyrau-city.executor").await;
    let process = s
        .state
        .store
        .latest("atyrau-child-benefit")
        .await
        .expect("deployed");
    let mut data = reglament_model::sample::sample(
        &process
            .regulation
            .application_form
            .as_ref()
            .expect("form")
            .0,
    );
    data["doc_identity"] = json!(true);
    let r = s
        .post(
            "/api/v1/cases",
            &executor,
            &json!({"regulation": "atyrau-child-benefit", "channel": "provider",
                    "office": "atyrau-city-ozsp", "data": data}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = r.json["id"].as_str().expect("id").to_string();

    let mut b = Browser::new(&s);
    b.sign_in_with("atyrau-city.executor", DEMO_PASSWORD, "/inbox")
        .await;
    b.get("/lang/ru?back=/inbox").await;
    let page = b.get(&format!("/cases/{case}/receipt")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    // The regulation's forms and quotes are in Russian: a Russian page says nothing of it, an
    // English one says it once.
    assert!(!page.body.contains("id=\"lang-note\""), "{}", page.body);
    let en = b.get(&format!("/cases/{case}/receipt?lang=en")).await;
    assert!(
        en.body
            .contains("The regulation gives some of its words (form field titles, quotes of the paper) only in Russian."),
        "{}",
        en.body
    );
    b.get("/lang/ru?back=/inbox").await;
    // The office's contacts, from the offices file.
    assert!(page.body.contains("8-7122 45-02-00"), "{}", page.body);
    assert!(page.body.contains("zanayt@mail.ru"));
    // The documents handed in, by their titles in the form.
    let documents = page
        .body
        .split("id=\"documents\"")
        .nth(1)
        .and_then(|s| s.split("</ul>").next())
        .expect("the documents received");
    assert!(documents.contains("<li"), "{documents}");
    // The QR code: an SVG of the status page's address with this number in it.
    let qr = page
        .body
        .split("id=\"status-qr\"")
        .nth(1)
        .expect("a QR code");
    assert!(qr.contains("<svg"), "{qr}");
    let url = format!("/status?number={case}");
    assert!(
        page.body.contains(&url),
        "the address is printed under the code"
    );
    assert!(
        !page.body.contains("<?xml"),
        "no XML declaration inside the page"
    );
    // Scanning it opens the status page with the number filled in.
    let mut anonymous = Browser::new(&s);
    let status = anonymous.get(&url).await;
    assert_eq!(status.status, 200);
    assert!(
        status.body.contains(&format!("value=\"{case}\"")),
        "{}",
        status.body
    );
    // Something that is not a registration number is not put in the page.
    let odd = anonymous.get("/status?number=%3Cscript%3E").await;
    assert!(
        odd.body
            .contains("name=\"number\" maxlength=\"64\" value=\"\"")
    );
    // A4 and an 80 mm roll.
    let css = anonymous.get("/static/style.css").await.body;
    assert!(css.contains("@page { size: A4"), "A4");
    assert!(css.contains("size: 80mm auto"), "80 mm");
    s.stop().await;
}
