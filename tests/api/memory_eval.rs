//! The memory evaluation: conversations with labelled evidence sent through the real API as
//! an app would (each of the person's turns in its own add, with the other side's turn before
//! it and its time), then each question sent to /retrieve. It reports recall@1/5/10 of the
//! evidence overall and per question type, extraction coverage (evidence turns that became at
//! least one memory), memories per turn, and the same recall for two baselines on the same
//! turns: BM25 over the raw turns and dense MiniLM over the raw turns.
//!
//! `make eval` runs the whole of it (`--ignored`) on the original set in
//! tests/data/eval/own.json and, when present, on the BEAM-derived set that the set-up keeps
//! outside the repository (EVAL_DATA_DIR, default ../shared/eval). A slice runs in `make test`
//! with a fixed floor.
use crate::common::{connect, spawn_app, AgentCreds, Backend, Connected, Person, TestApp};
use memory_passport::domain::rank::Index;
use memory_passport::embed::{self, Embedder, Mode};
use serde::Deserialize;
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Deserialize)]
struct DevSet {
    source: String,
    conversations: Vec<Conversation>,
}

#[derive(Deserialize)]
struct Conversation {
    id: String,
    sessions: Vec<Session>,
    questions: Vec<Question>,
}

#[derive(Deserialize)]
struct Session {
    date: String,
    turns: Vec<Turn>,
}

#[derive(Deserialize)]
struct Turn {
    id: String,
    speaker: String,
    text: String,
}

#[derive(Deserialize)]
struct Question {
    question: String,
    #[serde(rename = "type")]
    kind: String,
    evidence: Vec<String>,
}

const KS: [usize; 3] = [1, 5, 10];
/// The longest message the API takes (MAX_MESSAGE_CHARS); an app splits longer ones.
const MAX_CHARS: usize = 16_000;

/// Hits at 1, 5 and 10, and questions, per question type.
#[derive(Default, Clone)]
struct Recall {
    hits: BTreeMap<String, [usize; 3]>,
    asked: BTreeMap<String, usize>,
}

impl Recall {
    fn add(&mut self, kind: &str, ranked_turns: &[String], evidence: &HashSet<&str>) {
        let hits = self.hits.entry(kind.to_string()).or_default();
        for (i, k) in KS.iter().enumerate() {
            if ranked_turns.iter().take(*k).any(|t| evidence.contains(t.as_str())) {
                hits[i] += 1;
            }
        }
        *self.asked.entry(kind.to_string()).or_default() += 1;
    }

    fn merge(&mut self, other: &Recall) {
        for (k, h) in &other.hits {
            let mine = self.hits.entry(k.clone()).or_default();
            for i in 0..3 {
                mine[i] += h[i];
            }
        }
        for (k, n) in &other.asked {
            *self.asked.entry(k.clone()).or_default() += n;
        }
    }

    /// Recall at 1, 5, 10 for one type, or all with `None`.
    fn at(&self, kind: Option<&str>) -> [f64; 3] {
        let (hits, asked) = match kind {
            Some(k) => (self.hits.get(k).copied().unwrap_or_default(), self.asked.get(k).copied().unwrap_or(0)),
            None => (
                self.hits.values().fold([0; 3], |a, h| [a[0] + h[0], a[1] + h[1], a[2] + h[2]]),
                self.asked.values().sum(),
            ),
        };
        hits.map(|h| h as f64 / asked.max(1) as f64)
    }
}

#[derive(Default)]
struct Report {
    system: Recall,
    bm25_raw: Recall,
    dense_raw: Recall,
    person_turns: usize,
    memories: usize,
    evidence_turns: usize,
    evidence_with_memory: usize,
    ingest_secs: f64,
    /// Waiting for the background's transformer vectors after the last memory was made.
    upgrade_secs: f64,
    query_embed_secs: f64,
    sample: Vec<String>,
}

impl Report {
    fn coverage(&self) -> f64 {
        self.evidence_with_memory as f64 / self.evidence_turns.max(1) as f64
    }

