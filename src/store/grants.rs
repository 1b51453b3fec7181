//! Grants (one per person and agent), their history, exchange codes and pairwise tokens.
use super::{is_id, new_id, now_ms, Db, StoreError, StoreResult};
use crate::auth::secrets;
use crate::domain::agent::AccessType;
use crate::domain::categories::{self, Category};
use crate::domain::grant::GrantDuration;

pub const EXCHANGE_CODE_PREFIX: &str = "mpc_";
pub const TOKEN_PREFIX: &str = "uui_";
/// Exchange codes live this long: the agent's backend redeems them right after the redirect.
pub const EXCHANGE_CODE_TTL_MS: i64 = 5 * 60 * 1000;

#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    pub id: String,
    pub passport_id: String,
    pub agent_id: String,
    pub categories: Vec<Category>,
    pub access_type: AccessType,
    pub duration: GrantDuration,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_used_at: Option<i64>,
}

impl Grant {
    /// Not revoked and not past its end.
    pub fn is_active(&self, now: i64) -> bool {
        crate::domain::grant::in_force(self.revoked_at, self.expires_at, now)
    }
}

#[derive(sqlx::FromRow)]
struct GrantRow {
    id: String,
    passport_id: String,
    agent_id: String,
    categories: String,
    access_type: String,
    duration: String,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
    last_used_at: Option<i64>,
}

const COLUMNS: &str = "id, passport_id, agent_id, categories, access_type, duration, expires_at, revoked_at, \
                       created_at, updated_at, last_used_at";

impl TryFrom<GrantRow> for Grant {
    type Error = StoreError;
    fn try_from(r: GrantRow) -> Result<Grant, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("grant {}: {what}", r.id));
        let names: Vec<String> = serde_json::from_str(&r.categories).map_err(|_| corrupt("categories"))?;
        Ok(Grant {
            categories: categories::parse_list(&names).map_err(|_| corrupt("categories"))?,
            access_type: AccessType::parse(&r.access_type).ok_or_else(|| corrupt("access"))?,
            duration: GrantDuration::parse(&r.duration).ok_or_else(|| corrupt("duration"))?,
            id: r.id,
            passport_id: r.passport_id,
            agent_id: r.agent_id,
            expires_at: r.expires_at,
            revoked_at: r.revoked_at,
            created_at: r.created_at,
            updated_at: r.updated_at,
            last_used_at: r.last_used_at,
        })
    }
}

fn names_json(cats: &[Category]) -> String {
    serde_json::to_string(&categories::to_names(cats)).expect("names serialise")
}

pub async fn get(db: &Db, id: &str) -> StoreResult<Option<Grant>> {
    if !is_id(id) {
        return Ok(None);
    }
    let sql = format!("SELECT {COLUMNS} FROM grants WHERE id = $1");
    sqlx::query_as::<_, GrantRow>(&sql).bind(id).fetch_optional(&db.pool).await?.map(Grant::try_from).transpose()
}

pub async fn find(db: &Db, passport_id: &str, agent_id: &str) -> StoreResult<Option<Grant>> {
    let sql = format!("SELECT {COLUMNS} FROM grants WHERE passport_id = $1 AND agent_id = $2");
    sqlx::query_as::<_, GrantRow>(&sql)
        .bind(passport_id)
        .bind(agent_id)
        .fetch_optional(&db.pool)
        .await?
        .map(Grant::try_from)
        .transpose()
}

/// What a person approved, to store as the one grant for that agent.
pub struct Approval<'a> {
    pub passport_id: &'a str,
    pub agent_id: &'a str,
    pub categories: &'a [Category],
    pub access_type: AccessType,
    pub duration: GrantDuration,
}

