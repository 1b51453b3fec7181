//! Sign-up and sign-in with attempt limits, for tenants and operators.
use crate::auth::{password, secrets};
use crate::domain::email;
use crate::error::{AppError, AppResult};
use crate::store::accounts;
pub use crate::store::accounts::{Account, AccountKind};
use crate::store::rate_limit;
use super::limits::{enforce, SIGN_IN_PER_CLIENT, SIGN_IN_PER_EMAIL, SIGN_UPS_PER_CLIENT};
use super::session::SessionKind;
use crate::store::{Db, StoreError};

/// How much slower every answer for an account becomes while it draws more wrong passwords
/// (from all clients together) than `SIGN_IN_PER_EMAIL` allows one client: guessing from many
/// clients gets slower, and the owner still gets in.
pub const SLOW_ANSWER: std::time::Duration = std::time::Duration::from_secs(1);

fn email_bucket(kind: AccountKind, email: &str) -> String {
    // Hashed so the counters table holds no addresses.
    format!("signin:{}:{}", kind.session_kind(), secrets::hash(email))
}

/// Creates an account (no session). Used by the sign-up page and the command line.
pub async fn register(db: &Db, kind: AccountKind, raw_email: &str, password: &str) -> AppResult<Account> {
    let email = email::normalize(raw_email).map_err(|m| AppError::invalid("email", m))?;
    password::check_new(password).map_err(|m| AppError::invalid("password", m))?;
    let hash = password::hash_async(password.to_string()).await;
    match accounts::create(db, kind, &email, &hash).await {
        Ok(account) => Ok(account),
        Err(StoreError::Conflict) => Err(AppError::Conflict(
            "An account with this email already exists. Sign in instead.".into(),
        )),
        Err(e) => Err(e.into()),
    }
}

/// Sign-up from a page: limited per client, then a session. Returns the raw session token.
pub async fn sign_up(db: &Db, client: &str, raw_email: &str, password: &str) -> AppResult<String> {
    enforce(db, &format!("signup:{client}"), SIGN_UPS_PER_CLIENT).await?;
    let account = register(db, AccountKind::Tenant, raw_email, password).await?;
    super::session::create(db, SessionKind::TENANT, &account.id).await
}

/// Checks a password with limits per account and per client; returns a new session token.
pub async fn sign_in(db: &Db, kind: AccountKind, client: &str, raw_email: &str, password: &str) -> AppResult<String> {
    let email = email::normalize(raw_email).map_err(|m| AppError::invalid("email", m))?;
    if password.is_empty() || password.chars().count() > password::MAX_PASSWORD_CHARS {
        return Err(AppError::BadSignIn);
    }
    enforce(db, &format!("signin-client:{client}"), SIGN_IN_PER_CLIENT).await?;
    // Wrong passwords lock out the client that sent them, not the account: a stranger cannot
    // keep the owner out. Guessing from many clients is slowed down instead (see below).
    let bucket = format!("{}:{client}", email_bucket(kind, &email));
    enforce(db, &bucket, SIGN_IN_PER_EMAIL).await?;
    let account_wide = format!("{}:all", email_bucket(kind, &email));
    if rate_limit::peek(db, &account_wide, SIGN_IN_PER_EMAIL).await?.is_some() {
        tokio::time::sleep(SLOW_ANSWER).await;
    }
    let account = accounts::find_by_email(db, kind, &email).await?;
    let ok = password::verify_async(password.to_string(), account.as_ref().map(|a| a.password_hash.clone())).await;
    match account {
        Some(account) if ok => {
            rate_limit::reset(db, &bucket).await?;
            super::session::create(db, SessionKind::Account(kind), &account.id).await
        }
        _ => {
            rate_limit::hit(db, &account_wide, SIGN_IN_PER_EMAIL).await?;
            Err(AppError::BadSignIn)
        }
    }
}

