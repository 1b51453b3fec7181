//! Browser sessions. The cookie carries a random token; the table keeps only its hash.
use super::{now_ms, Db, StoreResult};
use crate::auth::secrets;

pub const SESSION_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// Starts a session and returns the raw token for the cookie (the only copy).
pub async fn create(db: &Db, kind: &str, subject_id: &str) -> StoreResult<String> {
    let secret = secrets::generate("");
    let now = now_ms();
    sqlx::query(
        "INSERT INTO sessions (token_hash, kind, subject_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&secret.hash)
    .bind(kind)
    .bind(subject_id)
    .bind(now)
    .bind(now + SESSION_TTL_MS)
    .execute(&db.pool)
    .await?;
    Ok(secret.raw)
}

/// The subject of a live session of `kind`, if the token names one.
pub async fn subject(db: &Db, kind: &str, raw_token: &str) -> StoreResult<Option<String>> {
    let hash = secrets::hash(raw_token);
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT token_hash, subject_id FROM sessions WHERE token_hash = $1 AND kind = $2 AND expires_at > $3",
    )
    .bind(&hash)
    .bind(kind)
    .bind(now_ms())
    .fetch_optional(&db.pool)
    .await?;
    Ok(row.filter(|(stored, _)| secrets::hashes_equal(stored, &hash)).map(|(_, subject)| subject))
}

pub async fn delete(db: &Db, raw_token: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(secrets::hash(raw_token))
        .execute(&db.pool)
        .await?;
    Ok(())
}
