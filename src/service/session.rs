//! Browser sessions: the one place that starts, reads and ends a signed-in session, for each
//! kind of credential alike (a person's Passport, a tenant's or an operator's account), and so
//! the one place that says who is signed in. Server functions, the `/v1/uui/me` API and the
//! pages' plain form posts all come here. A session is a random token in a cookie of its own
//! kind's name; the store keeps its hash with the kind, so a session of one kind never works as
//! another, and a token the browser brought is never adopted: `start` always makes a new one.
use crate::auth::cookies;
use crate::error::AppResult;
pub use crate::store::accounts::{Account, AccountKind};
use crate::store::{accounts, passports, sessions, Db};
pub use crate::store::passports::Passport;
use http::HeaderMap;

/// How long a session cookie lives (the session row ends at the same time).
pub const MAX_AGE_SECS: i64 = sessions::SESSION_TTL_MS / 1000;

/// Whose session a cookie holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    Passport,
    Account(AccountKind),
}

impl SessionKind {
    pub const TENANT: SessionKind = SessionKind::Account(AccountKind::Tenant);

    /// The cookie's base name (`cookies::name` adds `__Host-` over https).
    pub fn cookie(self) -> &'static str {
        match self {
            SessionKind::Passport => cookies::PASSPORT_COOKIE,
            SessionKind::Account(AccountKind::Tenant) => cookies::TENANT_COOKIE,
            SessionKind::Account(AccountKind::Operator) => cookies::OPERATOR_COOKIE,
        }
    }

    /// The kind the store keeps beside the session.
    fn stored(self) -> &'static str {
        match self {
            SessionKind::Passport => cookies::PASSPORT_SESSION,
            SessionKind::Account(kind) => kind.session_kind(),
        }
    }
}

/// The Set-Cookie value that hands the browser a new session `token` of `kind`.
pub fn cookie(kind: SessionKind, token: &str, secure: bool) -> String {
    cookies::session_cookie(kind.cookie(), token, secure, MAX_AGE_SECS)
}

/// Starts a fresh session of `kind` for `subject_id` (never one the browser brought): the
/// Set-Cookie value to send.
pub async fn start(db: &Db, kind: SessionKind, subject_id: &str, secure: bool) -> AppResult<String> {
    let token = create(db, kind, subject_id).await?;
    Ok(cookie(kind, &token, secure))
}

/// A new session token of `kind` for `subject_id`, for a caller that sets the cookie itself.
pub async fn create(db: &Db, kind: SessionKind, subject_id: &str) -> AppResult<String> {
    Ok(sessions::create(db, kind.stored(), subject_id).await?)
}

/// Ends the request's session of `kind` on the server: the Set-Cookie value that clears it.
pub async fn end(db: &Db, kind: SessionKind, headers: &HeaderMap, secure: bool) -> AppResult<String> {
    if let Some(token) = cookies::read(headers, kind.cookie(), secure) {
        sessions::delete(db, &token).await?;
    }
    Ok(cookies::expired_cookie(kind.cookie(), secure))
}

/// The id of whoever the request's live session of `kind` belongs to, if any.
async fn subject(db: &Db, kind: SessionKind, headers: &HeaderMap, secure: bool) -> AppResult<Option<String>> {
    match cookies::read(headers, kind.cookie(), secure) {
        Some(token) => Ok(sessions::subject(db, kind.stored(), &token).await?),
        None => Ok(None),
    }
}

/// The Passport whose live session the request's cookie names, if any.
pub async fn person(db: &Db, headers: &HeaderMap, secure: bool) -> AppResult<Option<Passport>> {
    match subject(db, SessionKind::Passport, headers, secure).await? {
        Some(id) => Ok(passports::find_by_id(db, &id).await?),
        None => Ok(None),
    }
}

/// The tenant or operator account whose live session the request's cookie names, if any.
pub async fn account(db: &Db, kind: AccountKind, headers: &HeaderMap, secure: bool) -> AppResult<Option<Account>> {
    match subject(db, SessionKind::Account(kind), headers, secure).await? {
        Some(id) => Ok(accounts::find_by_id(db, kind, &id).await?),
        None => Ok(None),
    }
}
