-- update_task {"done": b}: ownership in the same statement, returning the row.
\set id random(:task_min, :task_max)
\set b random(0, 1)
UPDATE "task" SET "done" = (:b = 1), "mid" = :uid, "mtime" = now() WHERE "task"."id" = :id AND EXISTS(SELECT 1 FROM "project" WHERE "project"."id" = "task"."project_id" AND "project"."owner_id" = :uid) RETURNING "id", "project_id", "title", "done", "description", "cid", "ctime", "mid", "mtime";
