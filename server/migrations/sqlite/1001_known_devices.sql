-- Sign-in throttling with device cookies (OWASP): a browser or client that signed in to a
-- login once gets a random device cookie, of which only the SHA-256 is kept here with the
-- login. Attempts from such a device are counted on their own (`login_attempts.device`), so
-- that someone guessing a login's password elsewhere, or from the same NAT address, does not
-- keep its owner out. Not part of the hash chain, like the rest of 0010. Numbered 1001: the
-- store gives its users versions 10 and from 1000 on.

ALTER TABLE login_attempts ADD COLUMN device TEXT;  -- the device cookie's hash, when known for the login

CREATE TABLE known_devices (
    device_hash TEXT    NOT NULL,
    login       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,                     -- the last successful sign-in from it
    PRIMARY KEY (device_hash, login)
);
CREATE INDEX known_devices_by_age ON known_devices (last_seen);
