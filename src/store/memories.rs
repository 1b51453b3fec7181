//! A person's memories: what agents are served, what extraction adds (with de-duplication
//! and conflict questions), and the batched record of use.
use super::{new_id, new_ordered_id, now_ms, Db, StoreResult};
use crate::domain::categories::Category;
use crate::domain::dense::Quantized;
use crate::domain::extract::{content_key, Extracted};
use crate::domain::plan::{Held, SameWords, SlotHolder, Step};
use crate::domain::when::Span;
use base64::Engine as _;

/// Dimensions of the stored sentence embeddings.
pub const EMBEDDING_DIM: usize = 384;

fn encode_vector(v: &Quantized) -> String {
    base64::engine::general_purpose::STANDARD_NO_PAD.encode(v.to_bytes())
}

fn decode_vector(s: &str) -> Option<Quantized> {
    Quantized::from_bytes(&base64::engine::general_purpose::STANDARD_NO_PAD.decode(s).ok()?, EMBEDDING_DIM)
}

/// A memory whose vectors the background is to make: its words, the message it came from and
/// the turn before it, as kept for that.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ToEmbed {
    pub id: String,
    pub passport_id: String,
    pub content: String,
    #[sqlx(rename = "embedding_context")]
    pub context: Option<String>,
    #[sqlx(rename = "turn_before")]
    pub before: Option<String>,
}

/// The vectors the background made for one memory (`content` is what they were made from).
#[derive(Clone, Debug)]
pub struct NewVectors {
    pub id: String,
    pub passport_id: String,
    pub content: String,
    pub memory: Quantized,
    pub turn: Option<Quantized>,
}

/// A memory as agents may be served it (not flagged).
#[derive(Clone, Debug, PartialEq)]
pub struct Servable {
    pub id: String,
    pub category: Category,
    pub content: String,
    pub importance: u8,
    pub created_at: i64,
    pub updated_at: i64,
    /// When what it tells happened, if it says.
    pub happened: Option<Span>,
    /// When the person said it (the app's `occurred_at`), if an app's conversation made it.
    pub said_at: Option<i64>,
    /// Its sentence embedding and the model that made it.
    pub embedding: Option<(Quantized, String)>,
    /// The vector of the turn it came from with the turn before (same model), if it has one.
    pub turn_embedding: Option<Quantized>,
    /// Which message it came from, when an app's add made it: equal for the memories of one
    /// message (same job, same place in it), and only compared, never shown.
    pub message: Option<u64>,
}

#[derive(sqlx::FromRow)]
struct ServableRow {
    id: String,
    category: String,
    content: String,
    importance: i64,
    created_at: i64,
    updated_at: i64,
    happened_from: Option<String>,
    happened_to: Option<String>,
    said_at: Option<i64>,
    embedding: Option<String>,
    embedding_model: Option<String>,
    turn_embedding: Option<String>,
    source_job_id: Option<String>,
    source_message: Option<i64>,
}

/// Every unflagged memory of a person, oldest first.
pub async fn servable(db: &Db, passport_id: &str) -> StoreResult<Vec<Servable>> {
    let rows = sqlx::query_as::<_, ServableRow>(
        "SELECT id, category, content, importance, created_at, updated_at, happened_from, happened_to, said_at, embedding, embedding_model, \
         turn_embedding, source_job_id, source_message FROM memories WHERE passport_id = $1 AND flag IS NULL ORDER BY created_at, id",
    )
    .bind(passport_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().filter_map(ServableRow::into_servable).collect())
}

impl ServableRow {
    fn into_servable(self) -> Option<Servable> {
        Some(Servable {
            category: Category::parse(&self.category)?,
            importance: self.importance.clamp(1, 10) as u8,
            id: self.id,
            content: self.content,
            created_at: self.created_at,
            updated_at: self.updated_at,
            said_at: self.said_at,
            happened: self.happened_from.as_deref().zip(self.happened_to.as_deref()).and_then(|(f, t)| Span::parse_iso(f, t)),
            turn_embedding: self.turn_embedding.as_deref().and_then(decode_vector),
            embedding: self.embedding.as_deref().and_then(decode_vector).zip(self.embedding_model),
            // Its job and its message's place there; without the place (made before it was
            // kept), none: the memories of a whole conversation sent in one add are not one.
            message: self.source_job_id.zip(self.source_message).map(|key| {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                key.hash(&mut h);
                h.finish()
            }),
        })
    }
}

