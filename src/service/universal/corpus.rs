//! Each node keeps a person's servable memories in memory, with a ranking index, so a
//! retrieve costs one small query (the revision, read with the credentials) instead of
//! loading and tokenizing every memory. Any change to the person's memories bumps the
//! revision in the database, so every node notices on its next request.
use crate::domain::categories::Category;
use crate::domain::rank::Index;
use crate::store::memories::{self, Servable};
use crate::store::{now_ms, Db, StoreResult};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

/// People whose memories one node keeps at once; the least recently used go first.
pub const MAX_CACHED_PASSPORTS: usize = 4_096;

/// One memory with its use counters (updated in place; written to the database in batches).
#[derive(Debug)]
pub struct Entry {
    pub memory: Servable,
    pub access_count: AtomicI64,
    /// 0 = never.
    pub last_accessed: AtomicI64,
}

impl Entry {
    pub fn touched_at(&self) -> i64 {
        self.last_accessed.load(Ordering::Relaxed).max(self.memory.created_at)
    }
}

#[derive(Debug)]
pub struct Corpus {
    pub rev: i64,
    pub entries: Vec<Entry>,
    pub index: Index,
    last_hit: AtomicI64,
}

impl Corpus {
    pub fn new(rev: i64, memories: Vec<Servable>) -> Corpus {
        let index = Index::new(memories.iter().map(|m| (m.content.as_str(), m.importance)));
        let entries = memories
            .into_iter()
            .map(|m| Entry {
                access_count: AtomicI64::new(m.access_count),
                last_accessed: AtomicI64::new(m.last_accessed.unwrap_or(0)),
                memory: m,
            })
            .collect();
        Corpus { rev, entries, index, last_hit: AtomicI64::new(now_ms()) }
    }

    /// True when `category` may be served under `granted`.
    pub fn eligible(&self, i: usize, granted: &[Category]) -> bool {
        granted.contains(&self.entries[i].memory.category)
    }
}

#[derive(Debug, Default)]
pub struct CorpusCache {
    map: Mutex<HashMap<String, Arc<Corpus>>>,
}

impl CorpusCache {
    /// The person's corpus at revision `rev` or later, loading it when the cached one is older.
    pub async fn get(&self, db: &Db, passport_id: &str, rev: i64) -> StoreResult<Arc<Corpus>> {
        if let Some(c) = self.lookup(passport_id, rev) {
            return Ok(c);
        }
        // Loaded after `rev` was read, so it holds at least that revision's memories.
        let corpus = Arc::new(Corpus::new(rev, memories::servable(db, passport_id).await?));
        let mut map = self.map.lock().expect("cache lock");
        if map.len() >= MAX_CACHED_PASSPORTS && !map.contains_key(passport_id) {
            if let Some(oldest) = map.iter().min_by_key(|(_, c)| c.last_hit.load(Ordering::Relaxed)).map(|(k, _)| k.clone()) {
                map.remove(&oldest);
            }
        }
        match map.get(passport_id) {
            Some(current) if current.rev > rev => Ok(current.clone()),
            _ => {
                map.insert(passport_id.to_string(), corpus.clone());
                Ok(corpus)
            }
        }
    }

    fn lookup(&self, passport_id: &str, rev: i64) -> Option<Arc<Corpus>> {
        let map = self.map.lock().expect("cache lock");
        let c = map.get(passport_id).filter(|c| c.rev >= rev)?;
        c.last_hit.store(now_ms(), Ordering::Relaxed);
        Some(c.clone())
    }

    /// Forgets a person (after their memories are deleted).
    pub fn forget(&self, passport_id: &str) {
        self.map.lock().expect("cache lock").remove(passport_id);
    }
}
