//! The durable queue of add jobs. A job is written before the agent hears "queued"; workers
//! on any node claim jobs with one atomic UPDATE, and finishing is guarded by the claim, so a
//! job whose claim expired and was taken over is never finished twice.
use super::{is_id, new_id, new_ordered_id, now_ms, Db, StoreError, StoreResult};

/// A claim lasts this long by default (`JOB_CLAIM_SECONDS`); a worker that dies holding a job
/// releases it when it runs out.
pub const CLAIM_MS: i64 = 60_000;

#[derive(Clone, Debug, PartialEq, sqlx::FromRow)]
pub struct Job {
    pub id: String,
    pub agent_id: String,
    pub passport_id: String,
    pub status: String,
    pub attempts: i64,
    pub result: Option<String>,
    pub error: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
}

const COLUMNS: &str = "id, agent_id, passport_id, status, attempts, result, error, created_at, started_at, completed_at";

pub struct NewJob<'a> {
    pub agent_id: &'a str,
    pub passport_id: &'a str,
    pub idempotency_key: Option<&'a str>,
    /// The conversation as JSON.
    pub payload: &'a str,
}

/// Stores a job (durably, before returning) and gives its id and status; with an
/// idempotency key already used by this agent for this person, the existing job instead.
pub async fn enqueue(db: &Db, job: &NewJob<'_>) -> StoreResult<(String, String)> {
    let mut answers = enqueue_many(db, std::slice::from_ref(job)).await?;
    answers.pop().ok_or_else(|| StoreError::Corrupt("no answer for a queued job".into()))
}

/// Stores several jobs in one transaction (one commit, so one disk flush, for all of them),
/// with `enqueue`'s idempotency; the answers are in input order.
pub async fn enqueue_many(db: &Db, batch: &[NewJob<'_>]) -> StoreResult<Vec<(String, String)>> {
    let mut tx = db.pool.begin().await?;
    let mut out = Vec::with_capacity(batch.len());
    let now = now_ms();
    for job in batch {
        let id = new_ordered_id();
        let inserted = sqlx::query(
            "INSERT INTO memory_jobs (id, agent_id, passport_id, idempotency_key, payload, status, created_at) \
             VALUES ($1, $2, $3, $4, $5, 'queued', $6) \
             ON CONFLICT (agent_id, passport_id, idempotency_key) DO NOTHING",
        )
        .bind(&id)
        .bind(job.agent_id)
        .bind(job.passport_id)
        .bind(job.idempotency_key)
        .bind(job.payload)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 1 {
            out.push((id, "queued".to_string()));
            continue;
        }
        out.push(
            sqlx::query_as::<_, (String, String)>(
                "SELECT id, status FROM memory_jobs WHERE agent_id = $1 AND passport_id = $2 AND idempotency_key = $3",
            )
            .bind(job.agent_id)
            .bind(job.passport_id)
            .bind(job.idempotency_key)
            .fetch_one(&mut *tx)
            .await?,
        );
    }
    tx.commit().await?;
    Ok(out)
}

/// A job, only for the agent and person that created it.
pub async fn get_for(db: &Db, id: &str, agent_id: &str, passport_id: &str) -> StoreResult<Option<Job>> {
    if !is_id(id) {
        return Ok(None);
    }
    let sql = format!("SELECT {COLUMNS} FROM memory_jobs WHERE id = $1 AND agent_id = $2 AND passport_id = $3");
    Ok(sqlx::query_as::<_, Job>(&sql).bind(id).bind(agent_id).bind(passport_id).fetch_optional(&db.pool).await?)
}

/// A job taken by one worker.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Claimed {
    pub id: String,
    pub agent_id: String,
    pub passport_id: String,
    pub payload: String,
    pub attempts: i64,
    pub claimed_by: String,
}

