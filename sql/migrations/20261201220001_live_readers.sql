-- A task's change is captured only when one of the users who may see it has subscribers.
--
-- Until now any subscriber anywhere made every write to a task pay for its capture (its images
-- into live_change), its reading and a look at who may see it: 1,000 sockets of a few users cost
-- every other user's writes a quarter of their speed, though nothing was ever delivered to them.
-- Now each instance lists, besides its interest, the users it has subscribers for (live_reader),
-- and a task's triggers capture its change only when a member of its project is among them.
--
-- A reader is declared with its instance's interest, and counts while that interest lasts. Who
-- is a reader changes as in live_interest: the instance that adds one waits, before the
-- subscription is answered, for the transactions in flight, which may have looked before the
-- row was committed (lib_model::live::wait_for_writes_in_flight).
--
-- Access gained concurrently with a write: a write whose statement did not yet see the new
-- membership does not capture for the new member (docs/api.md says when that shows).
-- Access lost: the change is captured, and delivery, which checks access again, leaves them out.
--
-- Projects and memberships keep the instance-wide gate (live_wanted): they change rarely, and a
-- new project's first member is written after the project row, by its own trigger.

CREATE TABLE live_reader (
    user_id   BIGINT NOT NULL,
    instance  TEXT NOT NULL REFERENCES live_interest (instance) ON DELETE CASCADE,
    -- The key serves the triggers' lookup by user.
    PRIMARY KEY (user_id, instance)
);
CREATE INDEX live_reader_instance_idx ON live_reader (instance);

-- Whether some member of the project has subscribers on an instance whose interest lasts. The
-- instance-wide look first: while no one subscribes, a write pays what it paid before.
-- PL/pgSQL, as live_wanted: its queries keep their plans for the session.
CREATE FUNCTION live_wanted_in(of_project BIGINT) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM live_interest WHERE until > now()) THEN
        RETURN false;
    END IF;
    RETURN EXISTS (
        SELECT 1
        FROM project_member m
        JOIN live_reader r ON r.user_id = m.user_id
        JOIN live_interest i ON i.instance = r.instance
        WHERE m.project_id = of_project AND i.until > now()
    );
END
$$;

-- One trigger per operation: a condition may name NEW only for inserts and updates, OLD only
-- for updates and deletes. A task moved between projects is captured if either has a reader.
DROP TRIGGER live_row_changed ON task;
CREATE TRIGGER live_task_created AFTER INSERT ON task
    FOR EACH ROW WHEN (live_wanted_in(NEW.project_id)) EXECUTE FUNCTION live_row_changed();
CREATE TRIGGER live_task_updated AFTER UPDATE ON task
    FOR EACH ROW WHEN (live_wanted_in(NEW.project_id)
                       OR (OLD.project_id <> NEW.project_id AND live_wanted_in(OLD.project_id)))
    EXECUTE FUNCTION live_row_changed();
CREATE TRIGGER live_task_deleted AFTER DELETE ON task
    FOR EACH ROW WHEN (live_wanted_in(OLD.project_id)) EXECUTE FUNCTION live_row_changed();
