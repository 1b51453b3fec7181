//! `/v1/uui/me/*`: a person's own API over their signed-in session (the manage page's cookie;
//! the CSRF guard requires our own origin for every change). An agent's `uui_` token is not
//! a key to this: it opens one grant for one agent, never the person's Passport.
use super::data;
use super::extract::{ApiJson, ApiPath};
use crate::auth::cookies;
use crate::domain::agent::AccessType;
use crate::domain::categories::{self, Category};
use crate::domain::grant::GrantDuration;
use crate::error::{AppError, AppResult};
use crate::model::{ConflictAnswer, Flag, MemoryFilter};
use crate::web::AppState;
use crate::service::manage;
use crate::service::session::Passport;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use super::wire::{self, Answered, Corrected, Deleted, Envelope, ErrorBody, Flagged, Revoked};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

/// `data` with every time (`*_at`, `at`, `last_accessed`, in ms) as RFC 3339, like the rest
/// of `/v1`.
fn with_times<T: serde::Serialize>(value: T) -> serde_json::Value {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, item) in map.iter_mut() {
                    let is_time = k.ends_with("_at") || k == "at" || k == "last_accessed";
                    match item.as_i64() {
                        Some(ms) if is_time => *item = json!(crate::domain::time::rfc3339(ms)),
                        _ => walk(item),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(value).unwrap_or_default();
    walk(&mut v);
    v
}

/// The signed-in person (Passport session cookie), else 401.
pub struct Person(pub Passport);

impl FromRequestParts<AppState> for Person {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let passport = crate::service::session::person(&state.db, &parts.headers, state.config.secure_cookies()).await?;
        Ok(Person(passport.ok_or(AppError::Unauthenticated)?))
    }
}

/// The apps with access to the Passport, and access that has ended.
#[utoipa::path(get, path = "/uui/me/grants", tag = "me", security(("passport_session" = [])),
    responses(
        (status = 200, description = "Every app with access, and access that has ended", body = Envelope<Vec<wire::GrantCard>>),
        (status = 401, description = "No signed-in Passport session (AUTH_401)", body = ErrorBody),
    ))]
pub async fn grants(State(state): State<AppState>, Person(p): Person) -> AppResult<Response> {
    Ok(data(StatusCode::OK, with_times(manage::grant_cards(&state.db, &p).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct GrantChange {
    /// At least one.
    #[schema(value_type = Vec<wire::CategoryName>)]
    categories: Vec<String>,
    /// Access can be lowered here; raising it needs a new consent.
    #[schema(value_type = wire::AccessName)]
    access: String,
    /// Counted again from now.
    #[schema(value_type = wire::DurationName)]
    duration: String,
}

/// Changes an app's categories, lowers its access, or starts its duration again.
#[utoipa::path(patch, path = "/uui/me/grants/{id}", tag = "me", security(("passport_session" = [])),
    params(("id" = String, Path, description = "Its id")),
    request_body = GrantChange,
    responses(
        (status = 200, description = "The grant as changed; the app sees it on its next call", body = Envelope<wire::GrantCard>),
        (status = 401, description = "No signed-in Passport session (AUTH_401)", body = ErrorBody),
        (status = 403, description = "A change from another origin (CSRF_403)", body = ErrorBody),
        (status = 404, description = "Not one of this person's (REQ_404)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (REQ_413)", body = ErrorBody),
        (status = 422, description = "Invalid field, raising access, or no category (REQ_422)", body = ErrorBody),
    ))]
pub async fn update_grant(
    State(state): State<AppState>,
    Person(p): Person,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<GrantChange>,
) -> AppResult<Response> {
    let cats = categories::parse_list(&body.categories).map_err(|m| AppError::invalid("categories", m))?;
    let access = AccessType::parse(&body.access).ok_or_else(|| AppError::invalid("access", "access must be read_only or read_write."))?;
    let duration = GrantDuration::parse(&body.duration)
        .ok_or_else(|| AppError::invalid("duration", "duration must be 30_days, 90_days, 1_year or until_revoked."))?;
    Ok(data(StatusCode::OK, with_times(manage::update_grant(&state.db, &p, &id, &cats, access, duration).await?)))
}

/// Revokes an app's access; its token stops working on the next call.
#[utoipa::path(delete, path = "/uui/me/grants/{id}", tag = "me", security(("passport_session" = [])),
    params(("id" = String, Path, description = "Its id")),
    responses(
        (status = 200, description = "Revoked: the app's token stops working at once", body = Envelope<Revoked>),
        (status = 401, description = "No signed-in Passport session (AUTH_401)", body = ErrorBody),
        (status = 403, description = "A change from another origin (CSRF_403)", body = ErrorBody),
        (status = 404, description = "Not one of this person's (REQ_404)", body = ErrorBody),
    ))]
