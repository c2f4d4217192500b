//! Concurrency: many clients claim one task at once and exactly one wins; a double click
//! claims once; a double-submitted completion has one effect; an idempotency key replays
//! the first answer. The claim race also runs across two server processes sharing one
//! PostgreSQL database.

mod support;

use std::sync::Arc;

use serde_json::{Value, json};
use support::{Resp, Server, TestDb, test_config};

const OFFICE: &str = "atyrau-city-ozsp";
const REGULATION: &str = "atyrau-social-assistance";

async fn application(s: &Server) -> Value {
    let p = s.state.store.latest(REGULATION).await.expect("deployed");
    reglament_model::sample::sample(&p.regulation.application_form.as_ref().expect("form").0)
}

async fn start_case(s: &Server, token: &str) -> String {
    let r = s
        .post(
            "/api/v1/cases",
            token,
            &json!({"regulation": REGULATION, "channel": "provider", "office": OFFICE,
                    "data": application(s).await}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json["id"].as_str().expect("id").to_string()
}

async fn claim_events(s: &Server, case: &str, token: &str) -> usize {
    let r = s.get(&format!("/api/v1/cases/{case}/events"), token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "task_claimed")
        .count()
}

/// Fires all requests at once (each on its own task) and returns the answers.
async fn all_at_once(requests: Vec<(String, reqwest::RequestBuilder)>) -> Vec<(String, Resp)> {
    let barrier = Arc::new(tokio::sync::Barrier::new(requests.len()));
    let handles: Vec<_> = requests
        .into_iter()
        .map(|(who, req)| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                (who, support::send(req).await)
            })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.expect("task"));
    }
    out
}

