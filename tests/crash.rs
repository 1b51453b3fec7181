//! `kill -9` of the real server binary during a burst of 1,000 adds: after a restart every
//! acknowledged job is done (or still queued), none is lost and none is applied twice, on
//! SQLite and on PostgreSQL. And `kill -9` of one of two nodes on one PostgreSQL under add
//! load: the other node keeps answering, takes over the dead node's jobs, and clients that
//! resend with the same idempotency key get exactly one job per key.
mod common;

use common::{fresh_postgres_database, postgres_admin_url};
use memory_passport::domain::agent::{AccessType, AgentProfile};
use memory_passport::domain::categories::Category;
use memory_passport::domain::grant::GrantDuration;
use memory_passport::store::accounts::AccountKind;
use memory_passport::store::grants::{self, Approval};
use memory_passport::store::{agents, jobs, passports, Db};
use std::collections::{HashMap, HashSet};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ADDS: usize = 1_000;
/// The server is killed once this many adds have been acknowledged.
const KILL_AFTER: usize = 300;

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The real binary, as `memory-passport serve` runs in production.
async fn start(database_url: &str, dir: &std::path::Path) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_memory-passport"))
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("SECRET_KEY", "crash test key: at least thirty-two characters")
        .env("MAIL_OUTBOX_DIR", dir.join("outbox"))
        .env("JOB_CLAIM_SECONDS", "2")
        .env("AGENT_RATE_LIMIT", "100000")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    for _ in 0..300 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            return Server { child, base };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not come up");
}

/// A live agent with a read-write grant for one person; returns (secret, token).
async fn connect(db: &Db) -> (String, String) {
    let tenant = memory_passport::service::accounts::register(db, AccountKind::Tenant, "crash-tenant@example.com", "a long tenant password")
        .await
        .unwrap();
    let profile = AgentProfile {
        name: "Crash Test".into(),
        description: String::new(),
        website_url: "https://crash.example".into(),
        logo_url: String::new(),
        default_categories: vec![Category::Preference],
        redirect_uris: vec![],
        access_type: AccessType::ReadWrite,
    };
    let (agent, secret) = agents::create(db, &tenant.id, &profile).await.unwrap();
    let passport = passports::find_or_create(db, "crash-person@example.com").await.unwrap();
    let approval = Approval {
        passport_id: &passport.id,
        agent_id: &agent.id,
        categories: &[Category::Preference],
        access_type: AccessType::ReadWrite,
        duration: GrantDuration::UntilRevoked,
    };
    let (grant, _) = grants::upsert(db, &approval).await.unwrap();
    (secret, grants::issue_token(db, &grant).await.unwrap())
}

async fn kill_during_adds(database_url: String) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&database_url).await.unwrap();
    let (secret, token) = connect(&db).await;
    let mut server = start(&database_url, dir.path()).await;

    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (acked, next, client, base, secret, token) =
            (acked.clone(), next.clone(), client.clone(), server.base.clone(), secret.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= ADDS {
                    return;
                }
                let body = serde_json::json!({ "messages": [{ "role": "user", "content": format!("I prefer crash test item {i}.") }] });
                let sent = client
                    .post(format!("{base}/v1/universal/memories/add"))
                    .header("Authorization", format!("ApiKey {secret}"))
                    .header("X-MemoryOS-UUI", &token)
                    .json(&body)
                    .send()
                    .await;
                // Only a 202 with its body read is an acknowledgement.
                let Ok(res) = sent else { continue };
                if res.status() != 202 {
                    continue;
                }
                if let Ok(v) = res.json::<serde_json::Value>().await {
                    acked.lock().unwrap().push(v["job_id"].as_str().unwrap().to_string());
                }
            }
        }));
    }
    let started = Instant::now();
    while acked.lock().unwrap().len() < KILL_AFTER {
        assert!(started.elapsed() < Duration::from_secs(60), "adds were not acknowledged");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.child.kill().expect("kill -9"); // SIGKILL: no shutdown, no flush
    server.child.wait().unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    let acked: HashSet<String> = acked.lock().unwrap().iter().cloned().collect();
    assert!(acked.len() >= KILL_AFTER && acked.len() < ADDS, "killed mid-burst: {} acknowledged", acked.len());

    // Restarted, the server finishes what the dead one left, including jobs it had claimed.
    let _server = start(&database_url, dir.path()).await;
    let started = Instant::now();
    while jobs::pending(&db).await.unwrap() > 0 {
        assert!(started.elapsed() < Duration::from_secs(60), "the queue did not drain after the restart");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stored: Vec<(String, String)> = sqlx::query_as("SELECT id, status FROM memory_jobs").fetch_all(&db.pool).await.unwrap();
    let ids: HashSet<String> = stored.iter().map(|(id, _)| id.clone()).collect();
    let lost: Vec<&String> = acked.difference(&ids).collect();
    assert!(lost.is_empty(), "acknowledged jobs lost: {lost:?}");
    assert!(stored.iter().all(|(_, s)| s == "completed"), "every job completed");
    // Each job wrote exactly its one memory: none twice, none skipped.
    let per_job: Vec<(Option<String>, i64)> =
        sqlx::query_as("SELECT source_job_id, COUNT(*) FROM memories GROUP BY source_job_id").fetch_all(&db.pool).await.unwrap();
    assert_eq!(per_job.len(), stored.len(), "one memory for every job");
    assert!(per_job.iter().all(|(job, n)| job.is_some() && *n == 1), "no job applied twice");
    let retried: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memory_jobs WHERE attempts > 1").fetch_one(&db.pool).await.unwrap();
    println!(
        "kill -9 after {} acknowledged adds ({} stored in all, {retried} taken over from the dead worker): 0 lost, 0 applied twice",
        acked.len(),
        stored.len()
    );
}

#[tokio::test]
async fn kill_9_during_adds_loses_nothing_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    kill_during_adds(format!("sqlite://{}/crash.db", dir.path().display())).await;
}

