//! The universal memory API over real HTTP: tokens from a real consent (the consent page's
//! server functions), adds through the durable job queue and its workers, ranked retrieval,
//! grant enforcement and the privacy rules, on both databases.
use crate::common::{connect, expect_error, spawn_app_with, spawn_node, AgentCreds, Backend, Person, TestApp};
use crate::on_both_backends;
use memory_passport::service::universal::worker;
use memory_passport::store::{grants, jobs, memories};
use serde_json::{json, Value};
use std::time::Duration;

on_both_backends!(
    the_sdks_message_fields_decide_what_is_remembered,
    add_then_retrieve_serves_only_granted_categories,
    retrieve_formats_budget_and_use_are_honoured,
    jobs_are_idempotent_and_private_to_their_agent_and_person,
    read_only_grants_cannot_add,
    every_lost_grant_gets_the_same_empty_answer,
    bad_credentials_are_one_401,
    agents_never_learn_of_each_other,
    contradictions_become_questions_and_repeats_are_skipped,
    bad_input_is_422_and_loses_nothing,
    many_workers_apply_each_job_exactly_once,
    a_relative_date_is_resolved_against_when_it_was_said,
    meaning_finds_what_the_words_miss,
    concurrent_retrieves_after_a_change_load_the_memories_once,
    changes_reach_the_cached_index_in_place,
    a_message_that_told_several_things_fills_one_place_of_the_top,
);

async fn add_then_retrieve_serves_only_granted_categories(app: TestApp) {
    let cookie = Person::sign_in(&app, "ada@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["preference", "fact"], "read_write").await;

    let job = c.add(&app, "Hi! I prefer short answers with Python examples. My name is Ada. I'm trying to run a marathon. What's 2+2?").await;
    let done = c.finished(&app, &job).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["memories_created"], 2, "preference and fact; the goal is outside the grant: {done}");
    assert_eq!(done["extraction_metadata"]["outside_grant"], 1);
    assert_eq!(done["extraction_metadata"]["extracted"], 3);
    let payload: String = sqlx::query_scalar("SELECT payload FROM memory_jobs WHERE id = $1").bind(&job).fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(payload, "", "the conversation is not kept after processing");

    let body = c.retrieve(&app, json!({ "query": "Which programming language for code examples?" })).await;
    assert_eq!(body["permission_error"], Value::Null);
    assert_eq!(body["categories_available"], json!(["preference", "fact"]));
    assert_eq!(body["cached"], false);
    assert_eq!(body["is_passthrough"], false);
    assert!(body["retrieval_id"].as_str().is_some());
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["content"], "I prefer short answers with Python examples.", "the relevant one first");
    assert_eq!(data[0]["category"], "preference");
    assert_eq!(data[0]["relevance_score"], 1.0);
    assert_eq!(data[0]["importance_score"], 0.7);
    assert_eq!(data[0]["access_count"], 1);
    assert!(data[0]["last_accessed"].as_str().unwrap().ends_with('Z'));
    assert_eq!(data[1]["content"], "My name is Ada.");
    let prompt = body["system_prompt_addition"].as_str().unwrap();
    assert!(prompt.starts_with("What you know about this user:"), "{prompt}");
    assert!(prompt.contains("- I prefer short answers with Python examples.") && prompt.contains("- My name is Ada."));
    assert!(!prompt.to_lowercase().contains("marathon"));
    assert!(body["context_token_count"].as_u64().unwrap() > 10);

    // A narrower grant narrows what is served at once.
    connect(&app, &cookie, &a, &["fact"], "read_write").await;
    let body = c.retrieve(&app, json!({ "query": "python" })).await;
    let contents: Vec<&str> = body["data"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(contents, vec!["My name is Ada."]);
    assert_eq!(body["categories_available"], json!(["fact"]));
}

