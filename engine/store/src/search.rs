//! Finding a case: by registration number (a prefix of the case id), the applicant's ИИН
//! (exact) or name (every word asked is the start of a word of the name, in any case and with
//! or without Kazakh letters), and by regulation, status, office, registration and due dates
//! and breach; newest registration first, a page at a time (keyset), only among the cases of
//! the offices the caller may read.
//!
//! The projections it reads (migration 11) are written with the case row, in the append's
//! transaction, whenever what they hold can change (a case's start, a hand-over to another
//! office, a corrected application, a migration) and by `rebuild`: `case_offices` (every
//! office the case has been at: who may read it) and `case_keys` (name words and ИИН). Cases
//! recorded before migration 11 are filled in by [`Store::backfill_search`] when the store is
//! opened.
//!
//! How a query runs, so that it stays one short index walk at a million cases:
//! - with an ИИН, a name or a number, the matching keys are the few candidates; each is
//!   checked against the filters and the caller's offices, and the few left are sorted;
//! - otherwise, for a caller of some offices, each office's cases are one range of
//!   `case_offices_by_office`, newest first, read until a page of cases passing the filters
//!   is found, and the offices' pages are merged;
//! - otherwise (a caller who sees every office) one range of `cases_by_registration` or, for
//!   one regulation, `cases_by_regulation`.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;
use serde_json::Value;

use reglament_model::compile::Process;
use reglament_runtime::{CaseState, Event, EventKind};

use crate::rows::{self, instant, micros};
use crate::side::SqlArg;
use crate::{Backend, BackendKind, Store, StoreError};

/// The kinds of `case_keys`.
pub const NAME: &str = "name";
pub const IIN: &str = "iin";

/// The search rows of one case: where it has been and what it is found by.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchRows {
    pub case_id: String,
    pub registered_at: i64,
    pub offices: Vec<String>,
    /// `(kind, key)`, each once.
    pub keys: Vec<(&'static str, String)>,
}

/// The search rows of a case's state.
pub fn search_rows(state: &CaseState) -> SearchRows {
    let mut keys: BTreeSet<(&'static str, String)> = BTreeSet::new();
    if let Some(name) = state.data.get("full_name").and_then(Value::as_str) {
        keys.extend(words(name).into_iter().map(|w| (NAME, w)));
    }
    if let Some(iin) = iin_of(&state.data) {
        keys.insert((IIN, iin));
    }
    let mut offices: Vec<String> = Vec::new();
    for o in std::iter::once(&state.office).chain(&state.offices) {
        if !offices.iter().any(|x| x == &**o) {
            offices.push(o.to_string());
        }
    }
    SearchRows {
        case_id: state.id.to_string(),
        registered_at: micros(state.registered_at),
        offices,
        keys: keys.into_iter().collect(),
    }
}

fn iin_of(data: &Value) -> Option<String> {
    match data.get("iin")? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Whether these events can change a case's search rows: only they change its application
/// data or the offices it has been at, so every other append leaves the rows as they are.
pub fn changes_search(events: &[Event]) -> bool {
    events.iter().any(|e| {
        matches!(
            e.kind,
            EventKind::CaseStarted { .. }
                | EventKind::CaseHandedOver { .. }
                | EventKind::IncidentResolved { .. }
                | EventKind::CaseMigrated { .. }
        )
    })
}

/// A letter folded for search: lower case, the Kazakh letters as the Russian letters they are
/// written with when a keyboard lacks them, ё as е; the soft and hard signs dropped (`None`),
/// as Kazakh names written in Russian often carry a soft sign their Kazakh spelling has not
/// (Айгуль, Айгүл).
fn fold_char(c: char) -> Option<char> {
    let c = c.to_lowercase().next().unwrap_or(c);
    Some(match c {
        'ә' => 'а',
        'ғ' => 'г',
        'қ' => 'к',
        'ң' => 'н',
        'ө' => 'о',
        'ұ' | 'ү' => 'у',
        'һ' => 'х',
        'і' => 'и',
        'ё' => 'е',
        'ь' | 'ъ' => return None,
        c => c,
    })
}

/// The folded words of a name or of a query: runs of letters and digits, folded; anything
/// else (spaces, hyphens, apostrophes, dots) separates words.
pub fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        if c.is_alphanumeric() {
            word.extend(fold_char(c));
        } else if !word.is_empty() {
            out.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        out.push(word);
    }
    out.sort();
    out.dedup();
    out
}

/// Whose cases a search may return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every case (auditors, administrators).
    All,
    /// The cases that have been at one of these offices.
    Offices(Vec<String>),
}

