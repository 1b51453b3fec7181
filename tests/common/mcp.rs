//! An MCP client as the assistants are: it registers itself over OAuth, sends the person to
//! `/oauth/authorize` (which hands over to the consent page, answered here through the page's
//! own server function), trades the code for tokens, and calls `/mcp` with JSON-RPC.
use super::agent::{call, query};
use super::app::TestApp;
use memory_passport::auth::pkce;
use serde_json::{json, Value};

/// Where the test client says it listens (a native app's loopback redirect).
pub const MCP_REDIRECT: &str = "http://127.0.0.1:33418/callback";

/// A self-registered MCP client.
#[derive(Clone, Debug)]
pub struct McpClient {
    pub client_id: String,
    pub verifier: String,
}

/// Tokens from the token endpoint.
#[derive(Clone, Debug)]
pub struct Tokens {
    pub access: String,
    pub refresh: String,
    pub scope: String,
}

impl McpClient {
    /// Registers at `/oauth/register` (RFC 7591) as `name`.
    pub async fn register(app: &TestApp, name: &str) -> McpClient {
        let res = app.post_json("/oauth/register", None, &json!({ "client_name": name, "redirect_uris": [MCP_REDIRECT] })).await;
        assert_eq!(res.status(), 201, "registration");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["token_endpoint_auth_method"], "none");
        assert!(body.as_object().unwrap().values().all(|v| !v.is_null()), "absent metadata is left out: {body}");
        McpClient { client_id: body["client_id"].as_str().unwrap().to_string(), verifier: "v".repeat(50) }
    }

    /// Our MCP endpoint, the resource every token is for.
    pub fn resource(app: &TestApp) -> String {
        app.url("/mcp")
    }

    /// `GET /oauth/authorize` with `scope` (and `resource`); returns where it sends the browser.
    pub async fn authorize(&self, app: &TestApp, scope: &str, resource: &str) -> String {
        let mut url = url::Url::parse(&app.url("/oauth/authorize")).unwrap();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", MCP_REDIRECT)
            .append_pair("scope", scope)
            .append_pair("state", "st-1")
            .append_pair("code_challenge", &pkce::challenge_of(&self.verifier))
            .append_pair("code_challenge_method", "S256")
            .append_pair("resource", resource);
        let res = app.client.get(url).send().await.unwrap();
        assert_eq!(res.status(), 303, "authorize redirects");
        res.headers()["location"].as_str_loose()
    }

    /// The person (signed in with `cookie`) answers the consent page the authorize request led
    /// to, choosing `categories` and `access`; returns where the page sends the browser.
    pub async fn consent(&self, app: &TestApp, cookie: &str, consent_link: &str, categories: &[&str], access: &str) -> String {
        assert!(consent_link.contains("/consent?"), "{consent_link}");
        let get = |name: &str| query(&absolute(app, consent_link), name).unwrap_or_default();
        let answer = json!({
            "agent_id": get("agent_id"),
            "state": get("state"),
            "redirect_uri": get("redirect_uri"),
            "requested_access": get("access"),
            "code_challenge": get("code_challenge"),
            "code_challenge_method": get("code_challenge_method"),
            "resource": get("resource"),
            "categories": categories,
            "duration": "90_days",
            "access": access,
        });
        let res = call(app, "consent/approve", Some(cookie), &answer).await;
        let status = res.status();
        let body = res.text().await.unwrap();
        assert_eq!(status, 200, "approve: {body}");
        serde_json::from_str::<Value>(&body).unwrap()["location"].as_str().unwrap().to_string()
    }

    /// `POST /oauth/token` with `form` (plus this client's id).
    pub async fn token_request(&self, app: &TestApp, form: &[(&str, &str)]) -> reqwest::Response {
        let mut fields = vec![("client_id", self.client_id.as_str())];
        fields.extend_from_slice(form);
        app.client.post(app.url("/oauth/token")).form(&fields).send().await.unwrap()
    }

    /// Trades the code in `location` for tokens.
    pub async fn exchange(&self, app: &TestApp, location: &str) -> Tokens {
        let code = query(location, "code").expect("a code");
        assert_eq!(query(location, "state").as_deref(), Some("st-1"));
        let resource = McpClient::resource(app);
        let res = self
            .token_request(app, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", MCP_REDIRECT), ("code_verifier", &self.verifier), ("resource", &resource)])
            .await;
        tokens_of(res).await
    }

    /// Registration, authorization and consent in one: the tokens for `categories` and `access`.
    pub async fn connect(&self, app: &TestApp, cookie: &str, categories: &[&str], access: &str) -> Tokens {
        let link = self.authorize(app, "memory.fact.read", &McpClient::resource(app)).await;
        let back = self.consent(app, cookie, &link, categories, access).await;
        self.exchange(app, &back).await
    }
}

/// The tokens of a good token answer.
pub async fn tokens_of(res: reqwest::Response) -> Tokens {
    assert_eq!(res.status(), 200, "token answer");
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_i64().unwrap() > 0);
    Tokens {
        access: body["access_token"].as_str().unwrap().to_string(),
        refresh: body["refresh_token"].as_str().unwrap().to_string(),
        scope: body["scope"].as_str().unwrap().to_string(),
    }
}

fn absolute(app: &TestApp, link: &str) -> String {
    if link.starts_with("http") { link.to_string() } else { app.url(link) }
}

trait Loose {
    fn as_str_loose(&self) -> String;
}

impl Loose for reqwest::header::HeaderValue {
    fn as_str_loose(&self) -> String {
        self.to_str().unwrap().to_string()
    }
}

/// One JSON-RPC call to `/mcp` with `token` (or none).
pub async fn rpc(app: &TestApp, token: Option<&str>, method: &str, params: Value) -> reqwest::Response {
    let mut req = app
        .client
        .post(app.url("/mcp"))
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2025-06-18")
        .json(&json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req.send().await.unwrap()
}

/// A tool call's result (`result`), asserting the call was answered.
pub async fn tool(app: &TestApp, token: &str, name: &str, arguments: Value) -> Value {
    let res = rpc(app, Some(token), "tools/call", json!({ "name": name, "arguments": arguments })).await;
    assert_eq!(res.status(), 200, "tools/call {name}");
    let body: Value = res.json().await.unwrap();
    body["result"].clone()
}

/// The JSON a tool answered with in its text.
pub fn tool_json(result: &Value) -> Value {
    serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap()
}
