//! [`Username`]: the rules a new username must pass, and the forms it is compared by.
//!
//! A username is prepared and enforced by RFC 8265's UsernameCaseMapped profile (PRECIS):
//! width-mapped, case-folded and NFC-normalised, and refused when it holds a code point outside
//! the IdentifierClass (spaces, controls, zero-width and bidi formatting characters, soft hyphens,
//! symbols beyond ASCII). On top of that, UTS #39: the letters must not mix scripts beyond the
//! "Moderately Restrictive" level (Latin with Cyrillic, say), and the confusable skeleton is kept
//! so that a name that merely looks like an existing one can be refused as taken.

use crate::{Error, Result};
use precis_profiles::UsernameCaseMapped;
use precis_profiles::precis_core::profile::Profile as _;
use unicode_security::{GeneralSecurityProfile, RestrictionLevel, RestrictionLevelDetection as _};

const MIN_CHARS: usize = 3;
const MAX_CHARS: usize = 64;
/// Longer input is refused before any normalisation work: 64 characters that NFC may compose
/// from decomposed sequences never take more than this.
const MAX_INPUT_BYTES: usize = 1024;

/// A username that passed the rules, in its normalised form, with its confusable skeleton.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username {
    normalized: String,
    skeleton: String,
}

impl Username {
    /// Normalises `text` and checks it; violations are [`Error::InvalidInput`] naming `username`.
    pub fn parse(text: &str) -> Result<Self> {
        let length_error = || Error::invalid("username", format!("must be {MIN_CHARS} to {MAX_CHARS} characters"));
        if text.len() > MAX_INPUT_BYTES {
            return Err(length_error());
        }
        let normalized = normalize(text).ok_or_else(|| {
            Error::invalid(
                "username",
                "only letters, digits and ASCII punctuation; no spaces, controls or invisible characters",
            )
        })?;
        if !(MIN_CHARS..=MAX_CHARS).contains(&normalized.chars().count()) {
            return Err(length_error());
        }
        if !single_script_enough(&normalized) {
            return Err(Error::invalid("username", "must not mix letters of different scripts"));
        }
        let skeleton = skeleton(&normalized);
        Ok(Self { normalized, skeleton })
    }

    /// The normalised form: what is stored, shown and compared.
    pub fn as_str(&self) -> &str {
        &self.normalized
    }

    /// The UTS #39 confusable skeleton: two usernames that look alike have the same one.
    pub fn skeleton(&self) -> &str {
        &self.skeleton
    }
}

/// The UsernameCaseMapped form of `text`, or `None` when the profile refuses it. Logins use it
/// to find accounts whatever width or case the name is typed in.
pub(crate) fn normalize(text: &str) -> Option<String> {
    UsernameCaseMapped::new().enforce(text).ok().map(|form| form.into_owned())
}

/// The confusable skeleton of a normalised username (also of legacy names the profile refuses,
/// so that new names cannot imitate them either).
pub(crate) fn skeleton(normalized: &str) -> String {
    unicode_security::skeleton(normalized).collect()
}

/// UTS #39 "Moderately Restrictive" or stricter. ASCII punctuation that PRECIS allows but UTS #39
/// does not list as identifier characters (`_`, `@`, `+`, ...) belongs to no script and is left
/// out of the check rather than making every such name "Unrestricted".
fn single_script_enough(normalized: &str) -> bool {
    let letters: String =
        normalized.chars().filter(|c| !c.is_ascii() || GeneralSecurityProfile::identifier_allowed(*c)).collect();
    letters.as_str().check_restriction_level(RestrictionLevel::ModeratelyRestrictive)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> String {
        match Username::parse(text) {
            Err(Error::InvalidInput(invalid)) => invalid.to_string(),
            other => panic!("{text:?} should be refused, got {other:?}"),
        }
    }

    fn name(text: &str) -> String {
        Username::parse(text).unwrap_or_else(|e| panic!("{text:?} should pass: {e}")).as_str().to_string()
    }

    #[test]
    fn lengths_are_counted_in_characters_of_the_normalised_form() {
        assert!(refused("ab").contains("3 to 64"));
        assert_eq!(name("abc"), "abc");
        assert_eq!(name(&"é".repeat(64)), "é".repeat(64), "characters, not bytes");
        assert_eq!(name(&"e\u{301}".repeat(64)), "é".repeat(64), "NFC composes before counting");
        assert!(refused(&"a".repeat(65)).contains("3 to 64"));
        assert!(refused(&"a".repeat(100_000)).contains("3 to 64"));
    }

    #[test]
    fn case_and_width_are_folded() {
        assert_eq!(name("Alice"), "alice");
        assert_eq!(name("ＡＬＩＣＥ"), "alice");
        assert_eq!(name("ａｌｉｃｅ"), "alice");
    }

    #[test]
    fn spaces_controls_and_invisible_characters_are_refused() {
        for text in [
            "a b c",
            "abc\t",
            "abc\u{0}",
            "ab\u{200b}cd",
            "\u{202e}evil",
            "ab\u{ad}cd",
            "ab\u{2060}cd",
            "abc\u{85}",
            "ab\u{feff}cd",
            "abc\u{2028}",
        ] {
            assert!(refused(text).starts_with("username:"), "{text:?}");
        }
    }

    #[test]
    fn punctuation_and_single_scripts_pass() {
        for text in ["john_doe", "john.doe", "jane-doe", "bob@example", "user123", "josé", "Ελένη", "иван", "山田太郎"]
        {
            Username::parse(text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        }
        assert_eq!(name("山田たろう"), "山田たろう", "Han with Hiragana is one writing system");
    }

    #[test]
    fn mixing_latin_with_cyrillic_or_greek_is_refused() {
        assert!(refused("раураl").contains("scripts"), "Cyrillic раура with a Latin l");
        assert!(refused("pаypal").contains("scripts"), "a Cyrillic а among Latin letters");
        assert!(refused("αlice").contains("scripts"));
    }

    #[test]
    fn look_alikes_share_a_skeleton() {
        let latin = Username::parse("paypal").unwrap();
        let cyrillic = Username::parse("раураӏ").unwrap();
        assert_ne!(latin.as_str(), cyrillic.as_str());
        assert_eq!(latin.skeleton(), cyrillic.skeleton());
        assert_eq!(Username::parse("Paypal").unwrap().skeleton(), latin.skeleton());
        assert_ne!(Username::parse("alice").unwrap().skeleton(), Username::parse("alina").unwrap().skeleton());
    }
}
