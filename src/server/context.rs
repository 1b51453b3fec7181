//! What server functions need from the request: state, the client address, cookies and the
//! signed-in account, and `run`, which turns their `AppError` into an answer with the right
//! HTTP status (server functions would otherwise answer every error with 500).
use super::AppState;
use crate::auth::cookies;
use crate::error::{AppError, AppResult};
use crate::service;
use crate::store::accounts::{Account, AccountKind};
use axum::extract::ConnectInfo;
use http::header::SET_COOKIE;
use http::request::Parts;
use http::HeaderValue;
use leptos::prelude::*;
use std::net::SocketAddr;

/// Runs the body of a server function; an error sets the status (and Retry-After) of the
/// response and becomes the sentence the page shows.
pub async fn run<T>(body: impl std::future::Future<Output = AppResult<T>>) -> Result<T, ServerFnError> {
    body.await.map_err(|e| {
        // A page render that calls a server function in-process keeps its own status.
        let is_server_fn_call = parts().is_some_and(|p| p.uri.path().starts_with("/api/"));
        if let Some(resp) = use_context::<leptos_axum::ResponseOptions>().filter(|_| is_server_fn_call) {
            resp.set_status(e.status());
            if let AppError::RateLimited { retry_after_secs } = e {
                resp.insert_header(http::header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
        }
        ServerFnError::ServerError(e.to_string())
    })
}

pub fn state() -> AppResult<AppState> {
    use_context::<AppState>().ok_or_else(|| AppError::Internal("server state missing from context".into()))
}

fn parts() -> Option<Parts> {
    use_context::<Parts>()
}

/// The client's address, used to key rate limits (see `client_ip` for proxies).
pub fn client_key() -> String {
    let (Some(parts), Ok(state)) = (parts(), state()) else {
        return "unknown".into();
    };
    match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
        Some(peer) => super::client_ip::client_ip(peer.0.ip(), forwarded_for(&parts.headers), &state.config.trusted_proxies).to_string(),
        None => "unknown".into(),
    }
}

pub fn forwarded_for(headers: &http::HeaderMap) -> Option<&str> {
    headers.get("x-forwarded-for").and_then(|v| v.to_str().ok())
}

/// The value of session cookie `base` (named per `cookies::name`).
pub fn cookie(base: &str) -> Option<String> {
    let secure = state().ok()?.config.secure_cookies();
    parts().and_then(|p| cookies::read(&p.headers, base, secure))
}

pub fn set_cookie(value: String) {
    if let (Some(resp), Ok(v)) = (use_context::<leptos_axum::ResponseOptions>(), HeaderValue::from_str(&value)) {
        resp.append_header(SET_COOKIE, v);
    }
}

pub fn cookie_name(kind: AccountKind) -> &'static str {
    match kind {
        AccountKind::Tenant => cookies::TENANT_COOKIE,
        AccountKind::Operator => cookies::OPERATOR_COOKIE,
    }
}

/// Starts a browser session for `kind` with a fresh token.
pub fn start_session(state: &AppState, kind: AccountKind, token: &str) {
    let max_age = crate::store::sessions::SESSION_TTL_MS / 1000;
    set_cookie(cookies::session_cookie(cookie_name(kind), token, state.config.secure_cookies(), max_age));
}

/// Ends the current session of `kind`, server side and in the browser.
pub async fn end_session(kind: AccountKind) -> AppResult<()> {
    let state = state()?;
    if let Some(token) = cookie(cookie_name(kind)) {
        crate::store::sessions::delete(&state.db, &token).await?;
    }
    set_cookie(cookies::expired_cookie(cookie_name(kind), state.config.secure_cookies()));
    Ok(())
}

/// The signed-in account of `kind`, if any.
pub async fn account(kind: AccountKind) -> AppResult<Option<Account>> {
    let state = state()?;
    match cookie(cookie_name(kind)) {
        Some(token) => service::accounts::from_session(&state.db, kind, &token).await,
        None => Ok(None),
    }
}

/// The signed-in account of `kind`, or the "sign in again" error.
pub async fn require(kind: AccountKind) -> AppResult<(AppState, Account)> {
    let account = account(kind).await?.ok_or(AppError::Unauthenticated)?;
    Ok((state()?, account))
}

/// Starts a person's Passport session (after a confirmed sign-in code).
pub async fn start_passport_session(state: &AppState, passport_id: &str) -> AppResult<()> {
    let token = crate::store::sessions::create(&state.db, cookies::PASSPORT_SESSION, passport_id).await?;
    let max_age = crate::store::sessions::SESSION_TTL_MS / 1000;
    set_cookie(cookies::session_cookie(cookies::PASSPORT_COOKIE, &token, state.config.secure_cookies(), max_age));
    Ok(())
}

pub async fn end_passport_session() -> AppResult<()> {
    let state = state()?;
    if let Some(token) = cookie(cookies::PASSPORT_COOKIE) {
        crate::store::sessions::delete(&state.db, &token).await?;
    }
    set_cookie(cookies::expired_cookie(cookies::PASSPORT_COOKIE, state.config.secure_cookies()));
    Ok(())
}

/// The signed-in person's Passport, if any.
pub async fn passport() -> AppResult<Option<crate::store::passports::Passport>> {
    let state = state()?;
    let Some(token) = cookie(cookies::PASSPORT_COOKIE) else {
        return Ok(None);
    };
    match crate::store::sessions::subject(&state.db, cookies::PASSPORT_SESSION, &token).await? {
        Some(id) => Ok(crate::store::passports::find_by_id(&state.db, &id).await?),
        None => Ok(None),
    }
}

/// Sets the HTTP status of the page being rendered.
pub fn set_status(status: http::StatusCode) {
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(status);
    }
}
