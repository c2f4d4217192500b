//! The inbox: the caller's tasks by due instant with keyset pagination (across offices too),
//! filters for role, status and overdue, and the working time left on the office's calendar.

mod support;

use std::collections::BTreeSet;

use reglament_store::{InboxQuery, InboxStatus};
use serde_json::{Value, json};
use support::Server;

const A: &str = "atyrau-city-ozsp";
const B: &str = "atyrau-zhylyoi-ozsp";
const REGULATION: &str = "atyrau-social-assistance";

async fn start_in(s: &Server, token: &str, office: &str) -> String {
    let p = s.state.store.latest(REGULATION).await.expect("deployed");
    let data =
        reglament_model::sample::sample(&p.regulation.application_form.as_ref().expect("form").0);
    let r = s
        .post(
            "/api/v1/cases",
            token,
            &json!({"regulation": REGULATION, "channel": "provider", "office": office, "data": data}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json["id"].as_str().expect("id").to_string()
}

/// Every page of an inbox query, following `next`.
async fn all_pages(s: &Server, token: &str, query: &str, limit: u32) -> (Vec<Value>, usize) {
    let mut items = Vec::new();
    let mut after: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut url = format!("/api/v1/inbox?limit={limit}{query}");
        if let Some(a) = &after {
            url.push_str(&format!("&after={a}"));
        }
        let r = s.get(&url, token).await;
        assert_eq!(r.status, 200, "{}", r.text);
        pages += 1;
        let page = r.json["items"].as_array().expect("items").clone();
        assert!(page.len() <= limit as usize);
        items.extend(page);
        match r.json["next"].as_str() {
            Some(n) => after = Some(n.to_string()),
            None => break,
        }
        assert!(pages < 100);
    }
    (items, pages)
}

fn assert_ordered(items: &[Value]) {
    let keys: Vec<(String, String, u64)> = items
        .iter()
        .map(|i| {
            (
                i["due"].as_str().unwrap_or("~").to_string(),
                i["case"].as_str().expect("case").to_string(),
                i["task"].as_u64().expect("task"),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "by due instant, then case, then task");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_filters_and_working_time() {
    let s = Server::start().await;
    let exec = s.user("exec", &[&format!("executor@{A}")]).await;
    let head = s.user("head", &[&format!("head@{A}")]).await;
    let mut cases = Vec::new();
    for _ in 0..7 {
        cases.push(start_in(&s, &exec, A).await);
        s.clock().advance(chrono::Duration::minutes(1));
    }
    // 10:07 now; the first task (15 working minutes) of the first case is due at 10:15.
    let (items, pages) = all_pages(&s, &exec, "", 3).await;
    assert_eq!(pages, 3);
    assert_eq!(items.len(), 7);
    let ids: BTreeSet<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
    assert_eq!(ids.len(), 7, "no task twice");
    assert_ordered(&items);
    assert_eq!(items[0]["case"], cases[0].as_str());
    assert_eq!(items[0]["working_minutes_left"], 8);
    assert_eq!(items[6]["working_minutes_left"], 14);
    assert_eq!(items[0]["overdue"], false);
    assert_eq!(items[0]["regulation"], REGULATION);

    // The API's cursor is the store's own.
    let r = s.get("/api/v1/inbox?limit=3", &exec).await;
    let mut q = InboxQuery::open("executor", A, 3);
    q.status = InboxStatus::Open;
    let page = s.state.store.inbox(&q).await.expect("inbox");
    assert_eq!(r.json["next"].as_str(), page.next.as_deref());

    // Nothing is overdue yet; at 10:30 the first seven are.
    let r = s.get("/api/v1/inbox?overdue=true", &exec).await;
    assert_eq!(r.json["items"].as_array().map(Vec::len), Some(0));
    s.clock().advance(chrono::Duration::minutes(23));
    let round = s.tick().await;
    assert!(round.breaches >= 7, "{round:?}");
    let r = s.get("/api/v1/inbox?overdue=true", &exec).await;
    let overdue = r.json["items"].as_array().expect("items");
    assert_eq!(overdue.len(), 7);
    assert_eq!(overdue[0]["breached"], true);
    assert_eq!(overdue[0]["overdue"], true);
    assert_eq!(overdue[0]["working_minutes_left"], -15);

    // Claimed by me / open.
    for c in &cases[..2] {
        let r = s
            .post(&format!("/api/v1/tasks/{c}:1/claim"), &exec, &json!({}))
            .await;
        assert_eq!(r.status, 200);
    }
    let mine = s.get("/api/v1/inbox?status=claimed", &exec).await;
    assert_eq!(mine.json["items"].as_array().map(Vec::len), Some(2));
    assert_eq!(mine.json["items"][0]["claimed_by"], "exec");
    let open = s.get("/api/v1/inbox?status=open", &exec).await;
    assert_eq!(open.json["items"].as_array().map(Vec::len), Some(5));

    // A head's own inbox has head tasks; with role=executor, the office's executor tasks.
    let own = s.get("/api/v1/inbox", &head).await;
    assert_eq!(own.json["items"].as_array().map(Vec::len), Some(0));
    let watched = s.get("/api/v1/inbox?role=executor", &head).await;
    assert_eq!(watched.json["items"].as_array().map(Vec::len), Some(5));
    s.get("/api/v1/inbox?role=head", &exec)
        .await
        .assert_problem(403, "wrong-role");
    // Another office's filter gives nothing for someone who has no role there.
    let none = s.get(&format!("/api/v1/inbox?office={B}"), &exec).await;
    assert_eq!(none.json["items"].as_array().map(Vec::len), Some(0));

    // Completing the first task opens the head's.
    let r = s
        .post(
            &format!("/api/v1/tasks/{}:1/complete", cases[0]),
            &exec,
            &json!({"data": {}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let own = s.get("/api/v1/inbox", &head).await;
    assert_eq!(
        own.json["items"][0]["id"],
        format!("{}:2", cases[0]).as_str()
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_inbox_over_two_offices_pages_in_due_order() {
    let s = Server::start().await;
    let both = s
        .user(
            "both",
            &[&format!("executor@{A}"), &format!("executor@{B}")],
        )
        .await;
    let mut started = Vec::new();
    for i in 0..10 {
        let office = if i % 3 == 0 { B } else { A };
        started.push(start_in(&s, &both, office).await);
        s.clock().advance(chrono::Duration::minutes(2));
    }
    for limit in [1, 2, 3, 4, 10, 50] {
        let (items, _) = all_pages(&s, &both, "", limit).await;
        assert_eq!(items.len(), 10, "limit {limit}");
        assert_ordered(&items);
        let cases: Vec<&str> = items.iter().filter_map(|i| i["case"].as_str()).collect();
        assert_eq!(
            cases,
            started.iter().map(String::as_str).collect::<Vec<_>>(),
            "limit {limit}"
        );
        let offices: BTreeSet<&str> = items.iter().filter_map(|i| i["office"].as_str()).collect();
        assert_eq!(offices.len(), 2);
    }
    let (only_b, _) = all_pages(&s, &both, &format!("&office={B}"), 2).await;
    assert_eq!(only_b.len(), 4);
    s.stop().await;
}
