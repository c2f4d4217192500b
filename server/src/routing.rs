//! Where a case goes: the offices it passes through, resolved at registration from the
//! offices files (a service centre or a rural akim names the provider office it forwards to)
//! and the regulation's roles (which kind of office performs each).

use std::collections::BTreeMap;

use reglament_calendar::{Calendars, OfficeKind};
use reglament_model::compile::Process;

/// Why a case registered at an office cannot be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "office `{office}` ({kind}) names no provider office it forwards to (`forwards_to` in \
     its offices file), and role `{role}` of regulation `{regulation}` works at a provider office"
)]
pub struct Unrouted {
    pub office: String,
    pub kind: &'static str,
    pub role: String,
    pub regulation: String,
}

/// The route of a case of `process` registered at `office`: the office itself and the offices
/// it forwards to, by kind. A regulation whose roles name no office kind keeps every task at
/// the registering office (an empty route).
pub fn route(
    calendars: &Calendars,
    process: &Process,
    office: &str,
) -> Result<BTreeMap<String, String>, Unrouted> {
    let roles = &process.regulation.roles;
    if roles.iter().all(|r| r.office.is_none()) {
        return Ok(BTreeMap::new());
    }
    let Ok(route) = calendars.route(office) else {
        return Ok(BTreeMap::new());
    };
    for role in roles {
        if let Some(kind) = role.office
            && !route.contains_key(kind.as_str())
            && kind == OfficeKind::ProviderOffice
        {
            let kind = calendars
                .office(office)
                .map(|o| o.data.kind.as_str())
                .unwrap_or("office");
            return Err(Unrouted {
                office: office.to_string(),
                kind,
                role: role.id.clone(),
                regulation: process.id().to_string(),
            });
        }
    }
    Ok(route)
}
