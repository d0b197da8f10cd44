-- A task's change is captured only when one of the users who may see it has subscribers.
--
-- Until now any subscriber anywhere made every write to a task pay for its capture (its images
-- into live_change), its reading and a look at who may see it: 1,000 sockets of a few users cost
-- every other user's writes a quarter of their speed, though nothing was ever delivered to them.
-- Now each instance lists, in its live_interest row, the users it has subscribers for
-- (`readers`), and a task's triggers capture its change only when a member of its project is
-- among the readers of an instance whose interest lasts.
--
-- The readers are an array in the instance's row, not a table of their own: the condition runs
-- for every row written, and this way it reads only relations the write has locked already
-- (live_interest, project_member and its key), so it adds no lock to any write.
--
-- Who is a reader changes as the interest does: the instance that adds one waits, before the
-- subscription is answered, for the transactions in flight, which may have looked before the
-- row was committed (lib_model::live::wait_for_writes_in_flight).
--
-- Access gained concurrently with a write: a write whose statement did not yet see the new
-- membership does not capture for the new member (docs/api.md says when that shows).
-- Access lost: the change is captured, and delivery, which checks access again, leaves them out.
--
-- Projects and memberships keep the instance-wide gate (live_wanted): they change rarely, and a
-- new project's first member is written after the project row, by its own trigger.

ALTER TABLE live_interest ADD COLUMN readers BIGINT[] NOT NULL DEFAULT '{}';

-- Whether some member of the project has subscribers on an instance whose interest lasts. While
-- no one subscribes, one look at an empty table, as live_wanted. PL/pgSQL, as live_wanted: its
-- query keeps its plan for the session.
CREATE FUNCTION live_wanted_in(of_project BIGINT) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN EXISTS (
        SELECT 1
        FROM live_interest i
        WHERE i.until > now()
          AND EXISTS (
              SELECT 1 FROM project_member m WHERE m.project_id = of_project AND m.user_id = ANY (i.readers)
          )
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
