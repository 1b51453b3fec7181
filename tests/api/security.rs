//! The first round of the security matrix, the rows that other modules do not already prove
//! (see `docs/security-matrix.md` for the whole table): session fixation, open redirects, sign-in
//! code flooding and guessing across spellings and addresses, tenant password guessing across
//! accounts, credentials replayed after rotation, revocation, retirement and deletion,
//! malformed and oversized server-function bodies, SQL-shaped text in every text field, and a
//! copy of the database. Each test runs on SQLite and on PostgreSQL, except the https cookie
//! test (a configuration, SQLite only). The three weaknesses these tests found (500 for malformed
//! server-function bodies, NUL reaching PostgreSQL, the consent page decoding its query twice)
//! are fixed; their tests are at the end.
use crate::common::{decode_quoted_printable, expect_error, guide_body, spawn_app_with, Backend, TestApp};
use crate::consent_exchange::{agent, call, exchange, person, query, REDIRECT};
use crate::manage::Me;
use crate::on_both_backends;
use crate::universal::{connect, Connected};
use memory_passport::auth::secrets;
use memory_passport::service::limits;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::Duration;

on_both_backends!(
    planted_passport_cookie_is_never_adopted_and_sign_out_ends_the_session,
    planted_tenant_cookie_is_never_adopted_and_sign_out_ends_the_session,
    session_tokens_do_not_cross_account_kinds,
    consent_links_never_redirect_to_an_unregistered_uri,
    pages_take_no_redirect_parameter,
    html_form_posts_only_return_to_our_own_pages,
    code_sends_from_one_client_are_capped,
    code_sends_to_one_address_are_capped_whatever_its_spelling,
    code_lock_out_holds_across_spellings_and_ends_the_code,
    code_guessing_across_addresses_is_capped_per_client,
    password_guessing_across_accounts_and_spellings_is_capped,
    rotated_secret_and_dead_tokens_and_codes_are_refused,
    oversized_server_function_bodies_are_413,
    malformed_server_function_bodies_change_nothing,
    sql_shaped_text_in_sign_up_sign_in_and_codes,
    sql_shaped_text_in_agent_fields,
    sql_shaped_text_in_consent_answers_and_code_exchange,
    sql_shaped_text_in_the_agent_api,
    sql_shaped_text_in_the_persons_api,
    a_database_copy_gives_no_working_credential,
    malformed_server_function_bodies_are_not_server_errors,
    nul_in_search_and_token_redirect_is_not_a_server_error,
    a_registered_uri_with_a_percent_escape_opens_the_consent_page,
);

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Every mail in the outbox now, oldest first (no waiting).
fn outbox(app: &TestApp) -> Vec<String> {
    let dir = app.dir.path().join("outbox");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "eml")).collect())
        .unwrap_or_default();
    files.sort();
    files.iter().map(|f| decode_quoted_printable(&std::fs::read_to_string(f).unwrap())).collect()
}

/// True if `mail` is addressed to exactly `email`.
fn is_to(mail: &str, email: &str) -> bool {
    mail.lines().any(|l| l.trim_end() == format!("To: {email}"))
}

/// The codes mailed to `email` so far, oldest first.
fn codes_to(app: &TestApp, email: &str) -> Vec<String> {
    outbox(app)
        .iter()
        .filter(|m| is_to(m, email) && m.contains("is your Memory Passport code"))
        .map(|m| {
            let subject = m.lines().find(|l| l.starts_with("Subject: ")).unwrap();
            subject["Subject: ".len()..].chars().take(6).collect()
        })
        .collect()
}

