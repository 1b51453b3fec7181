//! Global agents. Tenant-facing functions take the tenant id and match on it, so another
//! tenant's agent is simply not found.
use super::{is_id, new_id, now_ms, Db, StoreError, StoreResult};
use crate::auth::secrets;
use crate::domain::agent::{AccessType, AgentProfile, AgentStatus, ProfileChange};
use crate::domain::categories::{self, Category};

pub const SECRET_PREFIX: &str = "agent_sk_";
/// The reserved tenant of apps that registered themselves over OAuth (migration 0012); it can
/// never sign in.
pub const SELF_REGISTERED: &str = "self-registered";

#[derive(Clone, Debug, sqlx::FromRow)]
struct AgentRow {
    id: String,
    tenant_id: String,
    name: String,
    description: String,
    website_url: String,
    logo_url: String,
    default_categories: String,
    redirect_uris: String,
    access_type: String,
    status: String,
    created_at: i64,
    updated_at: i64,
    retired_at: Option<i64>,
    changes_since_review: Option<String>,
}

/// A stored agent, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Agent {
    pub id: String,
    pub tenant_id: String,
    pub profile: AgentProfile,
    pub status: AgentStatus,
    pub created_at: i64,
    pub updated_at: i64,
    pub retired_at: Option<i64>,
    /// Material edits since an operator verified it (empty when none, or never verified).
    pub changes_since_review: Vec<ProfileChange>,
}

const COLUMNS: &str = "id, tenant_id, name, description, website_url, logo_url, default_categories, \
                       redirect_uris, access_type, status, created_at, updated_at, retired_at, changes_since_review";

impl Agent {
    /// An app that registered itself (OAuth), not one a tenant created.
    pub fn is_self_registered(&self) -> bool {
        self.tenant_id == SELF_REGISTERED
    }
}

impl TryFrom<AgentRow> for Agent {
    type Error = StoreError;
    fn try_from(r: AgentRow) -> Result<Agent, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("agent {}: {what}", r.id));
        let cats: Vec<String> = serde_json::from_str(&r.default_categories).map_err(|_| corrupt("categories"))?;
        let default_categories: Vec<Category> = categories::parse_list(&cats).map_err(|_| corrupt("categories"))?;
        let redirect_uris: Vec<String> = serde_json::from_str(&r.redirect_uris).map_err(|_| corrupt("redirect uris"))?;
        let changes_since_review: Vec<ProfileChange> = match r.changes_since_review.as_deref() {
            None => vec![],
            Some(json) => serde_json::from_str(json).map_err(|_| corrupt("changes since review"))?,
        };
        Ok(Agent {
            profile: AgentProfile {
                name: r.name,
                description: r.description,
                website_url: r.website_url,
                logo_url: r.logo_url,
                default_categories,
                redirect_uris,
                access_type: AccessType::parse(&r.access_type).ok_or_else(|| corrupt("access type"))?,
            },
            status: AgentStatus::parse(&r.status).ok_or_else(|| corrupt("status"))?,
            id: r.id,
            tenant_id: r.tenant_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
            retired_at: r.retired_at,
            changes_since_review,
        })
    }
}

fn decode_all(rows: Vec<AgentRow>) -> StoreResult<Vec<Agent>> {
    rows.into_iter().map(Agent::try_from).collect()
}

fn json_list<T: serde::Serialize>(items: &[T]) -> String {
    serde_json::to_string(items).expect("a list of strings always serialises")
}

/// Registers an agent in `pending` review and returns it with its raw secret (shown once).
pub async fn create(db: &Db, tenant_id: &str, profile: &AgentProfile) -> StoreResult<(Agent, String)> {
    insert(&mut *db.pool.acquire().await?, tenant_id, profile).await
}

