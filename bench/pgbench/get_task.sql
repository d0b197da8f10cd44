-- The statement the server sends for get_task (captured with RUST_LOG=sqlx::query=debug).
\set id random(:task_min, :task_max)
SELECT "task"."id", "task"."project_id", "task"."title", "task"."done", "task"."description", "task"."cid", "task"."ctime", "task"."mid", "task"."mtime" FROM "task" WHERE "task"."id" = :id AND EXISTS(SELECT 1 FROM "project" WHERE "project"."id" = "task"."project_id" AND "project"."owner_id" = :uid);
