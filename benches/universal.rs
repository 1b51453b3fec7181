//! Benchmark of the universal memory API over loopback HTTP (`cargo bench --features ssr
//! --bench universal`, or `make bench`).
//!
//! For 1,000 and 100,000 memories of one person (each with its vector when the embedding
//! model is set up, as `make bench` does) it reports retrieve latency (p50/p99 on one
//! keep-alive connection), throughput (many connections), the resident memory the person's
//! cached index takes, and the latency of retrieves made right after an add (whose memory
//! reaches the cached index in place), then add throughput (each 202
//! is a job committed to the database) and the time from an add's answer to its memory being
//! stored. Each figure is measured in several runs and the median is reported.
//!
//! The server runs in this process on the embedded SQLite default; the client is a minimal
//! HTTP/1.1 writer/reader so that, on a small machine, the client's own cost stays low
//! (both share the same cores, as wrk on the same host would).
//!
//! The `nodes` part (PostgreSQL at `MP_TEST_POSTGRES_URL`, skipped without it) measures
//! retrieve and add throughput with p50/p99 latency under load at one node and at two nodes
//! on one fresh database, the load spread round-robin over the nodes, and the two-node/one-node
//! ratio. Both nodes run in this process, so on a small machine they share its cores with the
//! client and PostgreSQL: the ratio is what this machine gives, not what two machines would.
use memory_passport::config::{Config, Redacted};
use memory_passport::domain::agent::{AccessType, AgentProfile};
use memory_passport::domain::categories::Category;
use memory_passport::domain::extract::Extracted;
use memory_passport::domain::grant::GrantDuration;
use memory_passport::server;
use memory_passport::store::accounts::AccountKind;
use memory_passport::store::grants::{self, Approval};
use memory_passport::store::{agents, memories, passports, Db};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SIZES: [usize; 2] = [1_000, 100_000];
const LATENCY_REQUESTS: usize = 2_000;
const THROUGHPUT_CONNECTIONS: usize = 32;
const THROUGHPUT_FOR: Duration = Duration::from_secs(3);
const ADDS: usize = 4_000;
const JOB_LATENCY_SAMPLES: usize = 200;

fn runs() -> usize {
    std::env::var("MP_BENCH_RUNS").ok().and_then(|r| r.parse().ok()).unwrap_or(5)
}

fn main() {
    // `cargo bench` passes --bench; nothing else is read from the command line.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(run());
}

struct Server {
    addr: SocketAddr,
    db: Db,
    state: server::AppState,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    start_on(None).await
}

/// A server on `database_url` (another node on a shared database), or on a fresh SQLite file.
async fn start_on(database_url: Option<&str>) -> Server {
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    let config = Config {
        database_url: database_url.map_or_else(|| format!("sqlite://{}/bench.db", dir.path().display()), str::to_string),
        site_addr: addr,
        public_url: format!("http://{addr}"),
        smtp_url: None,
        mail_outbox_dir: dir.path().join("outbox"),
        mail_from: "Bench <bench@localhost>".into(),
        secret_key: Some(Redacted("benchmark key of at least thirty-two chars".into())),
        secret_key_file: PathBuf::from("unused"),
        trusted_proxies: vec![],
        site_root: "target/site".into(),
        hash_files: false,
        // The benchmark measures the server, not its rate limit.
        agent_rate_limit: 10_000_000,
        job_workers: 2,
        job_claim_secs: 60,
        metrics_token: None,
        oauth_metadata_allow_loopback: false,
        // The model when the set-up fetched it (make test does), as a deployment would find it.
        embedding: memory_passport::embed::from_env(),
    };
    let (router, state) = server::build(config).await.expect("server builds");
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    Server { addr, db: state.db.clone(), state, _dir: dir }
}

