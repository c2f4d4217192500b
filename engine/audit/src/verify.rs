//! Checking every hash chain in the database at the speed of a sequential scan.
//!
//! [`reglament_store::verify::verify_case`] is the authority on what is wrong with a case and
//! which event is the first bad one. It re-encodes every event (parse, sort keys, print) to
//! recompute its hash, which is the right thing to do once but too slow for tens of millions
//! of events. Here each event first goes through a fast path that accepts exactly the events
//! the authority accepts:
//!
//! 1. the stored body is already canonical text (checked by a scanner that allocates nothing,
//!    [`is_canonical`]), so the hash can be computed over the stored bytes as they are;
//! 2. the hash over the record computed that way equals the stored hash, and the event links
//!    to its predecessor's hash at the next `seq`;
//! 3. the columns that repeat the body (type, instant, actor) agree with it (read by the same
//!    scanner, without building the event).
//!
//! A case all of whose events pass, in `seq` order, and whose head agrees with the `cases`
//! projection, is intact. Every other case (and every case the projections know but the log
//! does not) is handed to the authority, which names its first bad event. So the fast path
//! only decides *that* a case is intact, never *what* is wrong with it.
//!
//! A record begins with the same bytes for every event of a case (calendar version, case,
//! digest), so the SHA-256 state after them is kept per case and each event hashes only its
//! body and its place.
//!
//! [`verify_all`] reads the log in insertion order — from a SQLite file by a reading thread of
//! its own ([`Store::scan_log_direct`]), from PostgreSQL in pages through sqlx — and
//! [`check_log`] follows the chains on two threads, each taking the cases whose id hashes to
//! it, so that every case's events are still seen in log order by one thread. A case whose
//! rows come out of order is simply checked by the authority.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};
use rustc_hash::FxBuildHasher;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::AuditError;
use super::events::FlatActor;
use reglament_runtime::CaseId;
use reglament_store::canonical::{GENESIS, write_str};
use reglament_store::rows::{EventRow, micros};
use reglament_store::scan::{DirectPage, HeadRow, LogBatch, LogRowRef, ScanError, ScanPage};
use reglament_store::verify::{self as authority, Head, Tamper, TamperKind};
use reglament_store::{Store, VerifyReport};

/// Rows per page of the paged scan (PostgreSQL): large enough that a page's query costs
/// nothing next to its rows, small enough that two pages in flight stay a few megabytes.
pub const SCAN_PAGE: u32 = 8_192;

/// Batches the SQLite reader may run ahead of the checks.
const READ_AHEAD: usize = 4;

/// Threads that follow chains. The machines this runs on have two cores, and the reading
/// thread needs little once the pages are in memory.
const WORKERS: usize = 2;

/// How far [`verify_all`] has got, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Events checked so far.
    pub events: u64,
    /// The log's length as far as it is known without counting (its largest `id`).
    pub total: u64,
    /// Cases seen so far.
    pub cases: u64,
    /// Cases found broken so far by the fast path (each is then checked exactly).
    pub suspects: u64,
}