async fn retrieve_formats_budget_and_use_are_honoured(app: TestApp) {
    let cookie = Person::sign_in(&app, "formats@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["preference", "fact", "goal"], "read_write").await;
    let job = c.add(&app, "I prefer tea. I live in Lisbon. I plan to learn the <cello> & the \"oud\".").await;
    assert_eq!(c.finished(&app, &job).await["memories_created"], 3);

    let bullets = c.retrieve(&app, json!({ "query": "", "format": "bullets" })).await;
    let text = bullets["system_prompt_addition"].as_str().unwrap();
    assert!(text.contains("\n\nYour preferences and settings:\n- I prefer tea."), "grouped by category: {text}");
    let j = c.retrieve(&app, json!({ "query": "", "format": "json" })).await;
    let parsed: Value = serde_json::from_str(j["system_prompt_addition"].as_str().unwrap()).unwrap();
    assert_eq!(parsed["user_memories"].as_array().unwrap().len(), 3);
    let x = c.retrieve(&app, json!({ "query": "cello", "format": "xml" })).await;
    let xml = x["system_prompt_addition"].as_str().unwrap();
    assert!(xml.starts_with("<user_memories>") && xml.contains("&lt;cello&gt; &amp; the &quot;oud&quot;"), "{xml}");

    // The budget is counted with a real tokenizer and never exceeded.
    for budget in [1, 8, 12, 20, 500] {
        let b = c.retrieve(&app, json!({ "query": "tea", "context_max_tokens": budget })).await;
        let tokens = b["context_token_count"].as_u64().unwrap();
        assert!(tokens <= budget, "{tokens} > {budget}");
        let text = b["system_prompt_addition"].as_str().unwrap();
        assert_eq!(text.is_empty(), tokens == 0);
        assert_eq!(b["data"].as_array().unwrap().len(), 3, "data is not cut by the prompt budget");
    }
    let one = c.retrieve(&app, json!({ "query": "tea", "limit": 1 })).await;
    assert_eq!(one["data"].as_array().unwrap().len(), 1);

    // Use is recorded in the database (batched, within a couple of seconds).
    let id = one["data"][0]["id"].as_str().unwrap().to_string();
    let served = one["data"][0]["access_count"].as_i64().unwrap();
    assert!(served >= 9, "used in every retrieve above: {served}");
    let mut stored = 0;
    for _ in 0..60 {
        stored = sqlx::query_scalar::<_, i64>("SELECT access_count FROM memories WHERE id = $1").bind(&id).fetch_one(&app.db.pool).await.unwrap();
        if stored == served {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stored, served);
    let used: Option<i64> =
        sqlx::query_scalar("SELECT last_used_at FROM grants WHERE id = $1").bind(&c.grant_id).fetch_one(&app.db.pool).await.unwrap();
    assert!(used.is_some(), "the grant's last use is recorded");
}

async fn jobs_are_idempotent_and_private_to_their_agent_and_person(app: TestApp) {
    let ada = Person::sign_in(&app, "idem@example.com").await.cookie;
    let bob = Person::sign_in(&app, "bob@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let b = AgentCreds::create(&app, &[], "read_write").await;
    let a_ada = connect(&app, &ada, &a, &["preference"], "read_write").await;
    let a_bob = connect(&app, &bob, &a, &["preference"], "read_write").await;
    let b_ada = connect(&app, &ada, &b, &["preference"], "read_write").await;

    let body = json!({ "messages": [{ "role": "user", "content": "I prefer green tea." }], "idempotency_key": "turn-1" });
    let first: Value = a_ada.post(&app, "/v1/universal/memories/add", &body).await.json().await.unwrap();
    let again: Value = a_ada.post(&app, "/v1/universal/memories/add", &body).await.json().await.unwrap();
    assert_eq!(first["job_id"], again["job_id"], "same key, same job");
    let other_person: Value = a_bob.post(&app, "/v1/universal/memories/add", &body).await.json().await.unwrap();
    let other_agent: Value = b_ada.post(&app, "/v1/universal/memories/add", &body).await.json().await.unwrap();
    assert_ne!(first["job_id"], other_person["job_id"]);
    assert_ne!(first["job_id"], other_agent["job_id"]);
    let job = first["job_id"].as_str().unwrap();
    let done = a_ada.finished(&app, job).await;
    assert_eq!(done["memories_created"], 1);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memory_jobs WHERE idempotency_key = 'turn-1'").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(count, 3);

    // Another agent for the same person, or the same agent for another person: 404.
    expect_error(b_ada.get(&app, &format!("/v1/universal/memories/jobs/{job}")).await, 404, "REQ_404").await;
    expect_error(a_bob.get(&app, &format!("/v1/universal/memories/jobs/{job}")).await, 404, "REQ_404").await;
    for bad in ["00000000-0000-0000-0000-000000000000", "nope", "%00", "'%20OR%201=1--"] {
        expect_error(a_ada.get(&app, &format!("/v1/universal/memories/jobs/{bad}")).await, 404, "REQ_404").await;
    }
}

async fn read_only_grants_cannot_add(app: TestApp) {
    let cookie = Person::sign_in(&app, "ro@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["preference"], "read_only").await;
    let res = c.post(&app, "/v1/universal/memories/add", &json!({ "messages": [{ "role": "user", "content": "I prefer tea." }] })).await;
    let body = expect_error(res, 403, "UAT_002").await;
    assert_eq!(body["error"], "write_not_permitted");
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memory_jobs").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(count, 0, "nothing queued");
    // Reading still works.
    assert_eq!(c.retrieve(&app, json!({ "query": "tea" })).await["permission_error"], Value::Null);
}

/// Everything in a retrieve answer except what is fresh per request.
fn stable(mut body: Value) -> Value {
    for k in ["request_id", "timestamp", "retrieval_id"] {
        body.as_object_mut().unwrap().remove(k);
    }
    body
}

async fn every_lost_grant_gets_the_same_empty_answer(app: TestApp) {
    let cookie = Person::sign_in(&app, "lost@example.com").await.cookie;
    let tenant = app.tenant("lost").await;
    let mut connected = Vec::new();
    for _ in 0..4 {
        let mut body = crate::common::guide_body("Lost Agent");
        body["requested_access"] = json!("read_write");
        let data: Value = app.post_json("/v1/agents/global", Some(&tenant.api_key), &body).await.json().await.unwrap();
        let creds = AgentCreds::from_data(&data["data"]);
        connected.push(connect(&app, &cookie, &creds, &["preference"], "read_write").await);
    }
    let job = connected[0].add(&app, "I prefer tea.").await;
    connected[0].finished(&app, &job).await;
    let live = connected[1].retrieve(&app, json!({ "query": "tea" })).await;
    assert_eq!(live["data"].as_array().unwrap().len(), 1, "served before access is lost");

    let passport_id: String = sqlx::query_scalar("SELECT id FROM passports WHERE email = 'lost@example.com'").fetch_one(&app.db.pool).await.unwrap();
    // Revoked by the person, expired, retired by its tenant, suspended by the operator.
    assert!(grants::revoke(&app.db, &passport_id, &connected[0].grant_id).await.unwrap());
    sqlx::query("UPDATE grants SET expires_at = 1 WHERE id = $1").bind(&connected[1].grant_id).execute(&app.db.pool).await.unwrap();
    let res = app.client.delete(app.url(&format!("/v1/agents/global/{}", connected[2].agent_id)))
        .header("Authorization", format!("ApiKey {}", tenant.api_key)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    memory_passport::store::agents::set_status(&app.db, &connected[3].agent_id, memory_passport::domain::agent::AgentStatus::Suspended, "test")
        .await
        .unwrap();

    let mut answers = Vec::new();
    for c in &connected {
        let body = c.retrieve(&app, json!({ "query": "tea" })).await;
        let res = c.post(&app, "/v1/universal/memories/add", &json!({ "messages": [{ "role": "user", "content": "I prefer coffee." }] })).await;
        expect_error(res, 403, "UAT_002").await;
        answers.push(stable(body));
    }
    let expected = json!({
        "cached": false, "data": [], "system_prompt_addition": "", "context_token_count": 0,
        "permission_error": "no_grant_for_user", "categories_available": [], "is_passthrough": false,
    });
    for a in &answers {
        assert_eq!(a, &expected);
    }
}

async fn bad_credentials_are_one_401(app: TestApp) {
    let cookie = Person::sign_in(&app, "creds@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let b = AgentCreds::create(&app, &[], "read_write").await;
    let ca = connect(&app, &cookie, &a, &["preference"], "read_write").await;
    let cb = connect(&app, &cookie, &b, &["preference"], "read_write").await;
    let fake_key = format!("agent_sk_{}", "A".repeat(43));
    let cases: Vec<(Option<String>, Option<String>)> = vec![
        (None, None),
        (Some(ca.secret.clone()), None),
        (None, Some(ca.token.clone())),
        (Some(fake_key.clone()), Some(ca.token.clone())),
        (Some(ca.secret.clone()), Some(format!("uui_{}", "B".repeat(43)))),
        (Some(ca.secret.clone()), Some(cb.token.clone())), // another agent's token
        (Some(cb.secret.clone()), Some(ca.token.clone())),
        (Some("garbage".into()), Some("garbage".into())),
        (Some(format!("{}x", ca.secret)), Some(ca.token.clone())),
        (Some(ca.secret.clone()), Some(format!("{} ", &ca.token[..ca.token.len() - 1]))),
    ];
    for (key, token) in cases {
        for path in ["/v1/universal/memories/retrieve", "/v1/universal/memories/add"] {
            let mut req = app.client.post(app.url(path)).json(&json!({ "query": "x", "messages": [] }));
            if let Some(k) = &key {
                req = req.header("Authorization", format!("ApiKey {k}"));
            }
            if let Some(t) = &token {
                req = req.header("X-MemoryOS-UUI", t);
            }
            let body = expect_error(req.send().await.unwrap(), 401, "UAT_001").await;
            assert_eq!(body["error"], "cross_agent_auth_failed");
        }
    }
    // Guessing is limited per client address.
    let mut limited = None;
    for _ in 0..80 {
        let res = app.client.post(app.url("/v1/universal/memories/retrieve"))
            .header("Authorization", format!("ApiKey {fake_key}")).header("X-MemoryOS-UUI", &ca.token)
            .json(&json!({})).send().await.unwrap();
        if res.status() == 429 {
            limited = Some(res);
            break;
        }
    }
    let res = limited.expect("failed authentications are rate limited");
    assert!(res.headers().contains_key("retry-after"));
    expect_error(res, 429, "RATE_429").await;
}

async fn agents_never_learn_of_each_other(app: TestApp) {
    let cookie = Person::sign_in(&app, "private@example.com").await.cookie;
    let tenant = app.tenant("secretive").await;
    let mut body = crate::common::guide_body("Zebra Writer Bot");
    body["requested_access"] = json!("read_write");
    let writer: Value = app.post_json("/v1/agents/global", Some(&tenant.api_key), &body).await.json().await.unwrap();
    let w = AgentCreds::from_data(&writer["data"]);
    let reader = AgentCreds::create(&app, &[], "read_only").await;
    let cw = connect(&app, &cookie, &w, &["preference", "fact"], "read_write").await;
    let cr = connect(&app, &cookie, &reader, &["preference"], "read_only").await;

    let job = cw.add(&app, "I prefer oolong tea. I live in Porto.").await;
    assert_eq!(cw.finished(&app, &job).await["memories_created"], 2);
    let res = cr.post(&app, "/v1/universal/memories/retrieve", &json!({ "query": "tea" })).await;
    let raw = res.text().await.unwrap();
    let body: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 1, "only the reader's categories");
    assert_eq!(body["categories_available"], json!(["preference"]), "only the reader's own grant");
    for secret in ["Zebra", &cw.agent_id, &cw.grant_id, &job, "Porto"] {
        assert!(!raw.contains(secret), "{secret:?} leaked to another agent: {raw}");
    }
    expect_error(cr.get(&app, &format!("/v1/universal/memories/jobs/{job}")).await, 404, "REQ_404").await;
    // Use counts are per app: the writer reading three times does not show in the reader's.
    for _ in 0..3 {
        cw.retrieve(&app, json!({ "query": "tea" })).await;
    }
    let mine = cr.retrieve(&app, json!({ "query": "tea" })).await;
    assert_eq!(mine["data"][0]["access_count"], 2, "the reader's own second use");
    let theirs = cw.retrieve(&app, json!({ "query": "tea" })).await;
    let tea = theirs["data"].as_array().unwrap().iter().find(|m| m["content"] == "I prefer oolong tea.").unwrap().clone();
    assert_eq!(tea["access_count"], 4);
    // Provenance is kept for the person.
    let source: Option<String> = sqlx::query_scalar("SELECT source_agent_id FROM memories WHERE content = 'I prefer oolong tea.'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(source.as_deref(), Some(cw.agent_id.as_str()));
}

async fn contradictions_become_questions_and_repeats_are_skipped(app: TestApp) {
    let cookie = Person::sign_in(&app, "conflict@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["preference", "fact"], "read_write").await;
    let first = c.add(&app, "My name is Ada. I love green tea.").await;
    assert_eq!(c.finished(&app, &first).await["memories_created"], 2);

    let second = c.add(&app, "my name is Ada! Call me Ada. I can't stand green tea. My name is Grace.").await;
    let done = c.finished(&app, &second).await;
    assert_eq!(done["memories_created"], 0, "{done}");
    assert_eq!(done["extraction_metadata"]["duplicates"], 2, "same words, and the same name another way");
    assert_eq!(done["extraction_metadata"]["conflicts"], 2, "a new name and the opposite taste");

    let questions: Vec<(String, String)> =
        sqlx::query_as("SELECT candidate_content, status FROM memory_conflicts ORDER BY candidate_content").fetch_all(&app.db.pool).await.unwrap();
    assert_eq!(
        questions,
        vec![("I can't stand green tea.".into(), "open".into()), ("My name is Grace.".into(), "open".into())]
    );
    let body = c.retrieve(&app, json!({ "query": "name tea" })).await;
    let contents: Vec<&str> = body["data"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(contents.len(), 2);
    assert!(contents.contains(&"My name is Ada.") && contents.contains(&"I love green tea."), "no silent overwrite: {contents:?}");

    // Asking the same again does not ask the person twice.
    let third = c.add(&app, "My name is Grace.").await;
    c.finished(&app, &third).await;
    let open: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memory_conflicts").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(open, 2);
}

async fn bad_input_is_422_and_loses_nothing(app: TestApp) {
    let cookie = Person::sign_in(&app, "input@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["preference"], "read_write").await;
    let long = "x".repeat(16_001);
    let adds = [
        json!({ "messages": [] }),
        json!({ "messages": [{ "role": "robot", "content": "I prefer tea." }] }),
        json!({ "messages": [{ "role": "user", "content": "" }] }),
        json!({ "messages": [{ "role": "user", "content": long }] }),
        json!({ "messages": [{ "role": "user", "content": 42 }] }),
        json!({ "messages": [{ "role": "user", "content": "I prefer tea." }], "metadata": [1, 2] }),
        json!({ "messages": [{ "role": "user", "content": "I prefer tea." }], "idempotency_key": "" }),
        json!({ "messages": "I prefer tea." }),
        json!({}),
    ];
    for body in adds {
        expect_error(c.post(&app, "/v1/universal/memories/add", &body).await, 422, "REQ_422").await;
    }
    let retrieves = [
        json!({ "query": "x", "limit": 0 }),
        json!({ "query": "x", "limit": 51 }),
        json!({ "query": "x", "format": "yaml" }),
        json!({ "query": "x", "context_max_tokens": 0 }),
        json!({ "query": "x".repeat(4_001) }),
        json!({ "query": 5 }),
        json!({ "query": "x", "limit": "ten" }),
    ];
    for body in retrieves {
        expect_error(c.post(&app, "/v1/universal/memories/retrieve", &body).await, 422, "REQ_422").await;
    }
    let res = app.client.post(app.url("/v1/universal/memories/add"))
        .header("Authorization", format!("ApiKey {}", c.secret)).header("X-MemoryOS-UUI", &c.token)
        .header("Content-Type", "application/json").body("{\"messages\": [").send().await.unwrap();
    expect_error(res, 422, "REQ_422").await;
    let huge = json!({ "messages": [{ "role": "user", "content": "y".repeat(70_000) }] });
    expect_error(c.post(&app, "/v1/universal/memories/add", &huge).await, 413, "REQ_413").await;
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memory_jobs").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(count, 0);
    // SQL-shaped text is just text.
    let job = c.add(&app, "I prefer Robert' OR 1=1 -- DROP TABLE memories as a band name.").await;
    assert_eq!(c.finished(&app, &job).await["memories_created"], 1);
    let body = c.retrieve(&app, json!({ "query": "'); DROP TABLE memories; --" })).await;
    assert_eq!(body["data"][0]["content"], "I prefer Robert' OR 1=1 -- DROP TABLE memories as a band name.");
}

async fn many_workers_apply_each_job_exactly_once(app: TestApp) {
    let cookie = Person::sign_in(&app, "busy@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["preference", "fact"], "read_write").await;
    const JOBS: usize = 120;
    let mut adds = Vec::new();
    for i in 0..JOBS {
        let (app, c) = (&app, &c);
        adds.push(async move {
            let res = c.post(app, "/v1/universal/memories/add", &json!({ "messages": [{ "role": "user", "content": format!("I prefer tea number {i}.") }] })).await;
            assert_eq!(res.status(), 202);
        });
    }
    // The server's two workers plus four more claiming from the same queue at once.
    drain_with_extra_workers(&app, adds).await;
    assert_eq!(jobs::pending(&app.db).await.unwrap(), 0);
    let stats: Vec<(String, i64)> = sqlx::query_as("SELECT status, COUNT(*) FROM memory_jobs GROUP BY status").fetch_all(&app.db.pool).await.unwrap();
    assert_eq!(stats, vec![("completed".to_string(), JOBS as i64)]);
    let results: Vec<String> = sqlx::query_scalar("SELECT result FROM memory_jobs").fetch_all(&app.db.pool).await.unwrap();
    for r in results {
        let r: worker::JobResult = serde_json::from_str(&r).unwrap();
        assert_eq!((r.created_memory_ids.len(), r.duplicates), (1, 0), "applied once");
    }
    let passport_id: String = sqlx::query_scalar("SELECT id FROM passports WHERE email = 'busy@example.com'").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(memories::servable(&app.db, &passport_id).await.unwrap().len(), JOBS);

    // The same statement from many jobs at once, and contradicting ones, on every worker:
    // one memory and one question, however the jobs are spread.
    let mut adds = Vec::new();
    for i in 0..40 {
        let (app, c) = (&app, &c);
        let text = if i % 2 == 0 { "My name is Ada.".to_string() } else { format!("My name is Name{i}.") };
        adds.push(async move {
            let res = c.post(app, "/v1/universal/memories/add", &json!({ "messages": [{ "role": "user", "content": text }] })).await;
            assert_eq!(res.status(), 202);
        });
    }
    drain_with_extra_workers(&app, adds).await;
    assert_eq!(jobs::pending(&app.db).await.unwrap(), 0, "every job finished");
    let failed: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT status, error FROM memory_jobs WHERE status <> 'completed'").fetch_all(&app.db.pool).await.unwrap();
    assert!(failed.is_empty(), "{failed:?}");
    let names: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memories WHERE slot_key = 'name'").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(names, 1, "one name is remembered; the rest are questions or repeats");
    let questions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memory_conflicts").fetch_one(&app.db.pool).await.unwrap();
    let first_is_ada: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memories WHERE content = 'My name is Ada.'").fetch_one(&app.db.pool).await.unwrap();
    // Ada first: twenty other names; another name first: nineteen others and Ada.
    assert_eq!(questions, 20, "every other name is asked about once (Ada first: {first_is_ada})");
}

/// Sends the adds while four more workers claim from the same queue as the server's two, and
/// waits (up to 30 s) until no job is waiting.
async fn drain_with_extra_workers<F: std::future::Future<Output = ()>>(app: &TestApp, adds: Vec<F>) {
    let extra: Vec<_> = (0..4)
        .map(|_| {
            let db = app.db.clone();
            tokio::spawn(async move {
                for _ in 0..2_000 {
                    match worker::run_once(&db, memory_passport::store::jobs::CLAIM_MS).await {
                        Ok(0) => tokio::time::sleep(Duration::from_millis(2)).await,
                        Ok(_) => {}
                        // A busy database is retried, as the server's own workers do.
                        Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                    }
                }
            })
        })
        .collect();
    futures_join_all(adds).await;
    // A worker that claimed jobs and then met a busy database without releasing them leaves
    // them claimed until CLAIM_MS runs out, and then another worker takes them: that is the
    // queue's own recovery, so wait past it (30 s was shorter and left such jobs pending).
    let claim = Duration::from_millis(memory_passport::store::jobs::CLAIM_MS as u64);
    let deadline = std::time::Instant::now() + claim + Duration::from_secs(15);
    while std::time::Instant::now() < deadline {
        if jobs::pending(&app.db).await.unwrap() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    for e in extra {
        e.abort();
    }
}

async fn futures_join_all<F: std::future::Future<Output = ()>>(futures: Vec<F>) {
    // Runs them concurrently on this task, like futures::join_all.
    let mut set = Vec::new();
    for f in futures {
        set.push(Box::pin(f));
    }
    let mut pending: Vec<_> = set.into_iter().map(Some).collect();
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for slot in pending.iter_mut() {
            if let Some(f) = slot {
                if f.as_mut().poll(cx).is_ready() {
                    *slot = None;
                } else {
                    all_done = false;
                }
            }
        }
        if all_done { std::task::Poll::Ready(()) } else { std::task::Poll::Pending }
    })
    .await
}

/// Per-agent limits: a burst of twice the rate, then 429 with Retry-After.
#[tokio::test]
async fn agents_are_rate_limited_with_retry_after() {
    let app = spawn_app_with(Backend::Sqlite, |c| c.agent_rate_limit = 2).await;
    let cookie = Person::sign_in(&app, "rate@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["preference"], "read_write").await;
    let mut statuses = Vec::new();
    let mut last = None;
    for _ in 0..6 {
        let res = c.post(&app, "/v1/universal/memories/retrieve", &json!({ "query": "x" })).await;
        statuses.push(res.status().as_u16());
        last = Some(res);
    }
    assert_eq!(&statuses[..4], &[200, 200, 200, 200], "a burst of four");
    assert_eq!(statuses[5], 429);
    let res = last.unwrap();
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry));
    expect_error(res, 429, "RATE_429").await;
}

async fn the_sdks_message_fields_decide_what_is_remembered(app: TestApp) {
    let cookie = Person::sign_in(&app, "fields@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["preference", "fact"], "read_write").await;
    let messages = json!([
        { "role": "user", "content": "I love jazz.", "source_kind": "tool_output" },
        { "role": "user", "content": "I love opera.", "source_kind": "fetched_document" },
        { "role": "user", "content": "I love techno.", "source_kind": "client_assertion" },
        { "role": "assistant", "content": "I love cooking for you.", "source_kind": "assistant_output" },
        { "role": "user", "content": "I love green tea.", "source_kind": "direct_user_input", "external_turn_id": "turn-7",
          "occurred_at": "2023-05-08T13:56:00Z" },
        { "role": "user", "content": "I live in Lisbon." },
        { "role": "assistant", "content": "Noted: you prefer window seats on long flights.", "source_kind": "assistant_output",
          "is_memory_proposal": true, "proposed_memory": { "content": "you prefer window seats on long flights", "category": "preference" } },
        { "role": "assistant", "content": "And your goal is to run a marathon.", "source_kind": "assistant_output",
          "is_memory_proposal": true, "proposed_memory": { "content": "your goal is to run a marathon", "category": "goal" } }
    ]);
    let res = c.post(&app, "/v1/universal/memories/add", &json!({ "messages": messages })).await;
    assert_eq!(res.status(), 202);
    let job = res.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_string();
    let done = c.finished(&app, &job).await;
    assert_eq!(done["extraction_metadata"]["outside_grant"], 1, "the goal proposal is outside the grant: {done}");
    let rows: Vec<(String, Option<String>, Option<i64>)> =
        sqlx::query_as("SELECT content, source_turn_id, said_at FROM memories ORDER BY content").fetch_all(&app.db.pool).await.unwrap();
    let contents: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(contents, ["I live in Lisbon.", "I love green tea.", "you prefer window seats on long flights"],
        "only the person's own words and the proposal, never tool output, documents, assertions or the assistant");
    let tea = rows.iter().find(|r| r.0 == "I love green tea.").unwrap();
    assert_eq!(tea.1.as_deref(), Some("turn-7"), "the app's turn id is kept");
    assert_eq!(tea.2, Some(1_683_554_160_000), "when it was said");
    let lisbon = rows.iter().find(|r| r.0 == "I live in Lisbon.").unwrap();
    assert!(lisbon.2.is_some_and(|t| (memory_passport::store::now_ms() - t).abs() < 60_000), "unsaid: the add's arrival");

    // The same proposal again is a duplicate, like any statement.
    let again = json!([{ "role": "assistant", "content": "Noted: you prefer window seats on long flights.", "source_kind": "assistant_output",
        "is_memory_proposal": true, "proposed_memory": { "content": "you prefer window seats on long flights", "category": "preference" } }]);
    let res = c.post(&app, "/v1/universal/memories/add", &json!({ "messages": again })).await;
    let job = res.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_string();
    assert_eq!(c.finished(&app, &job).await["extraction_metadata"]["duplicates"], 1);

    // Malformed fields are 422 in the envelope, and nothing is queued.
    let jobs = app.count("memory_jobs").await;
    for bad in [
        json!({ "role": "user", "content": "x", "occurred_at": "yesterday" }),
        json!({ "role": "user", "content": "x", "source_kind": "rumour" }),
        json!({ "role": "user", "content": "x", "external_turn_id": "" }),
        json!({ "role": "user", "content": "I like it", "is_memory_proposal": true, "proposed_memory": { "content": "I like it a lot", "category": "preference" } }),
        json!({ "role": "assistant", "content": "You like tea.", "source_kind": "assistant_output", "is_memory_proposal": true,
                "proposed_memory": { "content": "You like coffee", "category": "preference" } }),
    ] {
        let res = c.post(&app, "/v1/universal/memories/add", &json!({ "messages": [bad.clone()] })).await;
        crate::common::expect_error(res, 422, "REQ_422").await;
    }
    assert_eq!(app.count("memory_jobs").await, jobs);
}

async fn a_relative_date_is_resolved_against_when_it_was_said(app: TestApp) {
    let cookie = Person::sign_in(&app, "dated@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["fact", "preference", "goal"], "read_write").await;
    let messages = json!([
        { "role": "assistant", "content": "How was your week?" },
        { "role": "user", "content": "Hey! I went to a support group yesterday. It was so powerful.", "occurred_at": "2023-05-08T13:56:00Z",
          "external_turn_id": "s3-t12" },
        { "role": "user", "content": "I'm so proud of you. Always here to help!", "occurred_at": "2023-05-08T13:57:00Z" }
    ]);
    let res = c.post(&app, "/v1/universal/memories/add", &json!({ "messages": messages })).await;
    assert_eq!(res.status(), 202);
    let job = res.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_string();
    assert_eq!(c.finished(&app, &job).await["memories_created"], 1, "encouragement is not a memory");
    let body = c.retrieve(&app, json!({ "query": "When did I go to the support group?", "limit": 3 })).await;
    assert_eq!(body["data"][0]["content"], "I went to a support group on 7 May 2023. It was so powerful.", "{body}");
    assert_eq!((body["data"][0]["happened_from"].as_str(), body["data"][0]["happened_to"].as_str()), (Some("2023-05-07"), Some("2023-05-07")));

    // The person sees the day, their own words, and the app's turn.
    let res = app.client.get(app.url("/v1/uui/me/memories")).header("Cookie", &cookie).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page = res.json::<Value>().await.unwrap();
    let m = &page["data"]["memories"][0];
    assert_eq!((m["happened_from"].as_str(), m["happened_to"].as_str()), (Some("2023-05-07"), Some("2023-05-07")), "{m}");
    assert_eq!(m["source_text"], "I went to a support group yesterday. It was so powerful.");
    assert_eq!(m["source_turn_id"], "s3-t12");
    assert_eq!(m["said_at"], "2023-05-08T13:56:00Z");
}

async fn a_message_that_told_several_things_fills_one_place_of_the_top(app: TestApp) {
    let cookie = Person::sign_in(&app, "spread@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["fact", "preference", "goal"], "read_write").await;
    // One add, two messages: the first tells three things about trail running, the second one.
    let messages = json!([
        { "role": "user", "content": "I run trails on Sundays. I run trails in Forest Park. I run trails before work." },
        { "role": "assistant", "content": "Nice." },
        { "role": "user", "content": "My knee hurts after the long trail runs on the hills near the coast." }
    ]);
    let res = c.post(&app, "/v1/universal/memories/add", &json!({ "messages": messages })).await;
    assert_eq!(res.status(), 202);
    let job = res.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_string();
    assert_eq!(c.finished(&app, &job).await["memories_created"], 4);
    let body = c.retrieve(&app, json!({ "query": "run trails", "limit": 2 })).await;
    let top: Vec<&str> = body["data"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
    assert_eq!(top.len(), 2, "{body}");
    assert!(top[0].starts_with("I run trails"), "{body}");
    assert!(top[1].starts_with("My knee"), "the second message gets the second place: {body}");
    // Asked for more, the first message's other memories follow.
    let body = c.retrieve(&app, json!({ "query": "run trails", "limit": 4 })).await;
    assert_eq!(body["data"].as_array().unwrap().len(), 4, "{body}");
}

/// The embedding model as `make test` sets it up; without it (a bare `cargo test`) the test
/// says so and passes only when the suite does not ask for the model (`MP_REQUIRE_MODEL`).
fn model_loaded(app: &TestApp) -> bool {
    let loaded = app.state.as_ref().is_some_and(|s| s.universal.embedder.is_some());
    assert!(loaded || std::env::var_os("MP_REQUIRE_MODEL").is_none(), "make test sets EMBEDDING_MODEL_DIR; the model did not load");
    if !loaded {
        eprintln!("no embedding model: skipped");
    }
    loaded
}

async fn meaning_finds_what_the_words_miss(app: TestApp) {
    if !model_loaded(&app) {
        return;
    }
    let cookie = Person::sign_in(&app, "meaning@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["fact", "preference", "goal", "relationship"], "read_write").await;
    for text in ["We adopted a puppy last week.", "I sent the quarterly invoice to my client on time.", "I finally fixed the squeaky bike brakes."] {
        let job = c.add(&app, text).await;
        assert_eq!(c.finished(&app, &job).await["memories_created"], 1, "{text}");
    }
    let vectors: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memories WHERE embedding IS NOT NULL").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(vectors, 3, "the worker embeds each memory once, as it stores it");
    // No word of the question is in the memory.
    let body = c.retrieve(&app, json!({ "query": "Do I have any pets?", "limit": 1 })).await;
    assert!(body["data"][0]["content"].as_str().unwrap().contains("puppy"), "{body}");

    // Memories made without the model (another node's worker, or before it was set up) get
    // their vectors from the backfill and are then found by meaning too.
    let passport_id: String = sqlx::query_scalar("SELECT id FROM passports WHERE email = 'meaning@example.com'").fetch_one(&app.db.pool).await.unwrap();
    let knit = memory_passport::domain::extract::extract([(memory_passport::domain::extract::Role::User, "My grandmother taught me to knit scarves.")]);
    memories::insert_many(&app.db, &passport_id, &knit).await.unwrap();
    let e = app.state.as_ref().unwrap().universal.embedder.clone().unwrap();
    while memory_passport::service::universal::worker::backfill_once(&app.db, &e).await.unwrap() > 0 {}
    let missing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM memories WHERE embedding IS NULL").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(missing, 0);
    let body = c.retrieve(&app, json!({ "query": "Who showed me how to make woolly things?", "limit": 1 })).await;
    assert!(body["data"][0]["content"].as_str().unwrap().contains("knit"), "{body}");
}

async fn concurrent_retrieves_after_a_change_load_the_memories_once(app: TestApp) {
    let cookie = Person::sign_in(&app, "flight@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["preference", "fact"], "read_write").await;
    let job = c.add(&app, "I love green tea. I live in Porto.").await;
    c.finished(&app, &job).await;
    let cache = &app.state.as_ref().expect("in-process server").universal.corpora;
    let before = cache.loads();
    let retrieves: Vec<_> = (0..20).map(|_| c.retrieve(&app, json!({ "query": "tea" }))).collect();
    let bodies = futures_join_values(retrieves).await;
    assert!(bodies.iter().all(|b| b["data"][0]["content"] == "I love green tea."), "{bodies:?}");
    assert_eq!(cache.loads() - before, 1, "twenty requests at once, one load");
}

async fn futures_join_values<F: std::future::Future<Output = Value>>(futures: Vec<F>) -> Vec<Value> {
    let out = std::sync::Mutex::new(Vec::new());
    let wrapped: Vec<_> = futures.into_iter().map(|f| async { let v = f.await; out.lock().unwrap().push(v); }).collect();
    futures_join_all(wrapped).await;
    out.into_inner().unwrap()
}

/// After the first load, every add, edit, flag, unflag and delete reaches this node's cached
/// index in place (no reload), and it answers exactly as a node that loads everything afresh.
async fn changes_reach_the_cached_index_in_place(app: TestApp) {
    let person = Person::sign_in(&app, "inplace@example.com").await;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &person.cookie, &a, &["preference", "fact", "goal", "procedure", "relationship", "expertise"], "read_write").await;
    let job = c.add(&app, "I love green tea. My sister lives in Lisbon. I'm trying to run a marathon.").await;
    c.finished(&app, &job).await;
    let cache = &app.state.as_ref().expect("in-process server").universal.corpora;
    let texts = |body: &Value| body["data"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let ask = |q: &str| json!({ "query": q, "limit": 10 });
    assert_eq!(texts(&c.retrieve(&app, ask("tea")).await)[0], "I love green tea.");
    let (loads, updates) = (cache.loads(), cache.updates());

    let job = c.add(&app, "I go surfing every Sunday.").await;
    c.finished(&app, &job).await;
    let found = texts(&c.retrieve(&app, ask("surfing")).await);
    assert!(found.iter().any(|t| t.contains("surfing")), "added: {found:?}");
    let me = person.me(&app);
    let page = me.data(reqwest::Method::GET, "/v1/uui/me/memories", None).await;
    let id_of = |text: &str| page["memories"].as_array().unwrap().iter().find(|m| m["content"] == text).unwrap_or_else(|| panic!("{text:?} in {page}"))["id"].as_str().unwrap().to_string();
    let (tea, sister, marathon) = (id_of("I love green tea."), id_of("My sister lives in Lisbon."), id_of("I'm trying to run a marathon."));
    me.data(reqwest::Method::DELETE, &format!("/v1/uui/me/memories/{tea}"), None).await;
    assert!(!texts(&c.retrieve(&app, ask("green tea")).await).iter().any(|t| t.contains("tea")), "deleted");
    me.data(reqwest::Method::POST, &format!("/v1/uui/me/memories/{sister}/flag"), Some(json!({ "flag": "outdated" }))).await;
    assert!(!texts(&c.retrieve(&app, ask("sister Lisbon")).await).iter().any(|t| t.contains("Lisbon")), "flagged");
    me.data(reqwest::Method::POST, &format!("/v1/uui/me/memories/{sister}/flag"), Some(json!({ "flag": null }))).await;
    me.data(reqwest::Method::PATCH, &format!("/v1/uui/me/memories/{marathon}"), Some(json!({ "content": "I'm training for a half marathon." }))).await;
    let here = texts(&c.retrieve(&app, ask("sister Lisbon half marathon surfing")).await);
    assert!(here.contains(&"My sister lives in Lisbon.".to_string()) && here.contains(&"I'm training for a half marathon.".to_string()), "{here:?}");
    assert!(!here.iter().any(|t| t.contains("run a marathon")), "the old wording is gone: {here:?}");
    assert_eq!(cache.loads(), loads, "no reload: every change was applied in place");
    assert!(cache.updates() >= updates + 4, "an update for each retrieve that followed a change");

    // A node that loads everything now serves the same memories (ties aside, in the same
    // order: memories said together may be numbered differently).
    let fresh = spawn_node(app.backend, Some(app.database_url.clone()), |_| {}).await;
    for q in ["sister Lisbon half marathon surfing", "tea", "What do I do for sport?", ""] {
        let (mut there, mut here) = (texts(&c.retrieve(&fresh, ask(q)).await), texts(&c.retrieve(&app, ask(q)).await));
        there.sort();
        here.sort();
        assert_eq!(there, here, "{q:?}");
    }
}

/// Without a model, nothing will ever embed a memory with its message: the message is not kept.
#[tokio::test]
async fn without_a_model_no_message_is_kept_beside_a_memory() {
    let app = spawn_app_with(Backend::Sqlite, |c| c.embedding = None).await;
    let cookie = Person::sign_in(&app, "nomodel@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["fact", "goal"], "read_write").await;
    let job = c.add(&app, "Hey! I went to a support group yesterday. Which books on grief would you suggest?").await;
    assert_eq!(c.finished(&app, &job).await["memories_created"], 1);
    let kept: Vec<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT embedding, embedding_context FROM memories").fetch_all(&app.db.pool).await.unwrap();
    assert_eq!(kept, vec![(None, None)]);
}

/// `mixed`, the server's default mode, on both databases (other tests run the table alone).
/// A vector as the store keeps it: base64 of its quantised bytes.
fn stored_vector(b64: &str) -> memory_passport::domain::dense::Quantized {
    let bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD_NO_PAD, b64).unwrap();
    memory_passport::domain::dense::Quantized::from_bytes(&bytes, memory_passport::embed::DIM).unwrap()
}

/// What the transformer makes of `text`, to compare with a stored vector.
fn transformer_vector(full: &memory_passport::embed::Embedder, text: &str) -> memory_passport::domain::dense::Quantized {
    memory_passport::domain::dense::Quantized::new(&full.embed(&[text]).unwrap()[0])
}

mod mixed_mode {
    #[tokio::test]
    async fn sqlite() {
        super::a_new_memory_is_served_at_once_and_its_vector_upgraded_in_the_background(crate::common::Backend::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        if crate::common::postgres_admin_url().is_some() {
            super::a_new_memory_is_served_at_once_and_its_vector_upgraded_in_the_background(crate::common::Backend::Postgres).await
        }
    }
}

/// A new memory gets the distilled table's vector with it, so it is found at once; the
/// background then replaces that vector with the transformer's, made from the memory and the
/// message it came from, and drops the message.
async fn a_new_memory_is_served_at_once_and_its_vector_upgraded_in_the_background(backend: Backend) {
    use memory_passport::embed::{self, Mode, FULL_ID, STATIC_ID};
    let Some((dir, _)) = embed::from_env() else {
        assert!(std::env::var_os("MP_REQUIRE_MODEL").is_none(), "make test sets EMBEDDING_MODEL_DIR");
        return eprintln!("no embedding model: skipped");
    };
    let app = spawn_app_with(backend, |c| c.embedding = Some((dir.clone(), Mode::Mixed))).await;
    let cookie = Person::sign_in(&app, "mixed@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["fact", "preference", "goal", "relationship"], "read_write").await;
    let before = "How have you been holding up since the funeral?";
    let message = "Hey! I went to a support group yesterday. Which books on grief would you suggest?";
    let res = c
        .post(
            &app,
            "/v1/universal/memories/add",
            &json!({ "messages": [
                { "role": "assistant", "content": before },
                { "role": "user", "content": message, "occurred_at": "2023-05-08T13:56:00Z" },
            ] }),
        )
        .await;
    assert_eq!(res.status(), 202);
    let job = res.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_string();
    assert_eq!(c.finished(&app, &job).await["memories_created"], 1);
    let row = || async {
        sqlx::query_as::<_, (String, Option<String>, Option<String>, Option<String>, Option<String>, Option<String>)>(
            "SELECT content, embedding, embedding_model, embedding_context, turn_embedding, turn_before FROM memories",
        )
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
    };
    let (content, _, model, context, turn, kept_before) = row().await;
    assert_eq!(content, "I went to a support group on 7 May 2023.");
    assert!(turn.is_some(), "the turn, read after the assistant's question, has its own vector at once");
    // Unless the background was quicker than this read, the table's vectors with the message
    // and the turn before.
    match model.as_deref() {
        Some(STATIC_ID) => assert_eq!((context.as_deref(), kept_before.as_deref()), (Some(message), Some(before))),
        Some(FULL_ID) => assert_eq!((context, kept_before), (None, None)),
        other => panic!("a new memory has a vector at once: {other:?}"),
    }
    let body = c.retrieve(&app, json!({ "query": "When did I go to the support group?", "limit": 1 })).await;
    assert_eq!(body["data"][0]["content"], content, "{body}");
    let cache = &app.state.as_ref().expect("in-process server").universal.corpora;
    let loads = cache.loads();

    let mut upgraded = None;
    for _ in 0..600 {
        let (_, vector, model, context, turn, kept_before) = row().await;
        if model.as_deref() == Some(FULL_ID) {
            assert_eq!((context, kept_before), (None, None), "the message and the turn before are dropped with the upgrade");
            upgraded = vector.zip(turn);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (stored, stored_turn) = upgraded.expect("the background gave the memory the transformer's vectors within a minute");
    let (stored, stored_turn) = (stored_vector(&stored), stored_vector(&stored_turn));
    let full = embed::shared(&dir, Mode::Full).unwrap();
    let vector = |text: &str| transformer_vector(&full, text);
    let (with_message, alone) = (stored.dot(&vector(&format!("{content}\n{message}"))), stored.dot(&vector(&content)));
    assert!(with_message > 0.99 && with_message > alone + 0.02, "read with its message: {with_message:.3}, alone {alone:.3}");
    let (after_question, message_alone) = (stored_turn.dot(&vector(&format!("{before}\n{message}"))), stored_turn.dot(&vector(message)));
    assert!(after_question > 0.99 && after_question > message_alone + 0.02, "the turn after its question: {after_question:.3}, alone {message_alone:.3}");
    let body = c.retrieve(&app, json!({ "query": "When did I go to the support group?", "limit": 1 })).await;
    assert_eq!(body["data"][0]["content"], content, "{body}");
    // The new vector took the old one's place in this node's cached index, without a reload.
    assert_eq!(cache.loads(), loads, "no reload for a new vector");
    let passport_id: String = sqlx::query_scalar("SELECT id FROM passports WHERE email = 'mixed@example.com'").fetch_one(&app.db.pool).await.unwrap();
    {
        let shared = cache.get(&app.db, &passport_id, 0, Some(FULL_ID)).await.unwrap();
        let corpus = shared.read().unwrap();
        assert_eq!((corpus.removed(), corpus.memories.len()), (0, 1), "nothing taken out, nothing added");
    }

    // The person's next message to the same app, minutes later, is read after what they told
    // it just before: its second vector holds the support group.
    let next = "I'm going back next Tuesday.";
    let res = c
        .post(&app, "/v1/universal/memories/add", &json!({ "messages": [{ "role": "user", "content": next, "occurred_at": "2023-05-08T14:05:00Z" }] }))
        .await;
    let job = res.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_string();
    assert_eq!(c.finished(&app, &job).await["memories_created"], 1);
    let mut turn = None;
    for _ in 0..600 {
        let (model, vector): (Option<String>, Option<String>) =
            sqlx::query_as("SELECT embedding_model, turn_embedding FROM memories WHERE content LIKE 'I''m going back%'").fetch_one(&app.db.pool).await.unwrap();
        if model.as_deref() == Some(FULL_ID) {
            turn = vector;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let turn = stored_vector(&turn.expect("the next memory's turn has a vector, read after the one before"));
    let (after_earlier, alone) = (turn.dot(&vector(&format!("{content}\n{next}"))), turn.dot(&vector(next)));
    assert!(after_earlier > 0.99 && after_earlier > alone + 0.02, "after what was said before: {after_earlier:.3}, alone {alone:.3}");
}

mod a_burst {
    #[tokio::test]
    async fn sqlite() {
        super::a_burst_of_messages_is_read_in_the_order_it_came(crate::common::Backend::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        if crate::common::postgres_admin_url().is_some() {
            super::a_burst_of_messages_is_read_in_the_order_it_came(crate::common::Backend::Postgres).await
        }
    }
}

mod a_burst_within_a_grant {
    #[tokio::test]
    async fn sqlite() {
        super::a_burst_hands_on_only_what_the_grant_keeps(crate::common::Backend::Sqlite).await
    }
    #[tokio::test]
    async fn postgres() {
        if crate::common::postgres_admin_url().is_some() {
            super::a_burst_hands_on_only_what_the_grant_keeps(crate::common::Backend::Postgres).await
        }
    }
}

/// What a message of a burst hands on to the next, for its reading in context, is what the
/// grant lets the app keep of it, as when the message before is read from the store: a
/// statement outside the grant never reaches the next memory's kept text.
async fn a_burst_hands_on_only_what_the_grant_keeps(backend: Backend) {
    use memory_passport::embed::{self, Mode};
    let Some((dir, _)) = embed::from_env() else {
        assert!(std::env::var_os("MP_REQUIRE_MODEL").is_none(), "make test sets EMBEDDING_MODEL_DIR");
        return eprintln!("no embedding model: skipped");
    };
    let app = spawn_app_with(backend, |c| {
        c.embedding = Some((dir.clone(), Mode::Mixed));
        c.job_workers = 0;
    })
    .await;
    let cookie = Person::sign_in(&app, "grant-burst@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["preference"], "read_write").await;
    let said = ["I work at Acme Robotics. I love hiking in the Alps.", "I love dark chocolate too."];
    let mut job_ids = Vec::new();
    for (i, text) in said.iter().enumerate() {
        let res = c
            .post(&app, "/v1/universal/memories/add", &json!({ "messages": [{ "role": "user", "content": text, "occurred_at": format!("2023-05-08T14:0{i}:00Z") }] }))
            .await;
        assert_eq!(res.status(), 202);
        job_ids.push(res.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_string());
    }
    let embedder = app.state.as_ref().expect("in-process server").universal.embedder.clone().expect("a model");
    assert_eq!(worker::run_once_with(&app.db, Some(&embedder), jobs::CLAIM_MS).await.unwrap(), 2, "one batch");
    let first = c.finished(&app, &job_ids[0]).await;
    assert_eq!(first["extraction_metadata"]["outside_grant"], 1, "where they work is a fact: {first}");
    // Before the background's upgrade, the later memory keeps what it was read after.
    let before: Option<String> = sqlx::query_scalar("SELECT turn_before FROM memories WHERE content LIKE '%chocolate%'")
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    let before = before.expect("the second message is read after the first");
    assert!(before.contains("hiking in the Alps"), "{before}");
    assert!(!before.contains("Acme"), "a statement outside the grant was handed on: {before}");
}

/// Messages a person sends in a burst are worked in one batch, committed together; each is
/// still read after the memories of the one before it (in the batch, not yet in the store),
/// and while one claim works on a person's jobs no other claim takes the rest of them.
async fn a_burst_of_messages_is_read_in_the_order_it_came(backend: Backend) {
    use memory_passport::embed::{self, Mode, FULL_ID};
    let Some((dir, _)) = embed::from_env() else {
        assert!(std::env::var_os("MP_REQUIRE_MODEL").is_none(), "make test sets EMBEDDING_MODEL_DIR");
        return eprintln!("no embedding model: skipped");
    };
    // No workers of the server's own: the test claims.
    let app = spawn_app_with(backend, |c| {
        c.embedding = Some((dir.clone(), Mode::Mixed));
        c.job_workers = 0;
    })
    .await;
    let cookie = Person::sign_in(&app, "burst@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["fact", "preference", "goal", "relationship", "procedure", "expertise"], "read_write").await;
    let said = ["I adopted a beagle mix named Biscuit on Saturday.", "He snores like an old man.", "He already learned to sit."];
    let mut job_ids = Vec::new();
    for (i, text) in said.iter().enumerate() {
        let res = c
            .post(&app, "/v1/universal/memories/add", &json!({ "messages": [{ "role": "user", "content": text, "occurred_at": format!("2023-05-08T14:0{i}:00Z") }] }))
            .await;
        assert_eq!(res.status(), 202);
        job_ids.push(res.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_string());
    }

    // A claim on the person's first job leaves the other two to it.
    let first = jobs::claim(&app.db, 1, jobs::CLAIM_MS).await.unwrap();
    assert_eq!(first.iter().map(|j| &j.id).collect::<Vec<_>>(), [&job_ids[0]], "the oldest job first");
    assert!(jobs::claim(&app.db, 10, jobs::CLAIM_MS).await.unwrap().is_empty(), "the person's other jobs wait for the first");
    // Its claim given up, one batch takes all three, in the order they came.
    jobs::retry_after(&app.db, &first[0], -1).await.unwrap();
    let embedder = app.state.as_ref().expect("in-process server").universal.embedder.clone().expect("a model");
    assert_eq!(worker::run_once_with(&app.db, Some(&embedder), jobs::CLAIM_MS).await.unwrap(), 3, "one batch");
    for job in &job_ids {
        let done = c.finished(&app, job).await;
        assert_eq!(done["memories_created"], 1, "{done}");
    }

    // With the transformer's vectors (the background's work, done here in its place), each
    // later message's turn vector reads the memory of the message before it.
    while worker::backfill_once(&app.db, &embedder).await.unwrap() > 0 {}
    let mut rows: Vec<(String, Option<String>)> = Vec::new();
    for _ in 0..600 {
        rows = sqlx::query_as::<_, (String, Option<String>, Option<String>)>(
            "SELECT content, embedding_model, turn_embedding FROM memories ORDER BY said_at",
        )
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
        .into_iter()
        .filter(|(_, model, _)| model.as_deref() == Some(FULL_ID))
        .map(|(content, _, turn)| (content, turn))
        .collect();
        if rows.len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(rows.len(), 3, "every memory has the transformer's vectors");
    let full = embed::shared(&dir, Mode::Full).unwrap();
    let vector = |text: &str| transformer_vector(&full, text);
    assert!(rows[0].1.is_none(), "the first message has nothing before it");
    for i in 1..3 {
        let turn = stored_vector(rows[i].1.as_deref().unwrap_or_else(|| panic!("message {i} was read after the one before: {rows:?}")));
        let (after, alone) = (turn.dot(&vector(&format!("{}\n{}", rows[i - 1].0, said[i]))), turn.dot(&vector(said[i])));
        assert!(after > 0.99 && after > alone + 0.02, "message {i} after the one before: {after:.3}, alone {alone:.3}");
    }
}
