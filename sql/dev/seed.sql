-- Development demo data for the user 'demo1' (created by the server with a real password hash
-- just before this script runs). Applied only to an empty development database.
WITH demo AS (SELECT id FROM "user" WHERE username = 'demo1'),
project_rows AS (
    INSERT INTO project (owner_id, name, cid, ctime, mid, mtime)
    SELECT demo.id, p.name, demo.id, now(), demo.id, now()
    FROM demo, (VALUES ('Demo project'), ('Home')) AS p (name)
    RETURNING id, name, owner_id
)
INSERT INTO task (project_id, title, done, description, cid, ctime, mid, mtime)
SELECT project_rows.id, t.title, t.done, t.description, project_rows.owner_id, now(), project_rows.owner_id, now()
FROM project_rows
JOIN (VALUES
    ('Demo project', 'Read the API docs', true, 'docs/api.md lists every method with a curl example'),
    ('Demo project', 'Run quick_dev', false, 'cargo run --example quick_dev'),
    ('Demo project', 'Add an entity', false, NULL),
    ('Home', 'Buy milk', false, NULL)
) AS t (project, title, done, description) ON t.project = project_rows.name;
