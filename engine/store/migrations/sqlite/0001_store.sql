-- Reglament durable store, SQLite back end.
--
-- Instants are INTEGER microseconds since 1970-01-01T00:00:00Z (datetime(x / 1000000,
-- 'unixepoch') shows them); flags are 0/1. The log (`events`) is the record; every other
-- table except `regulations` and `calendar_versions` is a projection that
-- `reglament db rebuild` recomputes from the log.

-- The append-only log: per case a gapless `seq` from 1, each event hash-chained to the one
-- before (docs/hash-chain.md). UNIQUE (case_id, seq) is the optimistic-concurrency guard.
CREATE TABLE events (
    id               INTEGER PRIMARY KEY,           -- global order of appends
    case_id          TEXT    NOT NULL,
    seq              INTEGER NOT NULL CHECK (seq >= 1),
    type             TEXT    NOT NULL,
    at               INTEGER NOT NULL,
    actor_user       TEXT    NOT NULL,
    actor_role       TEXT    NOT NULL,
    digest           TEXT    NOT NULL,              -- regulation digest the case is pinned to
    calendar_version TEXT    NOT NULL,              -- calendar version the case is pinned to
    body             TEXT    NOT NULL,              -- the event, canonical JSON
    prev_hash        TEXT    NOT NULL,
    hash             TEXT    NOT NULL,
    UNIQUE (case_id, seq)
);

-- Mistakes, not attackers, are stopped here; tampering is found by `reglament db verify`.
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

-- Deployed regulation versions, with the source text, so a pinned version can always be
-- compiled again.
CREATE TABLE regulations (
    regulation_id TEXT    NOT NULL,
    version       INTEGER NOT NULL,
    digest        TEXT    NOT NULL UNIQUE,
    source        TEXT    NOT NULL,
    deployed_at   INTEGER NOT NULL,
    deployed_by   TEXT    NOT NULL,
    PRIMARY KEY (regulation_id, version)
);

-- Calendar versions cases are pinned to, with the data that rebuilds the office clock.
CREATE TABLE calendar_versions (
    version     TEXT    PRIMARY KEY,
    calendar    TEXT    NOT NULL,                  -- national calendar id
    schedule    TEXT    NOT NULL,                  -- weekly schedule id
    zone        TEXT    NOT NULL,                  -- IANA time zone
    data        TEXT    NOT NULL,                  -- JSON: national data, schedule, zone
    recorded_at INTEGER NOT NULL
);

-- Projection: one row per case.
CREATE TABLE cases (
    case_id            TEXT    PRIMARY KEY,
    regulation_id      TEXT    NOT NULL,
    regulation_version INTEGER NOT NULL,
    digest             TEXT    NOT NULL,
    channel            TEXT    NOT NULL,
    office             TEXT    NOT NULL,
    calendar_version   TEXT    NOT NULL,
    status             TEXT    NOT NULL,           -- open | ended | cancelled
    result             TEXT,                       -- granted | refused | returned | withdrawn
    applicant          TEXT,
    started_at         INTEGER NOT NULL,
    registered_at      INTEGER NOT NULL,
    due                INTEGER,
    breached           INTEGER NOT NULL,
    documents_missing  INTEGER NOT NULL,
    ended_at           INTEGER,
    last_seq           INTEGER NOT NULL,
    last_hash          TEXT    NOT NULL,
    last_event_at      INTEGER NOT NULL
);

-- Projection: one row per task, open or closed. `due` is 9223372036854775807 for a task
-- without a time limit, so that it sorts last and the keyset cursor needs no NULL case.
CREATE TABLE tasks (
    case_id     TEXT    NOT NULL,
    task        INTEGER NOT NULL,
    step        TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    office      TEXT    NOT NULL,
    status      TEXT    NOT NULL,                  -- open | claimed | completed | cancelled
    claimed_by  TEXT,
    assigned_to TEXT,
    opened_at   INTEGER NOT NULL,
    due         INTEGER NOT NULL,
    breached    INTEGER NOT NULL,
    outcome     TEXT,
    closed_at   INTEGER,
    closed_by   TEXT,
    PRIMARY KEY (case_id, task)
) WITHOUT ROWID;                                   -- small rows: one B-tree fewer per write
-- The inbox: one office, one role, one status, by due instant (then case, task).
CREATE INDEX tasks_inbox ON tasks (office, role, status, due, case_id, task);
-- "Claimed by me".
CREATE INDEX tasks_claimed ON tasks (claimed_by, office, role, due, case_id, task)
    WHERE status = 'claimed';

-- Projection: when time alone next changes each open case (CaseState::next_wakeup).
-- The lease is not derived from the log: a node that took the wake-up holds it until then.
CREATE TABLE wakeups (
    case_id     TEXT    PRIMARY KEY,
    wake_at     INTEGER NOT NULL,
    lease_until INTEGER,
    lease_owner TEXT
) WITHOUT ROWID;
CREATE INDEX wakeups_due ON wakeups (wake_at);