/// [`create`] on a connection (or inside a transaction) of the caller's.
pub(super) async fn insert(conn: &mut sqlx::AnyConnection, tenant_id: &str, profile: &AgentProfile) -> StoreResult<(Agent, String)> {
    let secret = secrets::generate(SECRET_PREFIX);
    let now = now_ms();
    let agent = Agent {
        id: new_id(),
        tenant_id: tenant_id.to_string(),
        profile: profile.clone(),
        status: AgentStatus::Pending,
        created_at: now,
        updated_at: now,
        retired_at: None,
        changes_since_review: vec![],
    };
    sqlx::query(
        "INSERT INTO global_agents (id, tenant_id, name, description, website_url, logo_url, default_categories, \
         redirect_uris, access_type, status, secret_hash, secret_rotated_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(&agent.id)
    .bind(tenant_id)
    .bind(&profile.name)
    .bind(&profile.description)
    .bind(&profile.website_url)
    .bind(&profile.logo_url)
    .bind(json_list(&categories::to_names(&profile.default_categories)))
    .bind(json_list(&profile.redirect_uris))
    .bind(profile.access_type.as_str())
    .bind(AgentStatus::Pending.as_str())
    .bind(&secret.hash)
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok((agent, secret.raw))
}

/// The tenant's agents, newest first, retired ones last.
pub async fn list_for_tenant(db: &Db, tenant_id: &str) -> StoreResult<Vec<Agent>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM global_agents WHERE tenant_id = $1 \
         ORDER BY CASE WHEN retired_at IS NULL THEN 0 ELSE 1 END, created_at DESC, id"
    );
    decode_all(sqlx::query_as::<_, AgentRow>(&sql).bind(tenant_id).fetch_all(&db.pool).await?)
}

/// One of the tenant's agents (retired included).
pub async fn get_for_tenant(db: &Db, tenant_id: &str, id: &str) -> StoreResult<Option<Agent>> {
    if !is_id(id) {
        return Ok(None);
    }
    let sql = format!("SELECT {COLUMNS} FROM global_agents WHERE id = $1 AND tenant_id = $2");
    sqlx::query_as::<_, AgentRow>(&sql)
        .bind(id)
        .bind(tenant_id)
        .fetch_optional(&db.pool)
        .await?
        .map(Agent::try_from)
        .transpose()
}

/// Any agent by id, for public profiles and operators.
pub async fn get(db: &Db, id: &str) -> StoreResult<Option<Agent>> {
    if !is_id(id) {
        return Ok(None);
    }
    let sql = format!("SELECT {COLUMNS} FROM global_agents WHERE id = $1");
    sqlx::query_as::<_, AgentRow>(&sql).bind(id).fetch_optional(&db.pool).await?.map(Agent::try_from).transpose()
}

/// All live agents for review, those awaiting review first.
pub async fn list_all(db: &Db) -> StoreResult<Vec<Agent>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM global_agents WHERE retired_at IS NULL \
         ORDER BY CASE status WHEN 'pending' THEN 0 ELSE 1 END, created_at DESC, id"
    );
    decode_all(sqlx::query_as::<_, AgentRow>(&sql).fetch_all(&db.pool).await?)
}

/// Every live agent with its tenant's email (for the operator), pending first, in one query.
pub async fn list_all_with_owner(db: &Db) -> StoreResult<Vec<(Agent, String)>> {
    let sql = format!(
        "SELECT {COLUMNS}, COALESCE((SELECT t.email FROM tenants t WHERE t.id = global_agents.tenant_id), '') AS owner_email \
         FROM global_agents WHERE retired_at IS NULL \
         ORDER BY CASE status WHEN 'pending' THEN 0 ELSE 1 END, created_at DESC, id"
    );
    let rows = sqlx::query_as::<_, AgentRowWithOwner>(&sql).fetch_all(&db.pool).await?;
    rows.into_iter().map(|r| Ok((Agent::try_from(r.row)?, r.owner_email))).collect()
}

#[derive(sqlx::FromRow)]
struct AgentRowWithOwner {
    #[sqlx(flatten)]
    row: AgentRow,
    owner_email: String,
}

/// What an edit writes: the new profile, and the review state the service decided on.
pub struct Edit {
    pub profile: AgentProfile,
    pub status: AgentStatus,
    pub changes_since_review: Vec<ProfileChange>,
}

