-- create_task: insert guarded by the project's ownership, returning the row.
\set p random(:project_min, :project_max)
\set n random(1, 1000000)
INSERT INTO "task" ("project_id", "title", "cid", "ctime", "mid", "mtime") SELECT :p::bigint, 'bench created ' || :n, :uid::bigint, now(), :uid::bigint, now() WHERE EXISTS(SELECT 1 FROM "project" WHERE "project"."id" = :p AND "project"."owner_id" = :uid) RETURNING "id", "project_id", "title", "done", "description", "cid", "ctime", "mid", "mtime";
