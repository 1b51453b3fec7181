//! The shapes `/v1` answers with, as types: handlers build them and utoipa turns them into the
//! OpenAPI document. `deny_unknown_fields` makes every schema closed (`additionalProperties:
//! false`), so the schemathesis run catches a field added on the wire but not here.
use serde::Serialize;
use utoipa::ToSchema;

/// `{"data": …, "request_id", "timestamp"}`: every `/v1` answer except the universal ones
/// whose shape the SDK fixes.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Envelope<T: ToSchema> {
    pub data: T,
    /// `req_…`, also in the `X-Request-Id` header and the server's log.
    pub request_id: String,
    #[schema(format = DateTime)]
    pub timestamp: String,
}

/// Every error: a snake_case name, a stable code, the request's id and what was wrong.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    #[schema(example = "validation_failed")]
    pub error: String,
    #[schema(example = "REQ_422")]
    pub code: String,
    pub request_id: String,
    /// `null`, a list of `{field, message}` (validation), or an object with a `message`.
    pub details: serde_json::Value,
}

// Names that travel as strings; listed so that clients and fuzzers know the allowed values.
// Requests still take plain strings, so a wrong one gets our own 422, not a parser's.

#[allow(non_camel_case_types, dead_code)]
#[derive(Serialize, ToSchema)]
pub enum CategoryName {
    preference,
    fact,
    goal,
    procedure,
    relationship,
    expertise,
}

#[allow(non_camel_case_types, dead_code)]
#[derive(Serialize, ToSchema)]
pub enum AccessName {
    read_only,
    read_write,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
pub enum DurationName {
    #[serde(rename = "30_days")]
    Days30,
    #[serde(rename = "90_days")]
    Days90,
    #[serde(rename = "1_year")]
    Year1,
    #[serde(rename = "until_revoked")]
    UntilRevoked,
}

#[allow(non_camel_case_types, dead_code)]
#[derive(Serialize, ToSchema)]
pub enum VerificationName {
    pending,
    verified,
    rejected,
    suspended,
}

#[allow(non_camel_case_types, dead_code)]
#[derive(Serialize, ToSchema)]
pub enum FlagName {
    incorrect,
    outdated,
    never_said,
}

// ---- agents -------------------------------------------------------------------------------

/// A global agent as a person sees it: no tenant, keys or grants.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentProfile {
    pub id: String,
    pub name: String,
    pub description: String,
    pub website_url: String,
    pub logo_url: String,
    #[schema(value_type = Vec<CategoryName>)]
    pub default_categories_requested: Vec<String>,
    #[schema(value_type = AccessName)]
    pub requested_access: String,
    #[schema(value_type = VerificationName)]
    pub verification_status: String,
}

/// A global agent as its tenant sees it; `raw_agent_api_key` only in the answer that made the
/// secret (create, rotate-secret), never again.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantAgent {
    pub id: String,
    pub name: String,
    pub description: String,
    pub website_url: String,
    pub logo_url: String,
    #[schema(value_type = Vec<CategoryName>)]
    pub default_categories_requested: Vec<String>,
    #[schema(value_type = AccessName)]
    pub requested_access: String,
    #[schema(value_type = VerificationName)]
    pub verification_status: String,
    pub redirect_uris: Vec<String>,
    /// The first of `redirect_uris`, or "".
    pub redirect_uri: String,
    pub retired: bool,
    #[schema(format = DateTime)]
    pub retired_at: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    /// Why a verified agent is back in pending review (an edit of its name, description,
    /// website, logo, redirect URIs or requested access), or null.
    pub review_note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^agent_sk_")]
    pub raw_agent_api_key: Option<String>,
}

// ---- universal ----------------------------------------------------------------------------

/// The answer to retrieve, in the shape of memoryo-sdk's model.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrieveAnswer {
    pub request_id: String,
    #[schema(format = DateTime)]
    pub timestamp: String,
    pub retrieval_id: String,
    pub cached: bool,
    pub data: Vec<RetrievedMemory>,
    /// Ready to append to a system prompt; never more than `context_max_tokens` (cl100k_base).
    pub system_prompt_addition: String,
    pub context_token_count: usize,
    /// `no_grant_for_user` when there is no grant in force, whatever the cause.
    #[schema(example = json!(null))]
    pub permission_error: Option<String>,
    #[schema(value_type = Vec<CategoryName>)]
    pub categories_available: Vec<String>,
    pub is_passthrough: bool,
}

/// One ranked memory; `access_count` and `last_accessed` are the calling app's own use.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RetrievedMemory {
    pub id: String,
    pub content: String,
    #[schema(value_type = CategoryName)]
    pub category: String,
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub importance_score: f64,
    #[schema(minimum = 0.0)]
    pub relevance_score: f64,
    pub context_snippet: String,
    #[schema(format = DateTime)]
    pub last_accessed: Option<String>,
    #[schema(minimum = 0)]
    pub access_count: i64,
    /// The first day of when what it tells happened, when the person's words said
    /// ("yesterday" said on 8 May 2023: 2023-05-07); null otherwise.
    #[schema(format = Date)]
    pub happened_from: Option<String>,
    /// The last day of it (the same as `happened_from` for one day).
    #[schema(format = Date)]
    pub happened_to: Option<String>,
}

