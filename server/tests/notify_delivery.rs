//! Notifications through the server, rounds run by hand on a manual clock: a webhook receiver
//! that fails five times and then succeeds gets the notice once more, with the same
//! idempotency key and a signature it can check (on SQLite and PostgreSQL); staff notices go
//! out in each recipient's language, only for what they chose, and within office hours (a
//! breach at 20:00 reaches the head at 09:00 the next working day, unless the head asked for
//! it at once), checked on the e-mails a local SMTP server (aiosmtpd) received.

mod notify_common;
mod support;

use std::time::Duration;

use notify_common::{Mail, Receiver, SECRET, Smtp, expected_signature};

use reglament_server::notify::{self, NotifyConfig, tables};
use serde_json::{Value, json};
use support::{Server, TestDb, t, test_config};

const OFFICE: &str = "atyrau-city-ozsp";

// ------------------------------------------------------------------ helpers

fn fast(smtp: Option<String>) -> NotifyConfig {
    NotifyConfig {
        smtp_url: smtp,
        backoff_first: Duration::from_secs(60),
        backoff_max: Duration::from_secs(600),
        timeout: Duration::from_secs(5),
        ..NotifyConfig::default()
    }
}

async fn deploy_escalated(s: &Server) {
    let analyst = s.user("analyst", &["analyst"]).await;
    let r = support::send(
        s.client
            .post(format!("{}/api/v1/regulations", s.base))
            .bearer_auth(&analyst)
            .header("content-type", "application/yaml")
            .body(reglament_testkit::fixtures::REGISTER_REVIEW_ESCALATED),
    )
    .await;
    assert!(r.status == 201 || r.status == 200, "deploy: {}", r.text);
}

