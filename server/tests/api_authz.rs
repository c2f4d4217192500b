//! The authorisation matrix: every endpoint × every role × the resource's own office or
//! another office, with the expected answer — 2xx, 403 (sees it, may not do it), 404 (may
//! not know it exists) or 401 (not signed in). Each cell gets fresh fixtures, so that one
//! cell's effect cannot decide another's. On a mismatch the whole table is printed.

mod support;

use std::collections::BTreeMap;

use reglament_server::demo::STAFF_ROLES;
use serde_json::{Value, json};
use support::{Resp, Server, send};

/// How the subject relates to the resource's office.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rel {
    /// Staff of the resource's office.
    Same,
    /// Staff of another office of the region.
    Other,
    /// An account for every office (analyst, auditor, administrator, portal).
    Global,
    Anonymous,
}

#[derive(Debug, Clone)]
struct Subject {
    role: &'static str,
    rel: Rel,
}

impl Subject {
    fn label(&self) -> String {
        match self.rel {
            Rel::Same => format!("{} (own office)", self.role),
            Rel::Other => format!("{} (other office)", self.role),
            Rel::Global => self.role.to_string(),
            Rel::Anonymous => "anonymous".to_string(),
        }
    }

    /// The demo login for a resource in a region ("atyrau" or "nko").
    fn login(&self, region: &str) -> Option<String> {
        let (own, other) = match region {
            "atyrau" => ("atyrau-city", "atyrau-zhylyoi"),
            _ => ("nko-petropavl", "nko-kyzylzhar"),
        };
        match self.rel {
            Rel::Same => Some(format!("{own}.{}", self.role)),
            Rel::Other => Some(format!("{other}.{}", self.role)),
            Rel::Global => Some(
                match self.role {
                    "administrator" => "admin",
                    r => r,
                }
                .to_string(),
            ),
            Rel::Anonymous => None,
        }
    }

    /// May read cases of the resource's office.
    fn sees(&self) -> bool {
        match self.rel {
            Rel::Same => true,
            Rel::Global => self.role != "analyst",
            _ => false,
        }
    }

    fn is(&self, role: &str, rel: Rel) -> bool {
        self.role == role && self.rel == rel
    }

