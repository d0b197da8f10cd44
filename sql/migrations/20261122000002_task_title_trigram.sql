-- Substring and case-insensitive filters on task titles ($contains, $containsCi, $startsWith,
-- $ilike, ...) compile to LIKE / ILIKE; a trigram index answers them without scanning the table.
-- pg_trgm is a trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX task_title_trgm_idx ON task USING gin (title gin_trgm_ops);
