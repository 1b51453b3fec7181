//! `/mcp`: the Passport as a remote MCP server (Streamable HTTP, stateless, JSON answers), an
//! OAuth 2.1 resource server. The guard in front finds the caller once — through
//! `service::universal::authenticate_bearer`, the same gate and the same `Caller` as
//! `/v1/universal/*` — and the tools call the same retrieval and add rules as the REST API.
use crate::domain::agent::AccessType;
use crate::domain::categories::Category;
use crate::domain::oauth;
use crate::error::AppError;
use crate::request::client_ip::ClientKey;
use crate::service::oauth as authorization;
use crate::service::universal::{self as memory, AddRequest, Caller, NewMessage, RetrieveRequest};
use crate::web::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::tool::Extension;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock, Implementation, ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{tool, tool_handler, tool_router, ErrorData as McpError, ServerHandler};
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;

/// Largest JSON-RPC message we read.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// How long `remember` waits for its memory to be stored before answering "queued".
const REMEMBER_WAIT_MS: u64 = 5_000;
/// The longest text `remember` takes.
pub const MAX_REMEMBER_CHARS: usize = 2_000;

/// `/mcp`, behind the guard that admits callers with a good access token.
pub fn router(state: AppState) -> axum::Router<AppState> {
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        // Callers prove themselves with a bearer token; the guard below refuses a foreign
        // Origin itself (our public URL decides, not a list of local host names).
        .disable_allowed_hosts();
    let for_tools = state.clone();
    let service = StreamableHttpService::new(move || Ok(Tools::new(for_tools.clone())), Arc::new(NeverSessionManager::default()), config);
    axum::Router::new()
        .route_service("/mcp", service)
        .layer(axum::middleware::from_fn_with_state(state, guard))
}

