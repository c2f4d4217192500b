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

#[cfg(test)]
mod tests {
    use super::*;

    fn calendars_without(forwarding: &str) -> Calendars {
        let root = reglament_testkit::regulations_dir();
        let dir = std::env::temp_dir().join(format!(
            "reglament-routing-{}-{}",
            std::process::id(),
            forwarding
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["calendars", "offices"] {
            std::fs::create_dir_all(dir.join(sub)).expect("dir");
            for e in std::fs::read_dir(root.join(sub)).expect("read").flatten() {
                let text = std::fs::read_to_string(e.path()).expect("read");
                let text = text.replace(&format!("    forwards_to: {forwarding}\n"), "");
                std::fs::write(dir.join(sub).join(e.file_name()), text).expect("write");
            }
        }
        let cals = Calendars::load(&dir).expect("loads");
        let _ = std::fs::remove_dir_all(&dir);
        cals
    }

    fn child_benefit() -> Process {
        let path = reglament_testkit::regulations_dir().join("atyrau/atyrau-child-benefit.yaml");
        let report = reglament_model::validate::check_file(&path, None);
        report.process.expect("compiles")
    }

    #[test]
    fn a_centre_routes_to_its_department_and_one_that_names_none_is_refused_by_name() {
        let p = child_benefit();
        let bundled = Calendars::load(&reglament_testkit::regulations_dir()).expect("loads");
        let route = route(&bundled, &p, "atyrau-tson-inder").expect("routed");
        assert_eq!(
            route.get("provider_office").map(String::as_str),
            Some("atyrau-inder-ozsp")
        );
        // A provider office routes to itself.
        let own = route_of(&bundled, &p, "atyrau-inder-ozsp");
        assert_eq!(
            own.get("provider_office").map(String::as_str),
            Some("atyrau-inder-ozsp")
        );

        let cals = calendars_without("atyrau-inder-ozsp");
        let err = super::route(&cals, &p, "atyrau-tson-inder").expect_err("no provider office");
        assert_eq!(err.office, "atyrau-tson-inder");
        assert_eq!(err.kind, "service_centre");
        assert!(err.to_string().contains("forwards_to"), "{err}");
    }

    fn route_of(c: &Calendars, p: &Process, office: &str) -> BTreeMap<String, String> {
        route(c, p, office).expect("routed")
    }
}
