//! OAuth clients that registered themselves, and OAuth access and refresh tokens (stored as
//! hashes; a refresh token is replaced at each use, and one used twice ends its family).
use super::agents::{self, Agent, SELF_REGISTERED};
use super::{now_ms, Db, StoreResult};
use crate::auth::secrets;
use crate::domain::agent::AgentProfile;
use crate::domain::oauth::{ACCESS_TOKEN_MS, REFRESH_TOKEN_MS};
use crate::store::grants::Grant;

pub const ACCESS_PREFIX: &str = "mcp_at_";
pub const REFRESH_PREFIX: &str = "mcp_rt_";

/// Files a self-registered app as a pending global agent of no tenant; its `client_id` is its
/// agent id. Returns the agent (it has no usable secret: public clients prove themselves with
/// PKCE).
pub async fn register(db: &Db, profile: &AgentProfile) -> StoreResult<Agent> {
    let mut tx = db.pool.begin().await?;
    let (agent, _unused_secret) = agents::insert(&mut tx, SELF_REGISTERED, profile).await?;
    sqlx::query("INSERT INTO oauth_clients (agent_id, client_id, kind, created_at) VALUES ($1, $1, 'registered', $2)")
        .bind(&agent.id)
        .bind(agent.created_at)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(agent)
}

/// The agent behind an OAuth `client_id`, retired or not (the caller decides).
pub async fn client(db: &Db, client_id: &str) -> StoreResult<Option<Agent>> {
    if client_id.is_empty() || client_id.len() > 2048 {
        return Ok(None);
    }
    let agent_id: Option<String> = sqlx::query_scalar("SELECT agent_id FROM oauth_clients WHERE client_id = $1")
        .bind(client_id)
        .fetch_optional(&db.pool)
        .await?;
    match agent_id {
        Some(id) => agents::get(db, &id).await,
        None => Ok(None),
    }
}

/// A pair of new tokens (the only copies).
#[derive(Debug)]
pub struct Issued {
    pub access_token: String,
    pub refresh_token: String,
    pub expires_in_secs: i64,
}

