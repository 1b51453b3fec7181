//! SQL-shaped input in every text field (`docs/security-matrix.md`, row 10): SQL syntax, LIKE
//! wildcards, an escape character, NUL, unicode and 10,000 characters in sign-up, sign-in and
//! codes, agent fields, consent answers and the code exchange, the agent API and the person's
//! API. Also the weakness these tests found and that is fixed: NUL reaching PostgreSQL. Each
//! test runs on SQLite and on PostgreSQL.
use crate::common::{
    add_body, call, code_of, connect, exchange, forget_limits, guide_body, me, query, request_code, row_counts, seg, server_fn_endpoint,
    set_cookie, table_names, AgentCreds, Person, TestApp, REDIRECT,
};
use crate::on_both_backends;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;

on_both_backends!(
    sql_shaped_text_in_sign_up_sign_in_and_codes,
    sql_shaped_text_in_agent_fields,
    sql_shaped_text_in_consent_answers_and_code_exchange,
    sql_shaped_text_in_the_agent_api,
    sql_shaped_text_in_the_persons_api,
    nul_in_search_and_token_redirect_is_not_a_server_error,
);

/// The payload table: SQL syntax, LIKE wildcards, an escape character, NUL, unicode (with a
/// right-to-left override), and 10,000 characters.
fn payloads() -> Vec<(&'static str, String)> {
    vec![
        ("drop", "'; DROP TABLE memories; --".into()),
        ("or", "\" OR 1=1 --".into()),
        ("union", "x' UNION SELECT token_hash FROM sessions --".into()),
        ("percent", "%".into()),
        ("underscore", "_".into()),
        ("backslash", "\\".into()),
        ("nul", "nul \u{0} byte'); --".into()),
        ("unicode", "Zoë 🦀 名前 \u{202e}txt.exe\u{202c} ﷽".into()),
        ("long", "x".repeat(10_000)),
    ]
}

fn has_nul(p: &str) -> bool {
    p.contains('\u{0}')
}

fn chars(p: &str) -> usize {
    p.chars().count()
}

/// Asserts one probe's status and prints it for the record.
fn expect_status(what: &str, label: &str, got: u16, want: u16) {
    println!("sql-shaped {what} [{label}] -> {got}");
    assert!(got < 500, "{what} [{label}]: server error {got}");
    assert_eq!(got, want, "{what} [{label}]");
}