/// Asks for a sign-in code for `email` (with `cookie`, as a browser holding it would) and
/// returns the code from the new mail.
async fn request_code(app: &TestApp, email: &str, cookie: Option<&str>) -> String {
    let before = codes_to(app, email).len();
    let res = app.server_fn("passport/send_code", cookie, &[("email", email)]).await;
    assert_eq!(res.status(), 200, "send_code {email}");
    for _ in 0..200 {
        let codes = codes_to(app, email);
        if codes.len() > before {
            return codes.last().unwrap().clone();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no code arrived for {email}");
}

/// Waits until the outbox holds `n` mails, then a little longer, and returns how many it holds.
async fn settled_mail_count(app: &TestApp, n: usize) -> usize {
    for _ in 0..200 {
        if outbox(app).len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    outbox(app).len()
}

/// The `name=value` pair of the cookie `name` that a response sets, if it sets one.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap().to_string())
}

fn value_of(pair: &str) -> &str {
    pair.split_once('=').unwrap().1
}

fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"].to_str().unwrap().parse().unwrap()
}

/// How many live or dead sessions are stored for the raw token `value` (by its hash).
async fn sessions_for(app: &TestApp, value: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE token_hash = $1").bind(secrets::hash(value)).fetch_one(&app.db.pool).await.unwrap()
}

/// The endpoint (after `/api/`) of a server function registered without an explicit name.
fn server_fn_endpoint(name: &str) -> String {
    leptos::server_fn::axum::server_fn_paths()
        .filter_map(|(p, _)| p.strip_prefix("/api/").map(str::to_string))
        .find(|p| p.rsplit('/').next().is_some_and(|last| last.starts_with(name)))
        .unwrap_or_else(|| panic!("no server function {name}"))
}

/// A call to the person's own API with their session cookie, from our own origin.
async fn me(app: &TestApp, cookie: &str, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
    Me { app, cookie: cookie.to_string() }.call(method, path, body).await
}

/// Forgets every rate-limit counter, so that the next probe reaches validation instead of
/// the limit (the limits themselves are tested above).
async fn forget_limits(app: &TestApp) {
    sqlx::query("DELETE FROM rate_limits").execute(&app.db.pool).await.unwrap();
}

/// `s` as one URL path segment.
fn seg(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// ---------------------------------------------------------------------------------------------
// Session fixation
// ---------------------------------------------------------------------------------------------

/// Attack: session fixation on the Passport session. An attacker plants a `mp_passport` value
/// of their choosing (an unknown value, or their own valid session) in the victim's browser
/// before the victim signs in with an emailed code.
/// Outcome: the server ignores the planted value, sets a new random session, the planted value
/// never names the victim, and signing out deletes the session server side so a replayed
/// cookie is refused by every surface.
async fn planted_passport_cookie_is_never_adopted_and_sign_out_ends_the_session(app: TestApp) {
    let victim = "victim@example.com";
    let chosen = "attacker-chosen-session-value-0123456789abcdefgh";
    let planted = format!("mp_passport={chosen}");

    let code = request_code(&app, victim, Some(&planted)).await;
    let res = app.server_fn("passport/verify_code", Some(&planted), &[("email", victim), ("code", &code)]).await;
    assert_eq!(res.status(), 200);
    let fresh = set_cookie(&res, "mp_passport").expect("a new session cookie is set");
    assert_ne!(value_of(&fresh), chosen, "the planted value is not adopted");
    assert!(secrets::looks_like(value_of(&fresh), ""), "a fresh 256-bit random token: {fresh}");
    assert_eq!(sessions_for(&app, chosen).await, 0, "no session was stored under the planted value");
    let who = |cookie: String| {
        let app = &app;
        async move { app.server_fn("passport/session", Some(&cookie), &[]).await.text().await.unwrap() }
    };
    assert_eq!(who(planted.clone()).await, "null", "the planted value signs nobody in");
    assert_eq!(who(fresh.clone()).await, format!("\"{victim}\""));

    // The attacker plants their own valid session: the victim still gets a session of their
    // own, and the attacker's session still names only the attacker.
    let attackers = person(&app, "attacker@example.com").await;
    let code = request_code(&app, victim, Some(&attackers)).await;
    let res = app.server_fn("passport/verify_code", Some(&attackers), &[("email", victim), ("code", &code)]).await;
    assert_eq!(res.status(), 200);
    let second = set_cookie(&res, "mp_passport").unwrap();
    assert_ne!(second, attackers);
    assert_eq!(who(attackers.clone()).await, "\"attacker@example.com\"", "the attacker's session is not upgraded to the victim");
    assert_eq!(who(second.clone()).await, format!("\"{victim}\""));

    // Signing out ends the session on the server: a replayed cookie opens nothing.
    let out = app.server_fn("passport/sign_out", Some(&fresh), &[]).await;
    assert_eq!(out.status(), 200);
    let cleared = out.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cleared.starts_with("mp_passport=;") && cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(sessions_for(&app, value_of(&fresh)).await, 0, "deleted server side");
    assert_eq!(who(fresh.clone()).await, "null");
    expect_error(me(&app, &fresh, Method::GET, "/v1/uui/me/grants", None).await, 401, "AUTH_401").await;
    let (agent_id, _) = agent(&app, &[], "read_only").await;
    let answer = json!({ "agent_id": agent_id, "state": "s", "redirect_uri": "", "categories": ["fact"], "duration": "30_days" });
    assert_eq!(call(&app, "consent/approve", Some(&fresh), &answer).await.status(), 401, "a replayed cookie cannot consent");
    // The victim's other session is untouched.
    assert_eq!(who(second).await, format!("\"{victim}\""));
}

/// Attack: session fixation on the tenant dashboard session (`mp_tenant`), with an unknown
/// planted value and with the attacker's own valid session, at sign-in and at sign-up.
/// Outcome: every sign-in and sign-up issues a new random token; planted values never
/// authenticate as the victim; sign-out deletes the session server side and a replay of the
/// old cookie is refused (401 from the dashboard's server functions).
async fn planted_tenant_cookie_is_never_adopted_and_sign_out_ends_the_session(app: TestApp) {
    let victim = app.tenant("victim").await;
    let chosen = "attacker-chosen-session-value-0123456789abcdefgh";
    let planted = format!("mp_tenant={chosen}");
    let sign_in = |cookie: Option<String>, email: String, password: String| {
        let app = &app;
        async move { app.server_fn("tenant/sign_in", cookie.as_deref(), &[("email", email.as_str()), ("password", password.as_str())]).await }
    };
    let session_email = |cookie: String| {
        let app = &app;
        async move { app.server_fn("tenant/session", Some(&cookie), &[]).await.json::<Value>().await.unwrap()["email"].clone() }
    };
    let list_agents = server_fn_endpoint("list_agents");

    let res = sign_in(Some(planted.clone()), victim.email.clone(), victim.password.clone()).await;
    assert_eq!(res.status(), 200);
    let fresh = set_cookie(&res, "mp_tenant").expect("a new session cookie is set");
    assert_ne!(value_of(&fresh), chosen);
    assert!(secrets::looks_like(value_of(&fresh), ""));
    assert_eq!(sessions_for(&app, chosen).await, 0);
    assert_eq!(session_email(planted.clone()).await, Value::Null, "the planted value signs nobody in");
    assert_eq!(app.server_fn(&list_agents, Some(&planted), &[]).await.status(), 401);
    assert_eq!(session_email(fresh.clone()).await, json!(victim.email));

    // The attacker's own valid session planted before the victim signs in.
    let attacker = app.tenant("attacker").await;
    let res = sign_in(None, attacker.email.clone(), attacker.password.clone()).await;
    let attackers = set_cookie(&res, "mp_tenant").unwrap();
    let res = sign_in(Some(attackers.clone()), victim.email.clone(), victim.password.clone()).await;
    let second = set_cookie(&res, "mp_tenant").unwrap();
    assert_ne!(second, attackers);
    assert_eq!(session_email(attackers.clone()).await, json!(attacker.email), "not upgraded to the victim");
    assert_eq!(session_email(second.clone()).await, json!(victim.email));

    // Sign-up with a planted cookie also starts a fresh session.
    let res = app.server_fn("tenant/sign_up", Some(&planted), &[("email", "newcomer@example.com"), ("password", "a long enough password")]).await;
    assert_eq!(res.status(), 200);
    let signed_up = set_cookie(&res, "mp_tenant").unwrap();
    assert_ne!(value_of(&signed_up), chosen);
    assert_eq!(session_email(planted.clone()).await, Value::Null);
    assert_eq!(session_email(signed_up).await, json!("newcomer@example.com"));

    // Sign-out deletes the session server side; the old cookie is refused afterwards.
    let out = app.server_fn("tenant/sign_out", Some(&fresh), &[]).await;
    assert_eq!(out.status(), 200);
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
    assert_eq!(sessions_for(&app, value_of(&fresh)).await, 0);
    assert_eq!(session_email(fresh.clone()).await, Value::Null);
    assert_eq!(app.server_fn(&list_agents, Some(&fresh), &[]).await.status(), 401, "a replayed cookie is refused");
    assert_eq!(app.server_fn(&list_agents, Some(&second), &[]).await.status(), 200, "other sessions live on");
}

/// Attack: using one kind of session as another (a person's Passport session in the tenant
/// cookie, a tenant session in the Passport cookie, either one as an agent credential).
/// Outcome: sessions are looked up by kind; each is refused everywhere but its own surface.
async fn session_tokens_do_not_cross_account_kinds(app: TestApp) {
    let passport = person(&app, "kinds@example.com").await;
    let t = app.tenant("kinds").await;
    let res = app.server_fn("tenant/sign_in", None, &[("email", t.email.as_str()), ("password", t.password.as_str())]).await;
    let tenant = set_cookie(&res, "mp_tenant").unwrap();
    let (p, tn) = (value_of(&passport).to_string(), value_of(&tenant).to_string());

    let as_tenant = format!("mp_tenant={p}");
    assert_eq!(app.server_fn("tenant/session", Some(&as_tenant), &[]).await.text().await.unwrap(), "null");
    assert_eq!(app.server_fn(&server_fn_endpoint("list_agents"), Some(&as_tenant), &[]).await.status(), 401);
    let as_operator = format!("mp_operator={tn}");
    assert_eq!(app.server_fn(&server_fn_endpoint("review_queue"), Some(&as_operator), &[]).await.status(), 401);
    let as_person = format!("mp_passport={tn}");
    assert_eq!(app.server_fn("passport/session", Some(&as_person), &[]).await.text().await.unwrap(), "null");
    expect_error(me(&app, &as_person, Method::GET, "/v1/uui/me/grants", None).await, 401, "AUTH_401").await;
    // Neither is an API key.
    expect_error(app.get("/v1/agents/global", Some(&tn)).await, 401, "AUTH_401").await;
    expect_error(app.get("/v1/agents/global", Some(&p)).await, 401, "AUTH_401").await;
}

/// Attack: session fixation by cookie tossing from a sibling subdomain. Served over https
/// (PUBLIC_URL https://…), session cookies are named `__Host-…`, which browsers only accept
/// from this exact host with `Secure` and `Path=/`, so no other host can plant one.
/// Outcome: the cookie is `__Host-mp_passport` with Secure, HttpOnly, SameSite=Lax, Path=/
/// and no Domain, and a plain `mp_passport` cookie (one a sibling could set) is ignored even
/// when it carries a valid session token.
#[tokio::test]
async fn over_https_session_cookies_are_host_prefixed_and_unprefixed_ones_ignored() {
    let app = spawn_app_with(Backend::Sqlite, |c| c.public_url = "https://mp.example".into()).await;
    let post = |path: &str, cookie: Option<&str>, form: &[(&str, &str)]| {
        let mut req = app.client.post(app.url(path)).header("Origin", "https://mp.example").form(form);
        if let Some(c) = cookie {
            req = req.header("Cookie", c.to_string());
        }
        req.send()
    };
    let email = "secure@example.com";
    assert_eq!(post("/api/passport/send_code", None, &[("email", email)]).await.unwrap().status(), 200);
    let mut code = None;
    for _ in 0..200 {
        if let Some(c) = codes_to(&app, email).pop() {
            code = Some(c);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let code = code.expect("a code");
    let res = post("/api/passport/verify_code", Some("mp_passport=planted-by-a-sibling"), &[("email", email), ("code", &code)]).await.unwrap();
    assert_eq!(res.status(), 200);
    let header = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(header.starts_with("__Host-mp_passport="), "{header}");
    for part in ["HttpOnly", "SameSite=Lax", "Secure", "Path=/"] {
        assert!(header.contains(part), "{part} in {header}");
    }
    assert!(!header.to_ascii_lowercase().contains("domain="), "{header}");
    let token = value_of(header.split(';').next().unwrap()).to_string();
    let who = |cookie: String| async move { post("/api/passport/session", Some(&cookie), &[]).await.unwrap().text().await.unwrap() };
    assert_eq!(who(format!("__Host-mp_passport={token}")).await, format!("\"{email}\""));
    assert_eq!(who(format!("mp_passport={token}")).await, "null", "an unprefixed cookie is not read over https");
}

// ---------------------------------------------------------------------------------------------
// Open redirects
// ---------------------------------------------------------------------------------------------

/// Every way to spell a redirect URI that is not byte for byte the registered one.
fn redirect_variants() -> Vec<String> {
    let r = REDIRECT; // https://app.example/integrations/memoryos/callback
    vec![
        "https://evil.example/integrations/memoryos/callback".into(),
        "https://app.example.evil.example/integrations/memoryos/callback".into(),
        "https://evil.example/".into(),
        format!("{r}/extra"),
        format!("{r}/../../../evil"),
        format!("{r}?next=https://evil.example/"),
        format!("{r}?"),
        "http://app.example/integrations/memoryos/callback".into(),
        "javascript:alert(document.cookie)".into(),
        "https://app.example@evil.example/integrations/memoryos/callback".into(),
        "https://evil.example@app.example/integrations/memoryos/callback".into(),
        "https://app.example\\@evil.example/integrations/memoryos/callback".into(),
        format!("{r}/"),
        "https://APP.example/integrations/memoryos/callback".into(),
        "HTTPS://app.example/integrations/memoryos/callback".into(),
        "https://app.example/Integrations/memoryos/callback".into(),
        format!("{r}#https://evil.example/"),
        format!("{r}%23x"),
        "https%3A%2F%2Fapp.example%2Fintegrations%2Fmemoryos%2Fcallback".into(),
        "https://app.example/integrations%2Fmemoryos%2Fcallback".into(),
        "https://app.example/integrations/memoryos/callbac%6B".into(),
        "https://app.example:443/integrations/memoryos/callback".into(),
        "https://app.example./integrations/memoryos/callback".into(),
        "https://xn--pp-8ja.example/integrations/memoryos/callback".into(),
        format!(" {r}"),
        format!("{r} "),
        format!("{r}\u{0}"),
        format!("{r}\r\nLocation: https://evil.example/"),
        "//evil.example/integrations/memoryos/callback".into(),
        "/complete".into(),
        "http://localhost:8081/cb".into(),
        "http://127.0.0.1:8080/cb".into(),
    ]
}

/// Attack: open redirect through a consent link. The link names a real agent but a
/// `redirect_uri` that differs from the registered one in any way (host, path, query, scheme,
/// userinfo, trailing slash, case, fragment, percent-encoding, port, whitespace, NUL, CRLF).
/// Outcome: the consent page shows "not registered" and sends no redirect; the page's data
/// call says `RedirectNotRegistered`; approve and deny (signed in or not) answer 422; no grant,
/// code or token is made. The registered URI itself works, and a hostile `state` cannot move
/// the redirect elsewhere.
async fn consent_links_never_redirect_to_an_unregistered_uri(app: TestApp) {
    let (agent_id, _) = agent(&app, &[REDIRECT, "http://localhost:8080/cb"], "read_only").await;
    let cookie = person(&app, "redirects@example.com").await;
    let answer = |redirect: &str| {
        json!({ "agent_id": agent_id, "state": "s1", "redirect_uri": redirect, "categories": ["fact"], "duration": "30_days" })
    };
    for variant in redirect_variants() {
        let page = app.client.get(app.url("/consent")).query(&[("agent_id", agent_id.as_str()), ("redirect_uri", variant.as_str())]).send().await.unwrap();
        assert_eq!(page.status(), 200, "{variant:?}");
        assert!(page.headers().get("location").is_none() && page.headers().get("refresh").is_none(), "{variant:?}");
        let html = page.text().await.unwrap();
        assert!(!html.to_ascii_lowercase().contains("http-equiv=\"refresh\""), "{variant:?}");
        // The page decodes the query once, so every variant, double-encoded ones included, is
        // stopped on the page with a sentence.
        assert!(html.contains("has not registered"), "{variant:?}: the page explains");

        let view = app.server_fn("consent/view", Some(&cookie), &[("agent_id", agent_id.as_str()), ("redirect_uri", variant.as_str())]).await;
        assert_eq!(view.status(), 200, "{variant:?}");
        assert_eq!(view.json::<Value>().await.unwrap(), json!({ "Err": "RedirectNotRegistered" }), "{variant:?}");

        for (endpoint, who) in [("consent/approve", Some(cookie.as_str())), ("consent/deny", Some(cookie.as_str())), ("consent/deny", None)] {
            let res = call(&app, endpoint, who, &answer(&variant)).await;
            assert!(res.headers().get("location").is_none());
            assert_eq!(res.status(), 422, "{endpoint} {variant:?}");
        }
    }
    for table in ["grants", "exchange_codes", "uui_tokens", "grant_events"] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&app.db.pool).await.unwrap();
        assert_eq!(n, 0, "nothing was recorded in {table}");
    }

    // The registered URI, exactly, is used; a state that tries to smuggle another address is
    // only a value of the query.
    let mut a = answer(REDIRECT);
    a["state"] = json!("x&redirect_uri=https://evil.example/#@evil.example");
    let approved: Value = call(&app, "consent/approve", Some(&cookie), &a).await.json().await.unwrap();
    let location = url::Url::parse(approved["location"].as_str().unwrap()).unwrap();
    assert_eq!((location.scheme(), location.host_str(), location.path()), ("https", Some("app.example"), "/integrations/memoryos/callback"));
    assert_eq!(location.fragment(), None);
    assert_eq!(query(location.as_str(), "state").as_deref(), Some("x&redirect_uri=https://evil.example/#@evil.example"));
    let denied: String = call(&app, "consent/deny", Some(&cookie), &a).await.json().await.unwrap();
    assert!(denied.starts_with(&format!("{REDIRECT}?status=denied&state=")), "{denied}");
    let local: Value = call(&app, "consent/approve", Some(&cookie), &answer("http://localhost:8080/cb")).await.json().await.unwrap();
    assert!(local["location"].as_str().unwrap().starts_with("http://localhost:8080/cb?status=granted"), "{local}");
}

/// Attack: open redirect through a `next` / `return_to` style parameter on sign-in pages.
/// Outcome: no page reads such a parameter (the sign-in pages go to fixed paths), so every
/// page answers 200 with no `Location` or refresh, whatever the parameter says.
async fn pages_take_no_redirect_parameter(app: TestApp) {
    for path in [
        "/signin?next=https://evil.example/",
        "/signin?return_to=//evil.example/",
        "/signup?next=https://evil.example/",
        "/operator?redirect=https://evil.example/",
        "/manage?next=https://evil.example/&return_to=https://evil.example/",
        "/dashboard?redirect_uri=https://evil.example/",
        "/complete?status=granted&state=s&next=https://evil.example/&redirect_uri=https://evil.example/",
        "/consent?next=https://evil.example/",
    ] {
        let res = app.get(path, None).await;
        assert_eq!(res.status(), 200, "{path}");
        assert!(res.headers().get("location").is_none() && res.headers().get("refresh").is_none(), "{path}");
        let html = res.text().await.unwrap().to_ascii_lowercase();
        assert!(!html.contains("http-equiv=\"refresh\""), "{path}");
        assert!(!html.contains("href=\"https://evil.example") && !html.contains("href=\"//evil.example"), "{path} links off-site");
    }
}

/// Attack: open redirect through Leptos's no-JavaScript form handling, which answers a server
/// function posted with `Accept: text/html` by redirecting to the request's `Referer`.
/// Outcome: cross-site posts never run (403, no `Location`), whether the page sends an
/// Origin, a `null` Origin or only a Referer; a post from our own page is sent back to that
/// page on this server.
async fn html_form_posts_only_return_to_our_own_pages(app: TestApp) {
    let form = [("email", "form-post@example.com")];
    let ours = format!("{}/consent?agent_id=x", app.base);
    let res = app.client.post(app.url("/api/passport/send_code")).header("Origin", &app.base).header("Referer", &ours)
        .header("Accept", "text/html").form(&form).send().await.unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&format!("{}/consent", app.base)), "back to our own page: {location}");
    for (origin, referer) in [
        (Some("https://evil.example"), Some("https://evil.example/phish")),
        (Some("null"), None),
        (None, Some("https://evil.example/phish")),
        (None, None),
    ] {
        let mut req = app.client.post(app.url("/api/passport/send_code")).header("Accept", "text/html").form(&form);
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        if let Some(r) = referer {
            req = req.header("Referer", r);
        }
        let res = req.send().await.unwrap();
        assert!(res.headers().get("location").is_none(), "{origin:?} {referer:?}");
        expect_error(res, 403, "CSRF_403").await;
    }
}

