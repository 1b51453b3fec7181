//! The server's own secret: a key for hashing low-entropy secrets (six-digit sign-in codes),
//! kept outside the database so that a copy of the database cannot be brute-forced offline.
//! Every server process sharing a database must use the same key (`SECRET_KEY`).
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::Path;

#[derive(Clone)]
pub struct ServerKey(std::sync::Arc<[u8]>);

impl std::fmt::Debug for ServerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKey(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("SECRET_KEY must be at least 32 characters")]
    TooShort,
    #[error("could not read or create the key file {0}: {1}")]
    File(String, std::io::Error),
}

pub const MIN_KEY_CHARS: usize = 32;

impl ServerKey {
    pub fn from_secret(secret: &str) -> Result<ServerKey, KeyError> {
        let secret = secret.trim();
        if secret.len() < MIN_KEY_CHARS {
            return Err(KeyError::TooShort);
        }
        Ok(ServerKey(secret.as_bytes().into()))
    }

    /// Reads the key file, creating it (owner-only) with 256 random bits when missing.
    pub fn from_file(path: &Path) -> Result<ServerKey, KeyError> {
        let fail = |e| KeyError::File(path.display().to_string(), e);
        if !path.exists() {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(fail)?;
            }
            let mut bytes = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            // Written whole to a private temporary file, then linked into place: two processes
            // starting together agree on one key and never read a half-written file.
            let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
            write_private(&tmp, &hex::encode(bytes)).map_err(fail)?;
            let linked = std::fs::hard_link(&tmp, path);
            let _ = std::fs::remove_file(&tmp);
            match linked {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(fail(e)),
            }
        }
        let text = std::fs::read_to_string(path).map_err(fail)?;
        ServerKey::from_secret(&text)
    }

    /// HMAC-SHA-256 of `parts` joined unambiguously, in hex.
    pub fn hash(&self, parts: &[&str]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_hashes_depend_on_key_and_on_part_boundaries() {
        let a = ServerKey::from_secret(&"a".repeat(32)).unwrap();
        let b = ServerKey::from_secret(&"b".repeat(32)).unwrap();
        assert_eq!(a.hash(&["x", "123456"]), a.hash(&["x", "123456"]));
        assert_ne!(a.hash(&["x", "123456"]), b.hash(&["x", "123456"]));
        assert_ne!(a.hash(&["x1", "23456"]), a.hash(&["x", "123456"]));
        assert!(ServerKey::from_secret("short").is_err());
        assert_eq!(format!("{a:?}"), "ServerKey(<redacted>)");
    }

    #[test]
    fn key_file_is_created_once_and_private() {
        let dir = std::env::temp_dir().join(format!("mp-key-{}", std::process::id()));
        let path = dir.join("secret.key");
        let first = ServerKey::from_file(&path).unwrap();
        let again = ServerKey::from_file(&path).unwrap();
        assert_eq!(first.hash(&["x"]), again.hash(&["x"]));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
