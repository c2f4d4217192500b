-- Deputy rules («исполняющий обязанности», server/src/deputies.rs): by an order, `deputy`
-- acts for `principal` in `roles` (a comma-separated list) at `office` from `valid_from`
-- to `valid_to` (dates, both days included, in Kazakhstan time). A head of the office or an
-- administrator records it; ending it early keeps the row with who ended it, when and why.
-- Not part of the hash chain: each action taken under a rule is, with the principal named in
-- its event's actor. Instants are microseconds since the epoch, as everywhere.
CREATE TABLE deputy_rules (
    id           TEXT COLLATE "C" PRIMARY KEY,
    principal    TEXT    NOT NULL,
    deputy       TEXT    NOT NULL,
    office       TEXT    NOT NULL,
    roles        TEXT    NOT NULL,
    valid_from   TEXT    NOT NULL,              -- YYYY-MM-DD
    valid_to     TEXT    NOT NULL,              -- YYYY-MM-DD, included
    starts_at    BIGINT  NOT NULL,              -- valid_from's midnight at the office
    ends_at      BIGINT  NOT NULL,              -- the midnight after valid_to at the office
    order_number TEXT    NOT NULL,
    note         TEXT,
    created_by   TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    ended_at     BIGINT,
    ended_by     TEXT,
    end_reason   TEXT
);
CREATE INDEX deputy_rules_by_deputy ON deputy_rules (deputy, ends_at);
CREATE INDEX deputy_rules_by_office ON deputy_rules (office, ends_at);
