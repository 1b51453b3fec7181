//! A person's own Passport: the apps with access, what is remembered, the open questions,
//! export and deletion. The manage page's server functions and `/v1/uui/me/*` both call
//! these, with the Passport of the signed-in person.
use crate::auth::server_key::ServerKey;
use crate::domain::agent::AccessType;
use crate::domain::categories::{self, Category};
use crate::domain::grant::{self, GrantDuration};
use crate::domain::time::rfc3339;
use crate::error::{AppError, AppResult};
use crate::model::{ConflictAnswer, ConflictQuestion, Flag, GrantCard, HistoryEntry, ManageOverview, MemoryFilter, MemoryPage, MemoryVersion, PublicAgent};
use crate::service::universal::Universal;
use crate::store::passports::Passport;
use crate::store::{agents, grants, memories, now_ms, passports, Db};
use serde_json::json;

/// Longest memory a person may write when correcting one.
pub const MAX_MEMORY_CHARS: usize = 1_000;
/// Longest search text.
pub const MAX_SEARCH_CHARS: usize = 200;
/// History entries shown.
pub const HISTORY_LIMIT: i64 = 200;
/// Open questions shown at a time on the manage page ("Show more" loads the next ones).
pub const QUESTIONS_PAGE: i64 = 20;
/// The most questions one call of the person's API returns.
pub const MAX_QUESTIONS_PER_CALL: i64 = 100;
/// What a person types to confirm deleting their Passport.
pub const DELETE_CONFIRMATION: &str = "DELETE";

async fn cards(db: &Db, passport_id: &str) -> AppResult<Vec<GrantCard>> {
    let now = now_ms();
    let mut out = Vec::new();
    for g in grants::list_for_passport(db, passport_id).await? {
        let Some(agent) = agents::get(db, &g.agent_id).await? else { continue };
        out.push(GrantCard {
            active: g.is_active(now) && agent.retired_at.is_none(),
            agent: PublicAgent::from(&agent),
            agent_retired: agent.retired_at.is_some(),
            id: g.id,
            categories: g.categories,
            access: g.access_type,
            duration: g.duration,
            expires_at: g.expires_at,
            revoked_at: g.revoked_at,
            last_used_at: g.last_used_at,
            created_at: g.created_at,
        });
    }
    Ok(out)
}

/// The apps section: every grant as a card, and the newest history entries.
pub async fn apps(db: &Db, passport: &Passport) -> AppResult<(Vec<GrantCard>, Vec<HistoryEntry>)> {
    let history = grants::history_for_passport(db, &passport.id, HISTORY_LIMIT)
        .await?
        .into_iter()
        .map(|e| HistoryEntry { kind: e.kind, agent_name: e.agent_name, categories: e.categories, access: e.access_type, at: e.created_at })
        .collect();
    Ok((cards(db, &passport.id).await?, history))
}

pub async fn overview(db: &Db, passport: &Passport) -> AppResult<ManageOverview> {
    let (grants, history) = apps(db, passport).await?;
    Ok(ManageOverview {
        email: passport.email.clone(),
        grants,
        history,
        questions: memories::open_questions(db, &passport.id, QUESTIONS_PAGE, 0).await?,
        questions_total: memories::count_open_questions(db, &passport.id).await?,
        memory_count: memories::count_for_person(db, &passport.id).await?,
    })
}

/// Open questions from `offset` on, at most `limit` (1 to `MAX_QUESTIONS_PER_CALL`), and how
/// many are open in all.
pub async fn questions(db: &Db, passport: &Passport, limit: i64, offset: i64) -> AppResult<(Vec<ConflictQuestion>, i64)> {
    if !(1..=MAX_QUESTIONS_PER_CALL).contains(&limit) {
        return Err(AppError::invalid("limit", format!("limit must be 1 to {MAX_QUESTIONS_PER_CALL}.")));
    }
    if offset < 0 {
        return Err(AppError::invalid("offset", "offset must be 0 or more."));
    }
    let items = memories::open_questions(db, &passport.id, limit, offset).await?;
    Ok((items, memories::count_open_questions(db, &passport.id).await?))
}

/// The category of one of the person's memories; not found for anyone else's.
pub async fn memory_category(db: &Db, passport: &Passport, memory_id: &str) -> AppResult<Category> {
    memories::category_of(db, &passport.id, memory_id).await?.ok_or(AppError::NotFound)
}

