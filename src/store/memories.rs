//! A person's memories: what agents are served, what extraction adds (with de-duplication
//! and conflict questions), and the batched record of use.
use super::{new_id, now_ms, Db, StoreResult};
use crate::domain::categories::Category;
use crate::domain::extract::{content_key, Extracted};

/// A person holds at most this many memories; extraction past it is skipped and reported.
pub const MAX_MEMORIES_PER_PASSPORT: i64 = 200_000;

/// A memory as agents may be served it (not flagged).
#[derive(Clone, Debug, PartialEq)]
pub struct Servable {
    pub id: String,
    pub category: Category,
    pub content: String,
    pub importance: u8,
    pub created_at: i64,
    pub last_accessed: Option<i64>,
    pub access_count: i64,
}

#[derive(sqlx::FromRow)]
struct ServableRow {
    id: String,
    category: String,
    content: String,
    importance: i64,
    created_at: i64,
    last_accessed: Option<i64>,
    access_count: i64,
}

/// Every unflagged memory of a person, oldest first.
pub async fn servable(db: &Db, passport_id: &str) -> StoreResult<Vec<Servable>> {
    let rows = sqlx::query_as::<_, ServableRow>(
        "SELECT id, category, content, importance, created_at, last_accessed, access_count \
         FROM memories WHERE passport_id = $1 AND flag IS NULL ORDER BY created_at, id",
    )
    .bind(passport_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Servable {
                category: Category::parse(&r.category)?,
                importance: r.importance.clamp(1, 10) as u8,
                id: r.id,
                content: r.content,
                created_at: r.created_at,
                last_accessed: r.last_accessed,
                access_count: r.access_count,
            })
        })
        .collect())
}

/// What applying one job's extraction did.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Applied {
    pub created_ids: Vec<String>,
    pub duplicates: usize,
    pub conflicts: usize,
    pub over_limit: usize,
}

/// Who wrote what, for provenance.
pub struct Source<'a> {
    pub agent_id: Option<&'a str>,
    pub job_id: Option<&'a str>,
}

/// Stores extracted memories for a person inside the caller's transaction: a statement the
/// person already has (same words, or the same value in the same slot) is a duplicate; a new
/// value for a slot that holds another becomes an open question instead of an overwrite.
pub async fn apply(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    passport_id: &str,
    source: &Source<'_>,
    items: &[Extracted],
) -> StoreResult<Applied> {
    let mut out = Applied::default();
    if items.is_empty() {
        return Ok(out);
    }
    let now = now_ms();
    let mut count: i64 =
        sqlx::query_scalar("SELECT memory_count FROM passports WHERE id = $1").bind(passport_id).fetch_one(&mut **tx).await?;
    for item in items {
        let key = content_key(&item.content);
        let same: Option<String> = sqlx::query_scalar("SELECT id FROM memories WHERE passport_id = $1 AND content_key = $2 LIMIT 1")
            .bind(passport_id)
            .bind(&key)
            .fetch_optional(&mut **tx)
            .await?;
        if same.is_some() {
            out.duplicates += 1;
            continue;
        }
        if let Some(slot) = &item.slot {
            let held: Vec<(String, Option<String>)> = sqlx::query_as(
                "SELECT id, slot_value FROM memories WHERE passport_id = $1 AND slot_key = $2 AND flag IS NULL \
                 ORDER BY created_at DESC, id",
            )
            .bind(passport_id)
            .bind(&slot.key)
            .fetch_all(&mut **tx)
            .await?;
            if held.iter().any(|(_, v)| v.as_deref() == Some(slot.value.as_str())) {
                out.duplicates += 1;
                continue;
            }
            if let Some((memory_id, _)) = held.first() {
                sqlx::query(
                    "INSERT INTO memory_conflicts (id, passport_id, memory_id, candidate_content, candidate_key, category, \
                     importance, slot_key, slot_value, source_agent_id, status, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11) \
                     ON CONFLICT (memory_id, candidate_key) DO NOTHING",
                )
                .bind(new_id())
                .bind(passport_id)
                .bind(memory_id)
                .bind(&item.content)
                .bind(&key)
                .bind(item.category.as_str())
                .bind(i64::from(item.importance))
                .bind(&slot.key)
                .bind(&slot.value)
                .bind(source.agent_id)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                out.conflicts += 1;
                continue;
            }
        }
        if count >= MAX_MEMORIES_PER_PASSPORT {
            out.over_limit += 1;
            continue;
        }
        let id = new_id();
        insert(tx, &id, passport_id, source, item, &key, now).await?;
        count += 1;
        out.created_ids.push(id);
    }
    if !out.created_ids.is_empty() {
        changed(tx, passport_id, out.created_ids.len() as i64).await?;
    }
    Ok(out)
}

async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: &str,
    passport_id: &str,
    source: &Source<'_>,
    item: &Extracted,
    key: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO memories (id, passport_id, category, content, content_key, slot_key, slot_value, importance, \
         source_agent_id, source_job_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(id)
    .bind(passport_id)
    .bind(item.category.as_str())
    .bind(&item.content)
    .bind(key)
    .bind(item.slot.as_ref().map(|s| s.key.as_str()))
    .bind(item.slot.as_ref().map(|s| s.value.as_str()))
    .bind(i64::from(item.importance.clamp(1, 10)))
    .bind(source.agent_id)
    .bind(source.job_id)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Records that this person's memories changed by `added` rows (negative: removed), in the
/// same transaction as the change; the new revision tells every node's cache.
pub async fn changed(tx: &mut sqlx::Transaction<'_, sqlx::Any>, passport_id: &str, added: i64) -> StoreResult<()> {
    sqlx::query("UPDATE passports SET memory_rev = memory_rev + 1, memory_count = memory_count + $1 WHERE id = $2")
        .bind(added)
        .bind(passport_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Inserts many memories at once without extraction or de-duplication (seeding benchmarks and
/// tests, imports). Returns their ids.
pub async fn insert_many(db: &Db, passport_id: &str, items: &[Extracted]) -> StoreResult<Vec<String>> {
    let mut ids = Vec::with_capacity(items.len());
    let now = now_ms();
    for chunk in items.chunks(1_000) {
        let mut tx = db.pool.begin().await?;
        for item in chunk {
            let id = new_id();
            insert(&mut tx, &id, passport_id, &Source { agent_id: None, job_id: None }, item, &content_key(&item.content), now).await?;
            ids.push(id);
        }
        changed(&mut tx, passport_id, chunk.len() as i64).await?;
        tx.commit().await?;
    }
    Ok(ids)
}

/// Uses of memories since the last flush: (memory id, times used, last use).
pub struct Use {
    pub memory_id: String,
    pub times: i64,
    pub at: i64,
}

/// Writes batched uses of memories and grants in one transaction. Use counts do not change
/// what is served, so this does not bump the revision (caches stay warm).
pub async fn record_use(db: &Db, memories: &[Use], grants: &[(String, i64)]) -> StoreResult<()> {
    if memories.is_empty() && grants.is_empty() {
        return Ok(());
    }
    let mut tx = db.pool.begin().await?;
    for u in memories {
        sqlx::query(
            "UPDATE memories SET access_count = access_count + $1, \
             last_accessed = CASE WHEN last_accessed IS NULL OR last_accessed < $2 THEN $2 ELSE last_accessed END \
             WHERE id = $3",
        )
        .bind(u.times)
        .bind(u.at)
        .bind(&u.memory_id)
        .execute(&mut *tx)
        .await?;
    }
    for (grant_id, at) in grants {
        sqlx::query(
            "UPDATE grants SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $1)",
        )
        .bind(at)
        .bind(grant_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
