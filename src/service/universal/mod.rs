//! The universal memory API's rules: who is calling, what they may read or write, ranked
//! retrieval under a token budget, and durable add jobs. HTTP lives in `api::v1::universal`.
pub mod commit;
pub mod corpus;
pub mod usage;
pub mod worker;

use crate::auth::secrets;
use crate::domain::agent::{AccessType, AgentStatus};
use crate::domain::categories::{self, Category};
use crate::domain::context::{self, Context, Format, Item};
use crate::domain::extract::Role;
use crate::error::{AppError, AppResult};
use crate::service::token_count::Cl100k;
use crate::store::callers::{self, CallerRow};
use crate::store::jobs::{self, Job, NewJob};
use crate::store::{agents, now_ms, Db};
use corpus::CorpusCache;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use usage::UsageLog;

/// Explicit limits on what agents send.
pub const MAX_QUERY_CHARS: usize = 4_000;
pub const MAX_LIMIT: i64 = 50;
pub const DEFAULT_LIMIT: i64 = 10;
pub const DEFAULT_CONTEXT_TOKENS: i64 = 500;
pub const MAX_CONTEXT_TOKENS: i64 = 8_000;
pub const MAX_MESSAGES: usize = 100;
pub const MAX_MESSAGE_CHARS: usize = 16_000;
pub const MAX_IDEMPOTENCY_KEY_CHARS: usize = 255;
pub const MAX_METADATA_BYTES: usize = 8 * 1024;
/// A snippet is the start of a memory, at most this many characters.
const SNIPPET_CHARS: usize = 200;

/// Per-process state of the universal API.
pub struct Universal {
    pub corpora: CorpusCache,
    /// Set when the server starts (it needs the database and a runtime).
    pub committer: std::sync::OnceLock<commit::Committer>,
    pub usage: UsageLog,
    pub jobs_ready: tokio::sync::Notify,
    /// The sentence-embedding model, when one is configured: memories get vectors and
    /// retrieval adds meaning to keywords.
    pub embedder: Option<std::sync::Arc<crate::embed::Embedder>>,
    /// Throughput per agent, per process (a busy agent must not pay a write per request).
    per_agent: DefaultKeyedRateLimiter<String>,
    /// When an agent's request last arrived (ms): background work waits for a pause.
    last_request: std::sync::atomic::AtomicI64,
}

impl std::fmt::Debug for Universal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Universal")
    }
}

impl Universal {
    pub fn new(agent_rate_per_second: u32, embedder: Option<std::sync::Arc<crate::embed::Embedder>>) -> Universal {
        let rate = NonZeroU32::new(agent_rate_per_second.max(1)).expect("at least one");
        let burst = rate.saturating_mul(NonZeroU32::new(2).expect("two"));
        Universal {
            corpora: CorpusCache::default(),
            committer: std::sync::OnceLock::new(),
            usage: UsageLog::default(),
            jobs_ready: tokio::sync::Notify::new(),
            embedder,
            per_agent: RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst)),
            last_request: std::sync::atomic::AtomicI64::new(0),
        }
    }

    /// How long no agent's request has arrived at this process, in ms.
    pub fn quiet_for_ms(&self) -> i64 {
        now_ms() - self.last_request.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The model that names stored vectors, when one is loaded.
    pub fn model_id(&self) -> Option<&'static str> {
        self.embedder.as_ref().map(|e| e.model_id())
    }

    /// Drops rate-limit state of keys that have been quiet (called by the sweeper).
    pub fn tidy(&self) {
        self.per_agent.retain_recent();
    }
}

fn limited(limiter: &DefaultKeyedRateLimiter<String>, key: &str) -> AppResult<()> {
    limiter.check_key(&key.to_string()).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        AppError::RateLimited { retry_after_secs: wait.as_secs() + 1 }
    })
}

/// An authenticated agent acting for one person.
#[derive(Clone, Debug)]
pub struct Caller {
    pub agent_id: String,
    pub passport_id: String,
    pub memory_rev: i64,
    /// `None` when there is no active grant, for whatever reason: callers must not be able
    /// to tell revoked from expired from a retired or suspended agent.
    pub grant: Option<ActiveGrant>,
}

