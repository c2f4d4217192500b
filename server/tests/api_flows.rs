//! Whole cases through the HTTP API, as the right users: every one of the nine regulations,
//! every channel (at least one path each; every path of the portal and service-centre
//! channels), each task taken from its user's inbox, claimed and completed with its form's
//! data, system steps answered by the portal's account, dispatches released by the timer.
//! The same walk on PostgreSQL when a cluster is available.

mod support;

use std::collections::BTreeMap;

use reglament_model::model::{ChannelKind, Step};
use reglament_model::paths::{self, DEFAULT_DAY_MINUTES};
use reglament_model::sample::sample;
use reglament_server::demo::login_for;
use serde_json::{Value, json};
use support::{Server, TestDb, test_config};

/// Provider offices of the demo, one per region.
fn office_of(region: &str) -> &'static str {
    match region {
        "atyrau" => "atyrau-city-ozsp",
        _ => "nko-petropavl-ozsp",
    }
}

struct Walked {
    case: Value,
    tasks_done: usize,
}

/// Starts a case and works it to its end; returns the final case.
async fn walk(
    s: &Server,
    tokens: &BTreeMap<String, String>,
    regulation: &str,
    channel: &str,
    decisions: &BTreeMap<String, String>,
    label: &str,
) -> Walked {
    let process = s.state.store.latest(regulation).await.expect("deployed");
    let office = office_of(&process.regulation.region);
    let start_role = process
        .channel(channel)
        .and_then(|c| process.step_index(&c.start))
        .and_then(|i| process.step_role(i))
        .expect("a first step with a role")
        .to_string();
    let starter = login_for(office, &start_role).expect("a demo user");
    let data = process
        .regulation
        .application_form
        .as_ref()
        .map(|f| sample(&f.0))
        .unwrap_or(json!({}));
    let r = s
        .post(
            "/api/v1/cases",
            &tokens[&starter],
            &json!({"regulation": regulation, "channel": channel, "office": office, "data": data}),
        )
        .await;
    assert_eq!(r.status, 201, "{label}: start: {}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/cases/{id}").as_str())
    );
    let auditor = &tokens["auditor"];
    let mut done = 0;
    for _ in 0..200 {
        let case = s.get(&format!("/api/v1/cases/{id}"), auditor).await;
        assert_eq!(case.status, 200, "{label}: {}", case.text);
        if case.json["status"] != "open" {
            return Walked {
                case: case.json,
                tasks_done: done,
            };
        }
        let open: Vec<&Value> = case.json["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .filter(|t| t["status"] == "open" || t["status"] == "claimed")
            .collect();
        let Some(task) = open.first() else {
            // Waiting for a dispatch: let time pass to its release.
            let st = s
                .state
                .service
                .case_state(&reglament_runtime::CaseId::new(&id))
                .await
                .expect("state");
            let wake = st.next_wakeup().expect("a waiting case has a wake-up");
            s.clock().set(wake.max(s.state.now()));
            s.tick().await;
            continue;
        };
        let task_id = task["id"].as_str().expect("task id").to_string();
        let step_id = task["step"].as_str().expect("step");
        let role = task["role"].as_str().expect("role");
        let step = process.step(process.step_index(step_id).expect("step"));
        let (outcomes, form, system) = match step {
            Step::Task(t) => (&t.outcomes, t.form.as_ref().map(|f| sample(&f.0)), false),
            Step::System(t) => (&t.outcomes, None, true),
            other => panic!("{label}: a task at {}", other.id()),
        };
        let outcome = decisions
            .get(step_id)
            .cloned()
            .or_else(|| outcomes.first().map(|o| o.id.clone()));
        let reason = outcomes
            .iter()
            .any(|o| Some(&o.id) == outcome.as_ref() && o.requires_reason)
            .then_some("documents do not confirm the right");
        let user = login_for(office, role).expect("a demo user for the role");
        let token = &tokens[&user];
        if system {
            let r = s
                .post(
                    &format!("/api/v1/cases/{id}/system-results"),
                    token,
                    &json!({"step": step_id, "outcome": outcome}),
                )
                .await;
            assert_eq!(
                r.status, 200,
                "{label}: system result at {step_id}: {}",
                r.text
            );
        } else {
            let inbox = s
                .get(&format!("/api/v1/inbox?role={role}&limit=200"), token)
                .await;
            assert_eq!(inbox.status, 200, "{label}: {}", inbox.text);
            assert!(
                inbox.json["items"]
                    .as_array()
                    .expect("items")
                    .iter()
                    .any(|i| i["id"] == task_id.as_str()),
                "{label}: {task_id} is not in {user}'s inbox: {}",
                inbox.text
            );
            let r = s
                .post(&format!("/api/v1/tasks/{task_id}/claim"), token, &json!({}))
                .await;
            assert_eq!(r.status, 200, "{label}: claim {task_id}: {}", r.text);
            let r = s
                .post(
                    &format!("/api/v1/tasks/{task_id}/complete"),
                    token,
                    &json!({"outcome": outcome, "data": form.unwrap_or(json!({})), "reason": reason}),
                )
                .await;
            assert_eq!(r.status, 200, "{label}: complete {task_id}: {}", r.text);
            assert!(
                r.json["events"]
                    .as_array()
                    .expect("events")
                    .iter()
                    .any(|e| e["type"] == "task_completed" && e["actor"]["user"] == user.as_str()),
                "{label}: the completion is recorded with its user: {}",
                r.text
            );
        }
        done += 1;
    }
    panic!("{label}: the case did not end");
}