/// Checks every chain in the database, calling `progress` after each page. The report names
/// the first bad event of each broken case, as [`Store::verify_all`] does.
///
/// Over SQLite the checking runs on the calling thread and one more, blocking the caller for
/// the length of the scan (it is the whole of what an audit run does).
pub async fn verify_all(
    store: &Store,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<VerifyReport, AuditError> {
    let total = store.log_extent().await?;
    let check = match store.scan_log_direct(READ_AHEAD) {
        Some(scan) => {
            let recycler = scan.recycler();
            let mut next = || {
                scan.recv().map(|page| match page {
                    Ok(DirectPage::Events(b)) => Ok(LogPage::Events(Arc::new(b))),
                    Ok(DirectPage::Heads(h)) => Ok(LogPage::Heads(Arc::new(h))),
                    Err(e) => Err(AuditError::from(e)),
                })
            };
            check_log(&mut next, &|b| recycler.recycle(b), total, progress)?
        }
        None => check_paged(store, total, progress).await?,
    };
    if !check.heads_seen && check.events > 0 {
        // Every case has a `cases` row in a healthy store, so no heads at all means the
        // projections are empty: each chain is then checked on its own, as the authority does.
        tracing::warn!("the cases projection is empty; chains are checked without their heads");
    }
    let mut problems = Vec::new();
    for case in &check.suspects {
        if let Err(t) = store.verify_case(&CaseId::new(case)).await? {
            problems.push(t);
        }
    }
    problems.sort_by(|a, b| a.case.cmp(&b.case));
    Ok(VerifyReport {
        cases: check.cases,
        events: check.events,
        problems,
    })
}

/// The paged scan through sqlx (PostgreSQL), on the calling thread.
async fn check_paged(
    store: &Store,
    total: u64,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<LogCheck, AuditError> {
    let mut chains = Chains::default();
    let mut pages = store.scan_log(SCAN_PAGE);
    let mut heads_seen = false;
    while let Some(page) = pages.recv().await {
        match page? {
            ScanPage::Events(rows) => {
                for r in &rows {
                    chains.push(&LogRowRef::of(&r.event));
                }
            }
            ScanPage::Heads(heads) => {
                heads_seen = true;
                for h in heads {
                    chains.head(&h.case_id, h.last_seq, &h.last_hash);
                }
            }
        }
        progress(Progress {
            events: chains.events,
            total: total.max(chains.events),
            cases: chains.tracks.len() as u64,
            suspects: chains.suspects.len() as u64,
        });
    }
    Ok(LogCheck::merge(vec![chains], heads_seen))
}

/// A page of the log for [`check_log`]: rows in `id` order, or heads from the `cases`
/// projection (all heads come after all rows).
#[derive(Debug, Clone)]
pub enum LogPage {
    Events(Arc<LogBatch>),
    Heads(Arc<Vec<HeadRow>>),
}

/// What the fast path made of a whole log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogCheck {
    pub events: u64,
    /// Cases in the log, and cases only the projections know (as the authority counts them).
    pub cases: u64,
    /// The cases for the authority, sorted, each once.
    pub suspects: Vec<String>,
    /// Whether any head was seen (no heads: the projections are empty).
    pub heads_seen: bool,
}

impl LogCheck {
    fn merge(parts: Vec<Chains>, heads_seen: bool) -> LogCheck {
        let mut out = LogCheck {
            events: 0,
            cases: 0,
            suspects: Vec::new(),
            heads_seen,
        };
        for mut c in parts {
            c.suspects.sort();
            c.suspects.dedup();
            out.events += c.events;
            out.cases += c.tracks.len() as u64
                + c.suspects
                    .iter()
                    .filter(|s| !c.tracks.contains_key(s.as_str()))
                    .count() as u64;
            out.suspects.append(&mut c.suspects);
        }
        out.suspects.sort();
        out
    }
}

/// Which of the workers follows a case.
fn worker_of(case: &str) -> usize {
    (FxBuildHasher.hash_one(case) as usize) % WORKERS
}

/// The fast path over a whole log: pages from `next` until it returns `None`, the chains
/// followed on [`WORKERS`] threads (the calling one and more), `progress` called after each
/// page. A batch that no worker needs any more is handed to `recycle`. The first error from
/// `next` stops the check and is returned.
pub fn check_log(
    next: &mut dyn FnMut() -> Option<Result<LogPage, AuditError>>,
    recycle: &(dyn Fn(LogBatch) + Sync),
    total: u64,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<LogCheck, AuditError> {
    let others_cases = AtomicU64::new(0);
    let others_suspects = AtomicU64::new(0);
    std::thread::scope(|s| {
        let mut senders = Vec::with_capacity(WORKERS - 1);
        let mut handles = Vec::with_capacity(WORKERS - 1);
        for part in 1..WORKERS {
            let (tx, rx) = std::sync::mpsc::sync_channel::<LogPage>(READ_AHEAD);
            senders.push(tx);
            let (cases, suspects) = (&others_cases, &others_suspects);
            let spawned = std::thread::Builder::new()
                .name(format!("audit-verify-{part}"))
                .spawn_scoped(s, move || {
                    let mut c = Chains::default();
                    for page in rx {
                        let (before_cases, before_suspects) =
                            (c.tracks.len() as u64, c.suspects.len() as u64);
                        c.page(page, part, recycle);
                        cases.fetch_add(c.tracks.len() as u64 - before_cases, Ordering::Relaxed);
                        suspects.fetch_add(
                            c.suspects.len() as u64 - before_suspects,
                            Ordering::Relaxed,
                        );
                    }
                    c
                })
                .map_err(|e| AuditError::Scan(ScanError::Thread(e)))?;
            handles.push(spawned);
        }
        let mut mine = Chains::default();
        let mut events = 0u64;
        let mut heads_seen = false;
        let mut failed = None;
        while let Some(page) = next() {
            let page = match page {
                Ok(p) => p,
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            };
            match &page {
                LogPage::Events(b) => events += b.len() as u64,
                LogPage::Heads(_) => heads_seen = true,
            }
            // A worker only stops early by panicking, which `join` below passes on.
            for tx in &senders {
                let _ = tx.send(page.clone());
            }
            mine.page(page, 0, recycle);
            progress(Progress {
                events,
                total: total.max(events),
                cases: mine.tracks.len() as u64 + others_cases.load(Ordering::Relaxed),
                suspects: mine.suspects.len() as u64 + others_suspects.load(Ordering::Relaxed),
            });
        }
        drop(senders);
        let mut parts = vec![mine];
        for h in handles {
            match h.join() {
                Ok(c) => parts.push(c),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(LogCheck::merge(parts, heads_seen)),
        }
    })
}

/// Where a case's chain stands while the log is scanned.
struct Track {
    /// The `seq` the next event must have.
    next: i64,
    /// The last event's hash (hex), which the next event must name as `prev_hash`.
    last: [u8; 64],
    /// SHA-256 fed with the case's record prefix (see [`prefix_state`]).
    prefix: Sha256,
    /// Which (digest, calendar version) the prefix was made of, in [`Chains::pinned`].
    pinned: u32,
    /// The fast path failed: the authority decides.
    suspect: bool,
}

/// Pinned (digest, calendar version) pairs are few (regulation versions × calendars); past
/// this many distinct ones, new cases are simply handed to the authority.
const MAX_PINNED: usize = 4_096;

#[derive(Default)]
struct Chains {
    tracks: HashMap<String, Track, FxBuildHasher>,
    /// Distinct (digest, calendar version) pairs of the cases' first events.
    pinned: Vec<(String, String)>,
    /// Cases for the authority, possibly repeated.
    suspects: Vec<String>,
    events: u64,
    hasher: RowHasher,
}

impl Chains {
    /// This worker's share of a page.
    fn page(&mut self, page: LogPage, part: usize, recycle: &(dyn Fn(LogBatch) + Sync)) {
        match &page {
            LogPage::Events(batch) => {
                for row in batch.iter() {
                    if worker_of(row.case_id) == part {
                        self.push(&row);
                    }
                }
            }
            LogPage::Heads(heads) => {
                for h in heads.iter() {
                    if worker_of(&h.case_id) == part {
                        self.head(&h.case_id, h.last_seq, &h.last_hash);
                    }
                }
            }
        }
        // The last worker done with a batch gets it back whole and recycles it.
        if let LogPage::Events(batch) = page
            && let Some(b) = Arc::into_inner(batch)
        {
            recycle(b);
        }
    }

    fn push(&mut self, row: &LogRowRef<'_>) {
        self.events += 1;
        let Chains {
            tracks,
            pinned,
            suspects,
            hasher,
            ..
        } = self;
        match tracks.get_mut(row.case_id) {
            Some(t) => {
                if t.suspect {
                    return;
                }
                let ok = row.seq == t.next
                    && row.prev_hash.as_bytes() == t.last
                    && pinned
                        .get(t.pinned as usize)
                        .is_some_and(|(d, c)| d == row.digest && c == row.calendar_version)
                    && hasher.row_ok_after(&t.prefix, row);
                if ok {
                    t.next += 1;
                    t.last = hex64(row.hash);
                } else {
                    t.suspect = true;
                    suspects.push(row.case_id.to_string());
                }
            }
            None => {
                let pin = pinned
                    .iter()
                    .rposition(|(d, c)| d == row.digest && c == row.calendar_version)
                    .or_else(|| {
                        (pinned.len() < MAX_PINNED).then(|| {
                            pinned.push((row.digest.to_string(), row.calendar_version.to_string()));
                            pinned.len() - 1
                        })
                    });
                let prefix = hasher.prefix(row.calendar_version, row.case_id, row.digest);
                let ok = pin.is_some()
                    && row.seq == 1
                    && row.prev_hash == GENESIS
                    && hasher.row_ok_after(&prefix, row);
                if !ok {
                    suspects.push(row.case_id.to_string());
                }
                tracks.insert(
                    row.case_id.to_string(),
                    Track {
                        next: 2,
                        last: hex64(row.hash),
                        prefix,
                        pinned: pin.map_or(u32::MAX, |p| p as u32),
                        suspect: !ok,
                    },
                );
            }
        }
    }

    fn head(&mut self, case: &str, last_seq: i64, last_hash: &str) {
        match self.tracks.get_mut(case) {
            Some(t) => {
                if !t.suspect && (t.next - 1 != last_seq || t.last != last_hash.as_bytes()) {
                    t.suspect = true;
                    self.suspects.push(case.to_string());
                }
            }
            // The projections know a case the log does not have.
            None => self.suspects.push(case.to_string()),
        }
    }
}

/// A hash as 64 bytes of hex; anything else (which no stored hash should be) as zeros, which
/// no `prev_hash` after the first event can match.
fn hex64(hash: &str) -> [u8; 64] {
    let mut out = [0u8; 64];
    if hash.len() == 64 {
        out.copy_from_slice(hash.as_bytes());
    }
    out
}

/// Checks one case's rows (in `seq` order) against each other and against the head the
/// projections recorded: the fast path, and the authority whenever the fast path is not sure.
/// `Ok(n)` is the number of events checked.
pub fn verify_case_rows(
    case: &str,
    rows: &[EventRow],
    head: Option<&Head>,
) -> Result<usize, Tamper> {
    let Some(first) = rows.first() else {
        // What `Store::verify_case` says of a case without events.
        return match head {
            Some(h) => Err(Tamper {
                case: case.to_string(),
                seq: 1,
                kind: TamperKind::Deleted,
                detail: format!(
                    "the projections know the case with {} event(s); the log has none",
                    h.last_seq
                ),
            }),
            None => Ok(0),
        };
    };
    let mut hasher = RowHasher::default();
    let prefix = hasher.prefix(&first.calendar_version, &first.case_id, &first.digest);
    let mut prev: &str = GENESIS;
    let mut intact = true;
    for (i, row) in rows.iter().enumerate() {
        let ok = row.seq == i as i64 + 1
            && row.prev_hash == prev
            && row.case_id == first.case_id
            && row.digest == first.digest
            && row.calendar_version == first.calendar_version
            && hasher.row_ok_after(&prefix, &LogRowRef::of(row));
        if !ok {
            intact = false;
            break;
        }
        prev = &row.hash;
    }
    if intact && head.is_none_or(|h| h.last_seq == rows.len() as i64 && h.last_hash == prev) {
        return Ok(rows.len());
    }
    authority::verify_case(rows, head)
}

/// Recomputes event hashes over the stored bytes, reusing its buffers.
#[derive(Default)]
pub struct RowHasher {
    buf: String,
}

impl RowHasher {
    /// SHA-256 fed with the part of the record that is the same for every event of a case:
    /// `{"calendar_version":…,"case":…,"digest":…,"event":`, as `canonical::record_text`
    /// writes it (keys in sorted order).
    pub fn prefix(&mut self, calendar_version: &str, case: &str, digest: &str) -> Sha256 {
        let b = &mut self.buf;
        b.clear();
        b.push_str("{\"calendar_version\":");
        push_json_str(calendar_version, b);
        b.push_str(",\"case\":");
        push_json_str(case, b);
        b.push_str(",\"digest\":");
        push_json_str(digest, b);
        b.push_str(",\"event\":");
        let mut h = Sha256::new();
        h.update(b.as_bytes());
        h
    }

    /// Whether the row is exactly what the store writes at its `seq` after its `prev_hash`:
    /// canonical body, matching hash, columns that agree with the body. `false` means "not
    /// sure", never "tampered".
    pub fn row_ok(&mut self, row: &EventRow) -> bool {
        let prefix = self.prefix(&row.calendar_version, &row.case_id, &row.digest);
        self.row_ok_after(&prefix, &LogRowRef::of(row))
    }

    /// [`RowHasher::row_ok`] given the [`RowHasher::prefix`] of the row's own calendar
    /// version, case and digest (the caller has made sure they are the row's).
    pub fn row_ok_after(&mut self, prefix: &Sha256, row: &LogRowRef<'_>) -> bool {
        let Ok(seq) = u64::try_from(row.seq) else {
            return false;
        };
        if row.hash.len() != 64 {
            return false;
        }
        let Some(fields) = scan_canonical(row.body) else {
            return false;
        };
        let mut h = prefix.clone();
        h.update(row.body.as_bytes());
        let b = &mut self.buf;
        b.clear();
        b.push_str(",\"prev_hash\":");
        push_json_str(row.prev_hash, b);
        b.push_str(",\"seq\":");
        b.push_str(itoa(seq, &mut [0u8; 20]));
        b.push_str("}\n");
        h.update(b.as_bytes());
        if !hex_eq(&h.finalize(), row.hash.as_bytes()) {
            return false;
        }
        columns_agree(row, &fields)
    }
}

/// A JSON string exactly as [`write_str`] writes it, without looking at each character when
/// nothing needs escaping (hashes, ids and versions never do).
fn push_json_str(s: &str, out: &mut String) {
    if s.bytes()
        .all(|b| b >= 0x20 && b != b'"' && b != b'\\' && b != 0x7f)
    {
        out.push('"');
        out.push_str(s);
        out.push('"');
    } else {
        write_str(s, out);
    }
}

fn itoa(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[i..]).unwrap_or("0")
}

/// Whether `hex` is the lower-case hex of `bytes`.
fn hex_eq(bytes: &[u8], hex: &[u8]) -> bool {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    hex.len() == bytes.len() * 2
        && bytes.iter().enumerate().all(|(i, b)| {
            hex[2 * i] == DIGITS[usize::from(b >> 4)]
                && hex[2 * i + 1] == DIGITS[usize::from(b & 15)]
        })
}

/// The fields of an event body that its columns repeat, read without building the event.
#[derive(Deserialize)]
struct Repeated<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    at: Cow<'a, str>,
    #[serde(borrow)]
    actor: FlatActor<'a>,
}

/// Whether `kind` is an event type the engine writes ([`reglament_runtime::EventKind::name`]).
fn known_type(kind: &str) -> bool {
    matches!(
        kind,
        "intervened"
            | "case_started"
            | "task_opened"
            | "task_claimed"
            | "task_released"
            | "task_reassigned"
            | "task_completed"
            | "task_cancelled"
            | "branch_taken"
            | "split"
            | "join_arrived"
            | "dispatch_queued"
            | "dispatch_released"
            | "documents_missing"
            | "deadline_breached"
            | "escalation_notified"
            | "case_ended"
            | "case_cancelled"
            | "incident_opened"
            | "incident_resolved"
            | "warnings_scheduled"
            | "deadline_warned"
            | "deadlines_rescheduled"
            | "task_suspended"
            | "task_resumed"
            | "case_handed_over"
            | "case_migrated"
    )
}

/// The type, instant and actor columns say what the body says (as `column_mismatch` of the
/// authority checks them), and the type is one the engine writes. Read from the ranges the
/// canonical scanner found; a value with an escape in it is left to serde to unescape.
fn columns_agree(row: &LogRowRef<'_>, f: &Fields) -> bool {
    let text = |r: Option<(usize, usize)>| r.and_then(|(a, b)| row.body.get(a..b));
    let (Some(kind), Some(at), Some(user), Some(role)) =
        (text(f.kind), text(f.at), text(f.user), text(f.role))
    else {
        return columns_ok(row);
    };
    if f.escaped {
        return columns_ok(row);
    }
    if kind != row.kind || !known_type(kind) {
        return false;
    }
    if user != row.actor_user || role != row.actor_role {
        return false;
    }
    match utc_micros(at) {
        Some(us) => us == row.at,
        None => at_matches(at, row.at),
    }
}

/// [`columns_agree`] by serde, for bodies whose repeated values hold escapes.
fn columns_ok(row: &LogRowRef<'_>) -> bool {
    let Ok(r) = serde_json::from_str::<Repeated<'_>>(row.body) else {
        return false;
    };
    if r.kind != row.kind || !known_type(&r.kind) {
        return false;
    }
    if r.actor.user != row.actor_user || r.actor.role != row.actor_role {
        return false;
    }
    at_matches(&r.at, row.at)
}