/// Memories whose vector is missing or not of one of the `done` models (older ones, corrected
/// ones, made while no model or another was configured, or holding a quick vector to replace),
/// with what was kept to make them from.
pub async fn without_embedding(db: &Db, done: &[&str], limit: i64) -> StoreResult<Vec<ToEmbed>> {
    let models: Vec<String> = (0..done.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT id, passport_id, content, embedding_context, turn_before FROM memories \
         WHERE embedding IS NULL OR embedding_model IS NULL OR embedding_model NOT IN ({}) ORDER BY created_at, id LIMIT $1",
        if models.is_empty() { "NULL".to_string() } else { models.join(", ") }
    );
    let mut q = sqlx::query_as(&sql).bind(limit);
    for m in done {
        q = q.bind(*m);
    }
    Ok(q.fetch_all(&db.pool).await?)
}

/// How many memories of the message before are read with a new one.
pub const SAID_JUST_BEFORE: usize = 4;

/// The memories `agent_id` made for the person from its latest other job whose words were
/// said between `from` and `to` (ms), in the order they were made (at most
/// `SAID_JUST_BEFORE`, the last ones), with when they were said: what the person told this app
/// just before.
pub async fn said_just_before(db: &Db, passport_id: &str, agent_id: &str, job_id: &str, from: i64, to: i64) -> StoreResult<Option<(i64, Vec<String>)>> {
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT content, source_job_id, said_at FROM memories WHERE passport_id = $1 AND source_agent_id = $2 \
         AND source_job_id IS NOT NULL AND source_job_id <> $3 AND flag IS NULL AND said_at >= $4 AND said_at <= $5 \
         ORDER BY said_at DESC, created_at DESC, id DESC LIMIT $6",
    )
    .bind(passport_id)
    .bind(agent_id)
    .bind(job_id)
    .bind(from)
    .bind(to)
    .bind(SAID_JUST_BEFORE as i64)
    .fetch_all(&db.pool)
    .await?;
    let Some((_, latest, said)) = rows.first().cloned() else { return Ok(None) };
    let mut contents: Vec<String> = rows.into_iter().filter(|(_, job, _)| *job == latest).map(|(content, _, _)| content).collect();
    contents.reverse();
    Ok(Some((said, contents)))
}

/// Stores the vectors of `model` for memories whose content is still the one embedded, drops
/// what was kept to make them from, and tells every node's cache of the people concerned.
pub async fn set_embeddings(db: &Db, model: &str, items: &[NewVectors]) -> StoreResult<usize> {
    let mut tx = db.pool.begin().await?;
    let mut people: Vec<(&str, Vec<&str>)> = Vec::new();
    let mut done = 0;
    for NewVectors { id, passport_id, content, memory, turn } in items {
        let changed = sqlx::query(
            "UPDATE memories SET embedding = $1, embedding_model = $2, turn_embedding = COALESCE($3, turn_embedding), \
             embedding_context = NULL, turn_before = NULL \
             WHERE id = $4 AND content = $5",
        )
            .bind(encode_vector(memory))
            .bind(model)
            .bind(turn.as_ref().map(encode_vector))
            .bind(id)
            .bind(content)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed > 0 {
            done += 1;
            match people.iter_mut().find(|(p, _)| *p == passport_id.as_str()) {
                Some((_, ids)) => ids.push(id),
                None => people.push((passport_id, vec![id])),
            }
        }
    }
    for (p, ids) in people {
        changed(&mut tx, p, Change { touched: &ids, ..Default::default() }).await?;
    }
    tx.commit().await?;
    Ok(done)
}

/// What applying one job's extraction did.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct Applied {
    /// New memories, and statements reported as new that match a memory the writer may not
    /// see (flagged by the person, or in a category outside its grant): those are not stored
    /// again, and the writer cannot tell them apart.
    pub created_ids: Vec<String>,
    /// How many of `created_ids` were really inserted.
    pub inserted: usize,
    pub duplicates: usize,
    pub conflicts: usize,
    /// Conflicts dropped because this app already has its maximum of open questions.
    pub questions_dropped: usize,
    pub over_limit: usize,
}

/// Who wrote what, for provenance.
pub struct Source<'a> {
    pub agent_id: Option<&'a str>,
    pub job_id: Option<&'a str>,
}

