//! Content negotiation for answers made ahead of time in several encodings (the embedded
//! frontend, the OpenRPC document): which encoding a client prefers, and whether its
//! `If-None-Match` already names the representation.

use axum::http::HeaderValue;

/// The encodings a representation is made in ahead of time, preferred in this order when the
/// client rates them alike.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(crate) enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    pub(crate) const ALL: [Encoding; 2] = [Encoding::Brotli, Encoding::Gzip];

    /// The twin's file suffix, also its `ETag`'s.
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gz",
        }
    }

    pub(crate) fn token(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }
}

/// Whether `If-None-Match` lists `etag` (weak comparison, as RFC 9110, 13.1.2 asks) or is `*`.
pub(crate) fn none_match(if_none_match: Option<&HeaderValue>, etag: &str) -> bool {
    let Some(list) = if_none_match.and_then(|v| v.to_str().ok()) else {
        return false;
    };
    list.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

/// The encoding among `available` that `Accept-Encoding` rates highest (a `q` of 0 refuses it);
/// none without the header, or when the client accepts none of them.
pub(crate) fn preferred(accept_encoding: Option<&HeaderValue>, available: &[Encoding]) -> Option<Encoding> {
    let accepted = accept_encoding.and_then(|v| v.to_str().ok())?;
    let rating = |encoding: Encoding| -> f32 {
        let mut wildcard = 0.0;
        for item in accepted.split(',') {
            let mut parts = item.split(';').map(str::trim);
            let token = parts.next().unwrap_or_default();
            let q = parts
                .find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
                .map_or(1.0, |q| q.parse::<f32>().unwrap_or(0.0));
            if token.eq_ignore_ascii_case(encoding.token()) {
                return q;
            }
            if token == "*" {
                wildcard = q;
            }
        }
        wildcard
    };
    // The first of the highest, so brotli wins a tie.
    available
        .iter()
        .map(|e| (*e, rating(*e)))
        .filter(|(_, q)| *q > 0.0)
        .fold(None, |best: Option<(Encoding, f32)>, (e, q)| match best {
            Some((_, best_q)) if best_q >= q => best,
            _ => Some((e, q)),
        })
        .map(|(e, _)| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rated(header: &str) -> Option<Encoding> {
        preferred(Some(&HeaderValue::from_str(header).unwrap()), &Encoding::ALL)
    }

    #[test]
    fn the_client_s_rating_picks_the_encoding_and_brotli_wins_a_tie() {
        assert_eq!(rated("gzip, deflate, br"), Some(Encoding::Brotli));
        assert_eq!(rated("gzip"), Some(Encoding::Gzip));
        assert_eq!(rated("br;q=0.5, gzip;q=0.8"), Some(Encoding::Gzip));
        assert_eq!(rated("br;q=0, gzip;q=0"), None);
        assert_eq!(rated("*"), Some(Encoding::Brotli));
        assert_eq!(rated("*;q=0.1, br;q=0"), Some(Encoding::Gzip));
        assert_eq!(rated("identity, deflate"), None);
        assert_eq!(preferred(None, &Encoding::ALL), None);
        assert_eq!(preferred(Some(&HeaderValue::from_static("br")), &[Encoding::Gzip]), None);
    }

    #[test]
    fn if_none_match_compares_weakly_and_takes_a_star() {
        let matches = |h: &str| none_match(Some(&HeaderValue::from_str(h).unwrap()), "\"abc\"");
        assert!(matches("\"abc\""));
        assert!(matches("W/\"abc\""));
        assert!(matches("\"x\", \"abc\""));
        assert!(matches("*"));
        assert!(!matches("\"abc-br\""));
        assert!(!none_match(None, "\"abc\""));
    }
}
