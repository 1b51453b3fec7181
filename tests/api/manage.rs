//! A person's own API, `/v1/uui/me/*`, over their signed-in session on both databases: it
//! shares the manage page's service, refuses agents' tokens and cross-site changes, and the
//! agent's next retrieve follows every change. Deleting the Passport leaves no row behind.
use crate::common::{connect, expect_error, AgentCreds, Connected, McpClient, Me, Person, TestApp};
use crate::on_both_backends;
use serde_json::{json, Value};
use std::time::Duration;

on_both_backends!(
    only_the_persons_session_opens_it,
    grant_changes_reach_the_agent_at_once,
    memories_are_corrected_flagged_deleted_and_searched,
    questions_are_answered_four_ways,
    export_and_hard_delete,
);

async fn retrieve(app: &TestApp, c: &Connected) -> Value {
    c.retrieve(app, json!({ "query": "", "limit": 50 })).await
}

fn texts(body: &Value) -> Vec<String> {
    let mut t: Vec<String> = body["data"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap().to_string()).collect();
    t.sort();
    t
}

async fn add_and_wait(app: &TestApp, c: &Connected, text: &str) {
    let job = c.add(app, text).await;
    assert_eq!(c.finished(app, &job).await["status"], "completed");
}

/// A person with one read-write app that has added `text`.
async fn setup<'a>(app: &'a TestApp, email: &str, text: &str) -> (Me<'a>, Connected) {
    let cookie = Person::sign_in(app, email).await.cookie;
    let a = AgentCreds::create(app, &[], "read_write").await;
    let c = connect(app, &cookie, &a, &["preference", "fact", "goal"], "read_write").await;
    if !text.is_empty() {
        add_and_wait(app, &c, text).await;
    }
    (Me { app, cookie }, c)
}

async fn only_the_persons_session_opens_it(app: TestApp) {
    let (me, c) = setup(&app, "own@example.com", "I prefer tea.").await;
    // No session, or an agent's credentials in any header: 401.
    expect_error(app.client.get(app.url("/v1/uui/me/memories")).send().await.unwrap(), 401, "AUTH_401").await;
    for (name, value) in [
        ("Authorization", format!("ApiKey {}", c.token)),
        ("Authorization", format!("Bearer {}", c.token)),
        ("X-MemoryOS-UUI", c.token.clone()),
        ("Cookie", format!("mp_passport={}", c.token)),
    ] {
        let res = app.client.get(app.url("/v1/uui/me/grants")).header(name, value).send().await.unwrap();
        expect_error(res, 401, "AUTH_401").await;
    }
    // A change from another site with the person's cookie: refused by the CSRF guard.
    let memories = me.data(reqwest::Method::GET, "/v1/uui/me/memories", None).await;
    let id = memories["memories"][0]["id"].as_str().unwrap().to_string();
    let res = app
        .client
        .delete(app.url(&format!("/v1/uui/me/memories/{id}")))
        .header("Cookie", &me.cookie)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    expect_error(res, 403, "CSRF_403").await;
    assert_eq!(texts(&retrieve(&app, &c).await), vec!["I prefer tea."], "nothing was deleted");
    // Another person's ids are unknown here.
    let (other, _) = setup(&app, "other@example.com", "").await;
    expect_error(other.call(reqwest::Method::DELETE, &format!("/v1/uui/me/memories/{id}"), None).await, 404, "REQ_404").await;
    expect_error(other.call(reqwest::Method::DELETE, &format!("/v1/uui/me/grants/{}", c.grant_id), None).await, 404, "REQ_404").await;
}