// ---------------------------------------------------------------------------------------------
// Sign-in codes: flooding and guessing
// ---------------------------------------------------------------------------------------------

/// Attack: mail flood from one client: "send code" to many different addresses.
/// Outcome: the first `OTP_SENDS_PER_CLIENT` (20 per 15 minutes) are sent; every further
/// request is 429 with Retry-After (at most the window) and sends no mail and stores no code.
async fn code_sends_from_one_client_are_capped(app: TestApp) {
    let limit = limits::OTP_SENDS_PER_CLIENT.max_hits as usize;
    for i in 0..limit {
        let res = app.server_fn("passport/send_code", None, &[("email", &format!("flood{i}@example.com"))]).await;
        assert_eq!(res.status(), 200, "send {i}");
    }
    assert_eq!(settled_mail_count(&app, limit).await, limit);
    for i in 0..5 {
        let res = app.server_fn("passport/send_code", None, &[("email", &format!("more{i}@example.com"))]).await;
        assert_eq!(res.status(), 429, "over the per-client limit");
        let wait = retry_after(&res);
        assert!((1..=15 * 60).contains(&wait), "{wait}");
        assert!(res.text().await.unwrap().contains("Try again"));
    }
    assert_eq!(settled_mail_count(&app, limit).await, limit, "no mail beyond the limit");
    let codes: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM otp_codes").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(codes, limit as i64, "no code was stored for refused requests");
}

