//! High-entropy secrets (API keys, agent secrets, session tokens). They are 256-bit random
//! values, so a fast SHA-256 is a safe at-rest hash and lets us look them up by index; a
//! copy of the database gives no working credential.
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

pub struct NewSecret {
    /// Shown once, never stored.
    pub raw: String,
    /// Stored and indexed.
    pub hash: String,
    /// A short, non-secret beginning for lists ("mem_AbC1…").
    pub display_prefix: String,
}

/// A fresh secret: `prefix` followed by 32 random bytes in URL-safe base64 (43 characters).
pub fn generate(prefix: &str) -> NewSecret {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let raw = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
    let display_prefix = raw.chars().take(prefix.len() + 4).collect();
    NewSecret { hash: hash(&raw), raw, display_prefix }
}

pub fn hash(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

/// Constant-time comparison of two hashes.
pub fn hashes_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// True if `raw` has the shape of a secret we issue with `prefix`; cheap pre-check before any
/// database work.
pub fn looks_like(raw: &str, prefix: &str) -> bool {
    raw.strip_prefix(prefix)
        .is_some_and(|rest| rest.len() == 43 && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_unique_prefixed_and_hashed() {
        let a = generate("mem_");
        let b = generate("mem_");
        assert!(a.raw.starts_with("mem_") && looks_like(&a.raw, "mem_"));
        assert_ne!(a.raw, b.raw);
        assert_eq!(a.hash, hash(&a.raw));
        assert_eq!(a.hash.len(), 64);
        assert!(!a.hash.contains(&a.raw[4..]));
        assert_eq!(a.display_prefix.len(), 8);
        assert!(a.raw.starts_with(&a.display_prefix));
    }

    #[test]
    fn shape_check() {
        assert!(!looks_like("mem_short", "mem_"));
        assert!(!looks_like(&generate("agent_sk_").raw, "mem_"));
        assert!(!looks_like(&format!("mem_{}", "!".repeat(43)), "mem_"));
    }

    #[test]
    fn hash_comparison() {
        let h = hash("x");
        assert!(hashes_equal(&h, &hash("x")));
        assert!(!hashes_equal(&h, &hash("y")));
        assert!(!hashes_equal(&h, "short"));
    }
}
