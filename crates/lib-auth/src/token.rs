//! Session tokens: what the cookie carries, and the hash the database keeps.

use lib_core::b64::{b64u_decode, b64u_encode};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

const TOKEN_BYTES: usize = 32;

/// A bearer token of 256 random bits, base64url-encoded. It carries no user data; only its
/// [`TokenHash`] is stored, so a leaked database row cannot be replayed as a cookie.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// A fresh token from the operating system's random source.
    pub fn generate() -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut bytes).expect("the operating system's random source failed");
        Self(b64u_encode(bytes))
    }

    /// Accepts only text shaped like a token this server made; anything else is no token.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = b64u_decode(text)?;
        (bytes.len() == TOKEN_BYTES).then(|| Self(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// SHA-256 of a token: the form in which sessions are stored and looked up.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Compares with stored bytes in constant time.
    pub fn matches(&self, stored: &[u8]) -> bool {
        self.0.ct_eq(stored).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_has_256_bits_in_base64url() {
        let token = SessionToken::generate();
        assert_eq!(token.as_str().len(), 43);
        assert!(token.as_str().chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(SessionToken::parse(token.as_str()), Some(token));
    }

    #[test]
    fn tokens_do_not_repeat() {
        assert_ne!(SessionToken::generate(), SessionToken::generate());
    }

    #[test]
    fn text_not_shaped_like_a_token_is_refused() {
        assert!(SessionToken::parse("").is_none());
        assert!(SessionToken::parse("abc").is_none());
        assert!(SessionToken::parse(&"A".repeat(44)).is_none());
        assert!(SessionToken::parse(&format!("{}=", SessionToken::generate().as_str())).is_none());
    }

    #[test]
    fn the_hash_matches_only_its_own_token() {
        let token = SessionToken::generate();
        let stored = token.hash();
        assert!(stored.matches(token.hash().as_bytes()));
        assert!(!SessionToken::generate().hash().matches(stored.as_bytes()));
        assert!(!stored.matches(&stored.as_bytes()[..31]));
    }

    #[test]
    fn debug_output_hides_the_token() {
        let token = SessionToken::generate();
        assert!(!format!("{token:?}").contains(token.as_str()));
    }
}
