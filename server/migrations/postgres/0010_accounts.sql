-- Accounts and request bookkeeping for the server, PostgreSQL back end: the same tables as
-- engine/migrations/sqlite/0010_accounts.sql (see there), with BOOLEAN flags.

CREATE TABLE users (
    login                TEXT COLLATE "C" PRIMARY KEY,
    display_name         TEXT    NOT NULL,
    password_hash        TEXT,
    disabled             BOOLEAN NOT NULL DEFAULT FALSE,
    must_change_password BOOLEAN NOT NULL DEFAULT FALSE,
    created_at           BIGINT  NOT NULL,
    created_by           TEXT    NOT NULL
);

CREATE TABLE user_roles (
    login  TEXT COLLATE "C" NOT NULL,
    role   TEXT COLLATE "C" NOT NULL,
    office TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (login, role, office)
);

CREATE TABLE api_tokens (
    token_hash TEXT   PRIMARY KEY,
    prefix     TEXT   NOT NULL,
    login      TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_by_login ON api_tokens (login);

CREATE TABLE sessions (
    session_hash TEXT   PRIMARY KEY,
    login        TEXT   NOT NULL,
    csrf_token   TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

CREATE TABLE login_attempts (
    id    BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login TEXT    NOT NULL,
    ip    TEXT    NOT NULL,
    at    BIGINT  NOT NULL,
    ok    BOOLEAN NOT NULL
);
CREATE INDEX login_attempts_by_login ON login_attempts (login, at);
CREATE INDEX login_attempts_by_ip ON login_attempts (ip, at);

CREATE TABLE idempotency_keys (
    login        TEXT   NOT NULL,
    key          TEXT   NOT NULL,
    fingerprint  TEXT   NOT NULL,
    created_at   BIGINT NOT NULL,
    status       INTEGER,
    content_type TEXT,
    location     TEXT,
    body         TEXT,
    PRIMARY KEY (login, key)
);
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
