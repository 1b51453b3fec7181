//! Global agents for tenants and operators: validation, then storage, with "not yours" and
//! "does not exist" indistinguishable.
use crate::domain::agent::{review_after_edit, AgentDraft, AgentStatus};
use crate::error::{AppError, AppResult};
use crate::store::agents;
pub use crate::store::agents::Agent;
use crate::store::Db;

/// Live agents per tenant.
pub const MAX_AGENTS_PER_TENANT: usize = 100;

pub async fn create(db: &Db, tenant_id: &str, draft: &AgentDraft) -> AppResult<(Agent, String)> {
    let profile = draft.validate().map_err(AppError::Validation)?;
    let live = agents::list_for_tenant(db, tenant_id).await?.iter().filter(|a| a.retired_at.is_none()).count();
    if live >= MAX_AGENTS_PER_TENANT {
        return Err(AppError::Conflict(format!(
            "You already have {MAX_AGENTS_PER_TENANT} agents. Retire one you no longer use first."
        )));
    }
    Ok(agents::create(db, tenant_id, &profile).await?)
}

/// Edits an agent. A verified agent whose name, description, website, logo, redirect URIs or
/// requested access change goes back to pending review (`domain::agent::review_after_edit`):
/// the Verified badge vouches for what the operator saw, not for what came after.
pub async fn update(db: &Db, tenant_id: &str, id: &str, draft: &AgentDraft) -> AppResult<Agent> {
    let profile = draft.validate().map_err(AppError::Validation)?;
    let decide = |current: &Agent| {
        let (status, changes_since_review) =
            review_after_edit(current.status, &current.changes_since_review, &current.profile, &profile);
        agents::Edit { profile: profile.clone(), status, changes_since_review }
    };
    agents::update(db, tenant_id, id, decide).await?.ok_or(AppError::NotFound)
}

pub async fn rotate_secret(db: &Db, tenant_id: &str, id: &str) -> AppResult<String> {
    agents::rotate_secret(db, tenant_id, id).await?.ok_or(AppError::NotFound)
}

/// Retires an agent and revokes every grant people gave it (its tokens die with them).
pub async fn retire(db: &Db, tenant_id: &str, id: &str) -> AppResult<()> {
    if agents::retire(db, tenant_id, id).await? {
        crate::store::grants::revoke_all_for_agent(db, id).await?;
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The tenant's agents, newest first, retired ones last.
pub async fn list_for_tenant(db: &Db, tenant_id: &str) -> AppResult<Vec<Agent>> {
    Ok(agents::list_for_tenant(db, tenant_id).await?)
}

/// Every live agent, pending first, for the operator (one query), with who registered it: its tenant's email, or, for an app that registered
/// itself over OAuth (an MCP client), a sentence saying so.
pub async fn review_queue(db: &Db) -> AppResult<Vec<(Agent, String)>> {
    let all = agents::list_all_with_owner(db).await?;
    Ok(all
        .into_iter()
        .map(|(a, email)| {
            let owner = if a.is_self_registered() { "Nobody: it registered itself over OAuth (MCP)".to_string() } else { email };
            (a, owner)
        })
        .collect())
}

/// The live, grant-capable agent a raw `agent_sk_` secret belongs to.
pub async fn authenticate_secret(db: &Db, raw: &str) -> AppResult<Option<Agent>> {
    Ok(agents::authenticate_secret(db, raw).await?)
}

pub async fn get_for_tenant(db: &Db, tenant_id: &str, id: &str) -> AppResult<Agent> {
    agents::get_for_tenant(db, tenant_id, id).await?.ok_or(AppError::NotFound)
}

/// The public profile source: live agents only.
pub async fn get_public(db: &Db, id: &str) -> AppResult<Agent> {
    agents::get(db, id).await?.filter(|a| a.retired_at.is_none()).ok_or(AppError::NotFound)
}

pub async fn review(db: &Db, id: &str, status: AgentStatus, actor: &str) -> AppResult<Agent> {
    agents::set_status(db, id, status, actor).await?.ok_or(AppError::NotFound)
}
