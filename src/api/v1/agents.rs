//! `/v1/agents/global`: tenants register and manage global agents; anyone may read the public
//! profile a person sees on the consent page.
use super::extract::{ApiJson, ApiPath, Tenant};
use super::wire::{AgentProfile, Envelope, ErrorBody, TenantAgent};
use super::data;
use crate::domain::agent::AgentDraft;
use crate::domain::categories;
use crate::domain::time::rfc3339;
use crate::error::AppResult;
use crate::web::AppState;
use crate::service;
use crate::service::agents::Agent;
use crate::request::client_ip::ClientKey;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use utoipa::ToSchema;

/// The body of create and update. Every field is optional so that update can change a few;
/// `redirect_uri` (one string, "" = none) is what the guide's curl sends, `redirect_uris` a list.
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct AgentBody {
    /// Shown to people on the consent page (1–80 characters).
    #[schema(example = "Support Copilot")]
    name: Option<String>,
    #[schema(example = "Customer support agent with access to approved user context.")]
    description: Option<String>,
    #[schema(example = "https://yourapp.com")]
    website_url: Option<String>,
    #[schema(example = "https://yourapp.com/logo.png")]
    logo_url: Option<String>,
    #[schema(value_type = Option<Vec<super::wire::CategoryName>>)]
    default_categories_requested: Option<Vec<String>>,
    /// One callback URL, matched exactly; "" for none (the hosted completion page).
    redirect_uri: Option<String>,
    redirect_uris: Option<Vec<String>>,
    /// Also accepted as `access_type` or `access`.
    #[serde(alias = "access_type", alias = "access")]
    #[schema(value_type = Option<super::wire::AccessName>)]
    requested_access: Option<String>,
}

impl AgentBody {
    /// Overlays the fields that were sent on `base`.
    fn apply(self, mut base: AgentDraft) -> AgentDraft {
        if let Some(v) = self.name {
            base.name = v;
        }
        if let Some(v) = self.description {
            base.description = v;
        }
        if let Some(v) = self.website_url {
            base.website_url = v;
        }
        if let Some(v) = self.logo_url {
            base.logo_url = v;
        }
        if let Some(v) = self.default_categories_requested {
            base.default_categories = v;
        }
        match (self.redirect_uris, self.redirect_uri) {
            (Some(list), Some(one)) => base.redirect_uris = list.into_iter().chain(Some(one)).collect(),
            (Some(list), None) => base.redirect_uris = list,
            (None, Some(one)) => base.redirect_uris = vec![one],
            (None, None) => {}
        }
        if let Some(v) = self.requested_access {
            base.access_type = v;
        }
        base
    }
}

/// What the person sees: no tenant, keys or grants.
fn public_json(a: &Agent) -> AgentProfile {
    AgentProfile {
        id: a.id.clone(),
        name: a.profile.name.clone(),
        description: a.profile.description.clone(),
        website_url: a.profile.website_url.clone(),
        logo_url: a.profile.logo_url.clone(),
        default_categories_requested: categories::to_names(&a.profile.default_categories),
        requested_access: a.profile.access_type.as_str().into(),
        verification_status: a.status.as_str().into(),
    }
}

/// What the owning tenant sees; the secret only when one was just made.
fn tenant_json(a: &Agent, secret: Option<String>) -> TenantAgent {
    let p = &a.profile;
    TenantAgent {
        id: a.id.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        website_url: p.website_url.clone(),
        logo_url: p.logo_url.clone(),
        default_categories_requested: categories::to_names(&p.default_categories),
        requested_access: p.access_type.as_str().into(),
        verification_status: a.status.as_str().into(),
        redirect_uris: p.redirect_uris.clone(),
        redirect_uri: p.redirect_uris.first().cloned().unwrap_or_default(),
        retired: a.retired_at.is_some(),
        retired_at: a.retired_at.map(rfc3339),
        created_at: rfc3339(a.created_at),
        updated_at: rfc3339(a.updated_at),
        review_note: crate::domain::agent::review_reason(&a.changes_since_review),
        raw_agent_api_key: secret,
    }
}

/// Registers a global agent. Its secret (`raw_agent_api_key`) is in this answer only.
#[utoipa::path(post, path = "/agents/global", tag = "agents", security(("tenant_key" = [])),
    request_body = AgentBody,
    responses(
        (status = 201, description = "Created; the secret is shown this once", body = Envelope<TenantAgent>),
        (status = 401, description = "Missing, unknown or revoked `mem_` key (AUTH_401)", body = ErrorBody),
        (status = 409, description = "The tenant already has 100 live agents (REQ_409)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (REQ_413)", body = ErrorBody),
        (status = 422, description = "Invalid field or body (REQ_422)", body = ErrorBody),
        (status = 429, description = "Over 300 calls a minute for this tenant (RATE_429)", body = ErrorBody),
    ))]
pub async fn create(State(state): State<AppState>, tenant: Tenant, ApiJson(body): ApiJson<AgentBody>) -> AppResult<Response> {
    let draft = body.apply(AgentDraft::default());
    let (agent, secret) = service::agents::create(&state.db, &tenant.id, &draft).await?;
    Ok(data(StatusCode::CREATED, tenant_json(&agent, Some(secret))))
}

/// The tenant's agents, retired ones included.
#[utoipa::path(get, path = "/agents/global", tag = "agents", security(("tenant_key" = [])),
    responses(
        (status = 200, description = "The tenant's agents", body = Envelope<Vec<TenantAgent>>),
        (status = 401, description = "Missing, unknown or revoked `mem_` key (AUTH_401)", body = ErrorBody),
        (status = 429, description = "Over 300 calls a minute for this tenant (RATE_429)", body = ErrorBody),
    ))]