/// `clients` executors of one office claim the same task at once, through `servers`.
async fn claim_race(servers: &[&Server], clients: usize, rounds: usize) {
    let s = servers[0];
    let mut tokens = Vec::new();
    for i in 0..clients {
        tokens.push((
            format!("racer-{i}"),
            s.user(&format!("racer-{i}"), &["executor@atyrau-city-ozsp"])
                .await,
        ));
    }
    for round in 0..rounds {
        let case = start_case(s, &tokens[0].1).await;
        let requests = tokens
            .iter()
            .enumerate()
            .map(|(i, (login, token))| {
                let node = servers[i % servers.len()];
                (
                    login.clone(),
                    node.client
                        .post(format!("{}/api/v1/tasks/{case}:1/claim", node.base))
                        .bearer_auth(token),
                )
            })
            .collect();
        let answers = all_at_once(requests).await;
        let winners: Vec<&String> = answers
            .iter()
            .filter(|(_, r)| r.status == 200)
            .map(|(who, _)| who)
            .collect();
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        for (who, r) in &answers {
            if r.status != 200 {
                r.assert_problem(409, "claimed-by-other");
                assert!(
                    r.json["detail"]
                        .as_str()
                        .is_some_and(|d| d.contains(winners[0].as_str())),
                    "{who}: the loser is told who has it: {}",
                    r.text
                );
            }
        }
        assert_eq!(
            claim_events(s, &case, &tokens[0].1).await,
            1,
            "round {round}"
        );
        let view = s.get(&format!("/api/v1/cases/{case}"), &tokens[0].1).await;
        assert_eq!(view.json["tasks"][0]["claimed_by"], winners[0].as_str());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_clients_claim_one_task_and_exactly_one_wins() {
    let s = Server::start().await;
    claim_race(&[&s], 24, 5).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_postgres_database_let_exactly_one_claim_win() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let url = db.url.clone();
    let first = Server::start_with(db, test_config(&url)).await;
    let second = Server::start_on(&url, test_config(&url)).await;
    claim_race(&[&first, &second], 24, 5).await;
    second.stop().await;
    first.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_double_click_claims_once() {
    let s = Server::start().await;
    let token = s.user("clicker", &["executor@atyrau-city-ozsp"]).await;
    let case = start_case(&s, &token).await;
    let requests = (0..10)
        .map(|i| {
            (
                format!("click-{i}"),
                s.client
                    .post(format!("{}/api/v1/tasks/{case}:1/claim", s.base))
                    .bearer_auth(&token),
            )
        })
        .collect();
    let answers = all_at_once(requests).await;
    for (_, r) in &answers {
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let with_events = answers
        .iter()
        .filter(|(_, r)| !r.json["events"].as_array().expect("events").is_empty())
        .count();
    assert_eq!(
        with_events, 1,
        "one click recorded the claim, the others changed nothing"
    );
    assert_eq!(claim_events(&s, &case, &token).await, 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_double_submitted_completion_has_one_effect() {
    let s = Server::start().await;
    let token = s.user("submitter", &["executor@atyrau-city-ozsp"]).await;
    let case = start_case(&s, &token).await;
    let requests = (0..8)
        .map(|i| {
            (
                format!("submit-{i}"),
                s.client
                    .post(format!("{}/api/v1/tasks/{case}:1/complete", s.base))
                    .bearer_auth(&token)
                    .json(&json!({"data": {"registration_number": "R-1"}})),
            )
        })
        .collect();
    let answers = all_at_once(requests).await;
    let ok = answers.iter().filter(|(_, r)| r.status == 200).count();
    assert_eq!(ok, 1, "{answers:?}");
    for (_, r) in answers.iter().filter(|(_, r)| r.status != 200) {
        r.assert_problem(409, "task-not-open");
    }
    let events = s.get(&format!("/api/v1/cases/{case}/events"), &token).await;
    let completed = events.json["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "task_completed")
        .count();
    assert_eq!(completed, 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_idempotency_key_replays_the_first_answer() {
    let s = Server::start().await;
    let token = s.user("retrier", &["executor@atyrau-city-ozsp"]).await;
    let post = |path: String, key: &str, body: Value| {
        s.client
            .post(format!("{}{path}", s.base))
            .bearer_auth(&token)
            .header("Idempotency-Key", key)
            .json(&body)
    };
    // Starting a case twice with one key makes one case.
    let body = json!({"regulation": REGULATION, "channel": "provider", "office": OFFICE,
                      "data": application(&s).await});
    let first = support::send(post("/api/v1/cases".into(), "start-1", body.clone())).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let again = support::send(post("/api/v1/cases".into(), "start-1", body.clone())).await;
    assert_eq!(again.status, 201);
    assert_eq!(again.header("idempotency-replayed"), Some("true"));
    assert_eq!(again.json["id"], first.json["id"]);
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(again.text, first.text);
    let case = first.json["id"].as_str().expect("id").to_string();
    // The same key for another request is refused.
    let other = support::send(post(
        "/api/v1/cases".into(),
        "start-1",
        json!({"regulation": REGULATION, "channel": "provider", "office": OFFICE, "data": {}}),
    ))
    .await;
    other.assert_problem(422, "idempotency-key-reused");
    // A retried completion gets the first answer, not a 409.
    let complete = |key: &'static str| {
        post(
            format!("/api/v1/tasks/{case}:1/complete"),
            key,
            json!({"data": {"registration_number": "R-2"}}),
        )
    };
    let answers = all_at_once(
        (0..6)
            .map(|i| (format!("r{i}"), complete("done-1")))
            .collect(),
    )
    .await;
    let firsts: Vec<&Resp> = answers
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r.status == 200 && r.header("idempotency-replayed").is_none())
        .collect();
    assert_eq!(firsts.len(), 1, "one request ran: {answers:?}");
    for (_, r) in &answers {
        match r.status {
            200 => assert_eq!(r.text, firsts[0].text, "a replay is the first answer"),
            409 => r.assert_problem(409, "idempotency-key-in-flight"),
            other => panic!("unexpected {other}: {}", r.text),
        }
    }
    let replay = support::send(complete("done-1")).await;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.header("idempotency-replayed"), Some("true"));
    assert_eq!(replay.text, firsts[0].text);
    // Without the key, the second completion is a conflict.
    let bare = s
        .post(
            &format!("/api/v1/tasks/{case}:1/complete"),
            &token,
            &json!({"data": {"registration_number": "R-2"}}),
        )
        .await;
    bare.assert_problem(409, "task-not-open");
    // Keys belong to their user: another user's same key is a fresh request.
    let other_user = s.user("colleague", &["executor@atyrau-city-ozsp"]).await;
    let theirs = support::send(
        s.client
            .post(format!("{}/api/v1/tasks/{case}:1/complete", s.base))
            .bearer_auth(&other_user)
            .header("Idempotency-Key", "done-1")
            .json(&json!({"data": {"registration_number": "R-2"}})),
    )
    .await;
    theirs.assert_problem(409, "task-not-open");
    // A malformed key is a bad request.
    let bad = support::send(
        s.client
            .post(format!("{}/api/v1/tasks/{case}:2/claim", s.base))
            .bearer_auth(&token)
            .header("Idempotency-Key", ""),
    )
    .await;
    bad.assert_problem(400, "bad-idempotency-key");
    // Without credentials it is a 401 first, whatever the key.
    let anonymous = support::send(
        s.client
            .post(format!("{}/api/v1/tasks/{case}:2/claim", s.base))
            .header("Idempotency-Key", ""),
    )
    .await;
    anonymous.assert_problem(401, "unauthorized");
    s.stop().await;
}
