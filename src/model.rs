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
    /// What changed since an operator verified it (why it is back in review).
    pub changes_since_review: Vec<crate::domain::agent::ProfileChange>,
}

/// The person's existing grant for the agent of a consent link, shown on re-consent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExistingGrant {
    pub categories: Vec<Category>,
    pub access: AccessType,
    pub expires_at: Option<i64>,
    pub active: bool,
}

/// Where a signed-out person is in the email sign-in, as the server knows it (so the page
/// shows the right step before, or without, its script): the address a code was sent to, and
/// a sentence left by the last plain form post.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SignInState {
    pub code_sent_to: Option<String>,
    /// Seconds until another code may be asked for (the page counts them down).
    pub resend_in: u64,
    pub notice: Option<Notice>,
}

/// A sentence for the person after a plain form post.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Notice {
    pub text: String,
    pub is_error: bool,
}

impl Notice {
    /// As kept in a cookie: `!` before an error, `.` before anything else.
    pub fn encode(&self) -> String {
        format!("{}{}", if self.is_error { '!' } else { '.' }, self.text)
    }

    pub fn decode(raw: String) -> Notice {
        match raw.strip_prefix('!') {
            Some(text) => Notice { text: text.to_string(), is_error: true },
            None => Notice { text: raw.strip_prefix('.').unwrap_or(&raw).to_string(), is_error: false },
        }
    }
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
    /// It registered itself (an MCP client over OAuth); no tenant or operator vouches for it
    /// unless its status is verified.
    #[serde(default)]
    pub self_registered: bool,
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
    /// OAuth (MCP clients): the resource the code will be for; "" for a consent link.
    #[serde(default)]
    pub resource: String,
    /// The person's choices.
    #[serde(default)]
    pub categories: Vec<String>,
    #[serde(default)]
    pub duration: String,
    #[serde(default)]
    pub access: String,
}

impl ConsentAnswer {
    /// The answer to the consent link `link`, before the person's choices are filled in.
    pub fn for_link(link: &crate::domain::consent_url::ConsentLink) -> ConsentAnswer {
        ConsentAnswer {
            agent_id: link.agent_id.clone(),
            state: link.state.clone(),
            redirect_uri: link.redirect_uri.clone(),
            requested_access: link.access.clone(),
            code_challenge: link.code_challenge.clone(),
            code_challenge_method: link.code_challenge_method.clone(),
            link_token: link.link_token.clone(),
            resource: link.resource.clone(),
            ..Default::default()
        }
    }
}

/// Where the browser goes next, and (hosted completion only) the token to show once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Approved {
    pub location: String,
    pub token: Option<String>,
    pub grant_id: String,
}

/// One app's access to a person's memory, as the person sees it on the manage page.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrantCard {
    pub id: String,
    pub agent: PublicAgent,
    pub agent_retired: bool,
    pub categories: Vec<Category>,
    pub access: AccessType,
    pub duration: crate::domain::grant::GrantDuration,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
    pub active: bool,
}

/// One entry in the history of a person's grants: granted, updated, denied, revoked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub kind: String,
    pub agent_name: String,
    pub categories: Vec<Category>,
    pub access: AccessType,
    pub at: i64,
}

/// Why a person flagged a memory; flagged memories are not served to agents.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    Incorrect,
    Outdated,
    NeverSaid,
}

impl Flag {
    pub const ALL: [Flag; 3] = [Flag::Incorrect, Flag::Outdated, Flag::NeverSaid];

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Incorrect => "incorrect",
            Flag::Outdated => "outdated",
            Flag::NeverSaid => "never_said",
        }
    }

    pub fn parse(s: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            Flag::Incorrect => "Incorrect",
            Flag::Outdated => "Outdated",
            Flag::NeverSaid => "I never said this",
        }
    }
}

/// A memory as its person sees it, with where it came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryRow {
    pub id: String,
    pub category: Category,
    pub content: String,
    pub importance: u8,
    /// The app that wrote it (its name), or `None` when the person wrote or corrected it
    /// without an app, or the app is gone.
    pub source: Option<String>,
    pub source_agent_id: Option<String>,
    pub flag: Option<Flag>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_accessed: Option<i64>,
    pub access_count: i64,
    pub versions: i64,
    /// The person's own words it was made from, when an app's conversation made it.
    pub source_text: Option<String>,
    /// The app's id for the turn it came from (`external_turn_id`).
    pub source_turn_id: Option<String>,
    /// When the person said it (ms), as the app told.
    pub said_at: Option<i64>,
    /// When what it tells happened: ISO days, both ends included.
    pub happened_from: Option<String>,
    pub happened_to: Option<String>,
}

/// What to show of the memories.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryFilter {
    pub category: Option<Category>,
    pub agent_id: Option<String>,
    pub search: String,
    pub offset: u32,
}

/// One page of memories and how many match in all.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryPage {
    pub memories: Vec<MemoryRow>,
    pub total: i64,
    pub offset: u32,
    pub page_size: u32,
}

/// An earlier wording of a memory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemoryVersion {
    pub content: String,
    pub category: Category,
    pub replaced_at: i64,
}

/// How a person answers a conflict question.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConflictAnswer {
    /// Keep what was remembered.
    A,
    /// Replace it with the new statement.
    B,
    /// Both are true: keep both.
    #[serde(rename = "both")]
    Both,
    /// Neither is true: agents get neither.
    #[serde(rename = "neither")]
    Neither,
}

impl ConflictAnswer {
    pub fn parse(s: &str) -> Option<ConflictAnswer> {
        match s {
            "A" | "a" => Some(ConflictAnswer::A),
            "B" | "b" => Some(ConflictAnswer::B),
            "both" => Some(ConflictAnswer::Both),
            "neither" => Some(ConflictAnswer::Neither),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ConflictAnswer::A => "A",
            ConflictAnswer::B => "B",
            ConflictAnswer::Both => "both",
            ConflictAnswer::Neither => "neither",
        }
    }
}

/// A new statement that contradicts a memory, waiting for the person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConflictQuestion {
    pub id: String,
    pub category: Category,
    /// A: what is remembered now.
    pub current: String,
    /// B: what an app heard more recently.
    pub candidate: String,
    pub source: Option<String>,
    pub created_at: i64,
}

/// The apps section and the questions: what the manage page loads first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ManageOverview {
    pub email: String,
    pub grants: Vec<GrantCard>,
    pub history: Vec<HistoryEntry>,
    /// The first page of open questions, and how many are open in all.
    pub questions: Vec<ConflictQuestion>,
    pub questions_total: i64,
    pub memory_count: i64,
}

// ---- The API reference of `/docs/api`, made from the OpenAPI document. ----

/// The OpenAPI document, reduced to what a reader needs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ApiReference {
    pub title: String,
    pub version: String,
    pub description: String,
    pub groups: Vec<OperationGroup>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OperationGroup {
    pub name: String,
    pub description: String,
    pub operations: Vec<Operation>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    pub method: String,
    pub path: String,
    pub summary: String,
    pub description: String,
    /// Header or cookie names the call needs.
    pub credentials: Vec<String>,
    pub params: Vec<Field>,
    pub body: Vec<Field>,
    pub responses: Vec<ResponseDoc>,
}

/// A parameter or a field of a JSON body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    /// "path", "query" or "body".
    pub location: String,
    pub kind: String,
    pub required: bool,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseDoc {
    pub status: String,
    pub description: String,
    /// The schema's name, when it has one.
    pub schema: String,
}
