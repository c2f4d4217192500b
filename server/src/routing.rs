//! Where a case goes: the offices it passes through, resolved at registration from the
//! offices files (a service centre or a rural akim names the provider office it forwards to)
//! and the regulation's roles (which kind of office performs each).

use std::collections::BTreeMap;

use reglament_calendar::{CalendarError, Calendars, OfficeKind};
use reglament_model::compile::Process;

/// Why a case registered at an office cannot be routed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unrouted {
    /// The office names nowhere to forward to, and the regulation has work for a provider
    /// office.
    #[error(
        "office `{office}` ({kind}) names no provider office it forwards to (`forwards_to` in \
         its offices file), and role `{role}` of regulation `{regulation}` works at a provider office"
    )]
    NoProvider {
        office: String,
        kind: &'static str,
        role: String,
        regulation: String,
    },
    /// The office forwards to several provider offices (it receives applicants of several
    /// districts) and the registration did not say which.
    #[error(
        "office `{office}` forwards applications to several provider offices, one per district: \
         say which in `forward_to` ({})",
        choices.join(", ")
    )]
    Choose {
        office: String,
        choices: Vec<String>,
    },
    /// The registration named a provider office the office does not forward to.
    #[error(
        "office `{office}` does not forward applications to `{to}`{}",
        if choices.is_empty() { String::new() } else { format!("; it forwards to: {}", choices.join(", ")) }
    )]
    NotForwardedTo {
        office: String,
        to: String,
        choices: Vec<String>,
    },
}

impl Unrouted {
    /// The request field the refusal is about.
    pub fn pointer(&self) -> &'static str {
        match self {
            Unrouted::NoProvider { .. } => "/office",
            Unrouted::Choose { .. } | Unrouted::NotForwardedTo { .. } => "/forward_to",
        }
    }
}

/// The route of a case of `process` registered at `office`: the office itself and the offices
/// it forwards to, by kind (`forward_to`: the provider office chosen among several, by the
/// applicant's district). A regulation whose roles name no office kind keeps every task at
/// the registering office (an empty route).
pub fn route(
    calendars: &Calendars,
    process: &Process,
    office: &str,
    forward_to: Option<&str>,
) -> Result<BTreeMap<String, String>, Unrouted> {
    let roles = &process.regulation.roles;
    let choices = || {
        calendars
            .forwards(office)
            .map(<[String]>::to_vec)
            .unwrap_or_default()
    };
    if roles.iter().all(|r| r.office.is_none()) {
        return Ok(BTreeMap::new());
    }
    let route = match calendars.route_via(office, forward_to) {
        Ok(route) => route,
        Err(CalendarError::NotForwardedTo { to, .. }) => {
            return Err(Unrouted::NotForwardedTo {
                office: office.to_string(),
                to,
                choices: choices(),
            });
        }
        Err(_) => return Ok(BTreeMap::new()),
    };
    for role in roles {
        if let Some(kind) = role.office
            && !route.contains_key(kind.as_str())
            && kind == OfficeKind::ProviderOffice
        {
            if choices().len() > 1 {
                return Err(Unrouted::Choose {
                    office: office.to_string(),
                    choices: choices(),
                });
            }
            let kind = calendars
                .office(office)
                .map(|o| o.data.kind.as_str())
                .unwrap_or("office");
            return Err(Unrouted::NoProvider {
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
        let route = route(&bundled, &p, "atyrau-tson-inder", None).expect("routed");
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
        let err = super::route(&cals, &p, "atyrau-tson-inder", None).expect_err("no provider");
        let Unrouted::NoProvider { office, kind, .. } = &err else {
            panic!("{err:?}")
        };
        assert_eq!(office, "atyrau-tson-inder");
        assert_eq!(*kind, "service_centre");
        assert!(err.to_string().contains("forwards_to"), "{err}");
        assert_eq!(err.pointer(), "/office");
    }

    /// The regional centre receives applicants of every district: the registration names the
    /// district's department, which must be one the centre forwards to.
    #[test]
    fn the_regional_centre_forwards_to_the_department_the_registration_names() {
        let p = child_benefit();
        let bundled = Calendars::load(&reglament_testkit::regulations_dir()).expect("loads");
        let choices = bundled.forwards("atyrau-tson-oblast").expect("office");
        assert_eq!(choices.len(), 8, "{choices:?}");
        let err = route(&bundled, &p, "atyrau-tson-oblast", None).expect_err("must choose");
        assert!(matches!(&err, Unrouted::Choose { choices, .. } if choices.len() == 8));
        assert_eq!(err.pointer(), "/forward_to");
        assert!(err.to_string().contains("atyrau-makat-ozsp"), "{err}");
        let r = route(
            &bundled,
            &p,
            "atyrau-tson-oblast",
            Some("atyrau-makat-ozsp"),
        )
        .expect("routed");
        assert_eq!(
            r.get("provider_office").map(String::as_str),
            Some("atyrau-makat-ozsp")
        );
        assert_eq!(
            r.get("service_centre").map(String::as_str),
            Some("atyrau-tson-oblast")
        );
        let err = route(&bundled, &p, "atyrau-tson-oblast", Some("nko-esil-ozsp"))
            .expect_err("not one of its departments");
        assert!(matches!(err, Unrouted::NotForwardedTo { .. }), "{err:?}");
        assert!(
            err.to_string().contains("it forwards to: atyrau-city-ozsp"),
            "{err}"
        );
        // A district's centre forwards to its one department, named or not.
        let one =
            route(&bundled, &p, "atyrau-tson-inder", Some("atyrau-inder-ozsp")).expect("routed");
        assert_eq!(one, route_of(&bundled, &p, "atyrau-tson-inder"));
        let err = route(&bundled, &p, "atyrau-tson-inder", Some("atyrau-makat-ozsp"))
            .expect_err("another district's department");
        assert!(matches!(err, Unrouted::NotForwardedTo { .. }), "{err:?}");
    }

    fn route_of(c: &Calendars, p: &Process, office: &str) -> BTreeMap<String, String> {
        route(c, p, office, None).expect("routed")
    }
}
