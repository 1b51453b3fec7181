//! The MCP front door, on both databases: an assistant discovers the authorization server from
//! a refused call, registers itself, the person consents on our page (two categories, read
//! only), the assistant searches, is refused a write with the scope it needs, steps up, writes,
//! rotates its refresh token, and loses access the moment the person revokes it. Then every
//! refusal the authorization server owes.
use crate::common::{
    connect, expect_error, forget_limits, query, rpc, tokens_of, tool, tool_json, AgentCreds, McpClient, Person, TestApp, MCP_REDIRECT, REDIRECT,
};
use crate::on_both_backends;
use memory_passport::domain::agent::AgentStatus;
use serde_json::{json, Value};

on_both_backends!(
    an_assistant_connects_over_oauth_and_sees_only_what_the_person_chose,
    the_authorization_server_refuses_what_it_must,
    tokens_of_one_front_door_do_not_open_the_other,
    metadata_documents_on_private_addresses_are_not_read,
    rest_and_mcp_on_one_grant_answer_alike,
);

/// The person's memories, written by another app with access to everything.
async fn seed(app: &TestApp, cookie: &str) {
    let writer = AgentCreds::create(app, &[REDIRECT], "read_write").await;
    let all = ["preference", "fact", "goal", "procedure", "relationship", "expertise"];
    let c = connect(app, cookie, &writer, &all, "read_write").await;
    for said in ["I prefer green tea in the morning.", "I work as a nurse in Leeds.", "My goal is to run a marathon next spring."] {
        let job = c.add(app, said).await;
        assert_eq!(c.finished(app, &job).await["status"], "completed");
    }
}

fn categories_of(found: &Value) -> Vec<String> {
    found["memories"].as_array().unwrap().iter().map(|m| m["category"].as_str().unwrap().to_string()).collect()
}

