//! Deputy rules («исполняющий обязанности», migration `1007_deputy_rules`): by an order, one
//! user acts for another in some of the other's roles at one office, from one date to another.
//!
//! While a rule is in force the deputy holds those roles at that office (their inbox has the
//! role's queue, the tasks handed to the principal, and the tasks the principal had claimed),
//! and every action they take on such a task records the principal in the event's actor
//! (`on_behalf_of`). When the rule ends, what the deputy had not claimed is the principal's
//! again (it never stopped being theirs: the deputy simply stops seeing it); what the deputy
//! claimed stays with the deputy, who keeps the rule's roles until those tasks are finished
//! or released, and sees nothing new of the principal's.
//!
//! A rule is refused when it would let the deputy sign their own work: a step of a role the
//! rule grants follows, in some deployed regulation, a step of a role the deputy already
//! holds at that office (an executor made acting head would approve what they prepared).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use reglament_model::compile::Process;
use reglament_runtime::{Actor, CaseId, TaskId};
use reglament_store::rows::micros;
use reglament_store::side::SqlArg as Arg;
use reglament_store::{InboxPage, InboxStatus, Store, StoreError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::api::field_error;
use crate::auth::Principal;
use crate::auth::policy::{ADMINISTRATOR, GLOBAL_ROLES, Grant, HEAD};
use crate::problem::Problem;
use crate::state::AppState;

/// Characters of an order's number and of a note.
const MAX_ORDER: usize = 100;
const MAX_NOTE: usize = 1000;
/// The longest a rule may run: a year (leave, a vacancy until it is filled).
const MAX_DAYS: i64 = 366;
/// How long after its end a rule is still looked at for tasks its deputy claimed.
const TAIL_DAYS: i64 = 366;

/// A row of `deputy_rules`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Rule {
    pub id: String,
    pub principal: String,
    pub deputy: String,
    pub office: String,
    /// Comma-separated.
    pub roles: String,
    pub valid_from: String,
    pub valid_to: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub order_number: String,
    pub note: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub ended_at: Option<i64>,
    pub ended_by: Option<String>,
    pub end_reason: Option<String>,
}

impl Rule {
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.roles.split(',').filter(|r| !r.is_empty())
    }

    pub fn in_force(&self, now: DateTime<Utc>) -> bool {
        let now = micros(now);
        self.starts_at <= now && now < self.ends_at
    }

    /// Where the rule stands at `now`.
    pub fn status(&self, now: DateTime<Utc>) -> RuleStatus {
        let t = micros(now);
        if self.ended_at.is_some() && t >= self.ends_at {
            RuleStatus::Ended
        } else if t < self.starts_at {
            RuleStatus::Scheduled
        } else if t < self.ends_at {
            RuleStatus::InForce
        } else {
            RuleStatus::Expired
        }
    }
}

/// Where a rule stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleStatus {
    /// Its first day has not come.
    Scheduled,
    InForce,
    /// Its last day has passed.
    Expired,
    /// Ended early by a head or an administrator.
    Ended,
}

impl RuleStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleStatus::Scheduled => "scheduled",
            RuleStatus::InForce => "in_force",
            RuleStatus::Expired => "expired",
            RuleStatus::Ended => "ended",
        }
    }
}

/// One role a user holds for another, at one office, by a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acting {
    pub rule: Arc<str>,
    pub principal: Arc<str>,
    pub role: Arc<str>,
    pub office: Arc<str>,
    /// `false`: the rule has ended, and the deputy keeps the role only to finish the tasks
    /// they claimed under it.
    pub in_force: bool,
}

impl Acting {
    pub fn grant(&self) -> Grant {
        Grant::new(&self.role, Some(&self.office))
    }
}

macro_rules! select_rules {
    ($rest:literal) => {
        concat!(
            "SELECT id, principal, deputy, office, roles, valid_from, valid_to, starts_at, ends_at, \
             order_number, note, created_by, created_at, ended_at, ended_by, end_reason \
             FROM deputy_rules ",
            $rest
        )
    };
}

