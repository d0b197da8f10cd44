//! Where in `filters` the decoder is, for error details: `$or[1].title.$in`, `[0].$not.done`.
//!
//! A [`Place`] is a chain of borrowed links on the decoder's own stack, one per filter object
//! or logic key it is inside; nothing is allocated for it unless an error is rendered.

use crate::Error;
use std::fmt;

/// A filter object's position: the whole `filters`, an element of an array, or a logic key's value.
#[derive(Clone, Copy)]
pub(super) enum Place<'p> {
    Top,
    /// `[i]` of the array at the outer place.
    Item(&'p Place<'p>, usize),
    /// `$and`, `$or` or `$not` of the object at the outer place.
    Key(&'p Place<'p>, &'static str),
}

impl Place<'_> {
    pub(super) fn error(&self, what: impl fmt::Display) -> Error {
        Error::invalid(self.to_string(), what.to_string())
    }
}

impl fmt::Display for Place<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Top => Ok(()),
            Place::Item(outer, i) => write!(f, "{outer}[{i}]"),
            Place::Key(Place::Top, key) => f.write_str(key),
            Place::Key(outer, key) => write!(f, "{outer}.{key}"),
        }
    }
}

/// Where a value sits: a field of the object at `place`, and one of its operators.
#[derive(Clone, Copy)]
pub(super) struct At<'a> {
    pub(super) place: &'a Place<'a>,
    pub(super) field: &'a str,
    /// Empty for an error about the field itself.
    pub(super) op: &'a str,
}

impl At<'_> {
    pub(super) fn error(&self, what: impl fmt::Display) -> Error {
        let place_dot = if matches!(self.place, Place::Top) { "" } else { "." };
        let op_dot = if self.op.is_empty() { "" } else { "." };
        Error::invalid(format!("{}{place_dot}{}{op_dot}{}", self.place, self.field, self.op), what.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(error: Error) -> String {
        match error {
            Error::InvalidInput(invalid) => invalid.field,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn paths_read_as_the_client_wrote_them() {
        let top = Place::Top;
        let or = Place::Key(&top, "$or");
        let second = Place::Item(&or, 1);
        let not = Place::Key(&second, "$not");
        assert_eq!(field(At { place: &second, field: "title", op: "" }.error("x")), "$or[1].title");
        assert_eq!(field(At { place: &not, field: "done", op: "$eq" }.error("x")), "$or[1].$not.done.$eq");
        assert_eq!(field(At { place: &top, field: "id", op: "$in" }.error("x")), "id.$in");
        let item = Place::Item(&top, 2);
        assert_eq!(field(Place::Key(&item, "$and").error("x")), "[2].$and");
        assert_eq!(field(top.error("x")), "");
    }
}