/// A case's status, as a search asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Open,
    Ended,
    Cancelled,
}

impl StatusFilter {
    fn as_str(self) -> &'static str {
        match self {
            StatusFilter::Open => "open",
            StatusFilter::Ended => "ended",
            StatusFilter::Cancelled => "cancelled",
        }
    }
}

/// A search. Every criterion given must hold; `None` asks nothing.
#[derive(Debug, Clone)]
pub struct CaseSearch {
    /// The start of the registration number (the case id).
    pub number: Option<String>,
    /// The applicant's ИИН, exactly.
    pub iin: Option<String>,
    /// Words each of which starts a word of the applicant's name (folded like names).
    pub name: Option<String>,
    pub regulation: Option<String>,
    pub status: Option<StatusFilter>,
    /// How an ended case ended (`granted`, `refused`, …).
    pub result: Option<String>,
    /// Cases that have been at this office.
    pub office: Option<String>,
    /// Registered at or after.
    pub registered_from: Option<DateTime<Utc>>,
    /// Registered before.
    pub registered_to: Option<DateTime<Utc>>,
    /// Due at or after (cases without a due instant do not match).
    pub due_from: Option<DateTime<Utc>>,
    /// Due before.
    pub due_to: Option<DateTime<Utc>>,
    pub breached: Option<bool>,
    pub scope: Scope,
    /// The `next` cursor of the previous page.
    pub after: Option<String>,
    /// Page size (1 to 1000).
    pub limit: u32,
}

impl CaseSearch {
    /// Every case in `scope`, newest first.
    pub fn new(scope: Scope, limit: u32) -> CaseSearch {
        CaseSearch {
            number: None,
            iin: None,
            name: None,
            regulation: None,
            status: None,
            result: None,
            office: None,
            registered_from: None,
            registered_to: None,
            due_from: None,
            due_to: None,
            breached: None,
            scope,
            after: None,
            limit,
        }
    }
}

/// One case found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundCase {
    pub case: String,
    pub regulation: String,
    pub regulation_version: u32,
    /// Where it was registered.
    pub office: String,
    pub status: String,
    pub result: Option<String>,
    pub applicant: Option<String>,
    pub registered_at: DateTime<Utc>,
    pub due: Option<DateTime<Utc>>,
    pub breached: bool,
}

/// A page of found cases, newest registration first; `next` when there are more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundPage {
    pub items: Vec<FoundCase>,
    pub next: Option<String>,
}

#[derive(Debug, sqlx::FromRow)]
struct FoundRow {
    case_id: String,
    regulation_id: String,
    regulation_version: i64,
    office: String,
    status: String,
    result: Option<String>,
    applicant: Option<String>,
    registered_at: i64,
    due: Option<i64>,
    breached: bool,
}

/// The keyset cursor after a case: its registration instant and id (`s` for search, so an
/// inbox cursor is not taken for one).
fn cursor(registered_at: i64, case: &str) -> String {
    format!("s{registered_at}.{case}")
}

impl FoundCase {
    /// The cursor of the page that follows this case.
    pub fn cursor(&self) -> String {
        cursor(micros(self.registered_at), &self.case)
    }
}

/// Reads a search cursor; `Err(BadCursor)` for anything else.
pub fn parse_cursor(s: &str) -> Result<(i64, String), StoreError> {
    let bad = || StoreError::BadCursor(s.to_string());
    let rest = s.strip_prefix('s').ok_or_else(bad)?;
    let (at, case) = rest.split_once('.').ok_or_else(bad)?;
    let at: i64 = at.parse().map_err(|_| bad())?;
    if case.is_empty() {
        return Err(bad());
    }
    Ok((at, case.to_string()))
}

/// The upper end of the keys that start with `prefix`: no character sorts after U+10FFFF.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

const COLUMNS: &str = "c.case_id, c.regulation_id, c.regulation_version, c.office, c.status, \
    c.result, c.applicant, c.registered_at, c.due, c.breached";

/// The SQL of a search and its values (`$1`… numbered in the order they appear, which is
/// also what SQLite needs of them).
struct Sql {
    backend: BackendKind,
    args: Vec<SqlArg>,
}

impl Sql {
    fn arg(&mut self, a: SqlArg) -> String {
        self.args.push(a);
        format!("${}", self.args.len())
    }

