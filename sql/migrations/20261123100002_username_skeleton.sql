-- Usernames are compared as RFC 8265 UsernameCaseMapped (PRECIS) forms, and a new username may not
-- look like an existing one: its UTS #39 confusable skeleton must be new. The skeleton is computed
-- by the server (Rust), which also fills it in at start for rows that have none (every row that
-- existed before this migration). Existing usernames are not rewritten here: a row whose skeleton
-- would collide with another's keeps NULL, so that no old account stops working.
ALTER TABLE "user" ADD COLUMN username_skeleton TEXT;
CREATE UNIQUE INDEX user_username_skeleton_key ON "user" (username_skeleton);
