//! The OpenAPI document against the real server. schemathesis (from PyPI; the test command
//! makes tests/fuzz/.venv and sets MP_SCHEMATHESIS) generates requests from the document for
//! every `/v1` operation, with real credentials for each kind of caller, and checks every
//! answer: no 5xx, a documented status and content type, a body that fits its schema.
use crate::common::{connect, spawn_app, AgentCreds, Backend, Person, TestApp};
use serde_json::Value;
use std::collections::BTreeMap;

/// Every operation of `/v1`, by hand: a route that goes missing from the document fails here.
const OPERATIONS: [&str; 22] = [
    "DELETE /v1/agents/global/{id}",
    "DELETE /v1/uui/me",
    "DELETE /v1/uui/me/grants/{id}",
    "DELETE /v1/uui/me/memories/{id}",
    "GET /v1/agents/global",
    "GET /v1/agents/global/{id}",
    "GET /v1/universal/memories/jobs/{job_id}",
    "GET /v1/uui/me/export",
    "GET /v1/uui/me/grants",
    "GET /v1/uui/me/memories",
    "GET /v1/uui/me/memories/{id}/versions",
    "GET /v1/uui/me/questions",
    "PATCH /v1/agents/global/{id}",
    "PATCH /v1/uui/me/grants/{id}",
    "PATCH /v1/uui/me/memories/{id}",
    "POST /v1/agents/global",
    "POST /v1/agents/global/{id}/rotate-secret",
    "POST /v1/universal/memories/add",
    "POST /v1/universal/memories/retrieve",
    "POST /v1/universal/token",
    "POST /v1/uui/me/memories/{id}/flag",
    "POST /v1/uui/me/questions/{id}",
];

fn operations(doc: &Value) -> Vec<String> {
    let mut ops: Vec<String> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| item.as_object().unwrap().keys().map(move |m| format!("{} {path}", m.to_uppercase())))
        .collect();
    ops.sort();
    ops
}

#[tokio::test]
async fn the_document_describes_every_route_and_the_docs_page_renders_it() {
    let app: TestApp = spawn_app(Backend::Sqlite).await;
    let res = app.get("/v1/openapi.json", None).await;
    assert_eq!(res.status(), 200);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(operations(&doc), OPERATIONS);

    // Each documented operation is routed: an unauthenticated call gets its own answer (never
    // the 405 of an undocumented method, nor a 5xx).
    for op in OPERATIONS {
        let (method, path) = op.split_once(' ').unwrap();
        let url = format!("{}{}", app.base, path.replace("{id}", "x").replace("{job_id}", "x"));
        let res = app.client.request(method.parse().unwrap(), url).header("origin", &app.base).send().await.unwrap();
        assert!(res.status() != 405 && res.status().as_u16() < 500, "{op}: {}", res.status());
    }

    let html = app.get("/docs/api", None).await.text().await.unwrap();
    for op in OPERATIONS {
        let (method, path) = op.split_once(' ').unwrap();
        assert!(html.contains(&format!(">{method}<")), "{method} on the page");
        assert!(html.contains(path), "{path} on the page");
    }
    assert!(html.contains("X-MemoryOS-UUI header"));
}

fn schemathesis() -> Option<String> {
    crate::common::installed_tool("MP_SCHEMATHESIS", "MP_REQUIRE_SCHEMATHESIS", "schemathesis")
}

/// What one schemathesis run sent and got, read from its HAR report.
#[derive(Default)]
struct Tally {
    requests: usize,
    server_errors: Vec<String>,
    by_status: BTreeMap<u16, usize>,
}

/// One schemathesis run: the operations it selects and the credentials it sends.
struct Run {
    name: &'static str,
    args: Vec<String>,
}

impl Run {
    fn new(name: &'static str, select: &[&str], max_examples: u32, headers: &[String]) -> Run {
        let mut args: Vec<String> = select.iter().map(|a| a.to_string()).collect();
        args.extend(["--max-examples".to_string(), max_examples.to_string()]);
        args.extend(headers.iter().flat_map(|h| ["-H".to_string(), h.clone()]));
        Run { name, args }
    }
}

