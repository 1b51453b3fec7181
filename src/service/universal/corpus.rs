//! Each node keeps a person's servable memories in memory, with a ranking index, so a
//! retrieve costs one small query (the revision, read with the credentials) instead of
//! loading and tokenizing every memory. Any change to the person's memories bumps the
//! revision in the database, so every node notices on its next request, and then reads only
//! what changed since its own revision (`memories::changes_since`) and applies it to the
//! cached index in place: an add, edit, flag or delete costs the next retrieve a few rows, not
//! a reload. A cache too far behind (more than `MAX_CHANGES` rows, or older than the kept
//! removals) reloads the person, once at a time per person (single flight).
use crate::domain::categories::Category;
use crate::domain::dense::Quantized;
use crate::domain::rank::Index;
use crate::store::memories::EMBEDDING_DIM as DIM;
use crate::store::memories::{self, Changes, Servable};
use crate::store::{now_ms, Db, StoreResult};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// How often each node checks its cache against the database (see `drop_stale`).
pub const STALE_CHECK_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// The most changed rows a cache applies in place; past it, it reloads the person.
pub const MAX_CHANGES: usize = 2_000;

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
    /// Each memory's quantised embedding (its words with their message), and the one of the
    /// turn it came from with the turn before; `DIM` bytes apiece and a scale (0: none, or one
    /// from another model).
    vectors: Vectors,
    turn_vectors: Vectors,
    /// See `freshest`.
    freshest: i64,
    /// See `has_vectors` (asked on every retrieve; worked out once).
    has_vectors: bool,
    /// What this corpus holds in memory, estimated (see `MAX_CACHED_BYTES`).
    pub bytes: usize,
    /// Each live memory's place, by id (removed ones keep their place, out of every ranking).
    position: HashMap<String, u32>,
    /// When this corpus last followed the database (loaded or brought up to date).
    synced_at: i64,
    /// (memory index, grant id) → (uses, last use). Per grant, because an agent may learn how
    /// often it used a memory, never how often other apps did.
    uses: Mutex<HashMap<(u32, String), (i64, i64)>>,
    last_hit: AtomicI64,
}

impl Corpus {
    pub fn new(rev: i64, mut memories: Vec<Servable>, uses: Vec<(String, String, i64, i64)>, model: Option<&str>) -> Corpus {
        let index = Index::new(memories.iter().map(|m| (m.content.as_str(), m.importance, group(m.category))));
        let (mut vectors, mut turn_vectors) = (Vectors::default(), Vectors::default());
        for m in memories.iter_mut() {
            // Moved out of the memory: the cache keeps one flat copy.
            let (memory, turn) = take_vectors(m, model);
            vectors.push(memory.as_ref());
            turn_vectors.push(turn.as_ref());
        }
        let position: HashMap<String, u32> = memories.iter().enumerate().map(|(i, m)| (m.id.clone(), i as u32)).collect();
        let uses = uses
            .into_iter()
            .filter_map(|(memory_id, grant_id, n, last)| Some(((*position.get(memory_id.as_str())?, grant_id), (n, last))))
            .collect();
        let bytes = memories.iter().map(bytes_of).sum::<usize>();
        let has_vectors = vectors.any();
        let now = now_ms();
        let mut corpus = Corpus {
            rev,
            memories,
            index,
            vectors,
            turn_vectors,
            freshest: 0,
            has_vectors,
            bytes,
            position,
            synced_at: now,
            uses: Mutex::new(uses),
            last_hit: AtomicI64::new(now),
        };
        corpus.freshest = (0..corpus.memories.len()).map(|i| corpus.touched_at(i)).max().unwrap_or(0);
        corpus
    }