/// Attack: SQL-shaped text in tenant sign-up and sign-in (email, password) and in the
/// Passport's send-code and verify-code (email, code).
/// Outcome: payload emails are 422 (not addresses); passwords of 10–256 characters are
/// accepted, including NUL (hashed, never stored) and work at sign-in byte for byte, others 422;
/// addresses made of SQL characters and LIKE wildcards are stored and shown verbatim and a
/// wildcard address signs in to nothing; every code payload is 422 and does not count as a
/// guess (the right code still works). No 5xx; every table is intact.
async fn sql_shaped_text_in_sign_up_sign_in_and_codes(app: TestApp) {
    let tables = table_names(&app).await;
    let mut tenants = crate::common::RESERVED_TENANTS;
    for (label, p) in payloads() {
        forget_limits(&app).await;
        let res = app.server_fn("tenant/sign_up", None, &[("email", &p), ("password", "a long enough password")]).await;
        expect_status("sign_up email", label, res.status().as_u16(), 422);
        let res = app.server_fn("tenant/sign_in", None, &[("email", &p), ("password", "a long enough password")]).await;
        expect_status("sign_in email", label, res.status().as_u16(), 422);

        let email = format!("pw-{label}@example.com");
        let ok = (10..=256).contains(&chars(&p));
        let res = app.server_fn("tenant/sign_up", None, &[("email", &email), ("password", &p)]).await;
        expect_status("sign_up password", label, res.status().as_u16(), if ok { 200 } else { 422 });
        if ok {
            tenants += 1;
            let res = app.server_fn("tenant/sign_in", None, &[("email", &email), ("password", &p)]).await;
            expect_status("sign_in password (right)", label, res.status().as_u16(), 200);
            let wrong = format!("{p}!");
            let res = app.server_fn("tenant/sign_in", None, &[("email", &email), ("password", &wrong)]).await;
            expect_status("sign_in password (one more character)", label, res.status().as_u16(), 401);
        } else {
            let res = app.server_fn("tenant/sign_in", None, &[("email", &email), ("password", &p)]).await;
            expect_status("sign_in password (no account)", label, res.status().as_u16(), 401);
        }
    }
    // Addresses made of SQL characters and wildcards are just addresses.
    forget_limits(&app).await;
    for email in ["robert');drop_table_tenants;--@example.com", "\"or'1'='1\"--@example.com", "100%_\\@example.com"] {
        let res = app.server_fn("tenant/sign_up", None, &[("email", email), ("password", "a long enough password")]).await;
        expect_status("sign_up sql-ish address", email, res.status().as_u16(), 200);
        tenants += 1;
        let cookie = set_cookie(&res, "mp_tenant").unwrap();
        let shown: Value = app.server_fn("tenant/session", Some(&cookie), &[]).await.json().await.unwrap();
        assert_eq!(shown["email"], email, "stored and shown verbatim");
        let res = app.server_fn("tenant/sign_in", None, &[("email", email), ("password", "a long enough password")]).await;
        expect_status("sign_in sql-ish address", email, res.status().as_u16(), 200);
    }
    for wildcard in ["%@example.com", "_@example.com", "%_%@%.%"] {
        let res = app.server_fn("tenant/sign_in", None, &[("email", wildcard), ("password", "a long enough password")]).await;
        expect_status("sign_in wildcard address", wildcard, res.status().as_u16(), 401);
    }

    // The Passport's email and code.
    forget_limits(&app).await;
    let email = "codes-sql@example.com";
    let code = request_code(&app, email, None).await;
    for (label, p) in payloads() {
        let res = app.server_fn("passport/send_code", None, &[("email", &p)]).await;
        expect_status("send_code email", label, res.status().as_u16(), 422);
        let res = app.server_fn("passport/verify_code", None, &[("email", &p), ("code", &code)]).await;
        expect_status("verify_code email", label, res.status().as_u16(), 422);
        let res = app.server_fn("passport/verify_code", None, &[("email", email), ("code", &p)]).await;
        expect_status("verify_code code", label, res.status().as_u16(), 422);
    }
    let res = app.server_fn("passport/verify_code", None, &[("email", email), ("code", &code)]).await;
    assert_eq!(res.status(), 200, "malformed codes were not counted as guesses");

    assert_eq!(table_names(&app).await, tables, "every table is still there");
    let counts = row_counts(&app).await;
    assert_eq!(counts["tenants"], tenants);
    assert_eq!(counts["passports"], 1);
}