async fn run_schemathesis(bin: &str, app: &TestApp, run: Run, tally: &mut Tally) {
    let dir = app.dir.path().join(format!("schemathesis-{}", run.name));
    std::fs::create_dir_all(&dir).unwrap();
    let har = dir.join("run.har");
    let mut args = vec![
        "run".to_string(),
        format!("{}/v1/openapi.json", app.base),
        "--checks".into(),
        "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance"
            .into(),
        "--phases".into(),
        "examples,coverage,fuzzing,stateful".into(),
        "--seed".into(),
        "20261130".into(),
        // One worker: CPython 3.11's parser is not safe for schemathesis's threaded generation
        // ("AST constructor recursion depth mismatch", seen once with two).
        "--workers".into(),
        "1".into(),
        "--report".into(),
        "har".into(),
        format!("--report-har-path={}", har.display()),
        "--no-color".into(),
    ];
    args.extend(run.args);
    let bin = bin.to_string();
    let cwd = dir.clone();
    let out = tokio::task::spawn_blocking(move || std::process::Command::new(bin).args(&args).current_dir(cwd).output().unwrap())
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "schemathesis run '{}' failed:\n{stdout}\n{}", run.name, String::from_utf8_lossy(&out.stderr));
    // schemathesis's own summary (phases, failures, warnings) for the record.
    let summary = stdout.lines().skip_while(|l| !l.starts_with("API Operations")).collect::<Vec<_>>().join("\n");
    println!("schemathesis '{}':\n{summary}", run.name);
    let har: Value = serde_json::from_slice(&std::fs::read(&har).unwrap()).unwrap();
    let entries = har["log"]["entries"].as_array().unwrap();
    assert!(!entries.is_empty(), "schemathesis run '{}' sent nothing", run.name);
    println!("schemathesis '{}': {} requests", run.name, entries.len());
    for entry in entries {
        let status = entry["response"]["status"].as_u64().unwrap() as u16;
        let method = entry["request"]["method"].as_str().unwrap();
        let url = entry["request"]["url"].as_str().unwrap();
        let path = url.trim_start_matches(&app.base).split('?').next().unwrap().to_string();
        tally.requests += 1;
        *tally.by_status.entry(status).or_default() += 1;
        if status >= 500 {
            tally.server_errors.push(format!("{status} {method} {path}"));
        }
    }
}

#[tokio::test]
async fn schemathesis_on_sqlite() {
    if let Some(bin) = schemathesis() {
        finds_no_server_error_and_no_answer_outside_the_schema(&bin, spawn_app(Backend::Sqlite).await).await;
    }
}

#[tokio::test]
async fn schemathesis_on_postgres() {
    if let (Some(bin), Some(_)) = (schemathesis(), crate::common::postgres_admin_url()) {
        finds_no_server_error_and_no_answer_outside_the_schema(&bin, spawn_app(Backend::Postgres).await).await;
    }
}

async fn finds_no_server_error_and_no_answer_outside_the_schema(bin: &str, app: TestApp) {
    // Real callers of each kind, and some memories and a question so the person's API has data.
    let cookie = Person::sign_in(&app, "fuzz@example.com").await.cookie;
    let writer = AgentCreds::create(&app, &[], "read_write").await;
    let conn = connect(&app, &cookie, &writer, &["preference", "fact", "goal", "procedure", "relationship", "expertise"], "read_write").await;
    for text in ["My name is Ada.", "I prefer dark mode in every editor.", "I'm trying to learn Rust.", "My name is Grace."] {
        let job = conn.add(&app, text).await;
        conn.finished(&app, &job).await;
    }
    let tenant = app.tenant("fuzz").await;
    let second_tenant = app.tenant("fuzz-2").await;
    let agent_headers = [format!("Authorization: ApiKey {}", conn.secret), format!("X-MemoryOS-UUI: {}", conn.token)];
    let person_headers = [format!("Cookie: {cookie}"), format!("Origin: {}", app.base)];

    let mut tally = Tally::default();
    let runs = [
        Run::new("universal", &["--include-tag", "universal"], 150, &agent_headers),
        Run::new("me", &["--include-tag", "me", "--exclude-path", "/v1/uui/me"], 60, &person_headers),
        // Two tenants, so that each stays under the 300 calls a minute a tenant may make and the
        // generated requests reach the handlers rather than the rate limit.
        Run::new("agents-collection", &["--include-path-regex", "^/v1/agents/global$"], 40, &[format!("Authorization: ApiKey {}", tenant.api_key)]),
        Run::new("agents-one", &["--include-path-regex", "^/v1/agents/global/"], 40, &[format!("Authorization: ApiKey {}", second_tenant.api_key)]),
        // Last: this deletes the whole Passport.
        Run::new("delete", &["--include-path-regex", "^/v1/uui/me$"], 30, &person_headers),
    ];
    for run in runs {
        run_schemathesis(bin, &app, run, &mut tally).await;
    }
    println!("schemathesis in all ({:?}): {} requests; by status {:?}", app.backend, tally.requests, tally.by_status);
    assert!(tally.server_errors.is_empty(), "5xx answers: {:?}", tally.server_errors);
    assert!(tally.requests >= 2_000, "only {} requests were generated", tally.requests);
    // Authenticated requests reached the handlers.
    assert!(tally.by_status.get(&200).copied().unwrap_or(0) > 100, "{:?}", tally.by_status);
    assert!(tally.by_status.get(&202).copied().unwrap_or(0) > 0, "adds were accepted: {:?}", tally.by_status);
}
