//! The web interface over HTTP, without a browser: sign in and out with the session cookie,
//! CSRF on every form, the inbox, the task page with its generated form (422 with errors
//! next to the fields, a double submission handled), registration with its receipt, office
//! scoping (404 for another office), the language switch, and every page's HTML checked
//! (no parse errors, a label for every field).

mod support;

use std::collections::BTreeMap;

use reglament_server::demo::DEMO_PASSWORD;
use support::browser::{Browser, Page};
use support::{Server, TestDb, test_config};

async fn demo_server() -> Server {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.demo = true;
    Server::start_with(db, config).await
}

/// Parses a page as HTML5 and checks it: no parse errors, and every visible form control
/// has a label (`<label for>` or an enclosing label).
fn check_html(path: &str, body: &str) {
    let doc = scraper::Html::parse_document(body);
    assert!(
        doc.errors.is_empty(),
        "{path}: HTML parse errors {:?}",
        doc.errors
    );
    let sel = |s: &str| scraper::Selector::parse(s).expect("selector");
    let labels: Vec<String> = doc
        .select(&sel("label[for]"))
        .filter_map(|l| l.value().attr("for").map(str::to_string))
        .collect();
    for control in doc.select(&sel("input, select, textarea")) {
        let el = control.value();
        if matches!(el.attr("type"), Some("hidden" | "submit" | "button")) {
            continue;
        }
        let id = el.attr("id").unwrap_or_default();
        let enclosed = control
            .ancestors()
            .filter_map(scraper::ElementRef::wrap)
            .any(|a| a.value().name() == "label");
        assert!(
            enclosed || (!id.is_empty() && labels.iter().any(|l| l == id)),
            "{path}: a {} named {:?} has no label",
            el.name(),
            el.attr("name")
        );
    }
    let ids: Vec<&str> = doc
        .select(&sel("[id]"))
        .filter_map(|e| e.value().attr("id"))
        .collect();
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "{path}: duplicate ids");
}

fn text_of(body: &str, id: &str) -> String {
    let doc = scraper::Html::parse_document(body);
    let sel = scraper::Selector::parse(&format!("#{id}")).expect("selector");
    doc.select(&sel)
        .next()
        .map(|e| e.text().collect::<String>().trim().to_string())
        .unwrap_or_default()
}

