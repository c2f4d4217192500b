//! Checking a case's hash chain: the first event that is not what the store wrote, and how it
//! differs (changed, deleted, inserted, reordered). Pure: the back ends feed it rows.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::canonical::{self, GENESIS, RecordHeader};
use super::rows::{EventRow, micros};
use reglament_runtime::Event;

/// How a stored event differs from what the store wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TamperKind {
    /// The event's content (or one of its columns) is not what was hashed.
    Changed,
    /// The event that belongs at this place is missing.
    Deleted,
    /// This event was not written by the store.
    Inserted,
    /// This event was written at another place in the case's history.
    Reordered,
}

impl std::fmt::Display for TamperKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TamperKind::Changed => "changed",
            TamperKind::Deleted => "deleted",
            TamperKind::Inserted => "inserted",
            TamperKind::Reordered => "reordered",
        })
    }
}

/// The first bad event of a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tamper {
    pub case: String,
    /// The place (`seq`) of the first bad event.
    pub seq: i64,
    pub kind: TamperKind,
    /// What exactly was found, for the operator.
    pub detail: String,
}

impl std::fmt::Display for Tamper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "case `{}`, event {}: {} — {}",
            self.case, self.seq, self.kind, self.detail
        )
    }
}

/// What the projections say the head of the case is (its last event and that event's hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub last_seq: i64,
    pub last_hash: String,
}

/// A row's body read once: as JSON, and in canonical form.
struct Body {
    value: Option<Value>,
    canonical: Option<String>,
}

impl Body {
    fn of(row: &EventRow) -> Body {
        let value: Option<Value> = serde_json::from_str(&row.body).ok();
        let canonical = value.as_ref().map(canonical::canonical);
        Body { value, canonical }
    }
}

/// The hash a row should have if it were at place `seq` after `prev`, or `None` when its body
/// is not JSON.
fn hash_at(row: &EventRow, body: &Body, seq: i64, prev: &str) -> Option<String> {
    Some(canonical::event_hash(
        RecordHeader {
            case: &row.case_id,
            seq: u64::try_from(seq).ok()?,
            prev_hash: prev,
            digest: &row.digest,
            calendar_version: &row.calendar_version,
        },
        body.canonical.as_deref()?,
    ))
}

/// The columns that repeat what the body says (type, instant, actor) must agree with it.
fn column_mismatch(row: &EventRow, body: &Body) -> Option<String> {
    let Some(value) = &body.value else {
        return Some("the body is not JSON".to_string());
    };
    let event = match Event::deserialize(value) {
        Ok(e) => e,
        Err(e) => return Some(format!("the body is not an event: {e}")),
    };
    if event.kind.name() != row.kind {
        return Some(format!(
            "column type says `{}`, the event is `{}`",
            row.kind,
            event.kind.name()
        ));
    }
    if micros(event.at) != row.at {
        return Some(format!(
            "column at says {}, the event says {}",
            row.at,
            micros(event.at)
        ));
    }
    if *event.actor.user != *row.actor_user || *event.actor.role != *row.actor_role {
        return Some(format!(
            "the actor columns say {}/{}, the event says {}/{}",
            row.actor_user, row.actor_role, event.actor.user, event.actor.role
        ));
    }
    None
}

/// How far ahead a renumbered event is searched for (a deletion of up to this many events in
/// the middle of a case, with the later ones moved down, is still named a deletion).
const RENUMBER_SEARCH: i64 = 64;

