//! The app under test: `spawn_app` starts the real server on a random loopback port, on a
//! fresh SQLite file or a fresh PostgreSQL database, and `TestApp` drives it over HTTP. Also the
//! small HTTP and database helpers every kind of test needs.
use memory_passport::config::Config;
use memory_passport::server;
use memory_passport::service;
use memory_passport::store::accounts::AccountKind;
use memory_passport::store::Db;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub backend: Backend,
    pub client: reqwest::Client,
    /// The test's folder: the SQLite file (on SQLite) and the mail outbox.
    pub dir: tempfile::TempDir,
    pub database_url: String,
    /// The server's own state (its caches), for tests of what one node keeps in memory; None
    /// for a server binary run as its own process.
    pub state: Option<server::AppState>,
}

/// PostgreSQL is part of every test run (`MP_TEST_POSTGRES_URL`, set by the test command);
/// when `MP_REQUIRE_POSTGRES` is set its absence is a failure, not a skip.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("MP_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("MP_REQUIRE_POSTGRES").is_err(),
                "MP_REQUIRE_POSTGRES is set but MP_TEST_POSTGRES_URL is not"
            );
            None
        }
    }
}

pub async fn fresh_postgres_database(admin_url: &str) -> String {
    use sqlx::{Connection, Executor};
    sqlx::any::install_default_drivers();
    let name = format!("mp_t_{}", uuid_simple());
    let mut conn = sqlx::AnyConnection::connect(admin_url).await.expect("connect to PostgreSQL");
    conn.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create test database");
    let (base, _) = admin_url.rsplit_once('/').expect("admin url has a database path");
    format!("{base}/{name}")
}

fn uuid_simple() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// `spawn_app` with a change to the configuration (e.g. an SMTP server).
pub async fn spawn_app_with(backend: Backend, customize: impl FnOnce(&mut Config)) -> TestApp {
    spawn_node(backend, None, customize).await
}

/// A server on `database_url` (another node of an existing app), or on a fresh database.
pub async fn spawn_node(backend: Backend, database_url: Option<String>, customize: impl FnOnce(&mut Config)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = match (database_url, backend) {
        (Some(url), _) => url,
        (None, Backend::Sqlite) => format!("sqlite://{}/passport.db", dir.path().display()),
        (None, Backend::Postgres) => fresh_postgres_database(&postgres_admin_url().expect("PostgreSQL not configured")).await,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    let outbox: PathBuf = dir.path().join("outbox");
    let mut config = Config {
        database_url,
        site_addr: addr,
        public_url: format!("http://{addr}"),
        smtp_url: None,
        mail_outbox_dir: outbox,
        mail_from: "Memory Passport <no-reply@localhost>".into(),
        secret_key: Some(memory_passport::config::Redacted("test key: at least thirty-two characters".into())),
        secret_key_file: PathBuf::from("unused"),
        trusted_proxies: vec![],
        site_root: "target/site".into(),
        hash_files: false,
        agent_rate_limit: 1000,
        job_workers: 2,
        job_claim_secs: 60,
        metrics_token: None,
        oauth_metadata_allow_loopback: false,
        // The model when the set-up fetched it (make test does), as a deployment would find it.
        embedding: memory_passport::embed::from_env(),
    };
    customize(&mut config);
    let config_url = config.database_url.clone();
    let (router, state) = server::build(config).await.expect("server builds");
    tokio::spawn(async move {
        axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>()).await.unwrap();
    });
    // No request of a test waits for ever: a hang fails with the address that hung.
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(90))
        .build()
        .unwrap();
    TestApp { base: format!("http://{addr}"), db: state.db.clone(), backend, client, dir, database_url: config_url, state: Some(state) }
}

pub struct Tenant {
    pub email: String,
    pub password: String,
    pub api_key: String,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A tenant with one API key, made the way `memory-passport tenant create/api-key` does.
    pub async fn tenant(&self, name: &str) -> Tenant {
        let email = format!("{name}-{}@example.com", uuid_simple());
        let password = format!("pw-{}-long-enough", uuid_simple());
        let account = service::accounts::register(&self.db, AccountKind::Tenant, &email, &password).await.unwrap();
        let (_, api_key) = service::api_keys::create(&self.db, &account.id, "test key").await.unwrap();
        Tenant { email, password, api_key }
    }

    pub async fn post_json(&self, path: &str, key: Option<&str>, body: &Value) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(k) = key {
            req = req.header("Authorization", format!("ApiKey {k}"));
        }
        req.send().await.unwrap()
    }

    pub async fn get(&self, path: &str, key: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(self.url(path));
        if let Some(k) = key {
            req = req.header("Authorization", format!("ApiKey {k}"));
        }
        req.send().await.unwrap()
    }

    /// The number of rows in `table` (a name the test writes, never input).
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&self.db.pool).await.unwrap()
    }

    /// Posts a server function's form from our own origin (as the hydrated page does).
    pub async fn server_fn(&self, endpoint: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> reqwest::Response {
        let mut req = self.client.post(self.url(&format!("/api/{endpoint}"))).header("Origin", &self.base).form(form);
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        req.send().await.unwrap()
    }

    /// Posts a server function's JSON body from our own origin.
    pub async fn server_fn_json(&self, endpoint: &str, cookie: Option<&str>, body: &Value) -> reqwest::Response {
        let mut req = self.client.post(self.url(&format!("/api/{endpoint}"))).header("Origin", &self.base).json(body);
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        req.send().await.unwrap()
    }

    /// Creates an agent through the API and returns the `data` object.
    pub async fn create_agent(&self, key: &str, name: &str) -> Value {
        let res = self.post_json("/v1/agents/global", Some(key), &guide_body(name)).await;
        assert_eq!(res.status(), 201, "create agent");
        res.json::<Value>().await.unwrap()["data"].clone()
    }
}