impl Caller {
    /// What this caller may write, the one rule for both front doors: memories of `category`
    /// (of any category, with `None`) under a read-write grant in force that holds it.
    pub fn may_write(&self, category: Option<Category>) -> bool {
        self.grant.as_ref().is_some_and(|g| g.access == AccessType::ReadWrite && category.is_none_or(|c| g.categories.contains(&c)))
    }

    /// The same caller reading only those of its categories that are also in `wanted`.
    pub fn narrowed_to(mut self, wanted: &[Category]) -> Caller {
        if let Some(g) = self.grant.as_mut() {
            g.categories.retain(|c| wanted.contains(c));
        }
        self
    }
}

#[derive(Clone, Debug)]
pub struct ActiveGrant {
    pub id: String,
    pub categories: Vec<Category>,
    pub access: AccessType,
}

/// Checks the agent's secret and the person's pairwise token. Any missing, malformed,
/// unknown or mismatched credential is the same `AgentAuth`; too many of those from one
/// client address become a rate limit, counted in the database so every node shares it
/// (only failures cost a write).
pub async fn authenticate(u: &Universal, db: &Db, client: &str, agent_key: Option<&str>, token: Option<&str>) -> AppResult<Caller> {
    let found = caller(db, agent_key, token).await?;
    admit(u, db, client, found, AppError::AgentAuth).await
}

/// Checks an OAuth access token presented to `/mcp` (whose resource URI is `resource`). The
/// same caller as [`authenticate`] comes out, its grant narrowed to what the token's scopes
/// allow; a token that is unknown, expired, revoked, for another resource, or whose grant is
/// not in force is `InvalidToken`, so the app asks the person again. Failures count towards
/// the same per-client limit as bad agent credentials.
pub async fn authenticate_bearer(u: &Universal, db: &Db, client: &str, token: Option<&str>, resource: &str) -> AppResult<Caller> {
    let found = match token {
        Some(t) => bearer_caller(db, t.trim(), resource).await?,
        None => None,
    };
    admit(u, db, client, found, AppError::InvalidToken).await
}

/// The one gate of both front doors: a known caller passes its agent's rate limit; an unknown
/// one counts as a failure of its client address and gets `refused`.
async fn admit(u: &Universal, db: &Db, client: &str, found: Option<Caller>, refused: AppError) -> AppResult<Caller> {
    u.last_request.store(now_ms(), std::sync::atomic::Ordering::Relaxed);
    match found {
        Some(c) => {
            limited(&u.per_agent, &c.agent_id)?;
            Ok(c)
        }
        None => {
            crate::service::limits::enforce(db, &format!("agent-auth-fail:{client}"), crate::service::limits::AGENT_AUTH_FAILURES_PER_CLIENT).await?;
            Err(refused)
        }
    }
}

async fn bearer_caller(db: &Db, token: &str, resource: &str) -> AppResult<Option<Caller>> {
    use crate::domain::oauth;
    let Some(row) = callers::by_access_token(db, token).await? else { return Ok(None) };
    let now = now_ms();
    if row.token_expires_at <= now || !oauth::is_our_resource(&row.resource, resource) {
        return Ok(None);
    }
    let Some(grant) = active_grant(&row.caller, now) else { return Ok(None) };
    let scopes = oauth::parse_scope(&row.scope).unwrap_or_default();
    let (categories, access) = oauth::in_force(&scopes, &grant.categories, grant.access);
    if categories.is_empty() {
        return Ok(None);
    }
    let c = row.caller;
    Ok(Some(Caller {
        agent_id: c.agent_id,
        passport_id: c.passport_id,
        memory_rev: c.memory_rev,
        grant: Some(ActiveGrant { id: grant.id, categories, access }),
    }))
}

async fn caller(db: &Db, agent_key: Option<&str>, token: Option<&str>) -> AppResult<Option<Caller>> {
    let (Some(key), Some(token)) = (agent_key, token) else { return Ok(None) };
    if !secrets::looks_like(key, agents::SECRET_PREFIX) {
        return Ok(None);
    }
    let Some(row) = callers::by_token(db, token.trim()).await? else { return Ok(None) };
    if !secrets::hashes_equal(&row.agent_secret_hash, &secrets::hash(key)) {
        return Ok(None);
    }
    let grant = active_grant(&row, now_ms());
    Ok(Some(Caller { agent_id: row.agent_id, passport_id: row.passport_id, memory_rev: row.memory_rev, grant }))
}