/// Checks one case's events (ordered by `seq`) against each other and against the head the
/// projections recorded. `Ok(n)` is the number of events checked.
pub fn verify_case(rows: &[EventRow], head: Option<&Head>) -> Result<usize, Tamper> {
    let case = rows.first().map(|r| r.case_id.clone()).unwrap_or_default();
    let bad = |seq: i64, kind: TamperKind, detail: String| Tamper {
        case: case.clone(),
        seq,
        kind,
        detail,
    };
    let position_of = |hash: &str| rows.iter().position(|r| r.hash == hash);
    let mut prev: &str = GENESIS;
    let mut expected: i64 = 1;
    for (i, row) in rows.iter().enumerate() {
        if row.seq != expected {
            return Err(bad(
                expected,
                TamperKind::Deleted,
                if row.seq == expected + 1 {
                    format!("event {expected} is missing")
                } else {
                    format!("events {expected} to {} are missing", row.seq - 1)
                },
            ));
        }
        let body = Body::of(row);
        let own = hash_at(row, &body, row.seq, &row.prev_hash);
        let self_ok = own.as_deref() == Some(row.hash.as_str());
        let link_ok = row.prev_hash == prev;
        let next_skips_this = rows.get(i + 1).is_some_and(|n| n.prev_hash == prev);
        if link_ok && self_ok {
            if let Some(why) = column_mismatch(row, &body) {
                return Err(bad(row.seq, TamperKind::Changed, why));
            }
            prev = &row.hash;
            expected += 1;
            continue;
        }
        if !link_ok {
            if row.prev_hash == GENESIS && i > 0 {
                return Err(bad(
                    row.seq,
                    TamperKind::Reordered,
                    "this is the case's first event, moved here".to_string(),
                ));
            }
            match position_of(&row.prev_hash) {
                Some(j) if j > i => {
                    return Err(bad(
                        row.seq,
                        TamperKind::Reordered,
                        format!(
                            "it was written as event {} (after the event now at {})",
                            rows[j].seq + 1,
                            rows[j].seq
                        ),
                    ));
                }
                Some(j) if j + 1 < i => {
                    return Err(bad(
                        rows[j + 1].seq,
                        TamperKind::Inserted,
                        format!(
                            "event {} chains to event {}: the {} event(s) between were put in",
                            row.seq,
                            rows[j].seq,
                            i - j - 1
                        ),
                    ));
                }
                _ => {}
            }
        }
        if next_skips_this {
            return Err(bad(
                row.seq,
                TamperKind::Inserted,
                "the next event chains to the one before this: this one was put in between"
                    .to_string(),
            ));
        }
        if link_ok {
            let detail = if own.is_none() {
                "the body is not an event's JSON".to_string()
            } else {
                format!(
                    "its content does not hash to the stored {}",
                    short(&row.hash)
                )
            };
            return Err(bad(row.seq, TamperKind::Changed, detail));
        }
        if self_ok && i > 0 {
            // This event is intact but its predecessor is not the event it was written after:
            // the predecessor was rewritten, hash and all.
            return Err(bad(
                row.seq - 1,
                TamperKind::Changed,
                format!(
                    "event {} was written after an event with hash {}, but event {} now hashes to {}: it was rewritten",
                    row.seq,
                    short(&row.prev_hash),
                    row.seq - 1,
                    short(prev)
                ),
            ));
        }
        for d in 1..=RENUMBER_SEARCH {
            if hash_at(row, &body, row.seq + d, &row.prev_hash).as_deref()
                == Some(row.hash.as_str())
            {
                return Err(bad(
                    row.seq,
                    TamperKind::Deleted,
                    format!(
                        "{d} event(s) before this one are missing; it was written as event {}",
                        row.seq + d
                    ),
                ));
            }
        }
        return Err(bad(
            row.seq,
            TamperKind::Changed,
            format!(
                "it chains to {}, which is no event of this case",
                short(&row.prev_hash)
            ),
        ));
    }
    let n = rows.len() as i64;
    if let Some(h) = head {
        if n < h.last_seq {
            return Err(bad(
                n + 1,
                TamperKind::Deleted,
                format!(
                    "the case's last event is {} by the projections, the log ends at {n}",
                    h.last_seq
                ),
            ));
        }
        if n > h.last_seq {
            return Err(bad(
                h.last_seq + 1,
                TamperKind::Inserted,
                format!(
                    "the projections end at event {}, the log has {n}",
                    h.last_seq
                ),
            ));
        }
        if h.last_hash != prev {
            return Err(bad(
                n,
                TamperKind::Changed,
                format!(
                    "the projections recorded head {}, the log's head is {}: the chain was rewritten",
                    short(&h.last_hash),
                    short(prev)
                ),
            ));
        }
    }
    Ok(rows.len())
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}