/// Every path of the channel, or just the first one.
fn decisions_of(
    process: &reglament_model::compile::Process,
    channel: &str,
    all: bool,
) -> Vec<(BTreeMap<String, String>, &'static str)> {
    let (list, truncated) = paths::channel_paths(process, channel, DEFAULT_DAY_MINUTES, 500);
    assert!(!truncated && !list.is_empty());
    let take = if all { list.len() } else { 1 };
    list.iter()
        .take(take)
        .map(|path| {
            let decisions = path
                .steps
                .iter()
                .zip(&path.outcomes)
                .filter_map(|(&s, o)| Some((process.step(s).id().to_string(), o.clone()?)))
                .collect();
            let Step::End(end) = process.step(*path.steps.last().expect("path")) else {
                panic!("a path ends at an end")
            };
            (decisions, end.result.as_str())
        })
        .collect()
}

async fn every_regulation(s: &Server) -> usize {
    let tokens = s.demo_users().await;
    let regulations = s.state.store.regulations().await.expect("list");
    assert_eq!(
        regulations.len(),
        9,
        "the nine bundled regulations are deployed"
    );
    let mut cases = 0;
    for r in &regulations {
        let process = s.state.store.process(&r.digest).await.expect("process");
        for channel in &process.regulation.channels {
            let all = matches!(
                channel.kind,
                ChannelKind::EgovPortal | ChannelKind::ServiceCentre
            );
            for (decisions, result) in decisions_of(&process, &channel.id, all) {
                let label = format!("{} / {} / {:?}", r.id, channel.id, decisions);
                let walked = walk(s, &tokens, &r.id, &channel.id, &decisions, &label).await;
                assert_eq!(walked.case["status"], "ended", "{label}");
                assert_eq!(walked.case["result"], result, "{label}");
                let id = walked.case["id"].as_str().expect("id");
                let events = s
                    .get(
                        &format!("/api/v1/cases/{id}/events?verify=true"),
                        &tokens["auditor"],
                    )
                    .await;
                assert_eq!(events.status, 200, "{label}");
                assert_eq!(events.json["chain"]["verified"], true, "{label}");
                let list = events.json["events"].as_array().expect("events");
                assert_eq!(list[0]["prev_hash"], "0".repeat(64), "{label}");
                for w in list.windows(2) {
                    assert_eq!(w[1]["prev_hash"], w[0]["hash"], "{label}: the chain links");
                }
                assert!(walked.tasks_done > 0, "{label}");
                cases += 1;
            }
        }
    }
    cases
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_regulation_runs_to_its_end_through_the_api() {
    let s = Server::start().await;
    let cases = every_regulation(&s).await;
    support::say(&format!(
        "api_flows: {cases} cases walked through the API on SQLite"
    ));
    assert!(cases >= 15, "{cases}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_regulation_runs_on_postgres_too() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let config = test_config(&db.url);
    let s = Server::start_with(db, config).await;
    let cases = every_regulation(&s).await;
    support::say(&format!(
        "api_flows: {cases} cases walked through the API on PostgreSQL"
    ));
    s.stop().await;
}
