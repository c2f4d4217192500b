-- Notifications (server/src/notify/): what each user chose to hear and where, the webhook
-- subscribers an administrator configured, and the notices the dispatcher made of the
-- store's outbox (engine/store/migrations/*/0009_outbox.sql), each with its delivery:
-- attempts, the last error, when it is tried next, when it was delivered. Not part of the
-- hash chain. Instants are microseconds since the epoch, as everywhere.

-- A user's address and language for notices (NULL e-mail: no e-mail is sent to them).
CREATE TABLE notify_profiles (
    login      TEXT COLLATE "C" PRIMARY KEY,
    email      TEXT,
    language   TEXT    NOT NULL DEFAULT 'ru',   -- kk, ru or en
    updated_at BIGINT NOT NULL
);

-- Which notices a user gets and when: 'now', 'opening' (at the next opening of the office,
-- the default) or 'off'. A kind without a row is 'opening'.
CREATE TABLE notify_choices (
    login TEXT COLLATE "C" NOT NULL,
    kind  TEXT    NOT NULL,                     -- task, warning, breach, escalation
    mode  TEXT    NOT NULL,
    PRIMARY KEY (login, kind)
);

-- Webhook subscribers (the e-gov portal, …): the secret signs each body (HMAC-SHA256) and is
-- never shown back; 'events' lists what it hears (registered, result_ready, cancelled).
CREATE TABLE webhooks (
    id         TEXT COLLATE "C" PRIMARY KEY,
    url        TEXT    NOT NULL,
    secret     TEXT    NOT NULL,
    events     TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    reason     TEXT    NOT NULL,
    removed_at BIGINT
);

-- One notice to one recipient over one channel. Its id is made of the outbox row, the channel
-- and the recipient, so a dispatch done twice makes one notice; a webhook delivery sends it as
-- the Idempotency-Key and an e-mail as its Message-ID, the same on every attempt.
CREATE TABLE notices (
    id           TEXT COLLATE "C" PRIMARY KEY,
    outbox_id    BIGINT NOT NULL,
    case_id      TEXT    NOT NULL,
    kind         TEXT    NOT NULL,              -- task, warning, breach, escalation, registered, result_ready, cancelled
    channel      TEXT    NOT NULL,              -- email or webhook
    recipient    TEXT    NOT NULL,              -- a login, or a webhook's id
    target       TEXT    NOT NULL,              -- the address or URL when it was made
    language     TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    body         TEXT    NOT NULL,              -- the e-mail's text, or the webhook's JSON
    created_at   BIGINT NOT NULL,
    not_before   BIGINT NOT NULL,              -- office hours: not sent before
    status       TEXT    NOT NULL,              -- pending, delivered, failed (gave up)
    attempts     BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT,
    next_at      BIGINT NOT NULL,              -- the next attempt
    delivered_at BIGINT
);
CREATE INDEX notices_due ON notices (next_at) WHERE status = 'pending';
CREATE INDEX notices_by_case ON notices (case_id);
