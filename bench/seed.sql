-- The benchmark's data set. The user 'bench' exists already (signed up through the API, so its
-- password hash is real). It gets 4 projects of :per_project tasks each (25,000 unless psql is
-- given `-v per_project=N`: 100,000 tasks); 20 other users get 2 projects of 1,000 tasks each, so
-- every query has other users' rows to skip.
-- Titles are two words of bench/wrk/words.lua and a number: each word is in about 2% of them.
\set ON_ERROR_STOP on
\if :{?per_project}
\else
    \set per_project 25000
\endif

INSERT INTO "user" (username, pwd)
SELECT 'other' || n, (SELECT pwd FROM "user" WHERE username = 'bench') FROM generate_series(1, 20) AS n;

INSERT INTO project (owner_id, name, cid, ctime, mid, mtime)
SELECT u.id, 'project ' || p, u.id, now(), u.id, now()
FROM "user" u, generate_series(1, 4) AS p
WHERE u.username = 'bench';

INSERT INTO project (owner_id, name, cid, ctime, mid, mtime)
SELECT u.id, 'project ' || p, u.id, now(), u.id, now()
FROM "user" u, generate_series(1, 2) AS p
WHERE u.username LIKE 'other%';

-- Shared projects (a schema with project_member): each of the bench user's projects is shared
-- with three other users, an editor and two viewers, so that every membership lookup of the
-- bench user's calls meets other members' rows. What the bench user sees does not change.
SELECT to_regclass('project_member') IS NOT NULL AS has_members \gset
\if :has_members
INSERT INTO project_member (project_id, user_id, role, cid, ctime, mid, mtime)
SELECT pr.id, o.id, CASE WHEN k = 0 THEN 'editor' ELSE 'viewer' END, pr.owner_id, now(), pr.owner_id, now()
FROM project pr
JOIN "user" b ON b.id = pr.owner_id AND b.username = 'bench',
     generate_series(0, 2) AS k
JOIN "user" o ON o.username = 'other' || (1 + k);
\endif

-- The bench user's tasks first, in one statement, so that their ids are one contiguous range.
INSERT INTO task (project_id, title, done, description, cid, ctime, mid, mtime)
SELECT pr.id,
       w[1 + abs(hashtext('a' || i || '.' || pr.id)) % 100] || ' ' || w[1 + abs(hashtext('b' || i || '.' || pr.id)) % 100] || ' ' || i,
       i % 3 = 0, CASE WHEN i % 2 = 0 THEN 'details of task ' || i END, pr.owner_id, now(), pr.owner_id, now()
FROM project pr
JOIN "user" u ON u.id = pr.owner_id AND u.username = 'bench',
     generate_series(1, :per_project) AS i,
     (SELECT ARRAY['apple', 'river', 'stone', 'cloud', 'garden', 'window', 'silver', 'orange', 'rocket', 'forest', 'candle', 'mirror', 'planet', 'harbor', 'violet', 'pencil', 'thunder', 'marble', 'blanket', 'castle', 'meadow', 'lantern', 'copper', 'falcon', 'island', 'jacket', 'kettle', 'ladder', 'magnet', 'nectar', 'oyster', 'parrot', 'quartz', 'saddle', 'tunnel', 'umbrella', 'velvet', 'walnut', 'yellow', 'zebra', 'anchor', 'bridge', 'cactus', 'dragon', 'engine', 'feather', 'glacier', 'hammer', 'igloo', 'jungle', 'koala', 'lemon', 'mango', 'needle', 'orchid', 'pepper', 'quiver', 'radish', 'spider', 'tomato', 'unicorn', 'valley', 'wizard', 'basket', 'canyon', 'desert', 'empire', 'fossil', 'goblin', 'helmet', 'insect', 'jigsaw', 'kitten', 'lizard', 'mammoth', 'nugget', 'otter', 'pirate', 'quill', 'raven', 'sphinx', 'trumpet', 'urchin', 'vessel', 'whistle', 'yogurt', 'zipper', 'beacon', 'cobalt', 'dynamo', 'ember', 'flint', 'gravel', 'hazel', 'ivory', 'juniper', 'lagoon', 'mosaic', 'nimbus', 'comet'] AS w) AS words
ORDER BY pr.id, i;

INSERT INTO task (project_id, title, done, cid, ctime, mid, mtime)
SELECT pr.id,
       w[1 + abs(hashtext('c' || i || '.' || pr.id)) % 100] || ' ' || w[1 + abs(hashtext('d' || i || '.' || pr.id)) % 100] || ' ' || i,
       i % 2 = 0, pr.owner_id, now(), pr.owner_id, now()
FROM project pr
JOIN "user" u ON u.id = pr.owner_id AND u.username LIKE 'other%',
     generate_series(1, 1000) AS i,
     (SELECT ARRAY['apple', 'river', 'stone', 'cloud', 'garden', 'window', 'silver', 'orange', 'rocket', 'forest', 'candle', 'mirror', 'planet', 'harbor', 'violet', 'pencil', 'thunder', 'marble', 'blanket', 'castle', 'meadow', 'lantern', 'copper', 'falcon', 'island', 'jacket', 'kettle', 'ladder', 'magnet', 'nectar', 'oyster', 'parrot', 'quartz', 'saddle', 'tunnel', 'umbrella', 'velvet', 'walnut', 'yellow', 'zebra', 'anchor', 'bridge', 'cactus', 'dragon', 'engine', 'feather', 'glacier', 'hammer', 'igloo', 'jungle', 'koala', 'lemon', 'mango', 'needle', 'orchid', 'pepper', 'quiver', 'radish', 'spider', 'tomato', 'unicorn', 'valley', 'wizard', 'basket', 'canyon', 'desert', 'empire', 'fossil', 'goblin', 'helmet', 'insect', 'jigsaw', 'kitten', 'lizard', 'mammoth', 'nugget', 'otter', 'pirate', 'quill', 'raven', 'sphinx', 'trumpet', 'urchin', 'vessel', 'whistle', 'yogurt', 'zipper', 'beacon', 'cobalt', 'dynamo', 'ember', 'flint', 'gravel', 'hazel', 'ivory', 'juniper', 'lagoon', 'mosaic', 'nimbus', 'comet'] AS w) AS words;

VACUUM ANALYZE;
