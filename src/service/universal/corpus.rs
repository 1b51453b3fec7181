//! Each node keeps a person's servable memories in memory, with a ranking index, so a
//! retrieve costs one small query (the revision, read with the credentials) instead of
//! loading and tokenizing every memory. Any change to the person's memories bumps the
//! revision in the database, so every node notices on its next request.
use crate::domain::categories::Category;
use crate::domain::dense::Quantized;
use crate::domain::rank::Index;
use crate::store::memories::EMBEDDING_DIM as DIM;
use crate::store::memories::{self, Servable};
use crate::store::{now_ms, Db, StoreResult};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

/// How often each node checks its cache against the database (see `drop_stale`).
pub const STALE_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// People whose memories one node keeps at once; the least recently used go first.
pub const MAX_CACHED_PASSPORTS: usize = 4_096;

/// The most memory (bytes, estimated) one node spends on cached people: past it, the least
/// recently used go first. About 1 KB a memory (text, ids, index postings, its vector).
pub const MAX_CACHED_BYTES: usize = 1 << 30;

/// A person's servable memories, their ranking index, and each grant's use of them.
#[derive(Debug)]
pub struct Corpus {
    pub rev: i64,
    pub memories: Vec<Servable>,
    pub index: Index,
    /// Each memory's quantised embedding, `DIM` bytes apiece, and its scale (0: none, or one
    /// from another model).
    vectors: Vec<i8>,
    scales: Vec<f32>,
    /// See `freshest`.
    freshest: i64,
    /// See `has_vectors` (asked on every retrieve; worked out once).
    has_vectors: bool,
    /// What this corpus holds in memory, estimated (see `MAX_CACHED_BYTES`).
    pub bytes: usize,
    /// (memory index, grant id) → (uses, last use). Per grant, because an agent may learn how
    /// often it used a memory, never how often other apps did.
    uses: Mutex<HashMap<(u32, String), (i64, i64)>>,
    last_hit: AtomicI64,
}

impl Corpus {
    pub fn new(rev: i64, mut memories: Vec<Servable>, uses: Vec<(String, String, i64, i64)>, model: Option<&str>) -> Corpus {
        let index = Index::new(memories.iter().map(|m| (m.content.as_str(), m.importance, group(m.category))));
        let mut vectors = vec![0i8; memories.len() * DIM];
        let mut scales = vec![0f32; memories.len()];
        for (i, m) in memories.iter_mut().enumerate() {
            // Moved out of the memory: the cache keeps one flat copy.
            if let Some((v, of)) = m.embedding.take() {
                if Some(of.as_str()) == model && v.values.len() == DIM {
                    vectors[i * DIM..(i + 1) * DIM].copy_from_slice(&v.values);
                    scales[i] = v.scale;
                }
            }
        }
        let position: HashMap<&str, u32> = memories.iter().enumerate().map(|(i, m)| (m.id.as_str(), i as u32)).collect();
        let uses = uses
            .into_iter()
            .filter_map(|(memory_id, grant_id, n, last)| Some(((*position.get(memory_id.as_str())?, grant_id), (n, last))))
            .collect();
        // Text and ids, the struct itself, the postings (a term occurrence ≈ 16 B with the
        // map's share), the vector and its scale.
        let bytes = memories.iter().map(|m| m.content.len() * 2 + m.id.len() + std::mem::size_of::<Servable>() + 16 * m.content.len() / 6).sum::<usize>()
            + vectors.len()
            + scales.len() * 4;
        let has_vectors = scales.iter().any(|s| *s > 0.0);
        let mut corpus =
            Corpus { rev, memories, index, vectors, scales, freshest: 0, has_vectors, bytes, uses: Mutex::new(uses), last_hit: AtomicI64::new(now_ms()) };
        corpus.freshest = (0..corpus.memories.len()).map(|i| corpus.touched_at(i)).max().unwrap_or(0);
        corpus
    }

    /// True when some memory has a vector of the loaded model.
    pub fn has_vectors(&self) -> bool {
        self.has_vectors
    }

    /// Every memory's cosine similarity to the query vector (0 for those without a vector).
    pub fn similarities(&self, q: &Quantized) -> Vec<f32> {
        if q.values.len() != DIM {
            return vec![0.0; self.scales.len()];
        }
        self.vectors
            .chunks_exact(DIM)
            .zip(&self.scales)
            .map(|(v, s)| if *s == 0.0 { 0.0 } else { q.dot_with(v, *s) })
            .collect()
    }

    /// The index's group mask of `granted`: ranking reads only these categories' statistics.
    pub fn groups(granted: &[Category]) -> u8 {
        granted.iter().fold(0u8, |mask, c| mask | (1u8 << group(*c)))
    }

    /// True when memory `i` is in one of the `granted` categories.
    pub fn eligible(&self, i: usize, granted: &[Category]) -> bool {
        granted.contains(&self.memories[i].category)
    }

    /// How fresh memory `i` is, for ranking: when the person said it (an app's
    /// `occurred_at`), else when it was made or last changed. Use by agents does not count,
    /// so one agent's reading cannot shift another's results.
    pub fn touched_at(&self, i: usize) -> i64 {
        let m = &self.memories[i];
        let changed = if m.updated_at > m.created_at { Some(m.updated_at) } else { None };
        changed.or(m.said_at).unwrap_or(m.created_at)
    }

