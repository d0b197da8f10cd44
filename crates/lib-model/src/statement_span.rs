//! The span of one database statement, for traces: named `<operation> <table>`, with the
//! operation and the table it reads or writes first (from the schema's own tables), never the
//! statement's text or values. DEBUG spans: where no trace is exported, the level check below
//! stops them before the statement's text is even looked at.

use tracing::{Level, Span};

/// A statement's future, timed by its span.
pub(crate) trait Timed: Future + Send + Sized {
    /// Runs the statement with `span` open but not entered: the span starts when it is made
    /// (inside the caller's span, its parent) and ends when the statement does. Entering it on
    /// every poll, as `Instrument` does, cost each traced request a few per cent of its speed
    /// (docs/performance.md); what that bought was only that sqlx's own events (a slow
    /// statement's warning) name the statement's span, where they now name the call's.
    fn timed(self, span: Span) -> impl Future<Output = Self::Output> + Send {
        async move {
            let output = self.await;
            drop(span);
            output
        }
    }
}

impl<F: Future + Send> Timed for F {}

/// The schema's tables: a statement's table is named only when it is one of these.
const TABLES: [&str; 9] = [
    "user",
    "session",
    "device",
    "login_throttle",
    "project",
    "project_member",
    "task",
    "live_change",
    "live_interest",
];

/// The keywords after which a statement names a table it reads or writes.
const BEFORE_TABLE: [&str; 4] = ["FROM", "INTO", "UPDATE", "JOIN"];

/// The span of the statement `sql`, or a disabled one when no trace would take it (then the
/// text is not even looked at). [`crate::lease::Lease::run`] takes one for every statement.
///
/// Only inside a request's span: a statement the server runs on its own (live updates'
/// deliveries, the purge) would start a trace of one span each time.
pub(crate) fn statement_span(sql: &str) -> Span {
    if !tracing::enabled!(kind: tracing::metadata::Kind::SPAN, target: "lib_model::statement", Level::DEBUG)
        || Span::current().is_none()
    {
        return Span::none();
    }
    let (operation, table) = describe(sql);
    let name = match table {
        Some(table) => format!("{operation} {table}"),
        None => operation.to_string(),
    };
    tracing::debug_span!(
        target: "lib_model::statement",
        "statement",
        otel.name = name,
        otel.kind = "client",
        db.system.name = "postgresql",
        db.operation.name = operation,
        db.collection.name = table,
    )
}

/// The statement's operation (its first keyword, upper case, or `OTHER`) and its first table.
fn describe(sql: &str) -> (&'static str, Option<&'static str>) {
    const OPERATIONS: [&str; 8] = ["SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "BEGIN", "COMMIT", "ROLLBACK"];
    let mut words = Words { rest: sql.as_bytes() };
    let first = words.next().unwrap_or_default();
    let operation = OPERATIONS.into_iter().find(|op| op.as_bytes().eq_ignore_ascii_case(first)).unwrap_or("OTHER");
    // (A slice's `eq_ignore_ascii_case` compares lengths first.)
    let names_a_table = |word: &[u8]| BEFORE_TABLE.iter().any(|keyword| keyword.as_bytes().eq_ignore_ascii_case(word));
    let mut previous = first;
    for word in words {
        if names_a_table(previous)
            && let Some(table) = TABLES.into_iter().find(|table| table.as_bytes() == word)
        {
            return (operation, Some(table));
        }
        previous = word;
    }
    (operation, None)
}

/// A statement's words: its runs of ASCII letters, digits and underscores. Every traced
/// statement's text is walked, a select list's columns and all, so bytes are classified by a
/// table: splitting it into `char`s by a predicate cost a traced `get_task` about 5,000 of the
/// 89,000 instructions tracing adds to it (callgrind).
struct Words<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Words<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        const IN_WORD: [bool; 256] = {
            let mut table = [false; 256];
            let mut byte = 0;
            while byte < 256 {
                table[byte] = (byte as u8).is_ascii_alphanumeric() || byte == b'_' as usize;
                byte += 1;
            }
            table
        };
        let start = self.rest.iter().position(|&b| IN_WORD[usize::from(b)])?;
        let rest = &self.rest[start..];
        let len = rest.iter().position(|&b| !IN_WORD[usize::from(b)]).unwrap_or(rest.len());
        let (word, after) = rest.split_at(len);
        self.rest = after;
        Some(word)
    }
}

#[cfg(test)]
mod tests {
    use super::{describe, statement_span};

    #[test]
    fn a_statement_has_a_span_inside_a_request_and_none_outside_any() {
        tracing::subscriber::with_default(tracing_subscriber::registry(), || {
            assert!(statement_span(r#"SELECT * FROM "task""#).is_none(), "no trace of its own");
            let request = tracing::info_span!("request");
            let _inside = request.enter();
            assert!(!statement_span(r#"SELECT * FROM "task""#).is_none(), "a child of the request");
        });
    }

    #[test]
    fn a_statement_is_named_by_its_operation_and_first_known_table_never_its_values() {
        assert_eq!(describe(r#"SELECT "task"."id" FROM "task" WHERE "id" = $1"#), ("SELECT", Some("task")));
        assert_eq!(describe("insert into live_change (batch) values ($1)"), ("INSERT", Some("live_change")));
        assert_eq!(describe(r#"UPDATE "project" SET "name" = $1"#), ("UPDATE", Some("project")));
        assert_eq!(describe("WITH x AS (SELECT 1) SELECT * FROM x JOIN \"user\" u ON true"), ("WITH", Some("user")));
        assert_eq!(describe("SELECT 'task' FROM secrets_of_someone"), ("SELECT", None), "a literal is not a table");
        assert_eq!(describe("VACUUM"), ("OTHER", None));
        assert_eq!(describe("delete from task"), ("DELETE", Some("task")), "a table that ends the text");
        assert_eq!(describe("SELECT 'été' AS x, y_1 FROM\n\tproject"), ("SELECT", Some("project")));
    }
}
