//! Who may see and do what. Pure functions of the user's grants and the resource, so that the
//! rules are read in one place and tested without a server.
//!
//! - A user holds roles in offices (a grant `role@office`, or `role@*` for every office).
//! - **Seeing** a case (and its tasks and events) needs any grant in the case's office other
//!   than `analyst`; `auditor@*` and `administrator@*` see every office.
//! - **Working** a task (claim, complete, release one's own claim) needs the task's role in
//!   the case's office. A head (or administrator) of the office may also release another's
//!   claim and reassign tasks within the office.
//! - **Starting** a case needs the role of the channel's first step in the chosen office.
//! - A system step's result is recorded by an account holding the step's (system) role.
//! - Cancelling a case: administrators. Deploying regulations: analysts. Accounts:
//!   administrators. Auditors read everything and change nothing.
//!
//! A case the user may not see is answered 404, exactly as if it did not exist; a case they
//! see, with an action they may not take, 403.

use std::sync::Arc;

use reglament_runtime::Actor;

pub const ADMINISTRATOR: &str = "administrator";
pub const AUDITOR: &str = "auditor";
pub const ANALYST: &str = "analyst";
pub const HEAD: &str = "head";

/// Roles that are held for every office: they are about the system, not an office's work.
pub const GLOBAL_ROLES: &[&str] = &[ADMINISTRATOR, AUDITOR, ANALYST];

/// A role in an office.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Grant {
    pub role: Arc<str>,
    /// `None`: every office.
    pub office: Option<Arc<str>>,
}

impl Grant {
    pub fn new(role: &str, office: Option<&str>) -> Grant {
        Grant {
            role: Arc::from(role),
            office: office.map(Arc::from),
        }
    }

    /// `role@office`, or `role@*`, as written on the command line.
    pub fn parse(text: &str) -> Option<Grant> {
        let (role, office) = match text.split_once('@') {
            Some((r, o)) => (r.trim(), o.trim()),
            None => (text.trim(), "*"),
        };
        let ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        };
        if !ok(role) || !(office == "*" || ok(office)) {
            return None;
        }
        Some(Grant::new(role, (office != "*").then_some(office)))
    }

    pub fn office_text(&self) -> &str {
        self.office.as_deref().unwrap_or("*")
    }

    pub fn covers(&self, office: &str) -> bool {
        self.office.as_deref().is_none_or(|o| o == office)
    }
}

impl std::fmt::Display for Grant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.role, self.office_text())
    }
}

/// Why access is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// The user may not know the resource exists (404).
    Hidden,
    /// The user sees it but may not do this (403), with the reason and a stable code.
    Forbidden { code: &'static str, reason: String },
}

impl Denied {
    fn forbidden(code: &'static str, reason: impl Into<String>) -> Denied {
        Denied::Forbidden {
            code,
            reason: reason.into(),
        }
    }
}

/// What a task action is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskAction {
    Claim,
    Release,
    Complete,
}

/// A user's grants, and the rules over them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grants<'a> {
    pub login: &'a str,
    pub grants: &'a [Grant],
}

