//! Agents (the apps a tenant registers), a person's consent to one through the consent page's
//! server functions, the code exchange at `/v1/universal/token`, and an agent connected to a
//! person calling the universal memory API.
use super::app::{guide_body, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

/// The redirect URI the consent tests register.
pub const REDIRECT: &str = "https://app.example/integrations/memoryos/callback";

/// An agent's credentials: its id and its raw `agent_sk_` secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentCreds {
    pub id: String,
    pub secret: String,
}

impl AgentCreds {
    /// A new tenant's agent with `redirect_uris` and `access` (`read_only`, `read_write`),
    /// created through the API.
    pub async fn create(app: &TestApp, redirect_uris: &[&str], access: &str) -> AgentCreds {
        let t = app.tenant("consent").await;
        let mut body = guide_body("Support Copilot");
        body["redirect_uris"] = json!(redirect_uris);
        body["redirect_uri"] = Value::Null;
        body["requested_access"] = json!(access);
        let res = app.post_json("/v1/agents/global", Some(&t.api_key), &body).await;
        assert_eq!(res.status(), 201);
        let data = res.json::<Value>().await.unwrap()["data"].clone();
        AgentCreds::from_data(&data)
    }

    /// The credentials in a created agent's `data` (`id`, `raw_agent_api_key`).
    pub fn from_data(data: &Value) -> AgentCreds {
        AgentCreds { id: data["id"].as_str().unwrap().to_string(), secret: data["raw_agent_api_key"].as_str().unwrap().to_string() }
    }
}

/// Calls a consent server function (`consent/approve`, `consent/deny`) with `answer`.
pub async fn call(app: &TestApp, endpoint: &str, cookie: Option<&str>, answer: &Value) -> reqwest::Response {
    app.server_fn_json(endpoint, cookie, &json!({ "answer": answer })).await
}

/// The agent's backend exchanges a consent's code for a token.
pub async fn exchange(app: &TestApp, secret: &str, code: &str, redirect_uri: &str, verifier: Option<&str>) -> reqwest::Response {
    let mut body = json!({ "code": code, "redirect_uri": redirect_uri });
    if let Some(v) = verifier {
        body["code_verifier"] = json!(v);
    }
    app.post_json("/v1/universal/token", Some(secret), &body).await
}

/// The query parameter `name` of the URL `location`.
pub fn query(location: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(location).unwrap();
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// The code in a consent approval's redirect answer.
pub async fn code_of(res: reqwest::Response) -> String {
    assert_eq!(res.status(), 200);
    query(res.json::<Value>().await.unwrap()["location"].as_str().unwrap(), "code").unwrap()
}

/// The body of an add with one message of the person's.
pub fn add_body(text: &str) -> Value {
    json!({ "messages": [{ "role": "user", "content": text }] })
}

/// An agent connected to a person through the consent page's approve call (hosted flow).
#[derive(Clone)]
pub struct Connected {
    pub agent_id: String,
    pub secret: String,
    pub token: String,
    pub grant_id: String,
}

/// Connects `agent` to the person signed in with `cookie` (hosted flow: the token comes back
/// in the approve answer).
pub async fn connect(app: &TestApp, cookie: &str, agent: &AgentCreds, categories: &[&str], access: &str) -> Connected {
    let answer = json!({
        "agent_id": agent.id,
        "state": "s",
        "redirect_uri": "",
        "categories": categories,
        "duration": "90_days",
        "access": access,
    });
    let res = call(app, "consent/approve", Some(cookie), &answer).await;
    assert_eq!(res.status(), 200, "approve");
    let approved: Value = res.json().await.unwrap();
    Connected {
        agent_id: agent.id.clone(),
        secret: agent.secret.clone(),
        token: approved["token"].as_str().expect("hosted flow returns the token").to_string(),
        grant_id: approved["grant_id"].as_str().unwrap().to_string(),
    }
}

impl Connected {
    pub async fn post(&self, app: &TestApp, path: &str, body: &Value) -> reqwest::Response {
        app.client
            .post(app.url(path))
            .header("Authorization", format!("ApiKey {}", self.secret))
            .header("X-MemoryOS-UUI", &self.token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, app: &TestApp, path: &str) -> reqwest::Response {
        app.client
            .get(app.url(path))
            .header("Authorization", format!("ApiKey {}", self.secret))
            .header("X-MemoryOS-UUI", &self.token)
            .send()
            .await
            .unwrap()
    }

    pub async fn add(&self, app: &TestApp, text: &str) -> String {
        let res = self.post(app, "/v1/universal/memories/add", &json!({ "messages": [{ "role": "user", "content": text }] })).await;
        assert_eq!(res.status(), 202, "add");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["status"], "queued");
        assert_eq!(body["processing_status"], "normal");
        body["job_id"].as_str().unwrap().to_string()
    }

    /// Polls the job until it is finished; returns its `data`.
    pub async fn finished(&self, app: &TestApp, job_id: &str) -> Value {
        for _ in 0..200 {
            let res = self.get(app, &format!("/v1/universal/memories/jobs/{job_id}")).await;
            assert_eq!(res.status(), 200);
            let data = res.json::<Value>().await.unwrap()["data"].clone();
            if data["status"] == "completed" || data["status"] == "failed" {
                return data;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("job {job_id} did not finish");
    }

    pub async fn retrieve(&self, app: &TestApp, body: Value) -> Value {
        let res = self.post(app, "/v1/universal/memories/retrieve", &body).await;
        assert_eq!(res.status(), 200, "retrieve");
        res.json().await.unwrap()
    }
}