/// Registers an application through the form; returns the receipt page and the case id.
async fn register(
    b: &mut Browser,
    regulation: &str,
    channel: &str,
    office: &str,
    data: &[(&str, &str)],
) -> (Page, String) {
    let form = b.get(&format!("/register/{regulation}")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    check_html("/register/…", &form.body);
    let csrf = form.csrf();
    let mut fields = vec![
        ("_csrf", csrf.as_str()),
        ("regulation", regulation),
        ("channel", channel),
        ("office", office),
    ];
    fields.extend_from_slice(data);
    let r = b.post("/register", &fields).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let to = r.location.clone().expect("location");
    let id = to
        .strip_prefix("/cases/")
        .and_then(|s| s.strip_suffix("/receipt"))
        .expect("receipt address")
        .to_string();
    let receipt = b.get(&to).await;
    assert_eq!(receipt.status, 200, "{}", receipt.body);
    (receipt, id)
}

/// The inbox row's task id of `case`, if the inbox lists it.
fn task_in_inbox(body: &str, case: &str) -> Option<String> {
    let marker = format!("id=\"task-{case}:");
    let start = body.find(&marker)? + "id=\"task-".len();
    let end = body[start..].find('"')?;
    Some(body[start..start + end].to_string())
}

/// Claims and completes the inbox task of `case` as the signed-in user.
async fn work(b: &mut Browser, case: &str, fields: &[(&str, &str)]) -> Page {
    let inbox = b.get("/inbox").await;
    assert_eq!(inbox.status, 200);
    let task = task_in_inbox(&inbox.body, case)
        .unwrap_or_else(|| panic!("{case} is not in the inbox:\n{}", inbox.body));
    let claim = b
        .post(&format!("/tasks/{task}/claim"), &[("_csrf", &inbox.csrf())])
        .await;
    assert_eq!(claim.status, 303, "{}", claim.body);
    let page = b.get(&format!("/tasks/{task}")).await;
    assert_eq!(page.status, 200);
    check_html("/tasks/…", &page.body);
    // One state, with who holds it (in the page's language).
    let state = text_of(&page.body, "task-status");
    assert!(
        ["В работе у ", "Being worked on by ", " орындауда"]
            .iter()
            .any(|w| state.contains(w)),
        "{state}"
    );
    let csrf = page.csrf();
    let mut all = vec![("_csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    b.post(&format!("/tasks/{task}/complete"), &all).await
}

const NKO: &str = "nko-petropavl-ozsp";
const NKO_APPLICANT: &[(&str, &str)] = &[
    ("d.full_name", "Ержанова Айгүл"),
    ("d.iin", "900101400123"),
    ("d.address", "Петропавл, Абай к-сі 1"),
    ("d.family_members", "4"),
    ("d.consent_personal_data", "on"),
    ("d.doc_identity", "on"),
];

const ATYRAU_APPLICANT: &[(&str, &str)] = &[
    ("d.full_name", "Сериков Асхат"),
    ("d.locality", "Атырау"),
    ("d.street_address", "Сатпаев к-сі 5"),
    ("d.identity_document_number", "012345678"),
    ("d.iin", "850505300456"),
    ("d.family_size", "3"),
    ("d.family_members.0.full_name", "Серикова Дана"),
    ("d.family_members.0.relationship", "дочь"),
    ("d.family_members.0.birth_date", "2015-03-01"),
    ("d.doc_birth_certificates", "on"),
    ("d.doc_identity", "on"),
    ("d.doc_residence_registration", "on"),
    ("d.doc_family_composition", "on"),
    ("d.doc_income_information", "on"),
    ("d.acknowledged_liability", "on"),
];

async fn clerk_atyrau(s: &Server) -> Browser {
    let mut b = Browser::new(s);
    b.sign_in("atyrau-city.executor").await;
    b
}

#[tokio::test]
async fn sign_in_csrf_language_and_html() {
    let s = demo_server().await;
    let mut b = Browser::new(&s);
    // Signed out: pages send to the sign-in form, which keeps where we were going.
    let r = b.get("/inbox").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.location.as_deref(), Some("/signin?next=%2Finbox"));
    let form = b.get("/signin?next=/inbox").await;
    check_html("/signin", &form.body);
    // A forged sign-in (no double-submit token) is refused with a 403 page.
    let forged = b
        .post(
            "/signin",
            &[
                ("_csrf", "x"),
                ("login", "admin"),
                ("password", DEMO_PASSWORD),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    check_html("/signin (403)", &forged.body);
    let form = b.get("/signin").await;
    let wrong = b
        .post(
            "/signin",
            &[
                ("_csrf", &form.csrf()),
                ("login", "nko-petropavl.registrar"),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("role=\"alert\""));
    b.sign_in("nko-petropavl.registrar").await;
    let session = b
        .cookies
        .get("reglament_session")
        .cloned()
        .expect("session");
    assert!(session.starts_with("rgs_"));

    // The cookie is HttpOnly and SameSite=Lax (checked on a fresh sign-in's header).
    let mut other = Browser::new(&s);
    let f = other.get("/signin").await;
    let ok = other
        .post(
            "/signin",
            &[
                ("_csrf", &f.csrf()),
                ("login", "auditor"),
                ("password", DEMO_PASSWORD),
            ],
        )
        .await;
    let cookie = ok
        .set_cookies
        .iter()
        .find(|c| c.starts_with("reglament_session="))
        .expect("session cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    // Every page parses and labels its fields, in every language; the switch changes text.
    let mut seen = BTreeMap::new();
    for lang in ["kk", "ru", "en"] {
        let r = b.get(&format!("/lang/{lang}?back=/inbox")).await;
        assert_eq!(r.status, 303);
        assert_eq!(r.location.as_deref(), Some("/inbox"));
        for path in [
            "/inbox",
            "/register",
            "/register/nko-social-assistance",
            "/inbox?status=open&overdue=on",
        ] {
            let p = b.get(path).await;
            assert_eq!(p.status, 200, "{path}: {}", p.body);
            check_html(path, &p.body);
            assert!(p.body.contains(&format!("<html lang=\"{lang}\">")));
        }
        let inbox = b.get("/inbox").await;
        seen.insert(lang, text_of(&inbox.body, "count-total"));
        let h1 = {
            let doc = scraper::Html::parse_document(&inbox.body);
            let sel = scraper::Selector::parse("h1").expect("selector");
            doc.select(&sel)
                .next()
                .map(|e| e.text().collect::<String>())
                .unwrap_or_default()
        };
        let expected = match lang {
            "kk" => "Кіріс тапсырмалар",
            "ru" => "Входящие задачи",
            _ => "Inbox",
        };
        assert_eq!(h1, expected);
    }
    // `?lang=` overrides the cookie for one page.
    let p = b.get("/inbox?lang=kk").await;
    assert!(p.body.contains("<h1>Кіріс тапсырмалар</h1>"));
    // The header names the account once, and its role and office in the page's language.
    let p = b.get("/inbox?lang=ru").await;
    assert_eq!(
        text_of(&p.body, "whoami"),
        "nko-petropavl.registrar · Регистратор, КГУ «Отдел занятости и социальных программ \
         акимата города Петропавловска Северо-Казахстанской области»"
    );
    let p = b.get("/inbox?lang=kk").await;
    assert!(
        text_of(&p.body, "whoami").starts_with("nko-petropavl.registrar · Тіркеуші, «Солтүстік"),
        "{}",
        text_of(&p.body, "whoami")
    );

    // A change without the form's token is refused; signing out needs it too.
    let no = b.post("/signout", &[]).await;
    assert_eq!(no.status, 403);
    let inbox = b.get("/inbox").await;
    let out = b.post("/signout", &[("_csrf", &inbox.csrf())]).await;
    assert_eq!(out.status, 303);
    assert!(!b.cookies.contains_key("reglament_session"));
    let r = b.get("/inbox").await;
    assert_eq!(r.status, 303, "signed out");
    s.stop().await;
}

#[tokio::test]
async fn a_case_through_the_pages_with_errors_double_clicks_and_office_scoping() {
    let s = demo_server().await;
    let mut clerk = Browser::new(&s);
    clerk.sign_in("nko-petropavl.registrar").await;

    // Bad applicant data: 422 with the error next to the field, values kept.
    let form = clerk.get("/register/nko-social-assistance").await;
    let bad = clerk
        .post(
            "/register",
            &[
                ("_csrf", &form.csrf()),
                ("regulation", "nko-social-assistance"),
                ("channel", "provider"),
                ("office", NKO),
                ("d.full_name", "Ержанова Айгүл"),
                ("d.iin", "12"),
                ("d.address", ""),
                ("d.consent_personal_data", "on"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    check_html("/register (422)", &bad.body);
    let doc = scraper::Html::parse_document(&bad.body);
    let invalid = scraper::Selector::parse(".field.invalid input").expect("selector");
    let names: Vec<&str> = doc
        .select(&invalid)
        .filter_map(|e| e.value().attr("name"))
        .collect();
    assert!(
        names.contains(&"d.iin") && names.contains(&"d.address"),
        "{names:?}"
    );
    // The field errors are in the reader's language, not the validator's English.
    for english in [
        "is a required property",
        "is shorter than",
        "does not match",
    ] {
        assert!(!bad.body.contains(english), "{english}: {}", bad.body);
    }
    assert!(bad.body.contains("value=\"Ержанова Айгүл\""));

    // A good registration: the receipt with its number and the due date of the result.
    let (receipt, case) = register(
        &mut clerk,
        "nko-social-assistance",
        "provider",
        NKO,
        NKO_APPLICANT,
    )
    .await;
    check_html("/cases/…/receipt", &receipt.body);
    assert_eq!(text_of(&receipt.body, "registration-number"), case);
    assert!(case.starts_with("NK-"), "{case}");
    // This channel has no overall term in the regulation: the receipt says so, and gives the
    // date the steps' times lead to as expected, not due.
    let due = text_of(&receipt.body, "result-due");
    assert!(
        due.starts_with("ожидается ") && due.ends_with("(не установленный законом срок)"),
        "{due}"
    );
    assert!(text_of(&receipt.body, "no-statutory-term").starts_with("Регламент не устанавливает"));
    let (receipt, _) = register(
        &mut clerk_atyrau(&s).await,
        "atyrau-child-benefit",
        "provider",
        "atyrau-city-ozsp",
        ATYRAU_APPLICANT,
    )
    .await;
    let due = text_of(&receipt.body, "result-due");
    // Registered Wednesday 15 April 2026 10:00; 10 working days from the next day, to the
    // close of the office on the tenth (Atyrau city office closes at 18:00).
    assert_eq!(due, "2026-04-29 18:00");

    // Registering was the first step ("receive and register"); the clerk's inbox has the
    // next one (send to the head); a claim without the token is refused.
    let inbox = clerk.get("/inbox").await;
    let task = task_in_inbox(&inbox.body, &case).expect("in the inbox");
    let forged = clerk.post(&format!("/tasks/{task}/claim"), &[]).await;
    assert_eq!(forged.status, 403);
    let done = work(&mut clerk, &case, &[]).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/inbox?notice=done"));
    // The same completion again (a double click, the back button): no second effect.
    let again = clerk
        .post(
            &format!("/tasks/{task}/complete"),
            &[("_csrf", &inbox.csrf())],
        )
        .await;
    assert_eq!(again.status, 303);
    assert_eq!(
        again.location.as_deref(),
        Some("/inbox?notice=already_done")
    );
    let events = s
        .state
        .store
        .events(&reglament_runtime::CaseId::new(&case))
        .await
        .expect("events");
    let completions = events
        .iter()
        .filter(|e| e.event.kind.name() == "task_completed")
        .count();
    // The registration's own step, completed with it, and this one.
    assert_eq!(completions, 2);

    // A user of another office sees none of it: 404 for the task and the case, not listed.
    let mut stranger = Browser::new(&s);
    stranger.sign_in("nko-kyzylzhar.registrar").await;
    for path in [
        format!("/tasks/{task}"),
        format!("/cases/{case}"),
        format!("/cases/{case}/receipt"),
    ] {
        let r = stranger.get(&path).await;
        assert_eq!(r.status, 404, "{path}");
        check_html(&path, &r.body);
        // (The address itself is in the language links; nothing of the case is.)
        assert!(!r.body.contains("Ержанова"), "{path} leaks the case");
    }
    let theirs = stranger.get("/inbox").await;
    assert_eq!(theirs.status, 200);
    assert!(!theirs.body.contains(&case));
    let csrf = theirs.csrf();
    let r = stranger
        .post(&format!("/tasks/{task}/claim"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(r.status, 404);
    // Nor does a user of this office with another role get the registrar's work (403).
    let mut executor = Browser::new(&s);
    executor.sign_in("nko-petropavl.executor").await;
    let ex_inbox = executor.get("/inbox").await;
    let next_task = {
        let st = s
            .state
            .service
            .case_state(&reglament_runtime::CaseId::new(&case))
            .await
            .expect("state");
        let t = st.open_tasks().next().expect("an open task");
        format!("{case}:{}", t.id.0)
    };
    let r = executor
        .post(
            &format!("/tasks/{next_task}/claim"),
            &[("_csrf", &ex_inbox.csrf())],
        )
        .await;
    assert_eq!(r.status, 403);

    // The task form: an outcome that needs a reason, refused without one (422), then done.
    let mut head = Browser::new(&s);
    head.sign_in("nko-petropavl.head").await;
    // (The clerk sent it to the head above: registration was the first step.)
    let r = work(&mut head, &case, &[("d.resolution", "Орындауға")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = work(&mut executor, &case, &[("d.amount", "много")]).await;
    assert_eq!(r.status, 422, "{}", r.body);
    check_html("/tasks/… (422)", &r.body);
    assert!(r.body.contains("value=\"много\""));
    let doc = scraper::Html::parse_document(&r.body);
    let invalid =
        scraper::Selector::parse(".field.invalid input[name=\"d.amount\"]").expect("selector");
    assert!(doc.select(&invalid).next().is_some(), "{}", r.body);
    let r = work(
        &mut executor,
        &case,
        &[("d.amount", "45000"), ("d.decision_number", "17")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = work(&mut head, &case, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = work(&mut executor, &case, &[]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = clerk.get(&format!("/cases/{case}")).await;
    check_html("/cases/…", &page.body);
    assert_eq!(text_of(&page.body, "case-status"), "Завершено");
    // An ended case lists no finished task as open (they are in its timeline).
    assert_eq!(text_of(&page.body, "no-open-tasks"), "Открытых задач нет");
    s.stop().await;
}

#[tokio::test]
async fn regulations_analyst_case_dashboard_and_report_pages() {
    let s = demo_server().await;
    let yaml_path = support::regulations_dir().join("north-kazakhstan/nko-social-assistance.yaml");
    let yaml = std::fs::read_to_string(&yaml_path).expect("regulation");

    // The analyst: a broken text shows its errors against line numbers and is not deployed.
    let mut analyst = Browser::new(&s);
    analyst.sign_in("analyst").await;
    let page = analyst.get("/analyst").await;
    assert_eq!(page.status, 200);
    check_html("/analyst", &page.body);
    // A deployed version opens for editing from its page: its text, as deployed.
    let reg = analyst.get("/regulations/nko-social-assistance").await;
    let edit = scraper::Html::parse_document(&reg.body)
        .select(&scraper::Selector::parse("a#edit").expect("selector"))
        .next()
        .and_then(|a| a.value().attr("href").map(str::to_string))
        .expect("an edit link for the analyst");
    let page = analyst.get(&edit).await;
    assert_eq!(page.status, 200, "{edit}");
    let textarea = scraper::Html::parse_document(&page.body)
        .select(&scraper::Selector::parse("textarea#source").expect("selector"))
        .next()
        .map(|t| t.text().collect::<String>())
        .unwrap_or_default();
    assert_eq!(textarea, yaml, "the deployed text");
    assert_eq!(analyst.get("/analyst?edit=no-such").await.status, 404);
    assert_eq!(
        analyst
            .get("/analyst?edit=nko-social-assistance&version=99")
            .await
            .status,
        404
    );
    let broken = yaml.replacen("duration: 2 hours", "duration: 2 fortnights", 1);
    let bad_line = broken
        .lines()
        .position(|l| l.contains("2 fortnights"))
        .expect("line")
        + 1;
    let r = analyst
        .post(
            "/analyst",
            &[
                ("_csrf", &page.csrf()),
                ("source", &broken),
                ("_action", "deploy"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    check_html("/analyst (422)", &r.body);
    assert!(
        r.body
            .contains(&format!("<a href=\"#L{bad_line}\">{bad_line}</a>")),
        "{}",
        r.body
    );
    assert!(
        r.body
            .contains(&format!("<span id=\"L{bad_line}\" class=\"bad\">"))
    );
    assert!(!r.body.contains("id=\"deployed\""));
    // A clean new version (the bundled one's next) deploys; the regulation page lists both
    // versions and the change.
    let bundled: u32 = yaml
        .lines()
        .find_map(|l| l.strip_prefix("version: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("a version line");
    let v2 = yaml
        .replacen(
            &format!("\nversion: {bundled}\n"),
            &format!("\nversion: {}\n", bundled + 1),
            1,
        )
        .replacen("duration: 2 hours", "duration: 3 hours", 1);
    let r = analyst
        .post(
            "/analyst",
            &[
                ("_csrf", &page.csrf()),
                ("source", &v2),
                ("_action", "deploy"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        text_of(&r.body, "deployed").contains(&format!("nko-social-assistance v{}", bundled + 1)),
        "{}",
        r.body
    );
    // Staff may not deploy.
    let mut clerk = Browser::new(&s);
    clerk.sign_in("nko-petropavl.registrar").await;
    let inbox = clerk.get("/inbox").await;
    let r = clerk
        .post(
            "/analyst",
            &[
                ("_csrf", &inbox.csrf()),
                ("source", &v2),
                ("_action", "deploy"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);

    let reg = clerk.get("/regulations/nko-social-assistance").await;
    assert_eq!(reg.status, 200);
    assert!(!reg.body.contains("id=\"edit\""), "only analysts edit");
    check_html("/regulations/…", &reg.body);
    assert!(reg.body.contains("<svg"), "the diagram is inline");
    assert!(
        reg.body
            .contains(&format!("?version={bundled}\">{bundled}</a>")),
        "versions listed"
    );
    assert!(reg.body.contains("~ "), "what changed");
    assert!(
        reg.body.contains("3 часа") || reg.body.contains("3 hours"),
        "durations per channel"
    );
    // Terms in the page's language: the paper's words only where they are in it.
    let ru = clerk.get("/regulations/atyrau-child-benefit?lang=ru").await;
    assert!(
        ru.body
            .contains("<td>10 рабочих дней («в течение десяти рабочих дней»)</td>"),
        "{}",
        ru.body
    );
    assert!(
        ru.body
            .contains("<th scope=\"col\">При неполном пакете документов</th>")
    );
    // The terms' table and the steps' table (the linter's notes are not translated yet).
    let tables = ru.body.split("<h2 id=\"lint\"").next().unwrap_or_default();
    let tables = tables
        .split("Предупреждения линтера")
        .next()
        .unwrap_or_default();
    for w in ["working days", " hours", " minutes", ">+<"] {
        assert!(!tables.contains(w), "{w}: {tables}");
    }
    let en = clerk.get("/regulations/atyrau-child-benefit?lang=en").await;
    assert!(en.body.contains("<td>10 working days</td>"), "{}", en.body);
    assert!(en.body.contains("<td>30 calendar days</td>"));
    let terms = en
        .body
        .split("<h2 id=\"diagram\">")
        .next()
        .unwrap_or_default();
    let terms = terms.split("<table>").nth(1).unwrap_or_default();
    assert!(!terms.contains("в течение"), "{terms}");
    let kk = clerk.get("/regulations/atyrau-child-benefit?lang=kk").await;
    assert!(kk.body.contains("<td>10 жұмыс күні</td>"), "{}", kk.body);

    // A case: the clerk registers; the head and the auditor see its timeline and chain.
    let (_, case) = register(
        &mut clerk,
        "nko-social-assistance",
        "provider",
        NKO,
        NKO_APPLICANT,
    )
    .await;
    // The regulation states no term for the normal case: the receipt and the case page say
    // so, and give the date the steps' times lead to, labelled as expected.
    for path in [
        format!("/cases/{case}/receipt?lang=en"),
        format!("/cases/{case}?lang=en"),
    ] {
        let p = clerk.get(&path).await;
        assert_eq!(p.status, 200, "{path}");
        assert!(
            text_of(&p.body, "no-statutory-term").starts_with("The regulation states no term"),
            "{path}: {}",
            p.body
        );
        let due = text_of(&p.body, "result-due");
        assert!(
            due.starts_with("expected 20") && due.ends_with("(not a statutory due date)"),
            "{path}: {due}"
        );
    }
    work(&mut clerk, &case, &[]).await;
    let mut head = Browser::new(&s);
    head.sign_in("nko-petropavl.head").await;
    let mut auditor = Browser::new(&s);
    auditor.sign_in("auditor").await;
    for (who, b) in [("head", &mut head), ("auditor", &mut auditor)] {
        for lang in ["kk", "ru", "en"] {
            b.get(&format!("/lang/{lang}?back=/")).await;
            for path in [
                format!("/cases/{case}"),
                "/dashboard".to_string(),
                "/report".to_string(),
                "/regulations".to_string(),
                "/regulations/atyrau-child-benefit".to_string(),
            ] {
                let p = b.get(&path).await;
                assert_eq!(p.status, 200, "{who} {path}: {}", p.body);
                check_html(&path, &p.body);
            }
        }
        let p = b.get(&format!("/cases/{case}?lang=en")).await;
        assert_eq!(text_of(&p.body, "chain"), "Hash chain verified");
        assert!(p.body.contains("<svg") && p.body.contains("id=\"timeline\""));
    }
    let dash = head.get(&format!("/dashboard?office={NKO}")).await;
    assert_eq!(dash.status, 200);
    // The demo cases of the office plus ours are open; its task is unclaimed.
    assert!(
        text_of(&dash.body, "open-tasks")
            .parse::<usize>()
            .expect("count")
            >= 1
    );
    // A head of one office cannot look at another's.
    let other = head.get("/dashboard?office=nko-kyzylzhar-ozsp").await;
    assert_eq!(other.status, 404);
    let other = head.get("/report?office=nko-kyzylzhar-ozsp").await;
    assert_eq!(other.status, 404);
    // Staff without a head's role have no dashboard.
    assert_eq!(clerk.get("/dashboard").await.status, 403);
    // The administrator (every office) reports on all offices at once by default, as the
    // auditor does; the head has no such choice.
    let mut admin = Browser::new(&s);
    admin.sign_in("admin").await;
    for (who, b, all) in [
        ("admin", &mut admin, true),
        ("auditor", &mut auditor, true),
        ("head", &mut head, false),
    ] {
        let p = b.get("/report?lang=en").await;
        assert_eq!(p.status, 200, "{who}: {}", p.body);
        assert_eq!(
            p.body
                .contains("<option value=\"\" selected>All offices</option>"),
            all,
            "{who}: {}",
            p.body
        );
    }
    s.stop().await;
}

#[tokio::test]
async fn a_head_hands_a_task_to_a_colleague_who_gives_it_back() {
    let s = demo_server().await;
    let mut executor = clerk_atyrau(&s).await;
    let (_, case) = register(
        &mut executor,
        "atyrau-child-benefit",
        "provider",
        "atyrau-city-ozsp",
        ATYRAU_APPLICANT,
    )
    .await;
    // Registering was the executor's first step; the head assigns, and the review is the
    // executor role's.
    let head_token = s.token("atyrau-city.head").await;
    let r = s
        .post(
            &format!("/api/v1/tasks/{case}:2/complete"),
            &head_token,
            &serde_json::json!({"data": {}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let inbox = executor.get("/inbox").await;
    let task = task_in_inbox(&inbox.body, &case).expect("in the executor's inbox");
    let path = format!("/tasks/{task}");

    // Only heads hand tasks on: the executor has no such form and a forged post is refused.
    let page = executor.get(&path).await;
    assert!(!page.body.contains("/reassign\""), "{}", page.body);
    assert!(
        !page.body.contains("id=\"release\""),
        "nothing to release yet"
    );
    let forged = executor
        .post(
            &format!("{path}/reassign"),
            &[("_csrf", &page.csrf()), ("user", "atyrau-city.executor")],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.body);

    // The head sees the colleagues holding the task's role in this office, and only them.
    let mut head = Browser::new(&s);
    head.sign_in("atyrau-city.head").await;
    let page = head.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    check_html("/tasks/… (head)", &page.body);
    assert!(page.body.contains("<option value=\"atyrau-city.executor\""));
    assert!(!page.body.contains("<option value=\"atyrau-city.head\""));
    assert!(
        !page
            .body
            .contains("<option value=\"atyrau-zhylyoi.executor\"")
    );
    let csrf = page.csrf();
    // Someone without the role cannot be given the task.
    let wrong = head
        .post(
            &format!("{path}/reassign"),
            &[("_csrf", &csrf), ("user", "atyrau-zhylyoi.executor")],
        )
        .await;
    assert_eq!(wrong.status, 422, "{}", wrong.body);
    // Handed to the executor; pressed twice, one effect.
    for _ in 0..2 {
        let r = head
            .post(
                &format!("{path}/reassign"),
                &[("_csrf", &csrf), ("user", "atyrau-city.executor")],
            )
            .await;
        assert_eq!(r.status, 303, "{}", r.body);
        assert_eq!(
            r.location.as_deref(),
            Some(format!("{path}?notice=reassigned_ok").as_str())
        );
    }
    let events = s
        .state
        .store
        .events(&reglament_runtime::CaseId::new(case.as_str()))
        .await
        .expect("the case's events");
    let handed = events
        .iter()
        .filter(|e| e.event.kind.name() == "task_reassigned")
        .count();
    assert_eq!(handed, 1, "one reassignment in the log");

    // The executor sees it is theirs, takes it, and gives it back to the role.
    let page = executor.get(&path).await;
    assert_eq!(text_of(&page.body, "assigned-to"), "atyrau-city.executor");
    let r = executor
        .post(&format!("{path}/claim"), &[("_csrf", &page.csrf())])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = executor.get(&path).await;
    assert!(page.body.contains("id=\"release\""), "{}", page.body);
    let r = executor
        .post(&format!("{path}/release"), &[("_csrf", &page.csrf())])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = executor.get(&format!("{path}?notice=released_ok")).await;
    assert!(!page.body.contains("id=\"release\""), "{}", page.body);

    // A head of another office does not see the task at all.
    let mut other = Browser::new(&s);
    other.sign_in("atyrau-zhylyoi.head").await;
    assert_eq!(other.get(&path).await.status, 404);
    let csrf = other.get("/inbox").await.csrf();
    let r = other
        .post(
            &format!("{path}/reassign"),
            &[("_csrf", &csrf), ("user", "atyrau-city.executor")],
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.body);
}

/// Addresses a first user types: `/login` is the sign-in page; an unknown address is the 404
/// page in the browser's language (not the API's JSON), while the API and a caller asking for
/// JSON still get problem+json.
#[tokio::test]
async fn login_and_unknown_addresses_answer_as_pages() {
    let s = demo_server().await;
    let mut b = Browser::new(&s);
    let r = b.get("/login").await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/signin"));
    b.get("/lang/ru").await;
    let r = b.get("/no-such-page").await;
    assert_eq!(r.status, 404, "{}", r.body);
    let kind = r.headers.get("content-type").and_then(|v| v.to_str().ok());
    assert!(kind.is_some_and(|k| k.starts_with("text/html")), "{kind:?}");
    assert!(r.body.contains("Не найдено"), "{}", r.body);
    assert!(r.body.contains("lang=\"ru\""), "{}", r.body);
    check_html("/no-such-page", &r.body);
    for (path, accept) in [
        ("/api/v1/no-such", "text/html"),
        ("/api", "*/*"),
        ("/no-such-page", "application/json"),
    ] {
        let r = b
            .send(
                b.client
                    .get(format!("{}{path}", b.base))
                    .header("accept", accept),
            )
            .await;
        assert_eq!(r.status, 404, "{path}");
        let kind = r.headers.get("content-type").and_then(|v| v.to_str().ok());
        assert_eq!(kind, Some("application/problem+json"), "{path} ({accept})");
    }
    s.stop().await;
}

/// A command the engine refuses is explained in the page's language, not in the engine's
/// English: a second registrar of the office tries to take a task the first one holds.
#[tokio::test]
async fn a_refused_command_is_explained_in_the_page_s_language() {
    let s = demo_server().await;
    let mut first = Browser::new(&s);
    first.sign_in("nko-petropavl.registrar").await;
    let (_, case) = register(
        &mut first,
        "nko-social-assistance",
        "provider",
        NKO,
        NKO_APPLICANT,
    )
    .await;
    let inbox = first.get("/inbox").await;
    let task = task_in_inbox(&inbox.body, &case).expect("the registration task");
    let claim = first
        .post(&format!("/tasks/{task}/claim"), &[("_csrf", &inbox.csrf())])
        .await;
    assert_eq!(claim.status, 303, "{}", claim.body);
    s.user_with(
        "second.registrar",
        vec![reglament_server::accounts::GrantRecord {
            role: "registrar".into(),
            office: NKO.into(),
        }],
        Some(DEMO_PASSWORD),
    )
    .await;
    let mut second = Browser::new(&s);
    second.sign_in("second.registrar").await;
    for (lang, words) in [
        ("ru", "Эту задачу уже взял другой сотрудник."),
        ("kk", "Бұл тапсырманы басқа қызметкер алған."),
        ("en", "Another member of staff has taken this task."),
    ] {
        second.get(&format!("/lang/{lang}?back=/")).await;
        let page = second.get(&format!("/tasks/{task}")).await;
        let r = second
            .post(&format!("/tasks/{task}/claim"), &[("_csrf", &page.csrf())])
            .await;
        assert_eq!(r.status, 409, "{lang}: {}", r.body);
        assert!(r.body.contains(words), "{lang}: {}", r.body);
        assert!(!r.body.contains("claimed by"), "{lang}: {}", r.body);
        check_html("/tasks/…/claim (409)", &r.body);
    }
    s.stop().await;
}

/// `/notifications`, where every notice e-mail's footer points: the caller's settings, saved
/// as the API saves them, a bad address refused with the form shown back, CSRF required.
#[tokio::test]
async fn notification_settings_page() {
    let s = demo_server().await;
    let mut b = clerk_atyrau(&s).await;
    let page = b.get("/notifications").await;
    assert_eq!(page.status, 200, "{}", page.body);
    check_html("/notifications", &page.body);
    // Defaults: the notices of events in office hours, the digest off (and never "at once").
    assert!(
        page.body
            .contains(r#"<option value="opening" selected>В рабочее время</option>"#),
        "{}",
        page.body
    );
    let digest = &page.body[page.body.find(r#"name="mode_digest""#).expect("digest")..];
    let digest = &digest[..digest.find("</select>").expect("end")];
    assert!(!digest.contains(r#"value="now""#), "{digest}");
    assert!(
        digest.contains(r#"<option value="off" selected>"#),
        "{digest}"
    );
    let fields = |csrf: &str, email: &str| -> Vec<(&'static str, String)> {
        vec![
            ("_csrf", csrf.to_string()),
            ("email", email.to_string()),
            ("language", "kk".to_string()),
            ("mode_task", "now".to_string()),
            ("mode_warning", "opening".to_string()),
            ("mode_breach", "off".to_string()),
            ("mode_escalation", "opening".to_string()),
            ("mode_digest", "opening".to_string()),
        ]
    };
    async fn post(b: &mut Browser, f: Vec<(&'static str, String)>) -> Page {
        let refs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post("/notifications", &refs).await
    }
    let forged = post(&mut b, fields("x", "clerk@example.kz")).await;
    assert_eq!(forged.status, 403);
    let bad = post(&mut b, fields(&page.csrf(), "not an address")).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    check_html("/notifications (422)", &bad.body);
    assert!(
        bad.body.contains("Неверный адрес электронной почты"),
        "{}",
        bad.body
    );
    assert!(
        bad.body.contains(r#"value="not an address""#),
        "{}",
        bad.body
    );
    let saved = post(&mut b, fields(&page.csrf(), "clerk@example.kz")).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(
        saved.location.as_deref(),
        Some("/notifications?notice=notify_saved")
    );
    let p = reglament_server::notify::tables::profile(&s.state.store, "atyrau-city.executor")
        .await
        .expect("profile");
    assert_eq!(p.email.as_deref(), Some("clerk@example.kz"));
    assert_eq!(p.language.code(), "kk");
    assert_eq!(p.mode("task").as_str(), "now");
    assert_eq!(p.mode("breach").as_str(), "off");
    assert_eq!(p.mode("digest").as_str(), "opening");
    let again = b.get("/notifications").await;
    assert!(
        again.body.contains(r#"value="clerk@example.kz""#),
        "{}",
        again.body
    );
    assert!(
        again
            .body
            .contains(r#"<option value="kk" lang="kk" selected>"#),
        "{}",
        again.body
    );
    s.stop().await;
}
