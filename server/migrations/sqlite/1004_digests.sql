-- The daily digest of an office's overdue tasks (server/src/notify/digest.rs): made once per
-- office working day, at the office's opening, for each user who chose it. Never two for one
-- office-day, even when the server restarts or several servers share the database: a digest
-- notice names its office and day, which are unique with its recipient, and the office-day
-- is recorded as done (even when nothing was overdue) in the transaction that makes its
-- notices, so a server started later that day does not make another.

-- The office and the office-local day (YYYY-MM-DD) of a digest notice; NULL for the notices
-- of events.
ALTER TABLE notices ADD COLUMN digest_office TEXT;
ALTER TABLE notices ADD COLUMN digest_day TEXT;
CREATE UNIQUE INDEX notices_digest ON notices (digest_office, digest_day, recipient)
    WHERE digest_office IS NOT NULL;

-- The office-days whose digests were made, and how many notices they made.
CREATE TABLE digest_days (
    office   TEXT NOT NULL,
    day      TEXT NOT NULL,
    made_at  INTEGER NOT NULL,
    notices  INTEGER NOT NULL,
    PRIMARY KEY (office, day)
);