    fn text(&mut self, s: &str) -> String {
        self.arg(SqlArg::Text(s.to_string()))
    }

    fn int(&mut self, i: i64) -> String {
        self.arg(SqlArg::Int(i))
    }

    /// `column` starts with `prefix`, as a range of an index that compares bytes.
    fn starts_with(&mut self, column: &str, prefix: &str, pattern_ops: bool) -> String {
        let (lo, hi) = (self.text(prefix), self.text(&prefix_end(prefix)));
        if pattern_ops && self.backend == BackendKind::Postgres {
            format!("{column} ~>=~ {lo} AND {column} ~<~ {hi}")
        } else {
            format!("{column} >= {lo} AND {column} < {hi}")
        }
    }

    /// The conditions on the case row `c` (without the keys, the offices and the cursor).
    fn filters(&mut self, q: &CaseSearch, out: &mut Vec<String>) {
        if let Some(r) = &q.regulation {
            out.push(format!("c.regulation_id = {}", self.text(r)));
        }
        if let Some(s) = q.status {
            out.push(format!("c.status = {}", self.text(s.as_str())));
        }
        if let Some(r) = &q.result {
            out.push(format!("c.result = {}", self.text(r)));
        }
        if let Some(t) = q.registered_from {
            out.push(format!("c.registered_at >= {}", self.int(micros(t))));
        }
        if let Some(t) = q.registered_to {
            out.push(format!("c.registered_at < {}", self.int(micros(t))));
        }
        if let Some(t) = q.due_from {
            out.push(format!("c.due >= {}", self.int(micros(t))));
        }
        if let Some(t) = q.due_to {
            out.push(format!("c.due < {}", self.int(micros(t))));
        }
        if let Some(b) = q.breached {
            out.push(format!("c.breached = {}", self.arg(SqlArg::Bool(b))));
        }
    }
}

/// After the cursor `(at, case)` in the order `at DESC, case DESC`, written so that the
/// database sees a range of `at`.
fn after_sql(
    s: &mut Sql,
    at_col: &str,
    id_col: &str,
    after: &Option<(i64, String)>,
) -> Option<String> {
    let (at, case) = after.as_ref()?;
    let (a, c) = (s.int(*at), s.text(case));
    Some(format!(
        "{at_col} <= {a} AND ({at_col} < {a} OR {id_col} < {c})"
    ))
}

/// The longest window of due instants read as a range of the due index; a longer one (or one
/// open at an end) is checked case by case in registration order, which finds a page sooner.
pub const DUE_WINDOW: TimeDelta = TimeDelta::days(92);

/// Both ends of the due instants asked, when they are close enough to lead the search.
fn due_window(q: &CaseSearch) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    match (q.due_from, q.due_to) {
        (Some(from), Some(to)) if to > from && to - from <= DUE_WINDOW => Some((from, to)),
        _ => None,
    }
}

/// The offices a search looks in: `None` for every office; an empty list finds nothing.
fn offices_of(q: &CaseSearch) -> Option<Vec<String>> {
    match (&q.scope, &q.office) {
        (Scope::All, None) => None,
        (Scope::All, Some(o)) => Some(vec![o.clone()]),
        (Scope::Offices(list), None) => Some(list.clone()),
        (Scope::Offices(list), Some(o)) => Some(list.iter().filter(|x| *x == o).cloned().collect()),
    }
}