    /// Brings the corpus to revision `rev` with what changed since its own: each touched
    /// memory replaces its old self (or is added), a flagged or removed one leaves every
    /// ranking, and its text, vector and words leave memory. Ranks as a corpus loaded afresh.
    pub fn apply(&mut self, rev: i64, changes: Changes, model: Option<&str>) {
        let mut freshest_gone = false;
        // Where each memory taken out went: nowhere (removed, flagged) or its new place.
        let mut moved: HashMap<u32, Option<u32>> = HashMap::new();
        for id in &changes.removed {
            if let Some((old, freshest)) = self.take_out(id) {
                freshest_gone |= freshest;
                moved.insert(old, None);
            }
        }
        for (id, memory) in changes.touched {
            // A new vector for the same memory (the background's upgrade) takes the old one's
            // place: no words or uses move.
            let memory = match memory {
                Some(mut m) if self.differs_only_in_vector(&id, &m) => {
                    self.set_vector(self.position[&id] as usize, &mut m, model);
                    continue;
                }
                other => other,
            };
            let old = self.take_out(&id).map(|(old, freshest)| {
                freshest_gone |= freshest;
                old
            });
            let new = memory.map(|m| self.push(m, model));
            if let Some(old) = old {
                moved.insert(old, new);
            }
        }
        if !moved.is_empty() {
            // One pass over the uses: an edited memory keeps each app's count of its uses, a
            // removed one's counts go with it.
            let uses = self.uses.get_mut().expect("uses lock");
            *uses = std::mem::take(uses)
                .into_iter()
                .filter_map(|((d, grant), n)| match moved.get(&d) {
                    None => Some(((d, grant), n)),
                    Some(Some(new)) => Some(((*new, grant), n)),
                    Some(None) => None,
                })
                .collect();
        }
        if freshest_gone {
            self.freshest = (0..self.memories.len()).filter(|&i| self.is_live(i)).map(|i| self.touched_at(i)).max().unwrap_or(0);
        }
        self.rev = self.rev.max(rev);
        self.synced_at = now_ms();
    }

    /// True when memory `id` is here and `m` says the same of it, its vector aside.
    fn differs_only_in_vector(&self, id: &str, m: &Servable) -> bool {
        self.position.get(id).is_some_and(|&i| {
            let here = &self.memories[i as usize];
            (&here.content, here.category, here.importance, here.created_at, here.updated_at, here.happened, here.said_at)
                == (&m.content, m.category, m.importance, m.created_at, m.updated_at, m.happened, m.said_at)
        })
    }

    /// Puts `m`'s vectors at place `i`, or none where it has none this corpus compares.
    fn set_vector(&mut self, i: usize, m: &mut Servable, model: Option<&str>) {
        let (memory, turn) = take_vectors(m, model);
        self.has_vectors |= memory.is_some();
        self.vectors.set(i, memory.as_ref());
        self.turn_vectors.set(i, turn.as_ref());
    }

    /// Takes memory `id` out if it is here: its place, and whether it was the freshest.
    fn take_out(&mut self, id: &str) -> Option<(u32, bool)> {
        let i = self.position.remove(id)? as usize;
        let was_freshest = self.touched_at(i) >= self.freshest;
        let m = &mut self.memories[i];
        self.index.remove(i as u32, &m.content);
        self.bytes = self.bytes.saturating_sub(bytes_of(m));
        // Nothing of it stays in memory: its words, its vector, the memory itself.
        m.content = String::new();
        m.happened = None;
        self.vectors.set(i, None);
        self.turn_vectors.set(i, None);
        Some((i as u32, was_freshest))
    }

    fn push(&mut self, mut m: Servable, model: Option<&str>) -> u32 {
        let i = self.memories.len();
        self.index.push(&m.content, m.importance, group(m.category));
        self.vectors.push(None);
        self.turn_vectors.push(None);
        self.set_vector(i, &mut m, model);
        self.bytes += bytes_of(&m);
        self.position.insert(m.id.clone(), i as u32);
        self.memories.push(m);
        self.freshest = self.freshest.max(self.touched_at(i));
        i as u32
    }

    fn is_live(&self, i: usize) -> bool {
        self.position.get(&self.memories[i].id) == Some(&(i as u32))
    }

    /// How many memories were taken out since the corpus was loaded (their places stay).
    pub fn removed(&self) -> usize {
        self.index.removed()
    }

    /// True when some memory has a vector of the loaded model.
    pub fn has_vectors(&self) -> bool {
        self.has_vectors
    }

