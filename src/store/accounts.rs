//! Password accounts: tenants (dashboard users) and operators (run this server). Same shape,
//! separate tables, so an operator is never a tenant by accident.
use super::{conflict_or, new_id, now_ms, Db, StoreResult};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountKind {
    Tenant,
    Operator,
}

impl AccountKind {
    fn table(self) -> &'static str {
        match self {
            AccountKind::Tenant => "tenants",
            AccountKind::Operator => "operators",
        }
    }
    /// The `sessions.kind` value for this account kind.
    pub fn session_kind(self) -> &'static str {
        match self {
            AccountKind::Tenant => "tenant",
            AccountKind::Operator => "operator",
        }
    }
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Account {
    pub id: String,
    pub email: String,
    pub password_hash: String,
    pub created_at: i64,
}

/// Creates an account; `Conflict` when the email is taken.
pub async fn create(db: &Db, kind: AccountKind, email: &str, password_hash: &str) -> StoreResult<Account> {
    let account = Account {
        id: new_id(),
        email: email.to_string(),
        password_hash: password_hash.to_string(),
        created_at: now_ms(),
    };
    let sql = format!(
        "INSERT INTO {} (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4)",
        kind.table()
    );
    sqlx::query(&sql)
        .bind(&account.id)
        .bind(&account.email)
        .bind(&account.password_hash)
        .bind(account.created_at)
        .execute(&db.pool)
        .await
        .map_err(conflict_or)?;
    Ok(account)
}

pub async fn find_by_email(db: &Db, kind: AccountKind, email: &str) -> StoreResult<Option<Account>> {
    let sql = format!("SELECT id, email, password_hash, created_at FROM {} WHERE email = $1", kind.table());
    Ok(sqlx::query_as::<_, Account>(&sql).bind(email).fetch_optional(&db.pool).await?)
}

pub async fn find_by_id(db: &Db, kind: AccountKind, id: &str) -> StoreResult<Option<Account>> {
    let sql = format!("SELECT id, email, password_hash, created_at FROM {} WHERE id = $1", kind.table());
    Ok(sqlx::query_as::<_, Account>(&sql).bind(id).fetch_optional(&db.pool).await?)
}