/// The search's SQL and values; `None` when it can find nothing (no office to look in, no
/// word in the name asked).
fn search_sql(
    q: &CaseSearch,
    backend: BackendKind,
) -> Result<Option<(String, Vec<SqlArg>)>, StoreError> {
    let after = q.after.as_deref().map(parse_cursor).transpose()?;
    let offices = offices_of(q);
    if offices.as_ref().is_some_and(Vec::is_empty) {
        return Ok(None);
    }
    let names = q.name.as_deref().map(words).unwrap_or_default();
    if q.name.is_some() && names.is_empty() {
        return Ok(None);
    }
    let limit = i64::from(q.limit.clamp(1, 1000)) + 1;
    let mut s = Sql {
        backend,
        args: Vec::new(),
    };
    let mut conds: Vec<String> = Vec::new();
    // The candidates, when a key narrows them.
    let driver: Option<String> = if let Some(iin) = &q.iin {
        let k = s.text(iin);
        Some(format!(
            "SELECT case_id FROM case_keys WHERE kind = '{IIN}' AND key = {k}"
        ))
    } else if !names.is_empty() {
        // Each word's cases, intersected in the index before a case row is read.
        let parts: Vec<String> = names
            .iter()
            .map(|w| {
                let range = s.starts_with("key", w, false);
                format!("SELECT case_id FROM case_keys WHERE kind = '{NAME}' AND {range}")
            })
            .collect();
        Some(parts.join(" INTERSECT "))
    } else if let Some(n) = &q.number {
        let range = s.starts_with("case_id", n, true);
        Some(format!("SELECT case_id FROM cases WHERE {range}"))
    } else if let Some((from, to)) = due_window(q) {
        // A short window of due instants holds few cases; newest-first order over all of a
        // regulation's would read every one of them to find those.
        // Values in the order they appear (see `Sql`).
        Some(match &q.regulation {
            Some(r) => {
                let r = s.text(r);
                let (a, b) = (s.int(micros(from)), s.int(micros(to)));
                format!(
                    "SELECT case_id FROM cases WHERE regulation_id = {r} AND due >= {a} AND due < {b}"
                )
            }
            None => {
                let (a, b) = (s.int(micros(from)), s.int(micros(to)));
                format!("SELECT case_id FROM cases WHERE due >= {a} AND due < {b}")
            }
        })
    } else {
        None
    };
    let sql = if let Some(driver) = driver {
        // With an ИИН leading, the name's words are checked per candidate.
        let checked = if q.iin.is_some() { &names[..] } else { &[] };
        for w in checked {
            let range = s.starts_with("k.key", w, false);
            conds.push(format!(
                "EXISTS (SELECT 1 FROM case_keys k WHERE k.case_id = c.case_id \
                 AND k.kind = '{NAME}' AND {range})"
            ));
        }
        if let (Some(n), true) = (&q.number, q.iin.is_some() || !names.is_empty()) {
            conds.push(s.starts_with("c.case_id", n, true));
        }
        s.filters(q, &mut conds);
        if let Some(list) = &offices {
            let ps: Vec<String> = list.iter().map(|o| s.text(o)).collect();
            conds.push(format!(
                "EXISTS (SELECT 1 FROM case_offices o WHERE o.case_id = c.case_id \
                 AND o.office IN ({}))",
                ps.join(", ")
            ));
        }
        conds.extend(after_sql(&mut s, "c.registered_at", "c.case_id", &after));
        let l = s.int(limit);
        // CROSS JOIN: SQLite takes the candidates first, whatever it guesses of their number.
        format!(
            "SELECT {COLUMNS} FROM ({driver}) AS d CROSS JOIN cases c \
             WHERE c.case_id = d.case_id{} \
             ORDER BY c.registered_at DESC, c.case_id DESC LIMIT {l}",
            conds
                .iter()
                .map(|c| format!(" AND {c}"))
                .collect::<String>()
        )
    } else if let Some(list) = offices {
        let l = s.int(limit);
        let mut parts = Vec::with_capacity(list.len());
        for office in &list {
            let o = s.text(office);
            let mut w = vec![
                format!("o.office = {o}"),
                "c.case_id = o.case_id".to_string(),
            ];
            if let Some(t) = q.registered_from {
                w.push(format!("o.registered_at >= {}", s.int(micros(t))));
            }
            if let Some(t) = q.registered_to {
                w.push(format!("o.registered_at < {}", s.int(micros(t))));
            }
            w.extend(after_sql(&mut s, "o.registered_at", "o.case_id", &after));
            let mut f = Vec::new();
            s.filters(
                &CaseSearch {
                    registered_from: None,
                    registered_to: None,
                    ..q.clone()
                },
                &mut f,
            );
            w.extend(f);
            parts.push(format!(
                "SELECT * FROM (SELECT o.case_id FROM case_offices o CROSS JOIN cases c \
                 WHERE {} ORDER BY o.registered_at DESC, o.case_id DESC LIMIT {l}) AS p{}",
                w.join(" AND "),
                parts.len()
            ));
        }
        format!(
            "SELECT {COLUMNS} FROM cases c WHERE c.case_id IN ({}) \
             ORDER BY c.registered_at DESC, c.case_id DESC LIMIT {l}",
            parts.join(" UNION ALL ")
        )
    } else {
        s.filters(q, &mut conds);
        conds.extend(after_sql(&mut s, "c.registered_at", "c.case_id", &after));
        let l = s.int(limit);
        let w = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        format!(
            "SELECT {COLUMNS} FROM cases c{w} ORDER BY c.registered_at DESC, c.case_id DESC LIMIT {l}"
        )
    };
    Ok(Some((sql, s.args)))
}

