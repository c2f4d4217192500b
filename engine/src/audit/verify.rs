//! Checking every hash chain in the database at the speed of a sequential scan.
//!
//! [`crate::store::verify::verify_case`] is the authority on what is wrong with a case and
//! which event is the first bad one. It re-encodes every event (parse, sort keys, print) to
//! recompute its hash, which is the right thing to do once but too slow for tens of millions
//! of events. Here each event first goes through a fast path that accepts exactly the events
//! the authority accepts:
//!
//! 1. the stored body is already canonical text (checked by a scanner that allocates nothing,
//!    [`is_canonical`]), so the hash can be computed over the stored bytes as they are;
//! 2. the hash over the record computed that way equals the stored hash, and the event links
//!    to its predecessor's hash at the next `seq`;
//! 3. the columns that repeat the body (type, instant, actor) agree with it.
//!
//! A case all of whose events pass, in `seq` order, and whose head agrees with the `cases`
//! projection, is intact. Every other case (and every case the projections know but the log
//! does not) is handed to the authority, which names its first bad event. So the fast path
//! only decides *that* a case is intact, never *what* is wrong with it.
//!
//! The scan reads the table in insertion order ([`Store::scan_log`]), one page ahead of the
//! checks, and follows each case's chain in a map from case to (next `seq`, last hash). A
//! case whose rows come out of order is simply checked by the authority.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::AuditError;
use crate::runtime::CaseId;
use crate::store::canonical::{GENESIS, write_str};
use crate::store::rows::{EventRow, micros};
use crate::store::scan::ScanPage;
use crate::store::verify::{self as authority, Head, Tamper, TamperKind};
use crate::store::{Store, VerifyReport};