/// How chrono's serde reads a `DateTime<Utc>`.
fn at_matches(at: &str, column: i64) -> bool {
    match at.parse::<DateTime<FixedOffset>>() {
        Ok(t) => micros(t.with_timezone(&Utc)) == column,
        Err(_) => false,
    }
}

/// The instant of `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z`, in microseconds (see [`utc_instant`]).
fn utc_micros(s: &str) -> Option<i64> {
    utc_instant(s).map(micros)
}

/// The instant of `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z` — the one form the engine writes — or
/// `None` for any other text (which chrono then reads, if it can). Whatever this accepts,
/// chrono reads as the same instant, for a tenth of the work.
pub(crate) fn utc_instant(s: &str) -> Option<DateTime<Utc>> {
    let b = s.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return None;
    }
    for (i, sep) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')] {
        if b[i] != sep {
            return None;
        }
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let nanos = match b.len() {
        20 => 0,
        n if b[19] == b'.' && (22..=30).contains(&n) => {
            let digits = n - 21;
            num(20, n - 1)? * 10u32.pow(9 - digits as u32)
        }
        _ => return None,
    };
    let second = num(17, 19)?;
    // A leap second is left to chrono.
    if second >= 60 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    let time = NaiveTime::from_hms_nano_opt(num(11, 13)?, num(14, 16)?, second, nanos)?;
    Some(date.and_time(time).and_utc())
}

