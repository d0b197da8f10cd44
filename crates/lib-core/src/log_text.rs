//! [`LogText`]: client text made safe for a log line, in both log formats.
//!
//! Every string that comes from a client (a path, a header, a username, an RPC method name) is
//! logged through this one type, so no client can forge a line (C0/C1 controls, NEL, line and
//! paragraph separators) or hide one (bidi overrides, zero-width characters). JSON escaping alone
//! is not enough: it leaves C1 controls, U+2028 and bidi characters raw. It also bounds what one
//! client string adds to a line: past [`MAX_CHARS`] characters the rest is only counted.

use std::fmt;

/// The most characters of one client string written to a log line.
pub const MAX_CHARS: usize = 512;

/// Displays its text with every unsafe character written as `\u{XXXX}` and `\` as `\\`, so the
/// escaped form is unambiguous; text past [`MAX_CHARS`] characters is replaced by
/// `…(N more bytes)`.
#[derive(Debug, Clone, Copy)]
pub struct LogText<'a>(pub &'a str);

impl fmt::Display for LogText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (text, cut) = match self.0.char_indices().nth(MAX_CHARS) {
            Some((at, _)) => (&self.0[..at], self.0.len() - at),
            None => (self.0, 0),
        };
        let mut rest = text;
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
        f.write_str(rest)?;
        if cut > 0 {
            write!(f, "…({cut} more bytes)")?;
        }
        Ok(())
    }
}

fn needs_escape(c: char) -> bool {
    c == '\\'
        || c.is_control() // C0, DEL and C1 (NEL U+0085, CSI U+009B, ...)
        || matches!(c,
            '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' // bidi
            | '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{feff}' // zero-width, invisible operators
            | '\u{00ad}' | '\u{034f}' | '\u{180e}' // soft hyphen, grapheme joiner, Mongolian vowel separator
            | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' // Hangul fillers
            | '\u{fff9}'..='\u{fffb}' // interlinear annotation
            | '\u{e0000}'..='\u{e007f}' // tags
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
    fn invisible_characters_are_escaped_too() {
        assert_eq!(escaped("a\u{ad}b\u{180e}c\u{2061}d"), "a\\u{00ad}b\\u{180e}c\\u{2061}d");
        assert_eq!(escaped("\u{e0041}\u{fffa}"), "\\u{e0041}\\u{fffa}");
    }

    #[test]
    fn long_text_is_cut_at_the_limit_and_the_rest_counted() {
        let text = format!("{}{}", "a".repeat(MAX_CHARS), "é".repeat(10));
        assert_eq!(escaped(&text), format!("{}…(20 more bytes)", "a".repeat(MAX_CHARS)));
        assert_eq!(escaped(&"a".repeat(MAX_CHARS)), "a".repeat(MAX_CHARS));
    }

    #[test]
    fn backslashes_are_doubled_so_escapes_cannot_be_forged() {
        assert_eq!(escaped(r"\u{000a}"), r"\\u{000a}");
    }

    #[test]
    fn no_escaped_output_holds_an_unsafe_character() {
        let all: Vec<char> = (0..0x3000u32).chain(0xe0000..0xe0080).filter_map(char::from_u32).collect();
        for chunk in all.chunks(MAX_CHARS) {
            let chunk: String = chunk.iter().collect();
            assert!(!escaped(&chunk).chars().any(|c| c != '\\' && needs_escape(c)));
        }
    }
}
