//! `/v1/universal/*`: what agents call: the token hand-off after consent, and reading and
//! adding a person's memories with that token.
use super::data;
use super::extract::{api_key, AgentKey, ApiJson, ApiPath};
use crate::domain::categories;
use crate::domain::time::rfc3339;
use crate::error::{AppError, AppResult};
use crate::server::{request_id, AppState};
use crate::service::consent;
use crate::service::universal::{self as service, worker::JobResult, AddRequest, Caller, RetrieveRequest};
use crate::store::{new_id, now_ms};
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;

/// The person's pairwise token travels in this header; the agent's secret in Authorization.
pub const UUI_HEADER: &str = "x-memoryos-uui";

/// An agent acting for one person, authenticated and within its rate limit.
pub struct Agent(pub Caller);

impl FromRequestParts<AppState> for Agent {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = parts.headers.get(UUI_HEADER).and_then(|v| v.to_str().ok());
        let client = match parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            Some(peer) => crate::server::client_ip::client_ip(
                peer.0.ip(),
                parts.headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()),
                &state.config.trusted_proxies,
            )
            .to_string(),
            None => "unknown".into(),
        };
        let caller = service::authenticate(&state.universal, &state.db, &client, api_key(&parts.headers), token).await?;
        Ok(Agent(caller))
    }
}

#[derive(Debug, Deserialize)]
pub struct RetrieveBody {
    query: Option<String>,
    limit: Option<i64>,
    format: Option<String>,
    context_max_tokens: Option<i64>,
}

/// `POST /v1/universal/memories/retrieve`: ranked memories from the granted categories and a
/// ready-to-use `system_prompt_addition`. Without an active grant, one answer for every cause.
pub async fn retrieve(State(state): State<AppState>, Agent(caller): Agent, ApiJson(body): ApiJson<RetrieveBody>) -> AppResult<Response> {
    let req = RetrieveRequest::check(body.query, body.limit, body.format.as_deref(), body.context_max_tokens)?;
    let found = service::retrieve(&state.universal, &state.db, &caller, &req).await?;
    let (items, context, categories, permission_error) = match found {
        Some(r) => (r.items, r.context, categories::to_names(&r.categories), Value::Null),
        None => (Vec::new(), Default::default(), Vec::new(), json!("no_grant_for_user")),
    };
    let data: Vec<Value> = items
        .iter()
        .map(|m| {
            json!({
                "id": m.id,
                "content": m.content,
                "category": m.category.as_str(),
                "importance_score": f64::from(m.importance) / 10.0,
                "relevance_score": (m.relevance * 1000.0).round() / 1000.0,
                "context_snippet": m.snippet,
                "last_accessed": m.last_accessed.map(rfc3339),
                "access_count": m.access_count,
            })
        })
        .collect();
    let body = json!({
        "request_id": request_id::current(),
        "timestamp": rfc3339(now_ms()),
        "retrieval_id": new_id(),
        "cached": false,
        "data": data,
        "system_prompt_addition": context.text,
        "context_token_count": context.tokens,
        "permission_error": permission_error,
        "categories_available": categories,
        "is_passthrough": false,
    });
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct AddBody {
    messages: Vec<MessageBody>,
    metadata: Option<Value>,
    idempotency_key: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct MessageBody {
    role: String,
    content: String,
}

/// `POST /v1/universal/memories/add`: the conversation is stored as a job before the answer;
/// a worker extracts memories from it.
pub async fn add(State(state): State<AppState>, Agent(caller): Agent, ApiJson(body): ApiJson<AddBody>) -> AppResult<Response> {
    let messages = body.messages.into_iter().map(|m| (m.role, m.content)).collect();
    let req = AddRequest::check(messages, body.metadata, body.idempotency_key)?;
    let (job_id, status) = service::add(&state.universal, &state.db, &caller, &req).await?;
    let body = json!({
        "request_id": request_id::current(),
        "timestamp": rfc3339(now_ms()),
        "job_id": job_id,
        "status": status,
        "processing_status": "normal",
    });
    Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
}

/// `GET /v1/universal/memories/jobs/{job_id}`: only for the agent and person that created it.
pub async fn job(State(state): State<AppState>, Agent(caller): Agent, ApiPath(id): ApiPath<String>) -> AppResult<Response> {
    let job = service::job(&state.db, &caller, &id).await?;
    let result: JobResult = job.result.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
    Ok(data(
        StatusCode::OK,
        json!({
            "job_id": job.id,
            "status": job.status,
            "attempts": job.attempts,
            "memories_created": result.created_memory_ids.len(),
            "created_memory_ids": result.created_memory_ids,
            "error": job.error,
            "created_at": rfc3339(job.created_at),
            "queued_at": rfc3339(job.created_at),
            "started_at": job.started_at.map(rfc3339),
            "completed_at": job.completed_at.map(rfc3339),
            "extraction_metadata": {
                "extractor": "rules",
                "extracted": result.extracted,
                "duplicates": result.duplicates,
                "conflicts": result.conflicts,
                "outside_grant": result.outside_grant,
                "over_limit": result.over_limit,
            },
        }),
    ))
}

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