impl Store {
    /// A page of the cases a search finds, newest registration first.
    pub async fn search_cases(&self, q: &CaseSearch) -> Result<FoundPage, StoreError> {
        let Some((sql, args)) = search_sql(q, self.backend())? else {
            return Ok(FoundPage {
                items: Vec::new(),
                next: None,
            });
        };
        let limit = q.limit.clamp(1, 1000) as usize;
        let mut rows: Vec<FoundRow> = match &self.inner.backend {
            Backend::Sqlite(s) => {
                bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), args)
                    .fetch_all(&s.read)
                    .await?
            }
            Backend::Postgres(s) => {
                bind_all!(sqlx::query_as(sqlx::AssertSqlSafe(sql)), args)
                    .fetch_all(&s.pool)
                    .await?
            }
        };
        let more = rows.len() > limit;
        rows.truncate(limit);
        let next = if more {
            rows.last().map(|r| cursor(r.registered_at, &r.case_id))
        } else {
            None
        };
        Ok(FoundPage {
            items: rows
                .into_iter()
                .map(|r| FoundCase {
                    case: r.case_id,
                    regulation: r.regulation_id,
                    regulation_version: r.regulation_version as u32,
                    office: r.office,
                    status: r.status,
                    result: r.result,
                    applicant: r.applicant,
                    registered_at: instant(r.registered_at),
                    due: r.due.map(instant),
                    breached: r.breached,
                })
                .collect(),
            next,
        })
    }

    /// How the database runs a search (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` on
    /// PostgreSQL), one line per step: for checking that it walks the indexes it should.
    pub async fn explain_search(&self, q: &CaseSearch) -> Result<Vec<String>, StoreError> {
        let Some((sql, args)) = search_sql(q, self.backend())? else {
            return Ok(Vec::new());
        };
        let lines = match &self.inner.backend {
            Backend::Sqlite(s) => {
                let rows: Vec<(i64, i64, i64, String)> = bind_all!(
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN QUERY PLAN {sql}"))),
                    args
                )
                .fetch_all(&s.read)
                .await?;
                rows.into_iter().map(|r| r.3).collect()
            }
            Backend::Postgres(s) => {
                let rows: Vec<(String,)> = bind_all!(
                    sqlx::query_as(sqlx::AssertSqlSafe(format!("EXPLAIN {sql}"))),
                    args
                )
                .fetch_all(&s.pool)
                .await?;
                rows.into_iter().map(|r| r.0).collect()
            }
        };
        Ok(lines)
    }

    /// Fills the search rows of the cases recorded before migration 11, a page of cases at a
    /// time (their histories folded again, as `rebuild` does), each page in one transaction
    /// that also takes its cases off `case_search_backfill`. Returns the number of cases.
    pub async fn backfill_search(&self) -> Result<usize, StoreError> {
        const PAGE: i64 = 500;
        let mut processes: HashMap<String, Option<Arc<Process>>> = HashMap::new();
        let mut done = 0;
        loop {
            let ids: Vec<(String,)> = self
                .read_side(
                    "SELECT case_id FROM case_search_backfill ORDER BY case_id LIMIT $1",
                    vec![SqlArg::Int(PAGE)],
                )
                .await?;
            let (Some(first), Some(last)) = (ids.first(), ids.last()) else {
                return Ok(done);
            };
            let events: Vec<rows::EventRow> = self
                .read_side(
                    "SELECT case_id, seq, type, at, actor_user, actor_role, digest, \
                     calendar_version, body, prev_hash, hash FROM events \
                     WHERE case_id >= $1 AND case_id <= $2 \
                     AND case_id IN (SELECT case_id FROM case_search_backfill) \
                     ORDER BY case_id, seq",
                    vec![SqlArg::Text(first.0.clone()), SqlArg::Text(last.0.clone())],
                )
                .await?;
            let wanted: BTreeSet<&str> = ids.iter().map(|i| i.0.as_str()).collect();
            let mut by_case: Vec<(String, Vec<rows::EventRow>)> = Vec::new();
            for e in events {
                if !wanted.contains(e.case_id.as_str()) {
                    continue;
                }
                match by_case.last_mut() {
                    Some((c, list)) if *c == e.case_id => list.push(e),
                    _ => by_case.push((e.case_id.clone(), vec![e])),
                }
            }
            for (_, list) in &by_case {
                for e in list {
                    if !processes.contains_key(&e.digest) {
                        let p = self.process(&e.digest).await.ok();
                        processes.insert(e.digest.clone(), p);
                    }
                }
            }
            let mut statements = Vec::new();
            for (case, list) in &by_case {
                match fold_rows(list, &processes) {
                    Some(r) => statements.extend(write_statements(&r)),
                    None => tracing::warn!(
                        case = case.as_str(),
                        "the history of a case does not fold; it is not found by search \
                         until `reglament db rebuild`"
                    ),
                }
            }
            for (id,) in &ids {
                statements.push((
                    "DELETE FROM case_search_backfill WHERE case_id = $1",
                    vec![SqlArg::Text(id.clone())],
                ));
            }
            self.write_side(statements).await?;
            done += ids.len();
        }
    }
}

