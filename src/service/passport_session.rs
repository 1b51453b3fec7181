//! A person's Passport session: the one place that says who is signed in as a person, for
//! server functions, the `/v1/uui/me` API and the pages' plain form posts alike.
use crate::auth::cookies;
use crate::error::AppResult;
use crate::store::passports;
pub use crate::store::passports::Passport;
use crate::store::{sessions, Db};
use http::HeaderMap;

/// How long a session cookie lives (the session row ends at the same time).
pub const MAX_AGE_SECS: i64 = sessions::SESSION_TTL_MS / 1000;

/// The Passport whose live session the request's cookie names, if any.
pub async fn person(db: &Db, headers: &HeaderMap, secure: bool) -> AppResult<Option<Passport>> {
    let Some(token) = cookies::read(headers, cookies::PASSPORT_COOKIE, secure) else {
        return Ok(None);
    };
    match sessions::subject(db, cookies::PASSPORT_SESSION, &token).await? {
        Some(id) => Ok(passports::find_by_id(db, &id).await?),
        None => Ok(None),
    }
}

/// Starts a fresh session for `passport_id` (never one the browser brought): the Set-Cookie
/// value to send.
pub async fn start(db: &Db, passport_id: &str, secure: bool) -> AppResult<String> {
    let token = sessions::create(db, cookies::PASSPORT_SESSION, passport_id).await?;
    Ok(cookies::session_cookie(cookies::PASSPORT_COOKIE, &token, secure, MAX_AGE_SECS))
}

/// Ends the request's session on the server: the Set-Cookie value that clears it.
pub async fn end(db: &Db, headers: &HeaderMap, secure: bool) -> AppResult<String> {
    if let Some(token) = cookies::read(headers, cookies::PASSPORT_COOKIE, secure) {
        sessions::delete(db, &token).await?;
    }
    Ok(cookies::expired_cookie(cookies::PASSPORT_COOKIE, secure))
}