/// Deeper nesting goes to the authority (serde_json stops at 128 levels).
const MAX_DEPTH: u32 = 100;

/// Whether `text` is exactly what [`reglament_store::canonical::canonical`] prints for the JSON
/// it holds, so that hashing the text as it is gives the canonical hash. Conservative: text
/// with a non-integer or very long number, an escaped object key, or deep nesting is
/// reported as not canonical even when it is (the caller then takes the slow, exact way).
pub fn is_canonical(text: &str) -> bool {
    scan_canonical(text).is_some()
}

/// Where a canonical event body keeps the values its columns repeat: the byte ranges of the
/// string contents (inside the quotes) of `type`, `at`, `actor.user` and `actor.role`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Fields {
    kind: Option<(usize, usize)>,
    at: Option<(usize, usize)>,
    user: Option<(usize, usize)>,
    role: Option<(usize, usize)>,
    /// One of them holds an escape, so its raw bytes are not its text.
    escaped: bool,
}

/// [`is_canonical`], and if so where the repeated fields are (one pass, no allocation).
fn scan_canonical(text: &str) -> Option<Fields> {
    let mut s = Scan {
        b: text.as_bytes(),
        i: 0,
        depth: 0,
        in_actor: false,
        fields: Fields::default(),
    };
    (s.value() && s.i == s.b.len()).then_some(s.fields)
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
    depth: u32,
    /// Inside the value of the top-level `actor`.
    in_actor: bool,
    fields: Fields,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn value(&mut self) -> bool {
        match self.peek() {
            Some(b'{') => self.object(),
            Some(b'[') => self.array(),
            Some(b'"') => self.string().is_some(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => false,
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    /// Integers only, as jq prints them: no `-0`, no leading zeros, at most 18 digits (so
    /// that serde_json reads them as integers and prints them back the same).
    fn number(&mut self) -> bool {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let digits = self.i;
        match self.peek() {
            Some(b'0') => self.i += 1,
            Some(b'1'..=b'9') => {
                while matches!(self.peek(), Some(b'0'..=b'9')) {
                    self.i += 1;
                }
            }
            _ => return false,
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E' | b'0'..=b'9')) {
            return false;
        }
        let n = self.i - digits;
        n <= 18 && !(n == 1 && self.b[digits] == b'0' && digits > start)
    }

    /// A string with only the escapes jq writes. Returns the raw content's range and whether
    /// it holds an escape.
    fn string(&mut self) -> Option<(usize, usize, bool)> {
        self.i += 1;
        let start = self.i;
        let mut escaped = false;
        loop {
            // Most bytes of a string need no look: skip them in a tight loop.
            let rest = self.b.get(self.i..)?;
            self.i += rest
                .iter()
                .position(|&c| c < 0x20 || c == b'"' || c == b'\\' || c == 0x7f)
                .unwrap_or(rest.len());
            let c = self.peek()?;
            match c {
                b'"' => {
                    let end = self.i;
                    self.i += 1;
                    return Some((start, end, escaped));
                }
                b'\\' => {
                    escaped = true;
                    match self.b.get(self.i + 1)? {
                        b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 2,
                        b'u' => {
                            let hex = self.b.get(self.i + 2..self.i + 6)?;
                            if !hex.iter().all(|h| matches!(h, b'0'..=b'9' | b'a'..=b'f')) {
                                return None;
                            }
                            let v = std::str::from_utf8(hex)
                                .ok()
                                .and_then(|h| u32::from_str_radix(h, 16).ok())?;
                            // Only the controls without a short escape, and DEL.
                            let short = matches!(v, 0x08 | 0x09 | 0x0a | 0x0c | 0x0d);
                            if !((v < 0x20 && !short) || v == 0x7f) {
                                return None;
                            }
                            self.i += 6;
                        }
                        _ => return None,
                    }
                }
                0x00..=0x1f | 0x7f => return None,
                _ => self.i += 1,
            }
        }
    }

    fn array(&mut self) -> bool {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return false;
        }
        self.i += 1;
        if self.peek() == Some(b']') {
            self.i += 1;
            self.depth -= 1;
            return true;
        }
        loop {
            if !self.value() {
                return false;
            }
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    self.depth -= 1;
                    return true;
                }
                _ => return false,
            }
        }
    }

    fn object(&mut self) -> bool {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return false;
        }
        self.i += 1;
        if self.peek() == Some(b'}') {
            self.i += 1;
            self.depth -= 1;
            return true;
        }
        let mut prev: Option<(usize, usize)> = None;
        loop {
            if self.peek() != Some(b'"') {
                return false;
            }
            let Some((s, e, escaped)) = self.string() else {
                return false;
            };
            // Keys are compared as bytes; an escaped key's bytes are not its text.
            if escaped {
                return false;
            }
            if let Some((ps, pe)) = prev
                && self.b[ps..pe] >= self.b[s..e]
            {
                return false;
            }
            prev = Some((s, e));
            if self.peek() != Some(b':') {
                return false;
            }
            self.i += 1;
            let bytes = self.b;
            let key = &bytes[s..e];
            let actor = self.depth == 1 && key == b"actor";
            self.in_actor |= actor;
            let value = self.i;
            if !self.value() {
                return false;
            }
            if actor {
                self.in_actor = false;
            }
            let slot = match (self.depth, self.in_actor, key) {
                (1, false, b"type") => Some(&mut self.fields.kind),
                (1, false, b"at") => Some(&mut self.fields.at),
                (2, true, b"user") => Some(&mut self.fields.user),
                (2, true, b"role") => Some(&mut self.fields.role),
                _ => None,
            };
            if let Some(slot) = slot
                && self.b[value] == b'"'
            {
                let content = (value + 1, self.i - 1);
                *slot = Some(content);
                self.fields.escaped |= self.b[content.0..content.1].contains(&b'\\');
            }
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    self.depth -= 1;
                    return true;
                }
                _ => return false,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_strings_are_written_as_the_canonical_writer_writes_them() {
        for text in [
            "",
            "9aae294b1d8b7780",
            "ATY-20260406-ABCDEFGH",
            "Айгүл \"quoted\" back\\slash",
            "tab\there\nnew line\u{1}\u{7f}end",
        ] {
            let (mut fast, mut slow) = (String::new(), String::new());
            push_json_str(text, &mut fast);
            write_str(text, &mut slow);
            assert_eq!(fast, slow, "{text:?}");
        }
    }
    use reglament_store::canonical::{RecordHeader, canonical, event_hash};
    use serde_json::{Value, json};

    #[test]
    fn canonical_text_is_recognised_and_anything_else_is_not() {
        let yes = [
            r#"{"a":1,"b":[true,false,null,"x"],"c":{"d":-5,"e":{}}}"#,
            r#"{"s":"q\"b\\ \b\f\n\r\t \u0001 \u001f \u007f / é 😀"}"#,
            r#"[]"#,
            r#"0"#,
            r#"-7"#,
            r#"123456789012345678"#,
        ];
        for t in yes {
            assert!(is_canonical(t), "{t}");
            let v: Value = serde_json::from_str(t).expect("json");
            assert_eq!(canonical(&v), t, "the scanner and the printer agree");
        }
        let no = [
            r#"{"b":1,"a":2}"#,             // unsorted
            r#"{"a":1,"a":2}"#,             // duplicate key
            r#"{"a": 1}"#,                  // space
            r#"{"a":1.5}"#,                 // a float: not decided here
            r#"{"a":1e3}"#,                 // exponent
            r#"{"a":01}"#,                  // leading zero
            r#"{"a":-0}"#,                  // negative zero
            r#"{"a":"\/"}"#,                // an escape jq does not write
            r#"{"a":"\u00e9"}"#,            // non-ASCII escaped
            r#"{"a":"\u000a"}"#,            // a control with a short escape
            r#"{"a":"\u001F"}"#,            // upper-case hex
            "{\"a\":\"\u{7f}\"}",           // DEL unescaped
            "{\"a\":\"\t\"}",               // a raw control
            r#"{"\u0001":1}"#,              // an escaped key
            r#"{"a":1}x"#,                  // trailing text
            r#"{"a":1234567890123456789}"#, // 19 digits
            r#"{"a":tru}"#,
            r#"{"a":"x}"#,
        ];
        for t in no {
            assert!(!is_canonical(t), "{t}");
        }
        let deep = format!("{}{}", "[".repeat(150), "]".repeat(150));
        assert!(!is_canonical(&deep));
    }

    fn row(case: &str, seq: i64, prev: &str, body: &Value) -> EventRow {
        let body = canonical(body);
        let hash = event_hash(
            RecordHeader {
                case,
                seq: seq as u64,
                prev_hash: prev,
                digest: "d",
                calendar_version: "c",
            },
            &body,
        );
        let e: reglament_runtime::Event = serde_json::from_str(&body).expect("event");
        EventRow {
            case_id: case.to_string(),
            seq,
            kind: e.kind.name().to_string(),
            at: micros(e.at),
            actor_user: e.actor.user.to_string(),
            actor_role: e.actor.role.to_string(),
            digest: "d".into(),
            calendar_version: "c".into(),
            body,
            prev_hash: prev.to_string(),
            hash,
        }
    }

    fn chain(case: &str, n: i64) -> Vec<EventRow> {
        let mut out: Vec<EventRow> = Vec::new();
        for seq in 1..=n {
            let prev = out.last().map_or(GENESIS.to_string(), |r| r.hash.clone());
            let body = json!({
                "type": "task_released", "task": seq,
                "at": format!("2026-03-20T05:{:02}:00Z", seq % 60),
                "actor": {"user": "clerk", "role": "executor"}
            });
            out.push(row(case, seq, &prev, &body));
        }
        out
    }

    /// Every kind the engine writes is taken by the fast path (none goes to the authority
    /// for its type alone), and the authority agrees that the chain is intact.
    #[test]
    fn every_kind_of_event_is_known_to_the_fast_path() {
        let mut rows: Vec<EventRow> = Vec::new();
        for (i, mut kind) in crate::events::tests::every_kind().into_iter().enumerate() {
            if let reglament_runtime::EventKind::CaseStarted { data, .. } = &mut kind {
                // A float is left to the authority (see `is_canonical`).
                *data = json!({"full_name": "Айгүл \"Q\""});
            }
            let e = reglament_runtime::Event {
                at: chrono::DateTime::UNIX_EPOCH + chrono::Duration::minutes(i as i64),
                actor: reglament_runtime::Actor::new("clerk", "executor"),
                kind,
            };
            assert!(known_type(e.kind.name()), "{}", e.kind.name());
            let prev = rows.last().map_or(GENESIS.to_string(), |r| r.hash.clone());
            let body = serde_json::to_value(&e).expect("json");
            rows.push(row("C-9", i as i64 + 1, &prev, &body));
        }
        let mut hasher = RowHasher::default();
        for r in &rows {
            assert!(hasher.row_ok(r), "{}", r.kind);
        }
        assert_eq!(authority::verify_case(&rows, None), Ok(rows.len()));
    }

    #[test]
    fn the_fast_path_accepts_what_the_authority_accepts_and_defers_the_rest() {
        let rows = chain("C-1", 6);
        let mut h = RowHasher::default();
        assert!(rows.iter().all(|r| h.row_ok(r)));
        let head = Head {
            last_seq: 6,
            last_hash: rows[5].hash.clone(),
        };
        assert_eq!(verify_case_rows("C-1", &rows, Some(&head)), Ok(6));
        assert_eq!(authority::verify_case(&rows, Some(&head)), Ok(6));

        // Each kind of damage gets the authority's verdict.
        let mut changed = rows.clone();
        changed[2].body = changed[2].body.replace("clerk", "clerq");
        let mut column = rows.clone();
        column[1].actor_user = "mallory".into();
        let mut deleted = rows.clone();
        deleted.remove(3);
        let mut swapped = rows.clone();
        swapped.swap(3, 4);
        swapped[3].seq = 4;
        swapped[4].seq = 5;
        for (name, bad) in [
            ("changed", changed),
            ("column", column),
            ("deleted", deleted),
            ("swapped", swapped),
        ] {
            let fast = verify_case_rows("C-1", &bad, Some(&head));
            assert!(fast.is_err(), "{name}");
            assert_eq!(fast, authority::verify_case(&bad, Some(&head)), "{name}");
        }
        // The same content, no longer canonical: the stored bytes do not hash to the stored
        // hash, so the fast path is not sure; the authority re-encodes it and accepts it.
        let mut spaced = rows.clone();
        spaced[0].body = spaced[0].body.replacen(':', ": ", 1);
        assert!(!h.row_ok(&spaced[0]));
        assert_eq!(verify_case_rows("C-1", &spaced, Some(&head)), Ok(6));
        assert!(verify_case_rows("C-1", &[], Some(&head)).is_err());
        assert_eq!(verify_case_rows("C-1", &[], None), Ok(0));
    }

    #[test]
    fn the_scan_follows_interleaved_chains_and_flags_what_breaks() {
        let a = chain("A", 5);
        let b = chain("B", 5);
        let mut c = Chains::default();
        for i in 0..5 {
            c.push(&LogRowRef::of(&a[i]));
            c.push(&LogRowRef::of(&b[i]));
        }
        c.head("A", 5, &a[4].hash);
        c.head("B", 4, &b[3].hash); // the projections lag behind: suspect
        c.head("Z", 3, &a[0].hash); // no events: suspect
        assert_eq!(c.events, 10);
        assert_eq!(c.suspects, vec!["B".to_string(), "Z".to_string()]);
        // Out of order is not a verdict, only a referral.
        let mut d = Chains::default();
        d.push(&LogRowRef::of(&a[1]));
        d.push(&LogRowRef::of(&a[0]));
        assert_eq!(d.suspects, vec!["A".to_string()]);
    }

    #[test]
    fn instants_in_the_engines_form_are_read_as_chrono_reads_them() {
        let chrono = |s: &str| {
            s.parse::<DateTime<FixedOffset>>()
                .ok()
                .map(|t| micros(t.with_timezone(&Utc)))
        };
        for s in [
            "2026-04-06T05:00:00Z",
            "2026-04-06T05:00:00.5Z",
            "2026-04-06T05:00:00.123456Z",
            "2026-04-06T05:00:00.123456789Z",
            "2024-02-29T23:59:59Z",
            "1970-01-01T00:00:00Z",
        ] {
            assert_eq!(utc_micros(s), chrono(s), "{s}");
            assert!(utc_micros(s).is_some(), "{s}");
        }
        // Anything else is left to chrono, which reads some of it.
        for s in [
            "2026-04-06T05:00:00+05:00",
            "2026-04-06t05:00:00z",
            "2026-04-06 05:00:00Z",
            "2025-02-29T05:00:00Z",
            "2026-04-06T24:00:00Z",
            "2026-04-06T23:59:60Z",
            "2026-04-06T05:00:00.Z",
            "2026-04-06T05:00:00.1234567891Z",
            "2026-4-06T05:00:00Z",
            "+2026-04-06T05:00:00Z",
            "",
        ] {
            assert_eq!(utc_micros(s), None, "{s}");
        }
    }

    #[test]
    fn the_columns_are_read_where_the_scanner_found_them() {
        let rows = chain("C-1", 3);
        for r in &rows {
            let view = LogRowRef::of(r);
            let f = scan_canonical(&r.body).expect("canonical");
            assert!(columns_agree(&view, &f));
            assert!(columns_ok(&view));
        }
        let base = &rows[0];
        let mut changed = vec![];
        for (kind, user, role, at) in [
            ("task_claimed", "clerk", "executor", base.at),
            ("task_released", "clerq", "executor", base.at),
            ("task_released", "clerk", "head", base.at),
            ("task_released", "clerk", "executor", base.at + 1),
        ] {
            let mut r = base.clone();
            r.kind = kind.into();
            r.actor_user = user.into();
            r.actor_role = role.into();
            r.at = at;
            changed.push(r);
        }
        for r in &changed {
            let view = LogRowRef::of(r);
            let f = scan_canonical(&r.body).expect("canonical");
            assert!(!columns_agree(&view, &f), "{r:?}");
            assert!(!columns_ok(&view), "{r:?}");
        }
        // Escapes in the repeated values: read by serde, with the same verdict.
        let body = json!({
            "type": "task_released", "task": 1, "at": "2026-03-20T05:01:00Z",
            "actor": {"user": "cl\"erk", "role": "exec\tutor"}
        });
        let r = row("C-2", 1, GENESIS, &body);
        let f = scan_canonical(&r.body).expect("canonical");
        assert!(f.escaped);
        assert!(columns_agree(&LogRowRef::of(&r), &f));
        // Nested fields of the same names elsewhere are not the actor's.
        let f = scan_canonical(r#"{"actor":{"role":"r","user":"u"},"at":"x","data":{"role":"no","type":"no"},"type":"t"}"#)
            .expect("canonical");
        let body = r#"{"actor":{"role":"r","user":"u"},"at":"x","data":{"role":"no","type":"no"},"type":"t"}"#;
        let text = |r: Option<(usize, usize)>| r.and_then(|(a, b)| body.get(a..b));
        assert_eq!(
            (text(f.kind), text(f.at), text(f.user), text(f.role)),
            (Some("t"), Some("x"), Some("u"), Some("r"))
        );
    }

    /// The rows of cases `A` to `E` (five events each) interleaved, as batches of `per` rows.
    fn pages(cases: &[Vec<EventRow>], per: usize) -> Vec<LogPage> {
        let mut rows: Vec<&EventRow> = Vec::new();
        for i in 0..cases.iter().map(Vec::len).max().unwrap_or(0) {
            rows.extend(cases.iter().filter_map(|c| c.get(i)));
        }
        let mut out: Vec<LogPage> = rows
            .chunks(per)
            .map(|chunk| {
                let mut b = LogBatch::default();
                for r in chunk {
                    b.push(&LogRowRef::of(r));
                }
                LogPage::Events(Arc::new(b))
            })
            .collect();
        let heads = cases
            .iter()
            .filter_map(|c| c.last())
            .map(|r| HeadRow {
                case_id: r.case_id.clone(),
                last_seq: r.seq,
                last_hash: r.hash.clone(),
            })
            .collect();
        out.push(LogPage::Heads(Arc::new(heads)));
        out
    }

    fn check(pages: Vec<LogPage>) -> LogCheck {
        let mut it = pages.into_iter().map(Ok);
        check_log(&mut || it.next(), &|_| {}, 0, &mut |_| {}).expect("checks")
    }

    #[test]
    fn the_log_is_followed_on_two_threads_and_every_broken_case_is_referred() {
        let ids = ["A", "B", "C", "D", "E", "F", "G", "H"];
        let cases: Vec<Vec<EventRow>> = ids.iter().map(|id| chain(id, 5)).collect();
        assert!(
            ids.iter().any(|c| worker_of(c) == 0) && ids.iter().any(|c| worker_of(c) == 1),
            "the cases are spread over both workers"
        );
        for per in [1, 3, 100] {
            let c = check(pages(&cases, per));
            assert_eq!((c.events, c.cases), (40, 8));
            assert!(c.suspects.is_empty() && c.heads_seen, "{c:?}");
        }
        let mut bad = cases.clone();
        bad[1][2].body = bad[1][2].body.replace("clerk", "clerq"); // B: changed
        bad[2].remove(1); // C: deleted
        bad[3].swap(1, 2); // D: reordered
        bad[4][3].digest = "other".into(); // E: a column of the prefix changed
        let mut forged = bad[5][1].clone(); // F: inserted
        forged.seq = 6;
        bad[5].push(forged);
        let c = check(pages(&bad, 3));
        assert_eq!(c.suspects, vec!["B", "C", "D", "E", "F"]);
        assert_eq!(c.events, 40);
        // A head the log does not have, and a log without heads.
        let mut p = pages(&cases, 4);
        p.push(LogPage::Heads(Arc::new(vec![HeadRow {
            case_id: "Z".into(),
            last_seq: 1,
            last_hash: GENESIS.into(),
        }])));
        let c = check(p);
        assert_eq!((c.suspects.clone(), c.cases), (vec!["Z".to_string()], 9));
        let mut p = pages(&cases, 4);
        p.pop();
        assert!(!check(p).heads_seen);
    }

    #[test]
    fn a_failing_source_stops_the_check() {
        let cases = vec![chain("A", 3)];
        let mut it = pages(&cases, 1)
            .into_iter()
            .map(Ok)
            .take(2)
            .chain(std::iter::once(Err(AuditError::NoSuchCase("x".into()))));
        let r = check_log(&mut || it.next(), &|_| {}, 0, &mut |_| {});
        assert!(matches!(r, Err(AuditError::NoSuchCase(_))));
    }

    #[test]
    fn numbers_are_written_like_the_printer() {
        for n in [0u64, 7, 10, 1234567890, u64::MAX] {
            assert_eq!(itoa(n, &mut [0u8; 20]), n.to_string());
        }
        let d = Sha256::digest(b"x");
        assert!(hex_eq(&d, reglament_store::canonical::hex(&d).as_bytes()));
        assert!(!hex_eq(
            &d,
            reglament_store::canonical::hex(&d)
                .to_uppercase()
                .as_bytes()
        ));
    }
}