/// Attack: mail flood to one address (mail-bombing a victim), varying the address's case and
/// surrounding spaces to dodge the limit.
/// Outcome: all spellings are one address. Within 30 s a second send is 429 (cooldown); past
/// the cooldown, `OTP_SENDS_PER_EMAIL` (5 per 15 minutes) codes are sent and the next is 429
/// with a Retry-After longer than the cooldown; the outbox holds exactly 5 mails.
async fn code_sends_to_one_address_are_capped_whatever_its_spelling(app: TestApp) {
    let spellings = ["bombed@example.com", "BOMBED@example.com", " Bombed@Example.COM ", "bombed@EXAMPLE.com", "bOmBeD@example.com\t", "BOMBED@EXAMPLE.COM"];
    let limit = limits::OTP_SENDS_PER_EMAIL.max_hits as usize;
    let age_codes = || sqlx::query("UPDATE otp_codes SET created_at = created_at - 31000").execute(&app.db.pool);
    for (i, spelling) in spellings.iter().enumerate().take(limit) {
        assert_eq!(app.server_fn("passport/send_code", None, &[("email", *spelling)]).await.status(), 200, "send {i}");
        let soon = app.server_fn("passport/send_code", None, &[("email", spellings[(i + 1) % spellings.len()])]).await;
        assert_eq!(soon.status(), 429, "cooldown holds across spellings");
        assert!(retry_after(&soon) <= 30);
        age_codes().await.unwrap();
    }
    let res = app.server_fn("passport/send_code", None, &[("email", spellings[limit])]).await;
    assert_eq!(res.status(), 429, "over the per-address limit");
    assert!(retry_after(&res) > 30, "the window, not the cooldown: {}", retry_after(&res));
    assert_eq!(settled_mail_count(&app, limit).await, limit, "no mail beyond the limit");
    assert!(outbox(&app).iter().all(|m| is_to(m, "bombed@example.com")), "one normalised address");
}