#[tokio::test]
async fn kill_9_during_adds_loses_nothing_on_postgres() {
    let Some(admin) = postgres_admin_url() else { return };
    kill_during_adds(fresh_postgres_database(&admin).await).await;
}

/// Adds spread over the two nodes, and how many node A acknowledges before it is killed.
const NODES_ADDS: usize = 600;
const NODES_KILL_AFTER: usize = 100;

/// One add with an idempotency key; the job id on a 202 whose body was read, else why not.
async fn add_with_key(client: &reqwest::Client, base: &str, secret: &str, token: &str, i: usize, key: &str) -> Result<String, String> {
    let body = serde_json::json!({
        "messages": [{ "role": "user", "content": format!("I prefer two node item {i}.") }],
        "idempotency_key": key,
    });
    let res = client
        .post(format!("{base}/v1/universal/memories/add"))
        .header("Authorization", format!("ApiKey {secret}"))
        .header("X-MemoryOS-UUI", token)
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = res.status();
    if status != 202 {
        return Err(format!("status {status}"));
    }
    let v = res.json::<serde_json::Value>().await.map_err(|e| format!("body not read: {e}"))?;
    v["job_id"].as_str().map(str::to_string).ok_or_else(|| format!("no job_id in {v}"))
}

#[tokio::test]
async fn killing_one_of_two_nodes_under_add_load_loses_nothing() {
    let Some(admin) = postgres_admin_url() else {
        eprintln!("skipped: MP_TEST_POSTGRES_URL is not set");
        return;
    };
    let database_url = fresh_postgres_database(&admin).await;
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&database_url).await.unwrap();
    let (secret, token) = connect(&db).await;
    let mut node_a = start(&database_url, dir.path()).await;
    let node_b = start(&database_url, dir.path()).await;
    let (base_a, base_b) = (node_a.base.clone(), node_b.base.clone());
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();

    // B's readiness, polled for the whole test.
    let stop = Arc::new(AtomicBool::new(false));
    let readyz = {
        let (client, base, stop) = (client.clone(), base_b.clone(), stop.clone());
        tokio::spawn(async move {
            let (mut checks, mut bad) = (0usize, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                checks += 1;
                match client.get(format!("{base}/readyz")).send().await {
                    Ok(r) if r.status() == 200 => {}
                    Ok(r) => bad.push(format!("status {}", r.status())),
                    Err(e) => bad.push(format!("no answer: {e}")),
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            (checks, bad)
        })
    };

    // Clients: even adds go to A, odd ones to B; an add A does not acknowledge is sent again
    // to B with the same idempotency key, as a client or a load balancer would.
    let killed = Arc::new(AtomicBool::new(false));
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default(); // (idempotency key, job id)
    let acked_by_a = Arc::new(AtomicUsize::new(0));
    let retried_on_b = Arc::new(AtomicUsize::new(0));
    let retried_keys: Arc<Mutex<HashSet<String>>> = Arc::default();
    let failures: Arc<Mutex<Vec<String>>> = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (client, base_a, base_b, secret, token) = (client.clone(), base_a.clone(), base_b.clone(), secret.clone(), token.clone());
        let (killed, acked, acked_by_a, retried_on_b, retried_keys, failures, next) = (
            killed.clone(),
            acked.clone(),
            acked_by_a.clone(),
            retried_on_b.clone(),
            retried_keys.clone(),
            failures.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= NODES_ADDS {
                    return;
                }
                let key = format!("two-nodes-{i}");
                let on_a = i % 2 == 0;
                let first = add_with_key(&client, if on_a { &base_a } else { &base_b }, &secret, &token, i, &key).await;
                let job = match first {
                    Ok(job) => {
                        if on_a {
                            acked_by_a.fetch_add(1, Ordering::Relaxed);
                        }
                        job
                    }
                    Err(why) if on_a => {
                        if !killed.load(Ordering::SeqCst) {
                            failures.lock().unwrap().push(format!("{key} on A before the kill: {why}"));
                        }
                        retried_on_b.fetch_add(1, Ordering::Relaxed);
                        retried_keys.lock().unwrap().insert(key.clone());
                        match add_with_key(&client, &base_b, &secret, &token, i, &key).await {
                            Ok(job) => job,
                            Err(why) => {
                                failures.lock().unwrap().push(format!("{key} retried on B: {why}"));
                                continue;
                            }
                        }
                    }
                    Err(why) => {
                        failures.lock().unwrap().push(format!("{key} on B: {why}"));
                        continue;
                    }
                };
                acked.lock().unwrap().push((key, job));
            }
        }));
    }
    while acked_by_a.load(Ordering::Relaxed) < NODES_KILL_AFTER {
        assert!(started.elapsed() < Duration::from_secs(60), "node A did not acknowledge adds");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    killed.store(true, Ordering::SeqCst);
    node_a.child.kill().expect("kill -9"); // SIGKILL: no shutdown, no flush
    node_a.child.wait().unwrap();
    let killed_at = started.elapsed();
    let dead_since_ms = memory_passport::store::now_ms();
    for t in tasks {
        t.await.unwrap();
    }
    let load_done = started.elapsed();

    // B's workers finish everything, including the jobs A had claimed once their claim runs out.
    while jobs::pending(&db).await.unwrap() > 0 {
        assert!(started.elapsed() < Duration::from_secs(120), "the queue did not drain on node B");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let total = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    let (checks, not_ready) = readyz.await.unwrap();

    let failures = failures.lock().unwrap().clone();
    assert!(failures.is_empty(), "{} adds failed: {:?}", failures.len(), &failures[..failures.len().min(10)]);
    assert!(not_ready.is_empty(), "node B was not ready {} of {checks} times: {:?}", not_ready.len(), &not_ready[..not_ready.len().min(10)]);
    let (acked_by_a, retried_on_b) = (acked_by_a.load(Ordering::Relaxed), retried_on_b.load(Ordering::Relaxed));
    assert!(acked_by_a >= NODES_KILL_AFTER && acked_by_a < NODES_ADDS / 2, "killed mid-burst: A acknowledged {acked_by_a}");
    assert!(retried_on_b > 0, "some adds to A were cut off by the kill");

    // Every key acknowledged once, and it names the one job stored for that key.
    let acked: Vec<(String, String)> = acked.lock().unwrap().clone();
    let acked_keys: HashMap<&str, &str> = acked.iter().map(|(k, j)| (k.as_str(), j.as_str())).collect();
    assert_eq!(acked.len(), NODES_ADDS, "every add acknowledged by one node or the other");
    assert_eq!(acked_keys.len(), NODES_ADDS, "each key acknowledged once");
    let stored: Vec<(Option<String>, String, String, i64)> =
        sqlx::query_as("SELECT idempotency_key, id, status, created_at FROM memory_jobs").fetch_all(&db.pool).await.unwrap();
    let mut job_for_key: HashMap<&str, &str> = HashMap::new();
    for (key, id, _, _) in &stored {
        let key = key.as_deref().expect("every job has its key");
        assert!(job_for_key.insert(key, id).is_none(), "two jobs for {key}");
    }
    assert_eq!(stored.len(), NODES_ADDS, "exactly one job for each idempotency key");
    for (key, job) in &acked_keys {
        assert_eq!(job_for_key.get(key), Some(job), "the job acknowledged for {key} is the one stored");
    }
    let not_done: Vec<_> = stored.iter().filter(|(_, _, s, _)| s != "completed").collect();
    // Adds whose job A had committed but whose 202 the kill cut off: B answered the retry with
    // that same job (it was created before A was dead).
    let retried_keys = retried_keys.lock().unwrap().clone();
    let committed_by_a_unanswered = stored
        .iter()
        .filter(|(key, _, _, created)| key.as_ref().is_some_and(|k| retried_keys.contains(k)) && *created < dead_since_ms)
        .count();
    assert!(not_done.is_empty(), "every acknowledged job completed: {not_done:?}");
    // Each job wrote exactly its one memory: none twice, none skipped.
    let per_job: Vec<(Option<String>, i64)> =
        sqlx::query_as("SELECT source_job_id, COUNT(*) FROM memories GROUP BY source_job_id").fetch_all(&db.pool).await.unwrap();
    assert_eq!(per_job.len(), stored.len(), "one memory for every job");
    assert!(per_job.iter().all(|(job, n)| job.is_some() && *n == 1), "no job applied twice");
    let taken_over: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memory_jobs WHERE attempts > 1").fetch_one(&db.pool).await.unwrap();
    drop(node_b);
    println!(
        "two nodes, {NODES_ADDS} adds, kill -9 of node A at {:.2} s after it acknowledged {acked_by_a} adds; {retried_on_b} adds retried on node B \
         with the same key, all acknowledged ({committed_by_a_unanswered} of them already committed by A, answered with that job); node B ready in all {checks} checks; {taken_over} jobs taken over from A's workers; \
         load done at {:.2} s, queue drained at {:.2} s total: {} jobs, {} memories, 0 lost, 0 applied twice",
        killed_at.as_secs_f64(),
        load_done.as_secs_f64(),
        total.as_secs_f64(),
        stored.len(),
        per_job.len()
    );
}
