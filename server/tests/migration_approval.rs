//! Migrations of running cases through the API and the web pages, with a second person's
//! approval: an analyst proposes a plan and its dry run is kept (each case's tasks, where
//! each is and goes, its due instants before and after, the warnings); the proposer cannot
//! approve it (403); another analyst (or an administrator) approves it and the cases move,
//! each with one `case_migrated` event naming the approver as the actor and the request and
//! its proposer in the reason; chains verify and replay clean; approving again moves nothing
//! (409). A plan with a mistake is 422 with its line and column; only analysts propose, and a
//! registrar sees no request. The web flow does the same with the forms and their CSRF tokens.
//! On SQLite, and on PostgreSQL when `REGLAMENT_TEST_POSTGRES` names a cluster.

mod support;

use chrono::{DateTime, Utc};
use reglament_audit::replay::{ReplayOptions, replay};
use reglament_runtime::{Actor, CaseId, Command as Cmd, NewCase, TaskId};
use reglament_server::demo::DEMO_PASSWORD;
use reglament_store::Store;
use reglament_testkit::fixtures::{OFFICE, REGISTER_REVIEW as REGULATION};
use serde_json::json;
use support::browser::Browser;
use support::{Server, TestDb, t, test_config};

fn version2() -> String {
    reglament_testkit::fixtures::register_review_v2()
}

const PLAN: &str = reglament_testkit::fixtures::REGISTER_REVIEW_PLAN;

/// Monday 13 April 2026, 11:00 in Atyrau: the cases' registration.
fn registered() -> DateTime<Utc> {
    t("2026-04-13T11:00:00+05:00")
}

/// Both versions deployed, three open cases of version 1 (`M-0`, `M-1` and `M-2`; `M-1` and
/// `M-2` at the review, `M-1`'s claimed by clerk1, an executor who is no head) and the users:
/// two analysts, a registrar, clerk1. Returns the tokens (analyst1, analyst2, registrar,
/// clerk1, admin).
async fn setup(s: &Server) -> [String; 5] {
    let store = &s.state.store;
    let at = t("2026-04-01T09:00:00+05:00");
    let (_, v1) = store.deploy(REGULATION, "analyst", at).await.expect("v1");
    store.deploy(&version2(), "analyst", at).await.expect("v2");
    let analyst1 = s.user("analyst1", &["analyst"]).await;
    let analyst2 = s.user("analyst2", &["analyst"]).await;
    let registrar = s
        .user("registrar1", &[&format!("registrar@{OFFICE}")])
        .await;
    let clerk = s.user("clerk1", &[&format!("executor@{OFFICE}")]).await;
    let admin = s.token("admin").await;
    let actor = Actor::new("clerk1", "executor");
    for i in 0..3 {
        let new = NewCase {
            case: CaseId::new(format!("M-{i}")),
            channel: "provider".into(),
            office: OFFICE.into(),
            data: json!({"full_name": "Айгүл Серікова"}),
        };
        s.state
            .service
            .start(&v1, new, &actor, registered())
            .await
            .expect("starts");
    }
    let at = t("2026-04-13T12:00:00+05:00");
    for id in ["M-1", "M-2"] {
        let done = Cmd::Complete {
            task: TaskId(1),
            outcome: None,
            data: json!({}),
            reason: None,
        };
        s.state
            .service
            .execute(&CaseId::new(id), &done, &actor, at)
            .await
            .expect("register");
    }
    s.state
        .service
        .execute(
            &CaseId::new("M-1"),
            &Cmd::Claim { task: TaskId(2) },
            &actor,
            at,
        )
        .await
        .expect("claim");
    [analyst1, analyst2, registrar, clerk, admin]
}

/// `(case, count)` of `case_migrated` events.
async fn migrated_per_case(store: &Store) -> Vec<(String, i64)> {
    store
        .read_side::<(String, i64)>(
            "SELECT case_id, COUNT(*) FROM events WHERE type = 'case_migrated' GROUP BY case_id ORDER BY case_id",
            Vec::new(),
        )
        .await
        .expect("counts")
}