/// Attack: guessing a victim's sign-in code while varying the address's spelling
/// ("A@Example.com " vs "a@example.com") to get more guesses.
/// Outcome: every spelling counts against one address: after `OTP_FAILURES_PER_EMAIL` (5)
/// wrong codes from this client every spelling is 429 (Retry-After over a minute), even with
/// the right code; once the window ends the right code works.
async fn code_lock_out_holds_across_spellings_and_ends_the_code(app: TestApp) {
    let email = "victim-code@example.com";
    let spellings = ["Victim-Code@Example.com ", " victim-code@example.com", "VICTIM-CODE@EXAMPLE.COM", "victim-code@Example.Com", "\tvIcTiM-cOdE@example.com"];
    let code = request_code(&app, email, None).await;
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let limit = limits::OTP_FAILURES_PER_EMAIL.max_hits as usize;
    for spelling in spellings.iter().take(limit) {
        let res = app.server_fn("passport/verify_code", None, &[("email", *spelling), ("code", wrong)]).await;
        assert_eq!(res.status(), 422, "{spelling:?}");
    }
    let locked = app.server_fn("passport/verify_code", None, &[("email", spellings[0]), ("code", wrong)]).await;
    assert_eq!(locked.status(), 429);
    assert!(retry_after(&locked) > 60);
    for spelling in spellings.iter().chain([&email]) {
        let res = app.server_fn("passport/verify_code", None, &[("email", *spelling), ("code", &code)]).await;
        assert_eq!(res.status(), 429, "the right code waits too, spelled {spelling:?}");
        assert!(res.headers().get("set-cookie").is_none());
    }
    // The lock is this client's (round 2: a stranger's guesses must not lock the person out);
    // the code itself is discarded only when the address's guesses for the day are spent
    // (`api/hardening.rs::lock_out::day_ceiling_*`). After the window, this client may try
    // again, and the code in the mail still works.
    sqlx::query("UPDATE rate_limits SET window_start = window_start - 16 * 60 * 1000 WHERE bucket LIKE 'otp-fail:%'").execute(&app.db.pool).await.unwrap();
    let res = app.server_fn("passport/verify_code", None, &[("email", spellings[2]), ("code", &code)]).await;
    assert_eq!(res.status(), 200, "the right code works once the client's window ends");
    assert_eq!(app.server_fn("passport/session", Some(&set_cookie(&res, "mp_passport").unwrap()), &[]).await.text().await.unwrap(), format!("\"{email}\""));
}

/// Attack: guessing codes across many addresses from one client (one guess each, staying
/// under every per-address limit).
/// Outcome: `OTP_VERIFY_PER_CLIENT` (30 per 15 minutes) checks are answered; the next is 429
/// with Retry-After, even for an address whose right code is sent from that client.
async fn code_guessing_across_addresses_is_capped_per_client(app: TestApp) {
    let real = "real-person@example.com";
    let code = request_code(&app, real, None).await;
    let limit = limits::OTP_VERIFY_PER_CLIENT.max_hits as usize;
    for i in 0..limit {
        let res = app.server_fn("passport/verify_code", None, &[("email", &format!("target{i}@example.com")), ("code", "123456")]).await;
        assert_eq!(res.status(), 422, "guess {i}");
    }
    let res = app.server_fn("passport/verify_code", None, &[("email", "target-last@example.com"), ("code", "123456")]).await;
    assert_eq!(res.status(), 429);
    assert!((1..=15 * 60).contains(&retry_after(&res)));
    let res = app.server_fn("passport/verify_code", None, &[("email", real), ("code", &code)]).await;
    assert_eq!(res.status(), 429, "the client is limited, whatever it sends");
    let passports: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passports").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(passports, 0, "no Passport was created by guessing");
}

