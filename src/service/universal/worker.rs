//! Workers that turn queued add jobs into memories. Any number may run on any number of
//! nodes: a job is claimed atomically, and finishing it is guarded by that claim inside the
//! same transaction as the memories it writes, so a job is applied exactly once.
use super::Universal;
use crate::domain::dense::Quantized;
use crate::domain::categories::Category;
use crate::domain::extract::{self, Extracted, Role};
use crate::domain::plan;
use crate::embed::Embedder;
use crate::store::jobs::{self, Claimed, Outcome};
use crate::store::memories::{self, Source};
use crate::store::{grants, new_ordered_id, now_ms, Db, StoreResult};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// Jobs one worker claims at a time.
const BATCH: i64 = 16;
/// How often an idle worker looks for jobs queued by other nodes or left by dead workers.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// A job that keeps failing is given up after this many attempts.
pub const MAX_ATTEMPTS: i64 = 5;

/// What an add job carries.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Payload {
    pub messages: Vec<Message>,
    #[serde(default)]
    pub metadata: serde_json::Value,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Message {
    pub role: String,
    pub content: String,
    /// When it was said (ms); the add's arrival when the app did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub occurred_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_turn_id: Option<String>,
    /// direct_user_input, assistant_output, tool_output, fetched_document,
    /// system_instruction or client_assertion; None when the app did not label it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_kind: Option<String>,
    /// A memory the assistant proposes (content, category), stored as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed_memory: Option<(String, String)>,
}

impl Message {
    /// Only what the person said themselves is read for memories: a user turn that is
    /// direct input (or unlabelled), never tool output, fetched documents or instructions.
    pub fn is_persons_own_words(&self) -> bool {
        Role::parse(&self.role) == Some(Role::User) && self.source_kind.as_deref().is_none_or(|k| k == "direct_user_input")
    }
}

/// The summary stored with a completed job and shown to the agent that sent it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct JobResult {
    pub created_memory_ids: Vec<String>,
    pub extracted: usize,
    pub duplicates: usize,
    pub conflicts: usize,
    /// Conflicts dropped because this app already has the most open questions it may raise.
    #[serde(default)]
    pub questions_dropped: usize,
    pub outside_grant: usize,
    pub over_limit: usize,
}

pub fn spawn(db: Db, universal: Arc<Universal>, workers: usize, claim_ms: i64) {
    for _ in 0..workers {
        let (db, universal) = (db.clone(), universal.clone());
        tokio::spawn(async move {
            loop {
                match run_once_with(&db, universal.embedder.as_ref(), claim_ms).await {
                    Ok(0) => {
                        let _ = tokio::time::timeout(IDLE_POLL, universal.jobs_ready.notified()).await;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "job worker: claiming failed");
                        tokio::time::sleep(IDLE_POLL).await;
                    }
                }
            }
        });
    }
}

/// Claims and processes one batch; returns how many jobs it took. The batch is written in
/// one transaction (one commit instead of one per job), in the order of the people it
/// concerns so two batches cannot deadlock on PostgreSQL; if that fails, each job is tried on
/// its own so one bad job cannot hold back the others.
pub async fn run_once(db: &Db, claim_ms: i64) -> StoreResult<usize> {
    run_once_with(db, None, claim_ms).await
}