async fn the_two_person_rule(s: &Server) {
    let [analyst1, analyst2, registrar, clerk, admin] = setup(s).await;

    // Only analysts propose.
    for token in [&registrar, &clerk, &admin] {
        s.post(
            "/api/v1/migrations",
            token,
            &json!({"plan": PLAN, "reason": "decree 45"}),
        )
        .await
        .assert_problem(403, "not-allowed-to-propose-migration");
    }
    // A plan that leaves the review unmapped: 422 at its line and column, nothing kept.
    let unmapped = PLAN.replace("mapping:\n  review: examine\n", "");
    let r = s
        .post(
            "/api/v1/migrations",
            &analyst1,
            &json!({"plan": unmapped, "reason": "decree 45"}),
        )
        .await;
    r.assert_problem(422, "invalid-migration-plan");
    let first = &r.json["errors"][0];
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(4), Some(13)),
        "{}",
        r.text
    );
    assert!(
        first["detail"]
            .as_str()
            .is_some_and(|d| d.contains("step `review` of version 1 is not in version 2")),
        "{}",
        r.text
    );
    // A plan that is not even a plan: 422 at the line of the mistake.
    let r = s
        .post(
            "/api/v1/migrations",
            &analyst1,
            &json!({"plan": PLAN.replace("from_version: 1", "from_version: one"), "reason": "x"}),
        )
        .await;
    r.assert_problem(422, "invalid-migration-plan");
    assert_eq!(r.json["errors"][0]["line"], 3, "{}", r.text);
    // A version that is not deployed: 422 at its line.
    let r = s
        .post(
            "/api/v1/migrations",
            &analyst1,
            &json!({"plan": PLAN.replace("to_version: 2", "to_version: 7"), "reason": "x"}),
        )
        .await;
    r.assert_problem(422, "version-not-deployed");
    assert_eq!(r.json["errors"][0]["line"], 4, "{}", r.text);
    // No reason: 422.
    s.post(
        "/api/v1/migrations",
        &analyst1,
        &json!({"plan": PLAN, "reason": "  "}),
    )
    .await
    .assert_problem(422, "bad-reason");
    let listed = s.get("/api/v1/migrations", &analyst1).await;
    assert_eq!(listed.json, json!([]), "nothing kept of refused proposals");

    // The proposal: its dry run is kept, and nothing moved.
    let r = s
        .post(
            "/api/v1/migrations",
            &analyst1,
            &json!({"plan": PLAN, "reason": "Decree No. 45 takes effect"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    assert_eq!(
        r.header("location"),
        Some(format!("/api/v1/migrations/{id}").as_str())
    );
    assert_eq!(r.json["status"], "proposed");
    assert_eq!(r.json["proposed_by"], "analyst1");
    assert!(migrated_per_case(&s.state.store).await.is_empty());

    let got = s.get(&format!("/api/v1/migrations/{id}"), &analyst2).await;
    assert_eq!(got.status, 200, "{}", got.text);
    let dry = &got.json["dry_run"];
    assert_eq!(
        (&dry["selected"], &dry["would_move"], &dry["not_moved"]),
        (&json!(3), &json!(3), &json!(0)),
        "{dry:#}"
    );
    assert_eq!(got.json["plan"], PLAN);
    // M-1's review: opened Monday 12:00; 1 working day (counted from the next day) → Tuesday
    // 18:00; recomputed on 3 → Thursday 18:00 (13:00 UTC); claimed by clerk1, who is no
    // head: a warning.
    let m1 = dry["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["case"] == "M-1")
        .expect("M-1 in the dry run");
    let review = &m1["tasks"][0];
    assert_eq!(
        (
            &review["from_step"],
            &review["to_step"],
            &review["role"],
            &review["claimed_by"]
        ),
        (
            &json!("review"),
            &json!("examine"),
            &json!("head"),
            &json!("clerk1")
        ),
        "{m1:#}"
    );
    assert_eq!(review["due_before"], "2026-04-14T13:00:00Z", "{m1:#}");
    assert_eq!(review["due_after"], "2026-04-16T13:00:00Z", "{m1:#}");
    assert_eq!(review["policy"], "recompute");
    assert_eq!(
        m1["case_due_before"], m1["case_due_after"],
        "the case's term is kept"
    );
    let warnings = dry["warnings"].as_array().expect("warnings");
    assert!(
        warnings
            .iter()
            .any(|w| w["case"] == "M-1" && w["kind"] == "loses_role" && w["holder"] == "clerk1"),
        "{dry:#}"
    );

    // Who sees the requests: analysts, administrators, auditors; not a registrar.
    s.get("/api/v1/migrations", &registrar)
        .await
        .assert_problem(403, "not-allowed-to-view-migrations");
    s.get(&format!("/api/v1/migrations/{id}"), &clerk)
        .await
        .assert_problem(403, "not-allowed-to-view-migrations");
    let listed = s.get("/api/v1/migrations", &admin).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.json[0]["id"], id.as_str());
    assert!(
        listed.json[0].get("dry_run").is_none(),
        "the list is a summary"
    );
    s.get("/api/v1/migrations/mr-nosuch", &analyst1)
        .await
        .assert_problem(404, "not-found");

    // The proposer cannot approve; nor can a clerk.
    let approve = format!("/api/v1/migrations/{id}/approve");
    s.post(&approve, &analyst1, &json!({"reason": "I say so"}))
        .await
        .assert_problem(403, "own-migration");
    s.post(&approve, &clerk, &json!({"reason": "why not"}))
        .await
        .assert_problem(403, "not-allowed-to-view-migrations");
    s.post(&approve, &analyst2, &json!({"reason": ""}))
        .await
        .assert_problem(422, "bad-reason");
    assert!(migrated_per_case(&s.state.store).await.is_empty());

    // Another analyst approves: the three cases move, once each.
    let r = s
        .post(
            &approve,
            &analyst2,
            &json!({"reason": "checked the dry run against the decree"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "done", "{}", r.text);
    assert_eq!(r.json["decided_by"], "analyst2");
    assert_eq!(r.json["migrated"], 3);
    assert_eq!(r.json["result"]["migrated"], 3);
    let store = &s.state.store;
    assert_eq!(
        migrated_per_case(store).await,
        vec![("M-0".into(), 1), ("M-1".into(), 1), ("M-2".into(), 1)]
    );
    // The approver is the actor of each move, and its reason names the request and who
    // proposed it.
    for case in ["M-0", "M-1", "M-2"] {
        let events = store.events(&CaseId::new(case)).await.expect("events");
        let moved = events
            .iter()
            .find(|e| e.event.kind.name() == "case_migrated")
            .expect("moved");
        assert_eq!(
            (&*moved.event.actor.user, &*moved.event.actor.role),
            ("analyst2", "analyst")
        );
        let body = serde_json::to_value(&moved.event.kind).expect("json");
        let reason = body["reason"].as_str().unwrap_or_default();
        assert!(
            reason.starts_with("the review is done by the head within three working days — ")
                && reason.contains(&id)
                && reason.contains("proposed by analyst1")
                && reason.contains("approved by analyst2"),
            "{reason}"
        );
        let opts = ReplayOptions {
            at: None,
            now: s.state.now(),
            clocks: None,
        };
        let r = replay(store, &CaseId::new(case), &opts)
            .await
            .expect("replay");
        assert!(
            r.is_clean(),
            "{case}: {:#?}",
            (r.fold_error, r.deadlines, r.projections)
        );
    }
    assert!(store.verify_all().await.expect("verify").is_ok());
    // What-if on a case that ran on two versions: its decisions re-timed under a draft.
    let draft = reglament_audit::whatif::compile_draft(&version2(), "v2.yaml").expect("draft");
    let opts = ReplayOptions {
        at: None,
        now: s.state.now(),
        clocks: Some(&s.state.calendars as &dyn reglament_runtime::Clocks),
    };
    let w = reglament_audit::whatif::whatif(store, &CaseId::new("M-0"), &draft, &opts)
        .await
        .expect("what-if of a migrated case");
    assert_eq!(
        (w.real_status.as_str(), w.draft_status.as_str()),
        ("open", "open")
    );
    assert!(w.diverged.is_none(), "{w:#?}");
    assert!(w.deadlines.iter().any(|d| d.target == "case"), "{w:#?}");
    // The case's own page shows who moved it (through the API: its events).
    let ev = s.get("/api/v1/cases/M-1/events", &admin).await;
    assert_eq!(ev.status, 200, "{}", ev.text);
    assert!(
        ev.text.contains("case_migrated") && ev.text.contains(&id),
        "{}",
        ev.text
    );

    // Approving again (the same approver, or an administrator): 409, nothing moves twice.
    for token in [&analyst2, &admin] {
        s.post(&approve, token, &json!({"reason": "again"}))
            .await
            .assert_problem(409, "migration-decided");
    }
    s.post(
        &format!("/api/v1/migrations/{id}/reject"),
        &admin,
        &json!({"reason": "too late"}),
    )
    .await
    .assert_problem(409, "migration-decided");
    assert_eq!(
        migrated_per_case(store).await,
        vec![("M-0".into(), 1), ("M-1".into(), 1), ("M-2".into(), 1)]
    );

    // A second proposal of the same plan finds nothing left to move; its proposer withdraws it.
    let r = s
        .post(
            "/api/v1/migrations",
            &analyst2,
            &json!({"plan": PLAN, "reason": "once more"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["dry_run"]["selected"], 0);
    let second = r.json["id"].as_str().expect("id").to_string();
    let r = s
        .post(
            &format!("/api/v1/migrations/{second}/reject"),
            &analyst2,
            &json!({"reason": "nothing to move"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["status"], "rejected");
    s.post(
        &format!("/api/v1/migrations/{second}/approve"),
        &analyst1,
        &json!({"reason": "late"}),
    )
    .await
    .assert_problem(409, "migration-decided");
    let listed = s.get("/api/v1/migrations", &analyst1).await;
    let statuses: Vec<&str> = listed
        .json
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|r| r["status"].as_str())
        .collect();
    assert_eq!(statuses.len(), 2, "{}", listed.text);
    assert!(statuses.contains(&"done") && statuses.contains(&"rejected"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_move_running_cases_on_sqlite() {
    let s = Server::start().await;
    the_two_person_rule(&s).await;
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_move_running_cases_on_postgres() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let config = test_config(&db.url);
    let s = Server::start_with(db, config).await;
    the_two_person_rule(&s).await;
    s.stop().await;
}

/// Two approvals of one request at once: one runs the plan, the other gets 409.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_approvals_at_once_run_the_plan_once() {
    let s = Server::start().await;
    let [analyst1, analyst2, _, _, admin] = setup(&s).await;
    let r = s
        .post(
            "/api/v1/migrations",
            &analyst1,
            &json!({"plan": PLAN, "reason": "decree 45"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let approve = format!(
        "/api/v1/migrations/{}/approve",
        r.json["id"].as_str().expect("id")
    );
    let body = json!({"reason": "ok"});
    let (a, b) = tokio::join!(
        s.post(&approve, &analyst2, &body),
        s.post(&approve, &admin, &body)
    );
    let mut statuses = vec![a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, vec![200, 409], "{} / {}", a.text, b.text);
    assert_eq!(
        migrated_per_case(&s.state.store).await,
        vec![("M-0".into(), 1), ("M-1".into(), 1), ("M-2".into(), 1)]
    );
    s.stop().await;
}

fn body_has(body: &str, text: &str) {
    assert!(body.contains(text), "`{text}` not in:\n{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_propose_show_the_dry_run_and_take_a_second_persons_approval() {
    let s = Server::start().await;
    setup(&s).await;
    for login in ["analyst-web", "analyst-web2"] {
        s.user_with(
            login,
            vec![reglament_server::accounts::GrantRecord {
                role: "analyst".into(),
                office: "*".into(),
            }],
            Some(DEMO_PASSWORD),
        )
        .await;
    }
    s.user_with(
        "registrar-web",
        vec![reglament_server::accounts::GrantRecord {
            role: "registrar".into(),
            office: OFFICE.into(),
        }],
        Some(DEMO_PASSWORD),
    )
    .await;

    // A registrar has no link and no page.
    let mut registrar = Browser::new(&s);
    registrar.sign_in("registrar-web").await;
    let inbox = registrar.get("/inbox").await;
    assert!(!inbox.body.contains("href=\"/migrations\""));
    let r = registrar.get("/migrations").await;
    assert_eq!(r.status, 403, "{}", r.body);

    let mut first = Browser::new(&s);
    first.sign_in("analyst-web").await;
    let list = first.get("/migrations?lang=en").await;
    assert_eq!(list.status, 200, "{}", list.body);
    body_has(&list.body, "href=\"/migrations\"");
    body_has(&list.body, "id=\"no-migrations\"");
    let csrf = list.csrf();
    // Without the CSRF token: refused, nothing proposed.
    let r = first
        .post(
            "/migrations",
            &[("_csrf", "forged"), ("plan", PLAN), ("reason", "x")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    // A plan with a mistake comes back with it at its line, the text kept.
    let unmapped = PLAN.replace("mapping:\n  review: examine\n", "");
    let r = first
        .post(
            "/migrations",
            &[
                ("_csrf", &csrf),
                ("plan", &unmapped),
                ("reason", "decree 45"),
            ],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    body_has(&r.body, "id=\"plan-errors\"");
    body_has(&r.body, "<td>4</td><td>13</td>");
    body_has(&r.body, "legal_basis:");
    // The proposal: to its page, with the dry run.
    let r = first
        .post(
            "/migrations",
            &[("_csrf", &csrf), ("plan", PLAN), ("reason", "decree 45")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let location = r.location.expect("location");
    assert!(location.starts_with("/migrations/mr-"), "{location}");
    let path = location.split('?').next().expect("path").to_string();
    let page = first.get(&format!("{path}?lang=en")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    body_has(&page.body, "Waiting for approval");
    body_has(&page.body, "Review → Review");
    body_has(&page.body, "2026-04-14 18:00");
    body_has(&page.body, "2026-04-16 18:00");
    body_has(&page.body, "keeps the task but cannot complete it");
    body_has(&page.body, "id=\"own\"");
    assert!(
        !page.body.contains("id=\"approve\""),
        "no approve form for the proposer"
    );
    // The proposer posting the approval anyway: 403, nothing moves.
    let r = first
        .post(
            &format!("{path}/approve"),
            &[("_csrf", &page.csrf()), ("reason", "mine")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(migrated_per_case(&s.state.store).await.is_empty());
    // The page in Kazakh and Russian too.
    for (lang, word) in [("kk", "Бекітуді күтуде"), ("ru", "Ожидает утверждения")]
    {
        let p = first.get(&format!("{path}?lang={lang}")).await;
        body_has(&p.body, word);
    }

    // The second analyst approves (a double click posts twice: the second lands on the
    // page with a notice, and nothing moves twice).
    let mut second = Browser::new(&s);
    second.sign_in("analyst-web2").await;
    let page = second.get(&format!("{path}?lang=en")).await;
    body_has(&page.body, &format!("action=\"{path}/approve\""));
    let csrf = page.csrf();
    let r = second
        .post(
            &format!("{path}/approve"),
            &[("_csrf", "forged"), ("reason", "checked")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = second
        .post(
            &format!("{path}/approve"),
            &[("_csrf", &csrf), ("reason", "")],
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.body);
    let r = second
        .post(
            &format!("{path}/approve"),
            &[("_csrf", &csrf), ("reason", "checked")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("{path}?notice=mig_approved").as_str())
    );
    let again = second
        .post(
            &format!("{path}/approve"),
            &[("_csrf", &csrf), ("reason", "checked")],
        )
        .await;
    assert_eq!(again.status, 303, "{}", again.body);
    assert_eq!(
        again.location.as_deref(),
        Some(format!("{path}?notice=mig_decided_already").as_str())
    );
    assert_eq!(
        migrated_per_case(&s.state.store).await,
        vec![("M-0".into(), 1), ("M-1".into(), 1), ("M-2".into(), 1)]
    );
    let done = second
        .get(&format!("{path}?notice=mig_approved&lang=en"))
        .await;
    body_has(&done.body, "Migration approved and run.");
    body_has(&done.body, "id=\"decided-by\"");
    body_has(&done.body, "analyst-web2");
    body_has(&done.body, "id=\"result\"");
    assert!(!done.body.contains("id=\"approve\""), "decided: no forms");
    let list = second.get("/migrations?lang=en").await;
    body_has(&list.body, "Done");
}

/// The five operations are in the OpenAPI document, and every `$ref` in it resolves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_describes_the_migration_operations() {
    let s = Server::start().await;
    let doc = s.call("GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(doc.status, 200);
    let paths = &doc.json["paths"];
    for (path, method, ok) in [
        ("/api/v1/migrations", "get", "200"),
        ("/api/v1/migrations", "post", "201"),
        ("/api/v1/migrations/{id}", "get", "200"),
        ("/api/v1/migrations/{id}/approve", "post", "200"),
        ("/api/v1/migrations/{id}/reject", "post", "200"),
    ] {
        let op = &paths[path][method];
        assert!(op.is_object(), "{method} {path}");
        assert!(op["responses"][ok].is_object(), "{method} {path} {ok}");
        for status in ["401", "403"] {
            assert!(
                op["responses"][status].is_object(),
                "{method} {path} {status}"
            );
        }
    }
    assert!(paths["/api/v1/migrations/{id}/approve"]["post"]["responses"]["409"].is_object());
    assert!(paths["/api/v1/migrations"]["post"]["responses"]["422"].is_object());
    let schemas = &doc.json["components"]["schemas"];
    for name in ["MigrationRequestDto", "DryRunDto", "CaseMoveDto", "Warning"] {
        assert!(schemas[name].is_object(), "{name}");
    }
    fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    match (k.as_str(), x.as_str()) {
                        ("$ref", Some(r)) => out.push(r.to_string()),
                        _ => refs(x, out),
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc.json, &mut all);
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r}"));
        assert!(schemas[name].is_object(), "{r} does not resolve");
    }
    s.stop().await;
}