/// Edits a live agent in one transaction: `decide` sees the agent as it is now (row locked)
/// and returns what to write. None if the tenant has no such live agent.
pub async fn update(db: &Db, tenant_id: &str, id: &str, decide: impl FnOnce(&Agent) -> Edit) -> StoreResult<Option<Agent>> {
    if !is_id(id) {
        return Ok(None);
    }
    let mut tx = db.pool.begin().await?;
    // Write first: it takes the row's lock on PostgreSQL and the write lock on SQLite, so the
    // read below is the row no one else can change before the commit.
    let now = now_ms();
    let touched = sqlx::query("UPDATE global_agents SET updated_at = $1 WHERE id = $2 AND tenant_id = $3 AND retired_at IS NULL")
        .bind(now)
        .bind(id)
        .bind(tenant_id)
        .execute(&mut *tx)
        .await?;
    if touched.rows_affected() == 0 {
        return Ok(None);
    }
    let sql = format!("SELECT {COLUMNS} FROM global_agents WHERE id = $1");
    let current = Agent::try_from(sqlx::query_as::<_, AgentRow>(&sql).bind(id).fetch_one(&mut *tx).await?)?;
    let edit = decide(&current);
    let changes = (!edit.changes_since_review.is_empty()).then(|| json_list(&edit.changes_since_review));
    let profile = &edit.profile;
    sqlx::query(
        "UPDATE global_agents SET name = $1, description = $2, website_url = $3, logo_url = $4, \
         default_categories = $5, redirect_uris = $6, access_type = $7, status = $8, changes_since_review = $9 \
         WHERE id = $10",
    )
    .bind(&profile.name)
    .bind(&profile.description)
    .bind(&profile.website_url)
    .bind(&profile.logo_url)
    .bind(json_list(&categories::to_names(&profile.default_categories)))
    .bind(json_list(&profile.redirect_uris))
    .bind(profile.access_type.as_str())
    .bind(edit.status.as_str())
    .bind(changes)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if edit.status != current.status {
        sqlx::query("INSERT INTO agent_status_events (id, agent_id, status, actor, created_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(new_id())
            .bind(id)
            .bind(edit.status.as_str())
            .bind(format!("tenant-edit:{tenant_id}"))
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    get_for_tenant(db, tenant_id, id).await
}

/// Issues a new secret; the old one stops working at once. None if no such live agent.
pub async fn rotate_secret(db: &Db, tenant_id: &str, id: &str) -> StoreResult<Option<String>> {
    if !is_id(id) {
        return Ok(None);
    }
    let secret = secrets::generate(SECRET_PREFIX);
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE global_agents SET secret_hash = $1, secret_rotated_at = $2, updated_at = $3 \
         WHERE id = $4 AND tenant_id = $5 AND retired_at IS NULL",
    )
    .bind(&secret.hash)
    .bind(now)
    .bind(now)
    .bind(id)
    .bind(tenant_id)
    .execute(&db.pool)
    .await?;
    Ok((done.rows_affected() == 1).then_some(secret.raw))
}

/// Retires an agent: it disappears from consent and its secret stops working (the service
/// also revokes its grants).
pub async fn retire(db: &Db, tenant_id: &str, id: &str) -> StoreResult<bool> {
    if !is_id(id) {
        return Ok(false);
    }
    let now = now_ms();
    let done = sqlx::query(
        "UPDATE global_agents SET retired_at = $1, updated_at = $2 WHERE id = $3 AND tenant_id = $4 AND retired_at IS NULL",
    )
    .bind(now)
    .bind(now)
    .bind(id)
    .bind(tenant_id)
    .execute(&db.pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Operator decision; records who made it. None if no live agent has that id.
pub async fn set_status(db: &Db, id: &str, status: AgentStatus, actor: &str) -> StoreResult<Option<Agent>> {
    if !is_id(id) {
        return Ok(None);
    }
    let now = now_ms();
    let mut tx = db.pool.begin().await?;
    // The operator decided on the profile as it is now: nothing is pending comparison any more.
    let done = sqlx::query("UPDATE global_agents SET status = $1, updated_at = $2, changes_since_review = NULL WHERE id = $3 AND retired_at IS NULL")
        .bind(status.as_str())
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    sqlx::query("INSERT INTO agent_status_events (id, agent_id, status, actor, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(new_id())
        .bind(id)
        .bind(status.as_str())
        .bind(actor)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    get(db, id).await
}

/// The live, grant-capable agent a raw secret belongs to (used by the agent API).
pub async fn authenticate_secret(db: &Db, raw: &str) -> StoreResult<Option<Agent>> {
    if !secrets::looks_like(raw, SECRET_PREFIX) {
        return Ok(None);
    }
    let hash = secrets::hash(raw);
    let sql = format!("SELECT {COLUMNS}, secret_hash FROM global_agents WHERE secret_hash = $1 AND retired_at IS NULL");
    let row = sqlx::query_as::<_, AgentRowWithHash>(&sql).bind(&hash).fetch_optional(&db.pool).await?;
    match row {
        Some(r) if secrets::hashes_equal(&r.secret_hash, &hash) => {
            let agent = Agent::try_from(r.row)?;
            Ok(agent.status.may_receive_grants().then_some(agent))
        }
        _ => Ok(None),
    }
}

#[derive(sqlx::FromRow)]
struct AgentRowWithHash {
    #[sqlx(flatten)]
    row: AgentRow,
    secret_hash: String,
}
