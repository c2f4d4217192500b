//! Every channel that starts at a rural akim or a public service centre, through the API: a case
//! registered there goes to the provider office its offices file forwards to, and back for
//! issue (or stays there, where the paper leaves all the work to the akim). At every task: it opens at the office of its role's kind on the case's route, it is
//! in the inbox of that office's holder of the role and not in the inbox of the same role at
//! another office of the same kind, and its due instant is counted on its own office's hours.
//! The North Kazakhstan akim channel is also checked against instants computed by hand: the
//! same fifteen minutes from 12:50 end at 14:05 at the akim (lunch 13:00–14:00) and at 14:35 at
//! the department (lunch 13:00–14:30).

mod support;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use reglament_model::compile::Process;
use reglament_model::model::{ChannelKind, Counting, OfficeKind, Step};
use reglament_model::paths::{self, DEFAULT_DAY_MINUTES};
use reglament_model::sample::sample;
use reglament_server::accounts::GrantRecord;
use reglament_server::demo::DEMO_PASSWORD;
use serde_json::{Value, json};
use support::browser::Browser;
use support::{Server, t};

/// A channel to walk: where the case is registered, where the offices file forwards it, and
/// an office of each kind it must never reach.
struct Scenario {
    regulation: &'static str,
    channel: &'static str,
    front: &'static str,
    provider: &'static str,
    other_front: &'static str,
    other_provider: &'static str,
}

// The North Kazakhstan akim channel first: its instants are checked by hand from 12:50, before
// any dispatch of the others lets time pass.
const SCENARIOS: &[Scenario] = &[
    Scenario {
        regulation: "nko-social-assistance",
        channel: "rural_akim",
        front: "nko-kyzylzhar-beskol-akim",
        provider: "nko-kyzylzhar-ozsp",
        other_front: "nko-esil-yavlenka-akim",
        other_provider: "nko-esil-ozsp",
    },
    Scenario {
        regulation: "atyrau-child-benefit",
        channel: "centre",
        front: "atyrau-tson-inder",
        provider: "atyrau-inder-ozsp",
        other_front: "atyrau-tson-makat",
        other_provider: "atyrau-makat-ozsp",
    },
    Scenario {
        regulation: "atyrau-child-benefit",
        channel: "rural_akim",
        front: "atyrau-inder-akimat",
        provider: "atyrau-inder-ozsp",
        other_front: "atyrau-makat-akimat",
        other_provider: "atyrau-makat-ozsp",
    },
    Scenario {
        regulation: "atyrau-low-income-certificate",
        channel: "rural_akim",
        front: "atyrau-makat-akimat",
        provider: "atyrau-makat-ozsp",
        other_front: "atyrau-isatai-akimat",
        other_provider: "atyrau-isatai-ozsp",
    },
    Scenario {
        regulation: "atyrau-targeted-social-assistance",
        channel: "rural_akim",
        front: "atyrau-isatai-akimat",
        provider: "atyrau-isatai-ozsp",
        other_front: "atyrau-inder-akimat",
        other_provider: "atyrau-inder-ozsp",
    },
];

/// The office where a task of `role` opens on this scenario's route.
fn office_of(process: &Process, sc: &Scenario, role: &str) -> &'static str {
    let kind = process
        .regulation
        .roles
        .iter()
        .find(|r| r.id == role)
        .and_then(|r| r.office);
    match kind {
        Some(OfficeKind::ProviderOffice) => sc.provider,
        _ => sc.front,
    }
}

/// The same role's office of the same kind elsewhere: it must never see the task.
fn other_office_of(process: &Process, sc: &Scenario, role: &str) -> &'static str {
    if office_of(process, sc, role) == sc.provider {
        sc.other_provider
    } else {
        sc.other_front
    }
}