/// What `domain::plan` needs to know of a person's memories for `items`, read inside the
/// caller's transaction. The person's row is locked first, which serializes extraction per
/// person on PostgreSQL, so the plan sees every memory committed before (SQLite has one writer
/// anyway).
pub async fn held_for(tx: &mut sqlx::Transaction<'_, sqlx::Any>, passport_id: &str, writer: Option<&str>, items: &[Extracted]) -> StoreResult<Held> {
    let memories: i64 = sqlx::query_scalar("UPDATE passports SET memory_count = memory_count WHERE id = $1 RETURNING memory_count")
        .bind(passport_id)
        .fetch_one(&mut **tx)
        .await?;
    let mut held = Held { memories, ..Default::default() };
    let mut keys: Vec<String> = items.iter().map(|i| content_key(&i.content)).collect();
    keys.sort();
    keys.dedup();
    let marks = |n: usize| (0..n).map(|i| format!("${}", i + 2)).collect::<Vec<_>>().join(", ");
    if !keys.is_empty() {
        // Unflagged first, then the lowest id, per key.
        let sql = format!(
            "SELECT content_key, id, category, flag FROM memories WHERE passport_id = $1 AND content_key IN ({}) \
             ORDER BY content_key, flag IS NULL DESC, id",
            marks(keys.len())
        );
        let mut q = sqlx::query_as::<_, (String, String, String, Option<String>)>(&sql).bind(passport_id);
        for k in &keys {
            q = q.bind(k);
        }
        for (key, id, category, flag) in q.fetch_all(&mut **tx).await? {
            let Some(category) = Category::parse(&category) else { continue };
            held.same_words.entry(key).or_insert(SameWords { id, category, flagged: flag.is_some() });
        }
    }
    let mut slot_keys: Vec<&str> = items.iter().filter_map(|i| i.slot.as_ref().map(|s| s.key.as_str())).collect();
    slot_keys.sort();
    slot_keys.dedup();
    if !slot_keys.is_empty() {
        let sql = format!(
            "SELECT slot_key, id, slot_value FROM memories WHERE passport_id = $1 AND slot_key IN ({}) AND flag IS NULL \
             ORDER BY slot_key, created_at DESC, id",
            marks(slot_keys.len())
        );
        let mut q = sqlx::query_as::<_, (String, String, Option<String>)>(&sql).bind(passport_id);
        for k in &slot_keys {
            q = q.bind(*k);
        }
        for (key, memory_id, value) in q.fetch_all(&mut **tx).await? {
            held.slots.entry(key).or_default().push(SlotHolder { memory_id, value });
        }
        let slotted: Vec<String> = items.iter().filter(|i| i.slot.is_some()).map(|i| content_key(&i.content)).collect();
        let sql = format!("SELECT memory_id, candidate_key FROM memory_conflicts WHERE passport_id = $1 AND candidate_key IN ({})", marks(slotted.len()));
        let mut q = sqlx::query_as::<_, (String, String)>(&sql).bind(passport_id);
        for k in &slotted {
            q = q.bind(k);
        }
        held.asked = q.fetch_all(&mut **tx).await?.into_iter().collect();
        let open = "SELECT COUNT(*) FROM memory_conflicts WHERE passport_id = $1 AND status = 'open' AND ($2 = '' OR source_agent_id = $2)";
        held.person_questions = sqlx::query_scalar(open).bind(passport_id).bind("").fetch_one(&mut **tx).await?;
        if let Some(agent) = writer {
            held.writer_questions = sqlx::query_scalar(open).bind(passport_id).bind(agent).fetch_one(&mut **tx).await?;
        }
    }
    Ok(held)
}

