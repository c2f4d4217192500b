-- Cases whose history did not verify when the store loaded them: nothing is appended to them
-- (no growing on forged ground). Kept beside the log, not in it, since the case's own chain is
-- what is in doubt; a hold is shown only while the case still does not verify.
CREATE TABLE case_holds (
    case_id     TEXT    NOT NULL PRIMARY KEY,
    detected_at INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    detail      TEXT    NOT NULL
);
