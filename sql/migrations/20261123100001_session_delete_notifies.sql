-- Sessions end with their row. Every deletion of a session row, whoever makes it (logoff,
-- change_pwd, the user's row deleted and its sessions cascading, an operator's SQL, the purge of
-- expired sessions), announces the session's id on the channel 'session_revoked', so that every
-- server instance drops it from its in-process cache. The notifications are sent when the
-- deleting transaction commits, and not at all when it rolls back.
CREATE FUNCTION session_revoked_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('session_revoked', gone.id::text) FROM gone;
    RETURN NULL;
END
$$;

-- One trigger per statement, reading the deleted rows from the transition table: a purge of many
-- sessions costs one trigger call, not one per row.
CREATE TRIGGER session_revoked_notify
    AFTER DELETE ON session
    REFERENCING OLD TABLE AS gone
    FOR EACH STATEMENT
    EXECUTE FUNCTION session_revoked_notify();

-- TRUNCATE (also `TRUNCATE "user" CASCADE`) deletes without row events: '*' tells every instance
-- to forget all the sessions it holds.
CREATE FUNCTION session_truncated_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('session_revoked', '*');
    RETURN NULL;
END
$$;

CREATE TRIGGER session_truncated_notify
    AFTER TRUNCATE ON session
    FOR EACH STATEMENT
    EXECUTE FUNCTION session_truncated_notify();