/// Carries out a plan made by `domain::plan` for `items` (one step each) inside the caller's
/// transaction: inserts the new memories and the questions, and counts what happened.
pub async fn carry_out(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    passport_id: &str,
    source: &Source<'_>,
    items: &[Extracted],
    steps: &[Step],
) -> StoreResult<Applied> {
    let mut out = Applied::default();
    let now = now_ms();
    for (item, step) in items.iter().zip(steps) {
        match step {
            Step::Insert { id, key } => {
                insert(tx, id, passport_id, source, item, key, now).await?;
                out.inserted += 1;
                out.created_ids.push(id.clone());
            }
            Step::Ask { memory_id, key } => {
                let slot = item.slot.as_ref();
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
                .bind(key)
                .bind(item.category.as_str())
                .bind(i64::from(item.importance))
                .bind(slot.map(|s| s.key.as_str()))
                .bind(slot.map(|s| s.value.as_str()))
                .bind(source.agent_id)
                .bind(now)
                .execute(&mut **tx)
                .await?;
                out.conflicts += 1;
            }
            Step::Conflict => out.conflicts += 1,
            Step::Duplicate => out.duplicates += 1,
            Step::Unseen { id } => out.created_ids.push(id.clone()),
            Step::QuestionDropped => out.questions_dropped += 1,
            Step::OverLimit => out.over_limit += 1,
        }
    }
    if out.inserted > 0 {
        let touched: Vec<&str> = steps.iter().filter_map(|s| if let Step::Insert { id, .. } = s { Some(id.as_str()) } else { None }).collect();
        changed(tx, passport_id, Change { added: out.inserted as i64, touched: &touched, removed: &[] }).await?;
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
         source_agent_id, source_job_id, source_turn_id, said_at, source_text, happened_from, happened_to, embedding, embedding_model, \
         embedding_context, turn_embedding, turn_before, source_message, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22)",
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
    .bind(item.turn_id.as_deref())
    .bind(item.said_at)
    .bind(item.source.as_deref())
    .bind(item.happened.map(|h| h.iso().0))
    .bind(item.happened.map(|h| h.iso().1))
    .bind(item.embedding.as_ref().map(|(v, _)| encode_vector(v)))
    .bind(item.embedding.as_ref().map(|(_, m)| m.as_str()))
    .bind(item.context.as_deref())
    .bind(item.turn_embedding.as_ref().map(encode_vector))
    .bind(item.previous.as_deref())
    .bind(item.message.map(i64::from))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// How long a deleted memory's id is kept for the caches (`memory_removals`); a cache that
/// has not followed its person for half of this reloads them instead.
pub const REMOVALS_KEPT_MS: i64 = 24 * 60 * 60 * 1000;

/// What changed in one of a person's memory changes: the rows touched (inserted, edited,
/// flagged or unflagged, given a vector) and the ids of rows deleted.
#[derive(Clone, Copy, Debug, Default)]
pub struct Change<'a> {
    /// How many rows more the person holds (negative: fewer).
    pub added: i64,
    pub touched: &'a [&'a str],
    pub removed: &'a [&'a str],
}

/// Records a change to this person's memories in the same transaction as the change: the new
/// revision tells every node's cache, which then reads the rows stamped with it (and the
/// removals) instead of reloading. Returns the new revision.
pub async fn changed(tx: &mut sqlx::Transaction<'_, sqlx::Any>, passport_id: &str, change: Change<'_>) -> StoreResult<i64> {
    let rev: i64 = sqlx::query_scalar(
        "UPDATE passports SET memory_rev = memory_rev + 1, memory_count = memory_count + $1 WHERE id = $2 RETURNING memory_rev",
    )
    .bind(change.added)
    .bind(passport_id)
    .fetch_one(&mut **tx)
    .await?;
    for chunk in change.touched.chunks(500) {
        let marks = (0..chunk.len()).map(|i| format!("${}", i + 3)).collect::<Vec<_>>().join(", ");
        let sql = format!("UPDATE memories SET changed_rev = $1 WHERE passport_id = $2 AND id IN ({marks})");
        let mut q = sqlx::query(&sql).bind(rev).bind(passport_id);
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut **tx).await?;
    }
    let now = now_ms();
    for id in change.removed {
        sqlx::query("INSERT INTO memory_removals (passport_id, memory_id, rev, removed_at) VALUES ($1, $2, $3, $4)")
            .bind(passport_id)
            .bind(*id)
            .bind(rev)
            .bind(now)
            .execute(&mut **tx)
            .await?;
    }
    Ok(rev)
}

/// What changed in a person's memories after revision `since`: the rows touched since (a
/// flagged one as `None` beside its id: no longer servable) and the ids removed. `None` when
/// more than `limit` rows changed: reloading is then as cheap.
pub async fn changes_since(db: &Db, passport_id: &str, since: i64, limit: usize) -> StoreResult<Option<Changes>> {
    let rows = sqlx::query_as::<_, ChangedRow>(
        "SELECT id, category, content, importance, created_at, updated_at, happened_from, happened_to, said_at, embedding, embedding_model, \
         turn_embedding, source_job_id, source_message, flag FROM memories WHERE passport_id = $1 AND changed_rev > $2 ORDER BY changed_rev, id LIMIT $3",
    )
    .bind(passport_id)
    .bind(since)
    .bind(limit as i64 + 1)
    .fetch_all(&db.pool)
    .await?;
    if rows.len() > limit {
        return Ok(None);
    }
    let removed: Vec<String> = sqlx::query_scalar("SELECT memory_id FROM memory_removals WHERE passport_id = $1 AND rev > $2 ORDER BY rev")
        .bind(passport_id)
        .bind(since)
        .fetch_all(&db.pool)
        .await?;
    let touched = rows
        .into_iter()
        .map(|r| {
            let id = r.row.id.clone();
            let servable = if r.flag.is_some() { None } else { r.row.into_servable() };
            (id, servable)
        })
        .collect();
    Ok(Some(Changes { touched, removed }))
}