async fn an_assistant_connects_over_oauth_and_sees_only_what_the_person_chose(app: TestApp) {
    let person = Person::sign_in(&app, "mcp@example.com").await;
    seed(&app, &person.cookie).await;

    // Discovery starts from a refused call.
    let res = rpc(&app, None, "tools/list", json!({})).await;
    assert_eq!(res.status(), 401);
    let challenge = res.headers()["www-authenticate"].to_str().unwrap().to_string();
    let metadata_url = app.url("/.well-known/oauth-protected-resource/mcp");
    assert!(challenge.starts_with("Bearer ") && challenge.contains(&format!("resource_metadata=\"{metadata_url}\"")), "{challenge}");
    assert!(challenge.contains("scope=\"memory.preference.read"), "{challenge}");
    let resource: Value = app.client.get(&metadata_url).send().await.unwrap().json().await.unwrap();
    assert_eq!(resource["resource"], app.url("/mcp"));
    assert_eq!(resource["authorization_servers"], json!([app.base]));
    let server: Value = app.client.get(app.url("/.well-known/oauth-authorization-server")).send().await.unwrap().json().await.unwrap();
    assert_eq!(server["issuer"], app.base);
    assert_eq!(server["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(server["registration_endpoint"], app.url("/oauth/register"));

    // Registration, authorization with PKCE and resource, consent to two categories read-only.
    let client = McpClient::register(&app, "Claude").await;
    let link = client.authorize(&app, "memory.preference.read memory.goal.read memory.fact.read", &McpClient::resource(&app)).await;
    assert!(link.contains("categories=preference%2Cfact%2Cgoal") && link.contains("access=read_only"), "{link}");
    let back = client.consent(&app, &person.cookie, &link, &["preference", "goal"], "read_only").await;
    assert!(back.starts_with(&format!("{MCP_REDIRECT}?code=")), "{back}");
    assert_eq!(query(&back, "status"), None, "an OAuth answer, not the consent link's");
    let tokens = client.exchange(&app, &back).await;
    assert_eq!(tokens.scope, "memory.preference.read memory.goal.read");

    // The tools, and a search that sees only the two categories.
    let res = rpc(&app, Some(&tokens.access), "tools/list", json!({})).await;
    assert_eq!(res.status(), 200);
    let listed: Value = res.json().await.unwrap();
    let mut names: Vec<&str> = listed["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["list_categories", "remember", "search_memory"]);
    let found = tool_json(&tool(&app, &tokens.access, "search_memory", json!({ "query": "" })).await);
    let mut seen = categories_of(&found);
    seen.sort();
    assert_eq!(seen, ["goal", "preference"], "{found}");
    assert!(found["context"].as_str().unwrap().starts_with("What you know about this user:"));
    let found = tool_json(&tool(&app, &tokens.access, "search_memory", json!({ "query": "what does she drink in the morning" })).await);
    assert!(found["memories"][0]["content"].as_str().unwrap().contains("green tea"), "{found}");
    let found = tool_json(&tool(&app, &tokens.access, "search_memory", json!({ "query": "nurse job", "categories": ["fact"] })).await);
    assert_eq!(found["memories"], json!([]), "fact was not granted");

    // A write is refused with the scope that would allow it.
    let res = rpc(&app, Some(&tokens.access), "tools/call", json!({ "name": "remember", "arguments": { "content": "I am allergic to peanuts.", "category": "fact" } })).await;
    assert_eq!(res.status(), 403);
    let challenge = res.headers()["www-authenticate"].to_str().unwrap().to_string();
    // The challenge names what the app holds plus the write it needs, so that asking again
    // adds to the grant instead of replacing it.
    let step_up = "memory.preference.read memory.goal.read memory.fact.write";
    assert!(challenge.contains("error=\"insufficient_scope\"") && challenge.contains(&format!("scope=\"{step_up}\"")), "{challenge}");
    expect_error(res, 403, "MCP_403").await;

    // Step-up: the app asks for the challenge's scope; the page offers all three categories
    // with write, and the person just approves what it offers.
    let link = client.authorize(&app, step_up, &McpClient::resource(&app)).await;
    assert!(link.contains("categories=preference%2Cfact%2Cgoal") && link.contains("access=read_write"), "{link}");
    let offered = query(&link, "categories").unwrap();
    let offered: Vec<&str> = offered.split(',').collect();
    let back = client.consent(&app, &person.cookie, &link, &offered, "read_write").await;
    let tokens = client.exchange(&app, &back).await;
    let grants = person.me(&app).call(reqwest::Method::GET, "/v1/uui/me/grants", None).await.json::<Value>().await.unwrap();
    let grant = grants["data"].as_array().unwrap().iter().find(|g| g["agent"]["name"] == "Claude").unwrap().clone();
    assert_eq!(grant["categories"], json!(["preference", "fact", "goal"]), "nothing the person gave before was lost: {grant}");
    let said = tool(&app, &tokens.access, "remember", json!({ "content": "I am allergic to peanuts.", "category": "fact" })).await;
    assert_eq!(said["isError"], false, "{said}");
    assert_eq!(said["content"][0]["text"], "Remembered.");
    let again = tool(&app, &tokens.access, "remember", json!({ "content": "I am allergic to peanuts.", "category": "fact" })).await;
    assert_eq!(again["content"][0]["text"], "Already remembered.");
    let found = tool_json(&tool(&app, &tokens.access, "search_memory", json!({ "query": "peanut allergy" })).await);
    assert_eq!(found["memories"][0]["content"], "I am allergic to peanuts.", "{found}");

    // Refresh rotation: the new pair works, the old refresh token does not, and using it again
    // ends the whole family.
    let refresh = |t: String| {
        let (client, app) = (client.clone(), &app);
        async move { client.token_request(app, &[("grant_type", "refresh_token"), ("refresh_token", &t), ("resource", &McpClient::resource(app))]).await }
    };
    let next = tokens_of(refresh(tokens.refresh.clone()).await).await;
    assert_ne!(next.refresh, tokens.refresh);
    assert_eq!(next.scope, tokens.scope);
    assert_eq!(rpc(&app, Some(&next.access), "tools/list", json!({})).await.status(), 200);
    let reused = refresh(tokens.refresh.clone()).await;
    assert_eq!(expect_error(reused, 400, "OAUTH_400").await["error"], "invalid_grant");
    assert_eq!(rpc(&app, Some(&next.access), "tools/list", json!({})).await.status(), 401, "the family is revoked");
    expect_error(refresh(next.refresh.clone()).await, 400, "OAUTH_400").await;

    // A new authorization; then the person revokes the app on /manage and the next call fails.
    let link = client.authorize(&app, "memory.goal.read", &McpClient::resource(&app)).await;
    let back = client.consent(&app, &person.cookie, &link, &["goal"], "read_only").await;
    let tokens = client.exchange(&app, &back).await;
    assert_eq!(rpc(&app, Some(&tokens.access), "tools/list", json!({})).await.status(), 200);
    let me = person.me(&app);
    let grants = me.call(reqwest::Method::GET, "/v1/uui/me/grants", None).await.json::<Value>().await.unwrap();
    let grant = grants["data"].as_array().unwrap().iter().find(|g| g["agent"]["name"] == "Claude").expect("the app is on /manage").clone();
    let res = me.call(reqwest::Method::DELETE, &format!("/v1/uui/me/grants/{}", grant["id"].as_str().unwrap()), None).await;
    assert!(res.status().is_success(), "{}", res.status());
    let res = rpc(&app, Some(&tokens.access), "tools/list", json!({})).await;
    assert_eq!(res.status(), 401);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().contains("error=\"invalid_token\""));
    expect_error(refresh(tokens.refresh.clone()).await, 400, "OAUTH_400").await;
}

async fn the_authorization_server_refuses_what_it_must(app: TestApp) {
    let person = Person::sign_in(&app, "refusals@example.com").await;
    let client = McpClient::register(&app, "Cursor").await;
    let ours = McpClient::resource(&app);

    // Another resource: refused at the authorization endpoint and at the token endpoint.
    let back = client.authorize(&app, "memory.goal.read", "https://other.example/mcp").await;
    assert!(back.starts_with(MCP_REDIRECT) && query(&back, "error").as_deref() == Some("invalid_target"), "{back}");
    assert_eq!(query(&back, "state").as_deref(), Some("st-1"));
    let link = client.authorize(&app, "memory.goal.read", &ours).await;
    let back = client.consent(&app, &person.cookie, &link, &["goal"], "read_only").await;
    let code = query(&back, "code").unwrap();
    let exchange = |code: String, verifier: String, resource: String, redirect: &'static str| {
        let (client, app) = (client.clone(), &app);
        async move {
            let mut form = vec![("grant_type", "authorization_code".to_string()), ("code", code), ("redirect_uri", redirect.to_string()), ("resource", resource)];
            if !verifier.is_empty() {
                form.push(("code_verifier", verifier));
            }
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            client.token_request(app, &form).await
        }
    };
    let other = exchange(code.clone(), client.verifier.clone(), "https://other.example/mcp".into(), MCP_REDIRECT).await;
    assert_eq!(expect_error(other, 400, "OAUTH_400").await["error"], "invalid_target");
    // Missing PKCE, then a wrong verifier (which burns the code), then the right one is too late.
    let missing = exchange(code.clone(), String::new(), ours.clone(), MCP_REDIRECT).await;
    assert_eq!(expect_error(missing, 400, "OAUTH_400").await["error"], "invalid_request");
    let wrong = exchange(code.clone(), "w".repeat(50), ours.clone(), MCP_REDIRECT).await;
    assert_eq!(expect_error(wrong, 400, "OAUTH_400").await["error"], "invalid_grant");
    let burnt = exchange(code.clone(), client.verifier.clone(), ours.clone(), MCP_REDIRECT).await;
    assert_eq!(expect_error(burnt, 400, "OAUTH_400").await["error"], "invalid_grant");
    // A good code works once.
    let back = client.consent(&app, &person.cookie, &link, &["goal"], "read_only").await;
    let code = query(&back, "code").unwrap();
    let first = tokens_of(exchange(code.clone(), client.verifier.clone(), ours.clone(), MCP_REDIRECT).await).await;
    assert_eq!(rpc(&app, Some(&first.access), "tools/list", json!({})).await.status(), 200);
    let reused = exchange(code, client.verifier.clone(), ours.clone(), MCP_REDIRECT).await;
    assert_eq!(expect_error(reused, 400, "OAUTH_400").await["error"], "invalid_grant");
    // A code used twice may have been stolen: what its first use got is revoked too.
    assert_eq!(rpc(&app, Some(&first.access), "tools/list", json!({})).await.status(), 401, "the first use's access token");
    let res = client.token_request(&app, &[("grant_type", "refresh_token"), ("refresh_token", &first.refresh), ("resource", &ours)]).await;
    assert_eq!(expect_error(res, 400, "OAUTH_400").await["error"], "invalid_grant", "and its refresh token");

    // A client with one registered redirect URI may leave it out of both requests.
    let mut url = url::Url::parse(&app.url("/oauth/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.client_id)
        .append_pair("scope", "memory.goal.read")
        .append_pair("state", "st-1")
        .append_pair("code_challenge", &memory_passport::auth::pkce::challenge_of(&client.verifier))
        .append_pair("code_challenge_method", "S256")
        .append_pair("resource", &ours);
    let link = app.client.get(url).send().await.unwrap().headers()["location"].to_str().unwrap().to_string();
    let back = client.consent(&app, &person.cookie, &link, &["goal"], "read_only").await;
    assert!(back.starts_with(MCP_REDIRECT), "{back}");
    let code = query(&back, "code").unwrap();
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("code_verifier", client.verifier.as_str()), ("resource", ours.as_str())];
    tokens_of(client.token_request(&app, &form).await).await;

    // No PKCE at all, or plain: back to the app with invalid_request.
    let mut url = url::Url::parse(&app.url("/oauth/authorize")).unwrap();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", MCP_REDIRECT)
        .append_pair("state", "x")
        .append_pair("resource", &ours);
    let res = app.client.get(url.clone()).send().await.unwrap();
    assert_eq!(query(res.headers()["location"].to_str().unwrap(), "error").as_deref(), Some("invalid_request"));

    // An unregistered redirect URI, or an unknown client: the consent page explains; nothing
    // goes back to the unregistered address.
    let mut evil = url.clone();
    evil.query_pairs_mut().clear().append_pair("response_type", "code").append_pair("client_id", &client.client_id).append_pair("redirect_uri", "https://evil.example/cb");
    let res = app.client.get(evil).send().await.unwrap();
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&app.url("/consent?")), "{location}");
    let view = app.server_fn("consent/view", None, &[("agent_id", client.client_id.as_str()), ("redirect_uri", "https://evil.example/cb"), ("oauth", "true")]).await;
    assert_eq!(view.json::<Value>().await.unwrap(), json!({ "Err": "RedirectNotRegistered" }));
    // A tenant's agent is not an OAuth client.
    let tenant_agent = AgentCreds::create(&app, &[MCP_REDIRECT], "read_only").await;
    let view = app.server_fn("consent/view", None, &[("agent_id", tenant_agent.id.as_str()), ("redirect_uri", MCP_REDIRECT), ("oauth", "true")]).await;
    assert_eq!(view.json::<Value>().await.unwrap(), json!({ "Err": "UnknownAgent" }));

    // Registration: bad redirect URIs are refused, and a flood from one address is limited.
    let bad = app.post_json("/oauth/register", None, &json!({ "client_name": "x", "redirect_uris": ["http://evil.example/cb"] })).await;
    assert_eq!(expect_error(bad, 400, "OAUTH_400").await["error"], "invalid_redirect_uri");
    forget_limits(&app).await;
    for _ in 0..10 {
        McpClient::register(&app, "Flood").await;
    }
    let res = app.post_json("/oauth/register", None, &json!({ "client_name": "Flood", "redirect_uris": [MCP_REDIRECT] })).await;
    expect_error(res, 429, "RATE_429").await;
    forget_limits(&app).await;

    // A suspended client: its tokens stop working at once, and it gets no new ones.
    let tokens = client.connect(&app, &person.cookie, &["goal"], "read_only").await;
    assert_eq!(rpc(&app, Some(&tokens.access), "tools/list", json!({})).await.status(), 200);
    memory_passport::service::agents::review(&app.db, &client.client_id, AgentStatus::Suspended, "operator:test").await.unwrap();
    assert_eq!(rpc(&app, Some(&tokens.access), "tools/list", json!({})).await.status(), 401);
    let res = client.token_request(&app, &[("grant_type", "refresh_token"), ("refresh_token", &tokens.refresh)]).await;
    assert_eq!(expect_error(res, 401, "OAUTH_400").await["error"], "invalid_client");
}

