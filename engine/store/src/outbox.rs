//! The outbox of notifications (migration `0009_outbox`): a row per event of a kind that
//! someone may have to be told of, written by a trigger on `events` in the transaction that
//! appends the event, on both back ends. The append path does not know of it, and cannot
//! forget it: whatever writes an event of such a kind writes its outbox row with it, and a
//! rolled-back append leaves neither.
//!
//! The store keeps the queue and nothing else: who is told, how and when is decided by the
//! store's user (the server's dispatcher), which takes rows with [`Store::outbox_waiting`]
//! and marks them taken in the same side transaction ([`crate::side`]) that records what it
//! made of them, with [`TAKE`] (so a row is taken once even when two nodes read it).

use serde::Serialize;

use crate::rows::EventRow;
use crate::{Store, StoreError};

/// The kinds of event the trigger queues (the migration's list, kept here for readers and
/// checked against the migration by a test).
pub const KINDS: &[&str] = &[
    "case_started",
    "task_opened",
    "task_reassigned",
    "deadline_warned",
    "deadline_breached",
    "escalation_notified",
    "case_ended",
    "case_cancelled",
];

/// Marks an outbox row taken (`$1` the instant, `$2` the row's id), if nobody took it yet;
/// for a side transaction of the store's user.
pub const TAKE: &str = "UPDATE outbox SET taken_at = $1 WHERE id = $2 AND taken_at IS NULL";

/// A queued event, with the event itself (`None` if its row is gone from the log, which an
/// append-only log only shows after tampering).
#[derive(Debug, Clone)]
pub struct OutboxItem {
    pub id: i64,
    pub case_id: String,
    pub seq: i64,
    pub kind: String,
    pub at: i64,
    pub event: Option<EventRow>,
}

/// How far the outbox is: rows waiting, and the oldest waiting row's event instant.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    pub waiting: i64,
    pub taken: i64,
    pub oldest_waiting_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    o_case_id: String,
    o_seq: i64,
    o_type: String,
    o_at: i64,
    case_id: Option<String>,
    seq: Option<i64>,
    #[sqlx(rename = "type")]
    kind: Option<String>,
    at: Option<i64>,
    actor_user: Option<String>,
    actor_role: Option<String>,
    digest: Option<String>,
    calendar_version: Option<String>,
    body: Option<String>,
    prev_hash: Option<String>,
    hash: Option<String>,
}

const WAITING: &str = "SELECT o.id, o.case_id AS o_case_id, o.seq AS o_seq, o.type AS o_type, \
    o.at AS o_at, e.case_id, e.seq, e.type, e.at, e.actor_user, e.actor_role, e.digest, \
    e.calendar_version, e.body, e.prev_hash, e.hash \
    FROM outbox o LEFT JOIN events e ON e.case_id = o.case_id AND e.seq = o.seq \
    WHERE o.taken_at IS NULL ORDER BY o.id LIMIT $1";

impl Row {
    fn into_item(self) -> OutboxItem {
        let event = match (
            self.case_id,
            self.seq,
            self.kind,
            self.at,
            self.actor_user,
            self.actor_role,
            self.digest,
            self.calendar_version,
            self.body,
            self.prev_hash,
            self.hash,
        ) {
            (
                Some(case_id),
                Some(seq),
                Some(kind),
                Some(at),
                Some(actor_user),
                Some(actor_role),
                Some(digest),
                Some(calendar_version),
                Some(body),
                Some(prev_hash),
                Some(hash),
            ) => Some(EventRow {
                case_id,
                seq,
                kind,
                at,
                actor_user,
                actor_role,
                digest,
                calendar_version,
                body,
                prev_hash,
                hash,
            }),
            _ => None,
        };
        OutboxItem {
            id: self.id,
            case_id: self.o_case_id,
            seq: self.o_seq,
            kind: self.o_type,
            at: self.o_at,
            event,
        }
    }
}

impl Store {
    /// Up to `limit` rows nobody has taken yet, oldest first, with their events.
    pub async fn outbox_waiting(&self, limit: u32) -> Result<Vec<OutboxItem>, StoreError> {
        let rows: Vec<Row> = self
            .read_side(WAITING, vec![crate::side::SqlArg::Int(i64::from(limit))])
            .await?;
        Ok(rows.into_iter().map(Row::into_item).collect())
    }

    /// How many rows wait and how many were taken.
    pub async fn outbox_counts(&self) -> Result<OutboxCounts, StoreError> {
        #[derive(sqlx::FromRow)]
        struct C {
            waiting: i64,
            taken: i64,
            oldest: Option<i64>,
        }
        let rows: Vec<C> = self
            .read_side(
                "SELECT COALESCE(SUM(CASE WHEN taken_at IS NULL THEN 1 ELSE 0 END), 0) AS waiting, \
                 COALESCE(SUM(CASE WHEN taken_at IS NULL THEN 0 ELSE 1 END), 0) AS taken, \
                 MIN(CASE WHEN taken_at IS NULL THEN at END) AS oldest FROM outbox",
                Vec::new(),
            )
            .await?;
        Ok(rows
            .into_iter()
            .next()
            .map(|c| OutboxCounts {
                waiting: c.waiting,
                taken: c.taken,
                oldest_waiting_at: c.oldest,
            })
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_trigger_queues_exactly_the_listed_kinds_on_both_back_ends() {
        for sql in [
            include_str!("../migrations/sqlite/0009_outbox.sql"),
            include_str!("../migrations/postgres/0009_outbox.sql"),
        ] {
            let list = sql
                .split("NEW.type IN (")
                .nth(1)
                .and_then(|s| s.split(')').next())
                .expect("the trigger's list");
            let mut kinds: Vec<&str> = list
                .split(',')
                .map(|k| k.trim().trim_matches('\''))
                .collect();
            kinds.sort_unstable();
            let mut expected = KINDS.to_vec();
            expected.sort_unstable();
            assert_eq!(kinds, expected);
        }
    }
}