pub async fn grant_cards(db: &Db, passport: &Passport) -> AppResult<Vec<GrantCard>> {
    cards(db, &passport.id).await
}

/// Changes a live grant: at least one category, access lowered or kept (never raised: that
/// takes a new consent from the app), and a new duration from now.
pub async fn update_grant(
    db: &Db,
    passport: &Passport,
    grant_id: &str,
    chosen: &[Category],
    access: AccessType,
    duration: GrantDuration,
) -> AppResult<GrantCard> {
    let current = grants::get(db, grant_id)
        .await?
        .filter(|g| g.passport_id == passport.id && grant::in_force(g.revoked_at, g.expires_at, now_ms()))
        .ok_or(AppError::NotFound)?;
    let cats = grant::approved_categories(chosen).map_err(|m| AppError::invalid("categories", m))?;
    let access = grant::granted_access(current.access_type, access).map_err(|m| AppError::invalid("access", m))?;
    let updated = grants::update_by_person(db, &passport.id, grant_id, current.updated_at, &cats, access, duration).await?.ok_or(AppError::NotFound)?;
    cards(db, &passport.id).await?.into_iter().find(|c| c.id == updated.id).ok_or(AppError::NotFound)
}

pub async fn revoke_grant(db: &Db, passport: &Passport, grant_id: &str) -> AppResult<()> {
    grants::revoke(db, &passport.id, grant_id).await?.then_some(()).ok_or(AppError::NotFound)
}

/// Memories on one page of the manage page (and of `/v1/uui/me/memories`).
pub const PAGE_SIZE: u32 = 50;

pub async fn memory_page(db: &Db, passport: &Passport, filter: &MemoryFilter) -> AppResult<MemoryPage> {
    if filter.search.chars().count() > MAX_SEARCH_CHARS {
        return Err(AppError::invalid("search", format!("Search for at most {MAX_SEARCH_CHARS} characters.")));
    }
    // No memory holds a control character; PostgreSQL refuses NUL in any text parameter.
    if filter.search.chars().any(char::is_control) {
        return Err(AppError::invalid("search", "Search for words without control characters."));
    }
    let mut filter = filter.clone();
    filter.agent_id = filter.agent_id.filter(|a| crate::store::is_id(a));
    Ok(memories::page_for_person(db, &passport.id, &filter, PAGE_SIZE).await?)
}

/// A memory's new wording, tidied, or the sentence saying what is wrong with it.
pub fn check_memory_text(raw: &str) -> AppResult<String> {
    let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return Err(AppError::invalid("content", "Write what should be remembered, or delete the memory instead."));
    }
    if text.chars().count() > MAX_MEMORY_CHARS {
        return Err(AppError::invalid("content", format!("A memory can be at most {MAX_MEMORY_CHARS} characters.")));
    }
    if text.chars().any(char::is_control) {
        return Err(AppError::invalid("content", "The text contains characters we can't store."));
    }
    Ok(text)
}

pub async fn correct_memory(db: &Db, passport: &Passport, memory_id: &str, content: &str, category: Category) -> AppResult<()> {
    let text = check_memory_text(content)?;
    memories::correct(db, &passport.id, memory_id, &text, category).await?.then_some(()).ok_or(AppError::NotFound)
}

pub async fn flag_memory(db: &Db, passport: &Passport, memory_id: &str, flag: Option<Flag>) -> AppResult<()> {
    memories::set_flag(db, &passport.id, memory_id, flag).await?.then_some(()).ok_or(AppError::NotFound)
}

pub async fn delete_memory(db: &Db, passport: &Passport, memory_id: &str) -> AppResult<()> {
    memories::delete(db, &passport.id, memory_id).await?.then_some(()).ok_or(AppError::NotFound)
}

pub async fn memory_versions(db: &Db, passport: &Passport, memory_id: &str) -> AppResult<Vec<MemoryVersion>> {
    memories::versions(db, &passport.id, memory_id).await?.ok_or(AppError::NotFound)
}

pub async fn answer_question(db: &Db, passport: &Passport, conflict_id: &str, answer: ConflictAnswer) -> AppResult<()> {
    memories::answer_question(db, &passport.id, conflict_id, answer).await?.then_some(()).ok_or(AppError::NotFound)
}

