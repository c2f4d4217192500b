-- Accounts and request bookkeeping for the server, SQLite back end: users and the roles they
-- hold in offices, API tokens, browser sessions, login attempts (for rate limiting) and
-- idempotency keys. None of this is derived from the log and none of it is in the hash chain:
-- the log records who acted (actor user and role) on every event, these tables only decide
-- who may act. Numbered 0010 to leave 0002-0009 to the store.
--
-- Instants are INTEGER microseconds since the epoch, as in 0001; flags are 0/1.

CREATE TABLE users (
    login                TEXT    PRIMARY KEY,
    display_name         TEXT    NOT NULL,
    password_hash        TEXT,                  -- argon2 PHC string; NULL: tokens only
    disabled             INTEGER NOT NULL DEFAULT 0,
    must_change_password INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    created_by           TEXT    NOT NULL
);

-- A role held in an office; office '*' is every office (auditors, analysts, administrators,
-- integrations such as the e-gov portal).
CREATE TABLE user_roles (
    login  TEXT NOT NULL,
    role   TEXT NOT NULL,
    office TEXT NOT NULL,
    PRIMARY KEY (login, role, office)
);

-- Bearer tokens: only the SHA-256 of the token is kept.
CREATE TABLE api_tokens (
    token_hash TEXT    PRIMARY KEY,
    prefix     TEXT    NOT NULL,                -- the token's first characters, for lists
    login      TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_tokens_by_login ON api_tokens (login);

-- Browser sessions (the web interface): only the SHA-256 of the cookie value is kept.
CREATE TABLE sessions (
    session_hash TEXT    PRIMARY KEY,
    login        TEXT    NOT NULL,
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Failed and successful sign-ins, counted per login and per address over a window.
CREATE TABLE login_attempts (
    id    INTEGER PRIMARY KEY,
    login TEXT    NOT NULL,
    ip    TEXT    NOT NULL,
    at    INTEGER NOT NULL,
    ok    INTEGER NOT NULL
);
CREATE INDEX login_attempts_by_login ON login_attempts (login, at);
CREATE INDEX login_attempts_by_ip ON login_attempts (ip, at);

-- The first response to a state-changing request sent with an Idempotency-Key, per user, so
-- that a retry gets the same answer instead of a second effect. `status` is NULL while the
-- first request is still being handled.
CREATE TABLE idempotency_keys (
    login        TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    fingerprint  TEXT    NOT NULL,              -- SHA-256 of method, path and body
    created_at   INTEGER NOT NULL,
    status       INTEGER,
    content_type TEXT,
    location     TEXT,
    body         TEXT,
    PRIMARY KEY (login, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
