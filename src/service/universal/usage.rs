//! Uses of memories and grants, gathered in memory and written in one batch every second,
//! so serving a retrieve does not wait for a database write. A crash loses at most the last
//! second of use counts, which rank and display only.
use crate::store::memories::{self, Use};
use crate::store::Db;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

pub const FLUSH_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct UsageLog {
    pending: Mutex<Pending>,
}

#[derive(Debug, Default)]
struct Pending {
    /// (memory id, grant id) → (uses, last use)
    memories: HashMap<(String, String), (i64, i64)>,
    grants: HashMap<String, i64>,
}

impl UsageLog {
    pub fn record(&self, grant_id: &str, memory_ids: impl IntoIterator<Item = String>, at: i64) {
        let mut p = self.pending.lock().expect("usage lock");
        for id in memory_ids {
            let e = p.memories.entry((id, grant_id.to_string())).or_insert((0, at));
            e.0 += 1;
            e.1 = e.1.max(at);
        }
        let g = p.grants.entry(grant_id.to_string()).or_insert(at);
        *g = (*g).max(at);
    }

    /// Writes what has gathered. Rows are written in id order so two nodes flushing at once
    /// cannot deadlock on PostgreSQL.
    pub async fn flush(&self, db: &Db) {
        let taken = std::mem::take(&mut *self.pending.lock().expect("usage lock"));
        let mut uses: Vec<Use> = taken
            .memories
            .into_iter()
            .map(|((memory_id, grant_id), (times, at))| Use { memory_id, grant_id, times, at })
            .collect();
        uses.sort_by(|a, b| (&a.memory_id, &a.grant_id).cmp(&(&b.memory_id, &b.grant_id)));
        let mut grants: Vec<(String, i64)> = taken.grants.into_iter().collect();
        grants.sort();
        if let Err(e) = memories::record_use(db, &uses, &grants).await {
            tracing::warn!(error = %e, uses = uses.len(), "could not record memory use");
        }
    }
}