pub async fn revoke_grant(State(state): State<AppState>, Person(p): Person, ApiPath(id): ApiPath<String>) -> AppResult<Response> {
    manage::revoke_grant(&state.db, &p, &id).await?;
    Ok(data(StatusCode::OK, Revoked { revoked: true }))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemoryQuery {
    /// Only this category.
    #[param(value_type = Option<wire::CategoryName>)]
    category: Option<String>,
    /// Only memories this app wrote.
    agent_id: Option<String>,
    /// Words the memory contains (case-insensitive; % and _ are literal).
    q: Option<String>,
    /// Skip this many (pages are 50).
    offset: Option<u32>,
}

/// The memories, 50 a page, filtered by category, app or words.
#[utoipa::path(get, path = "/uui/me/memories", tag = "me", security(("passport_session" = [])),
    params(MemoryQuery),
    responses(
        (status = 200, description = "One page (50) of memories, newest first", body = Envelope<wire::MemoryPage>),
        (status = 401, description = "No signed-in Passport session (AUTH_401)", body = ErrorBody),
        (status = 422, description = "Unknown category or malformed query (REQ_422)", body = ErrorBody),
    ))]
pub async fn memories(State(state): State<AppState>, Person(p): Person, query: Result<Query<MemoryQuery>, axum::extract::rejection::QueryRejection>) -> AppResult<Response> {
    let Query(q) = query.map_err(|e| AppError::BadRequestBody(e.body_text()))?;
    let category = match q.category.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(Category::parse(c).ok_or_else(|| AppError::invalid("category", "Unknown category."))?),
        None => None,
    };
    let filter = MemoryFilter { category, agent_id: q.agent_id.filter(|a| !a.is_empty()), search: q.q.unwrap_or_default(), offset: q.offset.unwrap_or(0) };
    Ok(data(StatusCode::OK, with_times(manage::memory_page(&state.db, &p, &filter).await?)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct Correction {
    content: String,
    /// Kept as it is when left out.
    #[schema(value_type = Option<wire::CategoryName>)]
    category: Option<String>,
}

/// Corrects a memory; the old wording is kept as a version.
#[utoipa::path(patch, path = "/uui/me/memories/{id}", tag = "me", security(("passport_session" = [])),
    params(("id" = String, Path, description = "Its id")),
    request_body = Correction,
    responses(
        (status = 200, description = "Corrected; the old wording is kept as a version and any flag cleared", body = Envelope<Corrected>),
        (status = 401, description = "No signed-in Passport session (AUTH_401)", body = ErrorBody),
        (status = 403, description = "A change from another origin (CSRF_403)", body = ErrorBody),
        (status = 404, description = "Not one of this person's (REQ_404)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (REQ_413)", body = ErrorBody),
        (status = 422, description = "Invalid field or body (REQ_422)", body = ErrorBody),
    ))]
pub async fn correct_memory(
    State(state): State<AppState>,
    Person(p): Person,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Correction>,
) -> AppResult<Response> {
    let category = match body.category.as_deref() {
        Some(c) => Category::parse(c).ok_or_else(|| AppError::invalid("category", "Unknown category."))?,
        None => current_category(&state, &p, &id).await?,
    };
    manage::correct_memory(&state.db, &p, &id, &body.content, category).await?;
    Ok(data(StatusCode::OK, Corrected { corrected: true }))
}

