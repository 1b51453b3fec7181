//! One-time sign-in codes: at most one live code per address, stored as a keyed hash, with
//! the one-click link of the same mail (also a keyed hash) and the page it returns to.
use super::{Db, StoreResult};

/// A code about to be sent, as stored.
pub struct NewCode<'a> {
    pub email_key: &'a str,
    pub code_hash: &'a str,
    pub link_hash: &'a str,
    pub return_to: &'a str,
}

/// Stores a fresh code for its address, replacing any earlier one (and its link).
pub async fn replace(db: &Db, code: &NewCode<'_>, now: i64, expires_at: i64) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO otp_codes (email_key, code_hash, link_hash, return_to, attempts, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, 0, $5, $6) \
         ON CONFLICT (email_key) DO UPDATE SET code_hash = $2, link_hash = $3, return_to = $4, attempts = 0, \
         created_at = $5, expires_at = $6",
    )
    .bind(code.email_key)
    .bind(code.code_hash)
    .bind(code.link_hash)
    .bind(code.return_to)
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

/// Consumes the code (and its link) if it matches and is live: true exactly once per code.
pub async fn take_code(db: &Db, email_key: &str, code_hash: &str, now: i64) -> StoreResult<bool> {
    let done = sqlx::query("DELETE FROM otp_codes WHERE email_key = $1 AND code_hash = $2 AND expires_at > $3")
        .bind(email_key)
        .bind(code_hash)
        .bind(now)
        .execute(&db.pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Consumes the link (and its code) if it matches and is live: the page it returns to,
/// exactly once per link.
pub async fn take_link(db: &Db, email_key: &str, link_hash: &str, now: i64) -> StoreResult<Option<String>> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("DELETE FROM otp_codes WHERE email_key = $1 AND link_hash = $2 AND expires_at > $3 RETURNING return_to")
            .bind(email_key)
            .bind(link_hash)
            .bind(now)
            .fetch_optional(&db.pool)
            .await?;
    Ok(row.map(|(to,)| to.unwrap_or_default()))
}