/// A path of the channel that goes to the provider office and comes back to the front office
/// for issue (its decisions, step by step), or `None` when the front office does everything
/// (the low-income certificate at an akim: the akim registers, signs and issues).
fn there_and_back(process: &Process, sc: &Scenario) -> Option<BTreeMap<String, String>> {
    let (list, truncated) = paths::channel_paths(process, sc.channel, DEFAULT_DAY_MINUTES, 500);
    assert!(!truncated && !list.is_empty(), "{}", sc.regulation);
    let front_last = |path: &paths::Path| {
        let roles: Vec<&str> = path
            .steps
            .iter()
            .filter_map(|&s| process.step_role(s).map(|r| &**r))
            .collect();
        let at_provider = roles
            .iter()
            .any(|r| office_of(process, sc, r) == sc.provider);
        at_provider
            && roles
                .last()
                .is_some_and(|r| office_of(process, sc, r) == sc.front)
    };
    let path = list.iter().find(|p| front_last(p))?;
    Some(
        path.steps
            .iter()
            .zip(&path.outcomes)
            .filter_map(|(&s, o)| Some((process.step(s).id().to_string(), o.clone()?)))
            .collect(),
    )
}

async fn in_inbox(s: &Server, token: &str, role: &str, task: &str) -> bool {
    let r = s
        .get(&format!("/api/v1/inbox?role={role}&limit=200"), token)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["items"]
        .as_array()
        .expect("items")
        .iter()
        .any(|i| i["id"] == task)
}

/// Lets time pass to the case's next wake-up (a dispatch's arrival) and runs the timer.
async fn pass_time(s: &Server, id: &str) {
    let st = s
        .state
        .service
        .case_state(&reglament_runtime::CaseId::new(id))
        .await
        .expect("state");
    let wake = st
        .next_wakeup()
        .expect("a case without work waits for time");
    s.clock().set(wake.max(s.state.now()));
    s.tick().await;
}

fn instant(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("an instant: {v}"))
}

