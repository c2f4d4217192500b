//! Suspending a task's time, through the API and the web pages, on the bundled regulation
//! `atyrau-social-assistance` (version 2), whose step `review` (role `executor`, 15 calendar
//! days) may be suspended while the applicant completes their documents
//! (`incomplete_documents`, which stops the case's term of 15 calendar days too).
//!
//! The case is registered on Wednesday 15 April 2026 at 10:00 in Atyrau (+05; office hours
//! 09:00–18:00 with lunch 13:00–14:00, Monday to Friday). By the rule for calendar days (the
//! closing time of the N-th calendar day, or of the next working day when that day is not
//! one), the case is due on Thursday 30 April at 18:00. The head assigns the executor on
//! Thursday 16 April at 10:00, so the review is due on 1 May, a holiday (Unity Day, a Friday),
//! hence on Monday 4 May at 18:00.
//!
//! The review is suspended on Friday 17 April at 16:00 and resumed on Tuesday 21 April at
//! 11:00, across a weekend: 2 h on Friday (16:00–18:00), none on Saturday and Sunday, 8 h on
//! Monday, 2 h on Tuesday (09:00–11:00): 12 h = 43,200 s of working time. Both due instants
//! move by exactly that much working time:
//! - the review, from Monday 4 May 18:00: all of Tuesday 5 May (8 h), then 4 h of Wednesday
//!   6 May (09:00–13:00): due Wednesday 6 May at 13:00;
//! - the case, from Thursday 30 April 18:00: 1 May (holiday) and the weekend do not count,
//!   all of Monday 4 May (8 h), then 4 h of Tuesday 5 May: due Tuesday 5 May at 13:00.

mod support;

use serde_json::{Value, json};
use support::browser::Browser;
use support::{Resp, Server, TestDb, t, test_config};

const REGULATION: &str = "atyrau-social-assistance";
const OFFICE: &str = "atyrau-city-ozsp";
const REASON: &str = "incomplete_documents";
const REASON_RU: &str = "Потребитель восполняет неполные или недостоверные сведения";
const REASON_KK: &str = "Тұтынушы толық емес немесе дұрыс емес мәліметтерді толықтырады";
const REASON_EN: &str = "The applicant completes incomplete or inaccurate information";

async fn server() -> Server {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.demo = true;
    Server::start_with(db, config).await
}

async fn application(s: &Server) -> Value {
    let process = s.state.store.latest(REGULATION).await.expect("deployed");
    reglament_model::sample::sample(
        &process
            .regulation
            .application_form
            .as_ref()
            .expect("form")
            .0,
    )
}

