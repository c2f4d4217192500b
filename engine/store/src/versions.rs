//! When each deployed version of a regulation applies, and which one is in force on a day.
//!
//! A version's own dates give its window ([`Window::of`]): it takes effect on `in_force_from`
//! (else `valid_from`, the decree's date) and stops applying after `valid_to` or from the
//! repeal's day, whichever is earlier. A repeal without a day (the source says «утратил
//! силу» and no more) does not end the window: the day is not known, and refusing every
//! registration on a guess would be worse than registering under the last known version.
//!
//! Versions of one regulation follow one another by their numbers ([`follows`]):
//! - a version takes effect on the same day as the one before it or later; on the same day it
//!   replaces that version (a corrected text of the same act — and what every deployment
//!   without dates does, since versions then share the decree's date);
//! - when the version before it names its end (`valid_to`, a dated repeal), a version that
//!   takes effect later must take effect exactly on that day: a later day leaves days under
//!   no version (a gap), an earlier one leaves two versions claiming the same days (an
//!   overlap);
//! - otherwise the earlier version applies until the later one takes effect.
//!
//! So the version in force on a day is the newest version that took effect on or before it,
//! if its own window has not ended ([`Store::in_force`]). The window is kept beside each
//! deployed version (`regulations.effective_from`, `effective_to`, migration 7) with an index
//! for that question; rows deployed before the migration get theirs from their source when
//! the store is migrated ([`Store::backfill_windows`]).

use chrono::{Days, NaiveDate};
use serde::Serialize;

use crate::side::SqlArg;
use crate::{Store, StoreError};
use reglament_model::model::Regulation;

/// The days a version applies by its own dates: from `from` to the day before `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    /// The first day it applies: `in_force_from`, else `valid_from`.
    pub from: NaiveDate,
    /// The first day it no longer applies, when its source names one: the day after
    /// `valid_to`, or the repeal's day, whichever is earlier.
    pub until: Option<NaiveDate>,
}

impl Window {
    /// The window a regulation's dates give.
    pub fn of(reg: &Regulation) -> Window {
        let after_valid_to = reg.valid_to.and_then(|d| d.checked_add_days(Days::new(1)));
        let repealed = reg.repealed.as_ref().and_then(|r| r.date);
        let until = match (after_valid_to, repealed) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Window {
            from: reg.in_force_from.unwrap_or(reg.valid_from),
            until,
        }
    }

    /// Whether the version's own dates cover `day`.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && self.until.is_none_or(|u| day < u)
    }

    /// The last day it applies, when it has an end.
    pub fn last_day(&self) -> Option<NaiveDate> {
        self.until.and_then(|u| u.checked_sub_days(Days::new(1)))
    }
}

/// Why a version cannot follow the deployed version before it; each names both versions and
/// their days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Succession {
    #[error(
        "version {version} takes effect on {from}, before version {previous}, which takes effect on {previous_from}; a later version must take effect on the same day or later"
    )]
    Earlier {
        previous: u32,
        previous_from: NaiveDate,
        version: u32,
        from: NaiveDate,
    },
    #[error(
        "version {previous} applies until {previous_last} and version {version} takes effect only on {from}: no version would apply from {until} to the day before {from}; version {version} must take effect on {until}"
    )]
    Gap {
        previous: u32,
        previous_last: NaiveDate,
        until: NaiveDate,
        version: u32,
        from: NaiveDate,
    },
    #[error(
        "version {previous} applies until {previous_last} by its own dates and version {version} takes effect on {from}: both would apply from {from} to {previous_last}; version {version} must take effect on {until}, or version {previous} must end the day before {from}"
    )]
    Overlap {
        previous: u32,
        previous_last: NaiveDate,
        until: NaiveDate,
        version: u32,
        from: NaiveDate,
    },
}