pub async fn list(State(state): State<AppState>, tenant: Tenant) -> AppResult<Response> {
    let agents = service::agents::list_for_tenant(&state.db, &tenant.id).await?;
    Ok(data(StatusCode::OK, agents.iter().map(|a| tenant_json(a, None)).collect::<Vec<_>>()))
}

/// The public profile the consent page shows. No key needed.
#[utoipa::path(get, path = "/agents/global/{id}", tag = "agents",
    params(("id" = String, Path, description = "The agent's id")),
    responses(
        (status = 200, description = "The public profile", body = Envelope<AgentProfile>),
        (status = 404, description = "No such agent, or retired (REQ_404)", body = ErrorBody),
        (status = 429, description = "Over 300 profile reads a minute from this client (RATE_429)", body = ErrorBody),
    ))]
pub async fn public_profile(
    State(state): State<AppState>,
    client: ClientKey,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Response> {
    let bucket = format!("api:profile:{client}");
    service::limits::enforce(&state.db, &bucket, service::limits::PUBLIC_PROFILE_PER_CLIENT).await?;
    let agent = service::agents::get_public(&state.db, &id).await?;
    Ok(data(StatusCode::OK, public_json(&agent)))
}

/// Changes the fields that are sent; the others are kept.
#[utoipa::path(patch, path = "/agents/global/{id}", tag = "agents", security(("tenant_key" = [])),
    params(("id" = String, Path, description = "The agent's id")),
    request_body = AgentBody,
    responses(
        (status = 200, description = "The agent as changed", body = Envelope<TenantAgent>),
        (status = 401, description = "Missing, unknown or revoked `mem_` key (AUTH_401)", body = ErrorBody),
        (status = 404, description = "No such agent of this tenant (REQ_404)", body = ErrorBody),
        (status = 413, description = "Body over 64 KiB (REQ_413)", body = ErrorBody),
        (status = 422, description = "Invalid field or body (REQ_422)", body = ErrorBody),
        (status = 429, description = "Over 300 calls a minute for this tenant (RATE_429)", body = ErrorBody),
    ))]
pub async fn update(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AgentBody>,
) -> AppResult<Response> {
    let current = service::agents::get_for_tenant(&state.db, &tenant.id, &id).await?;
    let draft = body.apply(AgentDraft::from(&current.profile));
    let agent = service::agents::update(&state.db, &tenant.id, &id, &draft).await?;
    Ok(data(StatusCode::OK, tenant_json(&agent, None)))
}

/// A new secret; the old one stops working at once.
#[utoipa::path(post, path = "/agents/global/{id}/rotate-secret", tag = "agents", security(("tenant_key" = [])),
    params(("id" = String, Path, description = "The agent's id")),
    responses(
        (status = 200, description = "The agent with its new secret, shown this once", body = Envelope<TenantAgent>),
        (status = 401, description = "Missing, unknown or revoked `mem_` key (AUTH_401)", body = ErrorBody),
        (status = 404, description = "No such agent of this tenant (REQ_404)", body = ErrorBody),
        (status = 429, description = "Over 300 calls a minute for this tenant (RATE_429)", body = ErrorBody),
    ))]
pub async fn rotate_secret(State(state): State<AppState>, tenant: Tenant, ApiPath(id): ApiPath<String>) -> AppResult<Response> {
    let secret = service::agents::rotate_secret(&state.db, &tenant.id, &id).await?;
    let agent = service::agents::get_for_tenant(&state.db, &tenant.id, &id).await?;
    Ok(data(StatusCode::OK, tenant_json(&agent, Some(secret))))
}

/// Retires the agent: its secret, tokens and grants stop working; people see it as ended.
#[utoipa::path(delete, path = "/agents/global/{id}", tag = "agents", security(("tenant_key" = [])),
    params(("id" = String, Path, description = "The agent's id")),
    responses(
        (status = 200, description = "The retired agent", body = Envelope<TenantAgent>),
        (status = 401, description = "Missing, unknown or revoked `mem_` key (AUTH_401)", body = ErrorBody),
        (status = 404, description = "No such agent of this tenant (REQ_404)", body = ErrorBody),
        (status = 429, description = "Over 300 calls a minute for this tenant (RATE_429)", body = ErrorBody),
    ))]
pub async fn retire(State(state): State<AppState>, tenant: Tenant, ApiPath(id): ApiPath<String>) -> AppResult<Response> {
    service::agents::retire(&state.db, &tenant.id, &id).await?;
    let agent = service::agents::get_for_tenant(&state.db, &tenant.id, &id).await?;
    Ok(data(StatusCode::OK, tenant_json(&agent, None)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_forms() {
        let b: AgentBody = serde_json::from_str(r#"{"name":"x","redirect_uri":""}"#).unwrap();
        assert_eq!(b.apply(AgentDraft::default()).redirect_uris, vec![""]);
        let b: AgentBody = serde_json::from_str(r#"{"redirect_uris":["https://a.example/cb"]}"#).unwrap();
        let base = AgentDraft { name: "kept".into(), ..Default::default() };
        let d = b.apply(base);
        assert_eq!(d.name, "kept");
        assert_eq!(d.redirect_uris, vec!["https://a.example/cb"]);
        let b: AgentBody = serde_json::from_str(r#"{"access_type":"read_write"}"#).unwrap();
        assert_eq!(b.apply(AgentDraft::default()).access_type, "read_write");
    }
}