/// See `changes_since`.
#[derive(Clone, Debug, Default)]
pub struct Changes {
    pub touched: Vec<(String, Option<Servable>)>,
    pub removed: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct ChangedRow {
    #[sqlx(flatten)]
    row: ServableRow,
    flag: Option<String>,
}

/// Inserts many memories at once without extraction or de-duplication (seeding benchmarks and
/// tests, imports). Returns their ids.
pub async fn insert_many(db: &Db, passport_id: &str, items: &[Extracted]) -> StoreResult<Vec<String>> {
    let mut ids = Vec::with_capacity(items.len());
    let now = now_ms();
    for chunk in items.chunks(1_000) {
        let mut tx = db.pool.begin().await?;
        let first = ids.len();
        for item in chunk {
            let id = new_ordered_id();
            insert(&mut tx, &id, passport_id, &Source { agent_id: None, job_id: None }, item, &content_key(&item.content), now).await?;
            ids.push(id);
        }
        let touched: Vec<&str> = ids[first..].iter().map(String::as_str).collect();
        changed(&mut tx, passport_id, Change { added: chunk.len() as i64, touched: &touched, removed: &[] }).await?;
        tx.commit().await?;
    }
    Ok(ids)
}

/// Every grant's use of a person's memories: (memory id, grant id, uses, last use).
pub async fn uses_for_person(db: &Db, passport_id: &str) -> StoreResult<Vec<(String, String, i64, i64)>> {
    Ok(sqlx::query_as(
        "SELECT u.memory_id, u.grant_id, u.uses, u.last_used FROM memory_uses u \
         JOIN memories m ON m.id = u.memory_id WHERE m.passport_id = $1",
    )
    .bind(passport_id)
    .fetch_all(&db.pool)
    .await?)
}

/// Uses of one memory by one grant since the last flush.
pub struct Use {
    pub memory_id: String,
    pub grant_id: String,
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
        // The person's totals (manage page) and this grant's own count (what its agent sees).
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
        // Only while both rows exist: a memory or grant deleted meanwhile is simply skipped.
        sqlx::query(
            "INSERT INTO memory_uses (memory_id, grant_id, uses, last_used) \
             SELECT m.id, g.id, $1, $2 FROM memories m, grants g WHERE m.id = $3 AND g.id = $4 \
             ON CONFLICT (memory_id, grant_id) DO UPDATE SET uses = memory_uses.uses + excluded.uses, \
             last_used = CASE WHEN memory_uses.last_used < excluded.last_used THEN excluded.last_used ELSE memory_uses.last_used END",
        )
        .bind(u.times)
        .bind(u.at)
        .bind(&u.memory_id)
        .bind(&u.grant_id)
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

// ---- The person's own view: list, correct, flag, delete, versions. ----

use crate::model::{Flag, MemoryFilter, MemoryPage, MemoryRow, MemoryVersion};

#[derive(sqlx::FromRow)]
struct RowForPerson {
    id: String,
    category: String,
    content: String,
    importance: i64,
    source_agent_id: Option<String>,
    source_name: Option<String>,
    flag: Option<String>,
    created_at: i64,
    updated_at: i64,
    last_accessed: Option<i64>,
    access_count: i64,
    versions: i64,
    source_text: Option<String>,
    source_turn_id: Option<String>,
    said_at: Option<i64>,
    happened_from: Option<String>,
    happened_to: Option<String>,
}

impl RowForPerson {
    fn into_row(self) -> Option<MemoryRow> {
        Some(MemoryRow {
            category: Category::parse(&self.category)?,
            importance: self.importance.clamp(1, 10) as u8,
            flag: self.flag.as_deref().and_then(Flag::parse),
            id: self.id,
            content: self.content,
            source: self.source_name,
            source_agent_id: self.source_agent_id,
            created_at: self.created_at,
            updated_at: self.updated_at,
            last_accessed: self.last_accessed,
            access_count: self.access_count,
            versions: self.versions,
            source_text: self.source_text,
            source_turn_id: self.source_turn_id,
            said_at: self.said_at,
            happened_from: self.happened_from,
            happened_to: self.happened_to,
        })
    }
}

/// `%…%` for LIKE, with LIKE's own characters escaped.
fn like_pattern(search: &str) -> String {
    let escaped = search.trim().to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    if escaped.is_empty() { String::new() } else { format!("%{escaped}%") }
}

/// A person's memories with the name of the app that wrote each and how many versions it has.
const PERSON_SELECT: &str = "SELECT m.id, m.category, m.content, m.importance, m.source_agent_id, a.name AS source_name, \
                             m.flag, m.created_at, m.updated_at, m.last_accessed, m.access_count, \
                             (SELECT COUNT(*) FROM memory_versions v WHERE v.memory_id = m.id) AS versions, \
                             m.source_text, m.source_turn_id, m.said_at, m.happened_from, m.happened_to \
                             FROM memories m LEFT JOIN global_agents a ON a.id = m.source_agent_id";

const PERSON_WHERE: &str = "m.passport_id = $1 AND ($2 = '' OR m.category = $2) AND ($3 = '' OR m.source_agent_id = $3) \
                            AND ($4 = '' OR LOWER(m.content) LIKE $4 ESCAPE '\\')";

/// A page of `page_size` of a person's memories, newest first, with the filter applied.
pub async fn page_for_person(db: &Db, passport_id: &str, filter: &MemoryFilter, page_size: u32) -> StoreResult<MemoryPage> {
    let category = filter.category.map(|c| c.as_str()).unwrap_or("");
    let agent = filter.agent_id.as_deref().unwrap_or("");
    let pattern = like_pattern(&filter.search);
    let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM memories m WHERE {PERSON_WHERE}"))
        .bind(passport_id)
        .bind(category)
        .bind(agent)
        .bind(&pattern)
        .fetch_one(&db.pool)
        .await?;
    let sql = format!("{PERSON_SELECT} WHERE {PERSON_WHERE} ORDER BY m.created_at DESC, m.id DESC LIMIT $5 OFFSET $6");
    let rows = sqlx::query_as::<_, RowForPerson>(&sql)
        .bind(passport_id)
        .bind(category)
        .bind(agent)
        .bind(&pattern)
        .bind(i64::from(page_size))
        .bind(i64::from(filter.offset))
        .fetch_all(&db.pool)
        .await?;
    Ok(MemoryPage { memories: rows.into_iter().filter_map(RowForPerson::into_row).collect(), total, offset: filter.offset, page_size })
}

/// Every memory of a person (for the export), oldest first.
pub async fn all_for_person(db: &Db, passport_id: &str) -> StoreResult<Vec<MemoryRow>> {
    let rows = sqlx::query_as::<_, RowForPerson>(&format!("{PERSON_SELECT} WHERE m.passport_id = $1 ORDER BY m.created_at, m.id"))
    .bind(passport_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows.into_iter().filter_map(RowForPerson::into_row).collect())
}

/// How many memories a person has.
pub async fn count_for_person(db: &Db, passport_id: &str) -> StoreResult<i64> {
    Ok(sqlx::query_scalar("SELECT memory_count FROM passports WHERE id = $1").bind(passport_id).fetch_optional(&db.pool).await?.unwrap_or(0))
}

/// Keeps the current wording of a memory as a version, inside the caller's transaction.
async fn keep_version(tx: &mut sqlx::Transaction<'_, sqlx::Any>, passport_id: &str, memory_id: &str, now: i64) -> StoreResult<bool> {
    let kept = sqlx::query(
        "INSERT INTO memory_versions (id, memory_id, passport_id, content, category, replaced_at) \
         SELECT $1, id, passport_id, content, category, $2 FROM memories WHERE id = $3 AND passport_id = $4",
    )
    .bind(new_id())
    .bind(now)
    .bind(memory_id)
    .bind(passport_id)
    .execute(&mut **tx)
    .await?;
    Ok(kept.rows_affected() == 1)
}

/// Gives a memory new words (the old ones kept as a version), a category and the slot its
/// new words fill, and clears its flag; inside the caller's transaction.
async fn rewrite(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    passport_id: &str,
    memory_id: &str,
    content: &str,
    category: Category,
    now: i64,
) -> StoreResult<()> {
    keep_version(tx, passport_id, memory_id, now).await?;
    let slot = crate::domain::extract::slot_of_statement(content);
    sqlx::query(
        "UPDATE memories SET content = $1, content_key = $2, category = $3, slot_key = $4, slot_value = $5, \
         flag = NULL, updated_at = $6, \
         embedding = CASE WHEN content = $1 THEN embedding ELSE NULL END, \
         embedding_model = CASE WHEN content = $1 THEN embedding_model ELSE NULL END, \
         embedding_context = CASE WHEN content = $1 THEN embedding_context ELSE NULL END, \
         turn_embedding = CASE WHEN content = $1 THEN turn_embedding ELSE NULL END, \
         turn_before = CASE WHEN content = $1 THEN turn_before ELSE NULL END WHERE id = $7",
    )
    .bind(content)
    .bind(content_key(content))
    .bind(category.as_str())
    .bind(slot.as_ref().map(|s| s.key.as_str()))
    .bind(slot.as_ref().map(|s| s.value.as_str()))
    .bind(now)
    .bind(memory_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Rewrites a memory (keeping the old wording as a version) and clears its flag. False when
/// the person has no such memory.
pub async fn correct(db: &Db, passport_id: &str, memory_id: &str, content: &str, category: Category) -> StoreResult<bool> {
    if !super::is_id(memory_id) {
        return Ok(false);
    }
    let now = now_ms();
    let mut tx = db.pool.begin().await?;
    // The UPDATE comes first so SQLite takes its write lock before any read.
    let temp = sqlx::query("UPDATE memories SET updated_at = $1 WHERE id = $2 AND passport_id = $3")
        .bind(now)
        .bind(memory_id)
        .bind(passport_id)
        .execute(&mut *tx)
        .await?;
    if temp.rows_affected() == 0 {
        return Ok(false);
    }
    rewrite(&mut tx, passport_id, memory_id, content, category, now).await?;
    changed(&mut tx, passport_id, Change { touched: &[memory_id], ..Default::default() }).await?;
    tx.commit().await?;
    Ok(true)
}

/// Flags a memory (it stops being served) or, with `None`, clears the flag.
pub async fn set_flag(db: &Db, passport_id: &str, memory_id: &str, flag: Option<Flag>) -> StoreResult<bool> {
    if !super::is_id(memory_id) {
        return Ok(false);
    }
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query("UPDATE memories SET flag = $1, updated_at = $2 WHERE id = $3 AND passport_id = $4")
        .bind(flag.map(|f| f.as_str()))
        .bind(now_ms())
        .bind(memory_id)
        .bind(passport_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    changed(&mut tx, passport_id, Change { touched: &[memory_id], ..Default::default() }).await?;
    tx.commit().await?;
    Ok(true)
}

/// Deletes a memory for good (with its versions and open questions).
pub async fn delete(db: &Db, passport_id: &str, memory_id: &str) -> StoreResult<bool> {
    if !super::is_id(memory_id) {
        return Ok(false);
    }
    let mut tx = db.pool.begin().await?;
    let done = sqlx::query("DELETE FROM memories WHERE id = $1 AND passport_id = $2")
        .bind(memory_id)
        .bind(passport_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    for table in ["memory_versions", "memory_conflicts"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE memory_id = $1")).bind(memory_id).execute(&mut *tx).await?;
    }
    changed(&mut tx, passport_id, Change { added: -1, touched: &[], removed: &[memory_id] }).await?;
    tx.commit().await?;
    Ok(true)
}

/// Earlier wordings of a memory, newest first; `None` when the person has no such memory.
pub async fn versions(db: &Db, passport_id: &str, memory_id: &str) -> StoreResult<Option<Vec<MemoryVersion>>> {
    if !super::is_id(memory_id) {
        return Ok(None);
    }
    if category_of(db, passport_id, memory_id).await?.is_none() {
        return Ok(None);
    }
    let rows: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT content, category, replaced_at FROM memory_versions WHERE memory_id = $1 ORDER BY replaced_at DESC, id",
    )
    .bind(memory_id)
    .fetch_all(&db.pool)
    .await?;
    Ok(Some(
        rows.into_iter()
            .filter_map(|(content, category, replaced_at)| Some(MemoryVersion { content, category: Category::parse(&category)?, replaced_at }))
            .collect(),
    ))
}

/// Every earlier wording of a person's memories, by memory id, newest first (one query).
pub async fn versions_for_person(db: &Db, passport_id: &str) -> StoreResult<std::collections::HashMap<String, Vec<MemoryVersion>>> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT memory_id, content, category, replaced_at FROM memory_versions WHERE passport_id = $1 \
         ORDER BY replaced_at DESC, id",
    )
    .bind(passport_id)
    .fetch_all(&db.pool)
    .await?;
    let mut out: std::collections::HashMap<String, Vec<MemoryVersion>> = std::collections::HashMap::new();
    for (memory_id, content, category, replaced_at) in rows {
        if let Some(category) = Category::parse(&category) {
            out.entry(memory_id).or_default().push(MemoryVersion { content, category, replaced_at });
        }
    }
    Ok(out)
}

// ---- Conflict questions. ----

use crate::model::{ConflictAnswer, ConflictQuestion};

/// A person's open questions, oldest first.
pub async fn open_questions(db: &Db, passport_id: &str, limit: i64, offset: i64) -> StoreResult<Vec<ConflictQuestion>> {
    let rows: Vec<(String, String, String, String, Option<String>, i64)> = sqlx::query_as(
        "SELECT c.id, c.category, m.content, c.candidate_content, a.name, c.created_at \
         FROM memory_conflicts c JOIN memories m ON m.id = c.memory_id \
         LEFT JOIN global_agents a ON a.id = c.source_agent_id \
         WHERE c.passport_id = $1 AND c.status = 'open' ORDER BY c.created_at, c.id LIMIT $2 OFFSET $3",
    )
    .bind(passport_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(&db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, category, current, candidate, source, created_at)| {
            Some(ConflictQuestion { id, category: Category::parse(&category)?, current, candidate, source, created_at })
        })
        .collect())
}

/// How many questions wait for the person.
pub async fn count_open_questions(db: &Db, passport_id: &str) -> StoreResult<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM memory_conflicts WHERE passport_id = $1 AND status = 'open'")
        .bind(passport_id)
        .fetch_one(&db.pool)
        .await?)
}

