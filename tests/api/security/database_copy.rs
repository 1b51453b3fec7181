//! A copy of the database (`docs/security-matrix.md`, row 11a): a stolen backup or replica
//! gives no working credential of any kind. Each test runs on SQLite and on PostgreSQL. (The
//! raw bytes of a SQLite file are searched by `api.rs::database_bytes_hold_no_secrets`.)
use crate::common::{
    call, code_of, connect, exchange, expect_error, request_code, set_cookie, value_of, AgentCreds, Connected, Person, TestApp, REDIRECT, TABLES,
};
use crate::on_both_backends;
use memory_passport::auth::secrets;
use serde_json::json;

on_both_backends!(
    a_database_copy_gives_no_working_credential,
);

/// Every value of every table, as text (numbers too), for searching a copy of the database.
async fn every_value(app: &TestApp) -> Vec<(String, String, String)> {
    use sqlx::{Column, Row};
    let mut out = Vec::new();
    for table in TABLES {
        let rows = sqlx::query(&format!("SELECT * FROM {table}")).fetch_all(&app.db.pool).await.unwrap();
        for row in rows {
            for (i, column) in row.columns().iter().enumerate() {
                let value = match row.try_get::<Option<String>, _>(i) {
                    Ok(v) => v,
                    Err(_) => row.try_get::<Option<i64>, _>(i).ok().flatten().map(|n| n.to_string()),
                };
                if let Some(v) = value {
                    out.push((table.to_string(), column.name().to_string(), v));
                }
            }
        }
    }
    out
}