/// The answer to add: the job is stored before this is sent.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddAnswer {
    pub request_id: String,
    #[schema(format = DateTime)]
    pub timestamp: String,
    pub job_id: String,
    /// `queued` for a new job; the job's current status for a repeated idempotency key.
    #[schema(example = "queued")]
    pub status: String,
    #[schema(example = "normal")]
    pub processing_status: String,
}

/// A job, in the shape of memoryo-sdk's MemoryJobStatus.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JobStatus {
    pub job_id: String,
    /// queued, processing, completed or failed.
    pub status: String,
    pub attempts: i64,
    pub memories_created: usize,
    pub created_memory_ids: Vec<String>,
    pub error: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub queued_at: String,
    #[schema(format = DateTime)]
    pub started_at: Option<String>,
    #[schema(format = DateTime)]
    pub completed_at: Option<String>,
    pub extraction_metadata: ExtractionMetadata,
}

/// What the extractor did with the conversation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtractionMetadata {
    #[schema(example = "rules")]
    pub extractor: String,
    pub extracted: usize,
    /// Statements already remembered, skipped.
    pub duplicates: usize,
    /// Statements that contradict a memory: now questions for the person.
    pub conflicts: usize,
    /// Contradictions dropped because this app already has 50 open questions for the person.
    pub questions_dropped: usize,
    /// Statements in categories this app was not granted, dropped.
    pub outside_grant: usize,
    pub over_limit: usize,
}

/// The hand-off: the pairwise token for this app and person, shown once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenAnswer {
    #[schema(pattern = "^uui_")]
    pub uui_token: String,
    pub grant: GrantSummary,
    /// The app's own reference from the consent link, if it sent one.
    pub link_token: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantSummary {
    #[schema(value_type = Vec<CategoryName>)]
    pub categories: Vec<String>,
    #[schema(value_type = AccessName)]
    pub access_type: String,
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
}

// ---- the person's own API -------------------------------------------------------------------
// These mirror the manage page's models (crate::model) as they travel: times as RFC 3339.

/// An app's access to the person's memory.
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantCard {
    id: String,
    agent: AppCard,
    agent_retired: bool,
    categories: Vec<CategoryName>,
    access: AccessName,
    duration: DurationName,
    #[schema(format = DateTime)]
    expires_at: Option<String>,
    #[schema(format = DateTime)]
    revoked_at: Option<String>,
    #[schema(format = DateTime)]
    last_used_at: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
    active: bool,
}

/// The app as the consent page showed it.
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppCard {
    id: String,
    name: String,
    description: String,
    website_url: String,
    logo_url: String,
    default_categories: Vec<CategoryName>,
    access_type: AccessName,
    status: VerificationName,
    /// It registered itself over OAuth (an MCP client); no tenant or operator vouches for it
    /// unless `status` is verified.
    self_registered: bool,
}

/// One page of the person's memories.
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryPage {
    memories: Vec<MemoryRow>,
    /// How many match the filter in all.
    total: i64,
    offset: u32,
    page_size: u32,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryRow {
    id: String,
    category: CategoryName,
    content: String,
    #[schema(minimum = 1, maximum = 10)]
    importance: u8,
    /// The name of the app that wrote it; null when the person wrote it or the app is gone.
    source: Option<String>,
    source_agent_id: Option<String>,
    flag: Option<FlagName>,
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    updated_at: String,
    #[schema(format = DateTime)]
    last_accessed: Option<String>,
    access_count: i64,
    /// How many earlier wordings are kept.
    versions: i64,
    /// The person's own words the memory was made from (null when they wrote it themselves).
    source_text: Option<String>,
    /// The app's id of the turn it came from (`external_turn_id`).
    source_turn_id: Option<String>,
    /// When the person said it (`occurred_at`, else when the app sent it).
    #[schema(format = DateTime)]
    said_at: Option<String>,
    /// The first day of when what it tells happened ("yesterday" said on 8 May 2023: 2023-05-07).
    #[schema(format = Date)]
    happened_from: Option<String>,
    /// The last day of it (the same day for a single day).
    #[schema(format = Date)]
    happened_to: Option<String>,
}

#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryVersion {
    content: String,
    category: CategoryName,
    #[schema(format = DateTime)]
    replaced_at: String,
}

/// A new statement that contradicts a memory: A is what is remembered, B what an app heard.
#[allow(dead_code)]
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConflictQuestion {
    id: String,
    category: CategoryName,
    current: String,
    candidate: String,
    source: Option<String>,
    #[schema(format = DateTime)]
    created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Revoked {
    pub revoked: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Corrected {
    pub corrected: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Deleted {
    pub deleted: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Flagged {
    #[schema(value_type = Option<FlagName>)]
    pub flag: Option<&'static str>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Answered {
    #[schema(example = "A")]
    pub answer: &'static str,
}