impl Grants<'_> {
    /// Holds `role` in `office` (directly or for every office).
    pub fn holds(&self, role: &str, office: &str) -> bool {
        self.grants
            .iter()
            .any(|g| &*g.role == role && g.covers(office))
    }

    /// Holds `role` for every office.
    pub fn holds_everywhere(&self, role: &str) -> bool {
        self.grants
            .iter()
            .any(|g| &*g.role == role && g.office.is_none())
    }

    /// Holds `role` in some office.
    pub fn holds_somewhere(&self, role: &str) -> bool {
        self.grants.iter().any(|g| &*g.role == role)
    }

    /// May read the cases of `office`.
    pub fn sees_office(&self, office: &str) -> bool {
        self.grants
            .iter()
            .any(|g| &*g.role != ANALYST && g.covers(office))
    }

    /// The offices whose cases the user may read (as [`Grants::sees_office`]); `None` for
    /// every office.
    pub fn readable_offices(&self) -> Option<Vec<String>> {
        let mut out: Vec<String> = Vec::new();
        for g in self.grants.iter().filter(|g| &*g.role != ANALYST) {
            match &g.office {
                None => return None,
                Some(o) if !out.iter().any(|x| x == &**o) => out.push(o.to_string()),
                Some(_) => {}
            }
        }
        Some(out)
    }

    fn actor(&self, role: &str) -> Actor {
        Actor::new(self.login, role)
    }

    /// Reading a case, its tasks and its events.
    pub fn read_case(&self, office: &str) -> Result<(), Denied> {
        if self.sees_office(office) {
            Ok(())
        } else {
            Err(Denied::Hidden)
        }
    }

    /// Claiming, releasing or completing a task of `task_role` in a case of `office`.
    /// Gives the actor the engine records.
    pub fn task(&self, office: &str, task_role: &str, action: TaskAction) -> Result<Actor, Denied> {
        self.read_case(office)?;
        if self.holds(task_role, office) {
            return Ok(self.actor(task_role));
        }
        if action == TaskAction::Release {
            // The engine lets a head take a claim back from someone who is away.
            for role in [HEAD, ADMINISTRATOR] {
                if self.holds(role, office) {
                    return Ok(self.actor(role));
                }
            }
        }
        Err(Denied::forbidden(
            "wrong-role",
            format!(
                "the task is for role `{task_role}`, which you do not hold in office `{office}`"
            ),
        ))
    }

    /// Handing a task of a case in `office` to someone else.
    pub fn reassign(&self, office: &str) -> Result<Actor, Denied> {
        self.read_case(office)?;
        for role in [HEAD, ADMINISTRATOR] {
            if self.holds(role, office) {
                return Ok(self.actor(role));
            }
        }
        Err(Denied::forbidden(
            "not-allowed-to-reassign",
            format!(
                "only the head of office `{office}` (or an administrator) may reassign its tasks"
            ),
        ))
    }

    /// Recording the result of a system step of `step_role` in a case of `office`.
    pub fn system_result(&self, office: &str, step_role: &str) -> Result<Actor, Denied> {
        self.read_case(office)?;
        if self.holds(step_role, office) {
            return Ok(self.actor(step_role));
        }
        Err(Denied::forbidden(
            "wrong-role",
            format!(
                "the step is for the system role `{step_role}`, which this account does not hold"
            ),
        ))
    }

    /// Starting a case in `office` whose first step is for one of `start_roles`.
    pub fn start(&self, office: &str, start_roles: &[&str]) -> Result<Actor, Denied> {
        for role in start_roles {
            if self.holds(role, office) {
                return Ok(self.actor(role));
            }
        }
        Err(Denied::forbidden(
            "not-allowed-to-start",
            format!(
                "registering this application in office `{office}` needs role {}",
                start_roles
                    .iter()
                    .map(|r| format!("`{r}`"))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ))
    }

    /// Cancelling a case of `office`.
    pub fn cancel(&self, office: &str) -> Result<Actor, Denied> {
        self.read_case(office)?;
        if self.holds(ADMINISTRATOR, office) {
            return Ok(self.actor(ADMINISTRATOR));
        }
        Err(Denied::forbidden(
            "not-allowed-to-cancel",
            "only an administrator may cancel a case",
        ))
    }

    /// Retrying an incident of a case of `office`: an administrator's decision, as a
    /// cancellation is.
    pub fn retry_incident(&self, office: &str) -> Result<Actor, Denied> {
        self.read_case(office)?;
        if self.holds(ADMINISTRATOR, office) {
            return Ok(self.actor(ADMINISTRATOR));
        }
        Err(Denied::forbidden(
            "not-allowed-to-retry",
            "only an administrator may retry an incident",
        ))
    }

    /// Listing incidents: administrators, each for the offices they administer.
    pub fn list_incidents(&self) -> Result<(), Denied> {
        if self.holds_somewhere(ADMINISTRATOR) {
            return Ok(());
        }
        Err(Denied::forbidden(
            "not-allowed-to-list-incidents",
            "only an administrator may list incidents",
        ))
    }

    /// Deploying a regulation.
    pub fn deploy(&self) -> Result<Actor, Denied> {
        if self.holds_somewhere(ANALYST) {
            return Ok(self.actor(ANALYST));
        }
        Err(Denied::forbidden(
            "not-allowed-to-deploy",
            "only an analyst may deploy regulations",
        ))
    }

    /// Managing accounts.
    pub fn manage_users(&self) -> Result<(), Denied> {
        if self.holds_everywhere(ADMINISTRATOR) {
            return Ok(());
        }
        Err(Denied::forbidden(
            "not-allowed-to-manage-users",
            "only an administrator may manage accounts",
        ))
    }

    /// The (role, office) pairs whose tasks an inbox may list: with no role asked for, the
    /// user's own work; with a role, that role wherever the user may watch it — where they
    /// hold it, where they are head (to reassign), everywhere for auditors and administrators.
    /// `offices` lists every office, to expand `*`.
    pub fn inbox_pairs(
        &self,
        role: Option<&str>,
        office: Option<&str>,
        offices: &[String],
    ) -> Result<Vec<(String, String)>, Denied> {
        let expand = |g: &Grant| -> Vec<String> {
            match &g.office {
                Some(o) => vec![o.to_string()],
                None => offices.to_vec(),
            }
        };
        let mut pairs = Vec::new();
        match role {
            None => {
                for g in self.grants {
                    if !GLOBAL_ROLES.contains(&&*g.role) {
                        pairs.extend(expand(g).into_iter().map(|o| (g.role.to_string(), o)));
                    }
                }
            }
            Some(r) => {
                for g in self.grants {
                    let supervises = matches!(&*g.role, HEAD | ADMINISTRATOR | AUDITOR)
                        && !GLOBAL_ROLES.contains(&r);
                    if &*g.role == r || supervises {
                        pairs.extend(expand(g).into_iter().map(|o| (r.to_string(), o)));
                    }
                }
                if pairs.is_empty() {
                    return Err(Denied::forbidden(
                        "wrong-role",
                        format!("you neither hold nor supervise role `{r}` in any office"),
                    ));
                }
            }
        }
        pairs.retain(|(_, o)| office.is_none_or(|f| f == o));
        pairs.sort();
        pairs.dedup();
        Ok(pairs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(list: &[&str]) -> Vec<Grant> {
        list.iter()
            .map(|s| Grant::parse(s).expect("grant"))
            .collect()
    }

    #[test]
    fn grants_parse_as_written_on_the_command_line() {
        assert_eq!(
            Grant::parse("head@o1"),
            Some(Grant::new("head", Some("o1")))
        );
        assert_eq!(Grant::parse("auditor"), Some(Grant::new("auditor", None)));
        assert_eq!(Grant::parse("auditor@*"), Some(Grant::new("auditor", None)));
        assert_eq!(Grant::parse("bad role@o1"), None);
        assert_eq!(Grant::parse("@o1"), None);
        assert_eq!(Grant::new("head", Some("o1")).to_string(), "head@o1");
    }

    #[test]
    fn the_office_decides_visibility_and_the_role_decides_work() {
        let grants = g(&["executor@o1"]);
        let u = Grants {
            login: "e",
            grants: &grants,
        };
        assert_eq!(u.read_case("o2"), Err(Denied::Hidden));
        assert!(u.task("o1", "executor", TaskAction::Complete).is_ok());
        assert!(matches!(
            u.task("o1", "head", TaskAction::Claim),
            Err(Denied::Forbidden { .. })
        ));
        assert_eq!(
            u.task("o2", "executor", TaskAction::Claim),
            Err(Denied::Hidden)
        );
        assert!(matches!(u.reassign("o1"), Err(Denied::Forbidden { .. })));
        assert!(matches!(u.deploy(), Err(Denied::Forbidden { .. })));
    }

    #[test]
    fn heads_supervise_their_office_auditors_read_all_and_analysts_no_cases() {
        let heads = g(&["head@o1"]);
        let h = Grants {
            login: "h",
            grants: &heads,
        };
        assert_eq!(
            h.reassign("o1").map(|a| a.role.to_string()),
            Ok("head".into())
        );
        assert_eq!(
            h.task("o1", "executor", TaskAction::Release)
                .map(|a| a.role.to_string()),
            Ok("head".into())
        );
        assert!(h.task("o1", "executor", TaskAction::Complete).is_err());
        let offices = vec!["o1".to_string(), "o2".to_string()];
        assert_eq!(
            h.inbox_pairs(Some("executor"), None, &offices),
            Ok(vec![("executor".into(), "o1".into())])
        );
        let auditors = g(&["auditor"]);
        let a = Grants {
            login: "a",
            grants: &auditors,
        };
        assert!(a.read_case("o2").is_ok());
        assert!(matches!(
            a.task("o2", "executor", TaskAction::Claim),
            Err(Denied::Forbidden { .. })
        ));
        assert!(a.cancel("o2").is_err());
        assert_eq!(a.inbox_pairs(None, None, &offices), Ok(vec![]));
        assert_eq!(
            a.inbox_pairs(Some("head"), None, &offices).map(|p| p.len()),
            Ok(2)
        );
        let analysts = g(&["analyst"]);
        let an = Grants {
            login: "an",
            grants: &analysts,
        };
        assert_eq!(an.read_case("o1"), Err(Denied::Hidden));
        assert!(an.deploy().is_ok());
        let admins = g(&["administrator"]);
        let ad = Grants {
            login: "ad",
            grants: &admins,
        };
        assert!(ad.cancel("o1").is_ok() && ad.manage_users().is_ok());
    }
}
