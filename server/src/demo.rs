//! `reglament serve --demo`: an account for every role in two offices of each region, plus
//! global accounts, all with one documented password, a handful of open cases so that the
//! inboxes are not empty, and months of history ([`crate::demo_history`]) so that the
//! dashboard and the report have something true to show. Loading is idempotent: what exists
//! already is left alone.
//!
//! | login | roles |
//! |---|---|
//! | `<office>.<role>` for office `atyrau-city`, `atyrau-zhylyoi`, `nko-petropavl`, `nko-kyzylzhar` and role `registrar`, `head`, `executor`, `rural_akim`, `centre_inspector`, `centre_accumulator` | that role in `<office>-ozsp` |
//! | `atyrau-tson-atyrau-1.centre_inspector`, `atyrau-tson-atyrau-1.centre_accumulator` | that role at the public service centre (ЦОН) № 1 of Atyrau, which forwards to `atyrau-city-ozsp` |
//! | `nko-kyzylzhar-beskol-akim.rural_akim` | the akim of Beskol rural district, who forwards to `nko-kyzylzhar-ozsp` |
//! | `analyst`, `auditor`, `admin` | analyst, auditor, administrator (every office) |
//! | `portal` | the e-gov portal's system role (every office) |

use std::sync::Arc;

use crate::accounts::{AccountError, GrantRecord, NewUser};
use reglament_model::compile::Process;
use reglament_model::model::Step;
use reglament_model::sample::sample;
use reglament_runtime::{Actor, CaseId, Command, CommandError, NewCase};
use reglament_store::ServiceError;
use serde_json::Value;

use crate::app::StartError;
use crate::auth::password;
use crate::auth::policy::{ADMINISTRATOR, ANALYST, AUDITOR};
use crate::state::AppState;

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "reglament-demo";

/// The demo offices: (office id, login prefix).
pub const OFFICES: [(&str, &str); 4] = [
    ("atyrau-city-ozsp", "atyrau-city"),
    ("atyrau-zhylyoi-ozsp", "atyrau-zhylyoi"),
    ("nko-petropavl-ozsp", "nko-petropavl"),
    ("nko-kyzylzhar-ozsp", "nko-kyzylzhar"),
];

/// Offices where applications are received and issued for a provider office (a service
/// centre, a rural akim), with the roles their demo staff hold: logins `<office>.<role>`.
pub const FRONT_OFFICES: [(&str, &[&str]); 2] = [
    (
        "atyrau-tson-atyrau-1",
        &["centre_inspector", "centre_accumulator"],
    ),
    ("nko-kyzylzhar-beskol-akim", &["rural_akim"]),
];

/// The roles of office staff in the bundled regulations.
pub const STAFF_ROLES: [&str; 6] = [
    "registrar",
    "head",
    "executor",
    "rural_akim",
    "centre_inspector",
    "centre_accumulator",
];

/// The e-gov portal's role in the regulations (a system account).
pub const PORTAL_ROLE: &str = "portal";

/// Every demo account: (login, display name, grants).
pub fn accounts() -> Vec<(String, String, Vec<GrantRecord>)> {
    let grant = |role: &str, office: &str| GrantRecord {
        role: role.to_string(),
        office: office.to_string(),
    };
    let mut out = Vec::new();
    for (office, short) in OFFICES {
        for role in STAFF_ROLES {
            out.push((
                format!("{short}.{role}"),
                // The header says the role and office in the page's language; a name
                // in one language here would show on every page.
                format!("{short}.{role}"),
                vec![grant(role, office)],
            ));
        }
    }
    for (office, roles) in FRONT_OFFICES {
        for role in roles {
            out.push((
                format!("{office}.{role}"),
                format!("{office}.{role}"),
                vec![grant(role, office)],
            ));
        }
    }
    for (login, role, name) in [
        ("analyst", ANALYST, "analyst"),
        ("auditor", AUDITOR, "auditor"),
        ("admin", ADMINISTRATOR, "admin"),
        ("portal", PORTAL_ROLE, "portal"),
    ] {
        out.push((login.to_string(), name.to_string(), vec![grant(role, "*")]));
    }
    out
}

/// The demo login holding `role` in `office`.
pub fn login_for(office: &str, role: &str) -> Option<String> {
    if role == PORTAL_ROLE {
        return Some("portal".to_string());
    }
    if FRONT_OFFICES
        .iter()
        .any(|(o, roles)| *o == office && roles.contains(&role))
    {
        return Some(format!("{office}.{role}"));
    }
    OFFICES
        .iter()
        .find(|(o, _)| *o == office)
        .map(|(_, short)| format!("{short}.{role}"))
}

