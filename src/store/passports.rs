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
