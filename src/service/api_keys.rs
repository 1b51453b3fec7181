//! Tenant API keys with a named, length-checked label.
use crate::error::{AppError, AppResult};
use crate::store::api_keys::{self, ApiKeyRow};
use crate::store::Db;

pub const MAX_KEY_NAME_CHARS: usize = 60;

pub fn check_name(name: &str) -> AppResult<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid("name", "Give the key a name, e.g. \"production backend\"."));
    }
    if name.chars().count() > MAX_KEY_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(AppError::invalid("name", format!("Use one line of at most {MAX_KEY_NAME_CHARS} characters.")));
    }
    Ok(name.to_string())
}

/// Maximum live keys per tenant; revoke one to make another.
pub const MAX_LIVE_KEYS: usize = 50;

pub async fn create(db: &Db, tenant_id: &str, name: &str) -> AppResult<(ApiKeyRow, String)> {
    let name = check_name(name)?;
    let live = api_keys::list(db, tenant_id).await?.iter().filter(|k| k.revoked_at.is_none()).count();
    if live >= MAX_LIVE_KEYS {
        return Err(AppError::Conflict(format!(
            "You already have {MAX_LIVE_KEYS} active keys. Revoke one you no longer use first."
        )));
    }
    Ok(api_keys::create(db, tenant_id, &name).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(check_name("  ci  ").unwrap(), "ci");
        assert!(check_name("").is_err());
        assert!(check_name("a\nb").is_err());
        assert!(check_name(&"k".repeat(61)).is_err());
    }
}
