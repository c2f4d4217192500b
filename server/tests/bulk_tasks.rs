//! Bulk claim, release and reassign (`POST /api/v1/tasks/bulk`) on SQLite and PostgreSQL: one
//! event per task in its own case's chain, a repeated request with no second effect, a reason
//! per refused task in the request's language, a task of another office refused exactly like
//! one that does not exist, and malformed requests refused whole.

mod support;

use serde_json::{Value, json};
use support::{Resp, Server, TestDb, test_config};

const A: &str = "atyrau-city-ozsp";
const B: &str = "atyrau-zhylyoi-ozsp";
const REGULATION: &str = "atyrau-social-assistance";

async fn bulk(s: &Server, token: &str, body: Value, headers: &[(&str, &str)]) -> Resp {
    let mut req = s
        .client
        .post(format!("{}/api/v1/tasks/bulk", s.base))
        .bearer_auth(token)
        .json(&body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    support::send(req).await
}

/// The types of a case's events, in order.
async fn event_types(s: &Server, token: &str, case: &str) -> Vec<(String, String)> {
    let r = s.get(&format!("/api/v1/cases/{case}/events"), token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap_or_default().to_string(),
                e["actor"]["user"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Each task's `(result, code)` in the answer's order.
fn results(r: &Resp) -> Vec<(String, String)> {
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| {
            (
                i["result"].as_str().unwrap_or_default().to_string(),
                i["code"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

fn pair(result: &str, code: &str) -> (String, String) {
    (result.to_string(), code.to_string())
}

async fn flow(s: &Server) {
    let boss = s
        .user("boss", &[&format!("head@{A}"), &format!("executor@{A}")])
        .await;
    let exec1 = s.user("exec1", &[&format!("executor@{A}")]).await;
    let exec2 = s.user("exec2", &[&format!("executor@{A}")]).await;
    s.user("headonly", &[&format!("head@{A}")]).await;
    let exec_b = s.user("execb", &[&format!("executor@{B}")]).await;
    let form = s.step_form(REGULATION, "register").await;

    let a: Vec<String> = {
        let mut v = Vec::new();
        for _ in 0..5 {
            v.push(s.start_case(&exec1, REGULATION, A).await);
        }
        v
    };
    let b1 = s.start_case(&exec_b, REGULATION, B).await;
    // a[3] is claimed by someone else; a[4]'s task is completed already.
    let r = s
        .post(
            &format!("/api/v1/tasks/{}:1/claim", a[3]),
            &exec1,
            &json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s
        .post(
            &format!("/api/v1/tasks/{}:1/complete", a[4]),
            &exec1,
            &json!({ "data": form }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let before: Vec<usize> = {
        let mut v = Vec::new();
        for c in &a {
            v.push(event_types(s, &boss, c).await.len());
        }
        v
    };

    // A claim of seven tasks: two done, the rest refused, each with its reason in Russian.
    let tasks = json!([
        format!("{}:1", a[0]),
        format!("{}:1", a[1]),
        format!("{b1}:1"),
        format!("{}:1", a[3]),
        format!("{}:1", a[4]),
        "NOPE-1:1",
        "not a task",
    ]);
    let body = json!({"action": "claim", "tasks": tasks});
    let r = bulk(
        s,
        &boss,
        body.clone(),
        &[("accept-language", "ru-RU,ru;q=0.9")],
    )
    .await;
    assert_eq!(
        results(&r),
        vec![
            pair("done", ""),
            pair("done", ""),
            pair("refused", "not-found"),
            pair("refused", "claimed-by-other"),
            pair("refused", "task-not-open"),
            pair("refused", "not-found"),
            pair("refused", "not-found"),
        ]
    );
    assert_eq!(
        (&r.json["done"], &r.json["unchanged"], &r.json["refused"]),
        (&json!(2), &json!(0), &json!(5))
    );
    let items = r.json["items"].as_array().expect("items");
    assert_eq!(items[3]["reason"], "Эту задачу уже взял другой сотрудник.");
    assert_eq!(items[3]["status"], 409);
    assert_eq!(
        items[2]["reason"],
        "Такой задачи нет, или она вам не видна."
    );
    // Another office's task reads exactly like one that does not exist.
    for field in ["status", "code", "reason", "detail"] {
        assert_eq!(items[2][field], items[5][field], "{field}");
    }
    // One event per claimed task, in its own case, by the caller; none elsewhere.
    for (i, c) in a.iter().enumerate() {
        let events = event_types(s, &boss, c).await;
        let added = &events[before[i]..];
        if i < 2 {
            assert_eq!(added, [pair("task_claimed", "boss")], "{c}");
        } else {
            assert!(added.is_empty(), "{c}: {added:?}");
        }
    }
    let b_events = event_types(s, &exec_b, &b1).await;
    assert!(!b_events.iter().any(|(t, _)| t == "task_claimed"));

    // The same request again: nothing more happens.
    let again = bulk(s, &boss, body, &[]).await;
    assert_eq!(
        results(&again)[..2],
        [pair("unchanged", ""), pair("unchanged", "")]
    );
    assert_eq!(results(&again)[2..], results(&r)[2..]);
    for c in &a[..2] {
        let claims = event_types(s, &boss, c)
            .await
            .iter()
            .filter(|(t, _)| t == "task_claimed")
            .count();
        assert_eq!(claims, 1, "{c}");
    }

    // With an Idempotency-Key the first answer replays as it was.
    let release =
        json!({"action": "release", "tasks": [format!("{}:1", a[0]), format!("{}:1", a[1])]});
    let key = [("idempotency-key", "bulk-release-1")];
    let first = bulk(s, &boss, release.clone(), &key).await;
    assert_eq!(results(&first), vec![pair("done", ""), pair("done", "")]);
    let replay = bulk(s, &boss, release.clone(), &key).await;
    assert_eq!(replay.status, 200);
    assert_eq!(replay.header("idempotency-replayed"), Some("true"));
    assert_eq!(replay.json, first.json);
    let without = bulk(s, &boss, release, &[]).await;
    assert_eq!(
        results(&without),
        vec![pair("unchanged", ""), pair("unchanged", "")]
    );
    for c in &a[..2] {
        let events = event_types(s, &boss, c).await;
        let released = events.iter().filter(|(t, _)| t == "task_released").count();
        assert_eq!(released, 1, "{c}");
    }

    // A head hands three tasks, one claimed by a colleague, to an executor.
    let three: Vec<String> = [0, 1, 3].iter().map(|&i| format!("{}:1", a[i])).collect();
    let reassign = json!({"action": "reassign", "tasks": three, "to": "exec2"});
    let r = bulk(s, &boss, reassign.clone(), &[]).await;
    assert_eq!(results(&r), vec![pair("done", ""); 3]);
    let inbox = s.get("/api/v1/inbox?limit=200", &exec2).await;
    let mine: Vec<&str> = inbox.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["assigned_to"] == "exec2")
        .filter_map(|i| i["id"].as_str())
        .collect();
    for t in &three {
        assert!(
            mine.contains(&t.as_str()),
            "{t} not in exec2's inbox: {mine:?}"
        );
    }
    let again = bulk(s, &boss, reassign, &[]).await;
    assert_eq!(results(&again), vec![pair("unchanged", ""); 3]);
    for i in [0, 1, 3] {
        let events = event_types(s, &boss, &a[i]).await;
        let reassigned = events
            .iter()
            .filter(|(t, _)| t == "task_reassigned")
            .count();
        assert_eq!(reassigned, 1, "{}", a[i]);
    }

    // To someone without the tasks' role: refused per task, said in Kazakh when asked.
    let r = bulk(
        s,
        &boss,
        json!({"action": "reassign", "tasks": [format!("{}:1", a[2])], "to": "headonly"}),
        &[("accept-language", "kk")],
    )
    .await;
    assert_eq!(results(&r), vec![pair("refused", "user-cannot-take-task")]);
    assert_eq!(
        r.json["items"][0]["reason"],
        "Таңдалған қызметкерде бұл кеңседе тапсырманың рөлі жоқ."
    );
    // Back to the role's queue.
    let r = bulk(
        s,
        &boss,
        json!({"action": "reassign", "tasks": [format!("{}:1", a[0])], "to": null}),
        &[],
    )
    .await;
    assert_eq!(results(&r), vec![pair("done", "")]);
    // An executor may not reassign: refused per task, in English by default.
    let r = bulk(
        s,
        &exec1,
        json!({"action": "reassign", "tasks": [format!("{}:1", a[2])], "to": "exec2"}),
        &[],
    )
    .await;
    assert_eq!(
        results(&r),
        vec![pair("refused", "not-allowed-to-reassign")]
    );
    assert_eq!(r.json["items"][0]["status"], 403);
    assert_eq!(
        r.json["items"][0]["reason"],
        "Only the head of the office may hand a task to someone else."
    );

    // Malformed requests change nothing.
    let many: Vec<String> = (1..=201).map(|i| format!("{}:{i}", a[2])).collect();
    for (body, pointer) in [
        (json!({"action": "claim", "tasks": []}), Some("/tasks")),
        (json!({"action": "claim", "tasks": many}), Some("/tasks")),
        (
            json!({"action": "claim", "tasks": [format!("{}:1", a[2]), format!("{}:1", a[2])]}),
            Some("/tasks/1"),
        ),
        (
            json!({"action": "claim", "tasks": [format!("{}:1", a[2])], "to": "exec2"}),
            Some("/to"),
        ),
        (
            json!({"action": "steal", "tasks": [format!("{}:1", a[2])]}),
            None,
        ),
        (json!({"tasks": [format!("{}:1", a[2])]}), None),
    ] {
        let r = bulk(s, &boss, body.clone(), &[]).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        r.assert_is_problem();
        if let Some(p) = pointer {
            assert_eq!(r.json["errors"][0]["pointer"], p, "{}", r.text);
        }
    }
    let events = event_types(s, &boss, &a[2]).await;
    assert!(
        !events.iter().any(|(t, _)| t == "task_claimed"),
        "{events:?}"
    );
    let anonymous = s
        .call(
            "POST",
            "/api/v1/tasks/bulk",
            None,
            Some(&json!({"action": "claim", "tasks": ["X:1"]})),
        )
        .await;
    anonymous.assert_problem(401, "unauthorized");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_actions_on_sqlite() {
    let s = Server::start().await;
    flow(&s).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bulk_actions_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let url = db.url.clone();
    let s = Server::start_with(db, test_config(&url)).await;
    flow(&s).await;
    s.stop().await;
}

/// The inbox page's bulk form, posted as a browser without script does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_form_acts_on_ticked_tasks_and_says_what_became_of_each() {
    let s = Server::start().await;
    let exec = s.person("exec-a", &[&format!("executor@{A}")]).await;
    s.person("head-a", &[&format!("head@{A}")]).await;
    let exec_b = s.user("exec-b", &[&format!("executor@{B}")]).await;
    let mine = s.start_case(&exec, REGULATION, A).await;
    let theirs = s.start_case(&exec_b, REGULATION, B).await;

    let mut head = support::browser::Browser::new(&s);
    head.sign_in("head-a").await;
    let inbox = head.get("/inbox?role=executor").await;
    assert!(inbox.body.contains(&format!(
        "<input type=\"checkbox\" name=\"task\" value=\"{mine}:1\" form=\"bulk\""
    )));
    assert!(
        inbox.body.contains("<option value=\"exec-a\">"),
        "{}",
        inbox.body
    );
    let csrf = inbox.csrf();
    let mine_task = format!("{mine}:1");
    let theirs_task = format!("{theirs}:1");
    let answer = head
        .post(
            "/inbox/bulk?lang=kk",
            &[
                ("_csrf", &csrf),
                ("task", &mine_task),
                ("task", &theirs_task),
                ("to", "exec-a"),
                ("action", "reassign"),
            ],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert!(
        answer.body.contains("<strong id=\"bulk-done\">1</strong>"),
        "{}",
        answer.body
    );
    assert!(
        answer
            .body
            .contains("<strong id=\"bulk-refused\">1</strong>")
    );
    assert!(
        answer
            .body
            .contains("Мұндай тапсырма жоқ немесе ол сізге көрінбейді.")
    );
    assert!(answer.body.contains("Топтық әрекеттің нәтижесі"));
    let events = event_types(&s, &exec, &mine).await;
    assert_eq!(
        events
            .iter()
            .filter(|(t, _)| t == "task_reassigned")
            .count(),
        1
    );
    // The same form again (a double click): nothing more.
    let again = head
        .post(
            "/inbox/bulk",
            &[
                ("_csrf", &csrf),
                ("task", &mine_task),
                ("to", "exec-a"),
                ("action", "reassign"),
            ],
        )
        .await;
    assert!(
        again
            .body
            .contains("<strong id=\"bulk-unchanged\">1</strong>"),
        "{}",
        again.body
    );
    assert_eq!(event_types(&s, &exec, &mine).await, events);
    // `to` is read for a reassignment only: a release with the select still filled works.
    let released = head
        .post(
            "/inbox/bulk?lang=en",
            &[
                ("_csrf", &csrf),
                ("task", &mine_task),
                ("to", "exec-a"),
                ("action", "release"),
            ],
        )
        .await;
    assert_eq!(released.status, 200);
    assert!(
        released
            .body
            .contains("<strong id=\"bulk-unchanged\">1</strong>"),
        "{}",
        released.body
    );

    // Refused whole: no CSRF token, no task ticked, no action.
    let forged = head
        .post("/inbox/bulk", &[("task", &mine_task), ("action", "claim")])
        .await;
    assert_eq!(forged.status, 403);
    let none = head
        .post(
            "/inbox/bulk?lang=ru",
            &[("_csrf", &csrf), ("action", "claim")],
        )
        .await;
    assert_eq!(none.status, 422);
    assert!(none.body.contains("Не отмечено ни одной задачи."));
    let no_action = head
        .post("/inbox/bulk", &[("_csrf", &csrf), ("task", &mine_task)])
        .await;
    assert_eq!(no_action.status, 422);
    assert_eq!(event_types(&s, &exec, &mine).await, events);

    // An executor's page has no bulk bar; a forged post is judged per task by the policy.
    let mut clerk = support::browser::Browser::new(&s);
    clerk.sign_in("exec-a").await;
    let page = clerk.get("/inbox").await;
    assert!(!page.body.contains("id=\"bulk\""));
    let csrf = page.csrf();
    let refused = clerk
        .post(
            "/inbox/bulk?lang=en",
            &[
                ("_csrf", &csrf),
                ("task", &mine_task),
                ("action", "reassign"),
            ],
        )
        .await;
    assert_eq!(refused.status, 200);
    assert!(
        refused
            .body
            .contains("<strong id=\"bulk-refused\">1</strong>")
    );
    assert!(
        refused
            .body
            .contains("Only the head of the office may hand a task to someone else.")
    );
    s.stop().await;
}