/// Creates the demo accounts and cases that are missing; returns how many of each were made.
pub async fn load(state: &AppState) -> Result<(usize, usize), StartError> {
    // One hash for all: the password is published anyway, and hashing 28 times at the
    // standard cost would add a second to every first start.
    let hash = password::hash(DEMO_PASSWORD.to_string(), state.config.password_cost).await?;
    let mut users = 0;
    for (login, name, grants) in accounts() {
        let user = NewUser {
            login,
            display_name: name,
            password_hash: Some(hash.clone()),
            must_change_password: false,
            grants,
            created_by: "reglament serve --demo".to_string(),
        };
        match state.accounts.create_user(&user, state.now()).await {
            Ok(()) => users += 1,
            Err(AccountError::UserExists(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // The history first: its finished cases leave no wake-up behind that the few open
    // cases below (made at now) could be ticked past.
    let started = std::time::Instant::now();
    let history = match crate::demo_history::load(state, state.config.demo_history).await {
        Ok(h) => {
            tracing::info!(
                cases = h.cases,
                open = h.open,
                failed = h.failed,
                seconds = started.elapsed().as_secs_f64(),
                "demo history loaded"
            );
            h.cases
        }
        Err(e) => {
            tracing::warn!(error = %e, "demo history not loaded");
            0
        }
    };
    let cases = match cases(state).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "demo cases not loaded");
            0
        }
    };
    Ok((users, cases + history))
}

/// (regulation, channel, how many tasks to complete after registration) per region.
const ATYRAU_CASES: &[(&str, &str, usize)] = &[
    ("atyrau-child-benefit", "provider", 0),
    ("atyrau-child-benefit", "provider", 1),
    ("atyrau-child-benefit", "rural_akim", 0),
    ("atyrau-child-benefit", "centre", 0),
    ("atyrau-social-assistance", "provider", 0),
    ("atyrau-social-assistance", "provider", 2),
    ("atyrau-wheelchair", "provider", 1),
    ("atyrau-sanatorium", "provider", 0),
    ("atyrau-employment-referral", "provider", 0),
    ("atyrau-individual-assistant", "provider", 0),
    ("atyrau-low-income-certificate", "rural_akim", 0),
    ("atyrau-targeted-social-assistance", "provider", 1),
];
const NKO_CASES: &[(&str, &str, usize)] = &[
    ("nko-social-assistance", "provider", 0),
    ("nko-social-assistance", "provider", 1),
    ("nko-social-assistance", "provider", 2),
    ("nko-social-assistance", "rural_akim", 0),
    ("nko-social-assistance", "portal", 0),
];

/// Cases registered where the applicant stands: (office, regulation, channel, tasks to
/// complete). They pass to the provider office as their route says, and come back for issue.
const FRONT_CASES: &[(&str, &str, &str, usize)] = &[
    ("atyrau-tson-atyrau-1", "atyrau-child-benefit", "centre", 0),
    ("atyrau-tson-atyrau-1", "atyrau-child-benefit", "centre", 2),
    (
        "nko-kyzylzhar-beskol-akim",
        "nko-social-assistance",
        "rural_akim",
        0,
    ),
    (
        "nko-kyzylzhar-beskol-akim",
        "nko-social-assistance",
        "rural_akim",
        1,
    ),
];

async fn cases(state: &AppState) -> Result<usize, ServiceError> {
    let mut started = 0;
    for (n, (office, regulation, channel, advance)) in FRONT_CASES.iter().enumerate() {
        let id = CaseId::new(format!("DEMO-{office}-{:02}", n + 1));
        let process = match state.store.latest(regulation).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(%regulation, error = %e, "demo: regulation not deployed");
                continue;
            }
        };
        if start(state, &process, &id, channel, office).await? {
            started += 1;
            for _ in 0..*advance {
                if !complete_first(state, &id).await? {
                    break;
                }
            }
        }
    }
    for (office, short) in OFFICES {
        let list = if office.starts_with("nko-") {
            NKO_CASES
        } else {
            ATYRAU_CASES
        };
        for (n, (regulation, channel, advance)) in list.iter().enumerate() {
            let id = CaseId::new(format!("DEMO-{short}-{:02}", n + 1));
            let process = match state.store.latest(regulation).await {
                Ok(p) => p,
                Err(e) => {
                    tracing::warn!(%regulation, error = %e, "demo: regulation not deployed");
                    continue;
                }
            };
            if start(state, &process, &id, channel, office).await? {
                started += 1;
                for _ in 0..*advance {
                    if !complete_first(state, &id).await? {
                        break;
                    }
                }
            }
        }
    }
    Ok(started)
}

async fn start(
    state: &AppState,
    process: &Arc<Process>,
    id: &CaseId,
    channel: &str,
    office: &str,
) -> Result<bool, ServiceError> {
    let Some(role) = process
        .channel(channel)
        .and_then(|c| process.step_index(&c.start))
        .and_then(|i| process.step_role(i))
    else {
        return Ok(false);
    };
    let Some(login) = login_for(office, role) else {
        return Ok(false);
    };
    let data = process
        .regulation
        .application_form
        .as_ref()
        .map(|f| sample(&f.0))
        .unwrap_or(Value::Object(Default::default()));
    let new = NewCase {
        case: id.clone(),
        channel: channel.to_string(),
        office: office.to_string(),
        data,
    };
    let Ok(route) = crate::routing::route(&state.calendars, process, office, None) else {
        return Ok(false);
    };
    match state
        .service
        .start_routed(process, new, &route, &Actor::new(login, role), state.now())
        .await
    {
        Ok(_) => Ok(true),
        Err(ServiceError::Command(CommandError::CaseExists(_))) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Completes the case's first open person task with its first outcome; false if there is none.
async fn complete_first(state: &AppState, id: &CaseId) -> Result<bool, ServiceError> {
    let st = state.service.case_state(id).await?;
    let Some(task) = st.open_tasks().next().cloned() else {
        return Ok(false);
    };
    let step = st.step_of(&task).clone();
    let Step::Task(t) = &step else {
        return Ok(false);
    };
    let Some(login) = login_for(&task.office, &task.role) else {
        return Ok(false);
    };
    let outcome = t.outcomes.first();
    let command = Command::Complete {
        task: task.id,
        outcome: outcome.map(|o| o.id.clone()),
        data: t
            .form
            .as_ref()
            .map(|f| sample(&f.0))
            .unwrap_or(Value::Object(Default::default())),
        reason: outcome
            .filter(|o| o.requires_reason)
            .map(|_| "demo".to_string()),
    };
    state
        .service
        .execute(id, &command, &Actor::new(login, &*task.role), state.now())
        .await?;
    Ok(true)
}
