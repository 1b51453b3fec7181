//! Page models (`crate::model`) made from the store's agent and key rows, here so that the
//! model, which the browser build shares, knows nothing of storage.
use crate::model::{AgentView, ApiKeyView, PublicAgent};
use crate::store::agents::Agent;
use crate::store::api_keys::ApiKeyRow;

impl From<&Agent> for AgentView {
    fn from(a: &Agent) -> AgentView {
        let p = &a.profile;
        AgentView {
            id: a.id.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            website_url: p.website_url.clone(),
            logo_url: p.logo_url.clone(),
            default_categories: p.default_categories.clone(),
            redirect_uris: p.redirect_uris.clone(),
            access_type: p.access_type,
            status: a.status,
            retired: a.retired_at.is_some(),
            created_at: a.created_at,
            updated_at: a.updated_at,
            changes_since_review: a.changes_since_review.clone(),
        }
    }
}

impl From<&Agent> for PublicAgent {
    fn from(a: &Agent) -> PublicAgent {
        let p = &a.profile;
        PublicAgent {
            id: a.id.clone(),
            name: p.name.clone(),
            description: p.description.clone(),
            website_url: p.website_url.clone(),
            logo_url: p.logo_url.clone(),
            default_categories: p.default_categories.clone(),
            access_type: p.access_type,
            status: a.status,
            self_registered: a.is_self_registered(),
        }
    }
}

impl From<&ApiKeyRow> for ApiKeyView {
    fn from(k: &ApiKeyRow) -> ApiKeyView {
        ApiKeyView {
            id: k.id.clone(),
            name: k.name.clone(),
            key_prefix: k.key_prefix.clone(),
            created_at: k.created_at,
            last_used_at: k.last_used_at,
            revoked_at: k.revoked_at,
        }
    }
}
