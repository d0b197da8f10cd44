//! The model layer's error: client mistakes, typed as such, apart from the server's own failures.
//!
//! Database errors are turned into these variants where the query runs ([`Error::from_db`]), by
//! SQLSTATE and constraint name, so that no driver text ever travels upward as a message.

use std::time::Duration;

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such row, or a row the caller may not see: the two are deliberately the same.
    #[error("{entity} {id} not found")]
    EntityNotFound { entity: &'static str, id: i64 },

    /// The caller may see the row but not do this to it (their role in its project is too low).
    #[error("{entity} {id}: not allowed")]
    Forbidden { entity: &'static str, id: i64 },

    /// A unique or similar constraint refused the write.
    #[error("conflict: {detail}")]
    Conflict { detail: &'static str },

    /// A write with `if_mtime` found the row changed since that time, and changed nothing.
    #[error("{entity} {id} changed since the given mtime")]
    Stale { entity: &'static str, id: i64 },

    #[error("username already taken")]
    UsernameTaken,

    /// No user has the username given (adding a project member): an unknown user, entity `user`.
    #[error("no such user")]
    UsernameNotFound,

    /// The input is malformed or out of range: which field, and what was wrong with it.
    #[error("invalid input: {0}")]
    InvalidInput(Invalid),

    #[error("login failed")]
    LoginFailed,

    /// The caller's session or user is gone (logoff elsewhere, password change, user deleted):
    /// the client is told to log in again, never that some row is missing.
    #[error("the session has ended")]
    SessionEnded,

    #[error("too many failed attempts, retry after {retry_after:?}")]
    TooManyAttempts { retry_after: Duration },

    /// The caller already has `USER_MAX_INFLIGHT` calls using the database, and no slot came
    /// free within `USER_QUEUE_WAIT_MS`.
    #[error("too many calls at once, retry after {retry_after:?}")]
    TooManyRequests { retry_after: Duration },

    /// Postgres stopped the statement at the statement timeout (SQLSTATE 57014).
    #[error("the statement ran past the statement timeout")]
    QueryTimeout,

    /// The database cannot be reached (refused, timed out, shutting down).
    #[error("database unavailable: {0}")]
    Unavailable(#[source] sqlx::Error),

    // -- Server faults: logged, never shown to clients.
    #[error("database error: {0}")]
    Db(#[source] sqlx::Error),

    #[error("password hashing failed: {0}")]
    Pwd(#[from] lib_auth::PwdError),

    #[error("a blocking task failed: {0}")]
    BlockingTask(#[from] tokio::task::JoinError),
}

/// What was wrong with the input of a model function, in the model's words: the field at fault,
/// as a path within that function's own input, and the problem. Whoever handed the function its
/// input from a larger one (a request's `data`, its `filters`) says where it sat, with
/// [`Invalid::within`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// `title`, `id.$in`, `[1].done`, `limit`; empty when the input as a whole is at fault.
    pub field: String,
    /// What was wrong: `must be 1 to 1000`.
    pub problem: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self { field: field.into(), problem: problem.into() }
    }

    /// The same fault seen from the input that holds this one under the name `outer`: `title`
    /// within `data` is `data.title`, `[1].id` within `filters` is `filters[1].id`, and the
    /// whole input within `filters` is `filters`.
    pub fn within(self, outer: &str) -> Self {
        let field = match (outer.is_empty(), self.field.is_empty()) {
            (true, _) => self.field,
            (false, true) => outer.to_string(),
            (false, false) if self.field.starts_with('[') => format!("{outer}{}", self.field),
            (false, false) => format!("{outer}.{}", self.field),
        };
        Self { field, ..self }
    }
}

/// `field: problem`, or the problem alone when the whole input is at fault: the `detail` clients
/// read.
impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.field.as_str() {
            "" => f.write_str(&self.problem),
            field => write!(f, "{field}: {}", self.problem),
        }
    }
}

impl Error {
    pub(crate) fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::InvalidInput(Invalid::new(field, problem))
    }

    /// This error as seen by whoever gave the failed function the input named `outer`: an
    /// [`Error::InvalidInput`] names its field within `outer` ([`Invalid::within`]); every other
    /// error is unchanged.
    pub fn within(self, outer: &str) -> Self {
        match self {
            Error::InvalidInput(invalid) => Error::InvalidInput(invalid.within(outer)),
            other => other,
        }
    }

    /// Classifies a database error: outages, then known constraints, then a server fault.
    pub(crate) fn from_db(error: sqlx::Error) -> Self {
        if is_unavailable(&error) {
            return Error::Unavailable(error);
        }
        if is_query_canceled(&error) {
            return Error::QueryTimeout;
        }
        if let Some(db_error) = error.as_database_error()
            && let Some(known) = db_error.constraint().and_then(constraint_error)
        {
            return known;
        }
        if is_concurrency_failure(&error) {
            return Error::Conflict { detail: "another transaction wrote the same rows at the same time: try again" };
        }
        Error::Db(error)
    }
}

impl Error {
    /// A write refused because a referenced row is gone (SQLSTATE 23503).
    pub(crate) fn is_foreign_key_violation(&self) -> bool {
        matches!(self, Error::Db(sqlx::Error::Database(e)) if e.code().as_deref() == Some("23503"))
    }
}

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        Error::from_db(error)
    }
}