/// What `login` holds for others at `now`: the roles of every rule in force, and of every
/// ended rule under which they still hold a claimed task.
pub async fn acting(
    store: &Store,
    login: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Acting>, StoreError> {
    let t = micros(now);
    let rules: Vec<Rule> = store
        .read_side(
            select_rules!("WHERE deputy = $1 AND starts_at <= $2 AND ends_at > $3 ORDER BY id"),
            vec![
                Arg::Text(login.to_string()),
                Arg::Int(t),
                Arg::Int(t - Duration::days(TAIL_DAYS).num_microseconds().unwrap_or(0)),
            ],
        )
        .await?;
    let mut out = Vec::new();
    for rule in &rules {
        let in_force = rule.in_force(now);
        for role in rule.roles() {
            if !in_force {
                let pair = [(role.to_string(), rule.office.clone())];
                let held = store
                    .inbox_of(
                        &pair,
                        &InboxStatus::ClaimedBy(login.to_string()),
                        None,
                        None,
                        1,
                    )
                    .await?;
                if held.items.is_empty() {
                    continue;
                }
            }
            out.push(Acting {
                rule: Arc::from(rule.id.as_str()),
                principal: Arc::from(rule.principal.as_str()),
                role: Arc::from(role),
                office: Arc::from(rule.office.as_str()),
                in_force,
            });
        }
    }
    Ok(out)
}

/// Who acts for one of `principals` in `role` at `office` at `at`, under a rule in force
/// then: `(deputy, principal)`, in the order of the rules.
pub async fn standing_in(
    store: &Store,
    principals: &[String],
    role: &str,
    office: &str,
    at: DateTime<Utc>,
) -> Result<Vec<(String, String)>, StoreError> {
    if principals.is_empty() {
        return Ok(Vec::new());
    }
    Ok(in_force_at(store, office, at)
        .await?
        .into_iter()
        .filter(|r| principals.contains(&r.principal) && r.roles().any(|x| x == role))
        .map(|r| (r.deputy, r.principal))
        .collect())
}

/// The rules of `office` in force at `at`, in the order they were made.
pub async fn in_force_at(
    store: &Store,
    office: &str,
    at: DateTime<Utc>,
) -> Result<Vec<Rule>, StoreError> {
    let t = micros(at);
    store
        .read_side(
            select_rules!("WHERE office = $1 AND starts_at <= $2 AND ends_at > $3 ORDER BY id"),
            vec![Arg::Text(office.to_string()), Arg::Int(t), Arg::Int(t)],
        )
        .await
}

/// One rule.
pub async fn get(store: &Store, id: &str) -> Result<Option<Rule>, StoreError> {
    Ok(store
        .read_side::<Rule>(
            select_rules!("WHERE id = $1"),
            vec![Arg::Text(id.to_string())],
        )
        .await?
        .into_iter()
        .next())
}

/// The rules `caller` may see, newest first: every rule for an administrator or an auditor,
/// the rules of their offices for a head, their own (as principal or deputy) for anyone.
pub async fn visible(state: &AppState, caller: &Principal) -> Result<Vec<Rule>, Problem> {
    let rules: Vec<Rule> = state
        .store
        .read_side(
            select_rules!("ORDER BY created_at DESC, id DESC LIMIT 1000"),
            vec![],
        )
        .await?;
    Ok(rules.into_iter().filter(|r| may_see(caller, r)).collect())
}

/// Whether `caller` may see `rule`.
pub fn may_see(caller: &Principal, rule: &Rule) -> bool {
    let g = caller.own_grants();
    *caller.login == *rule.principal
        || *caller.login == *rule.deputy
        || g.holds_everywhere(ADMINISTRATOR)
        || g.holds_everywhere(crate::auth::policy::AUDITOR)
        || g.holds(HEAD, &rule.office)
}

/// Whether `caller` may record or end rules at `office`: its head, or an administrator.
pub fn may_manage(caller: &Principal, office: &str) -> bool {
    let g = caller.own_grants();
    g.holds(HEAD, office) || g.holds_everywhere(ADMINISTRATOR)
}

/// A rule to record.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRule {
    /// The user acted for (on leave, away).
    pub principal: String,
    /// The user who acts.
    pub deputy: String,
    /// The office the rule is for.
    pub office: String,
    /// Roles of the principal's at that office the deputy takes on.
    pub roles: Vec<String>,
    /// First day (YYYY-MM-DD, in the office's time).
    #[schema(value_type = String, format = Date)]
    pub valid_from: NaiveDate,
    /// Last day, included.
    #[schema(value_type = String, format = Date)]
    pub valid_to: NaiveDate,
    /// The order's number («приказ №…»), 1 to 100 characters.
    pub order_number: String,
    /// Anything else worth keeping, at most 1,000 characters.
    #[serde(default)]
    pub note: Option<String>,
}

