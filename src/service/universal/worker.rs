//! Workers that turn queued add jobs into memories. Any number may run on any number of
//! nodes: a job is claimed atomically, and finishing it is guarded by that claim inside the
//! same transaction as the memories it writes, so a job is applied exactly once.
use super::Universal;
use crate::domain::agent::AccessType;
use crate::domain::categories::Category;
use crate::domain::extract::{self, Role};
use crate::store::jobs::{self, Claimed, Outcome};
use crate::store::memories::{self, Source};
use crate::store::{agents, grants, now_ms, Db, StoreResult};
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
    pub outside_grant: usize,
    pub over_limit: usize,
}

pub fn spawn(db: Db, universal: Arc<Universal>, workers: usize) {
    for _ in 0..workers {
        let (db, universal) = (db.clone(), universal.clone());
        tokio::spawn(async move {
            loop {
                match run_once(&db).await {
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
/// one transaction (one commit instead of one per job); if that fails, each job is tried on
/// its own so one bad job cannot hold back the others.
pub async fn run_once(db: &Db) -> StoreResult<usize> {
    let claimed = jobs::claim(db, BATCH).await?;
    let mut planned = Vec::with_capacity(claimed.len());
    for job in &claimed {
        planned.push((job, plan(db, job).await?));
    }
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

/// What to do with one job, decided before any write.
enum Plan {
    Fail(&'static str),
    Apply { kept: Vec<extract::Extracted>, extracted: usize, outside: usize },
}

async fn plan(db: &Db, job: &Claimed) -> StoreResult<Plan> {
    if job.attempts > MAX_ATTEMPTS {
        return Ok(Plan::Fail("gave_up_after_retries"));
    }
    let Ok(payload) = serde_json::from_str::<Payload>(&job.payload) else { return Ok(Plan::Fail("unreadable_payload")) };
    let Some(granted) = writable_categories(db, job).await? else { return Ok(Plan::Fail("write_not_permitted")) };
    let found = extract::extract(payload.messages.iter().filter_map(|m| Some((Role::parse(&m.role)?, m.content.as_str()))));
    let extracted = found.len();
    let (kept, outside): (Vec<_>, Vec<_>) = found.into_iter().partition(|e| granted.contains(&e.category));
    Ok(Plan::Apply { kept, extracted, outside: outside.len() })
}

async fn apply_all(db: &Db, planned: &[(&Claimed, Plan)]) -> StoreResult<()> {
    let mut tx = db.pool.begin().await?;
    for (job, plan) in planned {
        // Finishing first takes SQLite's write lock before any read, and proves the claim is
        // still ours; a job whose claim was taken over is left to its new owner.
        match plan {
            Plan::Fail(error) => {
                jobs::finish(&mut tx, job, Outcome::Failed { error }).await?;
            }
            Plan::Apply { kept, extracted, outside } => {
                if !jobs::finish(&mut tx, job, Outcome::Completed { result: "{}" }).await? {
                    continue;
                }
                let source = Source { agent_id: Some(&job.agent_id), job_id: Some(&job.id) };
                let applied = memories::apply(&mut tx, &job.passport_id, &source, kept).await?;
                let result = JobResult {
                    extracted: *extracted,
                    duplicates: applied.duplicates,
                    conflicts: applied.conflicts,
                    outside_grant: *outside,
                    over_limit: applied.over_limit,
                    created_memory_ids: applied.created_ids,
                };
                jobs::set_result(&mut tx, &job.id, &serde_json::to_string(&result).expect("serialises")).await?;
            }
        }
    }
    tx.commit().await?;
    Ok(())
}

/// The categories the job's agent may write for its person now, or `None` when it may not.
async fn writable_categories(db: &Db, job: &Claimed) -> StoreResult<Option<Vec<Category>>> {
    let Some(grant) = grants::find(db, &job.passport_id, &job.agent_id).await? else { return Ok(None) };
    let agent_live = agents::get(db, &job.agent_id).await?.is_some_and(|a| a.retired_at.is_none() && a.status.may_receive_grants());
    let ok = agent_live && grant.is_active(now_ms()) && grant.access_type == AccessType::ReadWrite;
    Ok(ok.then_some(grant.categories))
}