/// Registers a case in the city office: its id.
async fn register(s: &Server, executor: &str) -> String {
    let r = s
        .post(
            "/api/v1/cases",
            executor,
            &json!({"regulation": REGULATION, "channel": "provider", "office": OFFICE,
                    "data": application(s).await}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json["id"].as_str().expect("id").to_string()
}

/// Claims and completes task `n` of `case` with an empty form.
async fn work(s: &Server, token: &str, case: &str, n: u32) {
    let task = format!("{case}:{n}");
    let r = s
        .post(&format!("/api/v1/tasks/{task}/claim"), token, &json!({}))
        .await;
    assert_eq!(r.status, 200, "claim {task}: {}", r.text);
    let r = s
        .post(
            &format!("/api/v1/tasks/{task}/complete"),
            token,
            &json!({"data": {}}),
        )
        .await;
    assert_eq!(r.status, 200, "complete {task}: {}", r.text);
}

async fn case(s: &Server, token: &str, id: &str) -> Value {
    let r = s.get(&format!("/api/v1/cases/{id}"), token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json
}

fn task_of(case: &Value, n: u32) -> Value {
    case["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|x| x["task"] == n)
        .cloned()
        .unwrap_or_else(|| panic!("no task {n} in {case}"))
}

fn instant(v: &Value) -> chrono::DateTime<chrono::Utc> {
    t(v.as_str().unwrap_or_else(|| panic!("not an instant: {v}")))
}

/// The inbox item of `case` among the caller's claimed tasks.
async fn claimed_item(s: &Server, token: &str, case: &str) -> Value {
    let r = s.get("/api/v1/inbox?status=claimed&limit=200", token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["case"] == case)
        .cloned()
        .unwrap_or_else(|| panic!("{case} is not in the inbox: {}", r.text))
}

fn types(r: &Resp) -> Vec<String> {
    r.json["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| e["type"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_suspension_across_a_weekend_moves_the_task_and_the_case_by_its_working_time() {
    // Without the demo cases: the timer's counts are this case's alone.
    let s = Server::start().await;
    let tokens = s.demo_users().await;
    let executor = &tokens["atyrau-city.executor"];
    let head = &tokens["atyrau-city.head"];
    let elsewhere = &tokens["atyrau-zhylyoi.executor"];
    let colleague = s
        .user("atyrau-city.executor-2", &["executor@atyrau-city-ozsp"])
        .await;

    // Wednesday 15 April, 10:00: registered; the case is due on Thursday 30 April, 18:00.
    assert_eq!(s.clock().now(), t("2026-04-15T10:00:00+05:00"));
    let id = register(&s, executor).await;
    work(&s, executor, &id, 1).await;
    let c = case(&s, executor, &id).await;
    let case_due = t("2026-04-30T18:00:00+05:00");
    assert_eq!(instant(&c["due"]), case_due, "{c}");
    // Registering allows no suspension.
    assert_eq!(task_of(&c, 1)["suspensions"], json!([]));

    // Thursday 16 April, 10:00: the head assigns the executor; the review is due on 1 May,
    // a holiday, so on Monday 4 May at 18:00.
    s.clock().set(t("2026-04-16T10:00:00+05:00"));
    work(&s, head, &id, 2).await;
    let review = format!("{id}:3");
    let c = case(&s, executor, &id).await;
    let r3 = task_of(&c, 3);
    assert_eq!(r3["step"], "review");
    let review_due = t("2026-05-04T18:00:00+05:00");
    assert_eq!(instant(&r3["due"]), review_due, "{r3}");
    assert!(r3["suspended_since"].is_null(), "{r3}");
    assert_eq!(
        r3["suspensions"],
        json!([{"reason": REASON, "stops_case_term": true,
                "name": {"kk": REASON_KK, "ru": REASON_RU, "en": REASON_EN}}]),
    );
    let r = s
        .post(
            &format!("/api/v1/tasks/{review}/claim"),
            executor,
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Friday 17 April, 16:00.
    s.clock().set(t("2026-04-17T16:00:00+05:00"));
    let suspend = format!("/api/v1/tasks/{review}/suspend");
    let resume = format!("/api/v1/tasks/{review}/resume");

    // A reason the step does not allow: 422, naming the reasons it does allow.
    let r = s
        .post(
            &suspend,
            executor,
            &json!({"reason": "incidents_documents"}),
        )
        .await;
    r.assert_problem(422, "suspension-not-allowed");
    assert!(
        r.json["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(REASON),
        "{}",
        r.text
    );
    assert_eq!(r.json["errors"][0]["pointer"], "/reason", "{}", r.text);
    assert!(
        r.json["errors"][0]["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(REASON),
        "{}",
        r.text
    );

    // Staff of another office may not know the case exists: 404, as for every task command.
    s.post(&suspend, elsewhere, &json!({"reason": REASON}))
        .await
        .assert_problem(404, "not-found");
    // An executor of the same office sees the task but does not hold it: the engine refuses
    // (only the holder or a head may suspend): 403.
    s.post(&suspend, &colleague, &json!({"reason": REASON}))
        .await
        .assert_problem(403, "not-allowed-to-suspend");
    // Nothing to resume yet.
    s.post(&resume, executor, &json!({}))
        .await
        .assert_problem(409, "not-suspended");
    // Unknown fields are refused like in every command body.
    let r = s
        .post(&suspend, executor, &json!({"reason": REASON, "why": "x"}))
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    r.assert_is_problem();

    // The holder suspends it, with an idempotency key: a retry gets the first answer.
    let first = support::send(
        s.client
            .post(format!("{}{suspend}", s.base))
            .bearer_auth(executor)
            .header("idempotency-key", "suspend-review-once")
            .json(&json!({"reason": REASON, "comment": "the income certificate is missing"})),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(types(&first), ["task_suspended"], "{}", first.text);
    let event = &first.json["events"][0]["event"];
    assert_eq!(event["reason"], REASON);
    assert_eq!(event["stops_case_term"], true);
    assert_eq!(event["comment"], "the income certificate is missing");
    let replay = support::send(
        s.client
            .post(format!("{}{suspend}", s.base))
            .bearer_auth(executor)
            .header("idempotency-key", "suspend-review-once")
            .json(&json!({"reason": REASON, "comment": "the income certificate is missing"})),
    )
    .await;
    assert_eq!(replay.status, 200, "{}", replay.text);
    assert_eq!(replay.header("idempotency-replayed"), Some("true"));
    assert_eq!(replay.json, first.json);

    // The task and the inbox show it.
    let since = t("2026-04-17T16:00:00+05:00");
    let c = case(&s, executor, &id).await;
    let r3 = task_of(&c, 3);
    assert_eq!(instant(&r3["suspended_since"]), since, "{r3}");
    assert_eq!(instant(&r3["due"]), review_due, "not moved before resuming");
    let item = claimed_item(&s, executor, &id).await;
    assert_eq!(instant(&item["suspended_since"]), since, "{item}");
    assert_eq!(item["overdue"], false);

    // A second suspension (without the key) is a conflict; so is completing it.
    s.post(&suspend, executor, &json!({"reason": REASON}))
        .await
        .assert_problem(409, "already-suspended");
    s.post(
        &format!("/api/v1/tasks/{review}/complete"),
        executor,
        &json!({"outcome": "grant", "data": {}}),
    )
    .await
    .assert_problem(409, "task-suspended");
    // Still hidden from the other office, still refused to the colleague.
    s.post(&resume, elsewhere, &json!({}))
        .await
        .assert_problem(404, "not-found");
    s.post(&resume, &colleague, &json!({}))
        .await
        .assert_problem(403, "not-allowed-to-suspend");

    // Monday 20 April: the timer has nothing to do while the time stands still.
    s.clock().set(t("2026-04-20T12:00:00+05:00"));
    assert_eq!(s.tick().await.breaches, 0);
    let item = claimed_item(&s, executor, &id).await;
    assert_eq!(instant(&item["suspended_since"]), since, "{item}");
    // The case's term is stopped too: its working time left stands still.
    let left = case(&s, executor, &id).await["working_minutes_left"].clone();
    s.clock().set(t("2026-04-20T15:00:00+05:00"));
    assert!(left.is_i64(), "{left}");
    assert_eq!(case(&s, executor, &id).await["working_minutes_left"], left);

    // Tuesday 21 April, 11:00: resumed after 12 h of working time.
    s.clock().set(t("2026-04-21T11:00:00+05:00"));
    let r = s
        .post(
            &resume,
            executor,
            &json!({"comment": "the certificate came"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(types(&r), ["task_resumed"], "{}", r.text);
    let event = &r.json["events"][0]["event"];
    assert_eq!(event["suspended_seconds"], 12 * 3600, "{}", r.text);
    assert_eq!(event["comment"], "the certificate came");

    let new_review_due = t("2026-05-06T13:00:00+05:00");
    let new_case_due = t("2026-05-05T13:00:00+05:00");
    let moved = event["moved"].as_array().expect("moved");
    assert_eq!(moved.len(), 2, "{}", r.text);
    let moves: Vec<_> = moved
        .iter()
        .map(|m| (instant(&m["from"]), instant(&m["to"])))
        .collect();
    assert!(moves.contains(&(review_due, new_review_due)), "{moves:?}");
    assert!(moves.contains(&(case_due, new_case_due)), "{moves:?}");

    let c = case(&s, executor, &id).await;
    let r3 = task_of(&c, 3);
    assert!(r3["suspended_since"].is_null(), "{r3}");
    assert_eq!(instant(&r3["due"]), new_review_due, "{r3}");
    assert_eq!(instant(&c["due"]), new_case_due, "{c}");
    let item = claimed_item(&s, executor, &id).await;
    assert!(item["suspended_since"].is_null(), "{item}");
    assert_eq!(instant(&item["due"]), new_review_due);
    // A second resumption is a conflict.
    s.post(&resume, executor, &json!({}))
        .await
        .assert_problem(409, "not-suspended");

    // Tuesday 5 May, 12:00: both original due instants have passed, the moved ones not.
    s.clock().set(t("2026-05-05T12:00:00+05:00"));
    assert_eq!(s.tick().await.breaches, 0);
    let c = case(&s, executor, &id).await;
    assert_eq!(c["breached"], false, "{c}");
    // 13:01: the case's moved due instant has passed; the review's (Wednesday 13:00) not.
    s.clock().set(t("2026-05-05T13:01:00+05:00"));
    assert_eq!(s.tick().await.breaches, 1);
    let c = case(&s, executor, &id).await;
    assert_eq!(c["breached"], true, "{c}");
    assert_eq!(task_of(&c, 3)["breached"], false, "{c}");

    // A head may suspend and resume a task they do not hold.
    let r = s.post(&suspend, head, &json!({"reason": REASON})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["events"][0]["actor"]["role"], "head");
    let r = s.post(&resume, head, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Running again, the review can be completed.
    let r = s
        .post(
            &format!("/api/v1/tasks/{review}/complete"),
            executor,
            &json!({"outcome": "grant", "data": {}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    s.stop().await;
}

/// The HTML of a page parses without errors and has a label for every visible control.
fn check_html(path: &str, body: &str) {
    let doc = scraper::Html::parse_document(body);
    assert!(doc.errors.is_empty(), "{path}: {:?}", doc.errors);
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
        assert!(
            labels.iter().any(|l| l == id),
            "{path}: a {} named {:?} has no label",
            el.name(),
            el.attr("name")
        );
    }
}

/// Whether the page has a form posting to `action`.
fn has_form(body: &str, action: &str) -> bool {
    body.contains(&format!("action=\"{action}\""))
}

/// The interface's new words in the other languages, which must not show on a page.
const ENGLISH: &[&str] = &[
    ">Suspend<",
    "Reason for suspending",
    ">Comment<",
    "Suspended since",
    ">Resume<",
];
const RUSSIAN: &[&str] = &["Приостановить", "Основание приостановления", "Комментарий"];
const KEYS: &[&str] = &[
    "suspend_task",
    "suspension_reason",
    "suspend_help",
    "suspended_since",
    "resume_to_complete",
];

fn none_of(page: &str, words: &[&str], body: &str) {
    for w in words {
        assert!(!body.contains(w), "{page} shows {w:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_task_page_suspends_and_resumes_in_the_pages_language() {
    let s = server().await;
    let tokens = s.demo_users().await;
    let executor = &tokens["atyrau-city.executor"];
    let id = register(&s, executor).await;
    work(&s, executor, &id, 1).await;
    work(&s, &tokens["atyrau-city.head"], &id, 2).await;
    let review = format!("{id}:3");
    let page_path = format!("/tasks/{review}");
    let suspend = format!("/tasks/{review}/suspend");
    let resume = format!("/tasks/{review}/resume");

    let mut b = Browser::new(&s);
    b.sign_in("atyrau-city.executor").await;
    // Not claimed yet: only its holder (or a head) may suspend it.
    let page = b.get(&format!("{page_path}?lang=ru")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!has_form(&page.body, &suspend), "{}", page.body);
    let claim = b
        .post(
            &format!("/tasks/{review}/claim"),
            &[("_csrf", &page.csrf())],
        )
        .await;
    assert_eq!(claim.status, 303, "{}", claim.body);

    // Russian: the reason by its Russian name.
    let ru = b.get(&format!("{page_path}?lang=ru")).await;
    assert_eq!(ru.status, 200, "{}", ru.body);
    check_html("task (ru)", &ru.body);
    assert!(has_form(&ru.body, &suspend), "{}", ru.body);
    assert!(
        ru.body
            .contains(&format!("<option value=\"{REASON}\">{REASON_RU}</option>")),
        "{}",
        ru.body
    );
    assert!(ru.body.contains("Основание приостановления"));
    assert!(!ru.body.contains(REASON_KK));
    none_of("task (ru)", ENGLISH, &ru.body);
    none_of("task (ru)", KEYS, &ru.body);
    // Kazakh: by its Kazakh name.
    let kk = b.get(&format!("{page_path}?lang=kk")).await;
    assert_eq!(kk.status, 200, "{}", kk.body);
    check_html("task (kk)", &kk.body);
    assert!(
        kk.body
            .contains(&format!("<option value=\"{REASON}\">{REASON_KK}</option>")),
        "{}",
        kk.body
    );
    assert!(kk.body.contains("Тоқтату негізі"));
    assert!(!kk.body.contains(REASON_RU));
    none_of("task (kk)", ENGLISH, &kk.body);
    none_of("task (kk)", RUSSIAN, &kk.body);
    none_of("task (kk)", KEYS, &kk.body);
    // English.
    let en = b.get(&format!("{page_path}?lang=en")).await;
    assert!(
        en.body
            .contains(&format!("<option value=\"{REASON}\">{REASON_EN}</option>")),
        "{}",
        en.body
    );
    none_of("task (en)", RUSSIAN, &en.body);

    // A reason the step does not allow: the page again, with the refusal (Russian).
    let csrf = ru.csrf();
    let r = b
        .post(
            &format!("{suspend}?lang=ru"),
            &[("_csrf", &csrf), ("reason", "bogus"), ("comment", "x")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.body.contains("Выберите основание приостановления"),
        "{}",
        r.body
    );
    let api = case(&s, executor, &id).await;
    assert!(task_of(&api, 3)["suspended_since"].is_null());

    // Without the session's CSRF token: refused, nothing done.
    let r = b
        .post(&suspend, &[("_csrf", "forged"), ("reason", REASON)])
        .await;
    assert_eq!(r.status, 403, "{}", r.body);

    // Suspended.
    let r = b
        .post(
            &suspend,
            &[
                ("_csrf", &csrf),
                ("reason", REASON),
                ("comment", "справка о доходах не приложена"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("{page_path}?notice=suspended_ok").as_str())
    );
    let api = case(&s, executor, &id).await;
    assert_eq!(
        instant(&task_of(&api, 3)["suspended_since"]),
        t("2026-04-15T10:00:00+05:00")
    );
    let ru = b
        .get(&format!("{page_path}?lang=ru&notice=suspended_ok"))
        .await;
    assert_eq!(ru.status, 200, "{}", ru.body);
    check_html("task suspended (ru)", &ru.body);
    assert!(ru.body.contains("Течение срока задачи приостановлено"));
    // Since when, in the office's local time, and why; a resume button; no completion.
    assert!(
        ru.body.contains("Приостановлена с 2026-04-15 10:00"),
        "{}",
        ru.body
    );
    assert!(ru.body.contains(&format!(
        "<span id=\"suspension-reason\">{REASON_RU}</span>"
    )));
    assert!(has_form(&ru.body, &resume));
    assert!(!has_form(&ru.body, &suspend));
    assert!(!has_form(&ru.body, &format!("/tasks/{review}/complete")));
    assert!(ru.body.contains("сначала возобновите течение срока"));
    none_of("task suspended (ru)", ENGLISH, &ru.body);
    none_of("task suspended (ru)", KEYS, &ru.body);
    let kk = b.get(&format!("{page_path}?lang=kk")).await;
    check_html("task suspended (kk)", &kk.body);
    assert!(
        kk.body.contains("Уақытша тоқтатылды: 2026-04-15 10:00"),
        "{}",
        kk.body
    );
    assert!(kk.body.contains(REASON_KK));
    none_of("task suspended (kk)", ENGLISH, &kk.body);
    none_of("task suspended (kk)", RUSSIAN, &kk.body);

    // A double submission: a notice, not an error.
    let r = b
        .post(&suspend, &[("_csrf", &csrf), ("reason", REASON)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("{page_path}?notice=already_suspended").as_str())
    );
    let again = b
        .get(&format!("{page_path}?lang=ru&notice=already_suspended"))
        .await;
    assert!(again.body.contains("Задача уже приостановлена"));

    // Completing from a page opened before: refused, said on the page (409).
    let r = b
        .post(
            &format!("/tasks/{review}/complete?lang=ru"),
            &[("_csrf", &csrf), ("_outcome", "grant")],
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body.contains("сначала возобновите течение срока"),
        "{}",
        r.body
    );

    // The inbox marks the row, without overdue or warning colours.
    let inbox = b.get("/inbox?lang=ru").await;
    assert_eq!(inbox.status, 200, "{}", inbox.body);
    check_html("inbox (ru)", &inbox.body);
    assert!(
        inbox
            .body
            .contains(&format!("<tr id=\"task-{review}\" class=\"suspended\">")),
        "{}",
        inbox.body
    );
    assert!(inbox.body.contains("Приостановлена с 2026-04-15 10:00"));
    let inbox_kk = b.get("/inbox?lang=kk").await;
    assert!(
        inbox_kk
            .body
            .contains("Уақытша тоқтатылды: 2026-04-15 10:00")
    );
    none_of("inbox (kk)", ENGLISH, &inbox_kk.body);

    // Resumed; a second resumption is a notice too.
    let r = b.post(&resume, &[("_csrf", &csrf), ("comment", "")]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("{page_path}?notice=resumed_ok").as_str())
    );
    let r = b.post(&resume, &[("_csrf", &csrf)]).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("{page_path}?notice=not_suspended").as_str())
    );
    let api = case(&s, executor, &id).await;
    assert!(task_of(&api, 3)["suspended_since"].is_null());
    let ru = b.get(&format!("{page_path}?lang=ru")).await;
    assert!(has_form(&ru.body, &suspend));
    assert!(has_form(&ru.body, &format!("/tasks/{review}/complete")));
    let inbox = b.get("/inbox?lang=ru").await;
    assert!(inbox.body.contains(&format!("<tr id=\"task-{review}\">")));

    // A colleague who does not hold the task sees no form and is refused (403, in Russian).
    let mut other = Browser::new(&s);
    other.sign_in("atyrau-city.head").await;
    let head_page = other.get(&format!("{page_path}?lang=ru")).await;
    // A head may suspend any task of the office.
    assert!(has_form(&head_page.body, &suspend), "{}", head_page.body);
    s.state
        .accounts
        .create_user(
            &reglament_server::accounts::NewUser {
                login: "atyrau-city.executor-2".into(),
                display_name: "Executor 2".into(),
                password_hash: Some(
                    reglament_server::auth::password::hash(
                        reglament_server::demo::DEMO_PASSWORD.to_string(),
                        reglament_server::auth::password::Cost::Fast,
                    )
                    .await
                    .expect("hash"),
                ),
                must_change_password: false,
                grants: vec![reglament_server::accounts::GrantRecord {
                    role: "executor".into(),
                    office: OFFICE.into(),
                }],
                created_by: "test".into(),
            },
            support::t0(),
        )
        .await
        .expect("user");
    let mut colleague = Browser::new(&s);
    colleague.sign_in("atyrau-city.executor-2").await;
    let page = colleague.get(&format!("{page_path}?lang=ru")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(!has_form(&page.body, &suspend), "{}", page.body);
    let r = colleague
        .post(
            &format!("{suspend}?lang=ru"),
            &[("_csrf", &page.csrf()), ("reason", REASON)],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body.contains("взявший задачу сотрудник"), "{}", r.body);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_suspend_and_resume() {
    let s = Server::start().await;
    let doc = s.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(doc.status, 200);
    let schemas = &doc.json["components"]["schemas"];
    for (path, body) in [
        ("/api/v1/tasks/{id}/suspend", "SuspendTask"),
        ("/api/v1/tasks/{id}/resume", "ResumeTask"),
    ] {
        let op = &doc.json["paths"][path]["post"];
        assert!(op.is_object(), "{path} is not in the document");
        assert_eq!(
            op["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            format!("#/components/schemas/{body}"),
            "{path}"
        );
        assert!(schemas[body].is_object(), "{body}");
        let responses = op["responses"].as_object().expect("responses");
        for status in ["401", "403", "404", "409", "422"] {
            assert!(
                responses[status]["content"]["application/problem+json"].is_object(),
                "{path} {status}: {}",
                op["responses"]
            );
        }
        assert_eq!(
            responses["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/CommandResultDto"
        );
    }
    assert_eq!(
        schemas["SuspendTask"]["required"],
        json!(["reason"]),
        "{}",
        schemas["SuspendTask"]
    );
    // The task and inbox bodies say since when a task is suspended, and what it may be
    // suspended for.
    let task = &schemas["TaskDto"]["properties"];
    assert!(task["suspended_since"].is_object(), "{task}");
    assert!(task["suspensions"].is_object(), "{task}");
    assert!(schemas["SuspensionDto"]["properties"]["stops_case_term"].is_object());
    assert!(schemas["InboxTaskDto"]["properties"]["suspended_since"].is_object());
    s.stop().await;
}