async fn start_case(s: &Server, token: &str) -> String {
    let r = s
        .post(
            "/api/v1/cases",
            token,
            &json!({"regulation": "register-review-escalated", "channel": "provider",
                    "office": OFFICE, "data": {"full_name": "Айгүл Серікова"}}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json["id"].as_str().expect("id").to_string()
}

async fn settings(s: &Server, token: &str, body: Value) {
    let r = s
        .call("PUT", "/api/v1/me/notifications", Some(token), Some(&body))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

// ------------------------------------------------------------------ the tests

async fn webhook_retried_until_it_succeeds(db: TestDb) {
    let config = test_config(&db.url);
    let s = Server::start_at_with(t("2026-04-14T10:00:00+05:00"), db, config).await;
    deploy_escalated(&s).await;
    let admin = s.user("root", &["administrator"]).await;
    let executor = s.user("exec", &[&format!("executor@{OFFICE}")]).await;
    let (url, receiver) = Receiver::start(5).await;

    // Only an administrator adds subscribers; the secret is never shown back.
    let hook = json!({"id": "egov-portal", "url": url, "secret": SECRET,
                      "events": ["registered", "result_ready"], "reason": "the e-gov portal"});
    let r = s.post("/api/v1/webhooks", &executor, &hook).await;
    r.assert_problem(403, "not-allowed-to-manage-users");
    let r = s.post("/api/v1/webhooks", &admin, &hook).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(!r.text.contains(SECRET), "{}", r.text);
    let r = s.get("/api/v1/webhooks", &admin).await;
    assert_eq!(r.json[0]["id"], "egov-portal", "{}", r.text);
    assert!(!r.text.contains(SECRET), "{}", r.text);
    let r = s.post("/api/v1/webhooks", &admin, &hook).await;
    r.assert_problem(409, "webhook-exists");
    let mut bad = hook.clone();
    bad["id"] = json!("other");
    bad["secret"] = json!("short");
    s.post("/api/v1/webhooks", &admin, &bad)
        .await
        .assert_problem(422, "bad-secret");

    let case = start_case(&s, &executor).await;
    let config = fast(None);
    let mut rounds = 0;
    loop {
        let r = notify::round(&s.state, &config).await.expect("a round");
        rounds += 1;
        if r.delivered == 1 {
            break;
        }
        assert!(rounds < 10, "not delivered after {rounds} rounds");
        // While it fails, the notice shows its attempts and the last error.
        let n = s
            .get(&format!("/api/v1/cases/{case}/notices"), &admin)
            .await;
        assert_eq!(n.json[0]["status"], "pending", "{}", n.text);
        assert_eq!(n.json[0]["attempts"], rounds, "{}", n.text);
        assert!(
            n.json[0]["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("503")),
            "{}",
            n.text
        );
        // No attempt before the backoff has passed.
        assert_eq!(
            notify::round(&s.state, &config)
                .await
                .expect("round")
                .delivered,
            0
        );
        assert_eq!(receiver.hits().len(), rounds);
        s.clock().advance(chrono::Duration::minutes(20));
    }
    let hits = receiver.hits();
    assert_eq!(hits.len(), 6, "five failures and one success");
    assert_eq!(hits.iter().filter(|h| h.status == 200).count(), 1);
    let notices = tables::of_case(&s.state.store, &case)
        .await
        .expect("notices");
    assert_eq!(notices.len(), 1, "{notices:?}");
    let n = &notices[0];
    assert_eq!((n.status.as_str(), n.attempts), ("delivered", 6));
    assert_eq!(n.last_error, None);
    for h in &hits {
        assert_eq!(h.key, n.id, "the same idempotency key on every attempt");
        assert_eq!(h.signature, expected_signature(&h.timestamp, &h.body));
        let body: Value = serde_json::from_str(&h.body).expect("JSON");
        assert_eq!(body["event"], "registered");
        assert_eq!(body["case"], case.as_str());
        assert!(body["due"].is_string(), "{body}");
        // Only what the portal needs: nothing of the applicant's data or the staff.
        assert!(
            !h.body.contains("Айгүл") && !h.body.contains("exec"),
            "{}",
            h.body
        );
    }
    // Nothing more to send.
    s.clock().advance(chrono::Duration::hours(2));
    let r = notify::round(&s.state, &config).await.expect("round");
    assert_eq!((r.taken, r.delivered, r.failed), (0, 0, 0));
    assert_eq!(receiver.hits().len(), 6);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_failing_five_times_gets_the_notice_once_with_the_same_key() {
    webhook_retried_until_it_succeeds(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_failing_five_times_gets_the_notice_once_with_the_same_key_on_postgres() {
    if let Some(db) = TestDb::postgres().await {
        webhook_retried_until_it_succeeds(db).await;
    }
}

/// Tuesday 14 April 2026, 17:00 in Atyrau: the case starts; its review (1 working day) is due
/// Wednesday 17:00 and breached by the timer at 20:00, after hours, which escalates to the
/// head.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_notices_follow_language_choice_and_office_hours() {
    let Some(smtp) = Smtp::start() else {
        return;
    };
    let db = TestDb::sqlite();
    let config = test_config(&db.url);
    let s = Server::start_at_with(t("2026-04-14T17:00:00+05:00"), db, config).await;
    deploy_escalated(&s).await;
    let executor = format!("executor@{OFFICE}");
    let head = format!("head@{OFFICE}");
    let kk = s.user("exec.kk", &[&executor]).await;
    let en = s.user("exec.en", &[&executor]).await;
    let _silent = s.user("exec.none", &[&executor]).await;
    let head_ru = s.user("head.ru", &[&head]).await;
    let head_now = s.user("head.now", &[&head]).await;
    let elsewhere = s
        .user("exec.other", &["executor@atyrau-zhylyoi-ozsp"])
        .await;
    settings(
        &s,
        &kk,
        json!({"email": "kk@example.kz", "language": "kk",
                             "choices": {"task": "now"}}),
    )
    .await;
    settings(
        &s,
        &en,
        json!({"email": "en@example.kz", "language": "en",
                             "choices": {"task": "off", "breach": "now"}}),
    )
    .await;
    settings(
        &s,
        &head_ru,
        json!({"email": "head.ru@example.kz", "language": "ru"}),
    )
    .await;
    settings(
        &s,
        &head_now,
        json!({"email": "head.now@example.kz", "language": "en",
                                   "choices": {"escalation": "now"}}),
    )
    .await;
    settings(
        &s,
        &elsewhere,
        json!({"email": "other@example.kz", "language": "ru",
                                    "choices": {"task": "now"}}),
    )
    .await;
    // Settings are checked and read back.
    s.call(
        "PUT",
        "/api/v1/me/notifications",
        Some(&kk),
        Some(&json!({"email": "not an address", "language": "kk"})),
    )
    .await
    .assert_problem(422, "bad-email");
    s.call(
        "PUT",
        "/api/v1/me/notifications",
        Some(&kk),
        Some(&json!({"language": "kk", "choices": {"digest": "now"}})),
    )
    .await
    .assert_problem(422, "bad-choice");
    let r = s.get("/api/v1/me/notifications", &en).await;
    assert_eq!(r.json["choices"]["task"], "off", "{}", r.text);
    assert_eq!(r.json["choices"]["escalation"], "opening", "{}", r.text);

    let case = start_case(&s, &kk).await;
    let config = fast(Some(smtp.url()));
    notify::round(&s.state, &config).await.expect("round");
    // Task 1 opened for the executors of the office: exec.kk (at once, in Kazakh) only;
    // exec.en chose no task notices, exec.none gave no address, exec.other is elsewhere.
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].to, "kk@example.kz");
    assert!(
        mails[0].subject.starts_with("Жаңа тапсырма: Тіркеу"),
        "{:?}",
        mails[0]
    );
    assert!(mails[0].body.contains("1-тапсырма"), "{:?}", mails[0]);

    // Register (task 1), which opens the review (task 2) for the role: kk again.
    let task = format!("{case}:1");
    let r = s
        .post(&format!("/api/v1/tasks/{task}/claim"), &kk, &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .post(
            &format!("/api/v1/tasks/{task}/complete"),
            &kk,
            &json!({"data": {}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    notify::round(&s.state, &config).await.expect("round");
    assert_eq!(smtp.mails().len(), 2);

    // The review breaches; the timer runs at 20:00.
    s.clock().set(t("2026-04-15T20:00:00+05:00"));
    let round = s.tick().await;
    assert_eq!(round.breaches, 1, "{round:?}");
    notify::round(&s.state, &config).await.expect("round");
    let notices = tables::of_case(&s.state.store, &case)
        .await
        .expect("notices");
    let of = |kind: &str, to: &str| {
        notices
            .iter()
            .find(|n| n.kind == kind && n.recipient == to)
            .unwrap_or_else(|| panic!("no {kind} notice to {to}: {notices:#?}"))
            .clone()
    };
    let breach_at = t("2026-04-15T20:00:00+05:00").timestamp_micros();
    let opening = t("2026-04-16T09:00:00+05:00").timestamp_micros();
    // The breach of an unclaimed task goes to the role: exec.kk by default at the opening,
    // exec.en at once as chosen.
    assert_eq!(of("breach", "exec.kk").not_before, opening);
    assert_eq!(of("breach", "exec.en").not_before, breach_at);
    assert_eq!(of("escalation", "head.ru").not_before, opening);
    assert_eq!(of("escalation", "head.now").not_before, breach_at);
    assert_eq!(of("escalation", "head.ru").language, "ru");
    assert!(
        !notices
            .iter()
            .any(|n| n.recipient == "exec.none" || n.recipient == "exec.other")
    );
    assert!(
        !notices
            .iter()
            .any(|n| n.recipient == "exec.en" && n.kind == "task")
    );

    // At 20:00 only what was asked for at once is sent.
    let mails = smtp.mails();
    let late: Vec<&Mail> = mails[2..].iter().collect();
    let mut to: Vec<&str> = late.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["en@example.kz", "head.now@example.kz"], "{late:?}");
    let head_mail = late
        .iter()
        .find(|m| m.to == "head.now@example.kz")
        .expect("head");
    assert!(
        head_mail.subject.starts_with("Escalation: Review"),
        "{head_mail:?}"
    );
    assert!(
        head_mail.body.contains("escalated to you as head"),
        "{head_mail:?}"
    );
    let en_mail = late.iter().find(|m| m.to == "en@example.kz").expect("en");
    assert!(
        en_mail.subject.starts_with("Overdue: Review"),
        "{en_mail:?}"
    );

    // Thursday 08:59: still nothing; 09:00: the head in Russian, and exec.kk in Kazakh.
    s.clock().set(t("2026-04-16T08:59:00+05:00"));
    notify::round(&s.state, &config).await.expect("round");
    assert_eq!(smtp.mails().len(), 4);
    s.clock().set(t("2026-04-16T09:00:00+05:00"));
    notify::round(&s.state, &config).await.expect("round");
    let mails = smtp.mails();
    assert_eq!(mails.len(), 6, "{mails:?}");
    let head_ru_mail = mails
        .iter()
        .find(|m| m.to == "head.ru@example.kz")
        .expect("head.ru");
    assert!(
        head_ru_mail.subject.starts_with("Эскалация: Рассмотрение"),
        "{head_ru_mail:?}"
    );
    assert!(
        head_ru_mail.body.contains("руководителю"),
        "{head_ru_mail:?}"
    );
    let kk_breach = mails
        .iter()
        .find(|m| m.to == "kk@example.kz" && m.subject.contains("өтіп"))
        .expect("the breach in Kazakh");
    assert!(
        kk_breach.subject.starts_with("Мерзімі өтіп кетті: Қарау"),
        "{kk_breach:?}"
    );
    // Every e-mail carries its notice's id, once.
    let all = tables::of_case(&s.state.store, &case)
        .await
        .expect("notices");
    for n in all.iter().filter(|n| n.channel == "email") {
        assert_eq!(n.status, "delivered", "{n:?}");
        let id = format!("<{}@reglament>", n.id);
        assert_eq!(
            mails.iter().filter(|m| m.message_id == id).count(),
            1,
            "{id}"
        );
    }
    s.stop().await;
}

/// What the applicant's portal hears of a case, registration and result ready, is exactly
/// what it needs to tell the applicant: the registration number, the service, the office,
/// when, the due date or the result; not the application's data nor who worked on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_portal_hears_registration_and_result_without_personal_data() {
    let db = TestDb::sqlite();
    let config = test_config(&db.url);
    let s = Server::start_at_with(t("2026-04-14T10:00:00+05:00"), db, config).await;
    deploy_escalated(&s).await;
    let admin = s.user("root", &["administrator"]).await;
    let executor = s.user("exec", &[&format!("executor@{OFFICE}")]).await;
    let (url, receiver) = Receiver::start(0).await;
    let hook = json!({"id": "egov-portal", "url": url, "secret": SECRET,
                      "events": ["registered", "result_ready"], "reason": "the e-gov portal"});
    let r = s.post("/api/v1/webhooks", &admin, &hook).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let case = start_case(&s, &executor).await;
    for (task, body) in [
        (1, json!({"data": {}})),
        (2, json!({"outcome": "grant", "data": {}})),
    ] {
        let task = format!("{case}:{task}");
        let r = s
            .post(
                &format!("/api/v1/tasks/{task}/claim"),
                &executor,
                &json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let r = s
            .post(&format!("/api/v1/tasks/{task}/complete"), &executor, &body)
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let r = notify::round(&s.state, &fast(None)).await.expect("a round");
    assert_eq!(r.delivered, 2, "{r:?}");
    let hits = receiver.hits();
    assert_eq!(hits.len(), 2, "{hits:?}");
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().expect("an object").keys().cloned().collect();
        k.sort_unstable();
        k
    };
    let bodies: Vec<Value> = hits
        .iter()
        .map(|h| serde_json::from_str(&h.body).expect("JSON"))
        .collect();
    let registered = bodies
        .iter()
        .find(|b| b["event"] == "registered")
        .expect("registered");
    assert_eq!(
        keys(registered),
        [
            "at",
            "case",
            "due",
            "event",
            "id",
            "office",
            "registered_at",
            "regulation"
        ]
    );
    let ready = bodies
        .iter()
        .find(|b| b["event"] == "result_ready")
        .expect("result_ready");
    assert_eq!(
        keys(ready),
        [
            "at",
            "case",
            "event",
            "id",
            "office",
            "regulation",
            "result"
        ]
    );
    assert_eq!(ready["result"], "granted");
    for (b, h) in bodies.iter().zip(&hits) {
        assert_eq!(b["case"], case.as_str());
        assert_eq!(b["office"], OFFICE);
        assert_eq!(b["regulation"], "register-review-escalated");
        assert!(
            !h.body.contains("Айгүл") && !h.body.contains("exec"),
            "{}",
            h.body
        );
        assert_eq!(h.signature, expected_signature(&h.timestamp, &h.body));
    }
    s.stop().await;
}
