//! One-time sign-in codes: at most one live code per address, stored as a keyed hash.
use super::{Db, StoreResult};

/// Stores a fresh code for `email_key`, replacing any earlier one.
pub async fn replace(db: &Db, email_key: &str, code_hash: &str, now: i64, expires_at: i64) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO otp_codes (email_key, code_hash, attempts, created_at, expires_at) VALUES ($1, $2, 0, $3, $4) \
         ON CONFLICT (email_key) DO UPDATE SET code_hash = $2, attempts = 0, created_at = $3, expires_at = $4",
    )
    .bind(email_key)
    .bind(code_hash)
    .bind(now)
    .bind(expires_at)
    .execute(&db.pool)
    .await?;
    Ok(())
}

/// When the live code for `email_key` was sent, if there is one.
pub async fn sent_at(db: &Db, email_key: &str, now: i64) -> StoreResult<Option<i64>> {
    let row: Option<(i64,)> = sqlx::query_as("SELECT created_at FROM otp_codes WHERE email_key = $1 AND expires_at > $2")
        .bind(email_key)
        .bind(now)
        .fetch_optional(&db.pool)
        .await?;
    Ok(row.map(|(at,)| at))
}

/// Consumes the code if it matches and is live: true exactly once per code.
pub async fn take(db: &Db, email_key: &str, code_hash: &str, now: i64) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM otp_codes WHERE email_key = $1 AND code_hash = $2 AND expires_at > $3")
        .bind(email_key)
        .bind(code_hash)
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets the live code (after a lock-out).
pub async fn discard(db: &Db, email_key: &str) -> StoreResult<()> {
    sqlx::query("DELETE FROM otp_codes WHERE email_key = $1").bind(email_key).execute(&db.pool).await?;
    Ok(())
}
