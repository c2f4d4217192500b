-- Signed checkpoints of every case's chain head (`reglament_audit::checkpoint`): the body is
-- the checkpoint as canonical JSON, signed by a key kept outside the database. Append-only,
-- as the events are: a checkpoint deleted or changed here is caught against an exported copy,
-- and one changed in place no longer verifies under the key.
CREATE TABLE checkpoints (
    number BIGINT PRIMARY KEY,
    at     BIGINT NOT NULL,
    body   TEXT   NOT NULL
);
CREATE FUNCTION reglament_checkpoints_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'checkpoints are append-only';
END
$$;
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION reglament_checkpoints_append_only();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION reglament_checkpoints_append_only();
