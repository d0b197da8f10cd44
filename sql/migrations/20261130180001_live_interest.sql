-- Live updates cost writes nothing while no one subscribes.
--
-- Announcing a change costs a write its rows' images in live_change and a NOTIFY, and a
-- transaction that has sent NOTIFY holds Postgres' notification queue lock through its commit:
-- writers then commit one at a time (update_task ran at half its speed). So changes are captured
-- only while some instance has subscribers: each such instance keeps a row here whose `until` it
-- moves forward while it has subscriptions, and lets it lapse when it has none.
--
-- The one moment that needs care is the first subscription: a write that looked here before the
-- row was committed, and commits after, is not announced. The instance that declares its interest
-- therefore waits, before its subscription is answered, for the transactions in flight when its
-- row was committed (lib_model::live::declare_interest).

CREATE TABLE live_interest (
    instance  TEXT PRIMARY KEY,
    until     TIMESTAMPTZ NOT NULL
);

-- Whether any instance wants changes now. STABLE: one look per statement is enough.
CREATE FUNCTION live_wanted() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM live_interest WHERE until > now());
$$;

CREATE OR REPLACE FUNCTION live_created() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b BIGINT;
BEGIN
    IF NOT live_wanted() THEN
        RETURN NULL;
    END IF;
    b := nextval('live_batch');
    INSERT INTO live_change (batch, entity, op, new)
    SELECT b, TG_TABLE_NAME, 'create', to_jsonb(n) FROM new_rows n ORDER BY n.id;
    IF FOUND THEN
        PERFORM live_announce(TG_TABLE_NAME, b);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION live_updated() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b BIGINT;
BEGIN
    IF NOT live_wanted() THEN
        RETURN NULL;
    END IF;
    b := nextval('live_batch');
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

CREATE OR REPLACE FUNCTION live_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b BIGINT;
BEGIN
    IF NOT live_wanted() THEN
        RETURN NULL;
    END IF;
    b := nextval('live_batch');
    INSERT INTO live_change (batch, entity, op, old)
    SELECT b, TG_TABLE_NAME, 'delete', to_jsonb(o) FROM old_rows o ORDER BY o.id;
    IF FOUND THEN
        PERFORM live_announce(TG_TABLE_NAME, b);
    END IF;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION live_project_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    b BIGINT;
BEGIN
    IF NOT live_wanted() THEN
        RETURN OLD;
    END IF;
    b := nextval('live_batch');
    INSERT INTO live_change (batch, entity, op, old, readers)
    VALUES (b, 'project', 'delete', to_jsonb(OLD),
            ARRAY(SELECT m.user_id FROM project_member m WHERE m.project_id = OLD.id));
    PERFORM live_announce('project', b);
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
    b := nextval('live_batch');
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