/// A tenant, a live agent, a person and a read-write grant on all six categories.
async fn connect(db: &Db, email: &str) -> (String, String, String) {
    let tenant = memory_passport::service::accounts::register(db, AccountKind::Tenant, &format!("t-{email}"), "bench password long enough")
        .await
        .expect("tenant");
    let profile = AgentProfile {
        name: "Bench Agent".into(),
        description: String::new(),
        website_url: "https://bench.example".into(),
        logo_url: String::new(),
        default_categories: Category::ALL.to_vec(),
        redirect_uris: vec![],
        access_type: AccessType::ReadWrite,
    };
    let (agent, secret) = agents::create(db, &tenant.id, &profile).await.expect("agent");
    let passport = passports::find_or_create(db, email).await.expect("passport");
    let (grant, _) = grants::upsert(
        db,
        &Approval {
            passport_id: &passport.id,
            agent_id: &agent.id,
            categories: &Category::ALL,
            access_type: AccessType::ReadWrite,
            duration: GrantDuration::UntilRevoked,
        },
    )
    .await
    .expect("grant");
    let token = grants::issue_token(db, &grant).await.expect("token");
    (secret, token, passport.id)
}

/// A small deterministic generator, so every run sees the same memories and queries.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 16) as usize
    }
    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.next() % words.len()]
    }
}

const TOPICS: &[&str] = &[
    "Rust", "Python", "TypeScript", "PostgreSQL", "SQLite", "Kubernetes", "tea", "coffee", "marathons", "cycling",
    "jazz", "piano", "Lisbon", "Berlin", "Tokyo", "gardening", "chess", "photography", "sailing", "baking", "Go",
    "React", "Linux", "climbing", "poetry", "history", "astronomy", "knitting", "football", "yoga", "sourdough",
    "espresso", "typography", "databases", "compilers", "robotics", "podcasts", "novels", "hiking", "swimming",
];
const OPENINGS: &[(&str, Category)] = &[
    ("I prefer", Category::Preference),
    ("I really like", Category::Preference),
    ("I live near a place known for", Category::Fact),
    ("I'm trying to get better at", Category::Goal),
    ("I usually start my week with", Category::Procedure),
    ("My manager cares a lot about", Category::Relationship),
    ("I've used and taught", Category::Expertise),
];

fn memories_for(n: usize) -> Vec<Extracted> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..n)
        .map(|i| {
            let (opening, category) = OPENINGS[rng.next() % OPENINGS.len()];
            let content = format!("{opening} {} and {} (note {i}).", rng.pick(TOPICS), rng.pick(TOPICS));
            Extracted { content, category, importance: (rng.next() % 10) as u8 + 1, slot: None, turn_id: None, said_at: None, message: None, source: None, happened: None, embedding: None, context: None, previous: None, turn_embedding: None }
        })
        .collect()
}

