//! Which version of a regulation a registration starts on: the one in force on the day of the
//! registration where the office is (its clock's time zone), not the newest deployed; and the
//! refusal, in the API's and the pages' words, when none is in force. The rule of which
//! version is in force is the store's (`reglament_store::versions`).

use std::sync::Arc;

use chrono::NaiveDate;
use reglament_model::compile::Process;
use reglament_model::text::Lang;
use reglament_store::versions::{InForce, VersionWindow};
use reglament_store::{RegulationInfo, StoreError};

use crate::api::field_error;
use crate::problem::Problem;
use crate::state::AppState;

/// The local date of the registration instant: on the office's clock when the office is
/// known, else on the clock of the regulation's region, else on the standard clock.
pub fn registration_day(state: &AppState, office: Option<&str>, region: Option<&str>) -> NaiveDate {
    let now = state.now();
    if let Some(o) = office.and_then(|o| state.calendars.office(o).ok()) {
        return o.clock.to_local(now).date_naive();
    }
    if let Some(r) = region.and_then(|r| state.calendars.regions().find(|x| x.id() == r)) {
        return now.with_timezone(&r.zone).date_naive();
    }
    match state.calendars.clock(None) {
        Ok(c) => c.to_local(now).date_naive(),
        Err(_) => now.date_naive(),
    }
}

/// Why no version of a regulation can be registered under on a day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotInForce {
    pub regulation: String,
    pub day: NaiveDate,
    /// The version whose days have ended, with the repeal's act and day (when its source
    /// names them) or its last day.
    pub ended: Option<Ended>,
    /// The first version that takes effect after the day.
    pub next: Option<(u32, NaiveDate)>,
}

/// A version that no longer applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub version: u32,
    /// The first day it no longer applies.
    pub until: NaiveDate,
    /// The repealing act, when the source names it.
    pub act: Option<String>,
}

impl NotInForce {
    /// The API's sentence (English, like every `detail`).
    pub fn detail(&self) -> String {
        let mut out = format!(
            "regulation `{}` is not in force on {}",
            self.regulation, self.day
        );
        if let Some(e) = &self.ended {
            match &e.act {
                Some(act) => out.push_str(&format!(
                    ": version {} was repealed by {act} from {}, and no later version is in force",
                    e.version, e.until
                )),
                None => out.push_str(&format!(
                    ": version {} applied until {}, and no later version is in force",
                    e.version,
                    e.until.pred_opt().unwrap_or(e.until)
                )),
            }
        }
        if let Some((v, from)) = self.next {
            out.push_str(&format!("; version {v} takes effect on {from}"));
        }
        out
    }

    /// The same in the page's language.
    pub fn say(&self, lang: Lang) -> String {
        let t = |k| crate::web::i18n::t(lang, k);
        let mut parts = Vec::new();
        if let Some(e) = &self.ended {
            let last = e.until.pred_opt().unwrap_or(e.until);
            parts.push(match &e.act {
                Some(act) => t("not_in_force_repealed")
                    .replace("{date}", &e.until.to_string())
                    .replace("{act}", act),
                None => t("not_in_force_ended").replace("{last}", &last.to_string()),
            });
        }
        if let Some((_, from)) = self.next {
            parts.push(t("not_in_force_yet").replace("{from}", &from.to_string()));
        }
        if parts.is_empty() {
            parts.push(t("not_in_force").to_string());
        }
        parts.join("; ")
    }

    /// 422 `regulation-not-in-force` at `/regulation` (or `/version` for a version asked for).
    pub fn problem(&self, pointer: &str) -> Problem {
        field_error("regulation-not-in-force", pointer, self.detail())
    }
}

/// What a registration may start on.
pub enum Registrable {
    /// The version in force on the day.
    Process(Arc<Process>),
    /// None: why.
    NotInForce(NotInForce),
}

/// The version of `regulation` in force on `day`, or why none is;
/// [`StoreError::UnknownRegulation`] when no version is deployed.
pub async fn in_force(
    state: &AppState,
    regulation: &str,
    day: NaiveDate,
) -> Result<Registrable, StoreError> {
    match state.store.in_force(regulation, day).await? {
        InForce::Version(v) => Ok(Registrable::Process(state.store.process(&v.digest).await?)),
        InForce::None { ended, next } => {
            let ended = match ended {
                Some(v) => Some(ended_of(state, &v).await?),
                None => None,
            };
            Ok(Registrable::NotInForce(NotInForce {
                regulation: regulation.to_string(),
                day,
                ended,
                next: next.map(|v| (v.version, v.window.from)),
            }))
        }
    }
}