    fn global(&self, role: &str) -> bool {
        self.is(role, Rel::Global)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    StartCase,
    GetCase,
    CaseEvents,
    SystemResult,
    CancelCase,
    ListIncidents,
    RetryIncident,
    Inbox,
    SearchCases,
    InboxOfExecutors,
    Claim,
    Release,
    Complete,
    Reassign,
    Suspend,
    Resume,
    ListRegulations,
    GetRegulation,
    Diagram,
    Deploy,
    ListUsers,
    CreateUser,
    DisableUser,
    Me,
    Healthz,
    Metrics,
    OpenApi,
    ListMigrations,
    ProposeMigration,
    ApproveMigration,
    ListDeputies,
    CreateDeputy,
    EndDeputy,
    PreviewIntervention,
    Intervene,
    ListInterventions,
    ApproveIntervention,
    ListViews,
    CreateView,
    UpdateView,
    DeleteView,
    InboxOfView,
    BulkClaim,
    BulkReassign,
}

use Endpoint as E;

const ENDPOINTS: &[Endpoint] = &[
    E::StartCase,
    E::GetCase,
    E::CaseEvents,
    E::SystemResult,
    E::CancelCase,
    E::ListIncidents,
    E::RetryIncident,
    E::Inbox,
    E::SearchCases,
    E::InboxOfExecutors,
    E::Claim,
    E::Release,
    E::Complete,
    E::Reassign,
    E::Suspend,
    E::Resume,
    E::ListRegulations,
    E::GetRegulation,
    E::Diagram,
    E::Deploy,
    E::ListUsers,
    E::CreateUser,
    E::DisableUser,
    E::Me,
    E::Healthz,
    E::Metrics,
    E::OpenApi,
    E::ListMigrations,
    E::ProposeMigration,
    E::ApproveMigration,
    E::ListDeputies,
    E::CreateDeputy,
    E::EndDeputy,
    E::PreviewIntervention,
    E::Intervene,
    E::ListInterventions,
    E::ApproveIntervention,
    E::ListViews,
    E::CreateView,
    E::UpdateView,
    E::DeleteView,
    E::InboxOfView,
    E::BulkClaim,
    E::BulkReassign,
];

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            E::StartCase => "POST /cases",
            E::GetCase => "GET /cases/{id}",
            E::CaseEvents => "GET /cases/{id}/events",
            E::SystemResult => "POST /cases/{id}/system-results",
            E::CancelCase => "POST /cases/{id}/cancel",
            E::ListIncidents => "GET /incidents",
            E::RetryIncident => "POST /cases/{id}/incidents/{n}/retry",
            E::Inbox => "GET /inbox",
            E::SearchCases => "GET /cases",
            E::InboxOfExecutors => "GET /inbox?role=executor",
            E::Claim => "POST /tasks/{id}/claim",
            E::Release => "POST /tasks/{id}/release",
            E::Complete => "POST /tasks/{id}/complete",
            E::Reassign => "POST /tasks/{id}/reassign",
            E::Suspend => "POST /tasks/{id}/suspend",
            E::Resume => "POST /tasks/{id}/resume",
            E::ListRegulations => "GET /regulations",
            E::GetRegulation => "GET /regulations/{id}",
            E::Diagram => "GET /regulations/{id}/diagram.svg",
            E::Deploy => "POST /regulations",
            E::ListUsers => "GET /users",
            E::CreateUser => "POST /users",
            E::DisableUser => "POST /users/{login}/disable",
            E::Me => "GET /me",
            E::Healthz => "GET /healthz",
            E::Metrics => "GET /metrics",
            E::OpenApi => "GET /openapi.json",
            E::ListMigrations => "GET /migrations",
            E::ProposeMigration => "POST /migrations",
            E::ApproveMigration => "POST /migrations/{id}/approve",
            E::ListDeputies => "GET /deputies",
            E::CreateDeputy => "POST /deputies",
            E::EndDeputy => "POST /deputies/{id}/end",
            E::PreviewIntervention => "POST /cases/{id}/interventions/preview",
            E::Intervene => "POST /cases/{id}/interventions",
            E::ListInterventions => "GET /interventions",
            E::ApproveIntervention => "POST /interventions/{id}/approve",
            E::ListViews => "GET /offices/{office}/views",
            E::CreateView => "POST /offices/{office}/views",
            E::UpdateView => "PUT /offices/{office}/views/{id}",
            E::DeleteView => "DELETE /offices/{office}/views/{id}",
            E::InboxOfView => "GET /inbox?view={id} (role executor)",
            E::BulkClaim => "POST /tasks/bulk claim (the task's result)",
            E::BulkReassign => "POST /tasks/bulk reassign (the task's result)",
        }
    }

    /// The region of the resource the endpoint acts on.
    fn region(self) -> &'static str {
        match self {
            E::SystemResult => "nko",
            _ => "atyrau",
        }
    }

    /// The answer the policy promises.
    fn expected(self, s: &Subject) -> u16 {
        if matches!(self, E::Healthz | E::OpenApi) {
            return 200;
        }
        if self == E::Metrics {
            // Not served on the main address without a metrics token, whoever asks.
            return 404;
        }
        if s.rel == Rel::Anonymous {
            return 401;
        }
        let hidden_or = |ok: bool| match (s.sees(), ok) {
            (false, _) => 404,
            (true, true) => 200,
            (true, false) => 403,
        };
        match self {
            E::GetCase | E::CaseEvents => hidden_or(true),
            E::StartCase => {
                if s.is("executor", Rel::Same) {
                    201
                } else {
                    403
                }
            }
            E::Claim | E::Complete => hidden_or(s.is("executor", Rel::Same)),
            // The executor is the task's holder (the fixture claimed it as them); heads and
            // administrators of the office may also suspend and resume tasks they do not hold.
            E::Release | E::Suspend | E::Resume => hidden_or(
                s.is("executor", Rel::Same) || s.is("head", Rel::Same) || s.global("administrator"),
            ),
            E::Reassign => hidden_or(s.is("head", Rel::Same) || s.global("administrator")),
            E::CancelCase => hidden_or(s.global("administrator")),
            E::ListIncidents => {
                if s.global("administrator") {
                    200
                } else {
                    403
                }
            }
            // The case has no incident: an administrator passes the policy and learns that;
            // everyone else who sees the case is refused before the incident is looked for.
            E::RetryIncident => match (s.sees(), s.global("administrator")) {
                (false, _) | (true, true) => 404,
                (true, false) => 403,
            },
            E::SystemResult => hidden_or(s.global("portal")),
            // A search answers every signed-in user, with only the cases they may read.
            E::Inbox
            | E::SearchCases
            | E::ListRegulations
            | E::GetRegulation
            | E::Diagram
            | E::Me => 200,
            E::InboxOfExecutors => {
                if matches!(s.role, "executor" | "head" | "auditor" | "administrator") {
                    200
                } else {
                    403
                }
            }
            E::Deploy => {
                if s.global("analyst") {
                    200
                } else {
                    403
                }
            }
            E::ListUsers | E::DisableUser => {
                if s.global("administrator") {
                    200
                } else {
                    403
                }
            }
            E::CreateUser => {
                if s.global("administrator") {
                    201
                } else {
                    403
                }
            }
            E::Healthz | E::OpenApi => 200,
            E::Metrics => 404,
            // Analysts propose; analysts, administrators and auditors (of every office) see
            // the requests; analysts other than the proposer and administrators approve.
            E::ListMigrations => {
                if s.global("analyst") || s.global("administrator") || s.global("auditor") {
                    200
                } else {
                    403
                }
            }
            E::ProposeMigration => {
                if s.global("analyst") {
                    201
                } else {
                    403
                }
            }
            E::ApproveMigration => {
                if s.global("analyst") || s.global("administrator") {
                    200
                } else {
                    403
                }
            }
            // Everyone sees the rules they may (none, for most); the office's head and
            // administrators record and end them; auditors see them and may not end them; to
            // anyone else a rule is not there.
            E::ListDeputies => 200,
            E::CreateDeputy => {
                if s.is("head", Rel::Same) || s.global("administrator") {
                    201
                } else {
                    403
                }
            }
            E::EndDeputy => {
                if s.is("head", Rel::Same) || s.global("administrator") {
                    200
                } else if s.global("auditor") {
                    403
                } else {
                    404
                }
            }
            // Changes by hand are administrators' alone, whoever else sees the case; a change
            // of a due instant waits for a second administrator (202).
            E::PreviewIntervention | E::ListInterventions | E::ApproveIntervention => {
                if s.global("administrator") { 200 } else { 403 }
            }
            E::Intervene => {
                if s.global("administrator") {
                    202
                } else {
                    403
                }
            }
            // Everyone working in the office sees its views; its head and administrators
            // change them.
            E::ListViews => hidden_or(true),
            E::UpdateView => hidden_or(s.is("head", Rel::Same) || s.global("administrator")),
            E::CreateView => {
                match hidden_or(s.is("head", Rel::Same) || s.global("administrator")) {
                    200 => 201,
                    other => other,
                }
            }
            E::DeleteView => {
                match hidden_or(s.is("head", Rel::Same) || s.global("administrator")) {
                    200 => 204,
                    other => other,
                }
            }
            // A view of executors' tasks: for those who hold or supervise the role.
            E::InboxOfView => hidden_or(matches!(
                s.role,
                "executor" | "head" | "auditor" | "administrator"
            )),
            // Each task of a bulk request answers as its own endpoint would.
            E::BulkClaim => E::Claim.expected(s),
            E::BulkReassign => E::Reassign.expected(s),
        }
    }

    /// Answers 200 with a result per task: the matrix reads the task's result.
    fn per_task(self) -> bool {
        matches!(self, E::BulkClaim | E::BulkReassign)
    }
}