async fn grant_changes_reach_the_agent_at_once(app: TestApp) {
    let (me, c) = setup(&app, "grants@example.com", "I prefer tea. I live in Lisbon. I'm trying to learn Rust.").await;
    assert_eq!(texts(&retrieve(&app, &c).await).len(), 3);
    let grants = me.data(reqwest::Method::GET, "/v1/uui/me/grants", None).await;
    assert_eq!(grants.as_array().unwrap().len(), 1);
    assert_eq!(grants[0]["agent"]["name"], "Support Copilot");
    let path = format!("/v1/uui/me/grants/{}", c.grant_id);
    let changed = me.data(reqwest::Method::PATCH, &path, Some(json!({ "categories": ["fact"], "access": "read_only", "duration": "30_days" }))).await;
    assert_eq!(changed["categories"], json!(["fact"]));
    assert_eq!(changed["access"], "read_only");
    assert_eq!(changed["duration"], "30_days");
    assert!(changed["expires_at"].as_str().unwrap().ends_with("Z"));
    let body = retrieve(&app, &c).await;
    assert_eq!(texts(&body), vec!["I live in Lisbon."]);
    assert_eq!(body["categories_available"], json!(["fact"]));
    // Raising access takes a new consent; no category is not a grant.
    let raise = me.call(reqwest::Method::PATCH, &path, Some(json!({ "categories": ["fact"], "access": "read_write", "duration": "30_days" }))).await;
    expect_error(raise, 422, "REQ_422").await;
    let none = me.call(reqwest::Method::PATCH, &path, Some(json!({ "categories": [], "access": "read_only", "duration": "30_days" }))).await;
    expect_error(none, 422, "REQ_422").await;
    // Revoked: the agent gets the empty answer; the grant cannot be changed any more.
    assert_eq!(me.data(reqwest::Method::DELETE, &path, None).await["revoked"], true);
    assert_eq!(retrieve(&app, &c).await["permission_error"], "no_grant_for_user");
    expect_error(me.call(reqwest::Method::DELETE, &path, None).await, 404, "REQ_404").await;
    let kinds = memory_passport::store::grants::history_for_passport(&app.db, &passport_id(&app, "grants@example.com").await, 10).await.unwrap();
    assert_eq!(kinds.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), vec!["revoked", "updated", "granted"]);
}

async fn passport_id(app: &TestApp, email: &str) -> String {
    sqlx::query_scalar("SELECT id FROM passports WHERE email = $1").bind(email).fetch_one(&app.db.pool).await.unwrap()
}

async fn memories_are_corrected_flagged_deleted_and_searched(app: TestApp) {
    let (me, c) = setup(&app, "mems@example.com", "I prefer tea. I live in Lisbon. I'm trying to learn Rust.").await;
    let page = me.data(reqwest::Method::GET, "/v1/uui/me/memories", None).await;
    assert_eq!(page["total"], 3);
    let id_of = |text: &str| page["memories"].as_array().unwrap().iter().find(|m| m["content"] == text).unwrap()["id"].as_str().unwrap().to_string();
    let (tea, home, rust) = (id_of("I prefer tea."), id_of("I live in Lisbon."), id_of("I'm trying to learn Rust."));
    assert_eq!(page["memories"][0]["source"], "Support Copilot", "the person sees which app wrote it");

    me.data(reqwest::Method::PATCH, &format!("/v1/uui/me/memories/{tea}"), Some(json!({ "content": "  I prefer green   tea. " }))).await;
    let versions = me.data(reqwest::Method::GET, &format!("/v1/uui/me/memories/{tea}/versions"), None).await;
    assert_eq!(versions[0]["content"], "I prefer tea.");
    me.data(reqwest::Method::POST, &format!("/v1/uui/me/memories/{home}/flag"), Some(json!({ "flag": "outdated" }))).await;
    me.data(reqwest::Method::DELETE, &format!("/v1/uui/me/memories/{rust}"), None).await;
    assert_eq!(texts(&retrieve(&app, &c).await), vec!["I prefer green tea."], "corrected, flagged and deleted as the agent sees it");
    me.data(reqwest::Method::POST, &format!("/v1/uui/me/memories/{home}/flag"), Some(json!({ "flag": null }))).await;
    assert_eq!(texts(&retrieve(&app, &c).await), vec!["I live in Lisbon.", "I prefer green tea."], "unflagged is served again");

    let found = me.data(reqwest::Method::GET, "/v1/uui/me/memories?q=GREEN", None).await;
    assert_eq!(found["total"], 1);
    let none = me.data(reqwest::Method::GET, "/v1/uui/me/memories?q=100%25_", None).await;
    assert_eq!(none["total"], 0, "LIKE's own characters are literal");
    let facts = me.data(reqwest::Method::GET, "/v1/uui/me/memories?category=fact", None).await;
    assert_eq!(facts["total"], 1);
    let by_app = me.data(reqwest::Method::GET, &format!("/v1/uui/me/memories?agent_id={}", c.agent_id), None).await;
    assert_eq!(by_app["total"], 2);

    for bad in [json!({ "content": "" }), json!({ "content": "x".repeat(1001) }), json!({ "content": "a\u{0}b" }), json!({ "content": "ok", "category": "gossip" })] {
        expect_error(me.call(reqwest::Method::PATCH, &format!("/v1/uui/me/memories/{tea}"), Some(bad)).await, 422, "REQ_422").await;
    }
    expect_error(me.call(reqwest::Method::POST, &format!("/v1/uui/me/memories/{tea}/flag"), Some(json!({ "flag": "boring" }))).await, 422, "REQ_422").await;
    expect_error(me.call(reqwest::Method::DELETE, &format!("/v1/uui/me/memories/{rust}"), None).await, 404, "REQ_404").await;
    expect_error(me.call(reqwest::Method::GET, "/v1/uui/me/memories?category=gossip", None).await, 422, "REQ_422").await;
    expect_error(me.call(reqwest::Method::GET, "/v1/uui/me/memories?offset=-1", None).await, 422, "REQ_422").await;
}