// ---------------------------------------------------------------------------------------------
// Tenant passwords
// ---------------------------------------------------------------------------------------------

/// Attack: password guessing on the tenant sign-in, varying the email's case and spaces to get
/// a fresh allowance, then spreading guesses over many accounts from one client.
/// Outcome: spellings share one account's limit (`SIGN_IN_PER_EMAIL`, 10 wrong passwords,
/// then 429 even for the right password, no cookie); from one client `SIGN_IN_PER_CLIENT`
/// (50 per 15 minutes) attempts are answered and then every attempt is 429, including the
/// right password of an untouched account.
async fn password_guessing_across_accounts_and_spellings_is_capped(app: TestApp) {
    let victim = app.tenant("pw-victim").await;
    let bystander = app.tenant("pw-bystander").await;
    let attempt = |email: String, password: String| {
        let app = &app;
        async move { app.server_fn("tenant/sign_in", None, &[("email", email.as_str()), ("password", password.as_str())]).await }
    };
    let upper = victim.email.to_uppercase();
    let spellings = [victim.email.clone(), format!(" {upper}"), format!("{} ", victim.email), upper.clone(), format!("\t{}", victim.email)];
    let per_account = limits::SIGN_IN_PER_EMAIL.max_hits as usize;
    for i in 0..per_account {
        let res = attempt(spellings[i % spellings.len()].clone(), format!("wrong password {i}")).await;
        assert_eq!(res.status(), 401, "guess {i}");
    }
    let res = attempt(upper.clone(), victim.password.clone()).await;
    assert_eq!(res.status(), 429, "locked, whatever the spelling");
    assert!(retry_after(&res) > 60);
    assert!(res.headers().get("set-cookie").is_none());

    let per_client = limits::SIGN_IN_PER_CLIENT.max_hits as usize;
    for i in per_account + 1..per_client {
        let res = attempt(format!("guess{i}@example.com"), "password123".into()).await;
        assert_eq!(res.status(), 401, "attempt {i}");
    }
    let res = attempt(bystander.email.clone(), bystander.password.clone()).await;
    assert_eq!(res.status(), 429, "the client is limited after {per_client} attempts");
    assert!((1..=15 * 60).contains(&retry_after(&res)));
    assert!(res.headers().get("set-cookie").is_none());
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(&app.db.pool).await.unwrap();
    assert_eq!(sessions, 0, "no session was started");
}

// ---------------------------------------------------------------------------------------------
// Replay of credentials that should be dead
// ---------------------------------------------------------------------------------------------

fn add_body(text: &str) -> Value {
    json!({ "messages": [{ "role": "user", "content": text }] })
}

/// The code in a consent redirect answer.
async fn code_of(res: reqwest::Response) -> String {
    assert_eq!(res.status(), 200);
    query(res.json::<Value>().await.unwrap()["location"].as_str().unwrap(), "code").unwrap()
}

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
    let cookie = person(&app, "replay@example.com").await;
    let c = connect(&app, &cookie, &(agent_id.clone(), old_secret.clone()), &["preference"], "read_write").await;
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
    let again = connect(&app, &cookie, &(agent_id.clone(), new_secret.clone()), &["preference"], "read_write").await;
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
    let other = person(&app, "replay-two@example.com").await;
    let live = connect(&app, &other, &(agent_id.clone(), new_secret.clone()), &["preference"], "read_write").await;
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

// ---------------------------------------------------------------------------------------------
// Malformed and oversized bodies on the server functions
// ---------------------------------------------------------------------------------------------

/// Attack: oversized bodies to the server functions (the page side; `/v1` has its own 64 KiB
/// limit, tested in `invalid_bodies_are_422_and_oversized_413`).
/// Outcome: over 256 KiB is 413 before any handler runs, for forms and JSON, signed in or
/// not; nothing is stored and no mail is sent.
async fn oversized_server_function_bodies_are_413(app: TestApp) {
    let cookie = person(&app, "big@example.com").await;
    let (agent_id, _) = agent(&app, &[], "read_only").await;
    let huge = "x".repeat(300 * 1024);
    let res = app.server_fn("passport/send_code", None, &[("email", &format!("{huge}@example.com"))]).await;
    assert_eq!(res.status(), 413);
    let res = app.server_fn("tenant/sign_up", None, &[("email", "big-tenant@example.com"), ("password", &huge)]).await;
    assert_eq!(res.status(), 413);
    let answer = json!({ "agent_id": agent_id, "state": huge, "redirect_uri": "", "categories": ["fact"], "duration": "30_days" });
    assert_eq!(call(&app, "consent/approve", Some(&cookie), &answer).await.status(), 413);
    let mails_before = outbox(&app).len();
    for table in ["grants", "tenants"] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&app.db.pool).await.unwrap();
        assert_eq!(n, if table == "tenants" { 1 } else { 0 }, "{table}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(outbox(&app).len(), mails_before);
}

/// The malformed requests of the next two tests: (endpoint, content type, body).
fn malformed_server_fn_bodies(agent_id: &str) -> Vec<(String, &'static str, String)> {
    vec![
        ("/api/consent/approve".into(), "application/json", "{\"answer\": ".into()),
        ("/api/consent/approve".into(), "application/json", "[1, 2]".into()),
        ("/api/consent/approve".into(), "application/json", json!({ "answer": { "agent_id": 5 } }).to_string()),
        ("/api/consent/approve".into(), "application/x-www-form-urlencoded", format!("agent_id={agent_id}")),
        ("/api/consent/deny".into(), "application/json", "not json".into()),
        ("/api/passport/send_code".into(), "application/x-www-form-urlencoded", "".into()),
        ("/api/passport/verify_code".into(), "application/x-www-form-urlencoded", "email=a@example.com".into()),
        ("/api/tenant/sign_in".into(), "application/json", "{\"email\": [], \"password\": {}}".into()),
        ("/api/manage/update_grant".into(), "application/json", json!({ "grant_id": "x", "categories": ["hobbies"], "access": "root", "duration": "forever" }).to_string()),
        ("/api/manage/flag".into(), "application/json", json!({ "memory_id": "x", "flag": "boring" }).to_string()),
        ("/api/manage/answer".into(), "application/json", json!({ "conflict_id": "x", "answer": "C" }).to_string()),
    ]
}

