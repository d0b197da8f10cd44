-- A project's owner_id is always its owner member: a transfer that races the new owner's leaving
-- (or removal) would otherwise leave a project with no owner at all. Checked at commit, since a
-- new project's owner membership is added by a trigger after its row.
ALTER TABLE project ADD CONSTRAINT project_owner_is_member
    FOREIGN KEY (id, owner_id) REFERENCES project_member (project_id, user_id)
    DEFERRABLE INITIALLY DEFERRED;

-- Project names are no longer unique per owner: with ownership transfers, "the new owner already
-- has a project of this name" would tell a user that someone else, who never shared it, has a
-- project of a name they guessed. Names are labels; ids identify.
ALTER TABLE project DROP CONSTRAINT project_owner_name_key;
