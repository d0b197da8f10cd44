-- Shared projects: a project's members, each with one role. Access to a project and its tasks
-- comes from these rows alone: a member may read, an editor or the owner may change the tasks,
-- the owner may change the project and its members. project.owner_id stays the current owner
-- (kept in step by the ownership transfer), for the clients that read it.

CREATE TABLE project_member (
    project_id  BIGINT NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    user_id     BIGINT NOT NULL REFERENCES "user" (id) ON DELETE CASCADE,
    role        TEXT NOT NULL CONSTRAINT project_member_role_check CHECK (role IN ('owner', 'editor', 'viewer')),
    cid         BIGINT NOT NULL,
    ctime       TIMESTAMPTZ NOT NULL,
    mid         BIGINT NOT NULL,
    mtime       TIMESTAMPTZ NOT NULL,
    -- One membership per user and project; the key also serves "is this user a member of that
    -- project", the lookup behind every scoped statement.
    CONSTRAINT project_member_pkey PRIMARY KEY (project_id, user_id),
    -- At most one owner per project, checked at the end of each statement: a transfer changes
    -- the old owner's and the new owner's rows in one statement.
    CONSTRAINT project_member_one_owner EXCLUDE USING btree (project_id WITH =) WHERE (role = 'owner')
        DEFERRABLE INITIALLY IMMEDIATE
);
-- A user's projects (list_projects), with the role read from the index alone.
CREATE INDEX project_member_user_idx ON project_member (user_id, project_id) INCLUDE (role);

-- Every existing project's owner becomes its owner member.
INSERT INTO project_member (project_id, user_id, role, cid, ctime, mid, mtime)
SELECT id, owner_id, 'owner', cid, ctime, mid, mtime FROM project;

-- A new project's creator becomes its owner member in the same statement, whoever inserts it
-- (the API, a transaction's run of creates, SQL by hand).
CREATE FUNCTION project_owner_becomes_member() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO project_member (project_id, user_id, role, cid, ctime, mid, mtime)
    VALUES (NEW.id, NEW.owner_id, 'owner', NEW.cid, NEW.ctime, NEW.mid, NEW.mtime);
    RETURN NULL;
END
$$;
CREATE TRIGGER project_owner_becomes_member AFTER INSERT ON project
    FOR EACH ROW EXECUTE FUNCTION project_owner_becomes_member();