async fn questions_are_answered_four_ways(app: TestApp) {
    let (me, c) = setup(&app, "q@example.com", "I love coffee. I live in Porto. My favorite editor is Vim. I work at Acme.").await;
    add_and_wait(&app, &c, "I hate coffee. I live in Berlin. My favorite editor is Emacs. I work at Globex.").await;
    let questions = me.data(reqwest::Method::GET, "/v1/uui/me/questions", None).await;
    assert_eq!(questions.as_array().unwrap().len(), 4);
    let id_of = |b: &str| questions.as_array().unwrap().iter().find(|q| q["candidate"] == b).unwrap()["id"].as_str().unwrap().to_string();
    for (b, answer) in [("I hate coffee.", "A"), ("I live in Berlin.", "B"), ("My favorite editor is Emacs.", "both"), ("I work at Globex.", "neither")] {
        me.data(reqwest::Method::POST, &format!("/v1/uui/me/questions/{}", id_of(b)), Some(json!({ "answer": answer }))).await;
    }
    assert_eq!(
        texts(&retrieve(&app, &c).await),
        vec!["I live in Berlin.", "I love coffee.", "My favorite editor is Emacs.", "My favorite editor is Vim."]
    );
    assert_eq!(me.data(reqwest::Method::GET, "/v1/uui/me/questions", None).await, json!([]));
    let again = me.call(reqwest::Method::POST, &format!("/v1/uui/me/questions/{}", id_of("I hate coffee.")), Some(json!({ "answer": "B" }))).await;
    expect_error(again, 404, "REQ_404").await;
    let bad = me.call(reqwest::Method::POST, &format!("/v1/uui/me/questions/{}", id_of("I hate coffee.")), Some(json!({ "answer": "C" }))).await;
    expect_error(bad, 422, "REQ_422").await;
}

/// Every table that holds rows about one person, and how each names them.
const PERSON_TABLES: &[(&str, &str)] = &[
    ("passports", "id"),
    ("memories", "passport_id"),
    ("memory_versions", "passport_id"),
    ("memory_conflicts", "passport_id"),
    ("memory_jobs", "passport_id"),
    ("uui_tokens", "passport_id"),
    ("oauth_tokens", "passport_id"),
    ("grants", "passport_id"),
    ("grant_events", "passport_id"),
    ("sessions", "subject_id"),
];