/// Issues an access token and a refresh token for `grant`, for `resource` with `scope`, in the
/// family `family_id` (a new authorization starts a family; a refresh continues it).
pub async fn issue(db: &Db, grant: &Grant, family_id: &str, resource: &str, scope: &str) -> StoreResult<Issued> {
    let now = now_ms();
    let access = secrets::generate(ACCESS_PREFIX);
    let refresh = secrets::generate(REFRESH_PREFIX);
    let mut tx = db.pool.begin().await?;
    for (hash, kind, life) in [(&access.hash, "access", ACCESS_TOKEN_MS), (&refresh.hash, "refresh", REFRESH_TOKEN_MS)] {
        sqlx::query(
            "INSERT INTO oauth_tokens (token_hash, kind, family_id, grant_id, passport_id, agent_id, resource, scope, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(hash)
        .bind(kind)
        .bind(family_id)
        .bind(&grant.id)
        .bind(&grant.passport_id)
        .bind(&grant.agent_id)
        .bind(resource)
        .bind(scope)
        .bind(now)
        .bind(now + life)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(Issued { access_token: access.raw, refresh_token: refresh.raw, expires_in_secs: ACCESS_TOKEN_MS / 1000 })
}

/// What presenting a refresh token did.
#[derive(Debug, PartialEq)]
pub enum Refresh {
    /// It was live and is now used: issue the next pair in this family.
    Rotated { family_id: String, grant_id: String, resource: String, scope: String },
    /// It had been used before (by whom, nobody can tell).
    Reused { family_id: String },
    /// Unknown, expired, revoked, or another client's.
    Refused,
}

#[derive(sqlx::FromRow)]
struct RefreshRow {
    family_id: String,
    grant_id: String,
    resource: String,
    scope: String,
}

/// Uses a refresh token of `agent_id` once. Exactly one of two racing uses wins; the other
/// finds it used and is told which family it belongs to (what follows is the service's rule).
pub async fn use_refresh_token(db: &Db, raw: &str, agent_id: &str) -> StoreResult<Refresh> {
    if !secrets::looks_like(raw, REFRESH_PREFIX) {
        return Ok(Refresh::Refused);
    }
    let (hash, now) = (secrets::hash(raw), now_ms());
    let used: Option<RefreshRow> = sqlx::query_as(
        "UPDATE oauth_tokens SET used_at = $1 \
         WHERE token_hash = $2 AND kind = 'refresh' AND agent_id = $3 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1 \
         RETURNING family_id, grant_id, resource, scope",
    )
    .bind(now)
    .bind(&hash)
    .bind(agent_id)
    .fetch_optional(&db.pool)
    .await?;
    if let Some(r) = used {
        return Ok(Refresh::Rotated { family_id: r.family_id, grant_id: r.grant_id, resource: r.resource, scope: r.scope });
    }
    let family: Option<String> = sqlx::query_scalar(
        "SELECT family_id FROM oauth_tokens WHERE token_hash = $1 AND kind = 'refresh' AND agent_id = $2 AND used_at IS NOT NULL",
    )
    .bind(&hash)
    .bind(agent_id)
    .fetch_optional(&db.pool)
    .await?;
    Ok(family.map_or(Refresh::Refused, |family_id| Refresh::Reused { family_id }))
}

/// Ends every token of the family `family_id`.
pub async fn revoke_family(db: &Db, family_id: &str) -> StoreResult<()> {
    let now = now_ms();
    sqlx::query("UPDATE oauth_tokens SET revoked_at = $1 WHERE family_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(family_id)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// RFC 7009: ends the token `raw` of `agent_id`, and with a refresh token its whole family
/// (every access token it led to). Unknown tokens are no error.
pub async fn revoke(db: &Db, raw: &str, agent_id: &str) -> StoreResult<()> {
    if !secrets::looks_like(raw, ACCESS_PREFIX) && !secrets::looks_like(raw, REFRESH_PREFIX) {
        return Ok(());
    }
    let row: Option<(String, String)> = sqlx::query_as("SELECT kind, family_id FROM oauth_tokens WHERE token_hash = $1 AND agent_id = $2")
        .bind(secrets::hash(raw))
        .bind(agent_id)
        .fetch_optional(&db.pool)
        .await?;
    let now = now_ms();
    match row {
        Some((kind, family)) if kind == "refresh" => revoke_family(db, &family).await,
        Some(_) => {
            sqlx::query("UPDATE oauth_tokens SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(secrets::hash(raw))
                .execute(&db.pool)
                .await?;
            Ok(())
        }
        None => Ok(()),
    }
}

/// An app known by its metadata document URL, with when the document was last read.
pub async fn metadata_client(db: &Db, client_id: &str) -> StoreResult<Option<(Agent, i64)>> {
    let row: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT agent_id, fetched_at FROM oauth_clients WHERE client_id = $1 AND kind = 'metadata_document'")
            .bind(client_id)
            .fetch_optional(&db.pool)
            .await?;
    let Some((agent_id, fetched_at)) = row else { return Ok(None) };
    Ok(agents::get(db, &agent_id).await?.map(|a| (a, fetched_at.unwrap_or(0))))
}

/// Files an app known by its metadata document (its URL is its `client_id`) as a pending global
/// agent of no tenant. When another request filed it first, returns that one.
pub async fn register_metadata_client(db: &Db, client_id: &str, profile: &AgentProfile) -> StoreResult<Agent> {
    let mut tx = db.pool.begin().await?;
    let (agent, _unused_secret) = agents::insert(&mut tx, SELF_REGISTERED, profile).await?;
    let filed = sqlx::query("INSERT INTO oauth_clients (agent_id, client_id, kind, fetched_at, created_at) VALUES ($1, $2, 'metadata_document', $3, $3)")
        .bind(&agent.id)
        .bind(client_id)
        .bind(agent.created_at)
        .execute(&mut *tx)
        .await;
    match filed {
        Ok(_) => {
            tx.commit().await?;
            Ok(agent)
        }
        Err(e) => {
            drop(tx);
            match metadata_client(db, client_id).await? {
                Some((first, _)) => Ok(first),
                None => Err(e.into()),
            }
        }
    }
}

/// Records that an app's metadata document was read now.
pub async fn touch_metadata_client(db: &Db, agent_id: &str) -> StoreResult<()> {
    sqlx::query("UPDATE oauth_clients SET fetched_at = $1 WHERE agent_id = $2").bind(now_ms()).bind(agent_id).execute(&db.pool).await?;
    Ok(())
}