async fn current_category(state: &AppState, p: &Passport, id: &str) -> AppResult<Category> {
    manage::memory_category(&state.db, p, id).await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FlagBody {
    /// incorrect | outdated | never_said, or null to clear.
    #[schema(value_type = Option<wire::FlagName>)]
    flag: Option<String>,
}

/// Flags a memory as incorrect, outdated or never said (not served while flagged), or clears the flag.
#[utoipa::path(post, path = "/uui/me/memories/{id}/flag", tag = "me", security(("passport_session" = [])),
    params(("id" = String, Path, description = "Its id")),
    request_body = FlagBody,
    responses(
        (status = 200, description = "Flagged memories are not served to apps; `null` clears the flag", body = Envelope<Flagged>),
        (status = 401, description = "No signed-in Passport session (AUTH_401)", body = ErrorBody),
        (status = 403, description = "A change from another origin (CSRF_403)", body = ErrorBody),
        (status = 404, description = "Not one of this person's (REQ_404)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (REQ_413)", body = ErrorBody),
        (status = 422, description = "Invalid field or body (REQ_422)", body = ErrorBody),
    ))]
pub async fn flag_memory(
    State(state): State<AppState>,
    Person(p): Person,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<FlagBody>,
) -> AppResult<Response> {
    let flag = match body.flag.as_deref() {
        Some(f) => Some(Flag::parse(f).ok_or_else(|| AppError::invalid("flag", "flag must be incorrect, outdated, never_said or null."))?),
        None => None,
    };
    manage::flag_memory(&state.db, &p, &id, flag).await?;
    Ok(data(StatusCode::OK, Flagged { flag: flag.map(|f| f.as_str()) }))
}

/// Deletes a memory and its versions.
#[utoipa::path(delete, path = "/uui/me/memories/{id}", tag = "me", security(("passport_session" = [])),
    params(("id" = String, Path, description = "Its id")),
    responses(
        (status = 200, description = "Deleted with its versions", body = Envelope<Deleted>),
        (status = 401, description = "No signed-in Passport session (AUTH_401)", body = ErrorBody),
        (status = 403, description = "A change from another origin (CSRF_403)", body = ErrorBody),
        (status = 404, description = "Not one of this person's (REQ_404)", body = ErrorBody),
    ))]
pub async fn delete_memory(State(state): State<AppState>, Person(p): Person, ApiPath(id): ApiPath<String>) -> AppResult<Response> {
    manage::delete_memory(&state.db, &p, &id).await?;
    Ok(data(StatusCode::OK, Deleted { deleted: true }))
}

/// A memory's earlier wordings.
#[utoipa::path(get, path = "/uui/me/memories/{id}/versions", tag = "me", security(("passport_session" = [])),
    params(("id" = String, Path, description = "Its id")),
    responses(
        (status = 200, description = "Earlier wordings, newest first", body = Envelope<Vec<wire::MemoryVersion>>),
        (status = 401, description = "No signed-in Passport session (AUTH_401)", body = ErrorBody),
        (status = 404, description = "Not one of this person's (REQ_404)", body = ErrorBody),
    ))]
pub async fn memory_versions(State(state): State<AppState>, Person(p): Person, ApiPath(id): ApiPath<String>) -> AppResult<Response> {
    Ok(data(StatusCode::OK, with_times(manage::memory_versions(&state.db, &p, &id).await?)))
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QuestionQuery {
    /// At most this many (1 to 100; 50 when absent).
    #[param(minimum = 1, maximum = 100)]
    limit: Option<i64>,
    /// Skip this many (oldest first).
    #[param(minimum = 0)]
    offset: Option<i64>,
}

/// Statements that contradict a memory, waiting for an answer, oldest first, a page at a time;
/// the `X-Total-Count` header says how many are open in all.
#[utoipa::path(get, path = "/uui/me/questions", tag = "me", security(("passport_session" = [])),
    params(QuestionQuery),
    responses(
        (status = 200, description = "One page of open questions, oldest first", body = Envelope<Vec<wire::ConflictQuestion>>,
            headers(("x-total-count" = i64, description = "Open questions in all"))),
        (status = 401, description = "No signed-in Passport session (AUTH_401)", body = ErrorBody),
        (status = 422, description = "limit outside 1-100, or a negative offset (REQ_422)", body = ErrorBody),
    ))]
