//! `/v1/agents/global`: tenants register and manage global agents; anyone may read the public
//! profile a person sees on the consent page.
use super::extract::{ApiJson, ApiPath, Tenant};
use super::data;
use crate::domain::agent::AgentDraft;
use crate::domain::categories;
use crate::domain::time::rfc3339;
use crate::error::AppResult;
use crate::server::AppState;
use crate::service;
use crate::store::agents::Agent;
use crate::server::client_ip::client_ip;
use crate::server::context::forwarded_for;
use axum::extract::{ConnectInfo, State};
use axum::http::HeaderMap;
use std::net::SocketAddr;
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Value};

/// The body of create and update. Every field is optional so that update can change a few;
/// `redirect_uri` (one string, "" = none) is what the guide's curl sends, `redirect_uris` a list.
#[derive(Debug, Default, Deserialize)]
pub struct AgentBody {
    name: Option<String>,
    description: Option<String>,
    website_url: Option<String>,
    logo_url: Option<String>,
    default_categories_requested: Option<Vec<String>>,
    redirect_uri: Option<String>,
    redirect_uris: Option<Vec<String>>,
    #[serde(alias = "access_type", alias = "access")]
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
fn public_json(a: &Agent) -> Value {
    json!({
        "id": a.id,
        "name": a.profile.name,
        "description": a.profile.description,
        "website_url": a.profile.website_url,
        "logo_url": a.profile.logo_url,
        "default_categories_requested": categories::to_names(&a.profile.default_categories),
        "requested_access": a.profile.access_type.as_str(),
        "verification_status": a.status.as_str(),
    })
}

/// What the owning tenant sees.
fn tenant_json(a: &Agent) -> Value {
    let mut v = public_json(a);
    let extra = json!({
        "redirect_uris": a.profile.redirect_uris,
        "redirect_uri": a.profile.redirect_uris.first().cloned().unwrap_or_default(),
        "retired": a.retired_at.is_some(),
        "retired_at": a.retired_at.map(rfc3339),
        "created_at": rfc3339(a.created_at),
        "updated_at": rfc3339(a.updated_at),
    });
    if let (Some(obj), Value::Object(more)) = (v.as_object_mut(), extra) {
        obj.extend(more);
    }
    v
}

fn with_secret(mut v: Value, secret: String) -> Value {
    if let Some(obj) = v.as_object_mut() {
        obj.insert("raw_agent_api_key".into(), Value::String(secret));
    }
    v
}

pub async fn create(State(state): State<AppState>, tenant: Tenant, ApiJson(body): ApiJson<AgentBody>) -> AppResult<Response> {
    let draft = body.apply(AgentDraft::default());
    let (agent, secret) = service::agents::create(&state.db, &tenant.id, &draft).await?;
    Ok(data(StatusCode::CREATED, with_secret(tenant_json(&agent), secret)))
}

pub async fn list(State(state): State<AppState>, tenant: Tenant) -> AppResult<Response> {
    let agents = crate::store::agents::list_for_tenant(&state.db, &tenant.id).await?;
    Ok(data(StatusCode::OK, agents.iter().map(tenant_json).collect::<Vec<_>>()))
}

pub async fn public_profile(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> AppResult<Response> {
    let client = client_ip(peer.ip(), forwarded_for(&headers), &state.config.trusted_proxies);
    let bucket = format!("api:profile:{client}");
    service::limits::enforce(&state.db, &bucket, service::limits::PUBLIC_PROFILE_PER_CLIENT).await?;
    let agent = service::agents::get_public(&state.db, &id).await?;
    Ok(data(StatusCode::OK, public_json(&agent)))
}

pub async fn update(
    State(state): State<AppState>,
    tenant: Tenant,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AgentBody>,
) -> AppResult<Response> {
    let current = service::agents::get_for_tenant(&state.db, &tenant.id, &id).await?;
    let draft = body.apply(AgentDraft::from(&current.profile));
    let agent = service::agents::update(&state.db, &tenant.id, &id, &draft).await?;
    Ok(data(StatusCode::OK, tenant_json(&agent)))
}

pub async fn rotate_secret(State(state): State<AppState>, tenant: Tenant, ApiPath(id): ApiPath<String>) -> AppResult<Response> {
    let secret = service::agents::rotate_secret(&state.db, &tenant.id, &id).await?;
    let agent = service::agents::get_for_tenant(&state.db, &tenant.id, &id).await?;
    Ok(data(StatusCode::OK, with_secret(tenant_json(&agent), secret)))
}

pub async fn retire(State(state): State<AppState>, tenant: Tenant, ApiPath(id): ApiPath<String>) -> AppResult<Response> {
    service::agents::retire(&state.db, &tenant.id, &id).await?;
    let agent = service::agents::get_for_tenant(&state.db, &tenant.id, &id).await?;
    Ok(data(StatusCode::OK, tenant_json(&agent)))
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