/// Creates the grant, or updates (and revives) the existing one; records the event. Reviving
/// a revoked or expired grant first ends every token and pending code it had, so nothing
/// issued before comes back to life. Returns the grant and whether it was new.
pub async fn upsert(db: &Db, a: &Approval<'_>) -> StoreResult<(Grant, bool)> {
    let now = now_ms();
    let expires_at = a.duration.expires_at(now);
    let mut tx = db.pool.begin().await?;
    // Write first: the person's row is locked (PostgreSQL) and SQLite's write lock taken before
    // anything is read, so concurrent approvals queue instead of failing on a stale snapshot.
    sqlx::query("UPDATE passports SET memory_rev = memory_rev WHERE id = $1").bind(a.passport_id).execute(&mut *tx).await?;
    let sql = format!("SELECT {COLUMNS} FROM grants WHERE passport_id = $1 AND agent_id = $2");
    let existing = sqlx::query_as::<_, GrantRow>(&sql)
        .bind(a.passport_id)
        .bind(a.agent_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(Grant::try_from)
        .transpose()?;
    if let Some(old) = existing.as_ref().filter(|g| !g.is_active(now)) {
        end_credentials(&mut tx, "grant_id", &old.id, now).await?;
    }
    let sql = format!(
        "INSERT INTO grants (id, passport_id, agent_id, categories, access_type, duration, expires_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
         ON CONFLICT (passport_id, agent_id) DO UPDATE SET categories = $4, access_type = $5, duration = $6, \
         expires_at = $7, revoked_at = NULL, updated_at = $8 RETURNING {COLUMNS}"
    );
    let grant = Grant::try_from(
        sqlx::query_as::<_, GrantRow>(&sql)
            .bind(new_id())
            .bind(a.passport_id)
            .bind(a.agent_id)
            .bind(names_json(a.categories))
            .bind(a.access_type.as_str())
            .bind(a.duration.as_str())
            .bind(expires_at)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?,
    )?;
    let kind = if existing.is_some() { "updated" } else { "granted" };
    insert_event(&mut tx, a.passport_id, a.agent_id, kind, a.categories, a.access_type, expires_at, now).await?;
    tx.commit().await?;
    Ok((grant, existing.is_none()))
}

/// Ends the tokens (pairwise and OAuth) and unused exchange codes of one grant (`column` = "grant_id") or of every
/// grant of an agent (`column` = "agent_id").
async fn end_credentials(tx: &mut sqlx::Transaction<'_, sqlx::Any>, column: &str, id: &str, now: i64) -> StoreResult<()> {
    let column = if column == "agent_id" { "agent_id" } else { "grant_id" };
    sqlx::query(&format!("UPDATE uui_tokens SET revoked_at = $1 WHERE {column} = $2 AND revoked_at IS NULL"))
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(&format!("UPDATE exchange_codes SET used_at = $1 WHERE {column} = $2 AND used_at IS NULL"))
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(&format!("UPDATE oauth_tokens SET revoked_at = $1 WHERE {column} = $2 AND revoked_at IS NULL"))
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Records that the person said no to an agent.
pub async fn record_denial(db: &Db, passport_id: &str, agent_id: &str) -> StoreResult<()> {
    let mut tx = db.pool.begin().await?;
    insert_event(&mut tx, passport_id, agent_id, "denied", &[], AccessType::ReadOnly, None, now_ms()).await?;
    tx.commit().await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert_event(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    passport_id: &str,
    agent_id: &str,
    kind: &str,
    cats: &[Category],
    access: AccessType,
    expires_at: Option<i64>,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO grant_events (id, passport_id, agent_id, kind, categories, access_type, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(passport_id)
    .bind(agent_id)
    .bind(kind)
    .bind(names_json(cats))
    .bind(access.as_str())
    .bind(expires_at)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The kinds of a person's grant events with one agent, oldest first.
pub async fn event_kinds(db: &Db, passport_id: &str, agent_id: &str) -> StoreResult<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT kind FROM grant_events WHERE passport_id = $1 AND agent_id = $2 ORDER BY created_at, id",
    )
    .bind(passport_id)
    .bind(agent_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().map(|(k,)| k).collect())
}

/// Revokes one of a person's grants, with its tokens and unused codes, and records it in
/// their history. False when the person has no such live grant.
pub async fn revoke(db: &Db, passport_id: &str, grant_id: &str) -> StoreResult<bool> {
    if !is_id(grant_id) {
        return Ok(false);
    }
    let now = now_ms();
    let mut tx = db.pool.begin().await?;
    let sql = format!(
        "UPDATE grants SET revoked_at = $1, updated_at = $1 WHERE id = $2 AND passport_id = $3 AND revoked_at IS NULL \
         RETURNING {COLUMNS}"
    );
    let row = sqlx::query_as::<_, GrantRow>(&sql).bind(now).bind(grant_id).bind(passport_id).fetch_optional(&mut *tx).await?;
    let Some(grant) = row.map(Grant::try_from).transpose()? else {
        return Ok(false);
    };
    end_credentials(&mut tx, "grant_id", grant_id, now).await?;
    insert_event(&mut tx, passport_id, &grant.agent_id, "revoked", &grant.categories, grant.access_type, grant.expires_at, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Revokes every live grant of an agent (when it is retired), with their tokens and codes.
pub async fn revoke_all_for_agent(db: &Db, agent_id: &str) -> StoreResult<u64> {
    let now = now_ms();
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query("UPDATE grants SET revoked_at = $1, updated_at = $1 WHERE agent_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(agent_id)
        .execute(&mut *tx)
        .await?;
    end_credentials(&mut tx, "agent_id", agent_id, now).await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// What an OAuth code is for (codes of the REST hand-off have none).
#[derive(Clone, Copy, Debug)]
pub struct OAuthBinding<'a> {
    pub resource: &'a str,
    pub scope: &'a str,
}

/// A single-use code for the agent's backend, or for an OAuth client when `oauth` says what it
/// is for; returns the raw code (only copy).
pub async fn create_exchange_code(
    db: &Db,
    grant: &Grant,
    redirect_uri: &str,
    code_challenge: Option<&str>,
    link_token: Option<&str>,
    oauth: Option<OAuthBinding<'_>>,
) -> StoreResult<String> {
    let secret = secrets::generate(EXCHANGE_CODE_PREFIX);
    sqlx::query(
        "INSERT INTO exchange_codes (code_hash, grant_id, agent_id, redirect_uri, code_challenge, expires_at, link_token, resource, scope) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&secret.hash)
    .bind(&grant.id)
    .bind(&grant.agent_id)
    .bind(redirect_uri)
    .bind(code_challenge)
    .bind(now_ms() + EXCHANGE_CODE_TTL_MS)
    .bind(link_token)
    .bind(oauth.map(|o| o.resource))
    .bind(oauth.map(|o| o.scope))
    .execute(&db.pool)
    .await?;
    Ok(secret.raw)
}

/// What a redeemed code was bound to.
#[derive(Debug, sqlx::FromRow)]
pub struct RedeemedCode {
    pub grant_id: String,
    pub code_challenge: Option<String>,
    pub link_token: Option<String>,
    /// OAuth codes: the scopes approved.
    pub scope: Option<String>,
}

/// Marks a live, unused code made for this agent, redirect URI and resource (`""`: a REST
/// hand-off code, which has none) used, and returns what it is bound to; None otherwise (so
/// nobody else can burn it). Exactly one caller wins a race.
pub async fn redeem_exchange_code(db: &Db, raw: &str, agent_id: &str, redirect_uri: &str, resource: &str) -> StoreResult<Option<RedeemedCode>> {
    if !secrets::looks_like(raw, EXCHANGE_CODE_PREFIX) {
        return Ok(None);
    }
    let now = now_ms();
    Ok(sqlx::query_as::<_, RedeemedCode>(
        "UPDATE exchange_codes SET used_at = $1 \
         WHERE code_hash = $2 AND agent_id = $3 AND redirect_uri = $4 AND COALESCE(resource, '') = $5 \
           AND used_at IS NULL AND expires_at > $1 \
         RETURNING grant_id, code_challenge, link_token, scope",
    )
    .bind(now)
    .bind(secrets::hash(raw))
    .bind(agent_id)
    .bind(redirect_uri)
    .bind(resource)
    .fetch_optional(&db.pool)
    .await?)
}

/// Whether `raw` is a code of `agent_id` that was redeemed already.
pub async fn exchange_code_was_used(db: &Db, raw: &str, agent_id: &str) -> StoreResult<bool> {
    if !secrets::looks_like(raw, EXCHANGE_CODE_PREFIX) {
        return Ok(false);
    }
    let used: Option<i64> = sqlx::query_scalar("SELECT used_at FROM exchange_codes WHERE code_hash = $1 AND agent_id = $2 AND used_at IS NOT NULL")
        .bind(secrets::hash(raw))
        .bind(agent_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(used.is_some())
}

/// Issues a pairwise `uui_…` token for the grant's (person, agent); returns the only copy.
pub async fn issue_token(db: &Db, grant: &Grant) -> StoreResult<String> {
    let secret = secrets::generate(TOKEN_PREFIX);
    sqlx::query(
        "INSERT INTO uui_tokens (token_hash, grant_id, passport_id, agent_id, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&secret.hash)
    .bind(&grant.id)
    .bind(&grant.passport_id)
    .bind(&grant.agent_id)
    .bind(now_ms())
    .execute(&db.pool)
    .await?;
    Ok(secret.raw)
}

/// The grant behind a token, if the token is live and belongs to `agent_id`. Whether the
/// grant is still active is the caller's question (answers must not differ by cause).
pub async fn grant_for_token(db: &Db, raw: &str, agent_id: &str) -> StoreResult<Option<Grant>> {
    if !secrets::looks_like(raw, TOKEN_PREFIX) {
        return Ok(None);
    }
    let hash = secrets::hash(raw);
    let row: Option<(String, String, String)> = sqlx::query_as(
        "SELECT token_hash, grant_id, agent_id FROM uui_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(&hash)
    .fetch_optional(&db.pool)
    .await?;
    match row {
        Some((stored, grant_id, owner)) if secrets::hashes_equal(&stored, &hash) && owner == agent_id => get(db, &grant_id).await,
        _ => Ok(None),
    }
}

/// Every grant a person has given, oldest first (live or not).
pub async fn list_for_passport(db: &Db, passport_id: &str) -> StoreResult<Vec<Grant>> {
    let sql = format!("SELECT {COLUMNS} FROM grants WHERE passport_id = $1 ORDER BY created_at, id");
    sqlx::query_as::<_, GrantRow>(&sql).bind(passport_id).fetch_all(&db.pool).await?.into_iter().map(Grant::try_from).collect()
}

/// One event of a person's history with the agent's name.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub kind: String,
    pub agent_name: String,
    pub categories: Vec<Category>,
    pub access_type: AccessType,
    pub created_at: i64,
}

/// A person's grant history, newest first (at most `limit` events).
pub async fn history_for_passport(db: &Db, passport_id: &str, limit: i64) -> StoreResult<Vec<Event>> {
    let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
        "SELECT e.kind, a.name, e.categories, e.access_type, e.created_at FROM grant_events e \
         JOIN global_agents a ON a.id = e.agent_id WHERE e.passport_id = $1 ORDER BY e.created_at DESC, e.id LIMIT $2",
    )
    .bind(passport_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(kind, agent_name, cats, access, created_at)| Event {
            kind,
            agent_name,
            categories: serde_json::from_str::<Vec<String>>(&cats).ok().and_then(|n| categories::parse_list(&n).ok()).unwrap_or_default(),
            access_type: AccessType::parse(&access).unwrap_or(AccessType::ReadOnly),
            created_at,
        })
        .collect())
}

/// Changes a person's grant to these categories, access and duration counted from now, if it
/// is still as the caller read it (`seen_updated_at`: no revocation or other change came in
/// between; whether it may be changed at all is the caller's rule). Returns the updated grant,
/// or `None` when there is no such grant as read.
pub async fn update_by_person(
    db: &Db,
    passport_id: &str,
    grant_id: &str,
    seen_updated_at: i64,
    cats: &[Category],
    access: AccessType,
    duration: GrantDuration,
) -> StoreResult<Option<Grant>> {
    if !is_id(grant_id) {
        return Ok(None);
    }
    let now = now_ms();
    let expires_at = duration.expires_at(now);
    let mut tx = db.pool.begin().await?;
    let sql = format!(
        "UPDATE grants SET categories = $1, access_type = $2, duration = $3, expires_at = $4, updated_at = $5 \
         WHERE id = $6 AND passport_id = $7 AND updated_at = $8 RETURNING {COLUMNS}"
    );
    let row = sqlx::query_as::<_, GrantRow>(&sql)
        .bind(names_json(cats))
        .bind(access.as_str())
        .bind(duration.as_str())
        .bind(expires_at)
        .bind(now)
        .bind(grant_id)
        .bind(passport_id)
        .bind(seen_updated_at)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(grant) = row.map(Grant::try_from).transpose()? else { return Ok(None) };
    insert_event(&mut tx, passport_id, &grant.agent_id, "updated", cats, access, expires_at, now).await?;
    tx.commit().await?;
    Ok(Some(grant))
}

/// As `writable_categories`, read in a short transaction of its own rather than the caller's:
/// what a worker checks before the commit checks it again.
pub async fn writable_categories_now(db: &Db, passport_id: &str, agent_id: &str, now: i64) -> StoreResult<Option<Vec<Category>>> {
    let mut tx = db.pool.begin().await?;
    let granted = writable_categories(&mut tx, passport_id, agent_id, now).await?;
    tx.commit().await?;
    Ok(granted)
}

/// The categories `agent_id` may write for a person right now (a live, read-write grant of
/// a live agent), read inside the caller's transaction so a revocation that commits first is
/// seen.
pub async fn writable_categories(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    passport_id: &str,
    agent_id: &str,
    now: i64,
) -> StoreResult<Option<Vec<Category>>> {
    let row: Option<(String, String, Option<i64>, Option<i64>, String, Option<i64>)> = sqlx::query_as(
        "SELECT g.categories, g.access_type, g.expires_at, g.revoked_at, a.status, a.retired_at \
         FROM grants g JOIN global_agents a ON a.id = g.agent_id WHERE g.passport_id = $1 AND g.agent_id = $2",
    )
    .bind(passport_id)
    .bind(agent_id)
    .fetch_optional(&mut **tx)
    .await?;
    let Some((cats, access, expires_at, revoked_at, status, retired_at)) = row else { return Ok(None) };
    let live = crate::domain::grant::in_force(revoked_at, expires_at, now)
        && crate::domain::agent::AgentStatus::parse(&status).is_some_and(|s| s.is_live(retired_at))
        && access == AccessType::ReadWrite.as_str();
    if !live {
        return Ok(None);
    }
    let names: Vec<String> = serde_json::from_str(&cats).map_err(|_| StoreError::Corrupt("grant categories".into()))?;
    Ok(Some(categories::parse_list(&names).map_err(|_| StoreError::Corrupt("grant categories".into()))?))
}