/// Takes up to `n` jobs that are queued or whose claim ran out, oldest first, leaving those of
/// a person another claim is still working on: one person's messages are read in the order
/// they came, each after the memories of the one before (several of them may come in one
/// batch, which works them in order). Safe with many workers on many nodes: the status test is
/// repeated in the outer UPDATE, so if two claims ever meet on a row only the first changes
/// it (PostgreSQL re-checks the condition on the committed row; SQLite has one writer). On
/// PostgreSQL two claims at the same instant may still each take one of a person's jobs.
pub async fn claim(db: &Db, n: i64, claim_ms: i64) -> StoreResult<Vec<Claimed>> {
    let now = now_ms();
    let claimant = new_id();
    let takeable = "(status = 'queued' OR (status = 'processing' AND claimed_until < $3))";
    // PostgreSQL: rows another claim is taking are skipped rather than waited for, so
    // concurrent claims neither queue on the same oldest rows nor deadlock on them.
    let skip_locked = if db.backend == super::Backend::Postgres { " FOR UPDATE SKIP LOCKED" } else { "" };
    // The pick is a CTE so that it runs once: as a subquery of the UPDATE, PostgreSQL may run
    // it again per row and take more than `n`.
    let sql = format!(
        "WITH picked AS (SELECT id FROM memory_jobs WHERE {takeable} AND passport_id NOT IN \
         (SELECT passport_id FROM memory_jobs WHERE status = 'processing' AND claimed_until >= $3) \
         ORDER BY created_at, id LIMIT $4{skip_locked}) \
         UPDATE memory_jobs SET status = 'processing', claimed_by = $1, claimed_until = $2, attempts = attempts + 1, \
         started_at = COALESCE(started_at, $3) \
         WHERE id IN (SELECT id FROM picked) AND {takeable} \
         RETURNING id, agent_id, passport_id, payload, attempts, claimed_by"
    );
    Ok(sqlx::query_as::<_, Claimed>(&sql).bind(&claimant).bind(now + claim_ms).bind(now).bind(n).fetch_all(&db.pool).await?)
}

/// How a job ended.
pub enum Outcome<'a> {
    Completed { result: &'a str },
    Failed { error: &'a str },
}

/// Marks a claimed job finished, inside the caller's transaction, and clears its payload (the
/// conversation is not kept once processed). False when the claim is no longer ours: the
/// caller must then roll back everything it did for this job.
pub async fn finish(tx: &mut sqlx::Transaction<'_, sqlx::Any>, job: &Claimed, outcome: Outcome<'_>) -> StoreResult<bool> {
    let (status, result, error) = match outcome {
        Outcome::Completed { result } => ("completed", Some(result), None),
        Outcome::Failed { error } => ("failed", None, Some(error)),
    };
    let done = sqlx::query(
        "UPDATE memory_jobs SET status = $1, result = $2, error = $3, payload = '', completed_at = $4, \
         claimed_by = NULL, claimed_until = NULL \
         WHERE id = $5 AND claimed_by = $6 AND status = 'processing'",
    )
    .bind(status)
    .bind(result)
    .bind(error)
    .bind(now_ms())
    .bind(&job.id)
    .bind(&job.claimed_by)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Lets a job whose attempt failed be claimed again after `delay_ms` instead of when its
/// claim runs out (a minute), if the claim is still ours.
pub async fn retry_after(db: &Db, job: &Claimed, delay_ms: i64) -> StoreResult<()> {
    sqlx::query("UPDATE memory_jobs SET claimed_until = $1 WHERE id = $2 AND claimed_by = $3 AND status = 'processing'")
        .bind(now_ms() + delay_ms)
        .bind(&job.id)
        .bind(&job.claimed_by)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// Stores a finished job's summary (same transaction as `finish`).
/// Marks a claimed job failed with `error` (e.g. its grant no longer lets it write), inside
/// the worker's transaction.
pub async fn set_failed(tx: &mut sqlx::Transaction<'_, sqlx::Any>, id: &str, error: &str) -> StoreResult<()> {
    sqlx::query("UPDATE memory_jobs SET status = 'failed', error = $2, result = NULL WHERE id = $1")
        .bind(id)
        .bind(error)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn set_result(tx: &mut sqlx::Transaction<'_, sqlx::Any>, id: &str, result: &str) -> StoreResult<()> {
    sqlx::query("UPDATE memory_jobs SET result = $1 WHERE id = $2").bind(result).bind(id).execute(&mut **tx).await?;
    Ok(())
}

/// A person's jobs not yet processed: (id, status, payload, created at), oldest first.
pub async fn waiting_for_person(db: &Db, passport_id: &str) -> StoreResult<Vec<(String, String, String, i64)>> {
    Ok(sqlx::query_as(
        "SELECT id, status, payload, created_at FROM memory_jobs WHERE passport_id = $1 AND status IN ('queued', 'processing') \
         ORDER BY created_at",
    )
    .bind(passport_id)
    .fetch_all(&db.pool)
    .await?)
}

/// Jobs waiting or in progress (for metrics and tests).
pub async fn pending(db: &Db) -> StoreResult<i64> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM memory_jobs WHERE status IN ('queued', 'processing')")
        .fetch_one(&db.pool)
        .await?)
}
