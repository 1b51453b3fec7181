//! Data that travels between server functions and pages.
use crate::domain::agent::{AccessType, AgentStatus};
use crate::domain::categories::Category;
use serde::{Deserialize, Serialize};

/// A global agent as its tenant sees it on the dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub website_url: String,
    pub logo_url: String,
    pub default_categories: Vec<Category>,
    pub redirect_uris: Vec<String>,
    pub access_type: AccessType,
    pub status: AgentStatus,
    pub retired: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The profile a person sees before signing in on the consent page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PublicAgent {
    pub id: String,
    pub name: String,
    pub description: String,
    pub website_url: String,
    pub logo_url: String,
    pub default_categories: Vec<Category>,
    pub access_type: AccessType,
    pub status: AgentStatus,
}

/// An agent with a secret that is shown this once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentWithSecret {
    pub agent: AgentView,
    pub secret: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub key_prefix: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewApiKey {
    pub key: ApiKeyView,
    pub raw: String,
}

/// Who is signed in to the dashboard, and where consent links point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TenantSession {
    pub email: String,
    pub public_url: String,
}

/// An agent in the operator's review list.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub agent: AgentView,
    pub tenant_email: String,
}

/// The consent link's parameters plus the person's choices, as the consent page sends them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConsentAnswer {
    pub agent_id: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub redirect_uri: String,
    /// The `access` the link asked for ("" = the agent's default).
    #[serde(default)]
    pub requested_access: String,
    #[serde(default)]
    pub code_challenge: String,
    #[serde(default)]
    pub code_challenge_method: String,
    #[serde(default)]
    pub link_token: String,
    /// The person's choices.
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub duration: String,
    #[serde(default)]
    pub access: String,
}

/// Where the browser goes next, and (hosted completion only) the token to show once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Approved {
    pub location: String,
    pub token: Option<String>,
    pub grant_id: String,
}

#[cfg(feature = "ssr")]
mod conversions {
    use super::*;
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
}
