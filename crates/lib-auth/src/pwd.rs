//! Password hashing with tagged schemes.
//!
//! A stored hash reads `#<scheme>#<PHC string>`, e.g. `#02#$argon2id$v=19$m=19456,t=2,p=1$...`.
//! The tag picks the verifier, so a stronger scheme can be introduced while old hashes keep
//! working until their owner's next login re-hashes them.

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier as _, Version};
use lib_core::PwdKey;

/// The known schemes. [`Scheme::CURRENT`] is used for every new hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Argon2id at m=4096 KiB, t=1: below today's minimum. Kept only so that stored hashes of this
    /// kind still verify, and report [`Verdict::Outdated`].
    Argon2idLight01,
    /// Argon2id at m=19456 KiB, t=2, p=1 (the OWASP minimum), peppered.
    Argon2id02,
}

impl Scheme {
    pub const CURRENT: Scheme = Scheme::Argon2id02;

    fn tag(self) -> &'static str {
        match self {
            Scheme::Argon2idLight01 => "01",
            Scheme::Argon2id02 => "02",
        }
    }

    fn from_tag(tag: &str) -> Option<Self> {
        match tag {
            "01" => Some(Scheme::Argon2idLight01),
            "02" => Some(Scheme::Argon2id02),
            _ => None,
        }
    }

    fn params(self) -> Params {
        let (m_cost, t_cost) = match self {
            Scheme::Argon2idLight01 => (4096, 1),
            Scheme::Argon2id02 => (19456, 2),
        };
        Params::new(m_cost, t_cost, 1, None).expect("the scheme's argon2 parameters are valid")
    }
}

/// The outcome of a successful verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The password matches and the hash uses the current scheme.
    Current,
    /// The password matches but the hash should be replaced by one in [`Scheme::CURRENT`].
    Outdated,
}

#[derive(Debug, thiserror::Error)]
pub enum PwdError {
    #[error("the password does not match")]
    NotMatching,
    #[error("the stored hash has no known scheme tag")]
    UnknownScheme,
    #[error("the stored hash is malformed: {0}")]
    Malformed(String),
    #[error("hashing failed: {0}")]
    Hashing(String),
}

/// Hashes and verifies passwords with the server's pepper. Cheap to share behind an `Arc`.
pub struct PwdHasher {
    pepper: PwdKey,
    /// A hash of a random password, verified against when a login names an unknown user so that
    /// the answer takes as long as for a known one.
    dummy_hash: String,
}

impl PwdHasher {
    /// Builds the hasher; computes one hash (the dummy), so call it once at start.
    pub fn new(pepper: PwdKey) -> Self {
        let mut hasher = Self { pepper, dummy_hash: String::new() };
        hasher.dummy_hash = hasher.hash(&PwdKey::generate()).expect("hashing a generated password works");
        hasher
    }

    /// Hashes `clear` in the current scheme with a fresh random salt.
    pub fn hash(&self, clear: &str) -> Result<String, PwdError> {
        self.hash_with(Scheme::CURRENT, clear)
    }

    /// Hashes `clear` in `scheme`; only tests and migrations want anything but the current one.
    pub fn hash_with(&self, scheme: Scheme, clear: &str) -> Result<String, PwdError> {
        let phc = self.argon2(scheme)?.hash_password(clear.as_bytes()).map_err(|e| PwdError::Hashing(e.to_string()))?;
        Ok(format!("#{}#{}", scheme.tag(), phc))
    }

    /// Checks `clear` against `stored`, saying whether the stored hash should be upgraded.
    pub fn verify(&self, clear: &str, stored: &str) -> Result<Verdict, PwdError> {
        let (scheme, phc) = split_tag(stored)?;
        self.argon2(scheme)?.verify_password(clear.as_bytes(), phc).map_err(|e| match e {
            argon2::password_hash::Error::PasswordInvalid => PwdError::NotMatching,
            other => PwdError::Malformed(other.to_string()),
        })?;
        Ok(if scheme == Scheme::CURRENT { Verdict::Current } else { Verdict::Outdated })
    }

    /// Spends the time of one verification and always fails: the answer for an unknown user.
    pub fn verify_dummy(&self, clear: &str) -> PwdError {
        match self.verify(clear, &self.dummy_hash) {
            Ok(_) => PwdError::NotMatching, // a 48-byte random password cannot be guessed
            Err(e) => e,
        }
    }

    fn argon2(&self, scheme: Scheme) -> Result<Argon2<'_>, PwdError> {
        Argon2::new_with_secret(self.pepper.as_bytes(), Algorithm::Argon2id, Version::V0x13, scheme.params())
            .map_err(|e| PwdError::Hashing(e.to_string()))
    }
}

fn split_tag(stored: &str) -> Result<(Scheme, &str), PwdError> {
    let rest = stored.strip_prefix('#').ok_or(PwdError::UnknownScheme)?;
    let (tag, phc) = rest.split_once('#').ok_or(PwdError::UnknownScheme)?;
    Ok((Scheme::from_tag(tag).ok_or(PwdError::UnknownScheme)?, phc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> PwdHasher {
        PwdHasher::new(PwdKey::parse(&PwdKey::generate()).unwrap())
    }

    #[test]
    fn a_new_hash_is_tagged_argon2id_at_the_minimum_parameters() {
        let hash = hasher().hash("correct horse").unwrap();
        assert!(hash.starts_with("#02#$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
    }

    #[test]
    fn the_right_password_verifies_and_a_wrong_one_does_not() {
        let hasher = hasher();
        let hash = hasher.hash("correct horse").unwrap();
        assert_eq!(hasher.verify("correct horse", &hash).unwrap(), Verdict::Current);
        assert!(matches!(hasher.verify("correct horsE", &hash), Err(PwdError::NotMatching)));
    }

    #[test]
    fn each_hash_has_its_own_salt() {
        let hasher = hasher();
        assert_ne!(hasher.hash("same").unwrap(), hasher.hash("same").unwrap());
    }

    #[test]
    fn the_pepper_is_part_of_the_hash() {
        let hash = hasher().hash("correct horse").unwrap();
        assert!(matches!(hasher().verify("correct horse", &hash), Err(PwdError::NotMatching)));
    }

    #[test]
    fn an_old_scheme_verifies_as_outdated() {
        let hasher = hasher();
        let old = hasher.hash_with(Scheme::Argon2idLight01, "correct horse").unwrap();
        assert!(old.starts_with("#01#$argon2id$v=19$m=4096,t=1,p=1$"), "{old}");
        assert_eq!(hasher.verify("correct horse", &old).unwrap(), Verdict::Outdated);
        assert!(matches!(hasher.verify("wrong", &old), Err(PwdError::NotMatching)));
    }

    #[test]
    fn untagged_or_unknown_schemes_are_refused() {
        let hasher = hasher();
        let phc = hasher.hash("x").unwrap()[4..].to_string();
        assert!(matches!(hasher.verify("x", &phc), Err(PwdError::UnknownScheme)));
        assert!(matches!(hasher.verify("x", &format!("#99#{phc}")), Err(PwdError::UnknownScheme)));
        assert!(matches!(hasher.verify("x", "#02#garbage"), Err(PwdError::Malformed(_))));
    }

    #[test]
    fn the_dummy_verification_always_fails() {
        let hasher = hasher();
        assert!(matches!(hasher.verify_dummy(""), PwdError::NotMatching));
    }
}
