-- Accounts, sessions, login throttling, and the two demo entities: projects and their tasks.
-- Every id is a 64-bit identity; every time is timestamptz (microseconds, UTC on the wire).

CREATE TABLE "user" (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username    TEXT NOT NULL,
    -- A scheme-tagged hash, '#02#$argon2id$...': never the password.
    pwd         TEXT NOT NULL,
    ctime       TIMESTAMPTZ NOT NULL DEFAULT now(),
    mtime       TIMESTAMPTZ NOT NULL DEFAULT now()
);
-- Usernames are unique whatever their case; logins look them up the same way.
CREATE UNIQUE INDEX user_username_key ON "user" (lower(username));

CREATE TABLE session (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- SHA-256 of the cookie's token: a leaked row cannot be used as a cookie.
    token_hash       BYTEA NOT NULL CONSTRAINT session_token_hash_key UNIQUE,
    user_id          BIGINT NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
    ctime            TIMESTAMPTZ NOT NULL,
    -- The absolute end, fixed at login.
    expires_at       TIMESTAMPTZ NOT NULL,
    -- The idle end, pushed forward by activity (at most about once a minute, not every request).
    idle_expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX session_user_id_idx ON session (user_id);
CREATE INDEX session_expires_at_idx ON session (expires_at);

-- Failed logins per key ('user:<lower name>' or 'addr:<ip>') in a fixed window. Kept in Postgres so
-- that every server instance sees the same counts.
CREATE TABLE login_throttle (
    key           TEXT PRIMARY KEY,
    window_start  TIMESTAMPTZ NOT NULL,
    failures      INTEGER NOT NULL
);

CREATE TABLE project (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    owner_id  BIGINT NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
    name      TEXT NOT NULL
              CONSTRAINT project_name_check CHECK (btrim(name) <> '' AND char_length(name) <= 200),
    cid       BIGINT NOT NULL,
    ctime     TIMESTAMPTZ NOT NULL,
    mid       BIGINT NOT NULL,
    mtime     TIMESTAMPTZ NOT NULL,
    CONSTRAINT project_owner_name_key UNIQUE (owner_id, name)
);

CREATE TABLE task (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    project_id   BIGINT NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    title        TEXT NOT NULL
                 CONSTRAINT task_title_check CHECK (btrim(title) <> '' AND char_length(title) <= 500),
    done         BOOLEAN NOT NULL DEFAULT false,
    description  TEXT CONSTRAINT task_description_check CHECK (char_length(description) <= 10000),
    cid          BIGINT NOT NULL,
    ctime        TIMESTAMPTZ NOT NULL,
    mid          BIGINT NOT NULL,
    mtime        TIMESTAMPTZ NOT NULL
);
-- Ownership of a task goes through its project: list and count join on it.
CREATE INDEX task_project_id_idx ON task (project_id, id);