/// The grant behind a token when every condition for using it holds.
fn active_grant(row: &CallerRow, now: i64) -> Option<ActiveGrant> {
    let live = row.token_revoked_at.is_none()
        && crate::domain::grant::in_force(row.grant_revoked_at, row.expires_at, now)
        && AgentStatus::parse(&row.agent_status).is_some_and(|s| s.is_live(row.agent_retired_at));
    if !live {
        return None;
    }
    let names: Vec<String> = serde_json::from_str(&row.categories).ok()?;
    Some(ActiveGrant {
        id: row.grant_id.clone(),
        categories: categories::parse_list(&names).ok()?,
        access: AccessType::parse(&row.access_type)?,
    })
}

/// A checked retrieve request.
#[derive(Clone, Debug)]
pub struct RetrieveRequest {
    pub query: String,
    pub limit: usize,
    pub format: Format,
    pub max_tokens: usize,
}

impl RetrieveRequest {
    /// Applies defaults and limits; every problem is reported at once.
    pub fn check(query: Option<String>, limit: Option<i64>, format: Option<&str>, max_tokens: Option<i64>) -> AppResult<RetrieveRequest> {
        let mut errors = Vec::new();
        let query = query.unwrap_or_default();
        if query.chars().count() > MAX_QUERY_CHARS {
            errors.push(field("query", format!("The query may be at most {MAX_QUERY_CHARS} characters.")));
        }
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            errors.push(field("limit", format!("limit must be between 1 and {MAX_LIMIT}.")));
        }
        let fmt = Format::parse(format.unwrap_or("bullets"));
        if fmt.is_none() {
            errors.push(field("format", "format must be bullets, json or xml."));
        }
        let max_tokens = max_tokens.unwrap_or(DEFAULT_CONTEXT_TOKENS);
        if !(1..=MAX_CONTEXT_TOKENS).contains(&max_tokens) {
            errors.push(field("context_max_tokens", format!("context_max_tokens must be between 1 and {MAX_CONTEXT_TOKENS}.")));
        }
        match (errors.is_empty(), fmt) {
            (true, Some(format)) => Ok(RetrieveRequest { query, limit: limit as usize, format, max_tokens: max_tokens as usize }),
            _ => Err(AppError::Validation(errors)),
        }
    }
}

fn field(name: &str, message: impl Into<String>) -> crate::domain::agent::FieldError {
    crate::domain::agent::FieldError { field: name.into(), message: message.into() }
}

/// One served memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Served {
    pub id: String,
    pub content: String,
    pub snippet: String,
    pub category: Category,
    pub importance: u8,
    pub relevance: f64,
    pub last_accessed: Option<i64>,
    pub access_count: i64,
    /// When what it tells happened, as the person's words said.
    pub happened: Option<crate::domain::when::Span>,
}

/// What a retrieve found; `None` from `retrieve` means no active grant.
#[derive(Clone, Debug)]
pub struct Retrieved {
    pub items: Vec<Served>,
    pub context: Context,
    pub categories: Vec<Category>,
}

