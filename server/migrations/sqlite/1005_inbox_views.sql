-- Inbox views shared within an office (server/src/views.rs): a head of the office (or an
-- administrator) names a set of the inbox's filters and its order; everyone working in the
-- office may choose it. Not part of any case's history: who made or last changed a view,
-- and when, is kept on the row. Instants are microseconds since the epoch, as everywhere.
CREATE TABLE inbox_views (
    id          TEXT PRIMARY KEY,
    office      TEXT    NOT NULL,
    name        TEXT    NOT NULL,
    role        TEXT,                       -- only this role; none: the viewer's own roles
    status      TEXT,                       -- open, claimed; none: both (the web), open (the API)
    overdue     INTEGER NOT NULL,           -- 1: only tasks past their due instant
    sort        TEXT    NOT NULL,           -- due, due_desc, opened, opened_desc
    created_by  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_by  TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX inbox_views_by_office ON inbox_views (office, name);