#[derive(sqlx::FromRow)]
struct Resolved {
    memory_id: String,
    candidate_content: String,
    category: String,
    importance: i64,
    source_agent_id: Option<String>,
}

/// Applies a person's answer to a question: A keeps what was remembered, B replaces it (the
/// old wording kept as a version), both keeps both, neither flags the remembered one as
/// incorrect so agents get neither. False when there is no such open question.
pub async fn answer_question(db: &Db, passport_id: &str, conflict_id: &str, answer: ConflictAnswer) -> StoreResult<bool> {
    if !super::is_id(conflict_id) {
        return Ok(false);
    }
    let now = now_ms();
    let mut tx = db.pool.begin().await?;
    let resolved = sqlx::query_as::<_, Resolved>(
        "UPDATE memory_conflicts SET status = 'resolved', answer = $1, resolved_at = $2 \
         WHERE id = $3 AND passport_id = $4 AND status = 'open' \
         RETURNING memory_id, candidate_content, category, importance, source_agent_id",
    )
    .bind(answer.as_str())
    .bind(now)
    .bind(conflict_id)
    .bind(passport_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(r) = resolved else { return Ok(false) };
    let category = Category::parse(&r.category).unwrap_or(Category::Fact);
    match answer {
        ConflictAnswer::A => {}
        ConflictAnswer::B => {
            rewrite(&mut tx, passport_id, &r.memory_id, &r.candidate_content, category, now).await?;
            changed(&mut tx, passport_id, Change { touched: &[&r.memory_id], ..Default::default() }).await?;
        }
        ConflictAnswer::Both => {
            let item = Extracted {
                slot: crate::domain::extract::slot_of_statement(&r.candidate_content),
                content: r.candidate_content.clone(),
                category,
                importance: r.importance.clamp(1, 10) as u8,
                turn_id: None,
                said_at: None,
                message: None,
                source: None,
                happened: None,
                embedding: None, context: None, previous: None, turn_embedding: None,
            };
            let source = Source { agent_id: r.source_agent_id.as_deref(), job_id: None };
            let id = new_ordered_id();
            insert(&mut tx, &id, passport_id, &source, &item, &content_key(&item.content), now).await?;
            changed(&mut tx, passport_id, Change { added: 1, touched: &[&id], removed: &[] }).await?;
        }
        ConflictAnswer::Neither => {
            sqlx::query("UPDATE memories SET flag = 'incorrect', updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(&r.memory_id)
                .execute(&mut *tx)
                .await?;
            changed(&mut tx, passport_id, Change { touched: &[&r.memory_id], ..Default::default() }).await?;
        }
    }
    tx.commit().await?;
    Ok(true)
}

/// The category of one of a person's memories.
pub async fn category_of(db: &Db, passport_id: &str, memory_id: &str) -> StoreResult<Option<Category>> {
    if !super::is_id(memory_id) {
        return Ok(None);
    }
    let c: Option<String> = sqlx::query_scalar("SELECT category FROM memories WHERE id = $1 AND passport_id = $2")
        .bind(memory_id)
        .bind(passport_id)
        .fetch_optional(&db.pool)
        .await?;
    Ok(c.as_deref().and_then(Category::parse))
}
