-- Sign-in throttling with device cookies: the same as
-- server/migrations/sqlite/1001_known_devices.sql (see there).

ALTER TABLE login_attempts ADD COLUMN device TEXT;

CREATE TABLE known_devices (
    device_hash TEXT   NOT NULL,
    login       TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    last_seen   BIGINT NOT NULL,
    PRIMARY KEY (device_hash, login)
);
CREATE INDEX known_devices_by_age ON known_devices (last_seen);