/// Whether version `next` (with its window) may follow version `previous`, the newest one
/// deployed before it (see the module's rules).
pub fn follows(previous: (u32, Window), next: (u32, Window)) -> Result<(), Succession> {
    let ((p, pw), (v, w)) = (previous, next);
    if w.from < pw.from {
        return Err(Succession::Earlier {
            previous: p,
            previous_from: pw.from,
            version: v,
            from: w.from,
        });
    }
    if w.from == pw.from {
        return Ok(());
    }
    match (pw.until, pw.last_day()) {
        (Some(until), Some(previous_last)) if w.from > until => Err(Succession::Gap {
            previous: p,
            previous_last,
            until,
            version: v,
            from: w.from,
        }),
        (Some(until), Some(previous_last)) if w.from < until => Err(Succession::Overlap {
            previous: p,
            previous_last,
            until,
            version: v,
            from: w.from,
        }),
        _ => Ok(()),
    }
}

/// A deployed version and its window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionWindow {
    pub version: u32,
    pub digest: String,
    pub window: Window,
}

/// Which version of a regulation applies on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum InForce {
    /// This version applies.
    Version(VersionWindow),
    /// None does: the newest version that took effect before the day has ended (`ended`),
    /// or none has taken effect yet; `next` is the first version taking effect after the day.
    None {
        ended: Option<VersionWindow>,
        next: Option<VersionWindow>,
    },
}

/// What is in force on `day`, among versions given oldest first: the newest version that took
/// effect on or before the day, unless its own window has ended.
pub fn in_force_among(versions: &[VersionWindow], day: NaiveDate) -> InForce {
    let current = versions.iter().rev().find(|v| v.window.from <= day);
    let next = versions
        .iter()
        .filter(|v| v.window.from > day)
        .min_by_key(|v| (v.window.from, v.version))
        .cloned();
    match current {
        Some(v) if v.window.contains(day) => InForce::Version(v.clone()),
        current => InForce::None {
            ended: current.cloned(),
            next,
        },
    }
}

/// Where a deployed version stands on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// It applies: new registrations start on it.
    InForce,
    /// It takes effect on a later day.
    Scheduled,
    /// A later version took over (or replaced it before it ever applied).
    Superseded,
    /// Its days have ended and no later version applies.
    Ended,
}

/// Each version's status on `day` and the first day it no longer applies (its own end, or
/// the day the next version takes effect), for windows given oldest first. Agrees with
/// [`in_force_among`]: the one `InForce` is the version it picks.
pub fn statuses(windows: &[Window], day: NaiveDate) -> Vec<(Status, Option<NaiveDate>)> {
    windows
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let next = windows.get(i + 1).map(|n| n.from);
            let until = match (w.until, next) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let replaced = until.is_some_and(|u| u <= w.from);
            let later_applies = windows[i + 1..].iter().any(|n| n.from <= day);
            let status = if replaced || (later_applies && until.is_some_and(|u| u <= day)) {
                Status::Superseded
            } else if w.from > day {
                Status::Scheduled
            } else if until.is_some_and(|u| u <= day) {
                Status::Ended
            } else {
                Status::InForce
            };
            (status, until)
        })
        .collect()
}

/// A stored day: ISO `YYYY-MM-DD`. A value that does not read as one (never written by this
/// crate) counts as the first day of the calendar, which is how versions applied before they
/// had windows.
fn day_of(text: Option<&str>) -> NaiveDate {
    text.and_then(|t| t.parse().ok()).unwrap_or(NaiveDate::MIN)
}

