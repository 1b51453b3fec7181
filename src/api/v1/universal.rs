//! `/v1/universal/*`: what agents call. So far the token hand-off after consent.
use super::data;
use super::extract::{AgentKey, ApiJson};
use crate::domain::categories;
use crate::domain::time::rfc3339;
use crate::error::AppResult;
use crate::server::AppState;
use crate::service::consent;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    code: String,
    #[serde(default)]
    redirect_uri: String,
    code_verifier: Option<String>,
}

/// `POST /v1/universal/token`: exchange the code from the consent redirect for a pairwise
/// `uui_…` token (server side, with the agent's own secret).
pub async fn token(State(state): State<AppState>, AgentKey(agent): AgentKey, ApiJson(body): ApiJson<TokenRequest>) -> AppResult<Response> {
    let out = consent::exchange(&state.db, &agent, &body.code, &body.redirect_uri, body.code_verifier.as_deref()).await?;
    let g = &out.grant;
    Ok(data(
        StatusCode::OK,
        json!({
            "uui_token": out.uui_token,
            "grant": {
                "categories": categories::to_names(&g.categories),
                "access_type": g.access_type.as_str(),
                "expires_at": g.expires_at.map(rfc3339),
            },
            "link_token": out.link_token,
        }),
    ))
}