/// One keep-alive HTTP/1.1 connection that sends a fixed request and reads whole answers.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn open(addr: SocketAddr) -> Conn {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).unwrap();
        Conn { stream, buf: Vec::with_capacity(16 * 1024) }
    }

    /// Sends `request` and returns (status, body).
    async fn call(&mut self, request: &[u8]) -> (u16, Vec<u8>) {
        self.stream.write_all(request).await.expect("write");
        self.buf.clear();
        let mut chunk = [0u8; 16 * 1024];
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end]).expect("ascii head");
                let status: u16 = head[9..12].parse().expect("status");
                let len: usize = head
                    .lines()
                    .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                    .expect("content-length");
                while self.buf.len() < end + 4 + len {
                    let n = self.stream.read(&mut chunk).await.expect("read");
                    assert!(n > 0, "server closed");
                    self.buf.extend_from_slice(&chunk[..n]);
                }
                return (status, self.buf[end + 4..end + 4 + len].to_vec());
            }
            let n = self.stream.read(&mut chunk).await.expect("read");
            assert!(n > 0, "server closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn request(addr: SocketAddr, path: &str, secret: &str, token: &str, body: &str) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: ApiKey {secret}\r\nX-MemoryOS-UUI: {token}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The queries every retrieve benchmark sends, in order.
fn queries() -> Vec<String> {
    let mut rng = Rng(42);
    (0..64).map(|_| format!("What should I know about {} and {}?", rng.pick(TOPICS), rng.pick(TOPICS))).collect()
}

fn retrieve_requests(addr: SocketAddr, secret: &str, token: &str) -> Vec<Vec<u8>> {
    queries()
        .iter()
        .map(|q| request(addr, "/v1/universal/memories/retrieve", secret, token, &serde_json::json!({ "query": q, "limit": 10 }).to_string()))
        .collect()
}

/// The same queries as MCP `search_memory` tool calls with an OAuth access token.
fn search_tool_requests(addr: SocketAddr, bearer: &str) -> Vec<Vec<u8>> {
    queries()
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let body = serde_json::json!({ "jsonrpc": "2.0", "id": i, "method": "tools/call",
                "params": { "name": "search_memory", "arguments": { "query": q, "limit": 10 } } })
            .to_string();
            format!(
                "POST /mcp HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {bearer}\r\nAccept: application/json, text/event-stream\r\n\
                 MCP-Protocol-Version: 2025-06-18\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        })
        .collect()
}

/// MCP against REST on one grant: `search_memory` tool calls and `/retrieve` calls with the
/// same queries over 1,000 memories, each p50 on one connection; the median of the runs'
/// differences is what a tool call adds.
async fn bench_mcp() {
    let server = start().await;
    let (secret, token, passport_id) = connect(&server.db, "mcp@bench.example").await;
    let semantic = seed(&server, &passport_id, 1_000).await;
    let grant = grants::list_for_passport(&server.db, &passport_id).await.expect("grants").remove(0);
    let scope = memory_passport::domain::oauth::granted_scope(&Category::ALL, AccessType::ReadWrite);
    let resource = format!("http://{}/mcp", server.addr);
    let bearer = memory_passport::store::oauth::issue(&server.db, &grant, "bench", &resource, &scope).await.expect("token").access_token;
    let rest = retrieve_requests(server.addr, &secret, &token);
    let mcp = search_tool_requests(server.addr, &bearer);
    let mut conn = Conn::open(server.addr).await;
    for r in rest.iter().chain(mcp.iter()) {
        let (status, body) = conn.call(r).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
    }
    let (mut rests, mut tools, mut added) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs() {
        let (rest_p50, _) = retrieve_latency(server.addr, &rest).await;
        let (tool_p50, _) = retrieve_latency(server.addr, &mcp).await;
        println!("  run {}: /retrieve p50 {rest_p50:.3} ms, search_memory p50 {tool_p50:.3} ms", run + 1);
        rests.push(rest_p50);
        tools.push(tool_p50);
        added.push(tool_p50 - rest_p50);
    }
    println!(
        "mcp, 1000 memories, {semantic}: median p50 /retrieve {:.3} ms, search_memory {:.3} ms; a tool call adds {:.3} ms (median of the runs' differences)",
        median(rests),
        median(tools),
        median(added)
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// (p50 ms, p99 ms) of sequential retrieves on one connection.
async fn retrieve_latency(addr: SocketAddr, requests: &[Vec<u8>]) -> (f64, f64) {
    let mut conn = Conn::open(addr).await;
    let mut times = Vec::with_capacity(LATENCY_REQUESTS);
    for i in 0..LATENCY_REQUESTS {
        let t = Instant::now();
        let (status, _) = conn.call(&requests[i % requests.len()]).await;
        times.push(t.elapsed());
        assert_eq!(status, 200);
    }
    times.sort();
    (ms(percentile(&times, 0.5)), ms(percentile(&times, 0.99)))
}

/// Requests per second over many connections for a fixed time.
async fn throughput(addr: SocketAddr, requests: std::sync::Arc<Vec<Vec<u8>>>, expect: u16) -> f64 {
    let started = Instant::now();
    let tasks: Vec<_> = (0..THROUGHPUT_CONNECTIONS)
        .map(|c| {
            let requests = requests.clone();
            tokio::spawn(async move {
                let mut conn = Conn::open(addr).await;
                let mut done = 0usize;
                while started.elapsed() < THROUGHPUT_FOR {
                    let (status, _) = conn.call(&requests[(c * 7 + done) % requests.len()]).await;
                    assert_eq!(status, expect);
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}

/// Stores `size` memories for the person, each with the vector the worker gives a new one when
/// the model is set up; says how retrieval will rank.
async fn seed(server: &Server, passport_id: &str, size: usize) -> String {
    let mut seed = memories_for(size);
    // Semantic search on, as in a deployment with the model: every memory gets the vector the
    // worker gives a new one (in `mixed` mode the table's, which the server's background then
    // replaces with the transformer's while the retrieves below run: the load right after an
    // import).
    let semantic = match server.state.universal.embedder.clone() {
        Some(e) => {
            // Each memory also has its turn's vector, read after a question before it, as a
            // memory said in a conversation has: retrieval compares the query with both.
            for m in seed.iter_mut() {
                m.previous = Some(format!("What is new with you (note {})?", m.content.len()));
            }
            let texts: Vec<String> =
                seed.iter().flat_map(|m| [m.content.clone(), format!("{}\n{}", m.previous.as_deref().unwrap_or_default(), m.content)]).collect();
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            let (vectors, model) = e.embed_now(&texts).expect("embed");
            let mut vectors = vectors.into_iter();
            for m in seed.iter_mut() {
                m.embedding = vectors.next().map(|v| (memory_passport::domain::dense::Quantized::new(&v), model.to_string()));
                m.turn_embedding = vectors.next().map(|v| memory_passport::domain::dense::Quantized::new(&v));
            }
            format!("semantic search on ({} first, {} in the end)", model, e.model_id())
        }
        None => "keywords only (no model)".to_string(),
    };
    memories::insert_many(&server.db, passport_id, &seed).await.expect("seed");
    semantic
}

async fn bench_retrieve(size: usize) {
    let server = start().await;
    let (secret, token, passport_id) = connect(&server.db, &format!("r{size}@bench.example")).await;
    let seeded = Instant::now();
    let semantic = seed(&server, &passport_id, size).await;
    let seeding = seeded.elapsed();
    let rss_before = rss_bytes();
    let requests = std::sync::Arc::new(retrieve_requests(server.addr, &secret, &token));
    // The first retrieve loads and indexes the person's memories on this node.
    let mut conn = Conn::open(server.addr).await;
    let cold = Instant::now();
    let (status, body) = conn.call(&requests[0]).await;
    let cold = cold.elapsed();
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["data"].as_array().unwrap().len(), 10, "served ten memories");
    let held = rss_bytes().saturating_sub(rss_before);
    for r in requests.iter() {
        conn.call(r).await;
    }
    let (mut p50s, mut p99s, mut rps) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs() {
        let (p50, p99) = retrieve_latency(server.addr, &requests).await;
        let r = throughput(server.addr, requests.clone(), 200).await;
        println!("  run {}: retrieve p50 {p50:.3} ms, p99 {p99:.3} ms, {r:.0} retrieves/s", run + 1);
        p50s.push(p50);
        p99s.push(p99);
        rps.push(r);
    }
    // Retrieves right after an add: the add's memory reaches the cached index in place.
    let add = |i: usize| {
        let body = serde_json::json!({ "messages": [{ "role": "user", "content": format!("I prefer fresh topic number {i} on weekends.") }] });
        request(server.addr, "/v1/universal/memories/add", &secret, &token, &body.to_string())
    };
    let mut after = Vec::with_capacity(AFTER_ADD_SAMPLES);
    for i in 0..AFTER_ADD_SAMPLES {
        let (status, answer) = conn.call(&add(i)).await;
        assert_eq!(status, 202);
        let job_id = serde_json::from_slice::<serde_json::Value>(&answer).unwrap()["job_id"].as_str().unwrap().to_string();
        wait_completed(&server.db, &job_id).await;
        let started = Instant::now();
        let (status, _) = conn.call(&requests[i % requests.len()]).await;
        after.push(started.elapsed());
        assert_eq!(status, 200);
    }
    after.sort();
    println!(
        "retrieve, {size} memories, {semantic} (seeded in {:.1} s; first, cold retrieve {:.0} ms, resident memory +{:.1} MB): median p50 {:.3} ms, median p99 {:.3} ms, median {:.0} retrieves/s over {THROUGHPUT_CONNECTIONS} connections; right after an add ({AFTER_ADD_SAMPLES}): p50 {:.2} ms, p99 {:.2} ms, slowest {:.2} ms",
        seeding.as_secs_f64(),
        ms(cold),
        held as f64 / 1e6,
        median(p50s),
        median(p99s),
        median(rps),
        ms(percentile(&after, 0.5)),
        ms(percentile(&after, 0.99)),
        ms(*after.last().unwrap()),
    );
}

/// Retrieves timed right after an add, per size.
const AFTER_ADD_SAMPLES: usize = 100;

/// This process's resident memory (Linux; 0 elsewhere).
fn rss_bytes() -> usize {
    let pages = std::fs::read_to_string("/proc/self/statm").ok().and_then(|s| s.split_whitespace().nth(1)?.parse::<usize>().ok()).unwrap_or(0);
    pages * 4096
}

async fn wait_completed(db: &Db, job_id: &str) {
    loop {
        let status: String = sqlx::query_scalar("SELECT status FROM memory_jobs WHERE id = $1").bind(job_id).fetch_one(&db.pool).await.unwrap();
        if status == "completed" {
            return;
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

async fn bench_add() {
    let server = start().await;
    let mut rates = Vec::new();
    let mut drains = Vec::new();
    let mut job_p50 = Vec::new();
    let mut job_p99 = Vec::new();
    for run in 0..runs() {
        let (secret, token, _) = connect(&server.db, &format!("a{run}@bench.example")).await;
        let mut rng = Rng(7 + run as u64);
        let requests: Vec<Vec<u8>> = (0..ADDS)
            .map(|i| {
                let text = format!("I prefer {} with {} for task {i}.", rng.pick(TOPICS), rng.pick(TOPICS));
                let body = serde_json::json!({ "messages": [{ "role": "user", "content": text }] }).to_string();
                request(server.addr, "/v1/universal/memories/add", &secret, &token, &body)
            })
            .collect();
        // Throughput: every add is answered 202 only after its job is committed.
        let requests = std::sync::Arc::new(requests);
        let started = Instant::now();
        let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..THROUGHPUT_CONNECTIONS)
            .map(|_| {
                let (requests, next) = (requests.clone(), next.clone());
                tokio::spawn(async move {
                    let mut conn = Conn::open(server_addr(&requests)).await;
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= requests.len() {
                            break;
                        }
                        let (status, _) = conn.call(&requests[i]).await;
                        assert_eq!(status, 202);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let acked = started.elapsed();
        let rate = ADDS as f64 / acked.as_secs_f64();
        // Then the workers catch up.
        while memory_passport::store::jobs::pending(&server.db).await.unwrap() > 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let drained = started.elapsed();

        // Latency from an add's answer to its memory being stored, on an idle queue.
        let mut conn = Conn::open(server.addr).await;
        let mut lat = Vec::with_capacity(JOB_LATENCY_SAMPLES);
        for i in 0..JOB_LATENCY_SAMPLES {
            let body = serde_json::json!({ "messages": [{ "role": "user", "content": format!("I prefer latency sample {i} of run {run}.") }] }).to_string();
            let (status, answer) = conn.call(&request(server.addr, "/v1/universal/memories/add", &secret, &token, &body)).await;
            let acked_at = Instant::now();
            assert_eq!(status, 202);
            let job_id = serde_json::from_slice::<serde_json::Value>(&answer).unwrap()["job_id"].as_str().unwrap().to_string();
            loop {
                let status: String = sqlx::query_scalar("SELECT status FROM memory_jobs WHERE id = $1")
                    .bind(&job_id)
                    .fetch_one(&server.db.pool)
                    .await
                    .unwrap();
                if status == "completed" {
                    break;
                }
                tokio::time::sleep(Duration::from_micros(200)).await;
            }
            lat.push(acked_at.elapsed());
        }
        lat.sort();
        let (p50, p99) = (ms(percentile(&lat, 0.5)), ms(percentile(&lat, 0.99)));
        println!(
            "  run {}: {rate:.0} adds/s acknowledged, all {ADDS} stored after {:.2} s, add-to-memory p50 {p50:.2} ms, p99 {p99:.2} ms",
            run + 1,
            drained.as_secs_f64()
        );
        rates.push(rate);
        drains.push(ADDS as f64 / drained.as_secs_f64());
        job_p50.push(p50);
        job_p99.push(p99);
    }
    println!(
        "add: median {:.0} adds/s acknowledged (each a committed job), median {:.0} jobs/s processed to memories, add-to-memory median p50 {:.2} ms, p99 {:.2} ms",
        median(rates),
        median(drains),
        median(job_p50),
        median(job_p99)
    );
}

/// The address is in every request's Host header; reading it back keeps the task closure small.
fn server_addr(requests: &[Vec<u8>]) -> SocketAddr {
    let head = std::str::from_utf8(&requests[0][..200.min(requests[0].len())]).unwrap_or("");
    head.lines().find_map(|l| l.strip_prefix("Host: ")).and_then(|h| h.trim().parse().ok()).expect("host header")
}

async fn run() {
    println!("memory-passport universal API benchmark: {} runs each, {} cores", runs(), std::thread::available_parallelism().map_or(0, |n| n.get()));
    let only = std::env::var("MP_BENCH_ONLY").unwrap_or_default();
    for size in SIZES {
        if only.is_empty() || only == "retrieve" {
            bench_retrieve(size).await;
        }
    }
    if only.is_empty() || only == "mcp" {
        bench_mcp().await;
    }
    if only.is_empty() || only == "add" {
        bench_add().await;
    }
    if only.is_empty() || only == "nodes" {
        bench_nodes().await;
    }
}

// ---- One node and two nodes on one PostgreSQL ----

/// Memories of the person whose memories are retrieved in the nodes part.
const NODES_MEMORIES: usize = 1_000;
/// How long each throughput figure of the nodes part is measured.
const NODES_FOR: Duration = Duration::from_secs(3);

/// A fresh database next to the admin URL's (as tests/common does); its URL and name.
async fn fresh_postgres_database(admin_url: &str) -> (String, String) {
    use sqlx::{Connection, Executor};
    sqlx::any::install_default_drivers();
    let name = format!("mp_bench_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::AnyConnection::connect(admin_url).await.expect("connect to PostgreSQL");
    conn.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create bench database");
    let (base, _) = admin_url.rsplit_once('/').expect("admin url has a database path");
    (format!("{base}/{name}"), name)
}

async fn drop_postgres_database(admin_url: &str, name: &str) {
    use sqlx::{Connection, Executor};
    if let Ok(mut conn) = sqlx::AnyConnection::connect(admin_url).await {
        let _ = conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str()).await;
    }
}

/// Throughput and latency of one load.
struct Load {
    rate: f64,
    p50: f64,
    p99: f64,
}

/// `THROUGHPUT_CONNECTIONS` connections, connection c on node `c % addrs.len()`, each sending
/// `make(node, n)` (n counts every request of the load) for `NODES_FOR`; requests per second
/// and the p50/p99 of every request's latency.
async fn spread_load(addrs: &[SocketAddr], expect: u16, make: std::sync::Arc<dyn Fn(usize, usize) -> Vec<u8> + Send + Sync>) -> Load {
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..THROUGHPUT_CONNECTIONS)
        .map(|c| {
            let (make, counter, node, addr) = (make.clone(), counter.clone(), c % addrs.len(), addrs[c % addrs.len()]);
            tokio::spawn(async move {
                let mut conn = Conn::open(addr).await;
                let mut times = Vec::new();
                while started.elapsed() < NODES_FOR {
                    let req = make(node, counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
                    let t = Instant::now();
                    let (status, _) = conn.call(&req).await;
                    times.push(t.elapsed());
                    assert_eq!(status, expect);
                }
                times
            })
        })
        .collect();
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await.unwrap());
    }
    let rate = times.len() as f64 / started.elapsed().as_secs_f64();
    times.sort();
    Load { rate, p50: ms(percentile(&times, 0.5)), p99: ms(percentile(&times, 0.99)) }
}

/// Medians over the runs of one configuration.
struct NodesFigures {
    retrieve: Load,
    add: Load,
}

/// The runs at one configuration: retrieves of one person's memories, then adds for a new
/// person each run, after each of which the queue is left to drain.
async fn nodes_runs(nodes: &[Server], db: &Db, secret: &str, token: &str) -> NodesFigures {
    let addrs: Vec<SocketAddr> = nodes.iter().map(|n| n.addr).collect();
    let label = if addrs.len() == 1 { "1 node".to_string() } else { format!("{} nodes", addrs.len()) };
    let retrieves: std::sync::Arc<Vec<Vec<Vec<u8>>>> = std::sync::Arc::new(addrs.iter().map(|a| retrieve_requests(*a, secret, token)).collect());
    // Each node loads and indexes the person's memories on its first retrieve.
    for (node, addr) in addrs.iter().enumerate() {
        let mut conn = Conn::open(*addr).await;
        for r in retrieves[node].iter() {
            let (status, _) = conn.call(r).await;
            assert_eq!(status, 200);
        }
    }
    let (mut r_rate, mut r_p50, mut r_p99, mut a_rate, mut a_p50, mut a_p99) = (vec![], vec![], vec![], vec![], vec![], vec![]);
    for run in 0..runs() {
        let requests = retrieves.clone();
        let r = spread_load(&addrs, 200, std::sync::Arc::new(move |node: usize, n: usize| requests[node][n % requests[node].len()].clone())).await;

        let (add_secret, add_token, _) = connect(db, &format!("n{}-{run}-{}@bench.example", addrs.len(), uuid::Uuid::new_v4().simple())).await;
        let (add_addrs, tag) = (addrs.clone(), format!("{}n{run}", addrs.len()));
        let a = spread_load(
            &addrs,
            202,
            std::sync::Arc::new(move |node: usize, n: usize| {
                let mut rng = Rng(0x2545_f491_4f6c_dd1d ^ n as u64);
                let text = format!("I prefer {} with {} for task {n} of {tag}.", rng.pick(TOPICS), rng.pick(TOPICS));
                let body = serde_json::json!({ "messages": [{ "role": "user", "content": text }] }).to_string();
                request(add_addrs[node], "/v1/universal/memories/add", &add_secret, &add_token, &body)
            }),
        )
        .await;
        let drain = Instant::now();
        while memory_passport::store::jobs::pending(db).await.unwrap() > 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        println!(
            "  {label}, run {}: {:.0} retrieves/s (p50 {:.2} ms, p99 {:.2} ms); {:.0} adds/s (p50 {:.2} ms, p99 {:.2} ms), queue drained {:.2} s after the load",
            run + 1,
            r.rate,
            r.p50,
            r.p99,
            a.rate,
            a.p50,
            a.p99,
            drain.elapsed().as_secs_f64()
        );
        r_rate.push(r.rate);
        r_p50.push(r.p50);
        r_p99.push(r.p99);
        a_rate.push(a.rate);
        a_p50.push(a.p50);
        a_p99.push(a.p99);
    }
    NodesFigures {
        retrieve: Load { rate: median(r_rate), p50: median(r_p50), p99: median(r_p99) },
        add: Load { rate: median(a_rate), p50: median(a_p50), p99: median(a_p99) },
    }
}

async fn bench_nodes() {
    let admin = match std::env::var("MP_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            println!("nodes: skipped (set MP_TEST_POSTGRES_URL, e.g. postgres://mp:mp@127.0.0.1:5432/mp_admin, to measure one and two nodes on PostgreSQL)");
            return;
        }
    };
    let (database_url, name) = fresh_postgres_database(&admin).await;
    let first = start_on(Some(&database_url)).await;
    let (secret, token, passport_id) = connect(&first.db, "nodes@bench.example").await;
    memories::insert_many(&first.db, &passport_id, &memories_for(NODES_MEMORIES)).await.expect("seed");
    println!(
        "nodes: PostgreSQL, {NODES_MEMORIES} memories, {THROUGHPUT_CONNECTIONS} connections spread round-robin over the nodes, {} s per figure, 2 job workers per node",
        NODES_FOR.as_secs()
    );
    let db = first.db.clone();
    let mut nodes = vec![first];
    let one = nodes_runs(&nodes, &db, &secret, &token).await;
    // The second node joins the same database (its workers share the queue).
    nodes.push(start_on(Some(&database_url)).await);
    let two = nodes_runs(&nodes, &db, &secret, &token).await;
    for (label, f) in [("1 node", &one), ("2 nodes", &two)] {
        println!(
            "nodes, {label}: median {:.0} retrieves/s (p50 {:.2} ms, p99 {:.2} ms under load), median {:.0} adds/s (p50 {:.2} ms, p99 {:.2} ms under load)",
            f.retrieve.rate, f.retrieve.p50, f.retrieve.p99, f.add.rate, f.add.p50, f.add.p99
        );
    }
    println!(
        "nodes, 2 nodes / 1 node: retrieve {:.2}x, add {:.2}x ({} cores shared by the client, both nodes and PostgreSQL)",
        two.retrieve.rate / one.retrieve.rate,
        two.add.rate / one.add.rate,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    drop(nodes);
    drop_postgres_database(&admin, &name).await;
}
