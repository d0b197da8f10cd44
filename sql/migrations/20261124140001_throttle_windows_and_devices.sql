-- Throttle keys of different kinds (failed logins per name, address or device; signups per
-- address) keep different windows, so each row records when its own window ends. The purge
-- deletes a row once that has passed. Rows already here were login windows of the default
-- length (LOGIN_WINDOW_SEC = 900).
ALTER TABLE login_throttle ADD COLUMN window_end TIMESTAMPTZ;
UPDATE login_throttle SET window_end = window_start + interval '900 seconds';
ALTER TABLE login_throttle ALTER COLUMN window_end SET NOT NULL;

-- Browsers that a user has logged in from (the `device` cookie). A login that presents one for
-- its username is throttled only by that device's own failures, so failures from elsewhere cannot
-- lock the owner out. Only a hash of the cookie's token is kept.
CREATE TABLE device (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- SHA-256 of the cookie's token: a leaked row cannot be used as a cookie.
    token_hash  BYTEA NOT NULL CONSTRAINT device_token_hash_key UNIQUE,
    user_id     BIGINT NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
    ctime       TIMESTAMPTZ NOT NULL,
    -- The last successful login with it; a device unused for a year is forgotten.
    last_used   TIMESTAMPTZ NOT NULL
);
-- A user's devices, newest first: the oldest beyond the per-user cap are deleted at each new one.
CREATE INDEX device_user_id_last_used_idx ON device (user_id, last_used);
-- The purge of devices unused for a year.
CREATE INDEX device_last_used_idx ON device (last_used);
