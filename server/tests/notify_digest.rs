//! The daily digest of an office's overdue tasks, through the server on a manual clock, the
//! e-mails read back from a local SMTP server (aiosmtpd). In Atyrau (+05, open 09:00–18:00):
//! - Tuesday 28 April 2026, 10:00: two cases start; the office's day is open and nothing is
//!   overdue, so the day's digest is done with no e-mail, and stays done when a task falls
//!   late at 11:00 (the digest is the opening's, not a running alert);
//! - Wednesday 29 April, 09:00 (not at 08:59): each user of the office who chose the digest
//!   gets one e-mail in their language, listing the late registration and not the review due
//!   that evening, and so does another office's head acting for one of its heads under a
//!   deputy rule (Wednesday and Thursday only: not on Monday); a user who did not choose it,
//!   and a head of an office with nothing late, get none; on PostgreSQL a second server makes the digests at the same instant, and each
//!   recipient still gets one;
//! - a restart later that morning makes none again;
//! - Friday 1 May (Unity Day) and the weekend: nothing; Monday 4 May: the next digest;
//! - Tuesday 5 May, with nothing late any more: nothing.

mod notify_common;
mod support;

use std::time::Duration;

use notify_common::{Mail, Smtp};
use reglament_model::text::Lang;
use reglament_server::notify::{self, NotifyConfig, tables};
use serde_json::{Value, json};
use support::{Server, TestDb, t, test_config};

const OFFICE: &str = "atyrau-city-ozsp";
const OTHER: &str = "atyrau-zhylyoi-ozsp";

fn config(smtp: &Smtp) -> NotifyConfig {
    NotifyConfig {
        smtp_url: Some(smtp.url()),
        timeout: Duration::from_secs(5),
        ..NotifyConfig::default()
    }
}