/// Records a rule, after every check; the deputy's next request sees it.
pub async fn create(state: &AppState, caller: &Principal, new: NewRule) -> Result<Rule, Problem> {
    if !caller.own_grants().holds_somewhere(HEAD) && !may_manage(caller, &new.office) {
        return Err(Problem::forbidden(
            "not-allowed-to-manage-deputies",
            "only the head of an office or an administrator records who acts for whom",
        ));
    }
    if !state.offices.contains(&new.office) {
        return Err(field_error(
            "unknown-office",
            "/office",
            format!("there is no office `{}`", new.office),
        ));
    }
    if !may_manage(caller, &new.office) {
        return Err(Problem::forbidden(
            "not-allowed-to-manage-deputies",
            format!(
                "only the head of office `{}` or an administrator records its deputies",
                new.office
            ),
        ));
    }
    let order_number = new.order_number.trim().to_string();
    if order_number.is_empty() || order_number.chars().count() > MAX_ORDER {
        return Err(field_error(
            "bad-order-number",
            "/order_number",
            format!("the order's number, 1 to {MAX_ORDER} characters"),
        ));
    }
    let note = new
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    if note.as_ref().is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(field_error(
            "too-long",
            "/note",
            format!("at most {MAX_NOTE} characters"),
        ));
    }
    if new.principal == new.deputy {
        return Err(field_error(
            "deputy-is-principal",
            "/deputy",
            "a user cannot act for themselves",
        ));
    }
    let principal = match state.accounts.user(&new.principal).await? {
        Some(u) if !u.disabled => u,
        _ => {
            return Err(field_error(
                "unknown-user",
                "/principal",
                format!("there is no active account `{}`", new.principal),
            ));
        }
    };
    let deputy = match state.accounts.user(&new.deputy).await? {
        Some(u) if !u.disabled => u,
        _ => {
            return Err(field_error(
                "unknown-user",
                "/deputy",
                format!("there is no active account `{}`", new.deputy),
            ));
        }
    };
    let roles: BTreeSet<String> = new.roles.iter().map(|r| r.trim().to_string()).collect();
    if roles.is_empty() {
        return Err(field_error(
            "no-roles",
            "/roles",
            "name at least one of the principal's roles",
        ));
    }
    for role in &roles {
        let held = principal
            .grants
            .iter()
            .any(|g| g.role == *role && (g.office == new.office || g.office == "*"));
        if GLOBAL_ROLES.contains(&role.as_str()) || !held {
            return Err(field_error(
                "role-not-held",
                "/roles",
                format!(
                    "`{}` does not hold role `{role}` at office `{}`",
                    new.principal, new.office
                ),
            ));
        }
    }
    if new.valid_to < new.valid_from {
        return Err(field_error(
            "bad-dates",
            "/valid_to",
            "the last day comes before the first",
        ));
    }
    if (new.valid_to - new.valid_from).num_days() >= MAX_DAYS {
        return Err(field_error(
            "bad-dates",
            "/valid_to",
            format!("a rule runs at most {MAX_DAYS} days"),
        ));
    }
    let now = state.now();
    let zone = state
        .calendars
        .clock(Some(&new.office))
        .map_err(|e| Problem::internal(&e))?
        .zone();
    let midnight = |d: NaiveDate| {
        zone.from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default()))
    };
    let starts_at = midnight(new.valid_from);
    let ends_at = midnight(new.valid_to + Duration::days(1));
    if ends_at <= now {
        return Err(field_error(
            "bad-dates",
            "/valid_to",
            "the rule would have ended already",
        ));
    }
    // The deputy's own roles at the office: the rule must not let them sign their own work.
    let own: HashSet<String> = deputy
        .grants
        .iter()
        .filter(|g| {
            (g.office == new.office || g.office == "*") && !GLOBAL_ROLES.contains(&g.role.as_str())
        })
        .map(|g| g.role.clone())
        .collect();
    if let Some(c) = own_work_signed(state, &roles, &own).await? {
        return Err(Problem::conflict(
            "deputy-signs-own-work",
            format!(
                "as acting `{}`, `{}` would decide at step `{}` of `{}` on the work they do as `{}` at step `{}`; choose another deputy",
                c.signer_role,
                new.deputy,
                c.signer_step,
                c.regulation,
                c.worker_role,
                c.worker_step
            ),
        ));
    }
    let existing: Vec<Rule> = state
        .store
        .read_side(
            select_rules!(
                "WHERE principal = $1 AND office = $2 AND ends_at > $3 AND starts_at < $4"
            ),
            vec![
                Arg::Text(new.principal.clone()),
                Arg::Text(new.office.clone()),
                Arg::Int(micros(starts_at)),
                Arg::Int(micros(ends_at)),
            ],
        )
        .await?;
    if let Some(r) = existing
        .iter()
        .find(|r| r.roles().any(|role| roles.contains(role)))
    {
        return Err(Problem::conflict(
            "deputy-rule-overlaps",
            format!(
                "`{}` already acts for `{}` in a role named here from {} to {} (rule {}); end it first",
                r.deputy, r.principal, r.valid_from, r.valid_to, r.id
            ),
        ));
    }
    let id = format!(
        "dr-{}",
        crate::auth::secret::random_base32(10)
            .map_err(|e| Problem::internal(&e))?
            .to_ascii_lowercase()
    );
    let rule = Rule {
        id,
        principal: new.principal,
        deputy: new.deputy,
        office: new.office,
        roles: roles.into_iter().collect::<Vec<_>>().join(","),
        valid_from: new.valid_from.to_string(),
        valid_to: new.valid_to.to_string(),
        starts_at: micros(starts_at),
        ends_at: micros(ends_at),
        order_number,
        note,
        created_by: caller.login.to_string(),
        created_at: micros(now),
        ended_at: None,
        ended_by: None,
        end_reason: None,
    };
    state
        .store
        .write_side(vec![(
            "INSERT INTO deputy_rules (id, principal, deputy, office, roles, valid_from, valid_to, \
             starts_at, ends_at, order_number, note, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            vec![
                Arg::Text(rule.id.clone()),
                Arg::Text(rule.principal.clone()),
                Arg::Text(rule.deputy.clone()),
                Arg::Text(rule.office.clone()),
                Arg::Text(rule.roles.clone()),
                Arg::Text(rule.valid_from.clone()),
                Arg::Text(rule.valid_to.clone()),
                Arg::Int(rule.starts_at),
                Arg::Int(rule.ends_at),
                Arg::Text(rule.order_number.clone()),
                Arg::OptText(rule.note.clone()),
                Arg::Text(rule.created_by.clone()),
                Arg::Int(rule.created_at),
            ],
        )])
        .await?;
    state.auth.forget_all();
    Ok(rule)
}