fn subjects() -> Vec<Subject> {
    let mut out = Vec::new();
    for role in STAFF_ROLES {
        out.push(Subject {
            role,
            rel: Rel::Same,
        });
        out.push(Subject {
            role,
            rel: Rel::Other,
        });
    }
    for role in ["analyst", "auditor", "administrator", "portal"] {
        out.push(Subject {
            role,
            rel: Rel::Global,
        });
    }
    out.push(Subject {
        role: "-",
        rel: Rel::Anonymous,
    });
    out
}

struct Fixtures<'a> {
    s: &'a Server,
    tokens: &'a BTreeMap<String, String>,
    register_form: Value,
    deploy_text: String,
    serial: std::cell::Cell<u32>,
}

const OFFICE: &str = "atyrau-city-ozsp";
const REGULATION: &str = "atyrau-social-assistance";
/// A plan between two versions of the `register-review` fixture (deployed by the test) that
/// differ only in the case's term.
const MIGRATION_PLAN: &str = "regulation: register-review
from_version: 1
to_version: 2
legal_basis: {act: Decree No. 45, paragraph: p. 3}
reason: a shorter statutory term
deadlines: {default: keep, case: recompute}
";

impl Fixtures<'_> {
    fn next(&self) -> u32 {
        self.serial.set(self.serial.get() + 1);
        self.serial.get()
    }

    /// A new case in the own office with its first task (`register`, for executors) open.
    async fn case(&self) -> String {
        let r = self
            .s
            .post(
                "/api/v1/cases",
                &self.tokens["atyrau-city.executor"],
                &json!({"regulation": REGULATION, "channel": "provider", "office": OFFICE,
                        "data": sample_application(self.s).await}),
            )
            .await;
        assert_eq!(r.status, 201, "fixture: {}", r.text);
        r.json["id"].as_str().expect("id").to_string()
    }

    /// A case whose first task the own office's executor has claimed.
    async fn claimed_task(&self) -> String {
        let id = self.case().await;
        let task = format!("{id}:1");
        let r = self
            .s
            .post(
                &format!("/api/v1/tasks/{task}/claim"),
                &self.tokens["atyrau-city.executor"],
                &json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "fixture: {}", r.text);
        task
    }

    /// A case whose review (task 3, which may be suspended) the own office's executor has
    /// claimed, after registering it and the head's assignment.
    async fn claimed_review(&self) -> String {
        let id = self.case().await;
        let steps = [
            (1, "atyrau-city.executor", self.register_form.clone()),
            (2, "atyrau-city.head", json!({})),
        ];
        for (n, login, data) in steps {
            let r = self
                .s
                .post(
                    &format!("/api/v1/tasks/{id}:{n}/complete"),
                    &self.tokens[login],
                    &json!({ "data": data }),
                )
                .await;
            assert_eq!(r.status, 200, "fixture: {}", r.text);
        }
        let task = format!("{id}:3");
        let r = self
            .s
            .post(
                &format!("/api/v1/tasks/{task}/claim"),
                &self.tokens["atyrau-city.executor"],
                &json!({}),
            )
            .await;
        assert_eq!(r.status, 200, "fixture: {}", r.text);
        task
    }

    /// As [`Fixtures::claimed_review`], suspended by its holder.
    async fn suspended_review(&self) -> String {
        let task = self.claimed_review().await;
        let r = self
            .s
            .post(
                &format!("/api/v1/tasks/{task}/suspend"),
                &self.tokens["atyrau-city.executor"],
                &json!({"reason": "incomplete_documents"}),
            )
            .await;
        assert_eq!(r.status, 200, "fixture: {}", r.text);
        task
    }

    /// A view of the own office's executor tasks, named by its head.
    async fn view(&self) -> String {
        self.clear_views().await;
        let r = self
            .s
            .post(
                &format!("/api/v1/offices/{OFFICE}/views"),
                &self.tokens["atyrau-city.head"],
                &json!({"name": format!("fixture {}", self.next()), "role": "executor"}),
            )
            .await;
        assert_eq!(r.status, 201, "fixture: {}", r.text);
        r.json["id"].as_str().expect("id").to_string()
    }

    /// Removes the own office's views (an office keeps few; the cells make many).
    async fn clear_views(&self) {
        let head = &self.tokens["atyrau-city.head"];
        let views = format!("/api/v1/offices/{OFFICE}/views");
        let listed = self.s.get(&views, head).await;
        for v in listed.json.as_array().into_iter().flatten() {
            let id = v["id"].as_str().expect("id");
            let r = self
                .s
                .call("DELETE", &format!("{views}/{id}"), Some(head), None)
                .await;
            assert_eq!(r.status, 204, "fixture: {}", r.text);
        }
    }

    /// A portal case in North Kazakhstan waiting for the portal's authorisation result.
    async fn portal_case(&self) -> String {
        let process = self
            .s
            .state
            .store
            .latest("nko-social-assistance")
            .await
            .expect("deployed");
        let data = reglament_model::sample::sample(
            &process
                .regulation
                .application_form
                .as_ref()
                .expect("form")
                .0,
        );
        let r = self
            .s
            .post(
                "/api/v1/cases",
                &self.tokens["portal"],
                &json!({"regulation": "nko-social-assistance", "channel": "portal",
                        "office": "nko-petropavl-ozsp", "data": data}),
            )
            .await;
        assert_eq!(r.status, 201, "fixture: {}", r.text);
        r.json["id"].as_str().expect("id").to_string()
    }

    /// A change of a case's statutory due instant, by a court's ruling.
    fn due_change() -> Value {
        json!({"action": {"kind": "change_due", "target": {"of": "case"}, "due": "2026-06-30T13:00:00Z"},
               "reason": "the court extended the term", "legal_basis": "ruling of 16 April 2026"})
    }

    /// A rule for a new executor of the own office, acted for by a new executor of another
    /// office, from today for three days.
    async fn deputy_rule(&self) -> Value {
        let n = self.next();
        let (principal, deputy) = (format!("on-leave-{n}"), format!("deputy-{n}"));
        self.s
            .user(&principal, &[&format!("executor@{OFFICE}")])
            .await;
        self.s
            .user(&deputy, &["executor@atyrau-zhylyoi-ozsp"])
            .await;
        json!({"principal": principal, "deputy": deputy, "office": OFFICE, "roles": ["executor"],
               "valid_from": "2026-04-15", "valid_to": "2026-04-17", "order_number": "45-к"})
    }

    async fn perform(&self, e: Endpoint, token: Option<&str>) -> Resp {
        let s = self.s;
        let (method, path, body): (&str, String, Option<Value>) = match e {
            E::StartCase => (
                "POST",
                "/api/v1/cases".into(),
                Some(
                    json!({"regulation": REGULATION, "channel": "provider", "office": OFFICE,
                            "data": sample_application(s).await}),
                ),
            ),
            E::GetCase => ("GET", format!("/api/v1/cases/{}", self.case().await), None),
            E::CaseEvents => (
                "GET",
                format!("/api/v1/cases/{}/events", self.case().await),
                None,
            ),
            E::SystemResult => (
                "POST",
                format!("/api/v1/cases/{}/system-results", self.portal_case().await),
                Some(json!({"step": "portal_authorization", "outcome": "ok"})),
            ),
            E::CancelCase => (
                "POST",
                format!("/api/v1/cases/{}/cancel", self.case().await),
                Some(json!({"reason": "registered twice"})),
            ),
            E::ListIncidents => ("GET", "/api/v1/incidents".into(), None),
            E::RetryIncident => (
                "POST",
                format!("/api/v1/cases/{}/incidents/1/retry", self.case().await),
                Some(json!({"reason": "the cause is fixed"})),
            ),
            E::Inbox => ("GET", "/api/v1/inbox".into(), None),
            E::SearchCases => ("GET", "/api/v1/cases?name=%D0%B0".into(), None),
            E::InboxOfExecutors => ("GET", "/api/v1/inbox?role=executor".into(), None),
            E::Claim => (
                "POST",
                format!("/api/v1/tasks/{}:1/claim", self.case().await),
                None,
            ),
            E::Release => (
                "POST",
                format!("/api/v1/tasks/{}/release", self.claimed_task().await),
                None,
            ),
            E::Complete => (
                "POST",
                format!("/api/v1/tasks/{}:1/complete", self.case().await),
                Some(json!({"data": self.register_form})),
            ),
            E::Reassign => (
                "POST",
                format!("/api/v1/tasks/{}:1/reassign", self.case().await),
                Some(json!({"user": "atyrau-city.executor"})),
            ),
            E::Suspend => (
                "POST",
                format!("/api/v1/tasks/{}/suspend", self.claimed_review().await),
                Some(json!({"reason": "incomplete_documents"})),
            ),
            E::Resume => (
                "POST",
                format!("/api/v1/tasks/{}/resume", self.suspended_review().await),
                Some(json!({})),
            ),
            E::ListRegulations => ("GET", "/api/v1/regulations".into(), None),
            E::GetRegulation => ("GET", format!("/api/v1/regulations/{REGULATION}"), None),
            E::Diagram => (
                "GET",
                format!("/api/v1/regulations/{REGULATION}/diagram.svg"),
                None,
            ),
            E::Deploy => {
                let mut req = s
                    .client
                    .post(format!("{}/api/v1/regulations", s.base))
                    .header("content-type", "application/yaml")
                    .body(self.deploy_text.clone());
                if let Some(t) = token {
                    req = req.bearer_auth(t);
                }
                return send(req).await;
            }
            E::ListUsers => ("GET", "/api/v1/users".into(), None),
            E::CreateUser => (
                "POST",
                "/api/v1/users".into(),
                Some(json!({"login": format!("new-user-{}", self.next()),
                            "roles": [{"role": "executor", "office": OFFICE}]})),
            ),
            E::DisableUser => {
                let login = format!("leaver-{}", self.next());
                s.user(&login, &["executor@atyrau-city-ozsp"]).await;
                ("POST", format!("/api/v1/users/{login}/disable"), None)
            }
            E::Me => ("GET", "/api/v1/me".into(), None),
            E::Healthz => ("GET", "/healthz".into(), None),
            E::Metrics => ("GET", "/metrics".into(), None),
            E::OpenApi => ("GET", "/api/v1/openapi.json".into(), None),
            E::ListMigrations => ("GET", "/api/v1/migrations".into(), None),
            E::ProposeMigration => (
                "POST",
                "/api/v1/migrations".into(),
                Some(json!({"plan": MIGRATION_PLAN, "reason": "decree"})),
            ),
            E::ListViews => ("GET", format!("/api/v1/offices/{OFFICE}/views"), None),
            E::CreateView => (
                "POST",
                // Cleared first: an office keeps few views.
                {
                    self.clear_views().await;
                    format!("/api/v1/offices/{OFFICE}/views")
                },
                Some(json!({"name": format!("view {}", self.next()), "role": "executor"})),
            ),
            E::UpdateView => (
                "PUT",
                format!("/api/v1/offices/{OFFICE}/views/{}", self.view().await),
                Some(json!({"name": format!("renamed {}", self.next())})),
            ),
            E::DeleteView => (
                "DELETE",
                format!("/api/v1/offices/{OFFICE}/views/{}", self.view().await),
                None,
            ),
            E::InboxOfView => (
                "GET",
                format!("/api/v1/inbox?view={}", self.view().await),
                None,
            ),
            E::BulkClaim | E::BulkReassign => {
                let task = format!("{}:1", self.case().await);
                let body = if e == E::BulkClaim {
                    json!({"action": "claim", "tasks": [task]})
                } else {
                    json!({"action": "reassign", "tasks": [task], "to": "atyrau-city.executor"})
                };
                let r = s
                    .call("POST", "/api/v1/tasks/bulk", token, Some(&body))
                    .await;
                if r.status != 200 {
                    return r;
                }
                // The task's own status: 200 when done, its problem's status when refused.
                let item = &r.json["items"][0];
                assert!(
                    matches!(item["result"].as_str(), Some("done" | "refused")),
                    "{}",
                    r.text
                );
                let status = item["status"].as_u64().map_or(200, |v| v as u16);
                return Resp { status, ..r };
            }
            E::ApproveMigration => {
                // Proposed by an analyst who is none of the subjects.
                let r = s
                    .post(
                        "/api/v1/migrations",
                        &self.tokens["proposer"],
                        &json!({"plan": MIGRATION_PLAN, "reason": "decree"}),
                    )
                    .await;
                assert_eq!(r.status, 201, "fixture: {}", r.text);
                let id = r.json["id"].as_str().expect("id").to_string();
                (
                    "POST",
                    format!("/api/v1/migrations/{id}/approve"),
                    Some(json!({"reason": "checked"})),
                )
            }
            E::PreviewIntervention | E::Intervene => {
                let case = self.case().await;
                let suffix = if e == E::PreviewIntervention {
                    "/preview"
                } else {
                    ""
                };
                (
                    "POST",
                    format!("/api/v1/cases/{case}/interventions{suffix}"),
                    Some(Self::due_change()),
                )
            }
            E::ListInterventions => ("GET", "/api/v1/interventions".into(), None),
            E::ApproveIntervention => {
                // Proposed by an administrator who is none of the subjects.
                let case = self.case().await;
                let r = s
                    .post(
                        &format!("/api/v1/cases/{case}/interventions"),
                        &self.tokens["second-admin"],
                        &Self::due_change(),
                    )
                    .await;
                assert_eq!(r.status, 202, "fixture: {}", r.text);
                let id = r.json["id"].as_str().expect("id").to_string();
                ("POST", format!("/api/v1/interventions/{id}/approve"), None)
            }
            E::ListDeputies => ("GET", "/api/v1/deputies".into(), None),
            E::CreateDeputy => (
                "POST",
                "/api/v1/deputies".into(),
                Some(self.deputy_rule().await),
            ),
            E::EndDeputy => {
                let rule = self.deputy_rule().await;
                let r = s
                    .post("/api/v1/deputies", &self.tokens["atyrau-city.head"], &rule)
                    .await;
                assert_eq!(r.status, 201, "fixture: {}", r.text);
                let id = r.json["id"].as_str().expect("id").to_string();
                (
                    "POST",
                    format!("/api/v1/deputies/{id}/end"),
                    Some(json!({"reason": "back from leave"})),
                )
            }
        };
        s.call(method, &path, token, body.as_ref()).await
    }
}

