//! Malformed and oversized bodies on the server functions (`docs/security-matrix.md`, rows 9a
//! and 9c; `/v1` has its own tests in `api.rs`): refused, and nothing changes. Also the weakness
//! these tests found and that is fixed: malformed server-function bodies answered 500. Each
//! test runs on SQLite and on PostgreSQL.
use crate::common::{call, AgentCreds, Person, TestApp};
use crate::on_both_backends;
use serde_json::json;
use std::time::Duration;

on_both_backends!(
    oversized_server_function_bodies_are_413,
    malformed_server_function_bodies_change_nothing,
    malformed_server_function_bodies_are_not_server_errors,
);

/// Attack: oversized bodies to the server functions (the page side; `/v1` has its own 64 KiB
/// limit, tested in `invalid_bodies_are_422_and_oversized_413`).
/// Outcome: over 256 KiB is 413 before any handler runs, for forms and JSON, signed in or
/// not; nothing is stored and no mail is sent.
async fn oversized_server_function_bodies_are_413(app: TestApp) {
    let cookie = Person::sign_in(&app, "big@example.com").await.cookie;
    let AgentCreds { id: agent_id, .. } = AgentCreds::create(&app, &[], "read_only").await;
    let huge = "x".repeat(300 * 1024);
    let res = app.server_fn("passport/send_code", None, &[("email", &format!("{huge}@example.com"))]).await;
    assert_eq!(res.status(), 413);
    let res = app.server_fn("tenant/sign_up", None, &[("email", "big-tenant@example.com"), ("password", &huge)]).await;
    assert_eq!(res.status(), 413);
    let answer = json!({ "agent_id": agent_id, "state": huge, "redirect_uri": "", "categories": ["fact"], "duration": "30_days" });
    assert_eq!(call(&app, "consent/approve", Some(&cookie), &answer).await.status(), 413);
    let mails_before = app.outbox().all().len();
    for table in ["grants", "tenants"] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&app.db.pool).await.unwrap();
        assert_eq!(n, if table == "tenants" { 1 + crate::common::RESERVED_TENANTS } else { 0 }, "{table}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.outbox().all().len(), mails_before);
}

/// The malformed requests of the next two tests: (endpoint, content type, body).
fn malformed_server_fn_bodies(agent_id: &str) -> Vec<(String, &'static str, String)> {
    vec![
        ("/api/consent/approve".into(), "application/json", "{\"answer\": ".into()),
        ("/api/consent/approve".into(), "application/json", "[1, 2]".into()),
        ("/api/consent/approve".into(), "application/json", json!({ "answer": { "agent_id": 5 } }).to_string()),
        ("/api/consent/approve".into(), "application/x-www-form-urlencoded", format!("agent_id={agent_id}")),
        ("/api/consent/deny".into(), "application/json", "not json".into()),
        ("/api/passport/send_code".into(), "application/x-www-form-urlencoded", "".into()),
        ("/api/passport/verify_code".into(), "application/x-www-form-urlencoded", "email=a@example.com".into()),
        ("/api/tenant/sign_in".into(), "application/json", "{\"email\": [], \"password\": {}}".into()),
        ("/api/manage/update_grant".into(), "application/json", json!({ "grant_id": "x", "categories": ["hobbies"], "access": "root", "duration": "forever" }).to_string()),
        ("/api/manage/flag".into(), "application/json", json!({ "memory_id": "x", "flag": "boring" }).to_string()),
        ("/api/manage/answer".into(), "application/json", json!({ "conflict_id": "x", "answer": "C" }).to_string()),
    ]
}

async fn send_raw(app: &TestApp, cookie: &str, path: &str, content_type: &str, body: String) -> reqwest::Response {
    app.client.post(app.url(path)).header("Origin", &app.base).header("Cookie", cookie).header("Content-Type", content_type).body(body).send().await.unwrap()
}

/// Attack: malformed bodies to the server functions (truncated JSON, wrong types, missing
/// fields, invalid UTF-8 in a form, unknown enum values).
/// Outcome: every one is refused (never 200) and changes nothing: no grant, no code, no
/// Passport, no session, no mail.
async fn malformed_server_function_bodies_change_nothing(app: TestApp) {
    let cookie = Person::sign_in(&app, "malformed@example.com").await.cookie;
    let AgentCreds { id: agent_id, .. } = AgentCreds::create(&app, &[], "read_only").await;
    let mails = app.outbox().all().len();
    for (path, content_type, body) in malformed_server_fn_bodies(&agent_id) {
        let res = send_raw(&app, &cookie, &path, content_type, body.clone()).await;
        assert_ne!(res.status(), 200, "{path} {body}");
        assert!(res.headers().get("set-cookie").is_none(), "{path} {body}");
    }
    for (table, n) in [("grants", 0), ("exchange_codes", 0), ("otp_codes", 0), ("passports", 1), ("sessions", 1)] {
        let got: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&app.db.pool).await.unwrap();
        assert_eq!(got, n, "{table}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.outbox().all().len(), mails, "no mail");
}

/// Attack: the same malformed bodies, checked for the status class.
/// Outcome: a 4xx (the request is the client's fault), never a 5xx. Leptos answers argument
/// errors with 500; src/server/server_fn_errors.rs turns them into 422.
async fn malformed_server_function_bodies_are_not_server_errors(app: TestApp) {
    let cookie = Person::sign_in(&app, "malformed-status@example.com").await.cookie;
    let AgentCreds { id: agent_id, .. } = AgentCreds::create(&app, &[], "read_only").await;
    let mut server_errors = Vec::new();
    for (path, content_type, body) in malformed_server_fn_bodies(&agent_id) {
        let res = send_raw(&app, &cookie, &path, content_type, body.clone()).await;
        let status = res.status().as_u16();
        println!("malformed {path} {content_type} {body:?} -> {status}");
        if !(400..500).contains(&status) {
            server_errors.push(format!("{path} {body:?} -> {status}"));
        }
    }
    assert!(server_errors.is_empty(), "malformed input answered as a server error: {server_errors:#?}");
}