/// Attack: a stolen copy of the database (a backup, a replica) used to act as anyone.
/// Outcome: no live credential of any kind is stored: not the tenant's password, `mem_` key or
/// dashboard session, not the agent's `agent_sk_` secret, not the person's Passport session,
/// `uui_` token, unredeemed exchange code or outstanding sign-in code (nor the random part of
/// any of them). The stored hashes are not credentials either: each one presented in its
/// secret's place is refused (401, no session, 400 for the code, 422 for the sign-in code).
async fn a_database_copy_gives_no_working_credential(app: TestApp) {
    // Every kind of credential, live at once.
    let t = app.tenant("copy").await;
    let res = app.server_fn("tenant/sign_in", None, &[("email", t.email.as_str()), ("password", t.password.as_str())]).await;
    let tenant_session = value_of(&set_cookie(&res, "mp_tenant").unwrap()).to_string();
    let AgentCreds { id: agent_id, secret: agent_secret } = AgentCreds::create(&app, &[REDIRECT], "read_write").await;
    let passport_cookie = Person::sign_in(&app, "copy@example.com").await.cookie;
    let passport_session = value_of(&passport_cookie).to_string();
    let c = connect(&app, &passport_cookie, &AgentCreds { id: agent_id.clone(), secret: agent_secret.clone() }, &["preference"], "read_write").await;
    let job = c.add(&app, "I prefer tea.").await;
    c.finished(&app, &job).await;
    let answer = json!({ "agent_id": agent_id, "state": "s", "redirect_uri": REDIRECT, "categories": ["preference"], "duration": "90_days" });
    let code = code_of(call(&app, "consent/approve", Some(&passport_cookie), &answer).await).await;
    let sign_in_code = request_code(&app, "copy-pending@example.com", None).await;

    let values = every_value(&app).await;
    assert!(values.iter().any(|(_, _, v)| v == "copy@example.com"), "the dump does read stored values");
    let secrets_made = [
        ("tenant password", t.password.as_str()),
        ("mem_ key", t.api_key.as_str()),
        ("mem_ key body", &t.api_key[4..]),
        ("tenant session", tenant_session.as_str()),
        ("agent secret", agent_secret.as_str()),
        ("agent secret body", &agent_secret["agent_sk_".len()..]),
        ("passport session", passport_session.as_str()),
        ("uui token", c.token.as_str()),
        ("uui token body", &c.token["uui_".len()..]),
        ("exchange code", code.as_str()),
        ("exchange code body", &code["mpc_".len()..]),
    ];
    for (what, secret) in secrets_made {
        let found: Vec<_> = values.iter().filter(|(_, _, v)| v.contains(secret)).map(|(t, c, _)| format!("{t}.{c}")).collect();
        assert!(found.is_empty(), "the {what} is stored in {found:?}");
    }
    let otp_columns: Vec<_> = values.iter().filter(|(t, _, v)| t == "otp_codes" && v.contains(&sign_in_code)).collect();
    assert!(otp_columns.is_empty(), "the outstanding sign-in code is stored: {otp_columns:?}");
    let otp_hash: String = sqlx::query_scalar("SELECT code_hash FROM otp_codes").fetch_one(&app.db.pool).await.unwrap();
    assert_ne!(otp_hash, secrets::hash(&sign_in_code), "the sign-in code is a keyed hash, not a plain SHA-256");

    // The hashes, presented as the credentials they stand for, open nothing.
    let one = |sql: &'static str| {
        let app = &app;
        async move { sqlx::query_scalar::<_, String>(sql).fetch_one(&app.db.pool).await.unwrap() }
    };
    let key_hash = one("SELECT key_hash FROM api_keys").await;
    expect_error(app.get("/v1/agents/global", Some(&key_hash)).await, 401, "AUTH_401").await;
    expect_error(app.get("/v1/agents/global", Some(&format!("mem_{key_hash}"))).await, 401, "AUTH_401").await;
    let secret_hash: String = sqlx::query_scalar("SELECT secret_hash FROM global_agents WHERE id = $1").bind(&agent_id).fetch_one(&app.db.pool).await.unwrap();
    let token_hash = one("SELECT token_hash FROM uui_tokens").await;
    for (key, token) in [
        (secret_hash.clone(), c.token.clone()),
        (format!("agent_sk_{secret_hash}"), c.token.clone()),
        (agent_secret.clone(), token_hash.clone()),
        (agent_secret.clone(), format!("uui_{token_hash}")),
    ] {
        let forged = Connected { secret: key, token, ..c.clone() };
        expect_error(forged.post(&app, "/v1/universal/memories/retrieve", &json!({ "query": "tea" })).await, 401, "UAT_001").await;
    }
    let code_hash = one("SELECT code_hash FROM exchange_codes").await;
    for forged in [code_hash.clone(), format!("mpc_{code_hash}")] {
        expect_error(exchange(&app, &agent_secret, &forged, REDIRECT, None).await, 400, "TOK_400").await;
    }
    let session_hashes: Vec<(String, String)> = sqlx::query_as("SELECT kind, token_hash FROM sessions").fetch_all(&app.db.pool).await.unwrap();
    assert_eq!(session_hashes.len(), 2);
    for (kind, hash) in session_hashes {
        let (endpoint, cookie) = if kind == "tenant" { ("tenant/session", format!("mp_tenant={hash}")) } else { ("passport/session", format!("mp_passport={hash}")) };
        assert_eq!(app.server_fn(endpoint, Some(&cookie), &[]).await.text().await.unwrap(), "null", "{kind} session hash");
    }
    let res = app.server_fn("passport/verify_code", None, &[("email", "copy-pending@example.com"), ("code", &otp_hash)]).await;
    assert_eq!(res.status(), 422, "the sign-in code's hash is not a code");
    // …and the real credentials still work, so the refusals above are about the hashes.
    assert_eq!(app.get("/v1/agents/global", Some(&t.api_key)).await.status(), 200);
    assert_eq!(c.retrieve(&app, json!({ "query": "tea" })).await["data"][0]["content"], "I prefer tea.");
    assert_eq!(exchange(&app, &agent_secret, &code, REDIRECT, None).await.status(), 200);
    let res = app.server_fn("passport/verify_code", None, &[("email", "copy-pending@example.com"), ("code", &sign_in_code)]).await;
    assert_eq!(res.status(), 200);
}
