//! The daily digest of an office's overdue tasks: once per working day of the office, at its
//! opening, each user who chose it gets one e-mail in their language listing the office's
//! open tasks whose due instant has passed (registration number, step, role, due instant in
//! office time, how late).
//!
//! Who gets it: the users with a role at the office itself (a grant for every office is an
//! auditor's or an administrator's, who do not run the office) who chose `digest` in their
//! settings (it is `off` unless chosen). A head of the office sees every overdue task of the
//! office; anyone else those of the roles they hold there, which is the queue they answer
//! for. A recipient with nothing overdue gets nothing.
//!
//! When: the first round of the notification worker within the office's open hours of a day
//! the office's calendar says it works (none on weekends and holidays). A server that was
//! down at the opening makes the day's digest when it comes back, if the office is still
//! open; after closing, the day is skipped, and the next opening lists what is still late.
//!
//! Never twice: a digest notice names its office and day, unique with its recipient
//! (migration `1004_digests`), and the office-day is recorded as done in the transaction
//! that makes its notices, even when nothing was overdue. A restart later that day, or a
//! second server on the same database, finds it done; two servers making it at once write
//! one notice per recipient between them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use reglament_calendar::Office;
use reglament_calendar::OfficeClock;
use reglament_model::compile::Process;
use reglament_store::rows::{instant, micros};
use reglament_store::side::SqlArg as Arg;
use sha2::Digest as _;

use super::NotifyError;
use super::tables::{self, DIGEST, Mode, Notice};
use super::texts::{self, DigestLine};
use crate::auth::policy::HEAD;
use crate::state::AppState;

/// Tasks listed in one e-mail; the rest are counted ("and 12 more") and the inbox has them.
pub const MAX_LINES: usize = 100;

/// Makes the digests due now; returns the notices made.
pub async fn run(state: &AppState) -> Result<usize, NotifyError> {
    let now = state.now();
    let open: Vec<(&Office, String)> = state
        .calendars
        .offices()
        .filter_map(|o| open_day(&o.clock, now).map(|day| (o, day)))
        .collect();
    if open.is_empty() {
        return Ok(0);
    }
    let days: Vec<String> = open.iter().map(|(_, d)| d.clone()).collect();
    let done = tables::digest_days(&state.store, &days).await?;
    let mut made = 0;
    for (office, day) in open {
        let id = office.data.id.as_str();
        if done.contains(&(id.to_string(), day.clone())) {
            continue;
        }
        let notices = match plan(state, office, &day, now).await {
            Ok(n) => n,
            Err(error) => {
                // Not recorded as done: the next round tries again.
                tracing::error!(office = id, %day, %error, "digest: cannot plan");
                continue;
            }
        };
        let mut statements: Vec<_> = notices.iter().map(tables::insert_notice).collect();
        statements.push(tables::digest_day_done(
            id,
            &day,
            micros(now),
            notices.len(),
        ));
        let changed = state.store.write_side(statements).await?;
        let n = changed[..notices.len()].iter().filter(|c| **c == 1).count();
        tracing::info!(office = id, %day, notices = n, "digest of overdue tasks made");
        made += n;
    }
    Ok(made)
}

/// The office-local day (`YYYY-MM-DD`) when `now` falls between the office's opening and
/// closing on a day it works; `None` outside them, on a day off, or beyond its calendar.
pub fn open_day(clock: &OfficeClock, now: DateTime<Utc>) -> Option<String> {
    let date = clock.to_local(now).date_naive();
    let (opening, closing) = hours(clock, date)?;
    (opening <= now && now < closing).then(|| date.format("%Y-%m-%d").to_string())
}

/// The opening and the closing instants of `date` (the first range's start, the last one's
/// end: a lunch break does not make a second opening).
fn hours(clock: &OfficeClock, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let ranges = clock.open_hours(date).ok()?;
    let (first, last) = (ranges.first()?, ranges.last()?);
    let at = |minutes: u32| {
        let local =
            date.and_time(chrono::NaiveTime::MIN) + chrono::Duration::minutes(i64::from(minutes));
        clock
            .zone()
            .from_local_datetime(&local)
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    Some((at(first.start.minutes())?, at(last.end.minutes())?))
}

/// An overdue task as the projection has it.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Overdue {
    case_id: String,
    task: i64,
    step: String,
    role: String,
    due: i64,
    digest: String,
}