async fn send_raw(app: &TestApp, cookie: &str, path: &str, content_type: &str, body: String) -> reqwest::Response {
    app.client.post(app.url(path)).header("Origin", &app.base).header("Cookie", cookie).header("Content-Type", content_type).body(body).send().await.unwrap()
}

/// Attack: malformed bodies to the server functions (truncated JSON, wrong types, missing
/// fields, invalid UTF-8 in a form, unknown enum values).
/// Outcome: every one is refused (never 200) and changes nothing: no grant, no code, no
/// Passport, no session, no mail.
async fn malformed_server_function_bodies_change_nothing(app: TestApp) {
    let cookie = person(&app, "malformed@example.com").await;
    let (agent_id, _) = agent(&app, &[], "read_only").await;
    let mails = outbox(&app).len();
    for (path, content_type, body) in malformed_server_fn_bodies(&agent_id) {
        let res = send_raw(&app, &cookie, &path, content_type, body.clone()).await;
        assert_ne!(res.status(), 200, "{path} {body}");
        assert!(res.headers().get("set-cookie").is_none(), "{path} {body}");
    }
    for (table, n) in [("grants", 0), ("exchange_codes", 0), ("otp_codes", 0), ("passports", 1), ("sessions", 1)] {
        let got: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&app.db.pool).await.unwrap();
        assert_eq!(got, n, "{table}");
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(outbox(&app).len(), mails, "no mail");
}

/// Attack: the same malformed bodies, checked for the status class.
/// Outcome: a 4xx (the request is the client's fault), never a 5xx. Leptos answers argument
/// errors with 500; src/server/server_fn_errors.rs turns them into 422.
async fn malformed_server_function_bodies_are_not_server_errors(app: TestApp) {
    let cookie = person(&app, "malformed-status@example.com").await;
    let (agent_id, _) = agent(&app, &[], "read_only").await;
    let mut server_errors = Vec::new();
    for (path, content_type, body) in malformed_server_fn_bodies(&agent_id) {
        let res = send_raw(&app, &cookie, &path, content_type, body.clone()).await;
        let status = res.status().as_u16();
        println!("malformed {path} {content_type} {body:?} -> {status}");
        if !(400..500).contains(&status) {
            server_errors.push(format!("{path} {body:?} -> {status}"));
        }
    }
    assert!(server_errors.is_empty(), "malformed input answered as a server error: {server_errors:#?}");
}

// ---------------------------------------------------------------------------------------------
// SQL-shaped input in every text field
// ---------------------------------------------------------------------------------------------

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

