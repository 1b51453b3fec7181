//! Two server processes' worth of nodes on one PostgreSQL database: nothing that matters is
//! kept in only one of them. A person signs in on one node and consents on the other; memories
//! added through one are served by the other at once (the revision check of each node's
//! cache); a revocation on one node ends the agent's access on the other at once.
use crate::common::{call, expect_error, postgres_admin_url, spawn_app, spawn_node, AgentCreds, Backend, Connected, Person, TestApp};
use serde_json::{json, Value};
use std::time::Duration;

async fn served(app: &TestApp, c: &Connected) -> Vec<String> {
    let body = c.retrieve(app, json!({ "query": "" })).await;
    let mut t: Vec<String> = body["data"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap().to_string()).collect();
    t.sort();
    t
}

async fn until_served(app: &TestApp, c: &Connected, n: usize) -> Vec<String> {
    for _ in 0..200 {
        let t = served(app, c).await;
        if t.len() >= n {
            return t;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("memories were not served");
}

#[tokio::test]
async fn two_nodes_share_sessions_consent_memories_and_revocation() {
    if postgres_admin_url().is_none() {
        return;
    }
    let one = spawn_app(Backend::Postgres).await;
    let two = spawn_node(Backend::Postgres, Some(one.database_url.clone()), |_| {}).await;

    // Signed in on node one, consenting on node two with the same session.
    let cookie = Person::sign_in(&one, "nodes@example.com").await.cookie;
    let AgentCreds { id: agent_id, secret } = AgentCreds::create(&one, &[], "read_write").await;
    let answer = json!({ "agent_id": agent_id, "state": "s", "redirect_uri": "", "categories": ["preference", "fact"], "duration": "90_days", "access": "read_write" });
    let res = call(&two, "consent/approve", Some(&cookie), &answer).await;
    assert_eq!(res.status(), 200, "a session made on one node works on the other");
    let approved: Value = res.json().await.unwrap();
    let grant_id = approved["grant_id"].as_str().unwrap().to_string();
    let c = Connected { agent_id, secret, token: approved["token"].as_str().unwrap().to_string(), grant_id: grant_id.clone() };
    let add = |text: &str| json!({ "messages": [{ "role": "user", "content": text }] });

    // Added through node one, served by node two; then the other way round, with both
    // nodes' caches warm.
    let res = c.post(&one, "/v1/universal/memories/add", &add("I prefer tea.")).await;
    assert_eq!(res.status(), 202);
    assert_eq!(until_served(&two, &c, 1).await, vec!["I prefer tea."]);
    assert_eq!(served(&one, &c).await, vec!["I prefer tea."]);
    let res = c.post(&two, "/v1/universal/memories/add", &add("I live in Lisbon.")).await;
    assert_eq!(res.status(), 202);
    assert_eq!(until_served(&one, &c, 2).await, vec!["I live in Lisbon.", "I prefer tea."]);

    // Flagged through node two: node one stops serving it on its next request.
    let page = two.client.get(two.url("/v1/uui/me/memories?q=tea")).header("Cookie", &cookie).send().await.unwrap();
    let id = page.json::<Value>().await.unwrap()["data"]["memories"][0]["id"].as_str().unwrap().to_string();
    let res = two.client.post(two.url(&format!("/v1/uui/me/memories/{id}/flag"))).header("Cookie", &cookie).header("Origin", &two.base)
        .json(&json!({ "flag": "outdated" })).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(served(&one, &c).await, vec!["I live in Lisbon."]);

    // Revoked through node two: node one answers the empty no-grant retrieve at once.
    let res = two.client.delete(two.url(&format!("/v1/uui/me/grants/{grant_id}"))).header("Cookie", &cookie).header("Origin", &two.base).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(c.retrieve(&one, json!({ "query": "" })).await["permission_error"], "no_grant_for_user");
    let res = c.post(&one, "/v1/universal/memories/add", &add("I like jazz.")).await;
    expect_error(res, 403, "UAT_002").await;
}
