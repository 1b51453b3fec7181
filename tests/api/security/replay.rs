//! Replay of credentials that should be dead (`docs/security-matrix.md`, rows 7*): the agent
//! secret after rotation, the `uui_` token and unexchanged codes after revocation, retirement
//! and Passport deletion, and an exchange code used twice. Each test runs on SQLite and on
//! PostgreSQL.
use crate::common::{
    add_body, call, code_of, connect, exchange, expect_error, guide_body, me, AgentCreds, Connected, Person, TestApp, REDIRECT,
};
use crate::on_both_backends;
use reqwest::Method;
use serde_json::{json, Value};

on_both_backends!(
    rotated_secret_and_dead_tokens_and_codes_are_refused,
);

/// Attack: replaying credentials after they should have died: the agent secret after
/// rotation, the `uui_` token and unexchanged codes after the person revokes, after the tenant
/// retires the agent, and after the person deletes the Passport; an exchange code twice.
/// Outcome: the old `agent_sk_` is 401 `UAT_001` on retrieve, add, job and token exchange
/// while the new one works with the same token; after revocation the token gets the empty
/// `no_grant_for_user` retrieve and 403 on add, stays dead after a new consent, and codes
/// made before are 400 `TOK_400`; a code works once; after retirement the token gets
/// `no_grant_for_user` and the secret is 401 at the token exchange; after deletion tokens are
/// 401, codes are 400 and the session is gone.
async fn rotated_secret_and_dead_tokens_and_codes_are_refused(app: TestApp) {
    let t = app.tenant("replay").await;
    let mut body = guide_body("Replay Agent");
    body["redirect_uris"] = json!([REDIRECT]);
    body["redirect_uri"] = Value::Null;
    body["requested_access"] = json!("read_write");
    let created: Value = app.post_json("/v1/agents/global", Some(&t.api_key), &body).await.json().await.unwrap();
    let agent_id = created["data"]["id"].as_str().unwrap().to_string();
    let old_secret = created["data"]["raw_agent_api_key"].as_str().unwrap().to_string();
    let cookie = Person::sign_in(&app, "replay@example.com").await.cookie;
    let c = connect(&app, &cookie, &AgentCreds { id: agent_id.clone(), secret: old_secret.clone() }, &["preference"], "read_write").await;
    let job = c.add(&app, "I prefer tea.").await;
    c.finished(&app, &job).await;
    let with_redirect = json!({ "agent_id": agent_id, "state": "s", "redirect_uri": REDIRECT, "categories": ["preference"], "duration": "90_days", "access": "read_write" });
    let pending_code = code_of(call(&app, "consent/approve", Some(&cookie), &with_redirect).await).await;

    // Rotation: the old secret is one 401 everywhere; the new one works with the same token.
    let res = app.client.post(app.url(&format!("/v1/agents/global/{agent_id}/rotate-secret"))).header("Authorization", format!("ApiKey {}", t.api_key)).send().await.unwrap();
    let new_secret = res.json::<Value>().await.unwrap()["data"]["raw_agent_api_key"].as_str().unwrap().to_string();
    let old = Connected { secret: old_secret.clone(), ..c.clone() };
    let new = Connected { secret: new_secret.clone(), ..c.clone() };
    expect_error(old.post(&app, "/v1/universal/memories/retrieve", &json!({ "query": "tea" })).await, 401, "UAT_001").await;
    expect_error(old.post(&app, "/v1/universal/memories/add", &add_body("I prefer coffee.")).await, 401, "UAT_001").await;
    expect_error(old.get(&app, &format!("/v1/universal/memories/jobs/{job}")).await, 401, "UAT_001").await;
    expect_error(exchange(&app, &old_secret, &pending_code, REDIRECT, None).await, 401, "UAT_001").await;
    assert_eq!(new.retrieve(&app, json!({ "query": "tea" })).await["data"][0]["content"], "I prefer tea.");

    // Revocation by the person: the token and the code made before it are dead.
    let res = me(&app, &cookie, Method::DELETE, &format!("/v1/uui/me/grants/{}", c.grant_id), None).await;
    assert_eq!(res.status(), 200);
    let dead = new.retrieve(&app, json!({ "query": "tea" })).await;
    assert_eq!((dead["permission_error"].clone(), dead["data"].clone()), (json!("no_grant_for_user"), json!([])));
    expect_error(new.post(&app, "/v1/universal/memories/add", &add_body("I prefer coffee.")).await, 403, "UAT_002").await;
    expect_error(exchange(&app, &new_secret, &pending_code, REDIRECT, None).await, 400, "TOK_400").await;
    // A new consent brings a new token; the revoked one stays dead.
    let again = connect(&app, &cookie, &AgentCreds { id: agent_id.clone(), secret: new_secret.clone() }, &["preference"], "read_write").await;
    assert_eq!(again.retrieve(&app, json!({ "query": "tea" })).await["permission_error"], Value::Null);
    assert_eq!(new.retrieve(&app, json!({ "query": "tea" })).await["permission_error"], "no_grant_for_user", "the revoked token is not revived");
    // A code works once.
    let code = code_of(call(&app, "consent/approve", Some(&cookie), &with_redirect).await).await;
    let res = exchange(&app, &new_secret, &code, REDIRECT, None).await;
    assert_eq!(res.status(), 200);
    let exchanged = res.json::<Value>().await.unwrap()["data"]["uui_token"].as_str().unwrap().to_string();
    expect_error(exchange(&app, &new_secret, &code, REDIRECT, None).await, 400, "TOK_400").await;

    // Passport deletion: every token and code of the person is dead, and the session too.
    let unexchanged = code_of(call(&app, "consent/approve", Some(&cookie), &with_redirect).await).await;
    let res = me(&app, &cookie, Method::DELETE, "/v1/uui/me", Some(json!({ "confirm": "DELETE" }))).await;
    assert_eq!(res.status(), 200);
    for token in [again.token.clone(), exchanged] {
        let gone = Connected { token, ..new.clone() };
        expect_error(gone.post(&app, "/v1/universal/memories/retrieve", &json!({ "query": "" })).await, 401, "UAT_001").await;
    }
    expect_error(exchange(&app, &new_secret, &unexchanged, REDIRECT, None).await, 400, "TOK_400").await;
    expect_error(me(&app, &cookie, Method::GET, "/v1/uui/me/grants", None).await, 401, "AUTH_401").await;
    assert_eq!(app.server_fn("passport/session", Some(&cookie), &[]).await.text().await.unwrap(), "null");

    // Retirement by the tenant: tokens get the no-grant answer, codes and the secret are dead.
    let other = Person::sign_in(&app, "replay-two@example.com").await.cookie;
    let live = connect(&app, &other, &AgentCreds { id: agent_id.clone(), secret: new_secret.clone() }, &["preference"], "read_write").await;
    let waiting = code_of(call(&app, "consent/approve", Some(&other), &with_redirect).await).await;
    let res = app.client.delete(app.url(&format!("/v1/agents/global/{agent_id}"))).header("Authorization", format!("ApiKey {}", t.api_key)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(live.retrieve(&app, json!({ "query": "tea" })).await["permission_error"], "no_grant_for_user");
    expect_error(live.post(&app, "/v1/universal/memories/add", &add_body("I prefer coffee.")).await, 403, "UAT_002").await;
    expect_error(exchange(&app, &new_secret, &waiting, REDIRECT, None).await, 401, "UAT_001").await;
    let used: Option<i64> = sqlx::query_scalar("SELECT MIN(used_at) FROM exchange_codes").fetch_one(&app.db.pool).await.unwrap();
    assert!(used.is_some(), "the retired agent's waiting code was ended");
    let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM exchange_codes WHERE used_at IS NULL").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(open, 0);
}