/// As `run_once`, giving each new memory its sentence embedding from `embedder`.
pub async fn run_once_with(db: &Db, embedder: Option<&Arc<Embedder>>, claim_ms: i64) -> StoreResult<usize> {
    let mut claimed = jobs::claim(db, BATCH, claim_ms).await?;
    claimed.sort_by(|a, b| (&a.passport_id, &a.id).cmp(&(&b.passport_id, &b.id)));
    let mut planned: Vec<(&Claimed, Plan)> = claimed.iter().map(|job| (job, plan(job))).collect();
    match embedder {
        Some(e) => {
            // The transformer reads a longer text well; the distilled table averages its words,
            // so more text only blurs it (own set, static: 0.804 → 0.793 at 10 with it).
            if e.model_id() == crate::embed::FULL_ID {
                // The batch is committed at once, so a message whose predecessor is in the same
                // batch finds it here, not in the store (the batch is in the order jobs came).
                let mut in_batch: std::collections::HashMap<(String, String), Before> = std::collections::HashMap::new();
                // What the app may write for each person, as the commit will check it: only
                // those statements are handed on, as the store would hand on only those kept.
                let mut writable: std::collections::HashMap<(String, String), Vec<Category>> = std::collections::HashMap::new();
                // How many of each person's jobs are still to come: the last one hands on nothing.
                let mut to_come: std::collections::HashMap<(String, String), usize> = std::collections::HashMap::new();
                for (job, _) in planned.iter().filter(|(_, p)| matches!(p, Plan::Extract(_))) {
                    *to_come.entry((job.passport_id.clone(), job.agent_id.clone())).or_default() += 1;
                }
                for (job, p) in planned.iter_mut() {
                    if let Plan::Extract(found) = p {
                        let key = (job.passport_id.clone(), job.agent_id.clone());
                        let later = to_come.get_mut(&key).map(|n| {
                            *n -= 1;
                            *n
                        });
                        // Without it the memory is still stored and found, only read alone.
                        if let Err(err) = with_what_came_before(db, job, in_batch.get(&key), found).await {
                            tracing::warn!(error = %err, job_id = %job.id, "reading what came before failed; the turn is read alone");
                        }
                        if let Some(said) = said_at_of(found).filter(|_| later.unwrap_or(0) > 0) {
                            if !writable.contains_key(&key) {
                                let granted = grants::writable_categories_now(db, &job.passport_id, &job.agent_id, now_ms()).await;
                                let granted = granted.unwrap_or_else(|err| {
                                    tracing::warn!(error = %err, job_id = %job.id, "reading the grant failed; nothing of this job is handed on");
                                    None
                                });
                                writable.insert(key.clone(), granted.unwrap_or_default());
                            }
                            let granted = &writable[&key];
                            let mut contents = found
                                .iter()
                                .filter(|f| f.source.is_some() && granted.contains(&f.category))
                                .map(|f| f.content.clone())
                                .collect::<Vec<_>>();
                            // The last ones, as many as the store hands on.
                            contents.drain(..contents.len().saturating_sub(memories::SAID_JUST_BEFORE));
                            if !contents.is_empty() {
                                in_batch.insert(key, (said, contents));
                            }
                        }
                    }
                }
            }
            embed_planned(e, &mut planned).await
        }
        // Without a model no vector is made later either: the message is not kept.
        None => planned.iter_mut().for_each(|(_, p)| {
            if let Plan::Extract(found) = p {
                found.iter_mut().for_each(|f| {
                    f.context = None;
                    f.previous = None;
                });
            }
        }),
    }
    if let Err(e) = apply_all(db, &planned).await {
        tracing::warn!(error = %e, jobs = planned.len(), "job batch failed; trying each job alone");
        for one in &planned {
            if let Err(e) = apply_all(db, std::slice::from_ref(one)).await {
                let delay = retry_delay_ms(one.0.attempts);
                tracing::warn!(error = %e, job_id = %one.0.id, attempt = one.0.attempts, retry_in_ms = delay, "job failed; it will be retried");
                // Most failures are a busy database: try again soon, later each time. If even
                // this fails, the claim runs out and another attempt follows.
                let _ = jobs::retry_after(db, one.0, delay).await;
            }
        }
    }
    Ok(claimed.len())
}

