-- Signed checkpoints of every case's chain head (`reglament_audit::checkpoint`): the body is
-- the checkpoint as canonical JSON, signed by a key kept outside the database. Append-only,
-- as the events are: a checkpoint deleted or changed here is caught against an exported copy,
-- and one changed in place no longer verifies under the key.
CREATE TABLE checkpoints (
    number INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    body   TEXT    NOT NULL
);
CREATE TRIGGER checkpoints_append_only_update BEFORE UPDATE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'checkpoints are append-only');
END;
CREATE TRIGGER checkpoints_append_only_delete BEFORE DELETE ON checkpoints
BEGIN
    SELECT RAISE(ABORT, 'checkpoints are append-only');
END;