pub async fn questions(State(state): State<AppState>, Person(p): Person, query: Result<Query<QuestionQuery>, axum::extract::rejection::QueryRejection>) -> AppResult<Response> {
    let Query(q) = query.map_err(|e| AppError::BadRequestBody(e.body_text()))?;
    let (items, total) = manage::questions(&state.db, &p, q.limit.unwrap_or(50), q.offset.unwrap_or(0)).await?;
    let mut res = data(StatusCode::OK, with_times(items));
    res.headers_mut().insert("x-total-count", axum::http::HeaderValue::from(total));
    Ok(res)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AnswerBody {
    #[schema(value_type = AnswerName)]
    answer: String,
}

#[allow(non_camel_case_types, dead_code)]
#[derive(serde::Serialize, ToSchema)]
pub enum AnswerName {
    A,
    B,
    both,
    neither,
}

/// Answers a question: A keeps the memory, B replaces it, both keeps both, neither drops both.
#[utoipa::path(post, path = "/uui/me/questions/{id}", tag = "me", security(("passport_session" = [])),
    params(("id" = String, Path, description = "Its id")),
    request_body = AnswerBody,
    responses(
        (status = 200, description = "A keeps the memory, B replaces it (the old wording becomes a version), both keeps both, neither flags it", body = Envelope<Answered>),
        (status = 401, description = "No signed-in Passport session (AUTH_401)", body = ErrorBody),
        (status = 403, description = "A change from another origin (CSRF_403)", body = ErrorBody),
        (status = 404, description = "Not one of this person's (REQ_404)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (REQ_413)", body = ErrorBody),
        (status = 422, description = "Invalid field or body (REQ_422)", body = ErrorBody),
    ))]
pub async fn answer_question(
    State(state): State<AppState>,
    Person(p): Person,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AnswerBody>,
) -> AppResult<Response> {
    let answer = ConflictAnswer::parse(&body.answer).ok_or_else(|| AppError::invalid("answer", "answer must be A, B, both or neither."))?;
    manage::answer_question(&state.db, &p, &id, answer).await?;
    Ok(data(StatusCode::OK, Answered { answer: answer.as_str() }))
}

/// Everything, as a JSON download.
#[utoipa::path(get, path = "/uui/me/export", tag = "me", security(("passport_session" = [])),
    responses(
        (status = 200, description = "Everything kept about the person, as a JSON download", body = Object, content_type = "application/json"),
        (status = 401, description = "No signed-in Passport session (AUTH_401)", body = ErrorBody),
    ))]
pub async fn export(State(state): State<AppState>, Person(p): Person) -> AppResult<Response> {
    let body = manage::export(&state.db, &p).await?;
    let mut res = (StatusCode::OK, axum::Json(body)).into_response();
    res.headers_mut().insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"memory-passport-export.json\""));
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct DeleteBody {
    /// Exactly `DELETE`.
    #[schema(example = "DELETE")]
    confirm: String,
}

/// Deletes the whole Passport (`{"confirm": "DELETE"}`) and ends the session.
#[utoipa::path(delete, path = "/uui/me", tag = "me", security(("passport_session" = [])),
    request_body = DeleteBody,
    responses(
        (status = 200, description = "Everything is deleted and the session ends; every app token stops working", body = Envelope<Deleted>),
        (status = 401, description = "No signed-in Passport session (AUTH_401)", body = ErrorBody),
        (status = 403, description = "A change from another origin (CSRF_403)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (REQ_413)", body = ErrorBody),
        (status = 422, description = "`confirm` is not DELETE (REQ_422)", body = ErrorBody),
    ))]
pub async fn delete_passport(State(state): State<AppState>, Person(p): Person, ApiJson(body): ApiJson<DeleteBody>) -> AppResult<Response> {
    manage::delete_passport(&state.db, &state.key, &state.universal, &p, &body.confirm).await?;
    let mut res = data(StatusCode::OK, Deleted { deleted: true });
    if let Ok(v) = HeaderValue::from_str(&cookies::expired_cookie(cookies::PASSPORT_COOKIE, state.config.secure_cookies())) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}