/// The granted, unflagged memories ranked for the query, rendered under the token budget,
/// with each use recorded.
pub async fn retrieve(u: &Universal, db: &Db, caller: &Caller, req: &RetrieveRequest) -> AppResult<Option<Retrieved>> {
    let Some(grant) = &caller.grant else { return Ok(None) };
    let shared = u.corpora.get(db, &caller.passport_id, caller.memory_rev, u.model_id()).await?;
    let corpus = shared.read().unwrap_or_else(|poisoned| poisoned.into_inner());
    let now = now_ms();
    let groups = corpus::Corpus::groups(&grant.categories);
    // Words asking of the present ("now", "still") say which memory answers, not what about:
    // they are kept out of both the keywords and the query's vector.
    let present = crate::domain::when::present_words(&req.query);
    let keywords = crate::domain::rank::blanked(&req.query, &present);
    let similarity = match &u.embedder {
        Some(e) if !req.query.trim().is_empty() && corpus.has_vectors() => {
            let mut skip = crate::domain::rank::stray_names(&req.query, |t| corpus.index.knows(t));
            skip.extend(present.iter().cloned());
            skip.sort_by_key(|r| r.start);
            e.embed_query_skipping(&req.query, &skip)
                .map_err(|err| tracing::warn!(error = %err, "embedding the query failed; keywords only"))
                .ok()
                .map(|q: Vec<f32>| corpus.similarities(&crate::domain::dense::Quantized::new(&q)))
        }
        _ => None,
    };
    // A question that asks of time ("when did…", "in June 2023", "last summer": today is the
    // anchor) prefers, among similar memories, those whose dates answer it; one that asks of
    // the present prefers those said later.
    let similarity = similarity.map(|mut sim| {
        if let Some(asked) = crate::domain::when::asked(&req.query, crate::domain::when::date_of(now)) {
            for (i, s) in sim.iter_mut().enumerate() {
                let m = &corpus.memories[i];
                *s += crate::domain::rank::time_bonus(asked, m.happened, m.said_at);
            }
        }
        if !present.is_empty() {
            let said = |m: &crate::store::memories::Servable| m.said_at.unwrap_or(m.created_at);
            let (first, last) = corpus.memories.iter().map(said).fold((i64::MAX, i64::MIN), |(a, b), t| (a.min(t), b.max(t)));
            for (s, m) in sim.iter_mut().zip(&corpus.memories) {
                *s += crate::domain::rank::present_bonus(Some(said(m)), first, last);
            }
        }
        sim
    });
    let ranked = corpus.index.rank_hybrid(
        &keywords,
        groups,
        |i| corpus.eligible(i, &grant.categories).then(|| corpus.touched_at(i)),
        similarity.as_deref(),
        corpus.freshest(),
        crate::domain::rank::spread_depth(req.limit),
    );
    // One message that told several things does not fill the top alone.
    let ranked = crate::domain::rank::spread(ranked, |i| corpus.memories[i].message, req.limit);
    let items: Vec<Served> = ranked
        .iter()
        .map(|r| {
            let m = &corpus.memories[r.index];
            let (count, last) = corpus.use_by(r.index, &grant.id, now);
            Served {
                id: m.id.clone(),
                content: m.content.clone(),
                snippet: m.content.chars().take(SNIPPET_CHARS).collect(),
                category: m.category,
                importance: m.importance,
                relevance: r.relevance,
                last_accessed: Some(last),
                access_count: count,
                happened: m.happened,
            }
        })
        .collect();
    let rendered: Vec<Item> = items.iter().map(|s| Item { category: s.category, content: &s.content }).collect();
    let context = context::build(&rendered, req.format, req.max_tokens, &Cl100k);
    u.usage.record(&grant.id, items.iter().map(|s| s.id.clone()), now);
    Ok(Some(Retrieved { items, context, categories: grant.categories.clone() }))
}

/// A checked add request.
#[derive(Clone, Debug)]
pub struct AddRequest {
    pub payload: worker::Payload,
    pub idempotency_key: Option<String>,
}

/// Where a message's text came from, as the SDK labels it.
pub const SOURCE_KINDS: [&str; 6] =
    ["direct_user_input", "assistant_output", "tool_output", "fetched_document", "system_instruction", "client_assertion"];
/// The longest `external_turn_id`.
pub const MAX_TURN_ID_CHARS: usize = 255;
/// How long a proposed memory may be, in characters.
pub const PROPOSAL_CHARS: std::ops::RangeInclusive<usize> = 10..=500;

/// One message of an add as an app sends it; `AddRequest::check` says what is allowed.
#[derive(Clone, Debug, Default)]
pub struct NewMessage {
    pub role: String,
    pub content: String,
    pub occurred_at: Option<String>,
    pub external_turn_id: Option<String>,
    pub source_kind: Option<String>,
    pub is_memory_proposal: bool,
    /// (content, category)
    pub proposed_memory: Option<(String, String)>,
}

impl NewMessage {
    pub fn new(role: &str, content: &str) -> NewMessage {
        NewMessage { role: role.into(), content: content.into(), ..Default::default() }
    }
}

/// Lower case with runs of white space as one space, to find a proposal in its message.
fn loose(s: &str) -> String {
    s.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ")
}

