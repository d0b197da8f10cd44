-- count_tasks with {"project_id": p, "done": true}.
\set p random(:project_min, :project_max)
SELECT count(*) FROM "task" WHERE EXISTS(SELECT 1 FROM "project" WHERE "project"."id" = "task"."project_id" AND "project"."owner_id" = :uid) AND ("task"."done" = true AND "task"."project_id" = :p);
