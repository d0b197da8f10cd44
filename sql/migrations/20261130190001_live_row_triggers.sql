-- Live capture costs a write next to nothing while no one subscribes.
--
-- The statement triggers of live_changes read transition tables, which Postgres fills for every
-- row a statement changes whether or not the trigger then has anything to do, and each called a
-- PL/pgSQL function: with the live_interest gate inside it, update_task still ran at three
-- quarters of its speed. Row triggers with a WHEN condition are not called at all while no
-- instance wants changes; the condition is one lookup in live_interest. When they are called, the
-- rows a transaction changed make one batch, numbered by the transaction's id, and its identical
-- NOTIFYs are folded into one by Postgres.

-- The condition is evaluated for every row written: as PL/pgSQL its query keeps its plan for the
-- session; as SQL it was planned anew for each statement (a fifth of update_task's throughput).
CREATE OR REPLACE FUNCTION live_wanted() RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM live_interest WHERE until > now());
END
$$;

DROP TRIGGER live_created ON task;
DROP TRIGGER live_updated ON task;
DROP TRIGGER live_deleted ON task;
DROP TRIGGER live_created ON project;
DROP TRIGGER live_updated ON project;
DROP FUNCTION live_created();
DROP FUNCTION live_updated();
DROP FUNCTION live_deleted();

-- A transaction's changes are one batch, numbered by the transaction itself (txid_current(), its
-- 64-bit id, assigned already to any transaction that writes): nothing to count or remember per
-- statement, and Postgres folds the transaction's identical NOTIFYs into one.

CREATE FUNCTION live_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
    -- pg_notify itself: an SQL function would be planned anew for every statement that calls it.
    PERFORM pg_notify('live_change', TG_TABLE_NAME || ':' || b);
    RETURN NULL;
END
$$;

CREATE TRIGGER live_row_changed AFTER INSERT OR UPDATE OR DELETE ON task
    FOR EACH ROW WHEN (live_wanted()) EXECUTE FUNCTION live_row_changed();
-- A project's delete has its own trigger, which keeps its readers (live_project_deleted).
CREATE TRIGGER live_row_changed AFTER INSERT OR UPDATE ON project
    FOR EACH ROW WHEN (live_wanted()) EXECUTE FUNCTION live_row_changed();

DROP TRIGGER live_project_deleted ON project;
CREATE TRIGGER live_project_deleted BEFORE DELETE ON project
    FOR EACH ROW WHEN (live_wanted()) EXECUTE FUNCTION live_project_deleted();

-- The project's own delete and its members' changes join their transaction's batch too.
CREATE OR REPLACE FUNCTION live_project_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b BIGINT := txid_current();
BEGIN
    INSERT INTO live_change (batch, entity, op, old, readers)
    VALUES (b, 'project', 'delete', to_jsonb(OLD),
            ARRAY(SELECT m.user_id FROM project_member m WHERE m.project_id = OLD.id));
    PERFORM pg_notify('live_change', 'project:' || b);
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
    IF FOUND THEN
        PERFORM pg_notify('live_change', 'project:' || b);
    END IF;
    RETURN NULL;
END
$$;

DROP FUNCTION live_announce(TEXT, BIGINT);
DROP SEQUENCE live_batch;
