//! What server functions need from the request: state, the client address, cookies and the
//! signed-in account.
use super::AppState;
use crate::auth::cookies;
use crate::error::AppError;
use crate::service;
use crate::store::accounts::{Account, AccountKind};
use axum::extract::ConnectInfo;
use http::header::SET_COOKIE;
use http::request::Parts;
use http::HeaderValue;
use leptos::prelude::*;
use std::net::SocketAddr;

pub fn state() -> Result<AppState, ServerFnError> {
    use_context::<AppState>().ok_or_else(|| ServerFnError::ServerError("server state missing".into()))
}

fn parts() -> Option<Parts> {
    use_context::<Parts>()
}

/// The client's address, used to key rate limits. Behind a proxy this is the proxy.
pub fn client_key() -> String {
    parts()
        .and_then(|p| p.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip().to_string()))
        .unwrap_or_else(|| "unknown".into())
}

pub fn cookie(name: &str) -> Option<String> {
    parts().and_then(|p| cookies::read(&p.headers, name))
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
pub async fn end_session(kind: AccountKind) -> Result<(), ServerFnError> {
    let state = state()?;
    if let Some(token) = cookie(cookie_name(kind)) {
        crate::store::sessions::delete(&state.db, &token).await.map_err(AppError::from)?;
    }
    set_cookie(cookies::expired_cookie(cookie_name(kind), state.config.secure_cookies()));
    Ok(())
}

/// The signed-in account of `kind`, if any.
pub async fn account(kind: AccountKind) -> Result<Option<Account>, ServerFnError> {
    let state = state()?;
    match cookie(cookie_name(kind)) {
        Some(token) => Ok(service::accounts::from_session(&state.db, kind, &token).await?),
        None => Ok(None),
    }
}

/// The signed-in account of `kind`, or the "sign in again" error.
pub async fn require(kind: AccountKind) -> Result<(AppState, Account), ServerFnError> {
    let account = account(kind).await?.ok_or(AppError::Unauthenticated)?;
    Ok((state()?, account))
}

/// Sets the HTTP status of the page being rendered.
pub fn set_status(status: http::StatusCode) {
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(status);
    }
}