/// Attack: SQL-shaped text in every string of an agent, created and updated through the REST
/// API and through the dashboard's server functions.
/// Outcome: name and description take every payload that fits (name ≤ 80, description ≤ 1000
/// characters) and return it verbatim in the tenant's list and the public profile; NUL and
/// over-long text are 422; URLs, categories, redirect URIs and access take no payload (422);
/// a URL with SQL characters in its path is kept verbatim. No 5xx; only the accepted agents
/// exist; every table is intact.
async fn sql_shaped_text_in_agent_fields(app: TestApp) {
    let tables = table_names(&app).await;
    let t = app.tenant("sql-agents").await;
    let auth = format!("ApiKey {}", t.api_key);
    let base = app.create_agent(&t.api_key, "Base").await;
    let base_id = base["id"].as_str().unwrap().to_string();
    let mut created = 1;
    let text_ok = |field: &str, p: &str| {
        let max = if field == "name" { 80 } else { 1000 };
        !has_nul(p) && chars(p) <= max
    };
    for (label, p) in payloads() {
        forget_limits(&app).await;
        for field in ["name", "description"] {
            let ok = text_ok(field, &p);
            let mut body = guide_body("SQL");
            body[field] = json!(p);
            let res = app.post_json("/v1/agents/global", Some(&t.api_key), &body).await;
            expect_status(&format!("POST /v1/agents/global {field}"), label, res.status().as_u16(), if ok { 201 } else { 422 });
            if ok {
                created += 1;
                let id = res.json::<Value>().await.unwrap()["data"]["id"].as_str().unwrap().to_string();
                let public: Value = app.get(&format!("/v1/agents/global/{id}"), None).await.json().await.unwrap();
                assert_eq!(public["data"][field], json!(p), "{field} [{label}] round-trips");
            }
            let res = app.client.patch(app.url(&format!("/v1/agents/global/{base_id}"))).header("Authorization", &auth).json(&json!({ field: p })).send().await.unwrap();
            expect_status(&format!("PATCH /v1/agents/global {field}"), label, res.status().as_u16(), if ok { 200 } else { 422 });
            if ok {
                let list: Value = app.get("/v1/agents/global", Some(&t.api_key)).await.json().await.unwrap();
                let mine = list["data"].as_array().unwrap().iter().find(|a| a["id"] == base_id.as_str()).unwrap().clone();
                assert_eq!(mine[field], json!(p), "{field} [{label}] updated verbatim");
            }
        }
        for (field, value) in [
            ("website_url", json!(p)),
            ("logo_url", json!(p)),
            ("default_categories_requested", json!([p])),
            ("redirect_uri", json!(p)),
            ("redirect_uris", json!([p])),
            ("requested_access", json!(p)),
        ] {
            let mut body = guide_body("SQL");
            body[field] = value.clone();
            let res = app.post_json("/v1/agents/global", Some(&t.api_key), &body).await;
            expect_status(&format!("POST /v1/agents/global {field}"), label, res.status().as_u16(), 422);
            let res = app.client.patch(app.url(&format!("/v1/agents/global/{base_id}"))).header("Authorization", &auth).json(&json!({ field: value })).send().await.unwrap();
            expect_status(&format!("PATCH /v1/agents/global {field}"), label, res.status().as_u16(), 422);
        }
        // Ids in the path.
        let res = app.client.patch(app.url(&format!("/v1/agents/global/{}", seg(&p)))).header("Authorization", &auth).json(&json!({ "name": "x" })).send().await.unwrap();
        expect_status("PATCH /v1/agents/global/{id}", label, res.status().as_u16(), 404);
        expect_status("GET /v1/agents/global/{id}", label, app.get(&format!("/v1/agents/global/{}", seg(&p)), None).await.status().as_u16(), 404);
    }
    let url = "https://a.example/x'%3B--?q=1%27%20OR%201=1";
    let mut body = guide_body("URL");
    body["website_url"] = json!(url);
    body["redirect_uri"] = json!(url);
    let res = app.post_json("/v1/agents/global", Some(&t.api_key), &body).await;
    expect_status("POST /v1/agents/global URL with SQL in its path", "url", res.status().as_u16(), 201);
    created += 1;
    let data = res.json::<Value>().await.unwrap()["data"].clone();
    assert_eq!((data["website_url"].clone(), data["redirect_uris"].clone()), (json!(url), json!([url])));

    // The dashboard's server functions, with the tenant's session.
    forget_limits(&app).await;
    let res = app.server_fn("tenant/sign_in", None, &[("email", t.email.as_str()), ("password", t.password.as_str())]).await;
    let cookie = set_cookie(&res, "mp_tenant").unwrap();
    let (create, update) = (server_fn_endpoint("create_agent"), server_fn_endpoint("update_agent"));
    let draft = |name: &str, description: &str| {
        json!({ "name": name, "description": description, "website_url": "", "logo_url": "", "default_categories": [], "redirect_uris": [], "access_type": "" })
    };
    for (label, p) in payloads() {
        let ok = text_ok("name", &p);
        let res = app.server_fn_json(&create, Some(&cookie), &json!({ "draft": draft(&p, &p) })).await;
        expect_status("create_agent name+description", label, res.status().as_u16(), if ok { 200 } else { 422 });
        if ok {
            created += 1;
            let made: Value = res.json().await.unwrap();
            assert_eq!((made["agent"]["name"].clone(), made["agent"]["description"].clone()), (json!(p), json!(p)));
        }
        let ok = text_ok("description", &p);
        let res = app.server_fn_json(&update, Some(&cookie), &json!({ "id": base_id, "draft": draft("Base", &p) })).await;
        expect_status("update_agent description", label, res.status().as_u16(), if ok { 200 } else { 422 });
        let res = app.server_fn_json(&update, Some(&cookie), &json!({ "id": p, "draft": draft("Base", "d") })).await;
        expect_status("update_agent id", label, res.status().as_u16(), 404);
    }

    assert_eq!(table_names(&app).await, tables, "every table is still there");
    let counts = row_counts(&app).await;
    assert_eq!(counts["global_agents"], created, "only the accepted agents exist");
    assert_eq!(counts["tenants"], 1 + crate::common::RESERVED_TENANTS);
}

