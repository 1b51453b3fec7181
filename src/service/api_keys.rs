//! Tenant API keys with a named, length-checked label.
use crate::error::{AppError, AppResult};
use crate::store::api_keys::{self, ApiKeyRow};

/// The tenant's keys, newest first.
pub async fn list(db: &Db, tenant_id: &str) -> AppResult<Vec<ApiKeyRow>> {
    Ok(api_keys::list(db, tenant_id).await?)
}

/// Revokes one of the tenant's keys; another tenant's or an unknown key is not found.
pub async fn revoke(db: &Db, tenant_id: &str, id: &str) -> AppResult<()> {
    if api_keys::revoke(db, tenant_id, id).await? { Ok(()) } else { Err(AppError::NotFound) }
}

/// The tenant a raw `mem_` key belongs to, if it is live.
pub async fn authenticate(db: &Db, raw: &str) -> AppResult<Option<String>> {
    Ok(api_keys::authenticate(db, raw).await?)
}
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