    fn print(&self, name: &str, dense_name: &str) {
        println!("\n== {name} ==");
        println!(
            "person turns {} · memories {} ({:.2} per turn) · extraction coverage {:.3} ({} of {} evidence turns) · ingest {:.0} turns/s · then {:.1} s until every vector was final",
            self.person_turns,
            self.memories,
            self.memories as f64 / self.person_turns.max(1) as f64,
            self.coverage(),
            self.evidence_with_memory,
            self.evidence_turns,
            self.person_turns as f64 / self.ingest_secs.max(1e-9),
            self.upgrade_secs,
        );
        let questions: usize = self.system.asked.values().sum();
        println!("full MiniLM: {:.2} ms a question", self.query_embed_secs * 1000.0 / questions.max(1) as f64);
        println!("{:<18} {:>5} | {:^20} | {:^20} | {:^20}", "type", "n", "Memory Passport", "BM25 raw turns", dense_name);
        println!("{:<18} {:>5} | {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6} | {:>6} {:>6} {:>6}", "", "", "R@1", "R@5", "R@10", "R@1", "R@5", "R@10", "R@1", "R@5", "R@10");
        let mut kinds: Vec<Option<&str>> = self.system.asked.keys().map(|k| Some(k.as_str())).collect();
        kinds.push(None);
        for kind in kinds {
            let n = kind.map_or_else(|| self.system.asked.values().sum(), |k| self.system.asked[k]);
            let (s, b, d) = (self.system.at(kind), self.bm25_raw.at(kind), self.dense_raw.at(kind));
            println!(
                "{:<18} {:>5} | {:>6.3} {:>6.3} {:>6.3} | {:>6.3} {:>6.3} {:>6.3} | {:>6.3} {:>6.3} {:>6.3}",
                kind.unwrap_or("all"),
                n,
                s[0], s[1], s[2], b[0], b[1], b[2], d[0], d[1], d[2]
            );
        }
    }
}

fn load(path: &std::path::Path) -> Option<DevSet> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

