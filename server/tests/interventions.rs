//! Changes to a case by hand through the API, on the bundled `atyrau-social-assistance` at
//! the Atyrau city office: a return to a step the case was at applies at once; a changed due
//! instant waits for a second administrator with its what-if, is applied once when another
//! administrator approves it (the event names both), and nothing changes when it is rejected;
//! the case's chain and replay stay clean.

mod support;

use serde_json::{Value, json};
use support::{Server, TestDb, t, test_config};

const OFFICE: &str = "atyrau-city-ozsp";

async fn case_due(s: &Server, token: &str, case: &str) -> Value {
    let r = s.get(&format!("/api/v1/cases/{case}"), token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["due"].clone()
}

async fn the_two_person_rule(s: &Server) {
    let exec = s.user("exec", &[&format!("executor@{OFFICE}")]).await;
    let head = s.user("head", &[&format!("head@{OFFICE}")]).await;
    let admin1 = s.user("admin1", &["administrator"]).await;
    let admin2 = s.user("admin2", &["administrator"]).await;
    let case = s
        .start_case(&exec, "atyrau-social-assistance", OFFICE)
        .await;
    let r = s
        .post(
            &format!("/api/v1/tasks/{case}:1/complete"),
            &exec,
            &json!({"data": {}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Only administrators; a reason and a legal basis, always.
    let back = json!({"action": {"kind": "move_to", "step": "register"},
                      "reason": "the documents were registered to the wrong applicant",
                      "legal_basis": "order No. 45, p. 3"});
    let path = format!("/api/v1/cases/{case}/interventions");
    s.post(&path, &head, &back)
        .await
        .assert_problem(403, "not-allowed-to-intervene");
    let mut bare = back.clone();
    bare["legal_basis"] = json!("  ");
    s.post(&path, &admin1, &bare)
        .await
        .assert_problem(422, "bad-intervention");
    let mut nowhere = back.clone();
    nowhere["action"]["step"] = json!("nowhere");
    s.post(&path, &admin1, &nowhere)
        .await
        .assert_problem(422, "intervention-refused");

    // Back to the registration it was at: applied at once, one `intervened` first.
    let r = s.post(&path, &admin1, &back).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["events"][0], "intervened");
    assert!(r.text.contains("task_opened"), "{}", r.text);

    // The case's statutory due instant: the what-if first, nothing written.
    let due_before = case_due(s, &admin1, &case).await;
    let later = "2026-05-29T13:00:00Z";
    let change = json!({"action": {"kind": "change_due", "target": {"of": "case"}, "due": later},
                        "reason": "the court extended the term",
                        "legal_basis": "ruling of the district court of 16 April 2026"});
    let r = s.post(&format!("{path}/preview"), &admin1, &change).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["needs_approval"], true);
    assert_eq!(r.json["case_due_before"], due_before);
    assert_eq!(r.json["case_due_after"], later);
    assert_eq!(r.json["events"], json!(["intervened"]));
    assert_eq!(case_due(s, &admin1, &case).await, due_before);

    // Proposed: waits, the case unchanged.
    let r = s.post(&path, &admin1, &change).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    assert_eq!(r.json["status"], "proposed");
    assert_eq!(r.json["preview"]["case_due_after"], later);
    assert_eq!(case_due(s, &admin1, &case).await, due_before);
    // Not by the proposer, not by a head.
    let approve = format!("/api/v1/interventions/{id}/approve");
    s.post(&approve, &admin1, &json!({}))
        .await
        .assert_problem(403, "own-intervention");
    s.post(&approve, &head, &json!({}))
        .await
        .assert_problem(403, "not-allowed-to-intervene");
    // The second administrator approves; a second click changes nothing.
    let r = s.post(&approve, &admin2, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "applied");
    assert_eq!(r.json["decided_by"], "admin2");
    s.post(&approve, &admin2, &json!({}))
        .await
        .assert_problem(409, "intervention-decided");
    assert_eq!(case_due(s, &admin1, &case).await, json!(later));
    let r = s
        .get(&format!("/api/v1/cases/{case}/events?verify=true"), &admin1)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["chain"]["verified"], true, "{}", r.text);
    let done: Vec<&Value> = r.json["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "intervened")
        .collect();
    assert_eq!(done.len(), 2, "one per change");
    let approved = done[1];
    assert_eq!(approved["actor"]["user"], "admin1");
    assert_eq!(approved["event"]["approved_by"], "admin2");
    assert_eq!(
        approved["event"]["legal_basis"],
        "ruling of the district court of 16 April 2026"
    );
    assert_eq!(approved["event"]["moved"][0]["to"], later);

    // Rejected: nothing changes.
    let mut again = change.clone();
    again["action"]["due"] = json!("2026-06-30T13:00:00Z");
    let r = s.post(&path, &admin2, &again).await;
    assert_eq!(r.status, 202, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    let r = s
        .post(
            &format!("/api/v1/interventions/{id}/reject"),
            &admin1,
            &json!({"reason": "no ruling for this date"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "rejected");
    assert_eq!(case_due(s, &admin1, &case).await, json!(later));
    let list = s.get("/api/v1/interventions", &admin1).await;
    assert_eq!(list.json.as_array().map(Vec::len), Some(2), "{}", list.text);
    assert_eq!(s.get("/api/v1/interventions", &head).await.status, 403);

    // The audit replays the case clean, interventions and all.
    let r = s
        .get(&format!("/api/v1/cases/{case}/replay"), &admin1)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["chain"]["intact"], true, "{}", r.text);
    assert!(r.json["fold_error"].is_null(), "{}", r.text);
}

#[tokio::test]
async fn two_administrators_change_a_case_by_hand_on_sqlite() {
    let s = Server::start_at(t("2026-04-15T10:00:00+05:00")).await;
    the_two_person_rule(&s).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_administrators_change_a_case_by_hand_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let config = test_config(&db.url);
    let s = Server::start_at_with(t("2026-04-15T10:00:00+05:00"), db, config).await;
    the_two_person_rule(&s).await;
    s.stop().await;
}
