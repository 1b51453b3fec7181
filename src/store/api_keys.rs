//! Tenant API keys (`mem_…`), stored as hashes with a short display prefix.
use super::{new_id, now_ms, Db, StoreResult};
use crate::auth::secrets;

pub const KEY_PREFIX: &str = "mem_";

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub key_prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// Creates a key and returns it with the raw secret (shown once).
pub async fn create(db: &Db, tenant_id: &str, name: &str) -> StoreResult<(ApiKeyRow, String)> {
    let secret = secrets::generate(KEY_PREFIX);
    let row = ApiKeyRow {
        id: new_id(),
        tenant_id: tenant_id.to_string(),
        name: name.to_string(),
        key_prefix: secret.display_prefix.clone(),
        created_at: now_ms(),
        last_used_at: None,
        revoked_at: None,
    };
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, name, key_hash, key_prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&row.id)
    .bind(&row.tenant_id)
    .bind(&row.name)
    .bind(&secret.hash)
    .bind(&row.key_prefix)
    .bind(row.created_at)
    .execute(&db.pool)
    .await?;
    Ok((row, secret.raw))
}

/// Every key of a tenant, newest first, revoked ones included.
pub async fn list(db: &Db, tenant_id: &str) -> StoreResult<Vec<ApiKeyRow>> {
    Ok(sqlx::query_as::<_, ApiKeyRow>(
        "SELECT id, tenant_id, name, key_prefix, created_at, last_used_at, revoked_at \
         FROM api_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id",
    )
    .bind(tenant_id)
    .fetch_all(&db.pool)
    .await?)
}

/// Revokes one of the tenant's keys; false if the tenant has no such live key.
pub async fn revoke(db: &Db, tenant_id: &str, key_id: &str) -> StoreResult<bool> {
    if !super::is_id(key_id) {
        return Ok(false);
    }
    let done = sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND tenant_id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(key_id)
    .bind(tenant_id)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The tenant a live raw key belongs to; records the use.
pub async fn authenticate(db: &Db, raw: &str) -> StoreResult<Option<String>> {
    if !secrets::looks_like(raw, KEY_PREFIX) {
        return Ok(None);
    }
    let hash = secrets::hash(raw);
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT id, tenant_id, key_hash FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(&hash)
    .fetch_optional(&db.pool)
    .await?;
    let Some((id, tenant_id, _)) = row.filter(|(_, _, stored)| secrets::hashes_equal(stored, &hash)) else {
        return Ok(None);
    };
    // One write per minute at most: "last used" does not need to be more precise than that.
    let now = now_ms();
    sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
        .bind(now)
        .bind(&id)
        .bind(now - 60_000)
        .execute(&db.pool)
        .await?;
    Ok(Some(tenant_id))
}
