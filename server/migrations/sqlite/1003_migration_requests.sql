-- Migrations of running cases asked for in the server (server/src/migration_requests.rs): an
-- analyst proposes a plan with a reason and its dry run is kept; a second person (an
-- administrator or another analyst, never the proposer) approves or rejects it; an approved
-- plan runs, each moved case getting its `case_migrated` event in its own chain. Not part of
-- the hash chain: this is the record of who asked, who decided, why, and what the run did.
-- Instants are microseconds since the epoch, as everywhere.
CREATE TABLE migration_requests (
    id              TEXT PRIMARY KEY,
    regulation      TEXT    NOT NULL,
    from_version    INTEGER NOT NULL,
    to_version      INTEGER NOT NULL,
    plan            TEXT    NOT NULL,           -- the plan's YAML as proposed
    plan_digest     TEXT    NOT NULL,           -- SHA-256 of its canonical JSON, as the events name it
    proposed_by     TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    dry_run         TEXT    NOT NULL,           -- the dry run at the proposal (JSON)
    status          TEXT    NOT NULL,           -- proposed, approved (running), rejected, done, failed
    decided_by      TEXT,
    decided_at      INTEGER,
    decision_reason TEXT,
    migrated        INTEGER,                    -- cases moved (done)
    result          TEXT,                       -- what the run did, or its error (JSON)
    finished_at     INTEGER
);
CREATE INDEX migration_requests_by_created ON migration_requests (created_at);
