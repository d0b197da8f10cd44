-- Every task query is scoped to the caller's projects, so the planner looks tasks up one project
-- at a time; with the trigram index on title alone it ANDs it with the project index, reading
-- every task of each project. One GIN index over (project_id, title) answers both conditions
-- at once (measured: 22 ms -> 12 ms for a 2% match over 100,000 tasks). A GIN index serves
-- conditions on any of its columns, so it replaces the title-only one. btree_gin (trusted, like
-- pg_trgm) lets GIN index the bigint.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX task_project_title_trgm_idx ON task USING gin (project_id, title gin_trgm_ops);
DROP INDEX task_title_trgm_idx;