fn fold_rows(
    list: &[rows::EventRow],
    processes: &HashMap<String, Option<Arc<Process>>>,
) -> Option<SearchRows> {
    let get = |d: &str| processes.get(d).cloned().flatten();
    let mut state: Option<CaseState> = None;
    for row in list {
        let event: Event = serde_json::from_str(&row.body).ok()?;
        match state.as_mut() {
            Some(s) => s.apply_with(&event, get).ok()?,
            None => state = Some(CaseState::begin(&event, get).ok()?),
        }
    }
    state.as_ref().map(search_rows)
}

/// The statements that make a case's search rows these (offices are only ever added).
pub(crate) fn write_statements(r: &SearchRows) -> Vec<crate::side::Statement> {
    let mut out = vec![(DELETE_KEYS, vec![SqlArg::Text(r.case_id.clone())])];
    for o in &r.offices {
        out.push((
            INSERT_OFFICE,
            vec![
                SqlArg::Text(r.case_id.clone()),
                SqlArg::Text(o.clone()),
                SqlArg::Int(r.registered_at),
            ],
        ));
    }
    for (kind, key) in &r.keys {
        out.push((
            INSERT_KEY,
            vec![
                SqlArg::Text(r.case_id.clone()),
                SqlArg::Text((*kind).to_string()),
                SqlArg::Text(key.clone()),
            ],
        ));
    }
    out
}

pub(crate) const DELETE_KEYS: &str = "DELETE FROM case_keys WHERE case_id = $1";
pub(crate) const INSERT_OFFICE: &str = "INSERT INTO case_offices (case_id, office, registered_at) \
    VALUES ($1, $2, $3) ON CONFLICT (case_id, office) DO NOTHING";
pub(crate) const INSERT_KEY: &str = "INSERT INTO case_keys (case_id, kind, key) \
    VALUES ($1, $2, $3) ON CONFLICT (case_id, kind, key) DO NOTHING";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_across_kazakh_and_russian_spellings() {
        assert_eq!(words("Айгүл Серікқызы"), vec!["айгул", "сериккызы"]);
        assert_eq!(words("АЙГУЛЬ"), vec!["айгул"]);
        assert_eq!(words("Ғалым-Өмір  Ұлы"), vec!["галым", "омир", "улы"]);
        assert_eq!(words("Фёдор Һ."), vec!["федор", "х"]);
        assert_eq!(words(" , "), Vec::<String>::new());
    }

    #[test]
    fn cursors_read_back_and_others_are_refused() {
        let c = cursor(1_700_000_000_000_000, "R-1.2");
        assert_eq!(
            parse_cursor(&c).expect("ours"),
            (1_700_000_000_000_000, "R-1.2".to_string())
        );
        for bad in ["", "s", "s12", "x1.a", "s1.", "sx.a", "170.1.R-1"] {
            assert!(parse_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_scope_narrowed_by_an_office_it_lacks_finds_nothing() {
        let mut q = CaseSearch::new(Scope::Offices(vec!["a".into()]), 10);
        q.office = Some("b".into());
        assert!(search_sql(&q, BackendKind::Sqlite).expect("sql").is_none());
        q.office = Some("a".into());
        assert!(search_sql(&q, BackendKind::Sqlite).expect("sql").is_some());
        let mut q = CaseSearch::new(Scope::All, 10);
        q.name = Some("--".into());
        assert!(search_sql(&q, BackendKind::Sqlite).expect("sql").is_none());
    }
}
