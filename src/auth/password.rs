//! Passwords: argon2id with the crate's default (OWASP-recommended) parameters. Hashing is run
//! on the blocking pool so it never stalls the async workers.
use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use std::sync::LazyLock;

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 256;

/// Says what is wrong with a new password, in words for a person.
pub fn check_new(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!("Use a password of at least {MIN_PASSWORD_CHARS} characters."));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(format!("Use a password of at most {MAX_PASSWORD_CHARS} characters."));
    }
    Ok(())
}

pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with default parameters cannot fail")
        .to_string()
}

pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
        .unwrap_or(false)
}

/// Verified against when the account does not exist, so both answers take as long.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash("not a real password, only for timing"));

pub async fn hash_async(password: String) -> String {
    tokio::task::spawn_blocking(move || hash(&password)).await.expect("hashing task panicked")
}

/// Verifies against `phc`, or against a dummy hash when there is no account.
pub async fn verify_async(password: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify(&password, &phc),
        None => {
            verify(&password, &DUMMY_HASH);
            false
        }
    })
    .await
    .expect("verification task panicked")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_and_verify() {
        let h = hash("correct horse battery");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse battery", &h));
        assert!(!verify("wrong horse battery", &h));
        assert!(!verify("anything", "not a phc string"));
    }

    #[test]
    fn strength_rules() {
        assert!(check_new("short").is_err());
        assert!(check_new("long enough pw").is_ok());
        assert!(check_new(&"x".repeat(300)).is_err());
    }
}
