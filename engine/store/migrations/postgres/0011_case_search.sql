-- Finding a case (engine/store/src/search.rs): the projections a search reads beside `cases`.
--
-- `case_offices`: every office a case has been at (`CaseState::offices`), the offices whose
-- staff may read it, with the case's registration instant so that one office's cases are one
-- ordered range of `case_offices_by_office`, newest first.
CREATE TABLE case_offices (
    case_id       TEXT   NOT NULL,
    office        TEXT   NOT NULL,
    registered_at BIGINT NOT NULL,
    PRIMARY KEY (case_id, office)
);
CREATE INDEX case_offices_by_office ON case_offices (office, registered_at, case_id);

-- `case_keys`: what a case is found by. kind `name`: each word of the applicant's full name,
-- folded (lower case, Kazakh letters to their Russian neighbours, ё to е, no soft or hard
-- sign), found by prefix; kind `iin`: the applicant's ИИН, found exactly. Keys compare byte
-- by byte (`C`), so a prefix is one range of the index whatever the database's collation.
CREATE TABLE case_keys (
    case_id TEXT NOT NULL,
    kind    TEXT NOT NULL,
    key     TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (case_id, kind, key)
);
CREATE INDEX case_keys_by_key ON case_keys (kind, key, case_id);

-- The order of a search (newest first) over every case, and within one regulation; and
-- registration numbers by prefix (`~>=~`, `~<~` compare byte by byte).
CREATE INDEX cases_by_registration ON cases (registered_at, case_id);
CREATE INDEX cases_by_regulation ON cases (regulation_id, registered_at, case_id);
-- A window of due instants (`search.rs`: both ends given, at most `DUE_WINDOW` apart) is read
-- as a range of due instants, of one regulation or of every case.
CREATE INDEX cases_by_due ON cases (due, case_id);
CREATE INDEX cases_by_regulation_due ON cases (regulation_id, due, case_id);
CREATE INDEX cases_id_prefix ON cases (case_id text_pattern_ops);

-- The cases recorded before this migration: their search rows need their whole history folded,
-- which SQL cannot do. The store fills them when it is opened (`Store::backfill_search`), a
-- page at a time, and takes each case off this list in the transaction that writes its rows.
CREATE TABLE case_search_backfill (case_id TEXT PRIMARY KEY);
INSERT INTO case_search_backfill (case_id) SELECT case_id FROM cases;