/// A filled form of the regulation's first step.
async fn register_form(s: &Server) -> Value {
    let process = s.state.store.latest(REGULATION).await.expect("deployed");
    let register = process.step_index("register").expect("register");
    match process.step(register) {
        reglament_model::model::Step::Task(t) => t
            .form
            .as_ref()
            .map(|f| reglament_model::sample::sample(&f.0))
            .unwrap_or(json!({})),
        _ => json!({}),
    }
}

async fn sample_application(s: &Server) -> Value {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_for_every_role_in_own_and_other_office() {
    let s = Server::start().await;
    let mut tokens = s.demo_users().await;
    let at = support::t0();
    let v1 = reglament_testkit::fixtures::REGISTER_REVIEW;
    s.state.store.deploy(v1, "analyst", at).await.expect("v1");
    let v2 = v1
        .replacen("version: 1", "version: 2", 1)
        .replace("duration: 10 working days}", "duration: 8 working days}");
    s.state.store.deploy(&v2, "analyst", at).await.expect("v2");
    tokens.insert("proposer".into(), s.user("proposer", &["analyst"]).await);
    tokens.insert(
        "second-admin".into(),
        s.user("second-admin", &["administrator"]).await,
    );
    let fx = Fixtures {
        s: &s,
        tokens: &tokens,
        register_form: register_form(&s).await,
        deploy_text: std::fs::read_to_string(
            support::regulations_dir().join("atyrau/atyrau-wheelchair.yaml"),
        )
        .expect("bundled file"),
        serial: std::cell::Cell::new(0),
    };
    let subjects = subjects();
    let mut table: Vec<(String, Vec<String>)> = Vec::new();
    let mut failures = Vec::new();
    for subject in &subjects {
        let mut row = Vec::new();
        for &e in ENDPOINTS {
            let token = subject.login(e.region()).map(|l| {
                tokens
                    .get(&l)
                    .unwrap_or_else(|| panic!("no demo account {l}"))
                    .clone()
            });
            let r = fx.perform(e, token.as_deref()).await;
            let want = e.expected(subject);
            if r.status >= 400 && !e.per_task() {
                r.assert_is_problem();
            }
            if r.status == want {
                row.push(r.status.to_string());
            } else {
                row.push(format!("{}≠{want}", r.status));
                failures.push(format!(
                    "{} × {}: got {}, want {want}: {}",
                    subject.label(),
                    e.name(),
                    r.status,
                    r.text.chars().take(300).collect::<String>()
                ));
            }
        }
        table.push((subject.label(), row));
    }
    if !failures.is_empty() {
        let mut out = String::from("authorisation matrix (got≠want where they differ):\n");
        let width = 30;
        out.push_str(&format!("{:width$}", ""));
        for (i, _) in ENDPOINTS.iter().enumerate() {
            out.push_str(&format!("{:>8}", format!("[{i}]")));
        }
        out.push('\n');
        for (label, row) in &table {
            out.push_str(&format!("{label:width$}"));
            for cell in row {
                out.push_str(&format!("{cell:>8}"));
            }
            out.push('\n');
        }
        for (i, e) in ENDPOINTS.iter().enumerate() {
            out.push_str(&format!("[{i}] {}\n", e.name()));
        }
        out.push_str(&failures.join("\n"));
        panic!("{out}");
    }
    let cells = subjects.len() * ENDPOINTS.len();
    support::say(&format!(
        "api_authz: {cells} cells ({} subjects × {} endpoints) as expected",
        subjects.len(),
        ENDPOINTS.len()
    ));
    s.stop().await;
}

/// What a deputy may do with their principal's work before, while and after the rule is in
/// force: a task the principal claimed, in a case of the principal's office, which the
/// deputy (an executor of another office) has no grant in of their own. After the rule (ended
/// early by the head) the deputy holds nothing there and sees nothing.
#[tokio::test]
async fn a_deputy_before_during_and_after_the_rule() {
    let s = Server::start().await;
    let tokens = s.demo_users().await;
    let fx = Fixtures {
        s: &s,
        tokens: &tokens,
        register_form: register_form(&s).await,
        deploy_text: String::new(),
        serial: std::cell::Cell::new(0),
    };
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Phase {
        Before,
        During,
        After,
    }
    let ops = [
        "GET /cases/{id}",
        "GET /cases/{id}/events",
        "claim",
        "complete",
        "release",
        "reassign",
        "inbox has it",
        "search finds it",
    ];
    let mut failures = Vec::new();
    let mut table = String::new();
    for phase in [Phase::Before, Phase::During, Phase::After] {
        let want: [u16; 8] = match phase {
            Phase::During => [200, 200, 200, 200, 200, 403, 200, 200],
            _ => [404, 404, 404, 404, 404, 404, 0, 0],
        };
        table.push_str(&format!("{phase:?}:"));
        for (i, op) in ops.iter().enumerate() {
            // Fresh people and a fresh case for each cell.
            let rule = fx.deputy_rule().await;
            let principal = rule["principal"].as_str().expect("principal").to_string();
            let deputy = s.token(rule["deputy"].as_str().expect("deputy")).await;
            let case = fx.case().await;
            let task = format!("{case}:1");
            let p_token = s.token(&principal).await;
            let r = s
                .post(&format!("/api/v1/tasks/{task}/claim"), &p_token, &json!({}))
                .await;
            assert_eq!(r.status, 200, "fixture: {}", r.text);
            if phase != Phase::Before {
                let r = s
                    .post("/api/v1/deputies", &tokens["atyrau-city.head"], &rule)
                    .await;
                assert_eq!(r.status, 201, "fixture: {}", r.text);
                if phase == Phase::After {
                    let id = r.json["id"].as_str().expect("id");
                    let r = s
                        .post(
                            &format!("/api/v1/deputies/{id}/end"),
                            &tokens["atyrau-city.head"],
                            &json!({"reason": "back"}),
                        )
                        .await;
                    assert_eq!(r.status, 200, "fixture: {}", r.text);
                }
            }
            let got = match *op {
                "GET /cases/{id}" => {
                    s.get(&format!("/api/v1/cases/{case}"), &deputy)
                        .await
                        .status
                }
                "GET /cases/{id}/events" => {
                    s.get(&format!("/api/v1/cases/{case}/events"), &deputy)
                        .await
                        .status
                }
                "claim" | "release" => {
                    s.post(&format!("/api/v1/tasks/{task}/{op}"), &deputy, &json!({}))
                        .await
                        .status
                }
                "complete" => {
                    s.post(
                        &format!("/api/v1/tasks/{task}/complete"),
                        &deputy,
                        &json!({"data": fx.register_form}),
                    )
                    .await
                    .status
                }
                "reassign" => {
                    s.post(
                        &format!("/api/v1/tasks/{task}/reassign"),
                        &deputy,
                        &json!({"user": "atyrau-city.executor"}),
                    )
                    .await
                    .status
                }
                "search finds it" => {
                    let r = s
                        .get(&format!("/api/v1/cases?number={case}"), &deputy)
                        .await;
                    assert_eq!(r.status, 200, "{}", r.text);
                    if r.text.contains(&format!("\"{case}\"")) {
                        200
                    } else {
                        0
                    }
                }
                _ => {
                    let r = s.get("/api/v1/inbox?status=claimed", &deputy).await;
                    assert_eq!(r.status, 200, "{}", r.text);
                    if r.text.contains(&format!("\"{task}\"")) {
                        200
                    } else {
                        0
                    }
                }
            };
            table.push_str(&format!(" {op}={got}"));
            if got != want[i] {
                failures.push(format!("{phase:?} × {op}: got {got}, want {}", want[i]));
            }
        }
        table.push('\n');
    }
    assert!(failures.is_empty(), "{table}{}", failures.join("\n"));
    support::say(&format!("api_authz deputies:\n{table}"));
    s.stop().await;
}
