-- Live changes are read by the instances that want them, no longer announced with NOTIFY.
--
-- Postgres commits the transactions that sent a notification one at a time: each holds a
-- database-wide lock from before its commit record is written until after it is flushed, so
-- that notifications are queued in commit order. With a NOTIFY in every captured write, writes
-- ran at a sixth below their speed while anyone subscribed. Instead, each instance with
-- subscribers reads live_change every few milliseconds (lib_model::live, read.rs): the rows past
-- the highest it saw, and those of the transactions then in progress.
--
-- What that reading relies on: a change's seq is drawn after its transaction has its id (b is
-- taken first, by txid_current(), before the row is inserted), so any row numbered below one
-- already committed is committed too or belongs to a transaction listed as in progress.

CREATE OR REPLACE FUNCTION live_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b BIGINT := txid_current();
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO live_change (batch, entity, op, new) VALUES (b, TG_TABLE_NAME, 'create', to_jsonb(NEW));
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO live_change (batch, entity, op, old, new)
        VALUES (b, TG_TABLE_NAME, 'update', to_jsonb(OLD), to_jsonb(NEW));
    ELSE
        INSERT INTO live_change (batch, entity, op, old) VALUES (b, TG_TABLE_NAME, 'delete', to_jsonb(OLD));
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION live_project_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b BIGINT := txid_current();
BEGIN
    INSERT INTO live_change (batch, entity, op, old, readers)
    VALUES (b, 'project', 'delete', to_jsonb(OLD),
            ARRAY(SELECT m.user_id FROM project_member m WHERE m.project_id = OLD.id));
    RETURN OLD;
END
$$;

CREATE OR REPLACE FUNCTION live_members_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b BIGINT;
BEGIN
    IF NOT live_wanted() THEN
        RETURN NULL;
    END IF;
    b := txid_current();
    INSERT INTO live_change (batch, entity, op, old, new)
    SELECT b, 'project', 'update', to_jsonb(p), to_jsonb(p)
    FROM project p
    WHERE p.id IN (SELECT m.project_id FROM new_rows m WHERE m.role <> 'owner' OR TG_OP = 'UPDATE')
    ORDER BY p.id;
    RETURN NULL;
END
$$;

-- The changes are a queue of a few minutes, of no use after a crash (every instance restarts, and
-- its subscribers list again): written without WAL, a captured write costs far less.
ALTER TABLE live_change SET UNLOGGED;