/// The body of the guide's curl example.
pub fn guide_body(name: &str) -> Value {
    serde_json::json!({
        "name": name,
        "description": "Customer support agent with access to approved user context.",
        "website_url": "https://yourapp.com",
        "logo_url": "https://yourapp.com/logo.png",
        "default_categories_requested": ["preference", "fact", "goal"],
        "redirect_uri": ""
    })
}

/// Asserts the error envelope and returns it.
pub async fn expect_error(res: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(res.status().as_u16(), status, "status");
    let header_id = res.headers().get("x-request-id").map(|v| v.to_str().unwrap().to_string());
    let body: Value = res.json().await.expect("error body is JSON");
    assert_eq!(body["code"], code, "code in {body}");
    assert!(body["error"].as_str().is_some_and(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_lowercase() || c == '_')), "{body}");
    assert!(body.get("details").is_some(), "details present in {body}");
    assert_eq!(body["request_id"].as_str(), header_id.as_deref(), "request id matches header");
    body
}

// ---------------------------------------------------------------------------------------------
// Answers: cookies and headers
// ---------------------------------------------------------------------------------------------

/// The `name=value` pair of the cookie `name` that a response sets, if it sets one.
pub fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

/// The value of a `name=value` pair.
pub fn value_of(pair: &str) -> &str {
    pair.split_once('=').unwrap().1
}

/// The seconds of a response's `Retry-After`.
pub fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"].to_str().unwrap().parse().unwrap()
}

/// `s` as one URL path segment.
pub fn seg(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The endpoint (after `/api/`) of a server function registered without an explicit name.
pub fn server_fn_endpoint(name: &str) -> String {
    leptos::server_fn::axum::server_fn_paths()
        .filter_map(|(p, _)| p.strip_prefix("/api/").map(str::to_string))
        .find(|p| p.rsplit('/').next().is_some_and(|last| last.starts_with(name)))
        .unwrap_or_else(|| panic!("no server function {name}"))
}

// ---------------------------------------------------------------------------------------------
// The database
// ---------------------------------------------------------------------------------------------

/// How many live or dead sessions are stored for the raw token `value` (by its hash).
pub async fn sessions_for(app: &TestApp, value: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE token_hash = $1")
        .bind(memory_passport::auth::secrets::hash(value))
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

/// Forgets every rate-limit counter, so that the next probe reaches validation instead of
/// the limit (the limits themselves are tested on their own).
pub async fn forget_limits(app: &TestApp) {
    sqlx::query("DELETE FROM rate_limits").execute(&app.db.pool).await.unwrap();
}

/// An outside tool the test command installs (a venv's Python, schemathesis): the path in
/// `var` when it exists. Without it the test says so and is skipped, unless `require_var` is
/// set (as `make test` sets it), which makes its absence a failure.
pub fn installed_tool(var: &str, require_var: &str, what: &str) -> Option<String> {
    let path = std::env::var(var).ok().filter(|p| std::path::Path::new(p).exists());
    if path.is_none() {
        assert!(std::env::var(require_var).is_err(), "{require_var} is set but {var} is not {what}");
        eprintln!("skipping the {what} test: set {var} (make test does)");
    }
    path
}

/// Tenant rows every database starts with: the one apps that registered themselves over OAuth
/// are filed under (migration 0012), which can never sign in.
pub const RESERVED_TENANTS: i64 = 1;

/// Every table of the schema.
pub const TABLES: &[&str] = &[
    "agent_status_events", "api_keys", "exchange_codes", "global_agents", "grant_events", "grants", "memories",
    "memory_conflicts", "memory_jobs", "memory_removals", "memory_uses", "memory_versions", "oauth_clients", "oauth_tokens", "operators",
    "otp_codes", "passports", "rate_limits", "sessions", "tenants", "uui_tokens",
];

/// The names of the tables in the database now.
pub async fn table_names(app: &TestApp) -> Vec<String> {
    let sql = match app.backend {
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        Backend::Postgres => "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    };
    sqlx::query_scalar(sql).fetch_all(&app.db.pool).await.unwrap()
}

/// Rows in every table of the schema; fails if any is gone.
pub async fn row_counts(app: &TestApp) -> std::collections::BTreeMap<&'static str, i64> {
    let mut out = std::collections::BTreeMap::new();
    for table in TABLES {
        let n = sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&app.db.pool)
            .await
            .unwrap_or_else(|e| panic!("table {table} is unusable: {e}"));
        out.insert(*table, n);
    }
    out
}