/// Ends a rule now, with a reason. Ending one that has ended already changes nothing.
pub async fn end(
    state: &AppState,
    caller: &Principal,
    id: &str,
    reason: &str,
) -> Result<Rule, Problem> {
    let rule = get(&state.store, id)
        .await?
        .filter(|r| may_see(caller, r))
        .ok_or_else(|| Problem::not_found("no such deputy rule"))?;
    if !may_manage(caller, &rule.office) {
        return Err(Problem::forbidden(
            "not-allowed-to-manage-deputies",
            format!(
                "only the head of office `{}` or an administrator ends its deputy rules",
                rule.office
            ),
        ));
    }
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > crate::limits::MAX_REASON {
        return Err(field_error(
            "bad-reason",
            "/reason",
            "say why, in 1 to 2000 characters",
        ));
    }
    let now = micros(state.now());
    if rule.ends_at <= now {
        return Ok(rule);
    }
    state
        .store
        .write_side(vec![(
            "UPDATE deputy_rules SET ends_at = $1, ended_at = $2, ended_by = $3, end_reason = $4 \
             WHERE id = $5 AND ends_at > $6",
            vec![
                Arg::Int(now.max(rule.starts_at)),
                Arg::Int(now),
                Arg::Text(caller.login.to_string()),
                Arg::Text(reason.to_string()),
                Arg::Text(rule.id.clone()),
                Arg::Int(now),
            ],
        )])
        .await?;
    state.auth.forget_all();
    get(&state.store, id)
        .await?
        .ok_or_else(|| Problem::not_found("no such deputy rule"))
}

