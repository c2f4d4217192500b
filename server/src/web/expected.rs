//! When a case whose regulation states no term for its channel can expect its result.
//!
//! Some regulations give a statutory term only for a part of their channels (North
//! Kazakhstan's social assistance states none for the normal case). Such a case has no legal
//! due date; the pages say so, and show the date its steps' own times lead to, labelled as
//! expected, never as a due date.

use chrono::{DateTime, Utc};
use reglament_model::paths;
use reglament_runtime::CaseState;

use crate::state::AppState;

/// The registration plus the longest path of the case's channel by the regulation's step
/// times, counted on the working calendar of the office where the case was registered.
/// `None` when the case has a statutory due instant, or the path or the calendar gives none.
pub fn expected_result(state: &AppState, st: &CaseState) -> Option<DateTime<Utc>> {
    if st.deadline.is_some() {
        return None;
    }
    let p = &st.process;
    let days = state
        .calendars
        .day_lengths()
        .remove(&p.regulation.region)
        .unwrap_or_default();
    let path = paths::longest_path(p, &st.channel, &days)?;
    let clock = state.calendars.clock(Some(&st.office)).ok()?;
    clock
        .add_working_minutes(st.registered_at, path.minutes)
        .ok()
}
