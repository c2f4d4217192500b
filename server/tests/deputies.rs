//! Deputy rules («исполняющий обязанности») through the API, on the bundled regulation
//! `atyrau-social-assistance` in the Atyrau city office: an executor (`exec1`) goes on leave
//! from Wednesday 15 to Friday 17 April 2026 and an executor of the Zhylyoi office (`dep`)
//! acts for them by order № 45-к. Before the rule `dep` sees nothing of the city office; while
//! it is in force they see its executor queue and `exec1`'s claims, take those over, and
//! every event names `exec1` as the one acted for; when it ends, what `dep` had not claimed
//! is `exec1`'s again, what they claimed stays theirs until they finish it.

mod support;

use reglament_server::accounts::GrantRecord;
use reglament_server::demo::DEMO_PASSWORD;
use serde_json::{Value, json};
use support::browser::Browser;
use support::{Resp, Server, TestDb, t, test_config};

const REGULATION: &str = "atyrau-social-assistance";
const OFFICE: &str = "atyrau-city-ozsp";
const OTHER: &str = "atyrau-zhylyoi-ozsp";

struct Office {
    s: Server,
    head: String,
    exec1: String,
    dep: String,
}

async fn office() -> Office {
    staffed(Server::start_at(t("2026-04-15T10:00:00+05:00")).await).await
}