/// Rows per page of the scan: large enough that a page's query costs nothing next to its rows,
/// small enough that two pages in flight stay a few megabytes.
pub const SCAN_PAGE: u32 = 8_192;

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
pub async fn verify_all(
    store: &Store,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<VerifyReport, AuditError> {
    let total = store.log_extent().await?;
    let mut chains = Chains::default();
    let mut pages = store.scan_log(SCAN_PAGE);
    let mut heads_seen = false;
    while let Some(page) = pages.recv().await {
        match page? {
            ScanPage::Events(rows) => {
                for r in rows {
                    chains.push(r.event);
                }
            }
            ScanPage::Heads(heads) => {
                heads_seen = true;
                for h in heads {
                    chains.head(h.case_id, h.last_seq, &h.last_hash);
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
    // The scan sends the heads last; a scan that ended without them ended early.
    if !heads_seen && chains.events > 0 {
        // Every case has a `cases` row in a healthy store, so no heads at all means the
        // projections are empty: each chain is then checked on its own, as the authority does.
        tracing::warn!("the cases projection is empty; chains are checked without their heads");
    }
    let Chains {
        tracks,
        mut suspects,
        events,
        ..
    } = chains;
    suspects.sort();
    suspects.dedup();
    // Cases in the log, and cases only the projections know (as the authority counts them).
    let cases = tracks.len() as u64
        + suspects
            .iter()
            .filter(|c| !tracks.contains_key(c.as_str()))
            .count() as u64;
    let mut problems = Vec::new();
    for case in suspects {
        if let Err(t) = store.verify_case(&CaseId::new(&case)).await? {
            problems.push(t);
        }
    }
    problems.sort_by(|a, b| a.case.cmp(&b.case));
    Ok(VerifyReport {
        cases,
        events,
        problems,
    })
}

/// Where a case's chain stands while the log is scanned.
struct Track {
    /// The `seq` the next event must have.
    next: i64,
    /// The last event's hash (hex), which the next event must name as `prev_hash`.
    last: [u8; 64],
    /// The fast path failed: the authority decides.
    suspect: bool,
}

#[derive(Default)]
struct Chains {
    tracks: HashMap<String, Track>,
    /// Cases for the authority, possibly repeated.
    suspects: Vec<String>,
    events: u64,
    hasher: RowHasher,
}

impl Chains {
    fn push(&mut self, row: EventRow) {
        self.events += 1;
        let Chains {
            tracks,
            suspects,
            hasher,
            ..
        } = self;
        match tracks.get_mut(row.case_id.as_str()) {
            Some(t) => {
                if t.suspect {
                    return;
                }
                if row.seq == t.next && row.prev_hash.as_bytes() == t.last && hasher.row_ok(&row) {
                    t.next += 1;
                    t.last = hex64(&row.hash);
                } else {
                    t.suspect = true;
                    suspects.push(row.case_id);
                }
            }
            None => {
                let ok = row.seq == 1 && row.prev_hash == GENESIS && hasher.row_ok(&row);
                let track = Track {
                    next: 2,
                    last: hex64(&row.hash),
                    suspect: !ok,
                };
                if !ok {
                    suspects.push(row.case_id.clone());
                }
                tracks.insert(row.case_id, track);
            }
        }
    }

    fn head(&mut self, case: String, last_seq: i64, last_hash: &str) {
        match self.tracks.get_mut(case.as_str()) {
            Some(t) => {
                if !t.suspect && (t.next - 1 != last_seq || t.last != last_hash.as_bytes()) {
                    t.suspect = true;
                    self.suspects.push(case);
                }
            }
            // The projections know a case the log does not have.
            None => self.suspects.push(case),
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
    if rows.is_empty() {
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
    }
    let mut hasher = RowHasher::default();
    let mut prev: &str = GENESIS;
    let mut intact = true;
    for (i, row) in rows.iter().enumerate() {
        if row.seq != i as i64 + 1 || row.prev_hash != prev || !hasher.row_ok(row) {
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

/// Recomputes event hashes over the stored bytes, reusing one buffer.
#[derive(Default)]
pub struct RowHasher {
    buf: String,
}

impl RowHasher {
    /// Whether the row is exactly what the store writes at its `seq` after its `prev_hash`:
    /// canonical body, matching hash, columns that agree with the body. `false` means "not
    /// sure", never "tampered".
    pub fn row_ok(&mut self, row: &EventRow) -> bool {
        let Ok(seq) = u64::try_from(row.seq) else {
            return false;
        };
        if row.hash.len() != 64 || !is_canonical(&row.body) {
            return false;
        }
        // The record as `canonical::record_text` writes it, keys in sorted order.
        let b = &mut self.buf;
        b.clear();
        b.push_str("{\"calendar_version\":");
        push_json_str(&row.calendar_version, b);
        b.push_str(",\"case\":");
        push_json_str(&row.case_id, b);
        b.push_str(",\"digest\":");
        push_json_str(&row.digest, b);
        b.push_str(",\"event\":");
        b.push_str(&row.body);
        b.push_str(",\"prev_hash\":");
        push_json_str(&row.prev_hash, b);
        b.push_str(",\"seq\":");
        b.push_str(itoa(seq, &mut [0u8; 20]));
        b.push_str("}\n");
        let digest = Sha256::digest(b.as_bytes());
        if !hex_eq(&digest, row.hash.as_bytes()) {
            return false;
        }
        columns_ok(row)
    }
}

/// A JSON string exactly as [`write_str`] writes it, without looking at each character when
/// nothing needs escaping (hashes, ids and versions never do): the record's header is four
/// such strings per event.
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
    actor: RepeatedActor<'a>,
}

#[derive(Deserialize)]
struct RepeatedActor<'a> {
    #[serde(borrow)]
    user: Cow<'a, str>,
    #[serde(borrow)]
    role: Cow<'a, str>,
}

/// The event types the engine writes ([`crate::runtime::EventKind::name`]).
const EVENT_TYPES: [&str; 17] = [
    "case_started",
    "task_opened",
    "task_claimed",
    "task_released",
    "task_reassigned",
    "task_completed",
    "task_cancelled",
    "branch_taken",
    "split",
    "join_arrived",
    "dispatch_queued",
    "dispatch_released",
    "documents_missing",
    "deadline_breached",
    "escalation_notified",
    "case_ended",
    "case_cancelled",
];

/// The type, instant and actor columns say what the body says (as `column_mismatch` of the
/// authority checks them), and the type is one the engine writes.
fn columns_ok(row: &EventRow) -> bool {
    let Ok(r) = serde_json::from_str::<Repeated<'_>>(&row.body) else {
        return false;
    };
    if r.kind != row.kind || !EVENT_TYPES.contains(&&*r.kind) {
        return false;
    }
    if r.actor.user != row.actor_user || r.actor.role != row.actor_role {
        return false;
    }
    // How chrono's serde reads a `DateTime<Utc>`.
    match r.at.parse::<DateTime<FixedOffset>>() {
        Ok(t) => micros(t.with_timezone(&Utc)) == row.at,
        Err(_) => false,
    }
}

/// Deeper nesting goes to the authority (serde_json stops at 128 levels).
const MAX_DEPTH: u32 = 100;

/// Whether `text` is exactly what [`crate::store::canonical::canonical`] prints for the JSON
/// it holds, so that hashing the text as it is gives the canonical hash. Conservative: text
/// with a non-integer or very long number, an escaped object key, or deep nesting is
/// reported as not canonical even when it is (the caller then takes the slow, exact way).
pub fn is_canonical(text: &str) -> bool {
    let mut s = Scan {
        b: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    s.value() && s.i == s.b.len()
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
    depth: u32,
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
            if !self.value() {
                return false;
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
    use crate::store::canonical::{RecordHeader, canonical, event_hash};
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
        let e: crate::runtime::Event = serde_json::from_str(&body).expect("event");
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
            c.push(a[i].clone());
            c.push(b[i].clone());
        }
        c.head("A".into(), 5, &a[4].hash);
        c.head("B".into(), 4, &b[3].hash); // the projections lag behind: suspect
        c.head("Z".into(), 3, &a[0].hash); // no events: suspect
        assert_eq!(c.events, 10);
        assert_eq!(c.suspects, vec!["B".to_string(), "Z".to_string()]);
        // Out of order is not a verdict, only a referral.
        let mut d = Chains::default();
        d.push(a[1].clone());
        d.push(a[0].clone());
        assert_eq!(d.suspects, vec!["A".to_string()]);
    }

    #[test]
    fn numbers_are_written_like_the_printer() {
        for n in [0u64, 7, 10, 1234567890, u64::MAX] {
            assert_eq!(itoa(n, &mut [0u8; 20]), n.to_string());
        }
        let d = Sha256::digest(b"x");
        assert!(hex_eq(&d, crate::store::canonical::hex(&d).as_bytes()));
        assert!(!hex_eq(
            &d,
            crate::store::canonical::hex(&d).to_uppercase().as_bytes()
        ));
    }
}
