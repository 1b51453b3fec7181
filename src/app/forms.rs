//! The consent and manage pages as plain HTML forms: every step a person takes before the
//! page's script has run (or with scripts blocked) posts here, to the page's own address, and
//! comes back to that same full address (303 See Other) with what happened in a one-view
//! notice cookie. The hydrated page sends the same steps to server functions instead; both
//! call the same services.
use crate::auth::cookies::{self, SameSite};
use crate::domain::consent_url::ConsentLink;
use crate::error::{AppError, AppResult};
use crate::model::{ConsentAnswer, Notice};
use crate::request::client_ip::ClientKey;
use crate::web::context::{code_sent_cleared, code_sent_cookie, completion_cookie};
use crate::web::AppState;
use crate::service::session::{self, SessionKind};
use crate::service::{consent, otp};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// One form post's fields, in order (checkboxes repeat their name).
struct Fields(Vec<(String, String)>);

impl Fields {
    fn parse(body: &str) -> Fields {
        Fields(form_urlencoded::parse(body.as_bytes()).into_owned().collect())
    }

    fn get(&self, name: &str) -> String {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }
}

/// What a step answers: where to go, and the cookies to set on the way.
struct Next {
    location: String,
    cookies: Vec<String>,
}

impl IntoResponse for Next {
    fn into_response(self) -> Response {
        let mut res = StatusCode::SEE_OTHER.into_response();
        if let Ok(v) = HeaderValue::from_str(&self.location) {
            res.headers_mut().insert(header::LOCATION, v);
        }
        for c in self.cookies {
            if let Ok(v) = HeaderValue::from_str(&c) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
        }
        res
    }
}

fn notice_cookie(state: &AppState, notice: Notice) -> String {
    cookies::text_cookie(cookies::NOTICE_COOKIE, &notice.encode(), state.config.secure_cookies(), 60, "/", SameSite::Lax)
}

/// The page's own address, path and query, to come back to.
fn page(path: &str, query: &Option<String>) -> String {
    match query.as_deref().filter(|q| !q.is_empty()) {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    }
}

/// Back to `back`, with the error told on the page (nothing else changed).
fn failed(state: &AppState, back: String, e: AppError) -> Response {
    Next { location: back, cookies: vec![notice_cookie(state, Notice { text: e.for_people(), is_error: true })] }.into_response()
}

/// The sign-in steps both pages share: send a code, check it, start over, sign out.
async fn sign_in_step(state: &AppState, client: &ClientKey, headers: &HeaderMap, fields: &Fields, back: &str) -> AppResult<Option<Vec<String>>> {
    let secure = state.config.secure_cookies();
    Ok(Some(match fields.get("intent").as_str() {
        "send_code" => {
            let email = fields.get("email");
            otp::send_code(&state.db, &state.key, &state.mailer, &state.config.public_url, client.as_str(), &email, back).await?;
            vec![code_sent_cookie(state, &email)]
        }
        "verify_code" => {
            let passport = otp::verify_code(&state.db, &state.key, client.as_str(), &fields.get("email"), &fields.get("code")).await?;
            vec![
                session::start(&state.db, SessionKind::Passport, &passport.id, secure).await?,
                code_sent_cleared(state),
            ]
        }
        "change_email" => vec![code_sent_cleared(state)],
        "sign_out" => vec![session::end(&state.db, SessionKind::Passport, headers, secure).await?],
        _ => return Ok(None),
    }))
}

/// `POST /consent?<link>`: the sign-in steps, approve and deny.
pub async fn consent(State(state): State<AppState>, client: ClientKey, RawQuery(query): RawQuery, headers: HeaderMap, body: String) -> Response {
    let back = page("/consent", &query);
    let fields = Fields::parse(&body);
    match consent_step(&state, &client, &headers, &fields, &back, &query).await {
        Ok(next) => next.into_response(),
        Err(e) => failed(&state, back, e),
    }
}

async fn consent_step(state: &AppState, client: &ClientKey, headers: &HeaderMap, fields: &Fields, back: &str, query: &Option<String>) -> AppResult<Next> {
    if let Some(cookies) = sign_in_step(state, client, headers, fields, back).await? {
        return Ok(Next { location: back.to_string(), cookies });
    }
    let link = ConsentLink::parse(query.as_deref().unwrap_or_default());
    let answer = ConsentAnswer {
        categories: fields.all("categories"),
        duration: fields.get("duration"),
        access: fields.get("access"),
        ..ConsentAnswer::for_link(&link)
    };
    let secure = state.config.secure_cookies();
    let passport = session::person(&state.db, headers, secure).await?;
    match fields.get("intent").as_str() {
        "approve" => {
            let passport = passport.ok_or(AppError::Unauthenticated)?;
            let approved = consent::approve(&state.db, &state.mailer, &state.config.public_url, &passport, &answer).await?;
            let cookies = approved.token.as_deref().map(|t| completion_cookie(state, t)).into_iter().collect();
            Ok(Next { location: approved.location, cookies })
        }
        "deny" => {
            let location = consent::deny(&state.db, &state.config.public_url, passport.as_ref(), &answer).await?;
            Ok(Next { location, cookies: vec![] })
        }
        _ => Err(AppError::invalid("intent", "This form can't be sent. Reload the page and try again.")),
    }
}

/// `POST /manage`: the sign-in steps.
pub async fn manage(State(state): State<AppState>, client: ClientKey, RawQuery(query): RawQuery, headers: HeaderMap, body: String) -> Response {
    let back = page("/manage", &query);
    let fields = Fields::parse(&body);
    match sign_in_step(&state, &client, &headers, &fields, &back).await {
        Ok(Some(cookies)) => Next { location: back, cookies }.into_response(),
        Ok(None) => failed(&state, back, AppError::invalid("intent", "This form can't be sent. Reload the page and try again.")),
        Err(e) => failed(&state, back, e),
    }
}

/// `POST /passport/link`: the one-click link's button. Signs in and returns to the page the
/// code was asked for; a used or expired link comes back to its page, which says so.
pub async fn use_link(State(state): State<AppState>, client: ClientKey, body: String) -> Response {
    let fields = Fields::parse(&body);
    let secure = state.config.secure_cookies();
    let signed_in = async {
        let (passport, return_to) = otp::verify_link(&state.db, &state.key, client.as_str(), &fields.get("email"), &fields.get("token")).await?;
        let started = session::start(&state.db, SessionKind::Passport, &passport.id, secure).await?;
        AppResult::Ok(Next { location: return_to, cookies: vec![started, code_sent_cleared(&state)] })
    };
    match signed_in.await {
        Ok(next) => next.into_response(),
        Err(AppError::RateLimited { .. }) | Err(AppError::Validation(_)) => Next { location: "/passport/link?problem=used".into(), cookies: vec![] }.into_response(),
        Err(e) => e.into_response(),
    }
}