impl AddRequest {
    /// Checks every field at once; `now` is when the add arrived (the time of messages that
    /// do not say when they were said).
    pub fn check(
        messages: Vec<NewMessage>,
        metadata: Option<serde_json::Value>,
        idempotency_key: Option<String>,
        now: i64,
    ) -> AppResult<AddRequest> {
        let mut errors = Vec::new();
        if messages.is_empty() || messages.len() > MAX_MESSAGES {
            errors.push(field("messages", format!("Send between 1 and {MAX_MESSAGES} messages.")));
        }
        let mut checked = Vec::with_capacity(messages.len());
        for (i, m) in messages.iter().enumerate() {
            let (role, content) = (&m.role, &m.content);
            let at = |name: &str| format!("messages[{i}].{name}");
            if Role::parse(role).is_none() {
                errors.push(field(&at("role"), "role must be user, assistant or system."));
            }
            let chars = content.chars().count();
            if chars == 0 || chars > MAX_MESSAGE_CHARS {
                errors.push(field(&at("content"), format!("content must be 1 to {MAX_MESSAGE_CHARS} characters.")));
            } else if content.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
                errors.push(field(&at("content"), "content may not contain control characters other than line breaks and tabs."));
            }
            let occurred_at = match m.occurred_at.as_deref() {
                None => Some(now),
                Some(s) => {
                    let ms = crate::domain::time::parse_rfc3339(s);
                    if ms.is_none() {
                        errors.push(field(&at("occurred_at"), "occurred_at must be an RFC 3339 time, like 2023-05-08T13:56:00Z."));
                    }
                    ms
                }
            };
            if let Some(id) = &m.external_turn_id {
                let n = id.chars().count();
                if n == 0 || n > MAX_TURN_ID_CHARS || id.chars().any(char::is_control) {
                    errors.push(field(&at("external_turn_id"), format!("external_turn_id must be 1 to {MAX_TURN_ID_CHARS} printable characters.")));
                }
            }
            if let Some(kind) = &m.source_kind {
                if !SOURCE_KINDS.contains(&kind.as_str()) {
                    errors.push(field(&at("source_kind"), format!("source_kind must be one of {}.", SOURCE_KINDS.join(", "))));
                }
            }
            if m.is_memory_proposal && (role != "assistant" || m.source_kind.as_deref() != Some("assistant_output")) {
                errors.push(field(&at("is_memory_proposal"), "Memory proposals come from an assistant message with source_kind assistant_output."));
            }
            if let Some((proposal, category)) = &m.proposed_memory {
                let proposal = proposal.trim();
                if !m.is_memory_proposal {
                    errors.push(field(&at("proposed_memory"), "proposed_memory needs is_memory_proposal: true."));
                }
                if !PROPOSAL_CHARS.contains(&proposal.chars().count()) || proposal.chars().any(char::is_control) {
                    errors.push(field(&at("proposed_memory.content"), "proposed_memory.content must be 10 to 500 characters of text."));
                } else if !loose(content).contains(&loose(proposal)) {
                    errors.push(field(&at("proposed_memory.content"), "proposed_memory.content must appear in the message as written."));
                }
                if Category::parse(category).is_none() {
                    errors.push(field(&at("proposed_memory.category"), "proposed_memory.category must be one of the six categories."));
                }
            }
            checked.push(worker::Message {
                role: role.clone(),
                content: content.clone(),
                occurred_at,
                external_turn_id: m.external_turn_id.clone(),
                source_kind: m.source_kind.clone(),
                proposed_memory: m.proposed_memory.as_ref().map(|(c, k)| (c.trim().to_string(), k.clone())),
            });
        }
        let metadata = metadata.unwrap_or(serde_json::Value::Object(Default::default()));
        if !metadata.is_object() || metadata.to_string().len() > MAX_METADATA_BYTES {
            errors.push(field("metadata", format!("metadata must be an object of at most {MAX_METADATA_BYTES} bytes.")));
        }
        if let Some(k) = &idempotency_key {
            let n = k.chars().count();
            if n == 0 || n > MAX_IDEMPOTENCY_KEY_CHARS || k.chars().any(char::is_control) {
                errors.push(field(
                    "idempotency_key",
                    format!("idempotency_key must be 1 to {MAX_IDEMPOTENCY_KEY_CHARS} printable characters."),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Validation(errors));
        }
        Ok(AddRequest { payload: worker::Payload { messages: checked, metadata }, idempotency_key })
    }
}

/// Queues the conversation durably for extraction; returns (job id, status). Needs an active
/// read-write grant.
pub async fn add(u: &Universal, db: &Db, caller: &Caller, req: &AddRequest) -> AppResult<(String, String)> {
    if !caller.may_write(None) {
        return Err(AppError::WriteNotPermitted);
    }
    let payload = serde_json::to_string(&req.payload).map_err(|e| AppError::Internal(e.to_string()))?;
    let queued = match u.committer.get() {
        Some(c) => {
            let job = commit::OwnedJob {
                agent_id: caller.agent_id.clone(),
                passport_id: caller.passport_id.clone(),
                idempotency_key: req.idempotency_key.clone(),
                payload,
            };
            c.enqueue(job).await?
        }
        None => {
            let job = NewJob {
                agent_id: &caller.agent_id,
                passport_id: &caller.passport_id,
                idempotency_key: req.idempotency_key.as_deref(),
                payload: &payload,
            };
            jobs::enqueue(db, &job).await?
        }
    };
    u.jobs_ready.notify_one();
    Ok(queued)
}

/// A job, for the agent and person that created it only.
pub async fn job(db: &Db, caller: &Caller, id: &str) -> AppResult<Job> {
    jobs::get_for(db, id, &caller.agent_id, &caller.passport_id).await?.ok_or(AppError::NotFound)
}

/// What became of an add, as far as a caller waiting for it can tell.
#[derive(Clone, Debug, PartialEq)]
pub enum AddOutcome {
    Done(worker::JobResult),
    Failed(String),
    /// Still queued when the wait ran out; it will be processed.
    Pending,
}

impl AddOutcome {
    /// One sentence for an assistant to pass on.
    pub fn sentence(&self) -> String {
        match self {
            AddOutcome::Done(r) if r.created_memory_ids.len() == 1 => "Remembered.".into(),
            AddOutcome::Done(r) if !r.created_memory_ids.is_empty() => format!("Remembered as {} memories.", r.created_memory_ids.len()),
            AddOutcome::Done(r) if r.conflicts > 0 => {
                "Not stored yet: it contradicts something already remembered, so the person will be asked which is right on their Memory Passport.".into()
            }
            AddOutcome::Done(r) if r.duplicates > 0 => "Already remembered.".into(),
            AddOutcome::Done(r) if r.outside_grant > 0 => "Not stored: it belongs to a category this app may not write.".into(),
            AddOutcome::Done(r) if r.over_limit > 0 => "Not stored: the person's memory is full.".into(),
            AddOutcome::Done(_) => "Nothing to remember: no statement about the person was found in it.".into(),
            AddOutcome::Failed(why) if why == "write_not_permitted" => "Not stored: this app may no longer add to the person's memory.".into(),
            AddOutcome::Failed(_) => "Not stored: it could not be processed.".into(),
            AddOutcome::Pending => "Queued: it will be remembered shortly.".into(),
        }
    }
}

/// Waits up to `max_ms` for the caller's job `id` to finish.
pub async fn wait_for_job(db: &Db, caller: &Caller, id: &str, max_ms: u64) -> AppResult<AddOutcome> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(max_ms);
    let mut pause = std::time::Duration::from_millis(2);
    loop {
        let j = job(db, caller, id).await?;
        match j.status.as_str() {
            "completed" => {
                let result = j.result.as_deref().and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
                return Ok(AddOutcome::Done(result));
            }
            "failed" => return Ok(AddOutcome::Failed(j.error.unwrap_or_default())),
            _ if std::time::Instant::now() >= deadline => return Ok(AddOutcome::Pending),
            _ => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_millis(50));
            }
        }
    }
}