/// A step of a granted role that decides on a step of a role the deputy holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignsOwnWork {
    pub regulation: String,
    pub signer_role: String,
    pub signer_step: String,
    pub worker_role: String,
    pub worker_step: String,
}

async fn own_work_signed(
    state: &AppState,
    granted: &BTreeSet<String>,
    own: &HashSet<String>,
) -> Result<Option<SignsOwnWork>, Problem> {
    let fresh: HashSet<&String> = own.iter().filter(|r| !granted.contains(*r)).collect();
    if fresh.is_empty() {
        return Ok(None);
    }
    let mut ids: Vec<String> = state
        .store
        .regulations()
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    ids.sort();
    ids.dedup();
    for id in ids {
        let process = state.store.latest(&id).await?;
        if let Some(c) = signs_own_work(&process, granted, &|r: &str| {
            fresh.iter().any(|f| f.as_str() == r)
        }) {
            return Ok(Some(c));
        }
    }
    Ok(None)
}

/// Two consecutive steps of `process` (gateways and other steps without a role between
/// them) of which one is a role in `granted` and the other a role `held`: the deputy would do
/// the first and decide on it in the second (prepare a draft and sign it, or send documents
/// and accept them).
pub fn signs_own_work(
    process: &Process,
    granted: &BTreeSet<String>,
    held: &dyn Fn(&str) -> bool,
) -> Option<SignsOwnWork> {
    let is_granted = |r: &str| granted.contains(r);
    // First the deputy's own work followed by a granted role's step (what the rule adds is
    // the decision), then the other way round.
    first_pair(process, held, &is_granted).or_else(|| first_pair(process, &is_granted, held))
}

/// The first step of a role `before` whose next step with a role (past gateways) is of
/// another role, `after`.
fn first_pair(
    process: &Process,
    before: &dyn Fn(&str) -> bool,
    after: &dyn Fn(&str) -> bool,
) -> Option<SignsOwnWork> {
    let n = process.regulation.steps.len();
    for first in 0..n {
        let Some(first_role) = process.step_role(first).filter(|r| before(r)) else {
            continue;
        };
        let mut seen = vec![false; n];
        let mut stack = vec![first];
        while let Some(s) = stack.pop() {
            for (_, next) in process.next_steps(s) {
                if std::mem::replace(&mut seen[next], true) {
                    continue;
                }
                let Some(role) = process.step_role(next) else {
                    stack.push(next);
                    continue;
                };
                if role != first_role && after(role) {
                    return Some(SignsOwnWork {
                        regulation: process.id().to_string(),
                        signer_role: role.to_string(),
                        signer_step: process.step_id(next).to_string(),
                        worker_role: first_role.to_string(),
                        worker_step: process.step_id(first).to_string(),
                    });
                }
            }
        }
    }
    None
}