/// The `WWW-Authenticate` challenge of a refused call (RFC 6750 §3, RFC 9728 §5.1).
fn challenge(public_url: &str, error: Option<&str>, scope: &str) -> HeaderValue {
    let metadata = format!("{}{}", authorization::issuer(public_url), super::oauth::RESOURCE_METADATA_PATH);
    let error = error.map(|e| format!("error=\"{e}\", ")).unwrap_or_default();
    HeaderValue::from_str(&format!("Bearer {error}resource_metadata=\"{metadata}\", scope=\"{scope}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}

fn refused(e: AppError, public_url: &str, presented: bool) -> Response {
    let header_value = match &e {
        AppError::InvalidToken => Some(challenge(public_url, presented.then_some("invalid_token"), &oauth::default_scope())),
        AppError::InsufficientScope { scope } => Some(challenge(public_url, Some("insufficient_scope"), scope)),
        _ => None,
    };
    let mut res = e.into_response();
    if let Some(v) = header_value {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

/// Whether an `Origin` header names our public origin (scheme, host and port).
fn same_origin(origin: &str, public_url: &str) -> bool {
    match (url::Url::parse(origin), url::Url::parse(public_url)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_string())
}

/// Admits a call with a good access token and puts its `Caller` on the request. A tool call
/// that needs more than the token allows is refused here with 403 `insufficient_scope` and the
/// scope that would do, so the app can ask the person for it (MCP's step-up authorization).
async fn guard(State(state): State<AppState>, client: ClientKey, req: Request, next: Next) -> Response {
    let public_url = state.config.public_url.clone();
    // Streamable HTTP: a browser page on another origin must not reach the server (DNS
    // rebinding). Assistants' connectors send no Origin; a page of ours sends our own.
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        if !same_origin(origin.to_str().unwrap_or_default(), &public_url) {
            return AppError::CrossSite.into_response();
        }
    }
    let token = bearer(&req);
    let resource = authorization::resource(&public_url);
    let caller = match memory::authenticate_bearer(&state.universal, &state.db, client.as_str(), token.as_deref(), &resource).await {
        Ok(c) => c,
        Err(e) => return refused(e, &public_url, token.is_some()),
    };
    let (mut parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => return AppError::PayloadTooLarge.into_response(),
    };
    if let Some(scope) = write_needed(&bytes, &caller) {
        return refused(AppError::InsufficientScope { scope }, &public_url, true);
    }
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// The scope to ask for when a JSON-RPC message is a `tools/call` of `remember` that the
/// caller may not make (`Caller::may_write`, the rule `/add` keeps too): what it holds plus
/// the write it needs.
fn write_needed(body: &[u8], caller: &Caller) -> Option<String> {
    let message: serde_json::Value = serde_json::from_slice(body).ok()?;
    if message["method"] != "tools/call" || message["params"]["name"] != "remember" {
        return None;
    }
    let category = message["params"]["arguments"]["category"].as_str().and_then(Category::parse);
    if caller.may_write(category) {
        return None;
    }
    let (held, access) = caller.grant.as_ref().map_or((Vec::new(), AccessType::ReadOnly), |g| (g.categories.clone(), g.access));
    Some(oauth::step_up_scope(&held, access, category))
}

/// The tools an assistant gets. Nothing here shows other apps, deletes memories or changes
/// access: those stay the person's, on `/manage`.
#[derive(Clone)]
pub struct Tools {
    state: AppState,
    tool_router: ToolRouter<Tools>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SearchArgs {
    /// What you want to know about the person, in plain words, e.g. "dietary preferences" or
    /// "when did they move to Lisbon". An empty query returns their most important memories.
    #[serde(default)]
    pub query: String,
    /// How many memories to return, 1 to 50 (default 10).
    pub limit: Option<u32>,
    /// Only these categories (of the ones you were granted): preference, fact, goal,
    /// procedure, relationship, expertise.
    pub categories: Option<Vec<String>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct RememberArgs {
    /// What to remember, in the person's own words or as a short statement about them, e.g.
    /// "I'm vegetarian" or "Prefers answers in bullet points". One fact per call.
    pub content: String,
    /// Where it belongs: preference, fact, goal, procedure, relationship or expertise. Give it
    /// when you know; without it the statement is read like a message from the person and
    /// filed by our rules.
    pub category: Option<String>,
}

fn failed(message: impl Into<String>) -> Result<CallToolResult, McpError> {
    Ok(CallToolResult::error(vec![ContentBlock::text(message.into())]))
}

fn caller_of(parts: &axum::http::request::Parts) -> Result<Caller, McpError> {
    parts.extensions.get::<Caller>().cloned().ok_or_else(|| McpError::internal_error("no caller on an admitted request", None))
}

#[tool_router]
impl Tools {
    pub fn new(state: AppState) -> Tools {
        Tools { state, tool_router: Self::tool_router() }
    }

    #[tool(
        description = "Search what the person chose to share with you from their Memory Passport. Returns the most relevant \
                       memories (best first) and `context`, a ready-to-use summary to put in your working context. Use it \
                       before answering anything that depends on who the person is, what they like, what they are working \
                       on, or what happened in their life.",
        annotations(title = "Search memory", read_only_hint = true, open_world_hint = false)
    )]
    async fn search_memory(
        &self,
        Parameters(args): Parameters<SearchArgs>,
        Extension(parts): Extension<axum::http::request::Parts>,
    ) -> Result<CallToolResult, McpError> {
        let mut caller = caller_of(&parts)?;
        if let Some(names) = &args.categories {
            let Ok(wanted) = crate::domain::categories::parse_list(names) else {
                return failed("categories must be among preference, fact, goal, procedure, relationship, expertise.");
            };
            caller = caller.narrowed_to(&wanted);
        }
        let request = match RetrieveRequest::check(Some(args.query), args.limit.map(i64::from), None, None) {
            Ok(r) => r,
            Err(e) => return failed(e.to_string()),
        };
        let found = memory::retrieve(&self.state.universal, &self.state.db, &caller, &request)
            .await
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        let Some(found) = found else { return failed("This app no longer has access to the person's memory.") };
        let memories: Vec<serde_json::Value> = found
            .items
            .iter()
            .map(|m| {
                json!({
                    "id": m.id,
                    "content": m.content,
                    "category": m.category.as_str(),
                    "importance": m.importance,
                    "relevance": m.relevance,
                    "when": m.happened.map(|s| s.human()),
                })
            })
            .collect();
        let answer = json!({
            "memories": memories,
            "context": found.context.text,
            "categories_available": found.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
        });
        Ok(CallToolResult::success(vec![ContentBlock::text(answer.to_string())]))
    }

    #[tool(
        description = "Save something the person asked you to remember about them, so that they (and the apps they allow) can \
                       use it later. Only for what the person said or clearly asked you to keep, never for your own \
                       guesses. Answers what was stored, or that it was already known, or that it contradicts an earlier \
                       memory (the person is then asked which one is right).",
        annotations(title = "Remember", read_only_hint = false, destructive_hint = false, idempotent_hint = true, open_world_hint = false)
    )]
    async fn remember(
        &self,
        Parameters(args): Parameters<RememberArgs>,
        Extension(parts): Extension<axum::http::request::Parts>,
    ) -> Result<CallToolResult, McpError> {
        let caller = caller_of(&parts)?;
        let content = args.content.trim().to_string();
        if content.chars().count() > MAX_REMEMBER_CHARS {
            return failed(format!("content may be at most {MAX_REMEMBER_CHARS} characters."));
        }
        let message = match args.category.as_deref().map(|c| (c, Category::parse(c))) {
            None => NewMessage { source_kind: Some("direct_user_input".into()), ..NewMessage::new("user", &content) },
            Some((_, Some(category))) => NewMessage {
                source_kind: Some("assistant_output".into()),
                is_memory_proposal: true,
                proposed_memory: Some((content.clone(), category.as_str().to_string())),
                ..NewMessage::new("assistant", &content)
            },
            Some((name, None)) => return failed(format!("\"{name}\" is not a category: use preference, fact, goal, procedure, relationship or expertise.")),
        };
        let request = match AddRequest::check(vec![message], None, None, crate::service::now_ms()) {
            Ok(r) => r,
            Err(e) => return failed(e.to_string()),
        };
        let (job_id, _) = match memory::add(&self.state.universal, &self.state.db, &caller, &request).await {
            Ok(queued) => queued,
            Err(AppError::WriteNotPermitted) => return failed("This app may only read the person's memory."),
            Err(e) => return Err(McpError::internal_error(e.to_string(), None)),
        };
        let outcome = memory::wait_for_job(&self.state.db, &caller, &job_id, REMEMBER_WAIT_MS)
            .await
            .map_err(|e| McpError::internal_error(e.to_string(), None))?;
        Ok(CallToolResult::success(vec![ContentBlock::text(outcome.sentence())]))
    }

    #[tool(
        description = "List the memory categories the person lets you use, what each holds, and whether you may add to them.",
        annotations(title = "Granted categories", read_only_hint = true, open_world_hint = false)
    )]
    async fn list_categories(&self, Extension(parts): Extension<axum::http::request::Parts>) -> Result<CallToolResult, McpError> {
        let caller = caller_of(&parts)?;
        let (categories, access) = caller.grant.map(|g| (g.categories, g.access)).unwrap_or((vec![], AccessType::ReadOnly));
        let answer = json!({
            "categories": categories.iter().map(|c| json!({"name": c.as_str(), "label": c.label(), "holds": c.description()})).collect::<Vec<_>>(),
            "may_remember": access == AccessType::ReadWrite,
        });
        Ok(CallToolResult::success(vec![ContentBlock::text(answer.to_string())]))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Tools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("memory-passport", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Memory Passport holds what this person chose to share with you: their preferences, facts about them, goals, \
                 how they work, people in their life and their expertise. Call search_memory before answering questions that \
                 depend on who they are; call remember only for what they ask you to keep. They decide which categories you \
                 see and can change that at any time.",
            )
    }
}