    /// The freshest memory's time: recency is measured back from it, so what the person said
    /// last ranks as new however long ago the conversation was.
    pub fn freshest(&self) -> i64 {
        self.freshest
    }

    /// Counts one use of memory `i` by `grant_id` and returns that grant's (uses, last use).
    pub fn use_by(&self, i: usize, grant_id: &str, at: i64) -> (i64, i64) {
        let mut uses = self.uses.lock().expect("uses lock");
        let e = uses.entry((i as u32, grant_id.to_string())).or_insert((0, at));
        e.0 += 1;
        e.1 = e.1.max(at);
        *e
    }
}

/// A category's group in the ranking index (its place among the six).
fn group(c: Category) -> u8 {
    Category::ALL.iter().position(|x| *x == c).unwrap_or(0) as u8
}

#[derive(Debug, Default)]
pub struct CorpusCache {
    map: Mutex<HashMap<String, Arc<Corpus>>>,
    /// One lock per person being loaded.
    loading: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    loads: std::sync::atomic::AtomicUsize,
}

impl CorpusCache {
    /// The person's corpus at revision `rev` or later, loading it when the cached one is older.
    /// Loads of one person are single-flight: concurrent requests wait for the first load
    /// instead of each reading and indexing every memory.
    pub async fn get(&self, db: &Db, passport_id: &str, rev: i64, model: Option<&'static str>) -> StoreResult<Arc<Corpus>> {
        if let Some(c) = self.lookup(passport_id, rev) {
            return Ok(c);
        }
        let flight = self.loading.lock().expect("loading lock").entry(passport_id.to_string()).or_default().clone();
        let _turn = flight.lock().await;
        let loaded = self.load(db, passport_id, rev, model).await;
        self.loading.lock().expect("loading lock").remove(passport_id);
        loaded
    }

    async fn load(&self, db: &Db, passport_id: &str, rev: i64, model: Option<&'static str>) -> StoreResult<Arc<Corpus>> {
        // Another request may have loaded it while this one waited its turn.
        if let Some(c) = self.lookup(passport_id, rev) {
            return Ok(c);
        }
        self.loads.fetch_add(1, Ordering::Relaxed);
        // Loaded after `rev` was read, so it holds at least that revision's memories. Indexing
        // is CPU work: it runs off the async threads.
        let (servable, uses) = (memories::servable(db, passport_id).await?, memories::uses_for_person(db, passport_id).await?);
        let corpus = tokio::task::spawn_blocking(move || Corpus::new(rev, servable, uses, model))
            .await
            .map(Arc::new)
            .map_err(|e| crate::store::StoreError::Corrupt(format!("indexing failed: {e}")))?;
        let mut map = self.map.lock().expect("cache lock");
        let current = match map.get(passport_id) {
            Some(current) if current.rev > rev => current.clone(),
            _ => {
                map.insert(passport_id.to_string(), corpus.clone());
                corpus
            }
        };
        // Within both bounds, least recently used first; the one just asked for stays.
        let mut total: usize = map.values().map(|c| c.bytes).sum();
        while map.len() > 1 && (map.len() > MAX_CACHED_PASSPORTS || total > MAX_CACHED_BYTES) {
            let Some(oldest) = map
                .iter()
                .filter(|(k, _)| k.as_str() != passport_id)
                .min_by_key(|(_, c)| c.last_hit.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            total -= map.remove(&oldest).map_or(0, |c| c.bytes);
        }
        Ok(current)
    }

    /// How many times this node has read and indexed a person's memories (for tests and
    /// metrics: single flight keeps it at one per change).
    pub fn loads(&self) -> usize {
        self.loads.load(Ordering::Relaxed)
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

    /// Whether this node holds a person's memories now.
    pub fn holds(&self, passport_id: &str) -> bool {
        self.map.lock().expect("cache lock").contains_key(passport_id)
    }

    /// Drops every cached person whose Passport is gone (deleted on any node) or whose
    /// memories changed since they were cached; returns how many. Every node runs it every
    /// `STALE_CHECK_EVERY`, so a deleted Passport's memories leave every node's memory too.
    pub async fn drop_stale(&self, db: &Db) -> StoreResult<usize> {
        let cached: Vec<(String, i64)> = self.map.lock().expect("cache lock").iter().map(|(k, c)| (k.clone(), c.rev)).collect();
        let mut dropped = 0;
        for chunk in cached.chunks(500) {
            let ids: Vec<String> = chunk.iter().map(|(id, _)| id.clone()).collect();
            let live: HashMap<String, i64> = crate::store::passports::revisions(db, &ids).await?.into_iter().collect();
            let mut map = self.map.lock().expect("cache lock");
            for (id, rev) in chunk {
                let stale = live.get(id).is_none_or(|now| now > rev);
                if stale && map.get(id).is_some_and(|c| c.rev == *rev) {
                    map.remove(id);
                    dropped += 1;
                }
            }
        }
        Ok(dropped)
    }
}
