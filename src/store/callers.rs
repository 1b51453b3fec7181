//! Who is calling `/v1/universal/*` (a `uui_` token) or `/mcp` (an OAuth access token): one
//! indexed read that joins the token to its grant, its agent and the person's memory revision,
//! so each agent request costs one query.
use super::{Db, StoreResult};
use crate::auth::secrets;
use crate::store::grants::TOKEN_PREFIX;

/// Everything the universal API decides on, for a token that exists.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct CallerRow {
    pub token_revoked_at: Option<i64>,
    pub agent_id: String,
    pub passport_id: String,
    pub grant_id: String,
    pub categories: String,
    pub access_type: String,
    pub expires_at: Option<i64>,
    pub grant_revoked_at: Option<i64>,
    pub agent_secret_hash: String,
    pub agent_status: String,
    pub agent_retired_at: Option<i64>,
    pub memory_rev: i64,
}

/// The row behind a raw `uui_` token, if it has our shape and exists (revoked or not: a
/// revoked grant must look like any other missing grant, not like a bad credential).
pub async fn by_token(db: &Db, raw_token: &str) -> StoreResult<Option<CallerRow>> {
    if !secrets::looks_like(raw_token, TOKEN_PREFIX) {
        return Ok(None);
    }
    Ok(sqlx::query_as::<_, CallerRow>(
        "SELECT t.revoked_at AS token_revoked_at, t.agent_id, t.passport_id, g.id AS grant_id, g.categories, \
                g.access_type, g.expires_at, g.revoked_at AS grant_revoked_at, a.secret_hash AS agent_secret_hash, \
                a.status AS agent_status, a.retired_at AS agent_retired_at, p.memory_rev \
         FROM uui_tokens t \
         JOIN grants g ON g.id = t.grant_id \
         JOIN global_agents a ON a.id = t.agent_id \
         JOIN passports p ON p.id = t.passport_id \
         WHERE t.token_hash = $1",
    )
    .bind(secrets::hash(raw_token))
    .fetch_optional(&db.pool)
    .await?)
}

/// Everything an MCP call decides on, for an OAuth access token that exists.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct BearerRow {
    #[sqlx(flatten)]
    pub caller: CallerRow,
    pub resource: String,
    pub scope: String,
    pub token_expires_at: i64,
}

/// The row behind a raw OAuth access token, if it has our shape and exists (revoked or not).
pub async fn by_access_token(db: &Db, raw_token: &str) -> StoreResult<Option<BearerRow>> {
    use crate::store::oauth::ACCESS_PREFIX;
    if !secrets::looks_like(raw_token, ACCESS_PREFIX) {
        return Ok(None);
    }
    Ok(sqlx::query_as::<_, BearerRow>(
        "SELECT t.revoked_at AS token_revoked_at, t.agent_id, t.passport_id, g.id AS grant_id, g.categories, \
                g.access_type, g.expires_at, g.revoked_at AS grant_revoked_at, '' AS agent_secret_hash, \
                a.status AS agent_status, a.retired_at AS agent_retired_at, p.memory_rev, \
                t.resource, t.scope, t.expires_at AS token_expires_at \
         FROM oauth_tokens t \
         JOIN grants g ON g.id = t.grant_id \
         JOIN global_agents a ON a.id = t.agent_id \
         JOIN passports p ON p.id = t.passport_id \
         WHERE t.token_hash = $1 AND t.kind = 'access'",
    )
    .bind(secrets::hash(raw_token))
    .fetch_optional(&db.pool)
    .await?)
}