/// The names of the tables in the database now.
async fn table_names(app: &TestApp) -> Vec<String> {
    let sql = match app.backend {
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
        Backend::Postgres => "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    };
    sqlx::query_scalar(sql).fetch_all(&app.db.pool).await.unwrap()
}

const TABLES: &[&str] = &[
    "agent_status_events", "api_keys", "exchange_codes", "global_agents", "grant_events", "grants", "memories",
    "memory_conflicts", "memory_jobs", "memory_uses", "memory_versions", "operators", "otp_codes", "passports",
    "rate_limits", "sessions", "tenants", "uui_tokens",
];

/// Rows in every table of the schema; fails if any is gone.
async fn row_counts(app: &TestApp) -> BTreeMap<&'static str, i64> {
    let mut out = BTreeMap::new();
    for table in TABLES {
        let n = sqlx::query_scalar::<_, i64>(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(&app.db.pool)
            .await
            .unwrap_or_else(|e| panic!("table {table} is unusable: {e}"));
        out.insert(*table, n);
    }
    out
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
    let mut tenants = 0;
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
    assert_eq!(counts["tenants"], 1);
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
    let (agent_id, secret) = agent(&app, &[REDIRECT], "read_only").await;
    let cookie = person(&app, "consent-sql@example.com").await;
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
    let cookie = person(&app, "agent-sql@example.com").await;
    let a = agent(&app, &[], "read_write").await;
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
    let cookie = person(&app, "me-sql@example.com").await;
    let a = agent(&app, &[], "read_write").await;
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

// ---------------------------------------------------------------------------------------------
// A copy of the database
// ---------------------------------------------------------------------------------------------

/// Every value of every table, as text (numbers too), for searching a copy of the database.
async fn every_value(app: &TestApp) -> Vec<(String, String, String)> {
    use sqlx::{Column, Row};
    let mut out = Vec::new();
    for table in TABLES {
        let rows = sqlx::query(&format!("SELECT * FROM {table}")).fetch_all(&app.db.pool).await.unwrap();
        for row in rows {
            for (i, column) in row.columns().iter().enumerate() {
                let value = match row.try_get::<Option<String>, _>(i) {
                    Ok(v) => v,
                    Err(_) => row.try_get::<Option<i64>, _>(i).ok().flatten().map(|n| n.to_string()),
                };
                if let Some(v) = value {
                    out.push((table.to_string(), column.name().to_string(), v));
                }
            }
        }
    }
    out
}

/// Attack: a stolen copy of the database (a backup, a replica) used to act as anyone.
/// Outcome: no live credential of any kind is stored: not the tenant's password, `mem_` key or
/// dashboard session, not the agent's `agent_sk_` secret, not the person's Passport session,
/// `uui_` token, unredeemed exchange code or outstanding sign-in code (nor the random part of
/// any of them). The stored hashes are not credentials either: each one presented in its
/// secret's place is refused (401, no session, 400 for the code, 422 for the sign-in code).
async fn a_database_copy_gives_no_working_credential(app: TestApp) {
    // Every kind of credential, live at once.
    let t = app.tenant("copy").await;
    let res = app.server_fn("tenant/sign_in", None, &[("email", t.email.as_str()), ("password", t.password.as_str())]).await;
    let tenant_session = value_of(&set_cookie(&res, "mp_tenant").unwrap()).to_string();
    let (agent_id, agent_secret) = agent(&app, &[REDIRECT], "read_write").await;
    let passport_cookie = person(&app, "copy@example.com").await;
    let passport_session = value_of(&passport_cookie).to_string();
    let c = connect(&app, &passport_cookie, &(agent_id.clone(), agent_secret.clone()), &["preference"], "read_write").await;
    let job = c.add(&app, "I prefer tea.").await;
    c.finished(&app, &job).await;
    let answer = json!({ "agent_id": agent_id, "state": "s", "redirect_uri": REDIRECT, "categories": ["preference"], "duration": "90_days" });
    let code = code_of(call(&app, "consent/approve", Some(&passport_cookie), &answer).await).await;
    let sign_in_code = request_code(&app, "copy-pending@example.com", None).await;

    let values = every_value(&app).await;
    assert!(values.iter().any(|(_, _, v)| v == "copy@example.com"), "the dump does read stored values");
    let secrets_made = [
        ("tenant password", t.password.as_str()),
        ("mem_ key", t.api_key.as_str()),
        ("mem_ key body", &t.api_key[4..]),
        ("tenant session", tenant_session.as_str()),
        ("agent secret", agent_secret.as_str()),
        ("agent secret body", &agent_secret["agent_sk_".len()..]),
        ("passport session", passport_session.as_str()),
        ("uui token", c.token.as_str()),
        ("uui token body", &c.token["uui_".len()..]),
        ("exchange code", code.as_str()),
        ("exchange code body", &code["mpc_".len()..]),
    ];
    for (what, secret) in secrets_made {
        let found: Vec<_> = values.iter().filter(|(_, _, v)| v.contains(secret)).map(|(t, c, _)| format!("{t}.{c}")).collect();
        assert!(found.is_empty(), "the {what} is stored in {found:?}");
    }
    let otp_columns: Vec<_> = values.iter().filter(|(t, _, v)| t == "otp_codes" && v.contains(&sign_in_code)).collect();
    assert!(otp_columns.is_empty(), "the outstanding sign-in code is stored: {otp_columns:?}");
    let otp_hash: String = sqlx::query_scalar("SELECT code_hash FROM otp_codes").fetch_one(&app.db.pool).await.unwrap();
    assert_ne!(otp_hash, secrets::hash(&sign_in_code), "the sign-in code is a keyed hash, not a plain SHA-256");

    // The hashes, presented as the credentials they stand for, open nothing.
    let one = |sql: &'static str| {
        let app = &app;
        async move { sqlx::query_scalar::<_, String>(sql).fetch_one(&app.db.pool).await.unwrap() }
    };
    let key_hash = one("SELECT key_hash FROM api_keys").await;
    expect_error(app.get("/v1/agents/global", Some(&key_hash)).await, 401, "AUTH_401").await;
    expect_error(app.get("/v1/agents/global", Some(&format!("mem_{key_hash}"))).await, 401, "AUTH_401").await;
    let secret_hash: String = sqlx::query_scalar("SELECT secret_hash FROM global_agents WHERE id = $1").bind(&agent_id).fetch_one(&app.db.pool).await.unwrap();
    let token_hash = one("SELECT token_hash FROM uui_tokens").await;
    for (key, token) in [
        (secret_hash.clone(), c.token.clone()),
        (format!("agent_sk_{secret_hash}"), c.token.clone()),
        (agent_secret.clone(), token_hash.clone()),
        (agent_secret.clone(), format!("uui_{token_hash}")),
    ] {
        let forged = Connected { secret: key, token, ..c.clone() };
        expect_error(forged.post(&app, "/v1/universal/memories/retrieve", &json!({ "query": "tea" })).await, 401, "UAT_001").await;
    }
    let code_hash = one("SELECT code_hash FROM exchange_codes").await;
    for forged in [code_hash.clone(), format!("mpc_{code_hash}")] {
        expect_error(exchange(&app, &agent_secret, &forged, REDIRECT, None).await, 400, "TOK_400").await;
    }
    let session_hashes: Vec<(String, String)> = sqlx::query_as("SELECT kind, token_hash FROM sessions").fetch_all(&app.db.pool).await.unwrap();
    assert_eq!(session_hashes.len(), 2);
    for (kind, hash) in session_hashes {
        let (endpoint, cookie) = if kind == "tenant" { ("tenant/session", format!("mp_tenant={hash}")) } else { ("passport/session", format!("mp_passport={hash}")) };
        assert_eq!(app.server_fn(endpoint, Some(&cookie), &[]).await.text().await.unwrap(), "null", "{kind} session hash");
    }
    let res = app.server_fn("passport/verify_code", None, &[("email", "copy-pending@example.com"), ("code", &otp_hash)]).await;
    assert_eq!(res.status(), 422, "the sign-in code's hash is not a code");
    // …and the real credentials still work, so the refusals above are about the hashes.
    assert_eq!(app.get("/v1/agents/global", Some(&t.api_key)).await.status(), 200);
    assert_eq!(c.retrieve(&app, json!({ "query": "tea" })).await["data"][0]["content"], "I prefer tea.");
    assert_eq!(exchange(&app, &agent_secret, &code, REDIRECT, None).await.status(), 200);
    let res = app.server_fn("passport/verify_code", None, &[("email", "copy-pending@example.com"), ("code", &sign_in_code)]).await;
    assert_eq!(res.status(), 200);
}

/// NUL in two text parameters that used to reach SQL: the person's memory search `q` and the
/// code exchange's `redirect_uri` (with a code of the right shape). PostgreSQL refuses NUL in
/// a text parameter, so both answered 500 there; now they are refused first (422, 400).
async fn nul_in_search_and_token_redirect_is_not_a_server_error(app: TestApp) {
    let cookie = person(&app, "nul@example.com").await;
    let (agent_id, secret) = agent(&app, &[REDIRECT], "read_only").await;
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

/// An agent may register a redirect URI with a %-escape in it (`…/cb?next=%2Fhome`); a consent
/// link carrying it, encoded once as a URL parameter must be, should open the consent page.
/// The router's query map (leptos_router's `ParamsMap::insert`) percent-decodes every value a
/// second time, so the page used to see `…/cb?next=/home`, which is not registered, and stop;
/// the page now decodes the raw query once.
async fn a_registered_uri_with_a_percent_escape_opens_the_consent_page(app: TestApp) {
    let registered = "https://app.example/cb?next=%2Fhome";
    let (agent_id, _) = agent(&app, &[registered], "read_only").await;
    let page = app.client.get(app.url("/consent")).query(&[("agent_id", agent_id.as_str()), ("redirect_uri", registered)]).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(!html.contains("has not registered"), "the registered URI is refused on the page");
}