async fn tokens_of_one_front_door_do_not_open_the_other(app: TestApp) {
    let person = Person::sign_in(&app, "doors@example.com").await;
    let client = McpClient::register(&app, "VS Code").await;
    let tokens = client.connect(&app, &person.cookie, &["goal"], "read_only").await;
    // A page on another origin cannot use /mcp through the person's browser, even with a
    // token (Streamable HTTP's DNS-rebinding rule); our own origin can.
    let call = |origin: &str| {
        let (app, token, origin) = (&app, tokens.access.clone(), origin.to_string());
        async move {
            app.client.post(app.url("/mcp")).bearer_auth(token).header("Origin", origin)
                .header("Accept", "application/json, text/event-stream").header("MCP-Protocol-Version", "2025-06-18")
                .json(&json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {} })).send().await.unwrap()
        }
    };
    expect_error(call("https://evil.example").await, 403, "CSRF_403").await;
    assert_eq!(call(&app.base).await.status(), 200);
    // An MCP access token on the REST API.
    let res = app
        .client
        .post(app.url("/v1/universal/memories/retrieve"))
        .bearer_auth(&tokens.access)
        .header("X-MemoryOS-UUI", &tokens.access)
        .json(&json!({ "query": "x" }))
        .send()
        .await
        .unwrap();
    expect_error(res, 401, "UAT_001").await;
    // A REST agent's pairwise token (or its secret) on /mcp.
    let agent = AgentCreds::create(&app, &[REDIRECT], "read_only").await;
    let rest = connect(&app, &person.cookie, &agent, &["goal"], "read_only").await;
    for token in [&rest.token, &rest.secret] {
        let res = rpc(&app, Some(token), "tools/list", json!({})).await;
        expect_error(res, 401, "MCP_401").await;
    }
    // The REST hand-off does not redeem OAuth codes.
    let link = client.authorize(&app, "memory.goal.read", &McpClient::resource(&app)).await;
    let back = client.consent(&app, &person.cookie, &link, &["goal"], "read_only").await;
    let res = crate::common::exchange(&app, &agent.secret, &query(&back, "code").unwrap(), MCP_REDIRECT, Some(&client.verifier)).await;
    expect_error(res, 400, "TOK_400").await;
}

