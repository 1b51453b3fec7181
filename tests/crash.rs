//! `kill -9` of the real server binary during a burst of 1,000 adds: after a restart every
//! acknowledged job is done (or still queued), none is lost and none is applied twice, on
//! SQLite and on PostgreSQL.
mod common;

use common::{fresh_postgres_database, postgres_admin_url};
use memory_passport::domain::agent::{AccessType, AgentProfile};
use memory_passport::domain::categories::Category;
use memory_passport::domain::grant::GrantDuration;
use memory_passport::store::accounts::AccountKind;
use memory_passport::store::grants::{self, Approval};
use memory_passport::store::{agents, jobs, passports, Db};
use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
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
