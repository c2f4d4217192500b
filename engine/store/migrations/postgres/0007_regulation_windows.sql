-- When each deployed version applies: from `effective_from` (the regulation's `in_force_from`,
-- else its `valid_from`), until the day before `effective_to` (exclusive: `valid_to` + 1 day or
-- the repeal's day, whichever is earlier; NULL when the source names no end). Days are ISO
-- dates (YYYY-MM-DD), which compare as text in date order. A version applies on a day only
-- while no later version has taken effect (see `versions.rs`). Rows deployed before this
-- migration get their window from their source when the store opens.
ALTER TABLE regulations ADD COLUMN effective_from TEXT;
ALTER TABLE regulations ADD COLUMN effective_to TEXT;

-- "Which version of this regulation is in force on day D": the newest version that took
-- effect on or before D.
CREATE INDEX regulations_in_force ON regulations (regulation_id, effective_from, version);
