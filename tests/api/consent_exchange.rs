//! Consent (approve, deny, re-consent) through the server functions the consent page uses,
//! and the server-side code exchange at /v1/universal/token, on both databases.
use crate::common::{call, exchange, expect_error, query, AgentCreds, Person, TestApp, REDIRECT};
use crate::on_both_backends;
use memory_passport::auth::pkce;
use memory_passport::store::grants;
use serde_json::{json, Value};

on_both_backends!(
    redirect_code_exchange_with_pkce,
    hosted_completion_shows_a_token_and_mails_a_revoke_link,
    reconsent_updates_the_one_grant_and_denials_are_recorded,
    bad_answers_and_unusable_agents_are_refused,
    codes_are_single_use_bound_and_short_lived,
    tokens_are_pairwise_and_die_with_the_grant,
    reviving_a_grant_ends_old_tokens_and_codes_keep_their_link_token,
);

fn answer(agent_id: &str, redirect_uri: &str) -> Value {
    json!({
        "agent_id": agent_id,
        "state": "app-state-1",
        "redirect_uri": redirect_uri,
        "categories": ["goal", "preference"],
        "duration": "90_days",
        "access": "read_only",
    })
}

async fn redirect_code_exchange_with_pkce(app: TestApp) {
    let AgentCreds { id: agent_id, secret } = AgentCreds::create(&app, &[REDIRECT], "read_write").await;
    let cookie = Person::sign_in(&app, "pkce@example.com").await.cookie;
    let verifier = "v".repeat(43) + "-._~0123456789";
    let mut a = answer(&agent_id, REDIRECT);
    a["code_challenge"] = json!(pkce::challenge_of(&verifier));
    a["code_challenge_method"] = json!("S256");
    a["link_token"] = json!("app-user-42");
    a["access"] = json!("read_write");

    let res = call(&app, "consent/approve", Some(&cookie), &a).await;
    assert_eq!(res.status(), 200);
    let approved: Value = res.json().await.unwrap();
    let location = approved["location"].as_str().unwrap();
    assert!(location.starts_with(&format!("{REDIRECT}?status=granted&state=app-state-1&code=mpc_")), "{location}");
    assert_eq!(approved["token"], Value::Null, "with a redirect the token goes to the backend only");

    // A wrong verifier burns the code.
    let code = query(location, "code").unwrap();
    expect_error(exchange(&app, &secret, &code, REDIRECT, Some(&"w".repeat(43))).await, 400, "TOK_400").await;
    expect_error(exchange(&app, &secret, &code, REDIRECT, Some(&verifier)).await, 400, "TOK_400").await;

    // A fresh consent, a right verifier.
    let res = call(&app, "consent/approve", Some(&cookie), &a).await;
    let code = query(res.json::<Value>().await.unwrap()["location"].as_str().unwrap(), "code").unwrap();
    expect_error(exchange(&app, &secret, &code, REDIRECT, None).await, 400, "TOK_400").await;
    let res = call(&app, "consent/approve", Some(&cookie), &a).await;
    let code = query(res.json::<Value>().await.unwrap()["location"].as_str().unwrap(), "code").unwrap();
    let res = exchange(&app, &secret, &code, REDIRECT, Some(&verifier)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let data = &body["data"];
    assert!(data["uui_token"].as_str().unwrap().starts_with("uui_"));
    assert_eq!(data["grant"]["categories"], json!(["preference", "goal"]));
    assert_eq!(data["grant"]["access_type"], "read_write");
    assert!(data["grant"]["expires_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(data["link_token"], "app-user-42");
    assert!(body["request_id"].as_str().unwrap().starts_with("req_"));
    // Single use.
    expect_error(exchange(&app, &secret, &code, REDIRECT, Some(&verifier)).await, 400, "TOK_400").await;
}

async fn hosted_completion_shows_a_token_and_mails_a_revoke_link(app: TestApp) {
    let AgentCreds { id: agent_id, secret } = AgentCreds::create(&app, &[], "read_only").await;
    let cookie = Person::sign_in(&app, "hosted@example.com").await.cookie;
    let res = call(&app, "consent/approve", Some(&cookie), &answer(&agent_id, "")).await;
    assert_eq!(res.status(), 200);
    let approved: Value = res.json().await.unwrap();
    assert_eq!(approved["location"], format!("{}/complete?status=granted&state=app-state-1", app.base));
    let token = approved["token"].as_str().unwrap();
    let grant_id = approved["grant_id"].as_str().unwrap();
    let agent = memory_passport::store::agents::authenticate_secret(&app.db, &secret).await.unwrap().unwrap();
    let grant = grants::grant_for_token(&app.db, token, &agent.id).await.unwrap().unwrap();
    assert_eq!(grant.id, grant_id);

    let mails = app.outbox().wait_for(2).await;
    let note = mails.iter().find(|m| m.contains("can now use parts of your Memory Passport")).expect("a notification");
    assert!(note.contains("To: hosted@example.com"));
    assert!(note.contains(&format!("/manage?revoke={grant_id}")));
    assert!(note.contains("Your goals") && note.contains("Your preferences and settings") && note.contains("Read only"));
    assert!(!note.contains(token), "the token is never mailed");
}

async fn reconsent_updates_the_one_grant_and_denials_are_recorded(app: TestApp) {
    let AgentCreds { id: agent_id, .. } = AgentCreds::create(&app, &[REDIRECT], "read_only").await;
    let cookie = Person::sign_in(&app, "again@example.com").await.cookie;
    let first: Value = call(&app, "consent/approve", Some(&cookie), &answer(&agent_id, REDIRECT)).await.json().await.unwrap();
    let mut changed = answer(&agent_id, REDIRECT);
    changed["categories"] = json!(["fact"]);
    changed["duration"] = json!("until_revoked");
    let second: Value = call(&app, "consent/approve", Some(&cookie), &changed).await.json().await.unwrap();
    assert_eq!(first["grant_id"], second["grant_id"], "one grant per person and agent");
    let grant = grants::get(&app.db, second["grant_id"].as_str().unwrap()).await.unwrap().unwrap();
    assert_eq!(grant.categories, vec![memory_passport::domain::categories::Category::Fact]);
    assert_eq!(grant.expires_at, None);

    let res = call(&app, "consent/deny", Some(&cookie), &answer(&agent_id, REDIRECT)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<String>().await.unwrap(), format!("{REDIRECT}?status=denied&state=app-state-1"));
    let passport = memory_passport::store::passports::find_by_email(&app.db, "again@example.com").await.unwrap().unwrap();
    assert_eq!(grants::event_kinds(&app.db, &passport.id, &agent_id).await.unwrap(), ["granted", "updated", "denied"]);
    // Denying without signing in still returns to the app (nothing to record).
    let res = call(&app, "consent/deny", None, &answer(&agent_id, "")).await;
    assert_eq!(res.json::<String>().await.unwrap(), format!("{}/complete?status=denied&state=app-state-1", app.base));
}

async fn bad_answers_and_unusable_agents_are_refused(app: TestApp) {
    let AgentCreds { id: agent_id, .. } = AgentCreds::create(&app, &[REDIRECT], "read_only").await;
    let cookie = Person::sign_in(&app, "careful@example.com").await.cookie;
    assert_eq!(call(&app, "consent/approve", None, &answer(&agent_id, REDIRECT)).await.status(), 401, "signed out");
    let variants: Vec<(&str, Value)> = vec![
        ("categories", json!([])),
        ("categories", json!(["hobbies"])),
        ("duration", json!("")),
        ("duration", json!("forever")),
        ("access", json!("read_write")),
        ("redirect_uri", json!(format!("{REDIRECT}/extra"))),
        ("redirect_uri", json!("https://app.example/integrations/memoryos/callbac")),
        ("redirect_uri", json!("https://evil.example/cb")),
        ("code_challenge", json!("short")),
        ("state", json!("s".repeat(513))),
        ("link_token", json!("t".repeat(513))),
    ];
    for (field, value) in variants {
        let mut a = answer(&agent_id, REDIRECT);
        a[field] = value;
        let res = call(&app, "consent/approve", Some(&cookie), &a).await;
        assert_eq!(res.status(), 422, "{field}");
        let res = call(&app, "consent/deny", Some(&cookie), &a).await;
        if field == "redirect_uri" {
            assert_eq!(res.status(), 422, "a denial never redirects to an unregistered address");
        }
    }
    let res = call(&app, "consent/approve", Some(&cookie), &answer("00000000-0000-0000-0000-000000000000", "")).await;
    assert_eq!(res.status(), 404);
    memory_passport::service::agents::review(&app.db, &agent_id, memory_passport::domain::agent::AgentStatus::Suspended, "test").await.unwrap();
    let res = call(&app, "consent/approve", Some(&cookie), &answer(&agent_id, REDIRECT)).await;
    assert_eq!(res.status(), 422, "suspended agents receive no grants");
    let passport = memory_passport::store::passports::find_by_email(&app.db, "careful@example.com").await.unwrap().unwrap();
    assert!(grants::find(&app.db, &passport.id, &agent_id).await.unwrap().is_none(), "nothing was stored");
}

async fn codes_are_single_use_bound_and_short_lived(app: TestApp) {
    let AgentCreds { id: agent_a, secret: secret_a } = AgentCreds::create(&app, &[REDIRECT], "read_only").await;
    let AgentCreds { secret: secret_b, .. } = AgentCreds::create(&app, &[REDIRECT], "read_only").await;
    let cookie = Person::sign_in(&app, "bound@example.com").await.cookie;
    let fresh_code = || async {
        let res = call(&app, "consent/approve", Some(&cookie), &answer(&agent_a, REDIRECT)).await;
        query(res.json::<Value>().await.unwrap()["location"].as_str().unwrap(), "code").unwrap()
    };
    // Another agent, or another redirect URI, can neither use a code nor burn it.
    let code = fresh_code().await;
    expect_error(exchange(&app, &secret_b, &code, REDIRECT, None).await, 400, "TOK_400").await;
    expect_error(exchange(&app, &secret_a, &code, "https://app.example/other", None).await, 400, "TOK_400").await;
    // A verifier for a code that had no challenge means the link was altered.
    expect_error(exchange(&app, &secret_a, &code, REDIRECT, Some(&"v".repeat(43))).await, 400, "TOK_400").await;
    let code = fresh_code().await;
    assert_eq!(exchange(&app, &secret_b, &code, REDIRECT, None).await.status(), 400);
    assert_eq!(exchange(&app, &secret_a, &code, REDIRECT, None).await.status(), 200, "still good for its own agent");
    let code = fresh_code().await;
    sqlx::query("UPDATE exchange_codes SET expires_at = 0").execute(&app.db.pool).await.unwrap();
    expect_error(exchange(&app, &secret_a, &code, REDIRECT, None).await, 400, "TOK_400").await;
    expect_error(exchange(&app, &secret_a, "mpc_nonsense", REDIRECT, None).await, 400, "TOK_400").await;
    expect_error(exchange(&app, "agent_sk_wrong", &fresh_code().await, REDIRECT, None).await, 401, "UAT_001").await;
    let res = app.client.post(app.url("/v1/universal/token")).header("Authorization", format!("ApiKey {secret_a}")).body("{").send().await.unwrap();
    expect_error(res, 422, "REQ_422").await;
    let ok = exchange(&app, &secret_a, &fresh_code().await, REDIRECT, None).await;
    assert_eq!(ok.status(), 200);
}

async fn tokens_are_pairwise_and_die_with_the_grant(app: TestApp) {
    let t = app.tenant("pair").await;
    let mut ids = vec![];
    for name in ["Agent A", "Agent B"] {
        let data = app.create_agent(&t.api_key, name).await;
        ids.push(AgentCreds::from_data(&data));
    }
    let cookie = Person::sign_in(&app, "pair@example.com").await.cookie;
    let mut tokens = vec![];
    for AgentCreds { id, .. } in &ids {
        let res: Value = call(&app, "consent/approve", Some(&cookie), &answer(id, "")).await.json().await.unwrap();
        tokens.push(res["token"].as_str().unwrap().to_string());
    }
    assert_ne!(tokens[0], tokens[1]);
    assert!(grants::grant_for_token(&app.db, &tokens[0], &ids[0].id).await.unwrap().is_some());
    assert!(grants::grant_for_token(&app.db, &tokens[0], &ids[1].id).await.unwrap().is_none(), "A's token is not B's");
    assert!(grants::grant_for_token(&app.db, &tokens[1], &ids[0].id).await.unwrap().is_none());

    // Retiring agent A revokes its grant and with it the token.
    let res = app.client.delete(app.url(&format!("/v1/agents/global/{}", ids[0].id))).header("Authorization", format!("ApiKey {}", t.api_key)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(grants::grant_for_token(&app.db, &tokens[0], &ids[0].id).await.unwrap().is_none());
    let passport = memory_passport::store::passports::find_by_email(&app.db, "pair@example.com").await.unwrap().unwrap();
    assert!(grants::find(&app.db, &passport.id, &ids[0].id).await.unwrap().unwrap().revoked_at.is_some());
    assert!(grants::grant_for_token(&app.db, &tokens[1], &ids[1].id).await.unwrap().unwrap().is_active(memory_passport::store::now_ms()));
}

async fn reviving_a_grant_ends_old_tokens_and_codes_keep_their_link_token(app: TestApp) {
    let AgentCreds { id: agent_id, secret } = AgentCreds::create(&app, &[REDIRECT], "read_only").await;
    let cookie = Person::sign_in(&app, "revive@example.com").await.cookie;
    let mut first = answer(&agent_id, "");
    first["link_token"] = json!("user-1");
    let approved: Value = call(&app, "consent/approve", Some(&cookie), &first).await.json().await.unwrap();
    let old_token = approved["token"].as_str().unwrap().to_string();
    assert!(grants::grant_for_token(&app.db, &old_token, &agent_id).await.unwrap().is_some());

    // The grant runs out; consenting again must not bring the old token back.
    sqlx::query("UPDATE grants SET expires_at = 1").execute(&app.db.pool).await.unwrap();
    let again: Value = call(&app, "consent/approve", Some(&cookie), &first).await.json().await.unwrap();
    assert!(grants::grant_for_token(&app.db, &old_token, &agent_id).await.unwrap().is_none(), "old token stays dead");
    assert!(grants::grant_for_token(&app.db, again["token"].as_str().unwrap(), &agent_id).await.unwrap().is_some());

    // Two links with different link_tokens: each code answers with its own.
    let mut a1 = answer(&agent_id, REDIRECT);
    a1["link_token"] = json!("app-user-1");
    let mut a2 = a1.clone();
    a2["link_token"] = json!("app-user-2");
    let c1 = query(call(&app, "consent/approve", Some(&cookie), &a1).await.json::<Value>().await.unwrap()["location"].as_str().unwrap(), "code").unwrap();
    let c2 = query(call(&app, "consent/approve", Some(&cookie), &a2).await.json::<Value>().await.unwrap()["location"].as_str().unwrap(), "code").unwrap();
    let r1: Value = exchange(&app, &secret, &c1, REDIRECT, None).await.json().await.unwrap();
    let r2: Value = exchange(&app, &secret, &c2, REDIRECT, None).await.json().await.unwrap();
    assert_eq!(r1["data"]["link_token"], "app-user-1");
    assert_eq!(r2["data"]["link_token"], "app-user-2");
}
