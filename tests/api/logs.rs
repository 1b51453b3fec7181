//! The real binary's log, at debug level, after a full run of the product: tenant sign-up and
//! sign-in, an API key, an agent and its rotated secret, a person's one-time code and session,
//! consent with an exchange code and PKCE, the agent's token, adds and retrieves, and the
//! person's own API. Not one secret or password made along the way appears in the log, which
//! is written as JSON lines (`LOG_FORMAT=json`).
use crate::common::{call, code_in, exchange, query, Backend, Person, TestApp, REDIRECT};
use memory_passport::auth::pkce;
use memory_passport::store::Db;
use serde_json::{json, Value};
use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::test]
async fn a_full_run_logs_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}/logs.db", dir.path().display());
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log_path = dir.path().join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let server_key = "log test key: at least thirty-two characters";
    let mut child = Command::new(env!("CARGO_BIN_EXE_memory-passport"))
        .arg("serve")
        .env("DATABASE_URL", &database_url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("SECRET_KEY", server_key)
        .env("MAIL_OUTBOX_DIR", dir.path().join("outbox"))
        .env("RUST_LOG", "debug")
        .env("LOG_FORMAT", "json")
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for _ in 0..300 {
        if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status() == 200) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let app = TestApp {
        base: base.clone(),
        db: Db::connect(&database_url).await.unwrap(),
        backend: Backend::Sqlite,
        client: client.clone(),
        dir,
        database_url: database_url.clone(),
        state: None,
    };
    let mut secrets: Vec<String> = vec![server_key.to_string()];

    // A tenant signs up in the browser's way and makes an API key and an agent.
    let password = "a tenant password that is long".to_string();
    let res = app.server_fn("tenant/sign_up", None, &[("email", "logs-tenant@example.com"), ("password", &password)]).await;
    assert_eq!(res.status(), 200);
    let tenant_cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    secrets.push(password.clone());
    secrets.push(tenant_cookie.split_once('=').unwrap().1.to_string());
    let tenant_id: String = sqlx::query_scalar("SELECT id FROM tenants WHERE email = 'logs-tenant@example.com'").fetch_one(&app.db.pool).await.unwrap();
    let (_, api_key) = memory_passport::service::api_keys::create(&app.db, &tenant_id, "logs").await.unwrap();
    secrets.push(api_key.clone());
    let mut body = crate::common::guide_body("Log Watcher");
    body["redirect_uris"] = json!([REDIRECT]);
    body["redirect_uri"] = Value::Null;
    body["requested_access"] = json!("read_write");
    let created: Value = app.post_json("/v1/agents/global", Some(&api_key), &body).await.json().await.unwrap();
    let agent_id = created["data"]["id"].as_str().unwrap().to_string();
    let first_secret = created["data"]["raw_agent_api_key"].as_str().unwrap().to_string();
    secrets.push(first_secret.clone());
    let rotated: Value = app.post_json(&format!("/v1/agents/global/{agent_id}/rotate-secret"), Some(&api_key), &json!({})).await.json().await.unwrap();
    let secret = rotated["data"]["raw_agent_api_key"].as_str().unwrap().to_string();
    secrets.push(secret.clone());

    // A person signs in with an emailed code and consents; the app exchanges the code.
    let cookie = Person::sign_in(&app, "logs-person@example.com").await.cookie;
    secrets.push(cookie.split_once('=').unwrap().1.to_string());
    let mail = app.outbox().wait_for(1).await.into_iter().find(|m| m.contains("is your Memory Passport code")).unwrap();
    secrets.push(code_in(&mail));
    let verifier = "log-verifier-".repeat(4);
    secrets.push(verifier.clone());
    let answer = json!({
        "agent_id": agent_id, "state": "st", "redirect_uri": REDIRECT, "categories": ["preference"], "duration": "30_days",
        "access": "read_write", "code_challenge": pkce::challenge_of(&verifier), "code_challenge_method": "S256",
    });
    let approved: Value = call(&app, "consent/approve", Some(&cookie), &answer).await.json().await.unwrap();
    let code = query(approved["location"].as_str().unwrap(), "code").unwrap();
    secrets.push(code.clone());
    let res = exchange(&app, &secret, &code, REDIRECT, Some(&verifier)).await;
    let token = res.json::<Value>().await.unwrap()["data"]["uui_token"].as_str().unwrap().to_string();
    secrets.push(token.clone());

    // The agent adds and retrieves; a wrong key is tried too; the person reads their data.
    for path in ["/v1/universal/memories/add", "/v1/universal/memories/retrieve", "/v1/universal/memories/retrieve"] {
        let body = json!({ "messages": [{ "role": "user", "content": "I prefer tea." }], "query": "tea" });
        let res = client.post(format!("{base}{path}")).header("Authorization", format!("ApiKey {secret}")).header("X-MemoryOS-UUI", &token).json(&body).send().await.unwrap();
        assert!(res.status().is_success());
    }
    let res = client.post(format!("{base}/v1/universal/memories/retrieve")).header("Authorization", format!("ApiKey {first_secret}")).header("X-MemoryOS-UUI", &token).json(&json!({})).send().await.unwrap();
    assert_eq!(res.status(), 401, "the rotated-away secret");
    let res = client.get(format!("{base}/v1/uui/me/export")).header("Cookie", &cookie).send().await.unwrap();
    assert_eq!(res.status(), 200);
    tokio::time::sleep(Duration::from_millis(1_500)).await; // the job and the use counts run

    terminate(&mut child);
    let text = std::fs::read_to_string(app.dir.path().join("server.log")).unwrap();
    assert!(text.contains("/v1/universal/memories/add"), "the log is there and has requests in it");
    assert!(text.lines().count() > 20, "debug logging was on");
    // Structured: every line is one JSON object with a time and a level.
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let event: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(event["timestamp"].is_string() && event["level"].is_string(), "{line}");
    }
    // Control: values in paths are logged, so a secret in one would be found by this search.
    assert!(text.contains(&agent_id), "the agent id from the rotate path is in the log");
    for s in &secrets {
        assert!(!text.contains(s.as_str()), "a secret reached the log: {}…", &s[..s.len().min(8)]);
    }
    println!("server log: {} lines, {} bytes; none of the {} secrets made in the run is in it", text.lines().count(), text.len(), secrets.len());
}

/// Stops the server the way an operator does (SIGTERM, so it flushes), then waits for it.
fn terminate(child: &mut std::process::Child) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).stdout(Stdio::null()).status();
    for _ in 0..100 {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}