/// How many memory jobs wait for a worker or are being worked (the metrics' queue depth).
pub async fn pending_jobs(db: &Db) -> AppResult<i64> {
    Ok(jobs::pending(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> CallerRow {
        CallerRow {
            token_revoked_at: None,
            agent_id: "a".into(),
            passport_id: "p".into(),
            grant_id: "g".into(),
            categories: r#"["preference","fact"]"#.into(),
            access_type: "read_write".into(),
            expires_at: Some(2_000),
            grant_revoked_at: None,
            agent_secret_hash: String::new(),
            agent_status: "verified".into(),
            agent_retired_at: None,
            memory_rev: 0,
        }
    }

    #[test]
    fn every_way_of_losing_access_looks_the_same() {
        assert_eq!(active_grant(&row(), 1_000).unwrap().categories, vec![Category::Preference, Category::Fact]);
        let cases: Vec<(&str, Box<dyn Fn(&mut CallerRow)>)> = vec![
            ("expired", Box::new(|r| r.expires_at = Some(1_000))),
            ("revoked", Box::new(|r| r.grant_revoked_at = Some(1))),
            ("token revoked", Box::new(|r| r.token_revoked_at = Some(1))),
            ("retired", Box::new(|r| r.agent_retired_at = Some(1))),
            ("suspended", Box::new(|r| r.agent_status = "suspended".into())),
            ("rejected", Box::new(|r| r.agent_status = "rejected".into())),
        ];
        for (why, change) in cases {
            let mut r = row();
            change(&mut r);
            assert!(active_grant(&r, 1_000).is_none(), "{why}");
        }
    }

    #[test]
    fn retrieve_requests_get_defaults_and_limits() {
        let r = RetrieveRequest::check(Some("q".into()), None, None, None).unwrap();
        assert_eq!((r.limit, r.format, r.max_tokens), (10, Format::Bullets, 500));
        for (limit, format, tokens) in [(Some(0), None, None), (Some(51), None, None), (None, Some("yaml"), None), (None, None, Some(0))] {
            assert!(matches!(RetrieveRequest::check(None, limit, format, tokens), Err(AppError::Validation(_))));
        }
        let long = "x".repeat(MAX_QUERY_CHARS + 1);
        assert!(RetrieveRequest::check(Some(long), None, None, None).is_err());
    }

    #[test]
    fn add_requests_are_checked_whole() {
        let ok = AddRequest::check(vec![NewMessage::new("user", "I like tea.")], None, Some("k-1".into()), 7).unwrap();
        assert_eq!(ok.payload.metadata, serde_json::json!({}));
        assert_eq!(ok.payload.messages[0].occurred_at, Some(7), "the arrival, when the app does not say");
        let Err(AppError::Validation(errors)) = AddRequest::check(
            vec![NewMessage::new("robot", "")],
            Some(serde_json::json!([1])),
            Some("bad\u{0}key".into()),
            0,
        ) else {
            panic!("should fail")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["messages[0].role", "messages[0].content", "metadata", "idempotency_key"]);
        assert!(AddRequest::check(vec![], None, None, 0).is_err());
    }

    #[test]
    fn the_sdks_message_fields_are_checked() {
        let said = NewMessage { occurred_at: Some("2023-05-08T13:56:00+02:00".into()), external_turn_id: Some("t-1".into()),
            source_kind: Some("direct_user_input".into()), ..NewMessage::new("user", "I went to a support group yesterday.") };
        let ok = AddRequest::check(vec![said], None, None, 0).unwrap();
        assert_eq!(ok.payload.messages[0].occurred_at, Some(1_683_546_960_000));
        let proposal = NewMessage {
            source_kind: Some("assistant_output".into()),
            is_memory_proposal: true,
            proposed_memory: Some(("  You  prefer window seats ".into(), "preference".into())),
            ..NewMessage::new("assistant", "Noted: you prefer window seats on long flights.")
        };
        let ok = AddRequest::check(vec![proposal.clone()], None, None, 0).unwrap();
        assert_eq!(ok.payload.messages[0].proposed_memory, Some(("You  prefer window seats".into(), "preference".into())));
        let bad = vec![
            NewMessage { occurred_at: Some("yesterday".into()), ..NewMessage::new("user", "x") },
            NewMessage { external_turn_id: Some(String::new()), ..NewMessage::new("user", "x") },
            NewMessage { source_kind: Some("rumour".into()), ..NewMessage::new("user", "x") },
            NewMessage { is_memory_proposal: true, ..NewMessage::new("user", "x") },
            NewMessage { is_memory_proposal: false, ..proposal.clone() },
            NewMessage { proposed_memory: Some(("You prefer aisle seats".into(), "preference".into())), ..proposal.clone() },
            NewMessage { proposed_memory: Some(("You prefer window seats".into(), "hobby".into())), ..proposal.clone() },
            NewMessage { proposed_memory: Some(("too short".into(), "fact".into())), ..proposal },
        ];
        let Err(AppError::Validation(errors)) = AddRequest::check(bad, None, None, 0) else { panic!("should fail") };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["messages[0].occurred_at", "messages[1].external_turn_id", "messages[2].source_kind",
            "messages[3].is_memory_proposal", "messages[4].proposed_memory", "messages[5].proposed_memory.content",
            "messages[6].proposed_memory.category", "messages[7].proposed_memory.content"]);
    }
}