/// Everything stored about the person, as one JSON document.
pub async fn export(db: &Db, passport: &Passport) -> AppResult<serde_json::Value> {
    let grants: Vec<serde_json::Value> = cards(db, &passport.id)
        .await?
        .into_iter()
        .map(|g| {
            json!({
                "id": g.id, "app": g.agent.name, "app_id": g.agent.id, "app_website": g.agent.website_url,
                "categories": categories::to_names(&g.categories), "access": g.access.as_str(), "duration": g.duration.as_str(),
                "granted_at": rfc3339(g.created_at), "expires_at": g.expires_at.map(rfc3339),
                "revoked_at": g.revoked_at.map(rfc3339), "last_used_at": g.last_used_at.map(rfc3339), "active": g.active,
            })
        })
        .collect();
    let history: Vec<serde_json::Value> = grants::history_for_passport(db, &passport.id, i64::MAX)
        .await?
        .into_iter()
        .map(|e| json!({ "event": e.kind, "app": e.agent_name, "categories": categories::to_names(&e.categories), "access": e.access_type.as_str(), "at": rfc3339(e.created_at) }))
        .collect();
    let mut mems = Vec::new();
    let mut all_versions = memories::versions_for_person(db, &passport.id).await?;
    for m in memories::all_for_person(db, &passport.id).await? {
        let versions: Vec<serde_json::Value> = all_versions
            .remove(&m.id)
            .unwrap_or_default()
            .into_iter()
            .map(|v| json!({ "content": v.content, "category": v.category.as_str(), "replaced_at": rfc3339(v.replaced_at) }))
            .collect();
        mems.push(json!({
            "id": m.id, "category": m.category.as_str(), "content": m.content, "importance": m.importance,
            "source_app": m.source, "flag": m.flag.map(|f| f.as_str()), "created_at": rfc3339(m.created_at),
            "updated_at": rfc3339(m.updated_at), "last_accessed": m.last_accessed.map(rfc3339), "access_count": m.access_count,
            "versions": versions, "source_text": m.source_text, "source_turn_id": m.source_turn_id,
            "said_at": m.said_at.map(rfc3339), "happened_from": m.happened_from, "happened_to": m.happened_to,
        }));
    }
    // Bounded: at most `MAX_OPEN_QUESTIONS_PER_PERSON` are ever open.
    let questions: Vec<serde_json::Value> = memories::open_questions(db, &passport.id, crate::domain::plan::MAX_OPEN_QUESTIONS_PER_PERSON, 0)
        .await?
        .into_iter()
        .map(|q| json!({ "id": q.id, "category": q.category.as_str(), "remembered": q.current, "new_statement": q.candidate, "source_app": q.source, "asked_at": rfc3339(q.created_at) }))
        .collect();
    let pending_jobs = crate::store::jobs::waiting_for_person(db, &passport.id).await?;
    let pending: Vec<serde_json::Value> = pending_jobs
        .into_iter()
        .map(|(id, status, payload, at)| {
            json!({ "id": id, "status": status, "conversation": serde_json::from_str::<serde_json::Value>(&payload).unwrap_or_default(), "received_at": rfc3339(at) })
        })
        .collect();
    Ok(json!({
        "format": "memory-passport-export/1",
        "exported_at": rfc3339(now_ms()),
        "passport": { "email": passport.email, "created_at": rfc3339(passport.created_at) },
        "apps": grants,
        "history": history,
        "memories": mems,
        "open_questions": questions,
        "conversations_waiting_to_be_read": pending,
    }))
}

/// Deletes the whole Passport after the person typed DELETE: every row of theirs, and their
/// memories in this node's cache. Other nodes see the Passport gone on the next request.
pub async fn delete_passport(db: &Db, key: &ServerKey, universal: &Universal, passport: &Passport, confirmation: &str) -> AppResult<()> {
    if confirmation.trim() != DELETE_CONFIRMATION {
        return Err(AppError::invalid("confirm", "Type DELETE in capital letters to confirm."));
    }
    let (email_key, buckets) = crate::service::otp::state_of(key, &passport.email);
    if !passports::delete_everything(db, &passport.id, &buckets, &email_key).await? {
        return Err(AppError::NotFound);
    }
    universal.corpora.forget(&passport.id);
    Ok(())
}
