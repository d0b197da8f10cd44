//! Base64url (no padding), the one text encoding for keys and tokens.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Encodes bytes as base64url without padding.
pub fn b64u_encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding; `None` when the text is not valid base64url.
pub fn b64u_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_bytes_that_need_the_url_safe_alphabet() {
        let bytes = [0xfb, 0xff, 0x00, 0x3e];
        let text = b64u_encode(bytes);
        assert_eq!(text, "-_8APg");
        assert_eq!(b64u_decode(&text).unwrap(), bytes);
    }

    #[test]
    fn rejects_padding_and_foreign_characters() {
        assert!(b64u_decode("-_8APg==").is_none());
        assert!(b64u_decode("a+b/").is_none());
    }
}