/// Attack: SQL-shaped text in a consent answer (state, link_token, redirect_uri, categories,
/// agent_id) and in the code exchange (code, redirect_uri, code_verifier).
/// Outcome: state and link_token take every payload up to 512 characters without control
/// characters and hand it back verbatim (state in the redirect, link_token from the code
/// exchange); NUL and 10,000 characters are 422; a payload redirect URI or category is 422, a
/// payload agent id 404. At the exchange a payload code or verifier is 400 `TOK_400` and a
/// payload redirect URI with a well-formed code is 400 too. No 5xx; one grant; every table
/// is intact.
async fn sql_shaped_text_in_consent_answers_and_code_exchange(app: TestApp) {
    let tables = table_names(&app).await;
    let AgentCreds { id: agent_id, secret } = AgentCreds::create(&app, &[REDIRECT], "read_only").await;
    let cookie = Person::sign_in(&app, "consent-sql@example.com").await.cookie;
    let answer = || json!({ "agent_id": agent_id, "state": "s", "redirect_uri": REDIRECT, "categories": ["fact"], "duration": "30_days" });
    let link_ok = |p: &str| !has_nul(p) && chars(p) <= 512;
    let mut codes = 0;
    for (label, p) in payloads() {
        let mut a = answer();
        a["state"] = json!(p);
        let res = call(&app, "consent/approve", Some(&cookie), &a).await;
        expect_status("approve state", label, res.status().as_u16(), if link_ok(&p) { 200 } else { 422 });
        if link_ok(&p) {
            codes += 1;
            let location = res.json::<Value>().await.unwrap()["location"].as_str().unwrap().to_string();
            assert!(location.starts_with(REDIRECT), "{location}");
            assert_eq!(query(&location, "state").unwrap_or_default(), p, "state [{label}] round-trips");
        }
        let res = call(&app, "consent/deny", Some(&cookie), &a).await;
        expect_status("deny state", label, res.status().as_u16(), if link_ok(&p) { 200 } else { 422 });

        let mut a = answer();
        a["link_token"] = json!(p);
        let res = call(&app, "consent/approve", Some(&cookie), &a).await;
        expect_status("approve link_token", label, res.status().as_u16(), if link_ok(&p) { 200 } else { 422 });
        if link_ok(&p) {
            codes += 1;
            let code = query(res.json::<Value>().await.unwrap()["location"].as_str().unwrap(), "code").unwrap();
            let res = exchange(&app, &secret, &code, REDIRECT, None).await;
            assert_eq!(res.status(), 200);
            assert_eq!(res.json::<Value>().await.unwrap()["data"]["link_token"], json!(p), "link_token [{label}] round-trips");
        }

        for (field, value, want) in [("redirect_uri", json!(p), 422), ("categories", json!([p]), 422), ("agent_id", json!(p), 404)] {
            let mut a = answer();
            a[field] = value;
            let res = call(&app, "consent/approve", Some(&cookie), &a).await;
            expect_status(&format!("approve {field}"), label, res.status().as_u16(), want);
        }

        // The code exchange.
        let res = exchange(&app, &secret, &p, REDIRECT, None).await;
        expect_status("token code", label, res.status().as_u16(), 400);
        let well_formed = format!("mpc_{}", "A".repeat(43));
        let res = exchange(&app, &secret, &well_formed, &p, None).await;
        expect_status("token redirect_uri", label, res.status().as_u16(), 400);
        let res = exchange(&app, &secret, &well_formed, REDIRECT, Some(&p)).await;
        expect_status("token code_verifier", label, res.status().as_u16(), 400);
    }
    assert_eq!(table_names(&app).await, tables, "every table is still there");
    let counts = row_counts(&app).await;
    assert_eq!(counts["grants"], 1, "one grant per person and agent");
    assert_eq!(counts["exchange_codes"], codes);
}

