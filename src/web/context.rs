//! What server functions need from the request: state, the client address, cookies and the
//! signed-in account, and `run`, which turns their `AppError` into an answer with the right
//! HTTP status (server functions would otherwise answer every error with 500).
use super::AppState;
use crate::auth::cookies;
use crate::error::{AppError, AppResult};
use crate::service::session::{self, Account, AccountKind, Passport, SessionKind};
use crate::store::now_ms;
use http::header::SET_COOKIE;
use http::request::Parts;
use http::HeaderValue;
use leptos::prelude::*;

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

/// The path of the page being rendered.
pub fn path() -> Option<String> {
    parts().map(|p| p.uri.path().to_string())
}

/// The client's key for rate limits (see `client_ip`: proxies, IPv6 /64).
pub fn client_key() -> String {
    let (Some(parts), Ok(state)) = (parts(), state()) else {
        return "unknown".into();
    };
    crate::request::client_ip::ClientKey::of(&parts, &state.config.trusted_proxies).0
}

pub fn set_cookie(value: String) {
    if let (Some(resp), Ok(v)) = (use_context::<leptos_axum::ResponseOptions>(), HeaderValue::from_str(&value)) {
        resp.append_header(SET_COOKIE, v);
    }
}

/// Starts a browser session of `kind` with the fresh `token` its sign-in or sign-up made.
pub fn start_session(state: &AppState, kind: AccountKind, token: &str) {
    set_cookie(session::cookie(SessionKind::Account(kind), token, state.config.secure_cookies()));
}

/// Ends the request's session of `kind`, server side and in the browser.
async fn end(kind: SessionKind) -> AppResult<()> {
    let state = state()?;
    let headers = parts().map(|p| p.headers).unwrap_or_default();
    set_cookie(session::end(&state.db, kind, &headers, state.config.secure_cookies()).await?);
    Ok(())
}

/// Ends the current tenant or operator session.
pub async fn end_session(kind: AccountKind) -> AppResult<()> {
    end(SessionKind::Account(kind)).await
}

/// The signed-in account of `kind`, if any.
pub async fn account(kind: AccountKind) -> AppResult<Option<Account>> {
    let state = state()?;
    let headers = parts().map(|p| p.headers).unwrap_or_default();
    session::account(&state.db, kind, &headers, state.config.secure_cookies()).await
}

/// Runs a server function's body for the signed-in account of `kind`, or answers "sign in
/// again" without running it.
pub async fn as_account<T, Body, Fut>(kind: AccountKind, body: Body) -> Result<T, ServerFnError>
where
    Body: FnOnce(AppState, Account) -> Fut,
    Fut: std::future::Future<Output = AppResult<T>>,
{
    run(async move {
        let (state, account) = require(kind).await?;
        body(state, account).await
    })
    .await
}

/// Runs a server function's body for the signed-in person's Passport, or answers "your session
/// has ended" without running it.
pub async fn as_person<T, Body, Fut>(body: Body) -> Result<T, ServerFnError>
where
    Body: FnOnce(AppState, Passport) -> Fut,
    Fut: std::future::Future<Output = AppResult<T>>,
{
    run(async move {
        let passport = passport().await?.ok_or(AppError::Unauthenticated)?;
        body(state()?, passport).await
    })
    .await
}

/// The signed-in account of `kind`, or the "sign in again" error.
pub async fn require(kind: AccountKind) -> AppResult<(AppState, Account)> {
    let account = account(kind).await?.ok_or(AppError::Unauthenticated)?;
    Ok((state()?, account))
}

/// Starts a person's Passport session (after a confirmed sign-in code or link).
pub async fn start_passport_session(state: &AppState, passport_id: &str) -> AppResult<()> {
    set_cookie(session::start(&state.db, SessionKind::Passport, passport_id, state.config.secure_cookies()).await?);
    forget_code_sent(state);
    Ok(())
}

pub async fn end_passport_session() -> AppResult<()> {
    end(SessionKind::Passport).await
}

/// The signed-in person's Passport, if any.
pub async fn passport() -> AppResult<Option<Passport>> {
    let state = state()?;
    let headers = parts().map(|p| p.headers).unwrap_or_default();
    session::person(&state.db, &headers, state.config.secure_cookies()).await
}