async fn ended_of(state: &AppState, v: &VersionWindow) -> Result<Ended, StoreError> {
    let process = state.store.process(&v.digest).await?;
    let act = process
        .regulation
        .repealed
        .as_ref()
        .filter(|r| r.date.is_some() && r.date == v.window.until)
        .and_then(|r| r.act.clone());
    Ok(Ended {
        version: v.version,
        until: v.window.until.unwrap_or(v.window.from),
        act,
    })
}

/// The process a new case starts on, for the API: the version in force on the day of the
/// registration at `office`, or `version` if asked for and in force then. Refusals: 422
/// `unknown-regulation`, `unknown-version`, `regulation-not-in-force`.
pub async fn for_registration(
    state: &AppState,
    regulation: &str,
    version: Option<u32>,
    office: &str,
) -> Result<Arc<Process>, Problem> {
    let all: Vec<RegulationInfo> = state
        .store
        .regulations()
        .await?
        .into_iter()
        .filter(|r| r.id == regulation)
        .collect();
    if all.is_empty() {
        return Err(field_error(
            "unknown-regulation",
            "/regulation",
            format!("no regulation `{regulation}` is deployed"),
        ));
    }
    if let Some(v) = version
        && !all.iter().any(|r| r.version == v)
    {
        return Err(field_error(
            "unknown-version",
            "/version",
            format!("regulation `{regulation}` has no deployed version {v}"),
        ));
    }
    let region = match all.last() {
        Some(r) => Some(
            state
                .store
                .process(&r.digest)
                .await?
                .regulation
                .region
                .clone(),
        ),
        None => None,
    };
    let day = registration_day(state, Some(office), region.as_deref());
    let process = match in_force(state, regulation, day).await {
        Ok(Registrable::Process(p)) => p,
        Ok(Registrable::NotInForce(why)) => return Err(why.problem("/regulation")),
        Err(StoreError::UnknownRegulation(_)) => {
            return Err(field_error(
                "unknown-regulation",
                "/regulation",
                format!("no regulation `{regulation}` is deployed"),
            ));
        }
        Err(e) => return Err(e.into()),
    };
    match version {
        Some(v) if v != process.version() => Err(field_error(
            "regulation-not-in-force",
            "/version",
            format!(
                "version {v} of regulation `{regulation}` is not in force on {day}; version {} is",
                process.version()
            ),
        )),
        _ => Ok(process),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    #[test]
    fn a_refusal_names_the_act_and_the_days_in_every_language() {
        let why = NotInForce {
            regulation: "atyrau-x".into(),
            day: d("2026-05-02"),
            ended: Some(Ended {
                version: 2,
                until: d("2026-05-01"),
                act: Some("Постановление № 99".into()),
            }),
            next: None,
        };
        let detail = why.detail();
        assert!(
            detail.contains("Постановление № 99") && detail.contains("2026-05-01"),
            "{detail}"
        );
        for lang in [Lang::Kk, Lang::Ru, Lang::En] {
            let said = why.say(lang);
            assert!(
                said.contains("Постановление № 99") && said.contains("2026-05-01"),
                "{said}"
            );
            assert!(!said.contains('{'), "{said}");
        }
        assert_ne!(why.say(Lang::Ru), why.say(Lang::En));
        let not_yet = NotInForce {
            regulation: "atyrau-x".into(),
            day: d("2026-03-31"),
            ended: None,
            next: Some((1, d("2026-04-01"))),
        };
        assert!(not_yet.detail().contains("takes effect on 2026-04-01"));
        for lang in [Lang::Kk, Lang::Ru, Lang::En] {
            assert!(not_yet.say(lang).contains("2026-04-01"));
        }
        let ended = NotInForce {
            ended: Some(Ended {
                version: 1,
                until: d("2026-07-01"),
                act: None,
            }),
            ..not_yet
        };
        assert!(
            ended.say(Lang::En).contains("2026-06-30"),
            "{}",
            ended.say(Lang::En)
        );
    }
}
