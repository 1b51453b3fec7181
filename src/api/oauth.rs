//! The OAuth 2.1 authorization server's HTTP side, for MCP clients (Claude, ChatGPT, Cursor,
//! VS Code): discovery metadata (RFC 9728, RFC 8414), self-registration (RFC 7591), the
//! authorization endpoint (which hands over to our consent page), the token endpoint and
//! revocation (RFC 7009). Every rule is in `service::oauth`.
use crate::domain::oauth;
use crate::error::AppError;
use crate::request::client_ip::ClientKey;
use crate::service::oauth::{self as service, Authorize, AuthorizeRequest, TokenRequest};
use crate::web::AppState;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde_json::json;

/// Largest registration or token request.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Where the protected resource's metadata is (RFC 9728 §3.1: the path form for `/mcp`).
pub const RESOURCE_METADATA_PATH: &str = "/.well-known/oauth-protected-resource/mcp";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/oauth-protected-resource", get(resource_metadata))
        .route(RESOURCE_METADATA_PATH, get(resource_metadata))
        .route("/.well-known/oauth-authorization-server", get(server_metadata))
        .route("/oauth/register", post(register))
        .route("/oauth/authorize", get(authorize))
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// Metadata may be cached briefly and read from any origin (browser-based clients fetch it).
fn public_json(body: serde_json::Value) -> Response {
    let mut res = Json(body).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    res.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    res
}

async fn resource_metadata(State(state): State<AppState>) -> Response {
    let url = &state.config.public_url;
    public_json(json!({
        "resource": service::resource(url),
        "authorization_servers": [service::issuer(url)],
        "scopes_supported": oauth::all_scopes(),
        "bearer_methods_supported": ["header"],
        "resource_name": "Memory Passport",
        "resource_documentation": format!("{}/docs/api", service::issuer(url)),
    }))
}

async fn server_metadata(State(state): State<AppState>) -> Response {
    let base = service::issuer(&state.config.public_url);
    public_json(json!({
        "issuer": base,
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "registration_endpoint": format!("{base}/oauth/register"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "scopes_supported": oauth::all_scopes(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "client_id_metadata_document_supported": true,
        "service_documentation": format!("{base}/docs/api"),
    }))
}

/// Answers with no-store, as every answer that carries or decides on a credential must.
fn no_store(status: StatusCode, body: serde_json::Value) -> Response {
    let mut res = (status, Json(body)).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut().insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

/// RFC 7591 §3.2.1: the registered client. Public client: no secret, `none` at the token
/// endpoint.
async fn register(State(state): State<AppState>, client: ClientKey, body: axum::body::Bytes) -> Response {
    let registration: oauth::Registration = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => return AppError::oauth("invalid_client_metadata", format!("The body must be a JSON object: {e}")).into_response(),
    };
    match service::register(&state.db, client.as_str(), &registration).await {
        Ok(agent) => {
            let mut body = json!({
                "client_id": agent.id,
                "client_id_issued_at": agent.created_at / 1000,
                "client_name": agent.profile.name,
                "redirect_uris": agent.profile.redirect_uris,
                "grant_types": ["authorization_code", "refresh_token"],
                "response_types": ["code"],
                "token_endpoint_auth_method": "none",
                "scope": oauth::granted_scope(&agent.profile.default_categories, crate::domain::agent::AccessType::ReadOnly),
            });
            // Absent metadata is left out, never null (RFC 7591 §3.2.1; clients' schemas
            // refuse a null URL).
            for (name, value) in [("client_uri", &agent.profile.website_url), ("logo_uri", &agent.profile.logo_url)] {
                if !value.is_empty() {
                    body[name] = json!(value);
                }
            }
            no_store(StatusCode::CREATED, body)
        }
        Err(e) => e.into_response(),
    }
}

/// The authorization endpoint: a good request goes on to the consent page; a bad client or
/// redirect URI to the consent page's explanation, which links nowhere; anything else back to
/// the app with an `error`.
async fn authorize(State(state): State<AppState>, client: ClientKey, Query(request): Query<AuthorizeRequest>) -> Response {
    match service::authorize(&state.db, &state.config, client.as_str(), &request).await {
        Ok(Authorize::Consent(link) | Authorize::Refuse(link) | Authorize::Stop(_, link)) => Redirect::to(&link).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn token(State(state): State<AppState>, client: ClientKey, form: Result<Form<TokenRequest>, axum::extract::rejection::FormRejection>) -> Response {
    let Ok(Form(request)) = form else {
        return AppError::oauth("invalid_request", "Send the token request as application/x-www-form-urlencoded.").into_response();
    };
    match service::token(&state.db, &state.config, client.as_str(), &request).await {
        Ok(answer) => no_store(StatusCode::OK, serde_json::to_value(answer).unwrap_or_default()),
        Err(e) => e.into_response(),
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct RevokeRequest {
    token: String,
    client_id: String,
}

async fn revoke(State(state): State<AppState>, client: ClientKey, form: Result<Form<RevokeRequest>, axum::extract::rejection::FormRejection>) -> Response {
    let Ok(Form(request)) = form else {
        return AppError::oauth("invalid_request", "Send the revocation as application/x-www-form-urlencoded.").into_response();
    };
    match service::revoke(&state.db, &state.config, client.as_str(), &request.client_id, &request.token).await {
        Ok(()) => no_store(StatusCode::OK, json!({})),
        Err(e) => e.into_response(),
    }
}