fn own_set() -> DevSet {
    load(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/eval/own.json")).expect("tests/data/eval/own.json")
}

/// The full model for the dense baseline, when the set-up fetched it.
fn full_model() -> Option<std::sync::Arc<Embedder>> {
    let (dir, _) = embed::from_env()?;
    embed::shared(&dir, Mode::Full).ok()
}

fn cosine_top(query: &[f32], docs: &[Vec<f32>], k: usize) -> Vec<usize> {
    let mut scored: Vec<(usize, f32)> = docs.iter().enumerate().map(|(i, d)| (i, d.iter().zip(query).map(|(a, b)| a * b).sum())).collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.into_iter().take(k).map(|(i, _)| i).collect()
}

/// Runs one conversation through a fresh person and app, and scores its questions.
async fn run_conversation(app: &TestApp, c: &Conversation, dense: Option<&Embedder>, report: &mut Report) {
    let email = format!("eval-{}@example.com", c.id.to_lowercase());
    let cookie = Person::sign_in(app, &email).await.cookie;
    let a = AgentCreds::create(app, &[], "read_write").await;
    let all = ["preference", "fact", "goal", "procedure", "relationship", "expertise"];
    let conn: Connected = connect(app, &cookie, &a, &all, "read_write").await;

    // The person's turns, each in its own add with the other side's turn before it (or,
    // with EVAL_ALONE set, without it: an app that sends only what the person typed).
    let alone = std::env::var_os("EVAL_ALONE").is_some();
    let started = Instant::now();
    let mut person_turns: Vec<&Turn> = Vec::new();
    for s in &c.sessions {
        let mut previous: Option<&Turn> = None;
        for t in &s.turns {
            if t.speaker != "person" {
                previous = Some(t);
                continue;
            }
            person_turns.push(t);
            let mut messages = Vec::new();
            if let Some(p) = previous.filter(|_| !alone) {
                messages.push(json!({ "role": "assistant", "content": truncate(&p.text), "source_kind": "assistant_output" }));
            }
            messages.push(json!({ "role": "user", "content": truncate(&t.text), "occurred_at": s.date, "external_turn_id": t.id }));
            let res = conn.post(app, "/v1/universal/memories/add", &json!({ "messages": messages })).await;
            assert_eq!(res.status(), 202, "{}: {}", t.id, res.text().await.unwrap_or_default());
            previous = None;
        }
    }
    for _ in 0..12_000 {
        if memory_passport::store::jobs::pending(&app.db).await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    report.ingest_secs += started.elapsed().as_secs_f64();
    // In `mixed` mode the questions wait for the background to give every memory its
    // transformer vector: the steady state a person's memories reach seconds after a chat.
    let upgrading = Instant::now();
    if let Some(e) = app.state.as_ref().and_then(|s| s.universal.embedder.clone()) {
        for _ in 0..60_000 {
            if memory_passport::store::memories::without_embedding(&app.db, e.final_models(), 1).await.unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    report.upgrade_secs += upgrading.elapsed().as_secs_f64();
    let passport_id: String = sqlx::query_scalar("SELECT id FROM passports WHERE email = $1").bind(&email).fetch_one(&app.db.pool).await.unwrap();
    let rows: Vec<(String, Option<String>, String)> = sqlx::query_as("SELECT id, source_turn_id, content FROM memories WHERE passport_id = $1")
        .bind(&passport_id)
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
    let turn_of: HashMap<&str, &str> = rows.iter().filter_map(|(id, t, _)| Some((id.as_str(), t.as_deref()?))).collect();
    let with_memory: HashSet<&str> = turn_of.values().copied().collect();
    report.person_turns += person_turns.len();
    report.memories += rows.len();
    report.sample.extend(rows.iter().map(|(_, _, content)| content.clone()));

    let evidence: HashSet<&str> = c.questions.iter().flat_map(|q| q.evidence.iter().map(String::as_str)).collect();
    report.evidence_turns += evidence.len();
    report.evidence_with_memory += evidence.iter().filter(|e| with_memory.contains(*e)).count();
    let verbose = std::env::var_os("EVAL_VERBOSE").is_some();
    if verbose {
        for t in person_turns.iter().filter(|t| evidence.contains(t.id.as_str()) && !with_memory.contains(t.id.as_str())) {
            println!("no memory from evidence {}: {:?}", t.id, t.text);
        }
    }

    // Baselines over the raw turns.
    let bm25 = Index::new(person_turns.iter().map(|t| (t.text.as_str(), 5, 0)));
    let dense_docs: Option<Vec<Vec<f32>>> = dense.map(|e| {
        let texts: Vec<&str> = person_turns.iter().map(|t| t.text.as_str()).collect();
        e.embed(&texts).expect("embeds the turns")
    });

    let (mut system, mut bm25_raw, mut dense_raw) = (Recall::default(), Recall::default(), Recall::default());
    let mut server_ranked: Vec<Vec<String>> = Vec::new();
    let mut baseline_ranked: Vec<[Vec<String>; 2]> = Vec::new();
    for q in &c.questions {
        let ev: HashSet<&str> = q.evidence.iter().map(String::as_str).collect();
        let body = conn.retrieve(app, json!({ "query": q.question, "limit": 10 })).await;
        let ranked: Vec<String> = body["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| turn_of.get(m["id"].as_str()?).map(|t| t.to_string()))
            .collect();
        if verbose && !ranked.iter().any(|t| ev.contains(t.as_str())) {
            let top: Vec<&str> = body["data"].as_array().unwrap().iter().take(3).filter_map(|m| m["content"].as_str()).collect();
            println!("missed [{}] {:?} evidence {:?}; top: {:?}", q.kind, q.question, q.evidence, top);
        }
        system.add(&q.kind, &ranked, &ev);
        // The export reads deeper, to show where a miss ranked.
        let deeper = if std::env::var_os("EVAL_EXPORT_DIR").is_some() { conn.retrieve(app, json!({ "query": q.question, "limit": 50 })).await } else { body.clone() };
        server_ranked.push(deeper["data"].as_array().unwrap().iter().filter_map(|m| m["id"].as_str().map(str::to_string)).collect());
        let raw: Vec<String> = bm25.rank(&q.question, 1, |_| Some(0), 0, 10).iter().map(|r| person_turns[r.index].id.clone()).collect();
        bm25_raw.add(&q.kind, &raw, &ev);
        baseline_ranked.push([raw, Vec::new()]);
        if let (Some(e), Some(docs)) = (dense, &dense_docs) {
            let t = Instant::now();
            let qv = e.embed(&[q.question.as_str()]).unwrap().remove(0);
            report.query_embed_secs += t.elapsed().as_secs_f64();
            let top: Vec<String> = cosine_top(&qv, docs, 10).into_iter().map(|i| person_turns[i].id.clone()).collect();
            dense_raw.add(&q.kind, &top, &ev);
            baseline_ranked.last_mut().expect("pushed above")[1] = top;
        }
    }
    export_conversation(app, c, &server_ranked, &baseline_ranked).await;
    report.system.merge(&system);
    report.bm25_raw.merge(&bm25_raw);
    report.dense_raw.merge(&dense_raw);
}

/// Research export (`EVAL_EXPORT_DIR`): what the server stored for one conversation and what
/// it ranked for each question, for offline ranking experiments (scripts outside the server).
async fn export_conversation(app: &TestApp, c: &Conversation, ranked: &[Vec<String>], baselines: &[[Vec<String>; 2]]) {
    let Some(dir) = std::env::var_os("EVAL_EXPORT_DIR").map(PathBuf::from) else { return };
    let email = format!("eval-{}@example.com", c.id.to_lowercase());
    let rows: Vec<(String, Option<String>, String, Option<String>, String, i64, Option<String>, Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT m.id, m.source_turn_id, m.content, m.source_text, m.category, m.importance, m.happened_from, m.happened_to, m.said_at
         FROM memories m JOIN passports p ON p.id = m.passport_id WHERE p.email = $1 ORDER BY m.created_at, m.id",
    )
    .bind(&email)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let memories: Vec<serde_json::Value> = rows
        .into_iter()
        .map(|(id, turn, content, source, category, importance, from, to, said)| {
            json!({ "id": id, "turn": turn, "content": content, "source": source, "category": category,
                    "importance": importance, "happened_from": from, "happened_to": to, "said_at": said })
        })
        .collect();
    std::fs::create_dir_all(&dir).unwrap();
    let out = json!({ "id": c.id, "memories": memories, "server_ranked": ranked,
                      "bm25_raw_ranked": baselines.iter().map(|b| &b[0]).collect::<Vec<_>>(),
                      "dense_raw_ranked": baselines.iter().map(|b| &b[1]).collect::<Vec<_>>() });
    std::fs::write(dir.join(format!("{}.json", c.id)), serde_json::to_string(&out).unwrap()).unwrap();
}

/// Research tool: `LAB_EMBED_IN` (a JSON array of strings) embedded by the full model and by
/// the table, written as little-endian f32 rows to `LAB_EMBED_OUT`.full.f32 / .static.f32.
#[tokio::test]
#[ignore = "a research tool"]
async fn lab_embed() {
    let (Some(input), Some(output)) = (std::env::var_os("LAB_EMBED_IN"), std::env::var_os("LAB_EMBED_OUT")) else { return };
    let Some((dir, _)) = embed::from_env() else { return println!("EMBEDDING_MODEL_DIR not set") };
    let texts: Vec<String> = serde_json::from_str(&std::fs::read_to_string(input).unwrap()).unwrap();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let output = PathBuf::from(output);
    let write = |suffix: &str, rows: Vec<Vec<f32>>| {
        let bytes: Vec<u8> = rows.iter().flatten().flat_map(|x| x.to_le_bytes()).collect();
        std::fs::write(output.with_extension(suffix), bytes).unwrap();
    };
    let stat = embed::shared(&dir, Mode::Static).unwrap();
    write("static.f32", refs.iter().map(|t| stat.embed_query(t).unwrap()).collect());
    if std::env::var_os("LAB_EMBED_STATIC_ONLY").is_none() {
        let full = embed::shared(&dir, Mode::Full).unwrap();
        let t = Instant::now();
        write("full.f32", full.embed(&refs).unwrap());
        println!("{} texts by the transformer in {:.1} s", refs.len(), t.elapsed().as_secs_f64());
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(MAX_CHARS).collect()
}

async fn evaluate(set: &DevSet, only: Option<&[&str]>) -> Report {
    let dense = full_model();
    let mut report = Report::default();
    for c in &set.conversations {
        if only.is_some_and(|ids| !ids.contains(&c.id.as_str())) {
            continue;
        }
        // A server per conversation, as a person per deployment: sign-in limits per client
        // stay those of one person.
        let app = spawn_app(Backend::Sqlite).await;
        run_conversation(&app, c, dense.as_deref(), &mut report).await;
    }
    report
}

/// A fixed, spread-out sample of stored memories for hand-labelling junk (every n-th).
fn write_sample(name: &str, report: &Report) {
    let step = (report.sample.len() / 200).max(1);
    let sample: Vec<&String> = report.sample.iter().step_by(step).take(200).collect();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/eval");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}-memory-sample.txt"));
    std::fs::write(&path, sample.iter().map(|s| s.replace('\n', " ")).collect::<Vec<_>>().join("\n")).unwrap();
    println!("memory sample for labelling: {}", path.display());
}

/// `make eval`: every set, in full.
#[tokio::test]
#[ignore = "make eval runs it"]
async fn eval_full() {
    let dense_name = if full_model().is_some() { "MiniLM raw turns" } else { "(no model)" };
    let own = own_set();
    let report = evaluate(&own, None).await;
    report.print(&format!("own set ({})", own.source), dense_name);
    write_sample("own", &report);
    if std::env::var_os("EVAL_ONLY_OWN").is_some() {
        return;
    }
    let beam_dir = std::env::var_os("EVAL_DATA_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/eval"));
    match load(&beam_dir.join("devset.json")) {
        Some(beam) => {
            let report = evaluate(&beam, None).await;
            report.print(&format!("BEAM-derived set ({})", beam.source), dense_name);
            write_sample("beam", &report);
        }
        None => println!("\n(no BEAM-derived set at {}: skipped)", beam_dir.display()),
    }
}

/// One conversation of the own set, in every `make test`: recall and coverage must stay above
/// floors set from the first measurement (a regression alarm, not the target).
#[tokio::test]
async fn a_slice_of_the_evaluation_stays_above_its_floor() {
    let own = own_set();
    let report = evaluate(&own, Some(&["o1"])).await;
    report.print("own set, conversation o1", "MiniLM raw turns");
    // Measured 2026-12-02: recall@10 0.810 with the model (static, the default; 0.845
    // mixed), 0.741 by keywords alone; coverage 1.000. 2026-12-07, with turn vectors and the
    // time bonus: 0.776 static on this conversation (0.804 on the whole set, was 0.775).
    // The floors leave room for the order in which two workers take jobs, not for a regression.
    let semantic = full_model().is_some();
    let floor = if semantic { 0.76 } else { 0.70 };
    let recall = report.system.at(None)[2];
    assert!(recall >= floor, "recall@10 {recall:.3} under its floor {floor}");
    assert!(report.coverage() >= 0.95, "extraction coverage {:.3} under 0.95", report.coverage());
    let per_turn = report.memories as f64 / report.person_turns as f64;
    assert!((0.5..=2.0).contains(&per_turn), "{per_turn:.2} memories a turn");
}

/// The ranking lab: `cargo test --features ssr --test api memory_eval::ranking_lab -- --ignored
/// --nocapture` (with the set-up's environment). It ingests the own set through the real API,
/// reads back the memories the server stored, and ranks them for every question in several
/// ways side by side: keywords alone, each kind of vector alone, and their fusions. It is how
/// a ranking change is chosen before it goes into `domain::rank`; `make eval` then measures
/// the server itself.
#[tokio::test]
#[ignore = "a research tool; make eval measures the server"]
async fn ranking_lab() {
    let Some((dir, _)) = embed::from_env() else { return println!("EMBEDDING_MODEL_DIR not set") };
    let stat = embed::shared(&dir, Mode::Static).unwrap();
    let full = embed::shared(&dir, Mode::Full).unwrap();
    let own = own_set();
    let mut lab: BTreeMap<String, Recall> = BTreeMap::new();
    for c in &own.conversations {
        let app = spawn_app(Backend::Sqlite).await;
        let mut report = Report::default();
        run_conversation(&app, c, None, &mut report).await;
        lab.entry("0 server".into()).or_default().merge(&report.system);
        let (rows, with_message) = stored_memories(&app, c).await;
        let contents: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
        let wm: Vec<&str> = with_message.iter().map(String::as_str).collect();
        let vecs = |e: &Embedder, texts: &[&str]| e.embed(texts).unwrap();
        let (s_wm, f_wm, s_c, f_c) = (vecs(&stat, &wm), vecs(&full, &wm), vecs(&stat, &contents), vecs(&full, &contents));
        let bm25 = Index::new(contents.iter().map(|t| (*t, 5, 0)));
        let with_source: Vec<String> = rows.iter().map(|r| format!("{} {}", r.1, r.2.as_deref().unwrap_or_default())).collect();
        let bm25_src = Index::new(with_source.iter().map(|t| (t.as_str(), 5, 0)));
        let turns_of = |order: &[usize]| -> Vec<String> { order.iter().map(|&i| rows[i].0.clone()).collect() };
        for q in &c.questions {
            let ev: HashSet<&str> = q.evidence.iter().map(String::as_str).collect();
            let (qs, qf) = (stat.embed_query(&q.question).unwrap(), full.embed(&[q.question.as_str()]).unwrap().remove(0));
            let kw: Vec<usize> = bm25.rank(&q.question, 1, |_| Some(0), 0, 200).iter().filter(|r| r.relevance > 0.0).map(|r| r.index).collect();
            let kw_src: Vec<usize> = bm25_src.rank(&q.question, 1, |_| Some(0), 0, 200).iter().filter(|r| r.relevance > 0.0).map(|r| r.index).collect();
            let by = |docs: &[Vec<f32>], qv: &[f32]| cosine_top(qv, docs, 200);
            let (d_s, d_f, d_mixed, d_sc, d_mc) = (by(&s_wm, &qs), by(&f_wm, &qf), by(&f_wm, &qs), by(&s_c, &qs), by(&f_c, &qs));
            let mut add = |name: &str, order: Vec<usize>| {
                lab.entry(name.to_string()).or_default().add(&q.kind, &turns_of(&order), &ev);
                let distinct = distinct_turns(&turns_of(&order));
                lab.entry(format!("{name} (distinct turns)")).or_default().add(&q.kind, &distinct, &ev);
            };
            add("1 keywords", kw.clone());
            add("2 keywords + source", kw_src.clone());
            add("3 static (memory + message)", d_s.clone());
            add("4 static (memory alone)", d_sc.clone());
            add("5 mixed (full memory, static query)", d_mixed.clone());
            add("6 full", d_f.clone());
            add("5b mixed, memory alone", d_mc.clone());
            add("c2 rrf keywords + mixed memory alone", rrf(&[(&kw, 1.0), (&d_mc, 1.0)], 60.0));
            add("7 rrf keywords + static", rrf(&[(&kw, 1.0), (&d_s, 1.0)], 60.0));
            add("8 rrf keywords + static, dense x2", rrf(&[(&kw, 1.0), (&d_s, 2.0)], 60.0));
            add("9 rrf keywords + static k=10", rrf(&[(&kw, 1.0), (&d_s, 1.0)], 10.0));
            add("a rrf keywords+source + static", rrf(&[(&kw_src, 1.0), (&d_s, 1.0)], 60.0));
            add("b rrf keywords + static + static alone", rrf(&[(&kw, 1.0), (&d_s, 1.0), (&d_sc, 1.0)], 60.0));
            add("c rrf keywords + mixed", rrf(&[(&kw, 1.0), (&d_mixed, 1.0)], 60.0));
            add("d rrf keywords + full", rrf(&[(&kw, 1.0), (&d_f, 1.0)], 60.0));
            add("e rrf keywords x0.5 + mixed", rrf(&[(&kw, 0.5), (&d_mixed, 1.0)], 60.0));
            add("f rrf keywords x0.3 + mixed", rrf(&[(&kw, 0.3), (&d_mixed, 1.0)], 60.0));
            add("g rrf keywords x0.5 + static", rrf(&[(&kw, 0.5), (&d_s, 1.0)], 60.0));
            add("h rrf mixed + static", rrf(&[(&d_mixed, 1.0), (&d_s, 1.0)], 60.0));
            add("i rrf keywords x0.5 + mixed + static x0.5", rrf(&[(&kw, 0.5), (&d_mixed, 1.0), (&d_s, 0.5)], 60.0));
            add("j rrf keywords x0.5 + full", rrf(&[(&kw, 0.5), (&d_f, 1.0)], 60.0));
        }
    }
    println!("{:<48} {:>6} {:>6} {:>6} | {}", "ranking", "R@1", "R@5", "R@10", "R@10 by type");
    for (name, r) in &lab {
        let a = r.at(None);
        let kinds: Vec<String> = r.asked.keys().map(|k| format!("{} {:.3}", &k[..k.len().min(6)], r.at(Some(k))[2])).collect();
        println!("{name:<48} {:>6.3} {:>6.3} {:>6.3} | {}", a[0], a[1], a[2], kinds.join("  "));
    }
}

/// The memories the server stored for conversation `c`, as (source turn, content, source
/// sentence), and each one's text with its message as the worker embeds it.
async fn stored_memories(app: &TestApp, c: &Conversation) -> (Vec<(String, String, Option<String>)>, Vec<String>) {
    let email = format!("eval-{}@example.com", c.id.to_lowercase());
    let rows: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "SELECT m.source_turn_id, m.content, m.source_text FROM memories m JOIN passports p ON p.id = m.passport_id
         WHERE p.email = $1 AND m.source_turn_id IS NOT NULL ORDER BY m.created_at, m.id",
    )
    .bind(&email)
    .fetch_all(&app.db.pool)
    .await
    .unwrap();
    let turn_text: HashMap<&str, &str> = c.sessions.iter().flat_map(|s| &s.turns).map(|t| (t.id.as_str(), t.text.as_str())).collect();
    let with_message = rows
        .iter()
        .map(|(turn, content, _)| {
            let msg = turn_text.get(turn.as_str()).copied().unwrap_or_default();
            if msg.trim() == content.trim() { content.clone() } else { format!("{content}\n{}", msg.chars().take(1000).collect::<String>()) }
        })
        .collect();
    (rows, with_message)
}

/// Reciprocal-rank fusion of ranked lists (document numbers, best first), each with a weight.
fn rrf(lists: &[(&[usize], f64)], k: f64) -> Vec<usize> {
    let mut score: HashMap<usize, f64> = HashMap::new();
    for (list, w) in lists {
        for (rank, d) in list.iter().enumerate() {
            *score.entry(*d).or_default() += w / (k + rank as f64 + 1.0);
        }
    }
    let mut order: Vec<(usize, f64)> = score.into_iter().collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    order.into_iter().map(|(d, _)| d).collect()
}

/// The same ranking with each turn kept once, at its best place.
fn distinct_turns(turns: &[String]) -> Vec<String> {
    let mut seen = HashSet::new();
    turns.iter().filter(|t| seen.insert(t.as_str())).cloned().collect()
}

/// Static tables side by side: `cargo test … memory_eval::static_table_lab -- --ignored`.
/// Each variant is distilled from the same model and ranks the stored memories (with their
/// messages) for every question of the own set, alone and fused with keywords.
#[tokio::test]
#[ignore = "a research tool"]
async fn static_table_lab() {
    use memory_passport::embed::lab;
    const D: usize = embed::DIM;
    let Some((dir, _)) = embed::from_env() else { return println!("EMBEDDING_MODEL_DIR not set") };
    let cache = std::env::temp_dir().join("mp-token-outputs.f32");
    let outs: Vec<f32> = match std::fs::read(&cache) {
        Ok(b) => b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect(),
        Err(_) => {
            let o = lab::token_outputs(&dir).unwrap();
            std::fs::write(&cache, o.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>()).unwrap();
            o
        }
    };
    let n = outs.len() / (3 * D);
    let unit = |v: &mut [f32]| {
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
        v.iter_mut().for_each(|x| *x /= norm);
    };
    let table_of = |positions: &[usize], center: bool| -> Vec<f32> {
        let mut t = vec![0f32; n * D];
        for tok in 0..n {
            let row = &mut t[tok * D..(tok + 1) * D];
            for &p in positions {
                let o = &outs[(tok * 3 + p) * D..(tok * 3 + p + 1) * D];
                row.iter_mut().zip(o).for_each(|(r, x)| *r += x);
            }
            unit(row);
        }
        if center {
            let mut mean = vec![0f32; D];
            for tok in 0..n {
                mean.iter_mut().zip(&t[tok * D..(tok + 1) * D]).for_each(|(m, x)| *m += x / n as f32);
            }
            for tok in 0..n {
                let row = &mut t[tok * D..(tok + 1) * D];
                row.iter_mut().zip(&mean).for_each(|(r, m)| *r -= m);
                unit(row);
            }
        }
        t
    };
    let w0 = lab::weights(&dir).unwrap();
    let w_sq: Vec<f32> = w0.iter().map(|w| w * w).collect();
    let w_one: Vec<f32> = w0.iter().map(|w| if *w > 0.0 { 1.0 } else { 0.0 }).collect();
    let variants: Vec<(&str, Embedder)> = vec![
        ("token (current)", lab::with_table(&dir, table_of(&[1], false), w0.clone()).unwrap()),
        ("token, weight squared", lab::with_table(&dir, table_of(&[1], false), w_sq.clone()).unwrap()),
        ("token, unweighted", lab::with_table(&dir, table_of(&[1], false), w_one).unwrap()),
        ("mean of three", lab::with_table(&dir, table_of(&[0, 1, 2], false), w0.clone()).unwrap()),
        ("token, centred", lab::with_table(&dir, table_of(&[1], true), w0.clone()).unwrap()),
        ("token, centred, weight squared", lab::with_table(&dir, table_of(&[1], true), w_sq.clone()).unwrap()),
        ("mean of three, centred", lab::with_table(&dir, table_of(&[0, 1, 2], true), w0.clone()).unwrap()),
    ];
    let own = own_set();
    let mut lab_results: BTreeMap<String, Recall> = BTreeMap::new();
    for c in &own.conversations {
        let app = spawn_app(Backend::Sqlite).await;
        let mut report = Report::default();
        run_conversation(&app, c, None, &mut report).await;
        let (rows, docs) = stored_memories(&app, c).await;
        let doc_refs: Vec<&str> = docs.iter().map(String::as_str).collect();
        let bm25 = Index::new(rows.iter().map(|r| (r.1.as_str(), 5, 0)));
        let turns_of = |order: &[usize]| -> Vec<String> { order.iter().map(|&i| rows[i].0.clone()).collect() };
        for (name, e) in &variants {
            let vecs = e.embed(&doc_refs).unwrap();
            for q in &c.questions {
                let ev: HashSet<&str> = q.evidence.iter().map(String::as_str).collect();
                let qv = e.embed_query(&q.question).unwrap();
                let dense = cosine_top(&qv, &vecs, 200);
                let kw: Vec<usize> = bm25.rank(&q.question, 1, |_| Some(0), 0, 200).iter().filter(|r| r.relevance > 0.0).map(|r| r.index).collect();
                lab_results.entry(format!("{name}")).or_default().add(&q.kind, &turns_of(&dense), &ev);
                lab_results.entry(format!("{name} + keywords")).or_default().add(&q.kind, &turns_of(&rrf(&[(&kw, 1.0), (&dense, 1.0)], 60.0)), &ev);
            }
        }
    }
    for (name, r) in &lab_results {
        let a = r.at(None);
        let kinds: Vec<String> = r.asked.keys().map(|k| format!("{} {:.3}", &k[..k.len().min(6)], r.at(Some(k))[2])).collect();
        println!("{name:<44} {:>6.3} {:>6.3} {:>6.3} | {}", a[0], a[1], a[2], kinds.join("  "));
    }
}
