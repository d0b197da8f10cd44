-- Live updates: every committed change to a project or a task is announced to every server
-- instance, whoever made it (the API, a transaction, an operator's SQL).
--
-- A change is written to live_change (the row's image before and after) by the statement that
-- makes it, and the statement's batch number is sent with NOTIFY on 'live_change' as
-- '<entity>:<batch>'. Postgres sends notifications when the transaction commits, in commit
-- order, and drops them on rollback; so an instance that reads a batch after its notification
-- reads a committed change, and the changes to one row (whose writers wait for each other's
-- commit) arrive in the order they were committed. The payload stays a few bytes, far below
-- NOTIFY's 8,000: rows travel through the table.

CREATE SEQUENCE live_batch;

CREATE TABLE live_change (
    seq      BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch    BIGINT NOT NULL,
    entity   TEXT NOT NULL,
    op       TEXT NOT NULL CONSTRAINT live_change_op_check CHECK (op IN ('create', 'update', 'delete')),
    -- The row before (update, delete) and after (create, update), as to_jsonb of the table's row.
    old      JSONB,
    new      JSONB,
    -- Who could see a deleted project, read before its memberships went with it; NULL: access is
    -- that of the row's project now, checked at delivery.
    readers  BIGINT[],
    at       TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX live_change_batch_idx ON live_change (batch);

-- One statement's changes: a batch, announced once.
CREATE FUNCTION live_announce(entity TEXT, batch BIGINT) RETURNS void LANGUAGE sql AS $$
    SELECT pg_notify('live_change', entity || ':' || batch);
$$;

CREATE FUNCTION live_created() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b BIGINT := nextval('live_batch');
BEGIN
    INSERT INTO live_change (batch, entity, op, new)
    SELECT b, TG_TABLE_NAME, 'create', to_jsonb(n) FROM new_rows n ORDER BY n.id;
    IF FOUND THEN
        PERFORM live_announce(TG_TABLE_NAME, b);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION live_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b BIGINT := nextval('live_batch');
BEGIN
    INSERT INTO live_change (batch, entity, op, old, new)
    SELECT b, TG_TABLE_NAME, 'update', to_jsonb(o), to_jsonb(n)
    FROM old_rows o JOIN new_rows n ON n.id = o.id
    ORDER BY n.id;
    IF FOUND THEN
        PERFORM live_announce(TG_TABLE_NAME, b);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION live_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b BIGINT := nextval('live_batch');
BEGIN
    INSERT INTO live_change (batch, entity, op, old)
    SELECT b, TG_TABLE_NAME, 'delete', to_jsonb(o) FROM old_rows o ORDER BY o.id;
    IF FOUND THEN
        PERFORM live_announce(TG_TABLE_NAME, b);
    END IF;
    RETURN NULL;
END
$$;

-- Statement triggers reading transition tables: a statement that changes many rows costs one
-- trigger call and one notification, not one per row.
CREATE TRIGGER live_created AFTER INSERT ON task
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION live_created();
CREATE TRIGGER live_updated AFTER UPDATE ON task
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION live_updated();
CREATE TRIGGER live_deleted AFTER DELETE ON task
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION live_deleted();

CREATE TRIGGER live_created AFTER INSERT ON project
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION live_created();
CREATE TRIGGER live_updated AFTER UPDATE ON project
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION live_updated();

-- A deleted project takes its memberships with it, so its readers are read before it goes.
CREATE FUNCTION live_project_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b BIGINT := nextval('live_batch');
BEGIN
    INSERT INTO live_change (batch, entity, op, old, readers)
    VALUES (b, 'project', 'delete', to_jsonb(OLD),
            ARRAY(SELECT m.user_id FROM project_member m WHERE m.project_id = OLD.id));
    PERFORM live_announce('project', b);
    RETURN OLD;
END
$$;
CREATE TRIGGER live_project_deleted BEFORE DELETE ON project
    FOR EACH ROW EXECUTE FUNCTION live_project_deleted();

-- A project's members decide who sees it and in which role: a member added (or whose role
-- changed) sees the project change, so a live project list gains it. A project's creator
-- becomes its owner member with the project's own create, which already says so.
CREATE FUNCTION live_members_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b BIGINT := nextval('live_batch');
BEGIN
    INSERT INTO live_change (batch, entity, op, old, new)
    SELECT b, 'project', 'update', to_jsonb(p), to_jsonb(p)
    FROM project p
    WHERE p.id IN (SELECT m.project_id FROM new_rows m WHERE m.role <> 'owner' OR TG_OP = 'UPDATE')
    ORDER BY p.id;
    IF FOUND THEN
        PERFORM live_announce('project', b);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER live_members_added AFTER INSERT ON project_member
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION live_members_changed();
CREATE TRIGGER live_members_updated AFTER UPDATE ON project_member
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION live_members_changed();