/// The client-facing meaning of each named constraint of the schema.
pub(crate) fn constraint_error(constraint: &str) -> Option<Error> {
    Some(match constraint {
        "user_username_key" | "user_username_skeleton_key" => Error::UsernameTaken,
        // A write that refers to the acting user finds no such user: the user was deleted while
        // the request was in flight, and their sessions went with them.
        "project_owner_id_fkey" | "session_user_id_fkey" => Error::SessionEnded,
        // A login whose account was deleted between the password check and recording the device.
        "device_user_id_fkey" => Error::LoginFailed,
        "project_owner_is_member" => {
            Error::Conflict { detail: "the membership changed at the same time: read the members again" }
        }
        "project_member_pkey" => Error::Conflict { detail: "already a member of this project" },
        "project_member_one_owner" => Error::Conflict { detail: "a project has exactly one owner" },
        "project_member_role_check" => Error::invalid("role", "must be owner, editor or viewer"),
        // The project or the user went while the membership was being written.
        "project_member_project_id_fkey" => Error::Conflict { detail: "the project was deleted meanwhile" },
        "project_member_user_id_fkey" => Error::Conflict { detail: "the user was deleted meanwhile" },
        "project_name_check" => Error::invalid("name", "must be 1 to 200 characters and not only spaces"),
        "task_title_check" => Error::invalid("title", "must be 1 to 500 characters and not only spaces"),
        "task_description_check" => Error::invalid("description", "must be at most 10000 characters"),
        _ => return None,
    })
}

/// SQLSTATE 40P01 (deadlock) or 40001 (serialization failure): Postgres ended the transaction
/// because another one wrote the same rows. Calls of a `transaction` can meet each other so; a
/// retry succeeds.
fn is_concurrency_failure(error: &sqlx::Error) -> bool {
    error.as_database_error().and_then(|e| e.code()).is_some_and(|code| code == "40P01" || code == "40001")
}

/// SQLSTATE 57014: the statement timeout, the only cancel this server's own statements meet
/// while someone waits for their answer (an abandoned statement is cancelled with no one left
/// to answer).
fn is_query_canceled(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.code().as_deref() == Some("57014"))
}

fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => true,
        sqlx::Error::Database(db_error) => db_error.code().is_some_and(|code| {
            // 08: connection exception; 57P0x: server shutting down / not yet accepting;
            // 53300: too many connections.
            code.starts_with("08") || code.starts_with("57P0") || code == "53300"
        }),
        _ => false,
    }
}