/// The digests of one office-day: one notice per recipient with something overdue.
async fn plan(
    state: &AppState,
    office: &Office,
    day: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Notice>, NotifyError> {
    let id = office.data.id.as_str();
    // Recipients first: most offices have nobody who asked, and then nothing is read.
    let mut roles: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (login, role) in tables::office_staff(&state.store, id).await? {
        roles.entry(login).or_default().insert(role);
    }
    // Whoever acts for someone of the office today holds the rule's roles here too.
    for rule in crate::deputies::in_force_at(&state.store, id, now).await? {
        let held = roles.entry(rule.deputy.clone()).or_default();
        held.extend(rule.roles().map(str::to_string));
    }
    let mut recipients = Vec::new();
    for (login, held) in roles {
        let profile = tables::profile(&state.store, &login).await?;
        if profile.mode(DIGEST) == Mode::Off {
            continue;
        }
        if let Some(email) = profile.email.clone() {
            recipients.push((login, held, email, profile.language));
        }
    }
    if recipients.is_empty() {
        return Ok(Vec::new());
    }
    // Open or claimed, not suspended (a suspended task's time is stopped), due before now; a
    // task without a time limit has the largest due and never is.
    let tasks: Vec<Overdue> = state
        .store
        .read_side(
            "SELECT t.case_id, t.task, t.step, t.role, t.due, c.digest FROM tasks t \
             JOIN cases c ON c.case_id = t.case_id \
             WHERE t.office = $1 AND t.status IN ('open', 'claimed') \
             AND t.suspended_since IS NULL AND t.due < $2 \
             ORDER BY t.due, t.case_id, t.task",
            vec![Arg::Text(id.to_string()), Arg::Int(micros(now))],
        )
        .await?;
    if tasks.is_empty() {
        return Ok(Vec::new());
    }
    let mut processes: HashMap<String, Option<Arc<Process>>> = HashMap::new();
    for t in &tasks {
        if !processes.contains_key(&t.digest) {
            let p = state.store.process(&t.digest).await.ok();
            processes.insert(t.digest.clone(), p);
        }
    }
    let clock = &office.clock;
    let mut out = Vec::new();
    for (login, held, email, lang) in recipients {
        let head = held.contains(HEAD);
        let mine: Vec<&Overdue> = tasks
            .iter()
            .filter(|t| head || held.contains(&t.role))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let lines = mine
            .iter()
            .take(MAX_LINES)
            .map(|t| {
                let process = processes.get(&t.digest).and_then(|p| p.as_deref());
                let due = instant(t.due);
                DigestLine {
                    case: t.case_id.clone(),
                    task: u32::try_from(t.task).unwrap_or(0),
                    step: crate::web::inbox::step_name(process, &t.step, lang),
                    role: crate::web::inbox::role_name(process, &t.role, lang),
                    due: clock.to_local(due).format("%Y-%m-%d %H:%M").to_string(),
                    late_minutes: (now - due).num_minutes(),
                }
            })
            .collect();
        let facts = texts::Digest {
            office: office.data.name.get(lang).to_string(),
            day: day.to_string(),
            lines,
            more: mine.len().saturating_sub(MAX_LINES),
            link: format!("/inbox?office={id}&overdue=on"),
        };
        let (subject, body) = texts::digest(lang, &facts);
        let at = micros(now);
        out.push(Notice {
            id: notice_id(id, day, &login),
            outbox_id: 0,
            case_id: String::new(),
            kind: DIGEST.to_string(),
            channel: "email".to_string(),
            recipient: login,
            target: email,
            language: lang.code().to_string(),
            subject,
            body,
            created_at: at,
            not_before: at,
            status: "pending".to_string(),
            attempts: 0,
            last_error: None,
            next_at: at,
            delivered_at: None,
            digest_office: Some(id.to_string()),
            digest_day: Some(day.to_string()),
        });
    }
    Ok(out)
}

/// The stable id of a digest notice: its day, office and recipient (hashed, plain ASCII for
/// the Message-ID), so every node makes the same one.
pub fn notice_id(office: &str, day: &str, login: &str) -> String {
    let h = sha2::Sha256::digest(format!("digest\n{office}\n{login}").as_bytes());
    let hex: String = h.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("d{}-e-{hex}", day.replace('-', ""))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> OfficeClock {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../regulations");
        let calendars = reglament_calendar::Calendars::load(&dir).expect("calendars");
        calendars
            .clock(Some("atyrau-city-ozsp"))
            .expect("the office")
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("instant").to_utc()
    }

    #[test]
    fn an_office_day_is_open_from_opening_to_closing_on_working_days_only() {
        let c = clock();
        // Wednesday 29 April 2026, Atyrau (+05), open 09:00-18:00 with lunch 13:00-14:00.
        assert_eq!(open_day(&c, at("2026-04-29T08:59:59+05:00")), None);
        let day = Some("2026-04-29".to_string());
        assert_eq!(open_day(&c, at("2026-04-29T09:00:00+05:00")), day);
        assert_eq!(open_day(&c, at("2026-04-29T13:30:00+05:00")), day);
        assert_eq!(open_day(&c, at("2026-04-29T17:59:59+05:00")), day);
        assert_eq!(open_day(&c, at("2026-04-29T18:00:00+05:00")), None);
        // 1 May (Unity Day, a Friday) and Saturday 2 May: no opening.
        assert_eq!(open_day(&c, at("2026-05-01T10:00:00+05:00")), None);
        assert_eq!(open_day(&c, at("2026-05-02T10:00:00+05:00")), None);
        // The local day, not UTC's: 00:30 UTC on Monday 4 May is 05:30 local, before opening;
        // 04:00 UTC is 09:00 local.
        assert_eq!(
            open_day(&c, at("2026-05-04T04:00:00Z")),
            Some("2026-05-04".into())
        );
    }

    #[test]
    fn digest_ids_are_stable_per_office_day_and_recipient() {
        let a = notice_id("o1", "2026-04-29", "ivanov");
        assert_eq!(a, notice_id("o1", "2026-04-29", "ivanov"));
        assert!(a.starts_with("d20260429-e-"), "{a}");
        assert_ne!(a, notice_id("o2", "2026-04-29", "ivanov"));
        assert_ne!(a, notice_id("o1", "2026-04-30", "ivanov"));
        assert_ne!(a, notice_id("o1", "2026-04-29", "petrov"));
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    }
}