/// Serves the documents `make(origin)` gives (path → body) on a loopback port; returns its
/// origin and the paths read, in order.
async fn document_server(make: impl FnOnce(&str) -> Vec<(&'static str, String)>) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let reads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut router = axum::Router::new();
    for (path, body) in make(&origin) {
        let reads = reads.clone();
        router = router.route(
            path,
            axum::routing::get(move || {
                reads.lock().unwrap().push(path.to_string());
                let body = body.clone();
                async move { ([("content-type", "application/json")], body) }
            }),
        );
    }
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (origin, reads)
}

/// In development (loopback documents allowed), an app's `client_id` can be the URL of its
/// metadata document: read once, checked, cached; a document that does not name itself, or is
/// too large, or is missing, is refused.
#[tokio::test]
async fn a_metadata_document_url_is_a_client_id() {
    let app = crate::common::spawn_app_with(crate::common::Backend::Sqlite, |c| c.oauth_metadata_allow_loopback = true).await;
    let person = Person::sign_in(&app, "cimd@example.com").await;
    let (origin, reads) = document_server(|origin| {
        vec![
            ("/client.json", json!({ "client_id": format!("{origin}/client.json"), "client_name": "Doc App", "logo_uri": "https://app.example/logo.png", "redirect_uris": [MCP_REDIRECT] }).to_string()),
            ("/wrong.json", json!({ "client_id": "https://elsewhere.example/c.json", "redirect_uris": [MCP_REDIRECT] }).to_string()),
            // The same good document, padded: refused for its size alone (the padding is a
            // field nobody reads, and 1,000 characters of it are fine).
            ("/huge.json", json!({ "client_id": format!("{origin}/huge.json"), "client_name": "Huge", "redirect_uris": [MCP_REDIRECT], "padding": "x".repeat(6_000) }).to_string()),
            ("/padded.json", json!({ "client_id": format!("{origin}/padded.json"), "client_name": "Padded", "redirect_uris": [MCP_REDIRECT], "padding": "x".repeat(1_000) }).to_string()),
        ]
    })
    .await;

    let client = McpClient { client_id: format!("{origin}/client.json"), verifier: "m".repeat(60) };
    let tokens = client.connect(&app, &person.cookie, &["goal"], "read_only").await;
    assert_eq!(rpc(&app, Some(&tokens.access), "tools/list", json!({})).await.status(), 200);
    assert_eq!(*reads.lock().unwrap(), ["/client.json"], "read once, then cached");
    let grants: Value = person.me(&app).call(reqwest::Method::GET, "/v1/uui/me/grants", None).await.json().await.unwrap();
    assert_eq!(grants["data"][0]["agent"]["name"], "Doc App");
    assert_eq!(grants["data"][0]["agent"]["self_registered"], true);

    for bad in ["/wrong.json", "/huge.json", "/missing.json"] {
        let stranger = McpClient { client_id: format!("{origin}{bad}"), verifier: "m".repeat(60) };
        let link = stranger.authorize(&app, "memory.goal.read", &McpClient::resource(&app)).await;
        assert!(link.starts_with(&app.url("/consent?")) && !link.contains("code_challenge"), "{bad}: stopped on the page: {link}");
    }
    let padded = McpClient { client_id: format!("{origin}/padded.json"), verifier: "m".repeat(60) };
    let link = padded.authorize(&app, "memory.goal.read", &McpClient::resource(&app)).await;
    assert!(link.contains("code_challenge"), "a padded document under the limit is fine: {link}");
    assert_eq!(app.count("oauth_clients").await, 2, "only the good documents were filed");
}

async fn metadata_documents_on_private_addresses_are_not_read(app: TestApp) {
    // Production rules: https only, and never an address inside our own network. A listener
    // on loopback counts every connection: the server must not even try one.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(socket);
        }
    });
    let loopback = [format!("https://127.0.0.1:{port}/client.json"), format!("https://localhost:{port}/client.json"), format!("https://[::ffff:127.0.0.1]:{port}/client.json")];
    let others = ["https://10.0.0.7/client.json".to_string(), "http://app.example/client.json".to_string()];
    for client_id in loopback.iter().chain(&others) {
        let client_id = client_id.as_str();
        let client = McpClient { client_id: client_id.to_string(), verifier: "p".repeat(60) };
        let link = client.authorize(&app, "memory.goal.read", &McpClient::resource(&app)).await;
        assert!(link.starts_with(&app.url("/consent?")) && !link.contains("code_challenge"), "{client_id}: {link}");
        let view = app.server_fn("consent/view", None, &[("agent_id", client_id), ("redirect_uri", MCP_REDIRECT), ("oauth", "true")]).await;
        assert_eq!(view.json::<Value>().await.unwrap(), json!({ "Err": "UnknownAgent" }));
    }
    assert_eq!(app.count("oauth_clients").await, 0, "nothing was filed");
    assert_eq!(connections.load(std::sync::atomic::Ordering::SeqCst), 0, "no connection was made to our own network");
}