/// Where a signed-out person is in the email sign-in (the notice is shown once: it is
/// cleared with this answer).
pub fn sign_in_state() -> crate::model::SignInState {
    let (Some(parts), Ok(state)) = (parts(), state()) else {
        return Default::default();
    };
    let secure = state.config.secure_cookies();
    let notice = cookies::read_text(&parts.headers, cookies::NOTICE_COOKIE, secure).map(crate::model::Notice::decode);
    if notice.is_some() {
        set_cookie(cookies::expired_text_cookie(cookies::NOTICE_COOKIE, secure, "/"));
    }
    let sent = cookies::read_text(&parts.headers, cookies::CODE_SENT_COOKIE, secure).map(|v| CodeSent::decode(&v));
    let resend_in = sent.as_ref().map(|s| s.resend_in(now_ms())).unwrap_or(0);
    crate::model::SignInState { code_sent_to: sent.map(|s| s.email), resend_in, notice }
}

/// What the code-sent cookie holds: the address, and when the code went (so a page rendered
/// after a plain form post shows the resend countdown too).
#[derive(Debug, PartialEq)]
struct CodeSent {
    email: String,
    sent_at_ms: Option<i64>,
}

impl CodeSent {
    fn encode(email: &str, sent_at_ms: i64) -> String {
        format!("{sent_at_ms} {}", email.trim())
    }

    /// Also reads the older value, the bare address.
    fn decode(value: &str) -> CodeSent {
        match value.split_once(' ').and_then(|(at, email)| Some((at.parse::<i64>().ok()?, email))) {
            Some((at, email)) => CodeSent { email: email.to_string(), sent_at_ms: Some(at) },
            None => CodeSent { email: value.to_string(), sent_at_ms: None },
        }
    }

    fn resend_in(&self, now_ms: i64) -> u64 {
        let Some(at) = self.sent_at_ms else { return 0 };
        let left_ms = (at + crate::service::otp::RESEND_COOLDOWN_MS - now_ms).clamp(0, crate::service::otp::RESEND_COOLDOWN_MS);
        (left_ms as u64).div_ceil(1000)
    }
}

/// Remembers (for the page's next view) that a code went to `email`.
pub fn remember_code_sent(state: &AppState, email: &str) {
    set_cookie(code_sent_cookie(state, email));
}

pub fn forget_code_sent(state: &AppState) {
    set_cookie(code_sent_cleared(state));
}

/// The cookie that forgets where a code went (signed in, or starting over).
pub fn code_sent_cleared(state: &AppState) -> String {
    cookies::expired_text_cookie(cookies::CODE_SENT_COOKIE, state.config.secure_cookies(), "/")
}

/// The cookie that remembers where a code went, for as long as the code lives.
pub fn code_sent_cookie(state: &AppState, email: &str) -> String {
    let max_age = crate::service::otp::CODE_TTL_MS / 1000;
    let value = CodeSent::encode(email, now_ms());
    cookies::text_cookie(cookies::CODE_SENT_COOKIE, &value, state.config.secure_cookies(), max_age, "/", cookies::SameSite::Lax)
}

/// The one-page cookie that hands the hosted completion page its token.
pub fn completion_cookie(state: &AppState, token: &str) -> String {
    cookies::text_cookie(cookies::COMPLETION_COOKIE, token, state.config.secure_cookies(), 300, "/complete", cookies::SameSite::Strict)
}

/// Takes the completion page's token (once: the cookie is cleared with this answer).
pub fn take_completion_token() -> Option<String> {
    let (parts, state) = (parts()?, state().ok()?);
    let secure = state.config.secure_cookies();
    let token = cookies::read_text(&parts.headers, cookies::COMPLETION_COOKIE, secure)?;
    set_cookie(cookies::expired_text_cookie(cookies::COMPLETION_COOKIE, secure, "/complete"));
    Some(token)
}

/// Sets the HTTP status of the page being rendered.
pub fn set_status(status: http::StatusCode) {
    if let Some(resp) = use_context::<leptos_axum::ResponseOptions>() {
        resp.set_status(status);
    }
}

#[cfg(test)]
mod tests {
    use super::CodeSent;

    #[test]
    fn the_code_sent_cookie_keeps_the_address_and_the_countdown() {
        let sent = CodeSent::decode(&CodeSent::encode(" ada@example.com ", 1_000_000));
        assert_eq!(sent, CodeSent { email: "ada@example.com".into(), sent_at_ms: Some(1_000_000) });
        assert_eq!(sent.resend_in(1_000_000), 30);
        assert_eq!(sent.resend_in(1_000_001), 30, "rounds up: the button is not ready before the server is");
        assert_eq!(sent.resend_in(1_029_500), 1);
        assert_eq!(sent.resend_in(1_030_000), 0);
        assert_eq!(sent.resend_in(900_000), 30, "a clock that went back waits no longer than the cooldown");
        // The value cookies held before: the bare address, and no countdown.
        assert_eq!(CodeSent::decode("grace@example.com"), CodeSent { email: "grace@example.com".into(), sent_at_ms: None });
        assert_eq!(CodeSent::decode("grace@example.com").resend_in(0), 0);
    }
}
