-- The outbox of notifications: one row per event of a kind someone may have to be told of,
-- written by a trigger in the very transaction that appends the event. So nothing is
-- notified that did not happen (a rolled-back append leaves no row) and nothing that
-- happened is lost when the process dies before telling anyone (the row waits, committed,
-- until a dispatcher takes it). Who is told, how and when is the store's user's business
-- (the server's notices, `server/migrations/*/1002_notices.sql`); the store only keeps the
-- queue. Not part of a case: not hashed, not rebuilt.
CREATE TABLE outbox (
    id       BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id  TEXT COLLATE "C" NOT NULL,
    seq      BIGINT  NOT NULL,
    type     TEXT    NOT NULL,
    at       BIGINT  NOT NULL,
    taken_at BIGINT,                  -- when a dispatcher made its notices; NULL: waiting
    UNIQUE (case_id, seq)
);
CREATE INDEX outbox_waiting ON outbox (id) WHERE taken_at IS NULL;

CREATE FUNCTION reglament_events_outbox() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outbox (case_id, seq, type, at) VALUES (NEW.case_id, NEW.seq, NEW.type, NEW.at);
    RETURN NULL;
END
$$;
CREATE TRIGGER events_outbox AFTER INSERT ON events FOR EACH ROW
    WHEN (NEW.type IN ('case_started', 'task_opened', 'task_reassigned', 'deadline_warned',
                       'deadline_breached', 'escalation_notified', 'case_ended', 'case_cancelled'))
    EXECUTE FUNCTION reglament_events_outbox();
