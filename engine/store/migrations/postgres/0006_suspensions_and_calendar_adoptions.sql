-- A suspended task's time is stopped: when it stopped, for the inbox ("suspended for 2 days")
-- and the reports (NULL for every task written before suspensions existed, which is what
-- their logs fold to).
ALTER TABLE tasks ADD COLUMN suspended_since BIGINT;

-- A calendar version an office's open cases were moved onto. When a new calendar is deployed
-- (a decree moved a day off, the office's hours changed), each open case counting on the old
-- version is recomputed on the new one: the cases whose due instants move get a
-- `deadlines_rescheduled` event in their chain; the others have nothing to record, and this row
-- says that from now on they count on `to_version`. Not derived from the log: it records a
-- deployment, like `regulations`.
CREATE TABLE calendar_adoptions (
    office       TEXT    NOT NULL,
    from_version TEXT    NOT NULL,
    to_version   TEXT    NOT NULL,
    adopted_at   BIGINT NOT NULL,
    cases        BIGINT NOT NULL,                  -- open cases looked at
    rescheduled  BIGINT NOT NULL,                  -- of them, those whose instants moved
    PRIMARY KEY (office, from_version)
);

-- The inbox shows a suspended task as such: the covering inbox indexes hold the column too.
DROP INDEX tasks_inbox;
CREATE INDEX tasks_inbox ON tasks (office, role, due, case_id, task)
    INCLUDE (status, step, assigned_to, opened_at, breached, suspended_since)
    WHERE status = 'open';

DROP INDEX tasks_claimed;
CREATE INDEX tasks_claimed ON tasks (claimed_by, office, role, due, case_id, task)
    INCLUDE (status, step, assigned_to, opened_at, breached, suspended_since)
    WHERE status = 'claimed';

-- A calendar deployment pages through the open cases of an office on one version.
CREATE INDEX cases_calendar ON cases (office, calendar_version, case_id) WHERE status = 'open';