/// Walks one scenario from registration to its end; returns the offices the tasks opened at,
/// in order, and the tasks' due instants.
async fn walk(s: &Server, sc: &Scenario) -> Vec<(String, String, DateTime<Utc>)> {
    let label = format!("{}/{}", sc.regulation, sc.channel);
    let process = s.state.store.latest(sc.regulation).await.expect("deployed");
    assert!(
        process
            .channel(sc.channel)
            .is_some_and(|c| matches!(c.kind, ChannelKind::RuralAkim | ChannelKind::ServiceCentre)),
        "{label}"
    );
    let decisions = there_and_back(&process, sc).unwrap_or_default();
    // Each role's holder at its office on the route, and the same role at another office.
    let mut tokens: BTreeMap<String, String> = BTreeMap::new();
    for role in &process.regulation.roles {
        for office in [
            office_of(&process, sc, &role.id),
            other_office_of(&process, sc, &role.id),
        ] {
            let login = format!("{}.{office}.{}.{}", role.id, sc.regulation, sc.channel);
            let token = s.user(&login, &[&format!("{}@{office}", role.id)]).await;
            tokens.insert(format!("{}@{office}", role.id), token);
        }
    }
    let auditor = s.user(&format!("auditor.{label}"), &["auditor"]).await;
    let start_role = process
        .channel(sc.channel)
        .and_then(|c| process.step_index(&c.start))
        .and_then(|i| process.step_role(i))
        .expect("a first step with a role")
        .to_string();
    let data = process
        .regulation
        .application_form
        .as_ref()
        .map(|f| sample(&f.0))
        .unwrap_or(json!({}));
    let r = s
        .post(
            "/api/v1/cases",
            &tokens[&format!("{start_role}@{}", sc.front)],
            &json!({"regulation": sc.regulation, "channel": sc.channel, "office": sc.front,
                    "data": data}),
        )
        .await;
    assert_eq!(r.status, 201, "{label}: start: {}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    let mut seen = Vec::new();
    for _ in 0..100 {
        let case = s.get(&format!("/api/v1/cases/{id}"), &auditor).await;
        assert_eq!(case.status, 200, "{label}: {}", case.text);
        if case.json["status"] != "open" {
            assert_eq!(case.json["status"], "ended", "{label}: {}", case.text);
            return seen;
        }
        let Some(task) = case.json["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .find(|t| t["status"] == "open" || t["status"] == "claimed")
            .cloned()
        else {
            // Documents on their way (a dispatch): time passes to their arrival.
            pass_time(s, &id).await;
            continue;
        };
        let task_id = task["id"].as_str().expect("id").to_string();
        let step_id = task["step"].as_str().expect("step").to_string();
        let role = task["role"].as_str().expect("role").to_string();
        let office = office_of(&process, sc, &role);
        assert_eq!(
            task["office"], office,
            "{label}: {step_id} opens at {office}"
        );
        let token = &tokens[&format!("{role}@{office}")];
        let other = &tokens[&format!("{role}@{}", other_office_of(&process, sc, &role))];
        assert!(
            in_inbox(s, token, &role, &task_id).await,
            "{label}: {step_id} is in the inbox of {role} at {office}"
        );
        assert!(
            !in_inbox(s, other, &role, &task_id).await,
            "{label}: {step_id} is not in the inbox of {role} at another office"
        );
        let index = process.step_index(&step_id).expect("step");
        if let Some(term) = process.duration(index, sc.channel) {
            let clock = &s.state.calendars.office(office).expect("office").clock;
            let expected = clock
                .due_at(instant(&task["opened_at"]), term, &Counting::default())
                .expect("due");
            assert_eq!(
                instant(&task["due"]),
                expected,
                "{label}: {step_id}'s due on {office}'s hours"
            );
            seen.push((step_id.clone(), office.to_string(), expected));
        }
        let Step::Task(step) = process.step(index) else {
            panic!("{label}: {step_id} is not a person's task");
        };
        let outcome = decisions
            .get(&step_id)
            .cloned()
            .or_else(|| step.outcomes.first().map(|o| o.id.clone()));
        let reason = step
            .outcomes
            .iter()
            .any(|o| Some(&o.id) == outcome.as_ref() && o.requires_reason)
            .then_some("documents do not confirm the right");
        let form = step.form.as_ref().map_or(json!({}), |f| sample(&f.0));
        let r = s
            .post(&format!("/api/v1/tasks/{task_id}/claim"), token, &json!({}))
            .await;
        assert_eq!(r.status, 200, "{label}: claim {task_id}: {}", r.text);
        let r = s
            .post(
                &format!("/api/v1/tasks/{task_id}/complete"),
                token,
                &json!({"outcome": outcome, "data": form, "reason": reason}),
            )
            .await;
        assert_eq!(r.status, 200, "{label}: complete {task_id}: {}", r.text);
    }
    panic!("{label}: the case did not end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_akim_and_centre_channel_goes_to_its_department_and_back() {
    // Tuesday 14 April 2026, 12:50 in Kazakhstan (UTC+5 everywhere since 1 March 2024).
    let s = Server::start_at(t("2026-04-14T12:50:00+05:00")).await;
    for sc in SCENARIOS {
        let label = format!("{}/{}", sc.regulation, sc.channel);
        let process = s.state.store.latest(sc.regulation).await.expect("deployed");
        let crosses = there_and_back(&process, sc).is_some();
        let seen = walk(&s, sc).await;
        let offices: Vec<&str> = seen.iter().map(|(_, o, _)| o.as_str()).collect();
        assert_eq!(offices.first(), Some(&sc.front), "{label}: {seen:?}");
        assert_eq!(offices.last(), Some(&sc.front), "{label}: {seen:?}");
        if crosses {
            assert!(offices.contains(&sc.provider), "{label}: {seen:?}");
        } else {
            assert!(offices.iter().all(|o| *o == sc.front), "{label}: {seen:?}");
        }
        if sc.regulation == "nko-social-assistance" {
            // Registered at 12:50 and each task done at once, so each opens at 12:50.
            let due = |step: &str| {
                seen.iter()
                    .find(|(s, _, _)| s == step)
                    .map(|(_, _, d)| *d)
                    .unwrap_or_else(|| panic!("{step}: {seen:?}"))
            };
            // 15 minutes at the akim: 10 before lunch, 5 after 14:00.
            assert_eq!(due("akim_register"), t("2026-04-14T14:05:00+05:00"));
            // 2 working days at the akim: from the next day, to closing time (18:00).
            assert_eq!(due("akim_send_to_provider"), t("2026-04-16T18:00:00+05:00"));
            // 15 minutes at the department: 10 before lunch, 5 after 14:30.
            assert_eq!(due("register"), t("2026-04-14T14:35:00+05:00"));
            // 2 hours at the department: 10 minutes before lunch, the rest from 14:30.
            assert_eq!(due("send_to_head"), t("2026-04-14T16:20:00+05:00"));
            // 1 working day at the department: closing time (17:30) of the next day.
            assert_eq!(due("assign_executor"), t("2026-04-15T17:30:00+05:00"));
            // 30 minutes back at the akim: 10 before lunch, 20 after 14:00.
            assert_eq!(due("akim_issue"), t("2026-04-14T14:20:00+05:00"));
        }
    }
    s.stop().await;
}

/// The regional service centre receives applicants of every district: the registration names
/// the applicant's district's department, the case goes there, and a registration that names
/// none, or one the centre does not forward to, is refused by name with nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_regional_centre_hands_each_case_to_the_applicant_s_district() {
    let s = Server::start_at(t("2026-04-14T10:00:00+05:00")).await;
    let regional = "atyrau-tson-oblast";
    let inspector = s
        .user(
            "inspector.oblast",
            &[&format!("centre_inspector@{regional}")],
        )
        .await;
    let accumulator = s
        .user(
            "accumulator.oblast",
            &[&format!("centre_accumulator@{regional}")],
        )
        .await;
    let makat = s
        .user("executor.makat", &["executor@atyrau-makat-ozsp"])
        .await;
    let city = s
        .user("executor.city", &["executor@atyrau-city-ozsp"])
        .await;
    let process = s
        .state
        .store
        .latest("atyrau-child-benefit")
        .await
        .expect("deployed");
    let data = sample(
        &process
            .regulation
            .application_form
            .as_ref()
            .expect("form")
            .0,
    );
    let start = |forward_to: Option<&str>| {
        let mut body = json!({"regulation": "atyrau-child-benefit", "channel": "centre",
                              "office": regional, "data": data.clone()});
        if let Some(f) = forward_to {
            body["forward_to"] = json!(f);
        }
        body
    };
    let r = s.post("/api/v1/cases", &inspector, &start(None)).await;
    r.assert_problem(422, "route-unresolved");
    assert_eq!(r.json["errors"][0]["pointer"], "/forward_to", "{}", r.text);
    assert!(r.text.contains("atyrau-makat-ozsp"), "{}", r.text);
    let r = s
        .post("/api/v1/cases", &inspector, &start(Some("nko-esil-ozsp")))
        .await;
    r.assert_problem(422, "route-unresolved");
    assert!(
        r.text.contains("does not forward applications to"),
        "{}",
        r.text
    );
    // Nothing was written.
    let inbox = s.get("/api/v1/inbox?limit=200", &inspector).await;
    assert_eq!(inbox.json["items"], json!([]), "{}", inbox.text);

    let r = s
        .post(
            "/api/v1/cases",
            &inspector,
            &start(Some("atyrau-makat-ozsp")),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.json["id"].as_str().expect("id").to_string();
    for token in [&inspector, &accumulator] {
        let case = s.get(&format!("/api/v1/cases/{id}"), token).await;
        let task = case.json["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .find(|t| t["status"] == "open")
            .cloned()
            .expect("open");
        let r = s
            .post(
                &format!(
                    "/api/v1/tasks/{}/complete",
                    task["id"].as_str().expect("id")
                ),
                token,
                &json!({"data": {}}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    // The package travels to the department chosen (a dispatch), then opens there.
    assert_eq!(
        s.get(&format!("/api/v1/cases/{id}"), &makat).await.status,
        404,
        "not yet at the department"
    );
    pass_time(&s, &id).await;
    let case = s.get(&format!("/api/v1/cases/{id}"), &makat).await;
    assert_eq!(case.status, 200, "{}", case.text);
    let open = case.json["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["status"] == "open")
        .cloned()
        .expect("open");
    assert_eq!(open["office"], "atyrau-makat-ozsp", "{open}");
    let task = open["id"].as_str().expect("id");
    assert!(in_inbox(&s, &makat, "executor", task).await);
    assert!(!in_inbox(&s, &city, "executor", task).await);
    assert_eq!(
        s.get(&format!("/api/v1/cases/{id}"), &city).await.status,
        404
    );
    s.stop().await;
}

/// The registration page at the regional centre asks for the applicant's district's
/// department (in the page's language), refuses a registration without it, and registers the
/// case to the chosen one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_registration_page_asks_the_regional_centre_for_the_district() {
    let s = Server::start_at(t("2026-04-14T10:00:00+05:00")).await;
    let regional = "atyrau-tson-oblast";
    let grants = vec![GrantRecord {
        role: "centre_inspector".to_string(),
        office: regional.to_string(),
    }];
    s.user_with("inspector.oblast", grants, Some(DEMO_PASSWORD))
        .await;
    let mut b = Browser::new(&s);
    b.sign_in("inspector.oblast").await;
    let form = b.get("/register/atyrau-child-benefit?lang=ru").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(
        form.body.contains("Отдел района заявителя"),
        "{}",
        form.body
    );
    assert!(
        form.body.contains("<option value=\"atyrau-makat-ozsp\""),
        "{}",
        form.body
    );
    let csrf = form.csrf();
    let mut fields = vec![
        ("_csrf", csrf.as_str()),
        ("regulation", "atyrau-child-benefit"),
        ("channel", "centre"),
        ("office", regional),
    ];
    fields.extend_from_slice(APPLICANT);
    let refused = b.post("/register?lang=ru", &fields).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("выберите отдел района заявителя"),
        "{}",
        refused.body
    );
    fields.push(("forward_to", "atyrau-makat-ozsp"));
    let done = b.post("/register?lang=ru", &fields).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let id = done
        .location
        .as_deref()
        .and_then(|l| l.strip_prefix("/cases/"))
        .and_then(|l| l.strip_suffix("/receipt"))
        .expect("the receipt")
        .to_string();
    let st = s
        .state
        .service
        .case_state(&reglament_runtime::CaseId::new(&id))
        .await
        .expect("state");
    assert_eq!(
        st.route.get("provider_office").map(String::as_str),
        Some("atyrau-makat-ozsp")
    );
    s.stop().await;
}

const APPLICANT: &[(&str, &str)] = &[
    ("d.full_name", "Сериков Асхат"),
    ("d.locality", "Макат"),
    ("d.street_address", "Абай к-сі 5"),
    ("d.identity_document_number", "012345678"),
    ("d.iin", "850505300456"),
    ("d.family_size", "3"),
    ("d.family_members.0.full_name", "Серикова Дана"),
    ("d.family_members.0.relationship", "дочь"),
    ("d.family_members.0.birth_date", "2015-03-01"),
    ("d.doc_birth_certificates", "on"),
    ("d.doc_identity", "on"),
    ("d.doc_residence_registration", "on"),
    ("d.doc_family_composition", "on"),
    ("d.doc_income_information", "on"),
    ("d.acknowledged_liability", "on"),
];