async fn staffed(s: Server) -> Office {
    let head = s.user("head1", &[&format!("head@{OFFICE}")]).await;
    let exec1 = s.user("exec1", &[&format!("executor@{OFFICE}")]).await;
    let dep = s.user("dep", &[&format!("executor@{OTHER}")]).await;
    Office {
        s,
        head,
        exec1,
        dep,
    }
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

/// A case registered by `exec1`, whose first task (`register`) they have claimed.
async fn claimed_case(o: &Office) -> String {
    let r =
        o.s.post(
            "/api/v1/cases",
            &o.exec1,
            &json!({"regulation": REGULATION, "channel": "provider", "office": OFFICE,
                    "data": application(&o.s).await}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    let r = claim(o, &o.exec1, &format!("{id}:1")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    id
}

async fn claim(o: &Office, token: &str, task: &str) -> Resp {
    o.s.post(&format!("/api/v1/tasks/{task}/claim"), token, &json!({}))
        .await
}

async fn complete(o: &Office, token: &str, task: &str) -> Resp {
    o.s.post(
        &format!("/api/v1/tasks/{task}/complete"),
        token,
        &json!({"data": {}}),
    )
    .await
}

fn rule(principal: &str, deputy: &str, roles: &[&str], from: &str, to: &str) -> Value {
    json!({"principal": principal, "deputy": deputy, "office": OFFICE, "roles": roles,
           "valid_from": from, "valid_to": to, "order_number": "№ 45-к"})
}

/// The ids of the claimed tasks in an inbox.
async fn claimed(o: &Office, token: &str) -> Vec<String> {
    let r = o.s.get("/api/v1/inbox?status=claimed", token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["id"].as_str().expect("id").to_string())
        .collect()
}

/// The events of a case, as the head reads them.
async fn events(o: &Office, case: &str) -> Vec<Value> {
    let r =
        o.s.get(&format!("/api/v1/cases/{case}/events"), &o.head)
            .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["events"].as_array().expect("events").clone()
}

#[tokio::test]
async fn a_deputy_acts_for_the_principal_while_the_rule_is_in_force_and_not_after() {
    before_during_after(office().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deputy_acts_for_the_principal_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let config = test_config(&db.url);
    let s = Server::start_at_with(t("2026-04-15T10:00:00+05:00"), db, config).await;
    before_during_after(staffed(s).await).await;
}

async fn before_during_after(o: Office) {
    let a = claimed_case(&o).await;
    let b = claimed_case(&o).await;

    // Before the rule: nothing of the city office.
    assert_eq!(
        o.s.get(&format!("/api/v1/cases/{a}"), &o.dep).await.status,
        404
    );
    assert_eq!(claim(&o, &o.dep, &format!("{a}:1")).await.status, 404);
    assert!(claimed(&o, &o.dep).await.is_empty());

    let r =
        o.s.post(
            "/api/v1/deputies",
            &o.head,
            &rule("exec1", "dep", &["executor"], "2026-04-15", "2026-04-17"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    assert_eq!(r.json["status"], "in_force");
    assert_eq!(r.json["created_by"], "head1");
    // From the first day's midnight in Atyrau (+05) to the midnight after the last.
    assert_eq!(r.json["starts_at"], "2026-04-14T19:00:00Z");
    assert_eq!(r.json["ends_at"], "2026-04-17T19:00:00Z");

    // During: the principal's claims are in the deputy's inbox, the case is visible.
    let mut mine = claimed(&o, &o.dep).await;
    mine.sort();
    let mut want = vec![format!("{a}:1"), format!("{b}:1")];
    want.sort();
    assert_eq!(mine, want);
    assert_eq!(
        o.s.get(&format!("/api/v1/cases/{a}"), &o.dep).await.status,
        200
    );
    // Someone else of the other office still sees nothing.
    let stranger = o.s.user("exec9", &[&format!("executor@{OTHER}")]).await;
    assert_eq!(
        o.s.get(&format!("/api/v1/cases/{a}"), &stranger)
            .await
            .status,
        404
    );

    // The deputy takes over `a`'s registration and finishes it, for exec1.
    let r = claim(&o, &o.dep, &format!("{a}:1")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = complete(&o, &o.dep, &format!("{a}:1")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let evs = events(&o, &a).await;
    let by_dep: Vec<&Value> = evs.iter().filter(|e| e["actor"]["user"] == "dep").collect();
    assert!(by_dep.len() >= 3, "claim, complete, the next task: {evs:?}");
    for e in &by_dep {
        assert_eq!(e["actor"]["on_behalf_of"], "exec1", "{e}");
        assert_eq!(e["actor"]["role"], "executor", "{e}");
    }
    // exec1's own events name nobody else.
    assert!(
        evs.iter()
            .filter(|e| e["actor"]["user"] == "exec1")
            .all(|e| e["actor"].get("on_behalf_of").is_none())
    );
    // The deputy also takes over `b`'s registration, and keeps it.
    assert_eq!(claim(&o, &o.dep, &format!("{b}:1")).await.status, 200);
    // The head assigns `a`'s review to exec1 directly: the deputy may take it too, but does
    // not before the rule ends.
    let r = claim(&o, &o.head, &format!("{a}:2")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(complete(&o, &o.head, &format!("{a}:2")).await.status, 200);
    let r =
        o.s.post(
            &format!("/api/v1/tasks/{a}:3/reassign"),
            &o.head,
            &json!({"user": "exec1"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let open = o.s.get("/api/v1/inbox", &o.dep).await;
    assert!(open.text.contains(&format!("\"{a}:3\"")), "{}", open.text);

    // The head ends the rule early: exec1 is back.
    let r =
        o.s.post(
            &format!("/api/v1/deputies/{id}/end"),
            &o.head,
            &json!({"reason": "returned from leave a day early"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "ended");
    assert_eq!(r.json["ended_by"], "head1");
    // Ending it again changes nothing.
    let again =
        o.s.post(
            &format!("/api/v1/deputies/{id}/end"),
            &o.head,
            &json!({"reason": "again"}),
        )
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(again.json["ended_at"], r.json["ended_at"]);

    // The task handed to exec1 that the deputy had not claimed is exec1's again.
    let r = claim(&o, &o.dep, &format!("{a}:3")).await;
    assert_eq!(r.status, 409, "{}", r.text);
    assert_eq!(r.json["code"], "assigned-to-other");
    assert_eq!(claimed(&o, &o.dep).await, vec![format!("{b}:1")]);
    // The one they claimed stays theirs: they finish it, still for exec1.
    let r = complete(&o, &o.dep, &format!("{b}:1")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let last = events(&o, &b).await;
    let done = last
        .iter()
        .find(|e| e["type"] == "task_completed")
        .expect("completed");
    assert_eq!(done["actor"]["user"], "dep");
    assert_eq!(done["actor"]["on_behalf_of"], "exec1");
    // With nothing of theirs left there, the city office is closed to them again.
    assert_eq!(
        o.s.get(&format!("/api/v1/cases/{b}"), &o.dep).await.status,
        404
    );
    assert!(claimed(&o, &o.dep).await.is_empty());
    assert_eq!(claim(&o, &o.exec1, &format!("{a}:3")).await.status, 200);
    o.s.stop().await;
}

#[tokio::test]
async fn a_rule_takes_effect_on_its_first_day_and_stops_after_its_last() {
    let o = office().await;
    let a = claimed_case(&o).await;
    let r =
        o.s.post(
            "/api/v1/deputies",
            &o.head,
            &rule("exec1", "dep", &["executor"], "2026-04-16", "2026-04-16"),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["status"], "scheduled");
    let sees = |token: String| {
        let s = &o.s;
        let path = format!("/api/v1/cases/{a}");
        async move { s.get(&path, &token).await.status }
    };
    assert_eq!(sees(o.dep.clone()).await, 404, "before its first day");
    o.s.clock().set(t("2026-04-16T00:00:00+05:00"));
    assert_eq!(sees(o.dep.clone()).await, 200, "from its first midnight");
    o.s.clock().set(t("2026-04-16T23:59:59+05:00"));
    assert_eq!(sees(o.dep.clone()).await, 200, "to the end of its last day");
    o.s.clock().set(t("2026-04-17T00:00:00+05:00"));
    assert_eq!(sees(o.dep.clone()).await, 404, "not after");
    let r = o.s.get("/api/v1/deputies", &o.dep).await;
    assert_eq!(r.json[0]["status"], "expired", "{}", r.text);
    o.s.stop().await;
}

#[tokio::test]
async fn rules_that_are_wrong_or_not_the_callers_to_make_are_refused() {
    let o = office().await;
    let post = |token: String, body: Value| {
        let s = &o.s;
        async move { s.post("/api/v1/deputies", &token, &body).await }
    };
    let ok = rule("exec1", "dep", &["executor"], "2026-04-15", "2026-04-17");
    // Only the office's head (or an administrator).
    let r = post(o.exec1.clone(), ok.clone()).await;
    r.assert_problem(403, "not-allowed-to-manage-deputies");
    let other_head = o.s.user("head2", &[&format!("head@{OTHER}")]).await;
    post(other_head, ok.clone())
        .await
        .assert_problem(403, "not-allowed-to-manage-deputies");
    // Field by field.
    for (field, value, code) in [
        ("deputy", json!("exec1"), "deputy-is-principal"),
        ("deputy", json!("nobody"), "unknown-user"),
        ("roles", json!(["head"]), "role-not-held"),
        ("roles", json!([]), "no-roles"),
        ("roles", json!(["administrator"]), "role-not-held"),
        ("office", json!("atyrau-nowhere"), "unknown-office"),
        ("valid_to", json!("2026-04-14"), "bad-dates"),
        ("valid_to", json!("2027-12-31"), "bad-dates"),
        ("order_number", json!("  "), "bad-order-number"),
    ] {
        let mut body = ok.clone();
        body[field] = value;
        let r = post(o.head.clone(), body).await;
        r.assert_problem(422, code);
    }
    // A rule wholly in the past.
    let past = rule("exec1", "dep", &["executor"], "2026-04-01", "2026-04-10");
    post(o.head.clone(), past)
        .await
        .assert_problem(422, "bad-dates");
    // Malformed dates are the JSON's fault.
    let mut bad = ok.clone();
    bad["valid_from"] = json!("15.04.2026");
    assert_eq!(post(o.head.clone(), bad).await.status, 422);

    // An executor of the office made acting head would sign what they drafted.
    let r = post(
        o.head.clone(),
        json!({"principal": "head1", "deputy": "exec1", "office": OFFICE, "roles": ["head"],
               "valid_from": "2026-04-15", "valid_to": "2026-04-17", "order_number": "12"}),
    )
    .await;
    r.assert_problem(409, "deputy-signs-own-work");
    assert!(
        r.text.contains("as acting `head`") && r.text.contains("as `executor`"),
        "{}",
        r.text
    );

    // Two rules for the same principal, role and days.
    assert_eq!(post(o.head.clone(), ok.clone()).await.status, 201);
    o.s.user("dep2", &[&format!("executor@{OTHER}")]).await;
    let mut twice = ok.clone();
    twice["deputy"] = json!("dep2");
    twice["valid_from"] = json!("2026-04-17");
    twice["valid_to"] = json!("2026-04-20");
    post(o.head.clone(), twice)
        .await
        .assert_problem(409, "deputy-rule-overlaps");

    // Who sees the rules: the head, the two users named; nobody else of the office.
    let stranger = o.s.user("exec7", &[&format!("executor@{OFFICE}")]).await;
    for (token, n) in [(&o.head, 1), (&o.exec1, 1), (&o.dep, 1), (&stranger, 0)] {
        let r = o.s.get("/api/v1/deputies", token).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.json.as_array().map(Vec::len), Some(n), "{}", r.text);
    }
    let id = o.s.get("/api/v1/deputies", &o.head).await.json[0]["id"]
        .as_str()
        .expect("id")
        .to_string();
    assert_eq!(
        o.s.get(&format!("/api/v1/deputies/{id}"), &stranger)
            .await
            .status,
        404
    );
    // The deputy may not end it; the head must say why.
    o.s.post(
        &format!("/api/v1/deputies/{id}/end"),
        &o.dep,
        &json!({"reason": "x"}),
    )
    .await
    .assert_problem(403, "not-allowed-to-manage-deputies");
    o.s.post(
        &format!("/api/v1/deputies/{id}/end"),
        &o.head,
        &json!({"reason": " "}),
    )
    .await
    .assert_problem(422, "bad-reason");
    o.s.stop().await;
}

/// A user of the web pages with the demo password.
async fn person(s: &Server, login: &str, grant: &str) -> String {
    let (role, office) = grant.split_once('@').expect("role@office");
    s.user_with(
        login,
        vec![GrantRecord {
            role: role.to_string(),
            office: office.to_string(),
        }],
        Some(DEMO_PASSWORD),
    )
    .await
}

async fn in_russian(login: &str, s: &Server) -> Browser {
    let mut b = Browser::new(s);
    b.sign_in(login).await;
    let r = b.get("/lang/ru?back=/inbox").await;
    assert_eq!(r.status, 303, "{}", r.body);
    b
}

#[tokio::test]
async fn the_deputies_page_records_shows_and_ends_rules_in_the_pages_language() {
    let s = Server::start_at(t("2026-04-15T10:00:00+05:00")).await;
    let head = person(&s, "head1", &format!("head@{OFFICE}")).await;
    let exec1 = person(&s, "exec1", &format!("executor@{OFFICE}")).await;
    let dep = person(&s, "dep", &format!("executor@{OTHER}")).await;
    let o = Office {
        s,
        head,
        exec1,
        dep,
    };
    let case = claimed_case(&o).await;

    let mut h = in_russian("head1", &o.s).await;
    let page = h.get("/deputies").await;
    assert_eq!(page.status, 200, "{}", page.body);
    for words in [
        "Исполняющие обязанности",
        "Записать исполняющего обязанности",
        "Номер приказа",
        "Исполнитель",
    ] {
        assert!(page.body.contains(words), "{words}: {}", page.body);
    }
    for english in [
        "Acting deputies",
        "Record a deputy",
        "Order number",
        "Executor",
    ] {
        assert!(!page.body.contains(english), "{english} on a Russian page");
    }
    assert!(
        page.body.contains("href=\"/deputies\""),
        "the menu links it"
    );
    let csrf = page.csrf();
    let fields = |principal: &'static str, deputy: &'static str, role: &'static str| {
        vec![
            ("principal", principal),
            ("deputy", deputy),
            ("office", OFFICE),
            ("roles", role),
            ("valid_from", "2026-04-15"),
            ("valid_to", "2026-04-17"),
            ("order_number", "№ 45-к"),
        ]
    };
    // Refused: an executor made acting head would sign their own drafts; the form keeps
    // what was typed.
    let mut refused = fields("head1", "exec1", "head");
    refused.push(("_csrf", &csrf));
    let r = h.post("/deputies", &refused).await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(
        r.body.contains("подписать подготовленный им же проект"),
        "{}",
        r.body
    );
    assert!(r.body.contains("value=\"№ 45-к\""), "{}", r.body);
    // Recorded.
    let mut ok = fields("exec1", "dep", "executor");
    ok.push(("_csrf", &csrf));
    let r = h.post("/deputies", &ok).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(r.location.as_deref(), Some("/deputies?notice=dep_recorded"));
    let page = h.get("/deputies?notice=dep_recorded").await;
    assert!(page.body.contains("Правило записано."), "{}", page.body);
    assert!(page.body.contains("Действует"), "{}", page.body);
    assert!(
        page.body.contains("2026-04-15 — 2026-04-17"),
        "{}",
        page.body
    );

    // The deputy: told whom they act for, the principal's claim in their inbox, and the
    // case's history naming the principal once they act.
    let mut d = in_russian("dep", &o.s).await;
    let page = d.get("/deputies").await;
    assert!(
        page.body.contains("Сейчас вы исполняете обязанности"),
        "{}",
        page.body
    );
    assert!(page.body.contains("exec1"), "{}", page.body);
    // The header tells the roles held for someone from one's own.
    let header = page.body.split("id=\"whoami\"").nth(1).expect("the header");
    let header = header.split("</span>").take(2).collect::<String>();
    assert!(header.contains("(и. о. за exec1)"), "{header}");
    assert!(
        !page.body.contains("id=\"record\""),
        "a deputy records no rules"
    );
    let inbox = d.get("/inbox").await;
    assert!(
        inbox.body.contains(&format!("task-{case}:1")),
        "{}",
        inbox.body
    );
    let csrf = inbox.csrf();
    let r = d
        .post(&format!("/tasks/{case}:1/claim"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = d.get(&format!("/cases/{case}")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains("dep (Ответственный исполнитель уполномоченного органа) — за exec1"),
        "{}",
        page.body
    );

    // The head ends it; the deputy sees the city office no more (nothing of theirs there is
    // left once they release what they took).
    let page = h.get("/deputies").await;
    let id = page
        .body
        .split("id=\"rule-")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a rule row")
        .to_string();
    let r = h
        .post(
            &format!("/deputies/{id}/end"),
            &[("_csrf", &page.csrf()), ("reason", "вышел из отпуска")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = h.get("/deputies").await;
    assert!(page.body.contains("Завершено досрочно"), "{}", page.body);
    assert!(page.body.contains("вышел из отпуска"), "{}", page.body);
    let csrf = d.get("/inbox").await.csrf();
    let r = d
        .post(&format!("/tasks/{case}:1/release"), &[("_csrf", &csrf)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(d.get(&format!("/cases/{case}")).await.status, 404);
    o.s.stop().await;
}