/// Gives every planned statement its vector at once, off the async threads: the final one,
/// or in `mixed` mode the table's, with the message kept beside the memory until the background
/// replaces it with the transformer's (`backfill_once`). A failure leaves them to the backfill.
async fn embed_planned(e: &Arc<Embedder>, planned: &mut [(&Claimed, Plan)]) {
    // Each statement's text, then its turn's when it has one.
    let texts: Vec<String> = planned
        .iter()
        .flat_map(|(_, p)| match p {
            Plan::Extract(found) => found.iter().flat_map(|f| std::iter::once(embedding_text(f)).chain(turn_text(f))).collect(),
            Plan::Fail(_) => Vec::new(),
        })
        .collect();
    if texts.is_empty() {
        return;
    }
    let (vectors, model) = match off_thread(e, texts, Embedder::embed_now).await {
        Ok(v) => v,
        Err(err) => return tracing::warn!(error = %err, "embedding new memories failed; the backfill will"),
    };
    let upgraded_later = !e.final_models().contains(&model);
    let mut vectors = vectors.into_iter();
    for (_, p) in planned.iter_mut() {
        if let Plan::Extract(found) = p {
            for f in found.iter_mut() {
                f.embedding = vectors.next().map(|v| (Quantized::new(&v), model.to_string()));
                if turn_before(f.previous.as_deref()).is_some() {
                    f.turn_embedding = vectors.next().map(|v| Quantized::new(&v));
                }
                if !upgraded_later {
                    // The message and the turn before are read for the vectors, never stored.
                    f.context = None;
                    f.previous = None;
                }
            }
        }
    }
}

/// How much of the message around a memory its embedding reads.
const MAX_CONTEXT_CHARS: usize = 1_000;

/// What a new memory's vector is made from: its words, then the message they came from.
fn embedding_text(f: &extract::Extracted) -> String {
    with_context(&f.content, f.context.as_deref())
}

fn with_context(content: &str, context: Option<&str>) -> String {
    match context {
        Some(context) if context.trim() != content.trim() => format!("{content}\n{context}"),
        _ => content.to_string(),
    }
}

/// How far back the person's earlier words to this app still belong to the same
/// conversation, for reading a new turn in its light.
const SESSION_MS: i64 = 2 * 60 * 60 * 1000;

/// What a message of the person's was found to say, and when: (said at, its memories in order).
type Before = (i64, Vec<String>);

/// When the person said the message the statements came from.
fn said_at_of(found: &[Extracted]) -> Option<i64> {
    found.iter().filter(|f| f.source.is_some()).find_map(|f| f.said_at)
}

/// Puts what the person told this app just before (the memories of its previous message, said
/// within `SESSION_MS`) ahead of the turn before each new statement, for its second vector:
/// "He snores like an old man." is then read after "This is Biscuit, a beagle mix." Only this
/// app's own memories of this person are read, and the text is dropped with the turn before.
async fn with_what_came_before(db: &Db, job: &Claimed, in_batch: Option<&Before>, found: &mut [Extracted]) -> StoreResult<()> {
    let Some(said) = said_at_of(found) else { return Ok(()) };
    let from = said - SESSION_MS;
    let stored = memories::said_just_before(db, &job.passport_id, &job.agent_id, &job.id, from, said).await?;
    // The later of the two; on a tie the batch's, which came after what was stored.
    let batch = in_batch.filter(|(at, _)| (from..=said).contains(at));
    let earlier = match (stored, batch) {
        (Some(s), Some(b)) if s.0 > b.0 => s.1,
        (_, Some(b)) => b.1.clone(),
        (Some(s), None) => s.1,
        (None, None) => return Ok(()),
    };
    if earlier.is_empty() {
        return Ok(());
    }
    // In the order they were said.
    let earlier: String = earlier.join(" ");
    for f in found.iter_mut().filter(|f| f.source.is_some()) {
        let joined = match f.previous.take() {
            Some(turn) => format!("{earlier}\n{turn}"),
            None => earlier.clone(),
        };
        f.previous = Some(joined.chars().take(2 * MAX_CONTEXT_CHARS).collect());
    }
    Ok(())
}

/// What a memory's second vector is made from: the other side's turn before, then the
/// person's message (or the memory, when it is the whole message). None without a turn before.
fn turn_text(f: &extract::Extracted) -> Option<String> {
    with_turn_before(&f.content, f.context.as_deref(), f.previous.as_deref())
}

fn with_turn_before(content: &str, context: Option<&str>, before: Option<&str>) -> Option<String> {
    Some(format!("{}\n{}", turn_before(before)?, context.unwrap_or(content)))
}

