//! PKCE (RFC 7636) with the S256 method only: the plain method adds nothing over no PKCE.
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A challenge as a consent link may carry it: 43 characters of base64url (a SHA-256).
pub fn is_valid_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A verifier per RFC 7636 §4.1: 43 to 128 unreserved characters.
pub fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

pub fn challenge_of(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// True if `verifier` is well formed and hashes to `challenge`, compared in constant time.
pub fn verify(verifier: &str, challenge: &str) -> bool {
    is_valid_verifier(verifier) && bool::from(challenge_of(verifier).as_bytes().ct_eq(challenge.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b_example() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(challenge_of(verifier), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert!(verify(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
        assert!(is_valid_challenge("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"));
    }

    #[test]
    fn rejects_wrong_and_malformed() {
        let challenge = challenge_of(&"a".repeat(43));
        assert!(!verify(&"b".repeat(43), &challenge));
        assert!(!verify("short", &challenge_of("short")));
        assert!(!verify(&"a".repeat(129), &challenge_of(&"a".repeat(129))));
        assert!(!is_valid_challenge("not a challenge"));
    }
}
