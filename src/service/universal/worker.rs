//! Workers that turn queued add jobs into memories. Any number may run on any number of
//! nodes: a job is claimed atomically, and finishing it is guarded by that claim inside the
//! same transaction as the memories it writes, so a job is applied exactly once.
use super::Universal;
use crate::domain::extract::{self, Role};
use crate::store::jobs::{self, Claimed, Outcome};
use crate::store::memories::{self, Source};
use crate::store::{grants, now_ms, Db, StoreResult};
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
}

/// The summary stored with a completed job and shown to the agent that sent it.
#[derive(Debug, Default, Serialize, Deserialize, PartialEq)]
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
                match run_once(&db, claim_ms).await {
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
    let mut claimed = jobs::claim(db, BATCH, claim_ms).await?;
    claimed.sort_by(|a, b| (&a.passport_id, &a.id).cmp(&(&b.passport_id, &b.id)));
    let planned: Vec<(&Claimed, Plan)> = claimed.iter().map(|job| (job, plan(job))).collect();
    if let Err(e) = apply_all(db, &planned).await {
        tracing::warn!(error = %e, jobs = planned.len(), "job batch failed; trying each job alone");
        for one in &planned {
            if let Err(e) = apply_all(db, std::slice::from_ref(one)).await {
                // The claim runs out and another attempt follows.
                tracing::warn!(error = %e, job_id = %one.0.id, attempt = one.0.attempts, "job failed; it will be retried");
            }
        }
    }
    Ok(claimed.len())
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
    Plan::Extract(extract::extract(payload.messages.iter().filter_map(|m| Some((Role::parse(&m.role)?, m.content.as_str())))))
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
            sqlx::query("UPDATE memory_jobs SET status = 'failed', error = 'write_not_permitted', result = NULL WHERE id = $1")
                .bind(&job.id)
                .execute(&mut *tx)
                .await?;
            failed.push("write_not_permitted");
            continue;
        };
        let (kept, outside): (Vec<_>, Vec<_>) = found.iter().cloned().partition(|e| granted.contains(&e.category));
        let source = Source { agent_id: Some(&job.agent_id), job_id: Some(&job.id), readable: Some(&granted) };
        let applied = memories::apply(&mut tx, &job.passport_id, &source, &kept).await?;
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