/// The turn before, when there is one to read: whether a statement has a second vector.
fn turn_before(before: Option<&str>) -> Option<&str> {
    before.map(str::trim).filter(|b| !b.is_empty())
}

/// Runs one of the embedder's ways of embedding on a blocking thread (the transformer takes
/// milliseconds a sentence).
async fn off_thread<T: Send + 'static>(
    e: &Arc<Embedder>,
    texts: Vec<String>,
    embed: fn(&Embedder, &[&str]) -> Result<T, crate::embed::EmbedError>,
) -> Result<T, String> {
    let e = e.clone();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        embed(&e, &refs).map_err(|err| format!("embedding: {err}"))
    })
    .await
    .map_err(|err| format!("embedding task: {err}"))?
}

/// How many memories the backfill embeds per round (a round of the transformer takes a few
/// hundred milliseconds of one core).
const BACKFILL_BATCH: i64 = 16;
/// A round waits until no agent's request has arrived for this long...
const BACKFILL_QUIET_MS: i64 = 100;
/// ...but never longer than this since the last round, so a server that is never quiet still
/// upgrades its vectors, one short round at a time.
const BACKFILL_MAX_WAIT: Duration = Duration::from_secs(30);

/// Embeds, in the background, the memories whose vector is missing or not final: those made
/// before a model was configured, corrected by their person, whose worker could not embed
/// them, or (`mixed` mode) holding the table's quick vector. Requests come first: a round
/// starts in a pause between them (or after `BACKFILL_MAX_WAIT`). Rounds follow each other
/// while there is work, else every 2 seconds.
pub fn spawn_backfill(db: Db, universal: Arc<Universal>) {
    let Some(e) = universal.embedder.clone() else { return };
    tokio::spawn(async move {
        loop {
            let waiting = std::time::Instant::now();
            while universal.quiet_for_ms() < BACKFILL_QUIET_MS && waiting.elapsed() < BACKFILL_MAX_WAIT {
                tokio::time::sleep(Duration::from_millis(BACKFILL_QUIET_MS as u64)).await;
            }
            let full = match backfill_once(&db, &e).await {
                Ok(n) => n as i64 == BACKFILL_BATCH,
                Err(err) => {
                    tracing::warn!(error = %err, "embedding backfill failed");
                    false
                }
            };
            if !full {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    });
}

/// One round of the backfill; returns how many memories it looked at.
pub async fn backfill_once(db: &Db, e: &Arc<Embedder>) -> StoreResult<usize> {
    let todo = memories::without_embedding(db, e.final_models(), BACKFILL_BATCH).await?;
    if todo.is_empty() {
        return Ok(0);
    }
    let n = todo.len();
    let mut texts: Vec<String> = Vec::with_capacity(2 * n);
    for m in &todo {
        texts.push(with_context(&m.content, m.context.as_deref()));
        texts.extend(with_turn_before(&m.content, m.context.as_deref(), m.before.as_deref()));
    }
    let mut vectors = off_thread(e, texts, Embedder::embed_in_background).await.map_err(crate::store::StoreError::Corrupt)?.into_iter();
    let items: Vec<memories::NewVectors> = todo
        .into_iter()
        .filter_map(|m| {
            let memory = Quantized::new(&vectors.next()?);
            // As the texts were made: a turn's vector only where there was a turn before.
            let turn = if turn_before(m.before.as_deref()).is_some() { vectors.next().map(|v| Quantized::new(&v)) } else { None };
            Some(memories::NewVectors { id: m.id, passport_id: m.passport_id, content: m.content, memory, turn })
        })
        .collect();
    memories::set_embeddings(db, e.model_id(), &items).await?;
    Ok(n)
}

/// How long a failed job waits before its next attempt: 250 ms, doubling per attempt, at most
/// 8 s (well inside a claim).
fn retry_delay_ms(attempts: i64) -> i64 {
    250 * (1_i64 << attempts.clamp(1, 6) - 1)
}

/// What to do with one job, decided before any write (no database work).
enum Plan {
    Fail(&'static str),
    Extract(Vec<extract::Extracted>),
}

fn plan(job: &Claimed) -> Plan {
    if job.attempts > MAX_ATTEMPTS {
        return Plan::Fail("gave_up_after_retries");
    }
    let Ok(payload) = serde_json::from_str::<Payload>(&job.payload) else { return Plan::Fail("unreadable_payload") };
    Plan::Extract(statements(&payload.messages))
}

/// What a conversation gives to remember: the person's own statements, each with its turn and
/// time (relative dates resolved against when it was said), and the memories the assistant
/// proposed, as given; at most one of each wording and `extract::MAX_PER_CONVERSATION` in all.
fn statements(messages: &[Message]) -> Vec<extract::Extracted> {
    let mut out: Vec<extract::Extracted> = Vec::new();
    let mut previous: Option<&str> = None;
    let mut last_was_assistant = false;
    for (place, m) in messages.iter().enumerate() {
        let said_on = m.occurred_at.map(crate::domain::when::date_of);
        // The second vector reads the assistant's turn before, not tools, documents or rules.
        let before = previous.filter(|_| last_was_assistant);
        let mut found = if m.is_persons_own_words() {
            extract::extract_turn(extract::Turn { text: &m.content, said_on, previous })
        } else {
            Vec::new()
        };
        previous = (!m.is_persons_own_words()).then_some(m.content.as_str());
        last_was_assistant = Role::parse(&m.role) == Some(Role::Assistant) && m.source_kind.as_deref().is_none_or(|k| k == "assistant_output");
        if let Some((content, category)) = &m.proposed_memory {
            if let Some(category) = crate::domain::categories::Category::parse(category) {
                found.push(extract::Extracted {
                    slot: extract::slot_of_statement(content),
                    content: content.clone(),
                    category,
                    importance: 6,
                    turn_id: None,
                    said_at: None,
                    message: None,
                    source: None,
                    happened: None,
                    embedding: None, context: None, previous: None, turn_embedding: None,
                });
            }
        }
        for mut f in found {
            if out.len() >= extract::MAX_PER_CONVERSATION {
                return out;
            }
            if out.iter().any(|e| e.content.eq_ignore_ascii_case(&f.content)) {
                continue;
            }
            f.turn_id = m.external_turn_id.clone();
            f.said_at = m.occurred_at;
            f.message = u32::try_from(place).ok();
            if f.source.is_some() {
                f.context = Some(m.content.chars().take(MAX_CONTEXT_CHARS).collect());
                f.previous = before.map(|b| b.chars().take(MAX_CONTEXT_CHARS).collect());
            }
            out.push(f);
        }
    }
    out
}

async fn apply_all(db: &Db, planned: &[(&Claimed, Plan)]) -> StoreResult<()> {
    let now = now_ms();
    let mut tx = db.pool.begin().await?;
    // Counted once the batch is committed.
    let (mut completed, mut created, mut failed): (u64, u64, Vec<&'static str>) = (0, 0, Vec::new());
    for (job, plan) in planned {
        let found = match plan {
            Plan::Fail(error) => {
                jobs::finish(&mut tx, job, Outcome::Failed { error }).await?;
                failed.push(*error);
                continue;
            }
            Plan::Extract(found) => found,
        };
        // Finishing first takes SQLite's write lock before any read, and proves the claim is
        // still ours; a job whose claim was taken over is left to its new owner.
        if !jobs::finish(&mut tx, job, Outcome::Completed { result: "{}" }).await? {
            continue;
        }
        // The grant as it is now, inside this transaction: a revocation that committed
        // before is honoured.
        let Some(granted) = grants::writable_categories(&mut tx, &job.passport_id, &job.agent_id, now).await? else {
            jobs::set_failed(&mut tx, &job.id, "write_not_permitted").await?;
            failed.push("write_not_permitted");
            continue;
        };
        let (kept, outside): (Vec<_>, Vec<_>) = found.iter().cloned().partition(|e| granted.contains(&e.category));
        let applied = keep(&mut tx, job, &granted, &kept).await?;
        let applied_inserted = applied.inserted;
        let result = JobResult {
            extracted: found.len(),
            duplicates: applied.duplicates,
            conflicts: applied.conflicts,
            questions_dropped: applied.questions_dropped,
            outside_grant: outside.len(),
            over_limit: applied.over_limit,
            created_memory_ids: applied.created_ids,
        };
        jobs::set_result(&mut tx, &job.id, &serde_json::to_string(&result).expect("serialises")).await?;
        completed += 1;
        created += applied_inserted as u64;
    }
    tx.commit().await?;
    metrics::counter!("memory_jobs_completed_total").increment(completed);
    metrics::counter!("memories_created_total").increment(created);
    for reason in failed {
        metrics::counter!("memory_jobs_failed_total", "reason" => reason).increment(1);
    }
    Ok(())
}

/// Stores what a job's extraction found (within the grant): the domain plans what to insert,
/// skip or ask from what the person holds, and the store carries the plan out, all in the
/// worker's transaction.
async fn keep(tx: &mut sqlx::Transaction<'_, sqlx::Any>, job: &Claimed, granted: &[Category], found: &[Extracted]) -> StoreResult<memories::Applied> {
    if found.is_empty() {
        return Ok(memories::Applied::default());
    }
    let held = memories::held_for(tx, &job.passport_id, Some(&job.agent_id), found).await?;
    let writer = plan::Writer { is_app: true, readable: Some(granted) };
    let steps = plan::plan(found, &held, writer, plan::Limits::PRODUCT, new_ordered_id);
    let source = Source { agent_id: Some(&job.agent_id), job_id: Some(&job.id) };
    memories::carry_out(tx, &job.passport_id, &source, found, &steps).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memory_is_embedded_with_the_message_it_came_from() {
        let messages: Vec<Message> = serde_json::from_value(serde_json::json!([
            { "role": "user", "content": "Hi! I went to a support group yesterday. It was so powerful. What should I read next?" },
            { "role": "user", "content": "My name is Ada." },
        ]))
        .unwrap();
        let found = statements(&messages);
        assert_eq!(found[0].content, "I went to a support group yesterday. It was so powerful.");
        assert_eq!(embedding_text(&found[0]), format!("{}\nHi! I went to a support group yesterday. It was so powerful. What should I read next?", found[0].content));
        assert_eq!(embedding_text(&found[1]), "My name is Ada.", "a memory that is its whole message is embedded once");
    }

    #[test]
    fn a_turn_is_read_after_the_assistants_turn_before_it_and_never_after_a_tool_or_a_document() {
        let messages: Vec<Message> = serde_json::from_value(serde_json::json!([
            { "role": "assistant", "content": "What are you calling the truck?" },
            { "role": "user", "content": "El Frijol. I named it after my cat." },
            { "role": "tool", "content": "weather: rain in Lisbon all week" },
            { "role": "user", "content": "I moved to Lisbon last year." },
            { "role": "assistant", "content": "Loading the page.", "source_kind": "fetched_document" },
            { "role": "user", "content": "I work as a nurse." },
            { "role": "user", "content": "I play the cello." },
        ]))
        .unwrap();
        let found = statements(&messages);
        let before: Vec<(&str, Option<&str>)> = found.iter().map(|f| (f.content.as_str(), f.previous.as_deref())).collect();
        assert_eq!(before[0].1, Some("What are you calling the truck?"), "{before:?}");
        assert_eq!(turn_text(&found[0]).as_deref(), Some("What are you calling the truck?\nEl Frijol. I named it after my cat."));
        assert!(before[1..].iter().all(|(_, b)| b.is_none()), "a tool's output, a document, or the person's own turn is not a question asked: {before:?}");
        assert!(found[1..].iter().all(|f| turn_text(f).is_none()));
    }

    #[test]
    fn a_failed_job_is_retried_sooner_than_its_claim_runs_out_and_later_each_time() {
        let delays: Vec<i64> = (1..=MAX_ATTEMPTS + 1).map(retry_delay_ms).collect();
        assert_eq!(delays, vec![250, 500, 1_000, 2_000, 4_000, 8_000]);
        assert!(delays.iter().all(|d| *d < jobs::CLAIM_MS));
    }
}