/// One home for the rules: on the same grant, a `search_memory` call and a `/retrieve` call
/// rank the same memories and render the same context, and a narrowed grant narrows both.
async fn rest_and_mcp_on_one_grant_answer_alike(app: TestApp) {
    let person = Person::sign_in(&app, "alike@example.com").await;
    let agent = AgentCreds::create(&app, &[REDIRECT], "read_write").await;
    let c = connect(&app, &person.cookie, &agent, &["preference", "fact", "goal"], "read_write").await;
    for said in ["I prefer green tea in the morning.", "I work as a nurse in Leeds.", "My goal is to run a marathon next spring.", "I prefer aisle seats on trains."] {
        let job = c.add(&app, said).await;
        c.finished(&app, &job).await;
    }
    // The same agent's grant, reached through an OAuth access token (a tenant's agent gets
    // none from our authorization server; the store issues one here to compare the doors).
    let grant = memory_passport::store::grants::get(&app.db, &c.grant_id).await.unwrap().unwrap();
    let scope = memory_passport::domain::oauth::granted_scope(&grant.categories, grant.access_type);
    let bearer = memory_passport::store::oauth::issue(&app.db, &grant, "alike", &McpClient::resource(&app), &scope).await.unwrap().access_token;
    let compare = |query: &'static str| {
        let (c, app, bearer) = (c.clone(), &app, bearer.clone());
        async move {
            let rest = c.retrieve(app, json!({ "query": query, "limit": 10 })).await;
            let tool = tool_json(&tool(app, &bearer, "search_memory", json!({ "query": query, "limit": 10 })).await);
            let ids = |list: &Value| list.as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect::<Vec<_>>();
            assert_eq!(ids(&rest["data"]), ids(&tool["memories"]), "{query}");
            assert_eq!(rest["system_prompt_addition"], tool["context"], "{query}");
            assert_eq!(rest["categories_available"], tool["categories_available"], "{query}");
            ids(&rest["data"]).len()
        }
    };
    assert_eq!(compare("what do I drink").await, 4);
    assert_eq!(compare("").await, 4);
    // The person narrows the grant on /manage: both doors see only what is left.
    let res = person.me(&app).call(reqwest::Method::PATCH, &format!("/v1/uui/me/grants/{}", c.grant_id),
        Some(json!({ "categories": ["preference"], "access": "read_only", "duration": "90_days" }))).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(compare("seats and tea").await, 2);
}