async fn rows_of(app: &TestApp, id: &str) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for (table, column) in PERSON_TABLES {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1")).bind(id).fetch_one(&app.db.pool).await.unwrap();
        out.push((table.to_string(), n));
    }
    let uses: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memory_uses u JOIN grants g ON g.id = u.grant_id WHERE g.passport_id = $1")
        .bind(id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    out.push(("memory_uses".into(), uses));
    out
}

async fn export_and_hard_delete(app: TestApp) {
    let (me, c) = setup(&app, "gone@example.com", "I prefer tea. My name is Ada.").await;
    add_and_wait(&app, &c, "My name is Grace.").await;
    let tea = me.data(reqwest::Method::GET, "/v1/uui/me/memories?q=tea", None).await["memories"][0]["id"].as_str().unwrap().to_string();
    me.data(reqwest::Method::PATCH, &format!("/v1/uui/me/memories/{tea}"), Some(json!({ "content": "I prefer green tea." }))).await;
    retrieve(&app, &c).await;
    // A job still waiting, with its conversation, is part of the person's data too.
    sqlx::query("INSERT INTO memory_jobs (id, agent_id, passport_id, payload, status, created_at) VALUES ($1, $2, $3, $4, 'queued', 0)")
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(&c.agent_id)
        .bind(passport_id(&app, "gone@example.com").await)
        .bind(r#"{"messages":[{"role":"user","content":"I like jazz."}]}"#)
        .execute(&app.db.pool)
        .await
        .unwrap();

    let res = me.call(reqwest::Method::GET, "/v1/uui/me/export", None).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("attachment"));
    let export: Value = res.json().await.unwrap();
    assert_eq!(export["passport"]["email"], "gone@example.com");
    assert_eq!(export["apps"][0]["app"], "Support Copilot");
    assert_eq!(export["memories"].as_array().unwrap().len(), 2);
    assert_eq!(export["open_questions"][0]["new_statement"], "My name is Grace.");
    assert_eq!(export["conversations_waiting_to_be_read"][0]["conversation"]["messages"][0]["content"], "I like jazz.");
    let green = export["memories"].as_array().unwrap().iter().find(|m| m["content"] == "I prefer green tea.").unwrap();
    assert_eq!(green["versions"][0]["content"], "I prefer tea.");

    // An assistant connected over MCP holds OAuth tokens for this person too.
    McpClient::register(&app, "Claude").await.connect(&app, &me.cookie, &["fact"], "read_only").await;
    let id = passport_id(&app, "gone@example.com").await;
    tokio::time::sleep(Duration::from_millis(1_500)).await; // let the use counts be written
    assert!(rows_of(&app, &id).await.iter().all(|(_, n)| *n > 0), "every table holds something first: {:?}", rows_of(&app, &id).await);
    expect_error(me.call(reqwest::Method::DELETE, "/v1/uui/me", Some(json!({ "confirm": "delete" }))).await, 422, "REQ_422").await;
    let res = me.call(reqwest::Method::DELETE, "/v1/uui/me", Some(json!({ "confirm": "DELETE" }))).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"), "the cookie is cleared");
    assert!(rows_of(&app, &id).await.iter().all(|(_, n)| *n == 0), "{:?}", rows_of(&app, &id).await);
    let otp: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM otp_codes").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(otp, 0, "no sign-in code state is left");
    // The session and the agent's token are dead.
    expect_error(me.call(reqwest::Method::GET, "/v1/uui/me/grants", None).await, 401, "AUTH_401").await;
    let res = app
        .client
        .post(app.url("/v1/universal/memories/retrieve"))
        .header("Authorization", format!("ApiKey {}", c.secret))
        .header("X-MemoryOS-UUI", &c.token)
        .json(&json!({ "query": "" }))
        .send()
        .await
        .unwrap();
    expect_error(res, 401, "UAT_001").await;
    // The same address can start again from nothing.
    let fresh = Person::sign_in(&app, "gone@example.com").await.cookie;
    let again = Me { app: &app, cookie: fresh };
    assert_eq!(again.data(reqwest::Method::GET, "/v1/uui/me/memories", None).await["total"], 0);
}
