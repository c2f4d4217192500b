-- Reglament durable store, PostgreSQL back end.
--
-- The same tables as the SQLite back end, so both share one row format: instants are BIGINT
-- microseconds since 1970-01-01T00:00:00Z (to_timestamp(x / 1e6) shows them). Identifiers
-- that are sorted on use COLLATE "C" (byte order), so SQL and Rust order them alike.

CREATE TABLE events (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id          TEXT COLLATE "C" NOT NULL,
    seq              BIGINT  NOT NULL CHECK (seq >= 1),
    type             TEXT    NOT NULL,
    at               BIGINT  NOT NULL,
    actor_user       TEXT    NOT NULL,
    actor_role       TEXT    NOT NULL,
    digest           TEXT    NOT NULL,
    calendar_version TEXT    NOT NULL,
    body             TEXT    NOT NULL,              -- canonical JSON, kept byte for byte (not jsonb)
    prev_hash        TEXT    NOT NULL,
    hash             TEXT    NOT NULL,
    CONSTRAINT events_case_seq UNIQUE (case_id, seq)
);

CREATE FUNCTION reglament_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only';
END
$$;
CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION reglament_events_append_only();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION reglament_events_append_only();

CREATE TABLE regulations (
    regulation_id TEXT   NOT NULL,
    version       BIGINT NOT NULL,
    digest        TEXT   NOT NULL UNIQUE,
    source        TEXT   NOT NULL,
    deployed_at   BIGINT NOT NULL,
    deployed_by   TEXT   NOT NULL,
    PRIMARY KEY (regulation_id, version)
);

CREATE TABLE calendar_versions (
    version     TEXT   PRIMARY KEY,
    calendar    TEXT   NOT NULL,
    schedule    TEXT   NOT NULL,
    zone        TEXT   NOT NULL,
    data        TEXT   NOT NULL,
    recorded_at BIGINT NOT NULL
);

CREATE TABLE cases (
    case_id            TEXT COLLATE "C" PRIMARY KEY,
    regulation_id      TEXT    NOT NULL,
    regulation_version BIGINT  NOT NULL,
    digest             TEXT    NOT NULL,
    channel            TEXT    NOT NULL,
    office             TEXT    NOT NULL,
    calendar_version   TEXT    NOT NULL,
    status             TEXT    NOT NULL,
    result             TEXT,
    applicant          TEXT,
    started_at         BIGINT  NOT NULL,
    registered_at      BIGINT  NOT NULL,
    due                BIGINT,
    breached           BOOLEAN NOT NULL,
    documents_missing  BOOLEAN NOT NULL,
    ended_at           BIGINT,
    last_seq           BIGINT  NOT NULL,
    last_hash          TEXT    NOT NULL,
    last_event_at      BIGINT  NOT NULL
);

CREATE TABLE tasks (
    case_id     TEXT COLLATE "C" NOT NULL,
    task        BIGINT  NOT NULL,
    step        TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    office      TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    claimed_by  TEXT,
    assigned_to TEXT,
    opened_at   BIGINT  NOT NULL,
    due         BIGINT  NOT NULL,
    breached    BOOLEAN NOT NULL,
    outcome     TEXT,
    closed_at   BIGINT,
    closed_by   TEXT,
    PRIMARY KEY (case_id, task)
);
CREATE INDEX tasks_inbox ON tasks (office, role, status, due, case_id, task);
CREATE INDEX tasks_claimed ON tasks (claimed_by, office, role, due, case_id, task)
    WHERE status = 'claimed';

CREATE TABLE wakeups (
    case_id     TEXT COLLATE "C" PRIMARY KEY,
    wake_at     BIGINT NOT NULL,
    lease_until BIGINT,
    lease_owner TEXT
);
CREATE INDEX wakeups_due ON wakeups (wake_at);