/// Attack: SQL-shaped text in the agent API: add (message content, role, idempotency_key,
/// metadata) and retrieve (query, format).
/// Outcome: content takes every payload without NUL (202; NUL is 422) and the job completes;
/// a payload role or format is 422; an idempotency key takes every payload up to 255
/// characters without NUL and the same key gives the same job while `%` and `_` never match
/// other keys; metadata takes every payload as a JSON value up to 8 KiB; a retrieve query takes
/// every payload up to 4,000 characters (NUL included: it is never sent to the database) and
/// answers 200. No 5xx; every table is intact.
async fn sql_shaped_text_in_the_agent_api(app: TestApp) {
    let tables = table_names(&app).await;
    let cookie = Person::sign_in(&app, "agent-sql@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["preference", "fact", "goal", "procedure", "relationship", "expertise"], "read_write").await;
    let seed = c.add(&app, "I prefer tea.").await;
    assert_eq!(c.finished(&app, &seed).await["memories_created"], 1);
    let mut jobs = vec![seed];
    let mut keyed: BTreeMap<String, String> = BTreeMap::new();
    for (label, p) in payloads() {
        let ok = !has_nul(&p);
        let res = c.post(&app, "/v1/universal/memories/add", &add_body(&format!("I prefer {p}."))).await;
        expect_status("add content", label, res.status().as_u16(), if ok { 202 } else { 422 });
        if ok {
            jobs.push(res.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_string());
        }
        let res = c.post(&app, "/v1/universal/memories/add", &json!({ "messages": [{ "role": p, "content": "I prefer tea." }] })).await;
        expect_status("add role", label, res.status().as_u16(), 422);

        let ok = !has_nul(&p) && chars(&p) <= 255;
        let body = json!({ "messages": [{ "role": "user", "content": "I prefer green tea." }], "idempotency_key": p });
        let res = c.post(&app, "/v1/universal/memories/add", &body).await;
        expect_status("add idempotency_key", label, res.status().as_u16(), if ok { 202 } else { 422 });
        if ok {
            let job = res.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_string();
            let again: Value = c.post(&app, "/v1/universal/memories/add", &body).await.json().await.unwrap();
            assert_eq!(again["job_id"], json!(job), "same key [{label}], same job");
            assert!(!keyed.values().any(|j| *j == job), "key [{label}] matched another key's job");
            keyed.insert(p.clone(), job.clone());
            jobs.push(job);
        }

        let metadata = json!({ "note": p, p.clone(): [p] });
        let ok = metadata.to_string().len() <= 8 * 1024;
        let res = c.post(&app, "/v1/universal/memories/add", &json!({ "messages": [{ "role": "user", "content": "I prefer tea." }], "metadata": metadata })).await;
        expect_status("add metadata", label, res.status().as_u16(), if ok { 202 } else { 422 });
        if ok {
            jobs.push(res.json::<Value>().await.unwrap()["job_id"].as_str().unwrap().to_string());
        }

        let ok = chars(&p) <= 4_000;
        let res = c.post(&app, "/v1/universal/memories/retrieve", &json!({ "query": p })).await;
        expect_status("retrieve query", label, res.status().as_u16(), if ok { 200 } else { 422 });
        let res = c.post(&app, "/v1/universal/memories/retrieve", &json!({ "query": "tea", "format": p })).await;
        expect_status("retrieve format", label, res.status().as_u16(), 422);
        let res = c.get(&app, &format!("/v1/universal/memories/jobs/{}", seg(&p))).await;
        expect_status("job id", label, res.status().as_u16(), 404);
    }
    for job in &jobs {
        assert_eq!(c.finished(&app, job).await["status"], "completed", "job {job}");
    }
    let body = c.retrieve(&app, json!({ "query": "tea", "limit": 50 })).await;
    assert!(body["data"].as_array().unwrap().iter().any(|m| m["content"] == "I prefer tea."));
    assert_eq!(table_names(&app).await, tables, "every table is still there");
    let counts = row_counts(&app).await;
    assert_eq!(counts["memory_jobs"], jobs.len() as i64, "one job per accepted add");
    assert!(counts["memories"] >= 1);
}

/// Attack: SQL-shaped text in the person's own API: the memory list's `q`, `category` and
/// `agent_id`, a correction's content, a flag, a question's answer, a grant change, and every
/// id in a path.
/// Outcome: `q` is searched literally (`%`, `_` and `\` match only themselves) and answers 200
/// with no hits; a payload `category` is 422; a payload `agent_id` is ignored (200, every
/// memory); a correction takes every payload without NUL up to 1,000 characters and the agent
/// then retrieves it verbatim (NUL and longer are 422); payload flags, answers, grant categories,
/// access and durations are 422; payload ids are 404. No 5xx; rows as expected; every table
/// is intact.
async fn sql_shaped_text_in_the_persons_api(app: TestApp) {
    let tables = table_names(&app).await;
    let cookie = Person::sign_in(&app, "me-sql@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["preference", "fact"], "read_write").await;
    for text in ["I prefer tea. I live in Lisbon. My name is Ada.", "My name is Grace."] {
        let job = c.add(&app, text).await;
        assert_eq!(c.finished(&app, &job).await["status"], "completed");
    }
    let page: Value = me(&app, &cookie, Method::GET, "/v1/uui/me/memories", None).await.json().await.unwrap();
    assert_eq!(page["data"]["total"], 3);
    let tea = page["data"]["memories"].as_array().unwrap().iter().find(|m| m["content"] == "I prefer tea.").unwrap()["id"].as_str().unwrap().to_string();
    let questions: Value = me(&app, &cookie, Method::GET, "/v1/uui/me/questions", None).await.json().await.unwrap();
    let question = questions["data"][0]["id"].as_str().expect("a question about the name").to_string();
    let list = |params: Vec<(&'static str, String)>| {
        let (app, cookie) = (&app, &cookie);
        async move {
            app.client.get(app.url("/v1/uui/me/memories")).header("Cookie", cookie).query(&params).send().await.unwrap()
        }
    };
    let mut corrections = 0;
    for (label, p) in payloads() {
        // The list's filters (control characters in a search are refused: no memory has one).
        {
            let res = list(vec![("q", p.clone())]).await;
            let ok = chars(&p) <= 200 && !p.chars().any(char::is_control);
            expect_status("memories q", label, res.status().as_u16(), if ok { 200 } else { 422 });
            if ok {
                assert_eq!(res.json::<Value>().await.unwrap()["data"]["total"], 0, "q [{label}] is literal text");
            }
        }
        expect_status("memories category", label, list(vec![("category", p.clone())]).await.status().as_u16(), 422);
        let res = list(vec![("agent_id", p.clone())]).await;
        expect_status("memories agent_id", label, res.status().as_u16(), 200);
        assert_eq!(res.json::<Value>().await.unwrap()["data"]["total"], 3, "a payload agent_id filters nothing out and matches nothing extra");

        // A flag, an answer and a grant change.
        let res = me(&app, &cookie, Method::POST, &format!("/v1/uui/me/memories/{tea}/flag"), Some(json!({ "flag": p }))).await;
        expect_status("flag", label, res.status().as_u16(), 422);
        let res = me(&app, &cookie, Method::POST, &format!("/v1/uui/me/questions/{question}"), Some(json!({ "answer": p }))).await;
        expect_status("answer", label, res.status().as_u16(), 422);
        let grant_path = format!("/v1/uui/me/grants/{}", c.grant_id);
        for change in [
            json!({ "categories": [p], "access": "read_only", "duration": "30_days" }),
            json!({ "categories": ["fact"], "access": p, "duration": "30_days" }),
            json!({ "categories": ["fact"], "access": "read_only", "duration": p }),
        ] {
            let res = me(&app, &cookie, Method::PATCH, &grant_path, Some(change)).await;
            expect_status("grant change", label, res.status().as_u16(), 422);
        }

        // Ids in paths.
        let id = seg(&p);
        for (method, path, body) in [
            (Method::PATCH, format!("/v1/uui/me/memories/{id}"), Some(json!({ "content": "x" }))),
            (Method::POST, format!("/v1/uui/me/memories/{id}/flag"), Some(json!({ "flag": "outdated" }))),
            (Method::GET, format!("/v1/uui/me/memories/{id}/versions"), None),
            (Method::DELETE, format!("/v1/uui/me/memories/{id}"), None),
            (Method::POST, format!("/v1/uui/me/questions/{id}"), Some(json!({ "answer": "A" }))),
            (Method::PATCH, format!("/v1/uui/me/grants/{id}"), Some(json!({ "categories": ["fact"], "access": "read_only", "duration": "30_days" }))),
            (Method::DELETE, format!("/v1/uui/me/grants/{id}"), None),
        ] {
            let res = me(&app, &cookie, method.clone(), &path, body).await;
            expect_status(&format!("{method} {}", path.split(&id).next().unwrap()), label, res.status().as_u16(), 404);
        }

        // A correction, last: it is stored and served verbatim.
        let ok = !has_nul(&p) && chars(&p) <= 1000;
        let res = me(&app, &cookie, Method::PATCH, &format!("/v1/uui/me/memories/{tea}"), Some(json!({ "content": p }))).await;
        expect_status("correct content", label, res.status().as_u16(), if ok { 200 } else { 422 });
        if ok {
            corrections += 1;
            let served = c.retrieve(&app, json!({ "query": "", "limit": 50 })).await;
            assert!(served["data"].as_array().unwrap().iter().any(|m| m["content"] == json!(p)), "correction [{label}] served verbatim");
            let found: Value = list(vec![("q", p.clone())]).await.json().await.unwrap();
            assert_eq!(found["data"]["total"], 1, "q [{label}] finds exactly the memory that holds it");
            // Put the original words back so the next q probes have nothing to match.
            let res = me(&app, &cookie, Method::PATCH, &format!("/v1/uui/me/memories/{tea}"), Some(json!({ "content": "I prefer tea." }))).await;
            assert_eq!(res.status(), 200);
            corrections += 1;
        }
    }
    assert_eq!(table_names(&app).await, tables, "every table is still there");
    let counts = row_counts(&app).await;
    assert_eq!(counts["memories"], 3, "nothing was added or deleted");
    assert_eq!(counts["memory_versions"], corrections, "one version per accepted correction");
    assert_eq!(counts["memory_conflicts"], 1);
    assert_eq!(counts["grants"], 1);
}

/// NUL in two text parameters that used to reach SQL: the person's memory search `q` and the
/// code exchange's `redirect_uri` (with a code of the right shape). PostgreSQL refuses NUL in
/// a text parameter, so both answered 500 there; now they are refused first (422, 400).
async fn nul_in_search_and_token_redirect_is_not_a_server_error(app: TestApp) {
    let cookie = Person::sign_in(&app, "nul@example.com").await.cookie;
    let AgentCreds { id: agent_id, secret } = AgentCreds::create(&app, &[REDIRECT], "read_only").await;
    let mut answers = Vec::new();
    let res = app.client.get(app.url("/v1/uui/me/memories?q=a%00b")).header("Cookie", &cookie).send().await.unwrap();
    answers.push(("GET /v1/uui/me/memories?q=a%00b", res.status().as_u16()));
    let answer = json!({ "agent_id": agent_id, "state": "s", "redirect_uri": REDIRECT, "categories": ["fact"], "duration": "30_days" });
    let code = code_of(call(&app, "consent/approve", Some(&cookie), &answer).await).await;
    let res = exchange(&app, &secret, &code, &format!("{REDIRECT}\u{0}"), None).await;
    answers.push(("POST /v1/universal/token, a real code, redirect_uri with NUL", res.status().as_u16()));
    let res = exchange(&app, &secret, &format!("mpc_{}", "A".repeat(43)), "\u{0}", None).await;
    answers.push(("POST /v1/universal/token, a made-up code, redirect_uri NUL", res.status().as_u16()));
    println!("{answers:?}");
    let statuses: Vec<u16> = answers.iter().map(|(_, status)| *status).collect();
    assert_eq!(statuses, [422, 400, 400], "{answers:?}");
}
