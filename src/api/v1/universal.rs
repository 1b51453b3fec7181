//! `/v1/universal/*`: what agents call: the token hand-off after consent, and reading and
//! adding a person's memories with that token.
use super::data;
use super::extract::{api_key, AgentKey, ApiJson, ApiPath};
use super::wire::{AddAnswer, Envelope, ErrorBody, ExtractionMetadata, GrantSummary, JobStatus, RetrieveAnswer, RetrievedMemory, TokenAnswer};
use crate::domain::categories;
use crate::domain::time::rfc3339;
use crate::error::{AppError, AppResult};
use crate::request::client_ip::ClientKey;
use crate::request::id as request_id;
use crate::web::AppState;
use crate::service::consent;
use crate::service::universal::{self as service, worker::JobResult, AddRequest, Caller, NewMessage, RetrieveRequest};
use crate::service::{new_id, now_ms};
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The person's pairwise token travels in this header; the agent's secret in Authorization.
pub const UUI_HEADER: &str = "x-memoryos-uui";

/// An agent acting for one person, authenticated and within its rate limit.
pub struct Agent(pub Caller);

impl FromRequestParts<AppState> for Agent {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = parts.headers.get(UUI_HEADER).and_then(|v| v.to_str().ok());
        let client = ClientKey::of(parts, &state.config.trusted_proxies);
        let caller = service::authenticate(&state.universal, &state.db, client.as_str(), api_key(&parts.headers), token).await?;
        Ok(Agent(caller))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RetrieveBody {
    /// What the agent is about to do; "" ranks by importance and recency alone.
    #[schema(max_length = 4000, example = "What does the user prefer for deploys?")]
    query: Option<String>,
    /// How many memories, 1–50 (default 10).
    #[schema(minimum = 1, maximum = 50)]
    limit: Option<i64>,
    /// bullets (default), json or xml: the form of `system_prompt_addition`.
    #[schema(value_type = Option<RetrieveFormat>)]
    format: Option<String>,
    /// The budget of `system_prompt_addition` in cl100k_base tokens (default 500).
    #[schema(minimum = 1, maximum = 8000)]
    context_max_tokens: Option<i64>,
}

#[allow(non_camel_case_types, dead_code)]
#[derive(serde::Serialize, ToSchema)]
pub enum RetrieveFormat {
    bullets,
    json,
    xml,
}

#[allow(non_camel_case_types, dead_code)]
#[derive(serde::Serialize, ToSchema)]
pub enum Role {
    user,
    assistant,
    system,
}

/// Ranked memories from the granted categories and a ready-to-use `system_prompt_addition`.
/// Without a grant in force, one answer for every cause.
#[utoipa::path(post, path = "/universal/memories/retrieve", tag = "universal",
    security(("agent_key" = [], "person_token" = [])),
    request_body = RetrieveBody,
    responses(
        (status = 200, description = "Ranked memories; with no grant in force, empty and `permission_error: no_grant_for_user`", body = RetrieveAnswer),
        (status = 401, description = "Missing, unknown or crossed credentials (UAT_001)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (REQ_413)", body = ErrorBody),
        (status = 422, description = "Invalid field or body (REQ_422)", body = ErrorBody),
        (status = 429, description = "Over this agent's rate, or 60 failed authentications a minute from this client (RATE_429)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub async fn retrieve(State(state): State<AppState>, Agent(caller): Agent, ApiJson(body): ApiJson<RetrieveBody>) -> AppResult<Response> {
    let req = RetrieveRequest::check(body.query, body.limit, body.format.as_deref(), body.context_max_tokens)?;
    let found = service::retrieve(&state.universal, &state.db, &caller, &req).await?;
    let (items, context, categories, permission_error) = match found {
        Some(r) => (r.items, r.context, categories::to_names(&r.categories), None),
        None => (Vec::new(), Default::default(), Vec::new(), Some("no_grant_for_user".to_string())),
    };
    let data = items
        .into_iter()
        .map(|m| RetrievedMemory {
            id: m.id,
            content: m.content,
            category: m.category.as_str().into(),
            importance_score: f64::from(m.importance) / 10.0,
            relevance_score: (m.relevance * 1000.0).round() / 1000.0,
            context_snippet: m.snippet,
            last_accessed: m.last_accessed.map(rfc3339),
            access_count: m.access_count,
            happened_from: m.happened.map(|h| h.iso().0),
            happened_to: m.happened.map(|h| h.iso().1),
        })
        .collect();
    let body = RetrieveAnswer {
        request_id: request_id::current(),
        timestamp: rfc3339(now_ms()),
        retrieval_id: new_id(),
        cached: false,
        data,
        system_prompt_addition: context.text,
        context_token_count: context.tokens,
        permission_error,
        categories_available: categories,
        is_passthrough: false,
    };
    Ok((StatusCode::OK, axum::Json(body)).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct AddBody {
    /// 1–100 messages; memories are extracted from the `user` ones.
    #[schema(min_items = 1, max_items = 100)]
    messages: Vec<MessageBody>,
    /// Any JSON object up to 8 KiB, kept with the job.
    #[schema(value_type = Option<Object>)]
    metadata: Option<Value>,
    /// 1–255 printable characters. The same key from the same agent for the same person
    /// returns the same job.
    #[schema(min_length = 1, max_length = 255)]
    idempotency_key: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct MessageBody {
    #[schema(value_type = Role)]
    role: String,
    /// 1–16,000 characters; no control characters other than line breaks and tabs.
    #[schema(min_length = 1, max_length = 16000, example = "I prefer dark mode in every editor.")]
    content: String,
    /// When it was said (RFC 3339); what it says is dated from it ("yesterday"). Absent: when
    /// the add arrives.
    #[schema(format = DateTime, example = "2023-05-08T13:56:00Z")]
    occurred_at: Option<String>,
    /// The app's own id of this turn (1–255 characters), kept with what it gave the person.
    #[schema(min_length = 1, max_length = 255)]
    external_turn_id: Option<String>,
    /// Where the text came from. Memories are extracted only from a user's
    /// `direct_user_input` (or an unlabelled user turn), never from tool output, fetched
    /// documents, instructions or assertions.
    #[schema(value_type = Option<SourceKind>)]
    source_kind: Option<String>,
    /// True on an assistant message (`source_kind` `assistant_output`) that proposes
    /// `proposed_memory`.
    #[serde(default)]
    is_memory_proposal: bool,
    /// A memory the assistant proposes, stored as given (within the grant's categories, with
    /// the same duplicate and conflict rules); its content must appear in the message.
    proposed_memory: Option<ProposedMemoryBody>,
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProposedMemoryBody {
    #[schema(min_length = 10, max_length = 500, example = "You prefer window seats on long flights")]
    content: String,
    #[schema(value_type = crate::api::v1::wire::CategoryName)]
    category: String,
}

#[allow(non_camel_case_types, dead_code)]
#[derive(serde::Serialize, ToSchema)]
pub enum SourceKind {
    direct_user_input,
    assistant_output,
    tool_output,
    fetched_document,
    system_instruction,
    client_assertion,
}

/// Stores the conversation as a job before answering; a worker extracts memories from it.
#[utoipa::path(post, path = "/universal/memories/add", tag = "universal",
    security(("agent_key" = [], "person_token" = [])),
    request_body = AddBody,
    responses(
        (status = 202, description = "The job is stored; a worker will read it", body = AddAnswer),
        (status = 401, description = "Missing, unknown or crossed credentials (UAT_001)", body = ErrorBody),
        (status = 403, description = "No read-write grant in force (UAT_002 write_not_permitted)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (REQ_413)", body = ErrorBody),
        (status = 422, description = "Invalid field or body (REQ_422)", body = ErrorBody),
        (status = 429, description = "Over this agent's rate, or 60 failed authentications a minute from this client (RATE_429)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub async fn add(State(state): State<AppState>, Agent(caller): Agent, ApiJson(body): ApiJson<AddBody>) -> AppResult<Response> {
    let messages = body
        .messages
        .into_iter()
        .map(|m| NewMessage {
            role: m.role,
            content: m.content,
            occurred_at: m.occurred_at,
            external_turn_id: m.external_turn_id,
            source_kind: m.source_kind,
            is_memory_proposal: m.is_memory_proposal,
            proposed_memory: m.proposed_memory.map(|p| (p.content, p.category)),
        })
        .collect();
    let req = AddRequest::check(messages, body.metadata, body.idempotency_key, now_ms())?;
    let (job_id, status) = service::add(&state.universal, &state.db, &caller, &req).await?;
    let body = AddAnswer {
        request_id: request_id::current(),
        timestamp: rfc3339(now_ms()),
        job_id,
        status,
        processing_status: "normal".into(),
    };
    Ok((StatusCode::ACCEPTED, axum::Json(body)).into_response())
}

/// A job's progress, only for the agent and person that created it.
#[utoipa::path(get, path = "/universal/memories/jobs/{job_id}", tag = "universal",
    security(("agent_key" = [], "person_token" = [])),
    params(("job_id" = String, Path, description = "From the add answer")),
    responses(
        (status = 200, description = "The job", body = Envelope<JobStatus>),
        (status = 401, description = "Missing, unknown or crossed credentials (UAT_001)", body = ErrorBody),
        (status = 404, description = "No such job for this agent and person (REQ_404)", body = ErrorBody),
        (status = 429, description = "Over this agent's rate, or 60 failed authentications a minute from this client (RATE_429)", body = ErrorBody,
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ))]
pub async fn job(State(state): State<AppState>, Agent(caller): Agent, ApiPath(id): ApiPath<String>) -> AppResult<Response> {
    let job = service::job(&state.db, &caller, &id).await?;
    let result: JobResult = job.result.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
    Ok(data(
        StatusCode::OK,
        JobStatus {
            job_id: job.id,
            status: job.status,
            attempts: job.attempts,
            memories_created: result.created_memory_ids.len(),
            created_memory_ids: result.created_memory_ids,
            error: job.error,
            created_at: rfc3339(job.created_at),
            queued_at: rfc3339(job.created_at),
            started_at: job.started_at.map(rfc3339),
            completed_at: job.completed_at.map(rfc3339),
            extraction_metadata: ExtractionMetadata {
                extractor: "rules".into(),
                extracted: result.extracted,
                duplicates: result.duplicates,
                conflicts: result.conflicts,
                questions_dropped: result.questions_dropped,
                outside_grant: result.outside_grant,
                over_limit: result.over_limit,
            },
        },
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// The `code` from the consent redirect: single use, valid for minutes.
    code: String,
    /// The exact redirect URI the consent link used ("" for the hosted completion).
    #[serde(default)]
    redirect_uri: String,
    /// The PKCE verifier, when the link carried a `code_challenge`.
    code_verifier: Option<String>,
}

/// Exchanges the code from the consent redirect for the person's pairwise `uui_…` token
/// (server side, with the agent's own secret).
#[utoipa::path(post, path = "/universal/token", tag = "universal", security(("agent_key" = [])),
    request_body = TokenRequest,
    responses(
        (status = 200, description = "The person's pairwise token for this agent, shown once", body = Envelope<TokenAnswer>),
        (status = 400, description = "The code is unknown, used, expired, or bound to another agent, redirect or verifier (TOK_400 invalid_grant)", body = ErrorBody),
        (status = 401, description = "Missing or unknown agent secret (UAT_001)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (REQ_413)", body = ErrorBody),
        (status = 422, description = "Invalid body (REQ_422)", body = ErrorBody),
    ))]
pub async fn token(State(state): State<AppState>, AgentKey(agent): AgentKey, ApiJson(body): ApiJson<TokenRequest>) -> AppResult<Response> {
    let out = consent::exchange(&state.db, &agent, &body.code, &body.redirect_uri, body.code_verifier.as_deref()).await?;
    let g = &out.grant;
    let grant = GrantSummary {
        categories: categories::to_names(&g.categories),
        access_type: g.access_type.as_str().into(),
        expires_at: g.expires_at.map(rfc3339),
    };
    Ok(data(StatusCode::OK, TokenAnswer { uui_token: out.uui_token, grant, link_token: out.link_token }))
}