/// The actor the engine records for `caller` acting on `task` as `actor`: the same, unless
/// they act under a deputy rule — on a task their principal holds (claimed, or handed to
/// them), or in a role they hold only by the rule — when the principal is named in it.
pub async fn task_actor(
    state: &AppState,
    caller: &Principal,
    case: &CaseId,
    task: TaskId,
    actor: Actor,
) -> Result<Actor, Problem> {
    if caller.acting.is_empty() || actor.on_behalf_of.is_some() {
        return Ok(actor);
    }
    let st = state.service.case_state(case).await?;
    let Some(t) = st.task(task) else {
        return Ok(actor);
    };
    let holder = t.claimed_by.as_deref().or(t.assigned_to.as_deref());
    Ok(caller.deputy_actor(actor, &t.office, holder))
}

/// The pages of claimed tasks an inbox shows `caller` among `pairs` (role, office): their
/// own, and, for each rule in force, those its principal claimed in the rule's roles there.
pub async fn claimed_pages(
    store: &Store,
    caller: &Principal,
    pairs: &[(String, String)],
    overdue_at: Option<DateTime<Utc>>,
    after: Option<&str>,
    limit: u32,
) -> Result<Vec<InboxPage>, StoreError> {
    let own = InboxStatus::ClaimedBy(caller.login.to_string());
    let mut pages = vec![
        store
            .inbox_of(pairs, &own, overdue_at, after, limit)
            .await?,
    ];
    let mut by_principal: std::collections::BTreeMap<&str, Vec<(String, String)>> =
        Default::default();
    for a in caller.acting.iter().filter(|a| a.in_force) {
        let pair = (a.role.to_string(), a.office.to_string());
        if pairs.contains(&pair) {
            by_principal.entry(&a.principal).or_default().push(pair);
        }
    }
    for (principal, pairs) in by_principal {
        let theirs = InboxStatus::ClaimedBy(principal.to_string());
        pages.push(
            store
                .inbox_of(&pairs, &theirs, overdue_at, after, limit)
                .await?,
        );
    }
    Ok(pages)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process() -> Arc<Process> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../regulations/north-kazakhstan/nko-social-assistance.yaml");
        let loaded = reglament_model::load::load_file(&path).expect("loads");
        Process::compile(loaded.regulation)
            .expect("compiles")
            .shared()
    }

    #[test]
    fn a_deputy_may_not_do_one_step_and_decide_on_it_in_the_next() {
        let p = process();
        let set = |r: &str| -> BTreeSet<String> { [r.to_string()].into() };
        // An executor made acting head would sign the result they drafted.
        let c = signs_own_work(&p, &set("head"), &|r| r == "executor").expect("a conflict");
        assert_eq!(
            (c.worker_step.as_str(), c.signer_step.as_str()),
            ("review", "sign")
        );
        // So would a head made acting executor (draft as executor, then sign as head).
        let c = signs_own_work(&p, &set("executor"), &|r| r == "head").expect("a conflict");
        assert_eq!(
            (c.worker_role.as_str(), c.signer_role.as_str()),
            ("head", "executor")
        );
        // A registrar acting for another registrar does the same kind of work: nothing to sign.
        assert_eq!(
            signs_own_work(&p, &set("registrar"), &|r| r == "registrar"),
            None
        );
        // A role no step has cannot meet any.
        assert_eq!(
            signs_own_work(&p, &set("executor"), &|r| r == "auditor"),
            None
        );
    }
}
