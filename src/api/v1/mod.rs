//! `/v1`: JSON in, JSON out, every answer with `request_id` and every error in the envelope.
mod agents;
mod extract;
mod me;
mod universal;

use crate::domain::time::rfc3339;
use crate::error::AppError;
use crate::server::{request_id, AppState};
use crate::store::now_ms;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;

/// Largest JSON body accepted by `/v1`.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agents/global", post(agents::create).get(agents::list))
        .route(
            "/agents/global/{id}",
            get(agents::public_profile).patch(agents::update).delete(agents::retire),
        )
        .route("/agents/global/{id}/rotate-secret", post(agents::rotate_secret))
        .route("/universal/token", post(universal::token))
        .route("/universal/memories/retrieve", post(universal::retrieve))
        .route("/universal/memories/add", post(universal::add))
        .route("/universal/memories/jobs/{job_id}", get(universal::job))
        .route("/uui/me", axum::routing::delete(me::delete_passport))
        .route("/uui/me/grants", get(me::grants))
        .route("/uui/me/grants/{id}", axum::routing::patch(me::update_grant).delete(me::revoke_grant))
        .route("/uui/me/memories", get(me::memories))
        .route("/uui/me/memories/{id}", axum::routing::patch(me::correct_memory).delete(me::delete_memory))
        .route("/uui/me/memories/{id}/flag", post(me::flag_memory))
        .route("/uui/me/memories/{id}/versions", get(me::memory_versions))
        .route("/uui/me/questions", get(me::questions))
        .route("/uui/me/questions/{id}", post(me::answer_question))
        .route("/uui/me/export", get(me::export))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
}

/// `{"data": …, "request_id", "timestamp"}` with the given status.
pub fn data<T: Serialize>(status: StatusCode, data: T) -> Response {
    let body = serde_json::json!({
        "data": data,
        "request_id": request_id::current(),
        "timestamp": rfc3339(now_ms()),
    });
    (status, axum::Json(body)).into_response()
}

async fn not_found() -> AppError {
    AppError::NotFound
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}
