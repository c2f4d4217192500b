//! A case that crosses offices, through the API: a child-benefit application received at a
//! public service centre (atyrau-tson-atyrau-1: 09:00–20:00 without a break) goes to the city's
//! department of employment and social programmes (atyrau-city-ozsp: 09:00–18:00, lunch
//! 13:00–14:00), which registers, reviews and signs, and comes back to the centre to be issued.
//! Each task is in the inbox of its role in its own office only, on that office's hours; the
//! case is readable by both offices' staff once it has been at them, and by nobody else.

mod support;

use reglament_server::accounts::GrantRecord;
use reglament_server::demo::DEMO_PASSWORD;
use serde_json::{Value, json};
use support::browser::Browser;
use support::{Server, TestDb, t, test_config};

const REGULATION: &str = "atyrau-child-benefit";
const CENTRE: &str = "atyrau-tson-atyrau-1";
const DEPARTMENT: &str = "atyrau-city-ozsp";
const ELSEWHERE: &str = "atyrau-inder-ozsp";

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

async fn complete(s: &Server, token: &str, task: &str, outcome: Option<&str>) {
    let body = match outcome {
        Some(o) => json!({"outcome": o, "data": {}}),
        None => json!({"data": {}}),
    };
    let r = s
        .post(&format!("/api/v1/tasks/{task}/complete"), token, &body)
        .await;
    assert_eq!(r.status, 200, "complete {task}: {}", r.text);
}