    /// Every memory's cosine similarity to the query vector (0 for those without a vector):
    /// the better of its own vector's and its turn's.
    pub fn similarities(&self, q: &Quantized) -> Vec<f32> {
        if q.values.len() != DIM {
            return vec![0.0; self.vectors.scales.len()];
        }
        let mut sim = self.vectors.similarities(q);
        if self.turn_vectors.any() {
            for (s, t) in sim.iter_mut().zip(self.turn_vectors.similarities(q)) {
                *s = s.max(t);
            }
        }
        sim
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

/// What one memory costs a corpus in memory, estimated: its text and id, the struct, its
/// postings (a term occurrence ≈ 16 B with the map's share), its place by id, its two vectors
/// and their scales.
fn bytes_of(m: &Servable) -> usize {
    m.content.len() * 2 + m.id.len() * 2 + std::mem::size_of::<Servable>() + 16 * m.content.len() / 6 + 48 + 2 * (DIM + 4)
}

/// Moves a memory's vectors out of it (the corpus keeps one flat copy), returning those this
/// corpus compares queries with: of a model comparable with the loaded one, and of the right
/// size.
fn take_vectors(m: &mut Servable, model: Option<&str>) -> (Option<Quantized>, Option<Quantized>) {
    let (embedding, turn) = (m.embedding.take(), m.turn_embedding.take());
    let Some((v, _)) = embedding.filter(|(v, of)| model.is_some() && crate::embed::comparable(of) && v.values.len() == DIM) else {
        return (None, None);
    };
    (Some(v), turn.filter(|t| t.values.len() == DIM))
}

/// One quantised vector per memory, flat: `DIM` bytes each and a scale (0: none).
#[derive(Debug, Default)]
struct Vectors {
    values: Vec<i8>,
    scales: Vec<f32>,
    /// How many places hold a vector.
    held: usize,
}

impl Vectors {
    fn push(&mut self, v: Option<&Quantized>) {
        self.values.extend_from_slice(&[0i8; DIM]);
        self.scales.push(0.0);
        self.set(self.scales.len() - 1, v);
    }

    fn set(&mut self, i: usize, v: Option<&Quantized>) {
        let before = self.scales[i] > 0.0;
        match v {
            Some(v) => {
                self.values[i * DIM..(i + 1) * DIM].copy_from_slice(&v.values);
                self.scales[i] = v.scale;
            }
            None => {
                self.values[i * DIM..(i + 1) * DIM].fill(0);
                self.scales[i] = 0.0;
            }
        }
        let after = self.scales[i] > 0.0;
        self.held = self.held + usize::from(after) - usize::from(before);
    }

    fn any(&self) -> bool {
        self.held > 0
    }

    fn similarities(&self, q: &Quantized) -> Vec<f32> {
        self.values.chunks_exact(DIM).zip(&self.scales).map(|(v, s)| if *s == 0.0 { 0.0 } else { q.dot_with(v, *s) }).collect()
    }
}

/// A category's group in the ranking index (its place among the six).
fn group(c: Category) -> u8 {
    Category::ALL.iter().position(|x| *x == c).unwrap_or(0) as u8
}

/// A person's cached corpus: read by retrieves, brought up to date in place.
pub type Shared = Arc<RwLock<Corpus>>;

fn read(c: &Shared) -> std::sync::RwLockReadGuard<'_, Corpus> {
    c.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug, Default)]
pub struct CorpusCache {
    map: Mutex<HashMap<String, Shared>>,
    /// One lock per person being loaded or brought up to date.
    loading: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    loads: std::sync::atomic::AtomicUsize,
    updates: std::sync::atomic::AtomicUsize,
}

impl CorpusCache {
    /// The person's corpus at revision `rev` or later. A cached one that is older is brought up
    /// to date with what changed since (or reloaded when too far behind). Loads and updates of
    /// one person are single-flight: concurrent requests wait for the first instead of each
    /// reading the database.
    pub async fn get(&self, db: &Db, passport_id: &str, rev: i64, model: Option<&'static str>) -> StoreResult<Shared> {
        if let Some(c) = self.lookup(passport_id, rev) {
            return Ok(c);
        }
        let flight = self.loading.lock().expect("loading lock").entry(passport_id.to_string()).or_default().clone();
        let _turn = flight.lock().await;
        let loaded = self.refresh(db, passport_id, rev, model).await;
        self.loading.lock().expect("loading lock").remove(passport_id);
        loaded
    }

    async fn refresh(&self, db: &Db, passport_id: &str, rev: i64, model: Option<&'static str>) -> StoreResult<Shared> {
        // Another request may have brought it up to date while this one waited its turn.
        if let Some(c) = self.lookup(passport_id, rev) {
            return Ok(c);
        }
        let cached = self.map.lock().expect("cache lock").get(passport_id).cloned();
        if let Some(cached) = cached {
            let (since, synced_at, removed, len) = {
                let c = read(&cached);
                (c.rev, c.synced_at, c.removed(), c.memories.len())
            };
            // Removals are kept for a while only; and a corpus mostly removed is rebuilt.
            let recent = now_ms() - synced_at < memories::REMOVALS_KEPT_MS / 2;
            if recent && removed <= len / 2 + 64 {
                if let Some(changes) = memories::changes_since(db, passport_id, since, MAX_CHANGES).await? {
                    cached.write().unwrap_or_else(|p| p.into_inner()).apply(rev, changes, model);
                    self.updates.fetch_add(1, Ordering::Relaxed);
                    self.evict(passport_id);
                    return Ok(cached);
                }
            }
        }
        self.load(db, passport_id, rev, model).await
    }

