//! [`LogText`]: client text made safe for a log line, in both log formats.
//!
//! Every string that comes from a client (a path, a header, a username, an RPC method name) is
//! logged through this one type, so no client can forge a line (C0/C1 controls, NEL, line and
//! paragraph separators) or hide one (bidi overrides, zero-width characters). JSON escaping alone
//! is not enough: it leaves C1 controls, U+2028 and bidi characters raw.

use std::fmt;

/// Displays its text with every unsafe character written as `\u{XXXX}` and `\` as `\\`, so the
/// escaped form is unambiguous.
#[derive(Debug, Clone, Copy)]
pub struct LogText<'a>(pub &'a str);

impl fmt::Display for LogText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(at) = rest.find(|c: char| needs_escape(c)) {
            f.write_str(&rest[..at])?;
            let c = rest[at..].chars().next().expect("find returned a char boundary");
            if c == '\\' {
                f.write_str("\\\\")?;
            } else {
                write!(f, "\\u{{{:04x}}}", c as u32)?;
            }
            rest = &rest[at + c.len_utf8()..];
        }
        f.write_str(rest)
    }
}

fn needs_escape(c: char) -> bool {
    c == '\\'
        || c.is_control() // C0, DEL and C1 (NEL U+0085, CSI U+009B, ...)
        || matches!(c,
            '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' // bidi
            | '\u{200b}'..='\u{200d}' | '\u{2060}' | '\u{feff}' // zero-width
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        LogText(text).to_string()
    }

    #[test]
    fn plain_text_is_unchanged() {
        assert_eq!(escaped("/api/rpc?x=1 héllo"), "/api/rpc?x=1 héllo");
    }

    #[test]
    fn controls_separators_and_bidi_characters_are_escaped() {
        assert_eq!(escaped("a\nb"), "a\\u{000a}b");
        assert_eq!(escaped("a\u{85}b\u{9b}c"), "a\\u{0085}b\\u{009b}c");
        assert_eq!(escaped("\u{2028}\u{2029}"), "\\u{2028}\\u{2029}");
        assert_eq!(escaped("\u{202e}evil"), "\\u{202e}evil");
        assert_eq!(escaped("a\u{200b}b"), "a\\u{200b}b");
        assert_eq!(escaped("\u{1b}[31m"), "\\u{001b}[31m");
    }

    #[test]
    fn backslashes_are_doubled_so_escapes_cannot_be_forged() {
        assert_eq!(escaped(r"\u{000a}"), r"\\u{000a}");
    }

    #[test]
    fn no_escaped_output_holds_an_unsafe_character() {
        let all: String = (0..0x3000u32).filter_map(char::from_u32).collect();
        assert!(!escaped(&all).chars().any(|c| c != '\\' && needs_escape(c)));
    }
}
