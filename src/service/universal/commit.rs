//! Group commit for add jobs. Each add must be on disk before its 202, and on SQLite with
//! `synchronous = FULL` every commit is a disk flush; adds that arrive together are therefore
//! written in one transaction by one task, and each waits for that commit. Alone, an add is
//! committed at once (no timer); under load, batches form by themselves.
use crate::store::jobs::{self, NewJob};
use crate::store::{Db, StoreError, StoreResult};
use tokio::sync::{mpsc, oneshot};

/// Jobs written in one transaction at most.
const MAX_BATCH: usize = 128;
/// Adds waiting for the committer at most; more wait to be queued (backpressure).
const QUEUE: usize = 4_096;

pub struct OwnedJob {
    pub agent_id: String,
    pub passport_id: String,
    pub idempotency_key: Option<String>,
    pub payload: String,
}

type Reply = oneshot::Sender<StoreResult<(String, String)>>;

#[derive(Clone, Debug)]
pub struct Committer {
    tx: mpsc::Sender<(OwnedJob, Reply)>,
}

impl Committer {
    /// Starts the committing task for `db`.
    pub fn spawn(db: Db) -> Committer {
        let (tx, mut rx) = mpsc::channel::<(OwnedJob, Reply)>(QUEUE);
        tokio::spawn(async move {
            let mut batch = Vec::with_capacity(MAX_BATCH);
            while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
                write(&db, std::mem::take(&mut batch)).await;
            }
        });
        Committer { tx }
    }

    /// Stores the job durably; returns (job id, status) once it is committed.
    pub async fn enqueue(&self, job: OwnedJob) -> StoreResult<(String, String)> {
        let (reply, answer) = oneshot::channel();
        self.tx.send((job, reply)).await.map_err(|_| StoreError::Corrupt("the job committer stopped".into()))?;
        answer.await.map_err(|_| StoreError::Corrupt("the job committer stopped".into()))?
    }
}

async fn write(db: &Db, batch: Vec<(OwnedJob, Reply)>) {
    let borrowed: Vec<NewJob> = batch
        .iter()
        .map(|(j, _)| NewJob { agent_id: &j.agent_id, passport_id: &j.passport_id, idempotency_key: j.idempotency_key.as_deref(), payload: &j.payload })
        .collect();
    match jobs::enqueue_many(db, &borrowed).await {
        Ok(answers) => {
            for ((_, reply), answer) in batch.into_iter().zip(answers) {
                let _ = reply.send(Ok(answer));
            }
        }
        // One bad job must not fail the others: each is tried alone.
        Err(_) if batch.len() > 1 => {
            for (job, reply) in batch {
                let one = NewJob { agent_id: &job.agent_id, passport_id: &job.passport_id, idempotency_key: job.idempotency_key.as_deref(), payload: &job.payload };
                let _ = reply.send(jobs::enqueue(db, &one).await);
            }
        }
        Err(e) => {
            if let Some((_, reply)) = batch.into_iter().next() {
                let _ = reply.send(Err(e));
            }
        }
    }
}