    async fn load(&self, db: &Db, passport_id: &str, rev: i64, model: Option<&'static str>) -> StoreResult<Shared> {
        self.loads.fetch_add(1, Ordering::Relaxed);
        // Loaded after `rev` was read, so it holds at least that revision's memories. Indexing
        // is CPU work: it runs off the async threads.
        let (servable, uses) = (memories::servable(db, passport_id).await?, memories::uses_for_person(db, passport_id).await?);
        let corpus = tokio::task::spawn_blocking(move || Corpus::new(rev, servable, uses, model))
            .await
            .map(|c| Arc::new(RwLock::new(c)))
            .map_err(|e| crate::store::StoreError::Corrupt(format!("indexing failed: {e}")))?;
        let current = {
            let mut map = self.map.lock().expect("cache lock");
            match map.get(passport_id) {
                Some(current) if read(current).rev > rev => current.clone(),
                _ => {
                    map.insert(passport_id.to_string(), corpus.clone());
                    corpus
                }
            }
        };
        self.evict(passport_id);
        Ok(current)
    }

    /// Within both bounds, least recently used first; `keep` (the one just asked for) stays.
    fn evict(&self, keep: &str) {
        let mut map = self.map.lock().expect("cache lock");
        let mut total: usize = map.values().map(|c| read(c).bytes).sum();
        while map.len() > 1 && (map.len() > MAX_CACHED_PASSPORTS || total > MAX_CACHED_BYTES) {
            let Some(oldest) = map
                .iter()
                .filter(|(k, _)| k.as_str() != keep)
                .min_by_key(|(_, c)| read(c).last_hit.load(Ordering::Relaxed))
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            total -= map.remove(&oldest).map_or(0, |c| read(&c).bytes);
        }
    }

    /// How many times this node has read and indexed a person's memories (for tests and
    /// metrics: single flight keeps it at one per person, and changes are applied in place).
    pub fn loads(&self) -> usize {
        self.loads.load(Ordering::Relaxed)
    }

    /// How many times this node has brought a cached person up to date in place.
    pub fn updates(&self) -> usize {
        self.updates.load(Ordering::Relaxed)
    }

    fn lookup(&self, passport_id: &str, rev: i64) -> Option<Shared> {
        let map = self.map.lock().expect("cache lock");
        let c = map.get(passport_id)?;
        let corpus = read(c);
        if corpus.rev < rev {
            return None;
        }
        corpus.last_hit.store(now_ms(), Ordering::Relaxed);
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

    /// Drops every cached person whose Passport is gone (deleted on any node) and brings every
    /// other whose memories changed up to date; returns how many it dropped. Every node runs
    /// it every `STALE_CHECK_EVERY`, so a deleted Passport's memories, and a deleted or
    /// flagged memory, leave every node's memory within that time even if nobody asks.
    pub async fn drop_stale(&self, db: &Db, model: Option<&'static str>) -> StoreResult<usize> {
        let cached: Vec<(String, i64)> = self.map.lock().expect("cache lock").iter().map(|(k, c)| (k.clone(), read(c).rev)).collect();
        let mut dropped = 0;
        for chunk in cached.chunks(500) {
            let ids: Vec<String> = chunk.iter().map(|(id, _)| id.clone()).collect();
            let live: HashMap<String, i64> = crate::store::passports::revisions(db, &ids).await?.into_iter().collect();
            for (id, rev) in chunk {
                match live.get(id) {
                    None => {
                        let mut map = self.map.lock().expect("cache lock");
                        if map.get(id).is_some_and(|c| read(c).rev == *rev) {
                            map.remove(id);
                            dropped += 1;
                        }
                    }
                    Some(now) if now > rev => {
                        if self.get(db, id, *now, model).await.is_err() {
                            self.forget(id);
                        }
                    }
                    Some(_) => {}
                }
            }
        }
        Ok(dropped)
    }
}
