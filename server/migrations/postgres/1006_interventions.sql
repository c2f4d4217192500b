-- Changes made to a case by hand (server/src/interventions.rs): an administrator moves a case
-- to a step, cancels a task or changes a due instant, with a written reason and the legal
-- basis. One that changes a statutory due instant or skips a step waits here for a second
-- administrator (never the proposer), with the what-if made when it was proposed; approved,
-- it is applied once, as an `intervened` event naming both. Not part of the hash chain: this
-- is the record of who asked, who decided, why. Instants are microseconds since the epoch.
CREATE TABLE intervention_requests (
    id              TEXT COLLATE "C" PRIMARY KEY,
    case_id         TEXT    NOT NULL,
    action          TEXT    NOT NULL,           -- the intervention (JSON)
    reason          TEXT    NOT NULL,
    legal_basis     TEXT    NOT NULL,
    proposed_by     TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    preview         TEXT    NOT NULL,           -- the what-if at the proposal (JSON)
    status          TEXT    NOT NULL,           -- proposed, applied, rejected, failed
    decided_by      TEXT,
    decided_at      BIGINT ,
    decision_reason TEXT
);
CREATE INDEX intervention_requests_by_created ON intervention_requests (created_at);