async fn settings(s: &Server, token: &str, body: Value) {
    let r = s
        .call("PUT", "/api/v1/me/notifications", Some(token), Some(&body))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Only the digest, so that the e-mails counted are digests.
fn digest_only(email: &str, lang: &str) -> Value {
    json!({"email": email, "language": lang,
           "choices": {"task": "off", "warning": "off", "breach": "off",
                       "escalation": "off", "digest": "opening"}})
}

async fn complete(s: &Server, token: &str, task: &str, body: Value) {
    let r = s
        .post(&format!("/api/v1/tasks/{task}/claim"), token, &json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .post(&format!("/api/v1/tasks/{task}/complete"), token, &body)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

fn office_name(s: &Server, lang: Lang) -> String {
    s.state
        .calendars
        .offices()
        .find(|o| o.data.id == OFFICE)
        .expect("the office")
        .data
        .name
        .get(lang)
        .to_string()
}

async fn digests(s: &Server) -> Vec<tables::Notice> {
    tables::all(&s.state.store)
        .await
        .expect("notices")
        .into_iter()
        .filter(|n| n.kind == "digest")
        .collect()
}

/// One round at `at`; the e-mails received since `before`.
async fn round_at(s: &Server, smtp: &Smtp, at: &str, before: usize) -> Vec<Mail> {
    s.clock().set(t(at));
    notify::round(&s.state, &config(smtp))
        .await
        .expect("a round");
    smtp.mails().into_iter().skip(before).collect()
}

async fn digest_scenario(db: TestDb) {
    let Some(smtp) = Smtp::start() else {
        return;
    };
    let pg = db.url.starts_with("postgres");
    let url = db.url.clone();
    let s = Server::start_at_with(t("2026-04-28T10:00:00+05:00"), db, test_config(&url)).await;
    let analyst = s.user("analyst", &["analyst"]).await;
    let r = support::send(
        s.client
            .post(format!("{}/api/v1/regulations", s.base))
            .bearer_auth(&analyst)
            .header("content-type", "application/yaml")
            .body(reglament_testkit::fixtures::REGISTER_REVIEW),
    )
    .await;
    assert!(r.status == 201 || r.status == 200, "deploy: {}", r.text);

    let head_ru = s.user("head.ru", &[&format!("head@{OFFICE}")]).await;
    let head_en = s.user("head.en", &[&format!("head@{OFFICE}")]).await;
    let exec_kk = s.user("exec.kk", &[&format!("executor@{OFFICE}")]).await;
    let exec_quiet = s.user("exec.quiet", &[&format!("executor@{OFFICE}")]).await;
    let head_other = s.user("head.other", &[&format!("head@{OTHER}")]).await;
    // The other office's second head acts as head.ru's deputy from Wednesday: the office's
    // digest is theirs too on those days.
    let acting = s.user("dep.head", &[&format!("head@{OTHER}")]).await;
    settings(&s, &acting, digest_only("dep.head@example.kz", "ru")).await;
    let r = s
        .post(
            "/api/v1/deputies",
            &head_ru,
            &json!({"principal": "head.ru", "deputy": "dep.head", "office": OFFICE,
                    "roles": ["head"], "valid_from": "2026-04-29", "valid_to": "2026-04-30",
                    "order_number": "№ 12-к"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    settings(&s, &head_ru, digest_only("head.ru@example.kz", "ru")).await;
    settings(&s, &head_en, digest_only("head.en@example.kz", "en")).await;
    settings(&s, &exec_kk, digest_only("exec.kk@example.kz", "kk")).await;
    settings(&s, &head_other, digest_only("head.other@example.kz", "en")).await;
    // exec.quiet gave an address and never chose the digest: it is off unless chosen.
    settings(
        &s,
        &exec_quiet,
        json!({"email": "quiet@example.kz", "language": "ru",
               "choices": {"task": "off", "warning": "off", "breach": "off", "escalation": "off"}}),
    )
    .await;
    let r = s.get("/api/v1/me/notifications", &exec_quiet).await;
    assert_eq!(r.json["choices"]["digest"], "off", "{}", r.text);
    let r = s.get("/api/v1/me/notifications", &exec_kk).await;
    assert_eq!(r.json["choices"]["digest"], "opening", "{}", r.text);
    // The digest comes at the opening; "at once" means nothing for it.
    let mut now = digest_only("x@example.kz", "ru");
    now["choices"]["digest"] = json!("now");
    s.call(
        "PUT",
        "/api/v1/me/notifications",
        Some(&exec_kk),
        Some(&now),
    )
    .await
    .assert_problem(422, "bad-choice");

    // Tuesday 10:00: case A's registration is due 10:15; case B is registered at once, so its
    // review is due Wednesday 18:00.
    let start = |name: &'static str| {
        let s = &s;
        let token = exec_kk.clone();
        async move {
            let r = s
                .post(
                    "/api/v1/cases",
                    &token,
                    &json!({"regulation": "register-review", "channel": "provider",
                            "office": OFFICE, "data": {"full_name": name}}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
            r.json["id"].as_str().expect("id").to_string()
        }
    };
    let a = start("Айгүл Серікова").await;
    let b = start("Болат Ахметов").await;
    complete(&s, &exec_kk, &format!("{b}:1"), json!({"data": {}})).await;

    // The day's digest is made at once, with nothing late: no e-mail, and none at 11:00
    // when A's registration is late (that waits for tomorrow's opening).
    assert!(
        round_at(&s, &smtp, "2026-04-28T10:00:00+05:00", 0)
            .await
            .is_empty()
    );
    assert!(
        round_at(&s, &smtp, "2026-04-28T11:00:00+05:00", 0)
            .await
            .is_empty()
    );
    assert!(digests(&s).await.is_empty());

    // Wednesday: nothing before the opening.
    assert!(
        round_at(&s, &smtp, "2026-04-29T08:59:00+05:00", 0)
            .await
            .is_empty()
    );
    s.clock().set(t("2026-04-29T09:00:00+05:00"));
    let second = if pg {
        // A second server on the same database, at the same instant.
        let other = Server::start_on(&url, test_config(&url)).await;
        other.clock().set(t("2026-04-29T09:00:00+05:00"));
        let c = config(&smtp);
        let (x, y) = tokio::join!(notify::round(&s.state, &c), notify::round(&other.state, &c));
        let (x, y) = (x.expect("round"), y.expect("round"));
        assert_eq!(x.digests + y.digests, 4, "{x:?} {y:?}");
        // Whatever one of them claimed and the other did not send yet.
        notify::round(&other.state, &c).await.expect("round");
        Some(other)
    } else {
        notify::round(&s.state, &config(&smtp))
            .await
            .expect("round");
        None
    };
    notify::round(&s.state, &config(&smtp))
        .await
        .expect("round");
    let mails = smtp.mails();
    let mut to: Vec<&str> = mails.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(
        to,
        [
            "dep.head@example.kz",
            "exec.kk@example.kz",
            "head.en@example.kz",
            "head.ru@example.kz"
        ],
        "{mails:#?}"
    );
    let mail = |to: &str| {
        mails
            .iter()
            .find(|m| m.to == to)
            .unwrap_or_else(|| panic!("no mail to {to}"))
    };
    let ru = mail("head.ru@example.kz");
    assert_eq!(
        ru.subject,
        format!(
            "Просроченные задачи: 1 — {}, 2026-04-29",
            office_name(&s, Lang::Ru)
        )
    );
    assert!(
        ru.body.contains(&format!(
            "- {a}, задача 1: Регистрация (Исполнитель); срок 2026-04-28 10:15, просрочено на 22 ч 45 мин"
        )),
        "{ru:#?}"
    );
    // B's review is due this evening: not late.
    assert!(!ru.body.contains(&b), "{ru:#?}");
    assert!(
        ru.body
            .contains("/inbox?office=atyrau-city-ozsp&overdue=on"),
        "{ru:#?}"
    );
    let en = mail("head.en@example.kz");
    assert!(en.subject.starts_with("Overdue tasks: 1 — "), "{en:#?}");
    assert!(
        en.body.contains(&format!(
            "- {a}, task 1: Registration (Executor); due 2026-04-28 10:15, 22 h 45 min late"
        )),
        "{en:#?}"
    );
    // English words only, but for the office's name where its file gives none in English.
    let words = (en.subject.clone() + &en.body).replace(&office_name(&s, Lang::En), "");
    assert!(!words.chars().any(|c| ('а'..='я').contains(&c)), "{en:#?}");
    let kk = mail("exec.kk@example.kz");
    assert!(
        kk.subject.starts_with("Мерзімі өткен тапсырмалар: 1 — "),
        "{kk:#?}"
    );
    assert!(
        kk.body.contains(&format!(
            "- {a}, 1-тапсырма: Тіркеу (Орындаушы); мерзімі 2026-04-28 10:15, 22 сағ 45 мин кешікті"
        )),
        "{kk:#?}"
    );
    // Each notice reached its recipient once, by Message-ID.
    // The deputy's is the office's, in their language.
    let dep = mail("dep.head@example.kz");
    assert!(
        dep.body
            .contains(&format!("- {a}, задача 1: Регистрация (Исполнитель)")),
        "{dep:#?}"
    );
    let made = digests(&s).await;
    assert_eq!(made.len(), 4, "{made:#?}");
    for n in &made {
        assert_eq!(n.status, "delivered", "{n:?}");
        assert_eq!(n.digest_office.as_deref(), Some(OFFICE));
        assert_eq!(n.digest_day.as_deref(), Some("2026-04-29"));
        let id = format!("<{}@reglament>", n.id);
        assert_eq!(
            mails.iter().filter(|m| m.message_id == id).count(),
            1,
            "{id}"
        );
    }
    if let Some(other) = second {
        other.shut_down().await;
    }

    // A restart at 09:30 the same day: nothing again.
    let db = s.shut_down().await.expect("the database");
    let s = Server::start_at_with(t("2026-04-29T09:30:00+05:00"), db, test_config(&url)).await;
    assert!(
        round_at(&s, &smtp, "2026-04-29T09:30:00+05:00", 4)
            .await
            .is_empty()
    );
    assert!(
        round_at(&s, &smtp, "2026-04-29T17:00:00+05:00", 4)
            .await
            .is_empty()
    );
    assert_eq!(digests(&s).await.len(), 4);

    // Unity Day (Friday 1 May) and the weekend send nothing; Monday's opening does.
    for at in [
        "2026-04-30T18:30:00+05:00",
        "2026-05-01T09:00:00+05:00",
        "2026-05-01T12:00:00+05:00",
        "2026-05-02T09:00:00+05:00",
        "2026-05-03T11:00:00+05:00",
    ] {
        let before = smtp.mails().len();
        assert!(round_at(&s, &smtp, at, before).await.is_empty(), "{at}");
    }
    // Thursday 30 April was a working day, but no server ran in its open hours (the first
    // round was at 18:30, after closing): the day is skipped, not made late.
    assert!(
        !digests(&s)
            .await
            .iter()
            .any(|n| n.digest_day.as_deref() == Some("2026-04-30"))
    );
    let before = smtp.mails().len();
    let monday = round_at(&s, &smtp, "2026-05-04T09:00:00+05:00", before).await;
    // The deputy rule ended on Thursday: Monday's digests are the office's own three.
    assert_eq!(monday.len(), 3, "{monday:#?}");
    assert!(!monday.iter().any(|m| m.to == "dep.head@example.kz"));
    let ru = monday
        .iter()
        .find(|m| m.to == "head.ru@example.kz")
        .expect("head.ru");
    // A's registration, and now B's review (due Wednesday 18:00), most late first.
    let (ia, ib) = (
        ru.body.find(&format!("- {a}, задача 1")).expect("A"),
        ru.body
            .find(&format!("- {b}, задача 2: Рассмотрение"))
            .expect("B"),
    );
    assert!(ia < ib, "{ru:#?}");
    assert!(
        ru.subject.starts_with("Просроченные задачи: 2 — "),
        "{ru:#?}"
    );
    assert!(ru.body.contains("просрочено на 5 дн. 22 ч"), "{ru:#?}");

    // Both are done on Monday: A registered (its review is due Tuesday 18:00), B granted.
    complete(&s, &exec_kk, &format!("{a}:1"), json!({"data": {}})).await;
    complete(
        &s,
        &exec_kk,
        &format!("{b}:2"),
        json!({"outcome": "grant", "data": {}}),
    )
    .await;
    let before = smtp.mails().len();
    assert!(
        round_at(&s, &smtp, "2026-05-05T09:00:00+05:00", before)
            .await
            .is_empty()
    );
    assert_eq!(digests(&s).await.len(), 7);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_of_overdue_tasks_at_each_working_opening_once() {
    digest_scenario(TestDb::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_of_overdue_tasks_at_each_working_opening_once_on_postgres_with_two_servers() {
    if let Some(db) = TestDb::postgres().await {
        digest_scenario(db).await;
    }
}
