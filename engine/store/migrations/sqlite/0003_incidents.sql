-- A case whose path the engine could not take on (a condition that failed as it was evaluated,
-- a deadline beyond the calendar) waits for an administrator: `incidents_open` counts its
-- unresolved incidents, derived from the log like every other column (0 for every case written
-- before incidents existed, which is what their logs fold to).
ALTER TABLE cases ADD COLUMN incidents_open INTEGER NOT NULL DEFAULT 0;

-- The administrators' list of incidents reads only the few cases that have one.
CREATE INDEX cases_incidents ON cases (case_id) WHERE incidents_open > 0;