fn day_text(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// The stored form of a window: `effective_from`, `effective_to`.
pub(crate) fn window_args(w: &Window) -> [SqlArg; 2] {
    [
        SqlArg::Text(day_text(w.from)),
        SqlArg::OptText(w.until.map(day_text)),
    ]
}

#[derive(sqlx::FromRow)]
struct Row {
    version: i64,
    digest: String,
    effective_from: Option<String>,
    effective_to: Option<String>,
}

/// The window stored in a row's `effective_from` and `effective_to`.
pub(crate) fn window_of_row(from: Option<&str>, until: Option<&str>) -> Window {
    Window {
        from: day_of(from),
        until: until.map(|t| day_of(Some(t))),
    }
}

impl From<Row> for VersionWindow {
    fn from(r: Row) -> Self {
        VersionWindow {
            version: u32::try_from(r.version).unwrap_or(u32::MAX),
            digest: r.digest,
            window: window_of_row(r.effective_from.as_deref(), r.effective_to.as_deref()),
        }
    }
}

impl Store {
    /// Every deployed version of regulation `id` with its window, oldest first (empty when
    /// none is deployed).
    pub async fn windows(&self, id: &str) -> Result<Vec<VersionWindow>, StoreError> {
        let rows: Vec<Row> = self
            .read_side(
                "SELECT version, digest, effective_from, effective_to FROM regulations \
                 WHERE regulation_id = $1 ORDER BY version",
                vec![SqlArg::Text(id.to_string())],
            )
            .await?;
        Ok(rows.into_iter().map(VersionWindow::from).collect())
    }

    /// The version of regulation `id` in force on `day` (a day where the office is: the
    /// caller turns its instant into the office's local date), or why none is.
    /// [`StoreError::UnknownRegulation`] when no version is deployed.
    pub async fn in_force(&self, id: &str, day: NaiveDate) -> Result<InForce, StoreError> {
        // The common answer in one indexed look-up: the newest version that took effect by
        // the day (`regulations_in_force`).
        let current: Vec<Row> = self
            .read_side(
                "SELECT version, digest, effective_from, effective_to FROM regulations \
                 WHERE regulation_id = $1 AND effective_from <= $2 \
                 ORDER BY version DESC LIMIT 1",
                vec![SqlArg::Text(id.to_string()), SqlArg::Text(day_text(day))],
            )
            .await?;
        if let Some(v) = current.into_iter().next().map(VersionWindow::from)
            && v.window.contains(day)
        {
            return Ok(InForce::Version(v));
        }
        // None applies: say why from every version (a refusal, so rare and never hot).
        let all = self.windows(id).await?;
        if all.is_empty() {
            return Err(StoreError::UnknownRegulation(id.to_string()));
        }
        Ok(in_force_among(&all, day))
    }

    /// Gives every deployed version that has no window yet (deployed before migration 7) the
    /// one its source states; returns how many were given one. A stored source that no longer
    /// reads keeps applying from the first day, as it did before versions had windows.
    pub async fn backfill_windows(&self) -> Result<usize, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Missing {
            digest: String,
            source: String,
        }
        let missing: Vec<Missing> = self
            .read_side(
                "SELECT digest, source FROM regulations WHERE effective_from IS NULL",
                Vec::new(),
            )
            .await?;
        if missing.is_empty() {
            return Ok(0);
        }
        let statements = missing
            .iter()
            .map(|m| {
                let window = match reglament_model::load::load_str(&m.source, "stored.yaml") {
                    Ok(loaded) => Window::of(&loaded.regulation),
                    Err(_) => {
                        tracing::warn!(
                            digest = m.digest,
                            "a stored regulation does not read; it applies from the first day"
                        );
                        Window {
                            from: NaiveDate::MIN,
                            until: None,
                        }
                    }
                };
                let [from, until] = window_args(&window);
                (
                    "UPDATE regulations SET effective_from = $1, effective_to = $2 WHERE digest = $3",
                    vec![from, until, SqlArg::Text(m.digest.clone())],
                )
            })
            .collect();
        self.write_side(statements).await?;
        Ok(missing.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    fn w(from: &str, until: Option<&str>) -> Window {
        Window {
            from: d(from),
            until: until.map(d),
        }
    }

    fn v(version: u32, window: Window) -> VersionWindow {
        VersionWindow {
            version,
            digest: format!("d{version}"),
            window,
        }
    }

    #[test]
    fn a_window_comes_from_the_regulations_dates() {
        let text = reglament_testkit::fixtures::REGISTER_REVIEW;
        let mut reg = reglament_model::load::load_str(text, "t.yaml")
            .expect("fixture loads")
            .regulation;
        reg.valid_from = d("2026-01-10");
        assert_eq!(Window::of(&reg), w("2026-01-10", None));
        reg.in_force_from = Some(d("2026-01-20"));
        reg.valid_to = Some(d("2026-06-30"));
        assert_eq!(Window::of(&reg), w("2026-01-20", Some("2026-07-01")));
        reg.repealed = Some(reglament_model::model::Repeal {
            text: "Утратил силу".into(),
            date: Some(d("2026-05-01")),
            act: None,
            url: None,
        });
        assert_eq!(Window::of(&reg), w("2026-01-20", Some("2026-05-01")));
        // A repeal without its day does not end the window.
        reg.valid_to = None;
        reg.repealed.as_mut().expect("set").date = None;
        assert_eq!(Window::of(&reg), w("2026-01-20", None));
    }

    #[test]
    fn versions_follow_in_order_without_gaps_or_overlaps() {
        let open = w("2026-01-01", None);
        // Same day: the later version replaces the earlier (deployments without dates).
        assert_eq!(follows((1, open), (2, open)), Ok(()));
        assert_eq!(
            follows((1, w("2026-01-01", Some("2030-01-01"))), (2, open)),
            Ok(())
        );
        // A later day: the earlier applies until then.
        assert_eq!(follows((1, open), (2, w("2026-03-01", None))), Ok(()));
        // An earlier day is refused, with both days.
        let e = follows((1, open), (2, w("2025-12-31", None))).expect_err("earlier");
        assert!(matches!(e, Succession::Earlier { .. }));
        assert!(e.to_string().contains("2025-12-31") && e.to_string().contains("2026-01-01"));
        // An ended version: the next must start on its end.
        let ended = w("2026-01-01", Some("2026-07-01"));
        assert_eq!(follows((1, ended), (2, w("2026-07-01", None))), Ok(()));
        let gap = follows((1, ended), (2, w("2026-08-01", None))).expect_err("gap");
        assert_eq!(
            gap,
            Succession::Gap {
                previous: 1,
                previous_last: d("2026-06-30"),
                until: d("2026-07-01"),
                version: 2,
                from: d("2026-08-01"),
            }
        );
        assert!(gap.to_string().contains("2026-06-30"), "{gap}");
        let overlap = follows((1, ended), (2, w("2026-06-01", None))).expect_err("overlap");
        assert!(matches!(overlap, Succession::Overlap { .. }), "{overlap}");
    }

    #[test]
    fn the_version_in_force_is_the_newest_that_took_effect_and_has_not_ended() {
        let versions = [
            v(1, w("2026-01-01", None)),
            v(2, w("2026-01-01", None)),
            v(3, w("2026-03-01", Some("2026-07-01"))),
        ];
        let at = |day| in_force_among(&versions, d(day));
        assert_eq!(
            at("2025-12-31"),
            InForce::None {
                ended: None,
                next: Some(versions[0].clone())
            }
        );
        assert_eq!(at("2026-01-01"), InForce::Version(versions[1].clone()));
        assert_eq!(at("2026-02-28"), InForce::Version(versions[1].clone()));
        assert_eq!(at("2026-03-01"), InForce::Version(versions[2].clone()));
        assert_eq!(at("2026-06-30"), InForce::Version(versions[2].clone()));
        assert_eq!(
            at("2026-07-01"),
            InForce::None {
                ended: Some(versions[2].clone()),
                next: None
            }
        );
        // The statuses agree, day by day.
        let windows: Vec<Window> = versions.iter().map(|v| v.window).collect();
        let st = |day| {
            statuses(&windows, d(day))
                .into_iter()
                .map(|(s, _)| s)
                .collect::<Vec<_>>()
        };
        use Status::{Ended, Scheduled, Superseded};
        assert_eq!(st("2025-12-31"), [Superseded, Scheduled, Scheduled]);
        assert_eq!(st("2026-02-28"), [Superseded, Status::InForce, Scheduled]);
        assert_eq!(st("2026-03-01"), [Superseded, Superseded, Status::InForce]);
        assert_eq!(st("2026-07-01"), [Superseded, Superseded, Ended]);
        assert_eq!(
            statuses(&windows, d("2026-02-28"))
                .into_iter()
                .map(|(_, u)| u)
                .collect::<Vec<_>>(),
            [
                Some(d("2026-01-01")),
                Some(d("2026-03-01")),
                Some(d("2026-07-01"))
            ]
        );
        for day in [
            "2025-12-31",
            "2026-01-01",
            "2026-03-01",
            "2026-06-30",
            "2026-07-01",
        ] {
            let picked = match at(day) {
                InForce::Version(v) => Some(v.version),
                InForce::None { .. } => None,
            };
            let marked = statuses(&windows, d(day))
                .iter()
                .position(|(s, _)| *s == Status::InForce)
                .map(|i| versions[i].version);
            assert_eq!(picked, marked, "{day}");
        }
    }
}
