//! Memory Passports: one per email address, created at the first successful sign-in.
use super::{conflict_or, new_id, now_ms, Db, StoreError, StoreResult};

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Passport {
    pub id: String,
    pub email: String,
    pub created_at: i64,
}

pub async fn find_by_email(db: &Db, email: &str) -> StoreResult<Option<Passport>> {
    Ok(sqlx::query_as::<_, Passport>("SELECT id, email, created_at FROM passports WHERE email = $1")
        .bind(email)
        .fetch_optional(&db.pool)
        .await?)
}

pub async fn find_by_id(db: &Db, id: &str) -> StoreResult<Option<Passport>> {
    if !super::is_id(id) {
        return Ok(None);
    }
    Ok(sqlx::query_as::<_, Passport>("SELECT id, email, created_at FROM passports WHERE id = $1")
        .bind(id)
        .fetch_optional(&db.pool)
        .await?)
}

/// The memory revision of each of `ids` that still has a Passport (at most 500 a call).
pub async fn revisions(db: &Db, ids: &[String]) -> StoreResult<Vec<(String, i64)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let ids = &ids[..ids.len().min(500)];
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!("SELECT id, memory_rev FROM passports WHERE id IN ({})", marks.join(", "));
    let mut q = sqlx::query_as::<_, (String, i64)>(&sql);
    for id in ids {
        q = q.bind(id);
    }
    Ok(q.fetch_all(&db.pool).await?)
}

/// The Passport of `email`, created if this is the first time; safe when two sign-ins race.
pub async fn find_or_create(db: &Db, email: &str) -> StoreResult<Passport> {
    if let Some(p) = find_by_email(db, email).await? {
        return Ok(p);
    }
    let p = Passport { id: new_id(), email: email.to_string(), created_at: now_ms() };
    let inserted = sqlx::query("INSERT INTO passports (id, email, created_at) VALUES ($1, $2, $3)")
        .bind(&p.id)
        .bind(&p.email)
        .bind(p.created_at)
        .execute(&db.pool)
        .await
        .map_err(conflict_or);
    match inserted {
        Ok(_) => Ok(p),
        Err(StoreError::Conflict) => find_by_email(db, email).await?.ok_or(StoreError::Conflict),
        Err(e) => Err(e),
    }
}

/// Deletes a Passport and every row about its person, in one transaction: memories and their
/// versions and questions, jobs (with any conversation still queued), grants with their
/// history, codes and tokens, sign-in sessions, and the one-time-code state kept under the
/// address's keyed hash (`email_key`). Returns false when there was no such Passport.
pub async fn delete_everything(db: &Db, passport_id: &str, otp_buckets: &[String], email_key: &str) -> StoreResult<bool> {
    let mut tx = db.pool.begin().await?;
    // The Passport row goes first: from here on nothing new can attach to it.
    let gone = sqlx::query("DELETE FROM passports WHERE id = $1").bind(passport_id).execute(&mut *tx).await;
    // Foreign keys cascade on both databases, but every table is named here so the delete
    // does not depend on them and reads as the list it is.
    let gone = match gone {
        Ok(done) => done.rows_affected(),
        Err(e) => return Err(e.into()),
    };
    for sql in [
        "DELETE FROM memory_versions WHERE passport_id = $1",
        "DELETE FROM memory_conflicts WHERE passport_id = $1",
        "DELETE FROM memories WHERE passport_id = $1",
        "DELETE FROM memory_removals WHERE passport_id = $1",
        "DELETE FROM memory_jobs WHERE passport_id = $1",
        "DELETE FROM uui_tokens WHERE passport_id = $1",
        "DELETE FROM exchange_codes WHERE grant_id IN (SELECT id FROM grants WHERE passport_id = $1)",
        "DELETE FROM grant_events WHERE passport_id = $1",
        "DELETE FROM grants WHERE passport_id = $1",
        "DELETE FROM sessions WHERE kind = 'passport' AND subject_id = $1",
    ] {
        sqlx::query(sql).bind(passport_id).execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM otp_codes WHERE email_key = $1").bind(email_key).execute(&mut *tx).await?;
    for bucket in otp_buckets {
        sqlx::query("DELETE FROM rate_limits WHERE bucket = $1").bind(bucket).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(gone == 1)
}