async fn inbox_has(s: &Server, token: &str, id: &str) -> bool {
    let r = s.get("/api/v1/inbox?limit=200", token).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|i| i["case"] == id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_centre_case_goes_to_the_department_and_back_on_each_office_s_hours() {
    let db = TestDb::sqlite();
    let config = test_config(&db.url);
    // Tuesday 14 April 2026, 10:00 in Atyrau.
    let s = Server::start_at_with(t("2026-04-14T10:00:00+05:00"), db, config).await;
    let inspector = s
        .user("centre.inspector", &[&format!("centre_inspector@{CENTRE}")])
        .await;
    let accumulator = s
        .user(
            "centre.accumulator",
            &[&format!("centre_accumulator@{CENTRE}")],
        )
        .await;
    let executor = s
        .user("city.executor", &[&format!("executor@{DEPARTMENT}")])
        .await;
    let head = s.user("city.head", &[&format!("head@{DEPARTMENT}")]).await;
    let stranger = s
        .user("inder.executor", &[&format!("executor@{ELSEWHERE}")])
        .await;

    let r = s
        .post(
            "/api/v1/cases",
            &inspector,
            &json!({"regulation": REGULATION, "channel": "centre", "office": CENTRE,
                    "data": application(&s).await}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    // Received at the centre: 15 minutes on its hours.
    let receive = s.open_task(&inspector, &id).await;
    assert_eq!(receive["office"], CENTRE, "{receive}");
    assert_eq!(receive["due"], "2026-04-14T05:15:00Z");
    assert!(inbox_has(&s, &inspector, &id).await);
    // The department has not had it yet: it does not exist for them, nor for another office.
    s.get(&format!("/api/v1/cases/{id}"), &executor)
        .await
        .assert_problem(404, "not-found");
    s.get(&format!("/api/v1/cases/{id}"), &stranger)
        .await
        .assert_problem(404, "not-found");

    complete(&s, &inspector, &format!("{id}:1"), None).await;
    // Collected within a working day of the centre: Wednesday 20:00.
    let collect = s.open_task(&accumulator, &id).await;
    assert_eq!(collect["office"], CENTRE);
    assert_eq!(collect["due"], "2026-04-15T15:00:00Z");
    s.clock().set(t("2026-04-14T10:30:00+05:00"));
    complete(&s, &accumulator, &format!("{id}:2"), None).await;
    // The register goes at 11:00; the department registers within 15 of its minutes.
    s.clock().set(t("2026-04-14T11:00:00+05:00"));
    s.tick().await;
    let register = s.open_task(&executor, &id).await;
    assert_eq!(register["office"], DEPARTMENT, "{register}");
    assert_eq!(register["due"], "2026-04-14T06:15:00Z");
    assert!(inbox_has(&s, &executor, &id).await);
    assert!(
        !inbox_has(&s, &inspector, &id).await,
        "not the centre's work now"
    );
    s.get(&format!("/api/v1/cases/{id}"), &stranger)
        .await
        .assert_problem(404, "not-found");
    let task = register["id"].as_str().expect("task id").to_string();
    // The centre's inspector may read the case but not do the department's work.
    s.post(
        &format!("/api/v1/tasks/{task}/claim"),
        &inspector,
        &json!({}),
    )
    .await
    .assert_is_problem();

    // Registered at 12:55: the head's 15 minutes are 5 before lunch and 10 after, 14:10 (on
    // the centre's hours it would be 13:10).
    s.clock().set(t("2026-04-14T12:55:00+05:00"));
    complete(&s, &executor, &task, Some("accept")).await;
    let assign = s.open_task(&head, &id).await;
    assert_eq!(assign["office"], DEPARTMENT);
    assert_eq!(assign["due"], "2026-04-14T09:10:00Z");
    // Its time left is on the department's hours: 15 working minutes (the centre's would
    // count 75 to 14:10).
    assert_eq!(assign["working_minutes_left"], 15, "{assign}");
    s.clock().set(t("2026-04-14T14:00:00+05:00"));
    complete(&s, &head, assign["id"].as_str().expect("id"), None).await;
    let review = s.open_task(&executor, &id).await;
    complete(
        &s,
        &executor,
        review["id"].as_str().expect("id"),
        Some("grant"),
    )
    .await;
    let sign = s.open_task(&head, &id).await;
    complete(&s, &head, sign["id"].as_str().expect("id"), None).await;
    s.clock().set(t("2026-04-14T15:00:00+05:00"));
    let result = s.open_task(&executor, &id).await;
    complete(&s, &executor, result["id"].as_str().expect("id"), None).await;
    // Back to the centre to be issued: one working day of the centre, Wednesday 20:00.
    let issue = s.open_task(&inspector, &id).await;
    assert_eq!(issue["office"], CENTRE, "{issue}");
    assert_eq!(issue["due"], "2026-04-15T15:00:00Z");
    assert!(inbox_has(&s, &inspector, &id).await);
    assert!(!inbox_has(&s, &executor, &id).await);
    // Both offices read it; the hand-overs are in its history with both offices.
    let events = s
        .get(&format!("/api/v1/cases/{id}/events"), &executor)
        .await;
    assert_eq!(events.status, 200, "{}", events.text);
    let handed: Vec<(String, String)> = events.json["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["type"] == "case_handed_over")
        .map(|e| {
            (
                e["event"]["from"].as_str().unwrap_or_default().to_string(),
                e["event"]["to"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert_eq!(
        handed,
        [
            (CENTRE.to_string(), DEPARTMENT.to_string()),
            (DEPARTMENT.to_string(), CENTRE.to_string())
        ]
    );
    s.get(&format!("/api/v1/cases/{id}"), &stranger)
        .await
        .assert_problem(404, "not-found");
    complete(&s, &inspector, issue["id"].as_str().expect("id"), None).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_has_staff_and_cases_at_a_centre_and_an_akim() {
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.demo = true;
    let s = Server::start_at_with(t("2026-04-14T10:00:00+05:00"), db, config).await;
    let tokens = s.demo_users().await;
    let inspector = &tokens["atyrau-tson-atyrau-1.centre_inspector"];
    let akim = &tokens["nko-kyzylzhar-beskol-akim.rural_akim"];
    // A case waits at the centre, in its inspector's inbox.
    let first = "DEMO-atyrau-tson-atyrau-1-01";
    let task = s.open_task(inspector, first).await;
    assert_eq!(task["office"], CENTRE, "{task}");
    assert!(inbox_has(&s, inspector, first).await);
    // The akim's case waits at the akim's office.
    let third = "DEMO-nko-kyzylzhar-beskol-akim-03";
    let task = s.open_task(akim, third).await;
    assert_eq!(task["office"], "nko-kyzylzhar-beskol-akim", "{task}");
    assert!(inbox_has(&s, akim, third).await);
    // The department of the centre's district does not see the centre's case yet.
    let executor = &tokens["atyrau-city.executor"];
    s.get(&format!("/api/v1/cases/{first}"), executor)
        .await
        .assert_problem(404, "not-found");
    s.stop().await;
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path, edit: &dyn Fn(&str) -> String) {
    std::fs::create_dir_all(to).expect("dir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target, edit);
        } else {
            let text = std::fs::read_to_string(&path).expect("read");
            std::fs::write(&target, edit(&text)).expect("write");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registering_where_the_route_cannot_be_resolved_is_refused_by_name() {
    // The offices file as deployed, with the city's centres naming no department.
    let dir = std::env::temp_dir().join(format!("reglament-unrouted-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(
        &reglament_testkit::regulations_dir(),
        &dir,
        &|text: &str| text.replace("    forwards_to: atyrau-city-ozsp\n", ""),
    );
    let db = TestDb::sqlite();
    let mut config = test_config(&db.url);
    config.regulations = dir.clone();
    let s = Server::start_at_with(t("2026-04-14T10:00:00+05:00"), db, config).await;
    let inspector = s
        .user("centre.inspector", &[&format!("centre_inspector@{CENTRE}")])
        .await;
    let r = s
        .post(
            "/api/v1/cases",
            &inspector,
            &json!({"regulation": REGULATION, "channel": "centre", "office": CENTRE,
                    "data": application(&s).await}),
        )
        .await;
    r.assert_problem(422, "route-unresolved");
    assert!(
        r.json["detail"]
            .as_str()
            .unwrap_or_default()
            .contains(CENTRE),
        "{}",
        r.text
    );
    assert_eq!(r.json["errors"][0]["pointer"], "/office", "{}", r.text);
    // Nothing was written.
    let inbox = s.get("/api/v1/inbox?limit=200", &inspector).await;
    assert_eq!(inbox.json["items"], json!([]), "{}", inbox.text);
    s.stop().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Who may read a case that went from a centre to the department and back, and who may act
/// on its open task at the centre: staff of both offices read it, only the centre's inspector
/// works its task there (the others are told it is at another office: 403), and staff of
/// offices it never passed through learn nothing (404). Through the API and the pages alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_access_matrix_of_a_case_across_offices() {
    let db = TestDb::sqlite();
    let config = test_config(&db.url);
    let s = Server::start_at_with(t("2026-04-14T10:00:00+05:00"), db, config).await;
    let who = |role: &str, office: &str| format!("{role}@{office}");
    let mut tokens: Vec<(String, String)> = Vec::new();
    for (role, office) in [
        ("centre_inspector", CENTRE),
        ("centre_accumulator", CENTRE),
        ("executor", DEPARTMENT),
        ("head", DEPARTMENT),
        ("executor", ELSEWHERE),
        ("head", ELSEWHERE),
        ("centre_inspector", "atyrau-tson-inder"),
    ] {
        let login = format!("{role}.{office}");
        let grants = vec![GrantRecord {
            role: role.to_string(),
            office: office.to_string(),
        }];
        let token = s.user_with(&login, grants, Some(DEMO_PASSWORD)).await;
        tokens.push((format!("{role}@{office}"), token));
    }
    let token = |label: &str| {
        tokens
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, t)| t.clone())
            .expect("subject")
    };
    let inspector = token(&who("centre_inspector", CENTRE));
    let accumulator = token(&who("centre_accumulator", CENTRE));
    let executor = token(&who("executor", DEPARTMENT));
    let head = token(&who("head", DEPARTMENT));
    let r = s
        .post(
            "/api/v1/cases",
            &inspector,
            &json!({"regulation": REGULATION, "channel": "centre", "office": CENTRE,
                    "data": application(&s).await}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    // Through the department and back to the centre for issue.
    complete(&s, &inspector, &format!("{id}:1"), None).await;
    complete(&s, &accumulator, &format!("{id}:2"), None).await;
    s.clock().set(t("2026-04-14T11:00:00+05:00"));
    s.tick().await;
    complete(&s, &executor, &format!("{id}:3"), Some("accept")).await;
    for token in [&head, &executor, &head, &executor] {
        let task = s.open_task(token, &id).await;
        let outcome = (task["step"] == "review").then_some("grant");
        complete(&s, token, task["id"].as_str().expect("id"), outcome).await;
    }
    let issue = s.open_task(&inspector, &id).await;
    assert_eq!(issue["office"], CENTRE, "{issue}");
    let task = issue["id"].as_str().expect("id").to_string();

    let mut table = Vec::new();
    for (label, token) in &tokens {
        let read = s.get(&format!("/api/v1/cases/{id}"), token).await.status;
        let events = s
            .get(&format!("/api/v1/cases/{id}/events"), token)
            .await
            .status;
        let claim = s
            .post(&format!("/api/v1/tasks/{task}/claim"), token, &json!({}))
            .await
            .status;
        if claim == 200 {
            // Give it back, so that the next subject meets the task unclaimed.
            s.post(&format!("/api/v1/tasks/{task}/release"), token, &json!({}))
                .await;
        }
        // The same through the pages: the case page, the task page, the claim button.
        let login = label.replace('@', ".");
        let mut b = Browser::new(&s);
        b.sign_in(&login).await;
        let case_page = b.get(&format!("/cases/{id}?lang=ru")).await.status;
        let task_page = b.get(&format!("/tasks/{task}?lang=ru")).await;
        let csrf = match task_page.status {
            200 => task_page.csrf(),
            _ => b.get("/inbox").await.csrf(),
        };
        let web_claim = b
            .post(&format!("/tasks/{task}/claim?lang=ru"), &[("_csrf", &csrf)])
            .await;
        if web_claim.status == 303 {
            let page = b.get(&format!("/tasks/{task}")).await;
            b.post(
                &format!("/tasks/{task}/release"),
                &[("_csrf", &page.csrf())],
            )
            .await;
        }
        if web_claim.status == 403 && label.ends_with(DEPARTMENT) {
            assert!(
                web_claim
                    .body
                    .contains("Эта задача в другом офисе маршрута дела"),
                "{label}: {}",
                web_claim.body
            );
        }
        table.push((
            label.clone(),
            [read, events, claim],
            [case_page, task_page.status, web_claim.status],
        ));
    }
    let expected = [
        (
            who("centre_inspector", CENTRE),
            [200, 200, 200],
            [200, 200, 303],
        ),
        (
            who("centre_accumulator", CENTRE),
            [200, 200, 403],
            [200, 200, 403],
        ),
        (
            who("executor", DEPARTMENT),
            [200, 200, 403],
            [200, 200, 403],
        ),
        (who("head", DEPARTMENT), [200, 200, 403], [200, 200, 403]),
        (who("executor", ELSEWHERE), [404, 404, 404], [404, 404, 404]),
        (who("head", ELSEWHERE), [404, 404, 404], [404, 404, 404]),
        (
            who("centre_inspector", "atyrau-tson-inder"),
            [404, 404, 404],
            [404, 404, 404],
        ),
    ];
    assert_eq!(
        table, expected,
        "subject, API [read, events, claim], pages [case, task, claim]"
    );
    s.stop().await;
}
