//! Notices under deputy rules: while a rule is in force, its deputy hears what the principal
//! hears in the rule's roles at its office (a task opened to the role, a breach of the
//! principal's task), in the deputy's own language and told whom they act for; a rule not yet
//! in force, or for another role, adds no one; a person who holds the role themselves gets one
//! notice, not two. Checked on the e-mails a local SMTP server (aiosmtpd) received.

mod notify_common;
mod support;

use std::time::Duration;

use notify_common::Smtp;
use reglament_server::notify::{self, NotifyConfig, tables};
use serde_json::{Value, json};
use support::{Server, TestDb, t, test_config};

const OFFICE: &str = "atyrau-city-ozsp";
const OTHER: &str = "atyrau-zhylyoi-ozsp";

async fn settings(s: &Server, token: &str, body: Value) {
    let r = s
        .call("PUT", "/api/v1/me/notifications", Some(token), Some(&body))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

fn rule(principal: &str, deputy: &str, roles: &[&str], from: &str, to: &str) -> Value {
    json!({"principal": principal, "deputy": deputy, "office": OFFICE, "roles": roles,
           "valid_from": from, "valid_to": to, "order_number": "№ 45-к"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deputy_in_force_hears_what_the_principal_hears() {
    let Some(smtp) = Smtp::start() else {
        return;
    };
    let db = TestDb::sqlite();
    let config = test_config(&db.url);
    // Wednesday 15 April 2026, 10:00 in Atyrau.
    let s = Server::start_at_with(t("2026-04-15T10:00:00+05:00"), db, config).await;
    let head = s.user("head1", &[&format!("head@{OFFICE}")]).await;
    let principal = s.user("exec1", &[&format!("executor@{OFFICE}")]).await;
    let deputy = s.user("dep", &[&format!("executor@{OTHER}")]).await;
    let later = s.user("dep.later", &[&format!("executor@{OTHER}")]).await;
    let colleague = s.user("exec2", &[&format!("executor@{OFFICE}")]).await;
    for (token, email, lang) in [
        (&principal, "exec1@example.kz", "ru"),
        (&deputy, "dep@example.kz", "kk"),
        (&later, "later@example.kz", "ru"),
        (&colleague, "exec2@example.kz", "ru"),
    ] {
        settings(
            &s,
            token,
            json!({"email": email, "language": lang,
                   "choices": {"task": "now", "breach": "now"}}),
        )
        .await;
    }
    for (deputy, roles, from, to) in [
        ("dep", &["executor"][..], "2026-04-15", "2026-04-17"),
        ("dep.later", &["executor"][..], "2026-04-20", "2026-04-24"),
    ] {
        let r = s
            .post(
                "/api/v1/deputies",
                &head,
                &rule("exec1", deputy, roles, from, to),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    // exec2 also acts for exec3 today: already an executor of the office, one notice.
    s.user("exec3", &[&format!("executor@{OFFICE}")]).await;
    let r = s
        .post(
            "/api/v1/deputies",
            &head,
            &rule("exec3", "exec2", &["executor"], "2026-04-15", "2026-04-16"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    let case = s
        .start_case(&principal, "atyrau-social-assistance", OFFICE)
        .await;
    let config = NotifyConfig {
        smtp_url: Some(smtp.url()),
        backoff_first: Duration::from_secs(60),
        backoff_max: Duration::from_secs(600),
        timeout: Duration::from_secs(5),
        ..NotifyConfig::default()
    };
    notify::round(&s.state, &config).await.expect("round");
    let notices = tables::of_case(&s.state.store, &case)
        .await
        .expect("notices");
    let to = |who: &str| notices.iter().filter(|n| n.recipient == who).count();
    // The first task, opened to the office's executors: exec1 and exec2 as holders, dep as
    // exec1's deputy; not dep.later, whose rule starts next week.
    assert_eq!(to("exec1"), 1, "{notices:#?}");
    assert_eq!(
        to("exec2"),
        1,
        "one notice, not one per reason: {notices:#?}"
    );
    assert_eq!(to("dep"), 1, "{notices:#?}");
    assert_eq!(to("dep.later"), 0, "{notices:#?}");
    let mails = smtp.mails();
    let dep_mail = mails
        .iter()
        .find(|m| m.to == "dep@example.kz")
        .unwrap_or_else(|| panic!("{mails:#?}"));
    assert!(
        dep_mail.subject.starts_with("Жаңа тапсырма"),
        "{dep_mail:?}"
    );
    assert!(
        dep_mail
            .body
            .contains("Сіз бұйрық бойынша exec1 міндетін атқарасыз."),
        "{dep_mail:?}"
    );
    let own = mails
        .iter()
        .find(|m| m.to == "exec1@example.kz")
        .expect("the principal's own");
    assert!(!own.body.contains("обязанности"), "{own:?}");

    // exec1 claims it and lets it run late: the breach goes to its holder and their deputy.
    let r = s
        .post(
            &format!("/api/v1/tasks/{case}:1/claim"),
            &principal,
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    s.clock().set(t("2026-04-15T17:00:00+05:00"));
    let round = s.tick().await;
    assert_eq!(round.breaches, 1, "{round:?}");
    notify::round(&s.state, &config).await.expect("round");
    let notices = tables::of_case(&s.state.store, &case)
        .await
        .expect("notices");
    let mut breach: Vec<&str> = notices
        .iter()
        .filter(|n| n.kind == "breach")
        .map(|n| n.recipient.as_str())
        .collect();
    breach.sort();
    assert_eq!(breach, ["dep", "exec1"], "{notices:#?}");
    s.stop().await;
}
