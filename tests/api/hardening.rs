//! Security round 2 (see `docs/security-matrix.md`, rows 12-*): framing, sniffing and caching
//! headers, per-/64 client limits, and the other holes an audit of the first round found.
//! Each test runs on SQLite and on PostgreSQL.
use crate::common::{call, connect, exchange, spawn_app_with, AgentCreds, Backend, Connected, Me, Person, TestApp, REDIRECT};
use crate::on_both_backends;
use reqwest::Method;

on_both_backends!(
    every_answer_refuses_framing_and_sniffing,
    credentials_and_personal_pages_are_never_cached,
    a_verified_badge_does_not_outlive_a_material_edit,
    a_consent_link_cannot_ask_for_more_access_than_registered,
    the_mails_one_click_link_signs_in_once_and_returns_to_the_page,
    code_sends_to_one_mailbox_are_capped_across_plus_addresses,
    open_questions_are_bounded_per_app_and_paged,
    tables_are_swept_past_their_retention,
    consent_answers_are_rate_limited_per_person,
    ranking_ignores_categories_the_caller_cannot_read,
    a_flagged_memory_is_not_revealed_by_a_duplicate,
    concurrent_approvals_of_one_grant_all_succeed,
    a_deleted_passport_leaves_every_nodes_cache,
);

/// Runs each listed test on both databases behind a trusted proxy, so that it can speak for
/// many clients (`X-Forwarded-For`).
macro_rules! behind_proxy_on_both {
    ($($name:ident),* $(,)?) => {
        $(mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(super::behind_proxy(crate::common::Backend::Sqlite).await).await
            }
            #[tokio::test]
            async fn postgres() {
                if crate::common::postgres_admin_url().is_some() {
                    super::$name(super::behind_proxy(crate::common::Backend::Postgres).await).await
                }
            }
        })*
    };
}

behind_proxy_on_both!(
    ipv6_clients_share_their_64s_limits,
    a_stranger_cannot_lock_a_person_out_of_signing_in,
    past_the_days_ceiling_no_code_is_taken_but_the_link_signs_in,
    a_stranger_cannot_lock_a_tenant_out_with_wrong_passwords,
);

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers().get(name).map(|v| v.to_str().unwrap()).unwrap_or("")
}

async fn every_answer_refuses_framing_and_sniffing(app: TestApp) {
    let cookie = Person::sign_in(&app, "frame@example.com").await.cookie;
    for path in ["/", "/consent", "/consent?agent_id=nope", "/manage", "/dashboard", "/dashboard/api-keys", "/operator",
        "/complete?status=granted&state=s", "/signin", "/docs/api", "/no/such/page"] {
        let res = app.client.get(app.url(path)).header("Cookie", &cookie).send().await.unwrap();
        assert!(header(&res, "content-type").starts_with("text/html"), "{path} is a page");
        let csp = header(&res, "content-security-policy").to_string();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"), "{path}: {csp}");
        assert_eq!(header(&res, "x-frame-options"), "DENY", "{path}");
        assert_eq!(header(&res, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&res, "referrer-policy"), "strict-origin-when-cross-origin", "{path}");
        // Every inline script of the page carries this answer's nonce, and no other runs.
        let nonce = csp.split("'nonce-").nth(1).and_then(|s| s.split('\'').next()).unwrap_or_else(|| panic!("{path}: nonce in {csp}"));
        assert!(nonce.len() >= 22, "a 128-bit nonce: {nonce}");
        let html = res.text().await.unwrap();
        let scripts = html.matches("<script").count();
        assert!(scripts >= 1, "{path} hydrates");
        assert_eq!(html.matches(&format!("<script type=\"module\" nonce=\"{nonce}\"")).count()
            + html.matches(&format!("<script nonce=\"{nonce}\"")).count(), scripts, "{path}: every script has the nonce");
    }
    // Two renders, two nonces.
    let a = app.get("/", None).await;
    let b = app.get("/", None).await;
    assert_ne!(header(&a, "content-security-policy"), header(&b, "content-security-policy"));

    // The API, files and errors: nosniff, no framing, a policy that allows nothing.
    for (path, status) in [("/v1/openapi.json", 200), ("/v1/agents/global/nope", 404), ("/healthz", 200),
        ("/favicon.svg", 200), ("/pkg/memory-passport.css", 200), ("/v1/universal/memories/retrieve", 405)] {
        let res = app.get(path, None).await;
        assert_eq!(res.status(), status, "{path}");
        assert_eq!(header(&res, "x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header(&res, "x-frame-options"), "DENY", "{path}");
        assert!(header(&res, "content-security-policy").starts_with("default-src 'none'"), "{path}");
    }
    // A refusal by the CSRF guard carries them too.
    let res = app.client.post(app.url("/api/passport/sign_out")).header("Origin", "https://evil.example").send().await.unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(header(&res, "x-content-type-options"), "nosniff");
}

async fn credentials_and_personal_pages_are_never_cached(app: TestApp) {
    let cookie = Person::sign_in(&app, "cache@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[REDIRECT], "read_write").await;

    // The token exchange, whether it succeeds or not (RFC 6749 §5.1: no-store, Pragma no-cache).
    let res = exchange(&app, &a.secret, "no-such-code", REDIRECT, None).await;
    assert!(res.status().is_client_error());
    assert_eq!(header(&res, "cache-control"), "no-store");
    assert_eq!(header(&res, "pragma"), "no-cache");

    for path in ["/complete?status=granted&state=s", "/manage", "/dashboard", "/dashboard/api-keys", "/operator", "/consent"] {
        let res = app.client.get(app.url(path)).header("Cookie", &cookie).send().await.unwrap();
        assert_eq!(header(&res, "cache-control"), "no-store", "{path}");
    }
    let me = Me { app: &app, cookie: cookie.clone() };
    for path in ["/v1/uui/me/grants", "/v1/uui/me/memories", "/v1/uui/me/questions", "/v1/uui/me/export"] {
        let res = me.call(Method::GET, path, None).await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(header(&res, "cache-control"), "no-store", "{path}");
    }
    // Server functions, answered or refused.
    let res = app.server_fn("passport/session", Some(&cookie), &[]).await;
    assert_eq!(header(&res, "cache-control"), "no-store");
    let res = app.server_fn("passport/verify_code", None, &[("email", "x@example.com"), ("code", "1")]).await;
    assert_eq!(res.status(), 422);
    assert_eq!(header(&res, "cache-control"), "no-store");
    // Public pages and files are left to their own caching.
    for path in ["/", "/signin", "/docs/api", "/favicon.svg"] {
        assert_ne!(header(&app.get(path, None).await, "cache-control"), "no-store", "{path}");
    }
    assert_eq!(header(&app.get("/v1/openapi.json", None).await, "cache-control"), "public, max-age=300");
}

/// Sends a sign-in code as if from `client` behind our own proxy.
async fn send_code_from(app: &TestApp, client: &str, email: &str) -> u16 {
    app.client
        .post(app.url("/api/passport/send_code"))
        .header("Origin", &app.base)
        .header("X-Forwarded-For", client)
        .form(&[("email", email)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn behind_proxy(backend: Backend) -> TestApp {
    spawn_app_with(backend, |c| c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()]).await
}

/// One IPv6 /64 is one client: rotating addresses inside it gives no more sends; another /64 is
/// another client. (Also keyed so: sign-in, sign-up, code checks and agent auth failures, which
/// all take the client from `request::client_ip`.)
async fn ipv6_clients_share_their_64s_limits(app: TestApp) {
    let max = memory_passport::service::limits::OTP_SENDS_PER_CLIENT.max_hits;
    for i in 0..max {
        let status = send_code_from(&app, &format!("2001:db8:1:2::{:x}", i + 1), &format!("p{i}@example.com")).await;
        assert_eq!(status, 200, "send {i}");
    }
    assert_eq!(send_code_from(&app, "2001:db8:1:2:ffff:1234:5678:9abc", "other@example.com").await, 429, "same /64");
    assert_eq!(send_code_from(&app, "2001:db8:1:3::1", "other@example.com").await, 200, "another /64");
    // IPv4 stays per address.
    assert_eq!(send_code_from(&app, "198.51.100.7", "v4@example.com").await, 200);
    assert_eq!(send_code_from(&app, "198.51.100.8", "v4b@example.com").await, 200);
}


async fn patch_agent(app: &TestApp, key: &str, id: &str, body: serde_json::Value) -> serde_json::Value {
    let res = app.client.patch(app.url(&format!("/v1/agents/global/{id}"))).header("Authorization", format!("ApiKey {key}"))
        .json(&body).send().await.unwrap();
    assert_eq!(res.status(), 200, "patch {body}");
    res.json::<serde_json::Value>().await.unwrap()["data"].clone()
}

async fn consent_page_says_verified(app: &TestApp, id: &str) -> bool {
    let html = app.get(&format!("/consent?agent_id={id}&state=s"), None).await.text().await.unwrap();
    !html.contains("has not been reviewed by the Memory Passport operators")
}

async fn a_verified_badge_does_not_outlive_a_material_edit(app: TestApp) {
    use memory_passport::domain::agent::AgentStatus;
    use memory_passport::service::agents::review;
    use memory_passport::store::agents;
    let t = app.tenant("badge").await;
    let id = app.create_agent(&t.api_key, "Support Copilot").await["id"].as_str().unwrap().to_string();
    review(&app.db, &id, AgentStatus::Verified, "operator:test").await.unwrap();
    assert!(consent_page_says_verified(&app, &id).await);

    // Default categories only preselect checkboxes: the badge stays.
    let data = patch_agent(&app, &t.api_key, &id, serde_json::json!({ "default_categories_requested": ["fact"] })).await;
    assert_eq!(data["verification_status"], "verified");
    assert_eq!(data["review_note"], serde_json::Value::Null);

    // A new name and logo: back to pending, on every surface, with the reason and the changes.
    let data = patch_agent(&app, &t.api_key, &id, serde_json::json!({ "name": "Totally Legit Bank", "logo_url": "https://evil.example/bank.png" })).await;
    assert_eq!(data["verification_status"], "pending");
    assert!(data["review_note"].as_str().unwrap().contains("changed its name and logo after it was verified"), "{data}");
    let public: serde_json::Value = app.get(&format!("/v1/agents/global/{id}"), None).await.json().await.unwrap();
    assert_eq!(public["data"]["verification_status"], "pending");
    assert!(!consent_page_says_verified(&app, &id).await, "the consent page warns again");
    let stored = agents::get(&app.db, &id).await.unwrap().unwrap();
    assert_eq!(stored.status, AgentStatus::Pending);
    let fields: Vec<(&str, &str, &str)> = stored.changes_since_review.iter().map(|c| (c.field.as_str(), c.before.as_str(), c.after.as_str())).collect();
    assert_eq!(fields, [("Name", "Support Copilot", "Totally Legit Bank"), ("Logo", "https://yourapp.com/logo.png", "https://evil.example/bank.png")]);

    // Each of the other material fields alone does it too.
    for body in [
        serde_json::json!({ "description": "Now also moves money." }),
        serde_json::json!({ "website_url": "https://elsewhere.example" }),
        serde_json::json!({ "redirect_uris": ["https://elsewhere.example/cb"] }),
        serde_json::json!({ "requested_access": "read_write" }),
    ] {
        review(&app.db, &id, AgentStatus::Verified, "operator:test").await.unwrap();
        assert!(agents::get(&app.db, &id).await.unwrap().unwrap().changes_since_review.is_empty(), "a decision clears them");
        let data = patch_agent(&app, &t.api_key, &id, body.clone()).await;
        assert_eq!(data["verification_status"], "pending", "{body}");
    }

    // A suspended agent stays suspended whatever its tenant edits.
    review(&app.db, &id, AgentStatus::Suspended, "operator:test").await.unwrap();
    let data = patch_agent(&app, &t.api_key, &id, serde_json::json!({ "name": "Fresh Start" })).await;
    assert_eq!(data["verification_status"], "suspended");
}

async fn a_consent_link_cannot_ask_for_more_access_than_registered(app: TestApp) {
    let cookie = Person::sign_in(&app, "access@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_only").await;
    let answer = serde_json::json!({
        "agent_id": a.id, "state": "s", "redirect_uri": "", "categories": ["fact"], "duration": "90_days",
        "access": "read_write", "requested_access": "read_write",
    });
    let res = call(&app, "consent/approve", Some(&cookie), &answer).await;
    assert_eq!(res.status(), 422, "a link's read_write cannot exceed the registered read_only");
    assert_eq!(app.count("grants").await, 0);
    // The page offers no read-and-write choice either.
    let html = app.client.get(app.url(&format!("/consent?agent_id={}&state=s&access=read_write", a.id))).header("Cookie", &cookie)
        .send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("value=\"read_write\""), "no read-write choice on the page");
    // Read-only is what it gets.
    let mut ok = answer.clone();
    ok["access"] = serde_json::json!("read_only");
    assert_eq!(call(&app, "consent/approve", Some(&cookie), &ok).await.status(), 200);
}

/// Posts a server function's form as if from `client` (behind our trusted proxy).
async fn server_fn_from(app: &TestApp, client: &str, endpoint: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/{endpoint}")))
        .header("Origin", &app.base)
        .header("X-Forwarded-For", client)
        .form(form)
        .send()
        .await
        .unwrap()
}

fn wrong_code(right: &str) -> &'static str {
    if right == "000000" { "000001" } else { "000000" }
}

/// The acceptance scenario: a stranger who knows only the address asks for a code and sends
/// 7 wrong ones from client A; the person signs in from client B with the code in their mail,
/// and the stranger's further guesses stay refused.
async fn a_stranger_cannot_lock_a_person_out_of_signing_in(app: TestApp) {
    let email = "target@example.com";
    let (a, b) = ("203.0.113.66", "198.51.100.20");
    assert_eq!(server_fn_from(&app, a, "passport/send_code", &[("email", email)]).await.status(), 200);
    let (code, _) = app.outbox().code_and_link(email, 1).await;
    let mut statuses = vec![];
    for _ in 0..7 {
        statuses.push(server_fn_from(&app, a, "passport/verify_code", &[("email", email), ("code", wrong_code(&code))]).await.status().as_u16());
    }
    assert_eq!(statuses, [422, 422, 422, 422, 422, 429, 429], "the stranger's guesses are cut off");
    let right_from_a = server_fn_from(&app, a, "passport/verify_code", &[("email", email), ("code", &code)]).await;
    assert_eq!(right_from_a.status(), 429, "even the right code is refused to the stranger's client");
    let res = server_fn_from(&app, b, "passport/verify_code", &[("email", email), ("code", &code)]).await;
    assert_eq!(res.status(), 200, "the person signs in from their own device");
    let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let me = app.server_fn("passport/session", Some(&cookie), &[]).await.text().await.unwrap();
    assert_eq!(me, format!("\"{email}\""));
    assert_eq!(server_fn_from(&app, a, "passport/verify_code", &[("email", email), ("code", "123456")]).await.status(), 429);
}

/// Strangers from many clients together get only the day's ceiling of guesses; then no
/// code is taken for the address, but the mail's link still signs the person in.
async fn past_the_days_ceiling_no_code_is_taken_but_the_link_signs_in(app: TestApp) {
    let email = "ceiling@example.com";
    assert_eq!(server_fn_from(&app, "203.0.113.1", "passport/send_code", &[("email", email)]).await.status(), 200);
    let (code, link) = app.outbox().code_and_link(email, 1).await;
    let per_day = memory_passport::service::limits::OTP_FAILURES_PER_EMAIL_PER_DAY.max_hits;
    let mut refused = 0;
    for i in 0..(per_day + 10) {
        let client = format!("198.51.100.{}", i / 4 + 1); // 4 guesses each: under the per-client limit
        let s = server_fn_from(&app, &client, "passport/verify_code", &[("email", email), ("code", wrong_code(&code))]).await.status();
        if s == 429 {
            refused += 1;
        } else {
            assert_eq!(s, 422);
        }
    }
    assert_eq!(refused, 10, "exactly {per_day} wrong codes a day are compared");
    let res = server_fn_from(&app, "192.0.2.200", "passport/verify_code", &[("email", email), ("code", &code)]).await;
    assert_eq!(res.status(), 429, "past the day's ceiling no code is taken");
    // The link is another matter: 256 random bits, from the person's own mailbox.
    let (path, query) = link.split_once("/passport/link?").unwrap();
    assert!(path.starts_with(&app.base), "{link}");
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let res = app.client.post(app.url("/passport/link")).header("Origin", &app.base).header("X-Forwarded-For", "192.0.2.201")
        .form(&pairs).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], "/manage", "signed in, to the manage page");
    assert!(res.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("mp_passport=")), "a session");
}

async fn the_mails_one_click_link_signs_in_once_and_returns_to_the_page(app: TestApp) {
    let email = "linky@example.com";
    let back = "/consent?agent_id=abc&state=s%20t";
    let res = app.server_fn("passport/send_code", None, &[("email", email), ("return_to", back)]).await;
    assert_eq!(res.status(), 200);
    let (_, link) = app.outbox().code_and_link(email, 1).await;
    // Opening the link signs nobody in: it asks for a click (mail scanners open links too).
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers().get("set-cookie").is_none());
    assert_eq!(header(&page, "cache-control"), "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("You are signing in as") && html.contains(email), "names the address");
    let query = link.split_once('?').unwrap().1;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes()).into_owned().collect();
    let post = || app.client.post(app.url("/passport/link")).header("Origin", &app.base).form(&pairs).send();
    // A cross-site post of the same form does nothing.
    let res = app.client.post(app.url("/passport/link")).header("Origin", "https://evil.example").form(&pairs).send().await.unwrap();
    assert_eq!(res.status(), 403);
    let res = post().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], back, "back to the page the code was asked for");
    let cookie = res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap()).find(|c| c.starts_with("mp_passport="))
        .expect("a session").split(';').next().unwrap().to_string();
    assert_eq!(app.server_fn("passport/session", Some(&cookie), &[]).await.text().await.unwrap(), format!("\"{email}\""));
    // Once only; and the code of the same mail is spent with it.
    let again = post().await.unwrap();
    assert_eq!(again.headers()["location"], "/passport/link?problem=used");
    assert!(again.headers().get("set-cookie").is_none());
    // A link that asks to go elsewhere goes to the manage page.
    assert_eq!(app.count("otp_codes").await, 0);
    sqlx::query("UPDATE rate_limits SET window_start = window_start - 60000").execute(&app.db.pool).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    for evil in ["https://evil.example/", "//evil.example", "/dashboard"] {
        sqlx::query("DELETE FROM otp_codes").execute(&app.db.pool).await.unwrap();
        let other = format!("elsewhere-{}@example.com", evil.len());
        let n = app.outbox().files();
        assert_eq!(app.server_fn("passport/send_code", None, &[("email", &other), ("return_to", evil)]).await.status(), 200);
        let (_, link) = app.outbox().code_and_link(&other, n + 1).await;
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(link.split_once('?').unwrap().1.as_bytes()).into_owned().collect();
        let res = app.client.post(app.url("/passport/link")).header("Origin", &app.base).form(&pairs).send().await.unwrap();
        assert_eq!(res.headers()["location"], "/manage", "{evil}");
    }
}

async fn a_stranger_cannot_lock_a_tenant_out_with_wrong_passwords(app: TestApp) {
    let t = app.tenant("owner").await;
    let per_client = memory_passport::service::limits::SIGN_IN_PER_EMAIL.max_hits;
    let stranger = "203.0.113.99";
    for _ in 0..per_client {
        let res = server_fn_from(&app, stranger, "tenant/sign_in", &[("email", &t.email), ("password", "wrong password guess")]).await;
        assert_eq!(res.status(), 401);
    }
    let res = server_fn_from(&app, stranger, "tenant/sign_in", &[("email", &t.email), ("password", &t.password)]).await;
    assert_eq!(res.status(), 429, "the stranger's client is cut off, even with the right password");
    let res = server_fn_from(&app, "198.51.100.5", "tenant/sign_in", &[("email", &t.email), ("password", &t.password)]).await;
    assert_eq!(res.status(), 200, "the owner signs in from their own machine");
}


async fn code_sends_to_one_mailbox_are_capped_across_plus_addresses(app: TestApp) {
    let max = memory_passport::service::limits::OTP_SENDS_PER_EMAIL.max_hits as usize;
    for i in 0..max {
        let res = app.server_fn("passport/send_code", None, &[("email", &format!("Bombed+{i}@Example.com"))]).await;
        assert_eq!(res.status(), 200, "send {i}");
    }
    let res = app.server_fn("passport/send_code", None, &[("email", "bombed+more@example.com")]).await;
    assert_eq!(res.status(), 429, "one mailbox, however it is spelled");
    assert_eq!(app.server_fn("passport/send_code", None, &[("email", "bombed@example.com")]).await.status(), 429);
    assert_eq!(app.server_fn("passport/send_code", None, &[("email", "other@example.com")]).await.status(), 200);
    // Identity stays the exact address: each variant is its own Passport when used.
    let n = max + 1;
    let (code, _) = app.outbox().code_and_link("bombed+0@example.com", n).await;
    let res = app.server_fn("passport/verify_code", None, &[("email", "bombed+0@example.com"), ("code", &code)]).await;
    assert_eq!(res.status(), 200);
    let emails: Vec<String> = sqlx::query_scalar("SELECT email FROM passports").fetch_all(&app.db.pool).await.unwrap();
    assert_eq!(emails, ["bombed+0@example.com"]);
}

async fn open_questions_are_bounded_per_app_and_paged(app: TestApp) {
    use memory_passport::domain::plan::MAX_OPEN_QUESTIONS_PER_APP;
    let cookie = Person::sign_in(&app, "asked@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let c = connect(&app, &cookie, &a, &["fact"], "read_write").await;
    let first = c.add(&app, "My name is Ada.").await;
    c.finished(&app, &first).await;
    let extra = 10;
    let messages: Vec<serde_json::Value> = (0..MAX_OPEN_QUESTIONS_PER_APP + extra)
        .map(|i| serde_json::json!({ "role": "user", "content": format!("My name is Name{i}.") }))
        .collect();
    let res = c.post(&app, "/v1/universal/memories/add", &serde_json::json!({ "messages": messages })).await;
    assert_eq!(res.status(), 202);
    let job = res.json::<serde_json::Value>().await.unwrap()["job_id"].as_str().unwrap().to_string();
    let done = c.finished(&app, &job).await;
    assert_eq!(done["extraction_metadata"]["conflicts"], MAX_OPEN_QUESTIONS_PER_APP, "{done}");
    assert_eq!(done["extraction_metadata"]["questions_dropped"], extra, "{done}");
    assert_eq!(app.count("memory_conflicts").await, MAX_OPEN_QUESTIONS_PER_APP);
    // More later: still dropped, still counted.
    let again = c.add(&app, "My name is Zed.").await;
    assert_eq!(c.finished(&app, &again).await["extraction_metadata"]["questions_dropped"], 1);

    // The person's API pages them, oldest first, and says how many there are.
    let me = Me { app: &app, cookie };
    let res = me.call(Method::GET, "/v1/uui/me/questions?limit=20&offset=40", None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "x-total-count"), MAX_OPEN_QUESTIONS_PER_APP.to_string());
    let page = res.json::<serde_json::Value>().await.unwrap()["data"].as_array().unwrap().len();
    assert_eq!(page as i64, MAX_OPEN_QUESTIONS_PER_APP - 40);
    let res = me.call(Method::GET, "/v1/uui/me/questions", None).await;
    assert_eq!(res.json::<serde_json::Value>().await.unwrap()["data"].as_array().unwrap().len(), 50, "50 by default");
    for bad in ["limit=0", "limit=101", "offset=-1", "limit=x"] {
        let res = me.call(Method::GET, &format!("/v1/uui/me/questions?{bad}"), None).await;
        crate::common::expect_error(res, 422, "REQ_422").await;
    }
    // The manage page shows the first page and the count.
    let html = app.client.get(app.url("/manage")).header("Cookie", &me.cookie).send().await.unwrap().text().await.unwrap();
    assert_eq!(html.matches("Which is right?").count(), 20, "one page of questions");
    assert!(html.contains(&format!("Showing 20 of {MAX_OPEN_QUESTIONS_PER_APP} questions")), "says how many");
}

async fn tables_are_swept_past_their_retention(app: TestApp) {
    use memory_passport::store::Retention;
    let cookie = Person::sign_in(&app, "swept@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[REDIRECT], "read_write").await;
    let c = connect(&app, &cookie, &a, &["fact"], "read_write").await;
    let job = c.add(&app, "My name is Ada.").await;
    c.finished(&app, &job).await;
    let me = Me { app: &app, cookie: cookie.clone() };
    assert_eq!(me.call(Method::DELETE, &format!("/v1/uui/me/grants/{}", c.grant_id), None).await.status(), 200);
    for table in ["memory_jobs", "uui_tokens", "grant_events"] {
        assert!(app.count(table).await > 0, "{table} has rows");
    }
    let now = memory_passport::store::now_ms();
    let keep = Retention::DEFAULT;
    // Within retention nothing is swept.
    app.db.sweep_at(now, &keep).await.unwrap();
    for table in ["memory_jobs", "uui_tokens", "grant_events", "memories"] {
        assert!(app.count(table).await > 0, "{table} kept within retention");
    }
    // Past each retention, that table's dead rows go; memories and grants stay.
    let removed = app.db.sweep_at(now + keep.grant_events_ms + 1, &keep).await.unwrap();
    for table in ["memory_jobs", "uui_tokens", "grant_events"] {
        assert_eq!(app.count(table).await, 0, "{table} swept: {removed:?}");
    }
    assert_eq!(app.count("memories").await, 1);
    assert_eq!(app.count("grants").await, 1);
}

async fn consent_answers_are_rate_limited_per_person(app: TestApp) {
    let cookie = Person::sign_in(&app, "clicky@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let answer = serde_json::json!({ "agent_id": a.id, "state": "s", "redirect_uri": "", "categories": ["fact"], "duration": "30_days", "access": "read_only" });
    let max = memory_passport::service::limits::CONSENT_ANSWERS_PER_PERSON.max_hits;
    for i in 0..max {
        let endpoint = if i % 2 == 0 { "consent/approve" } else { "consent/deny" };
        assert_eq!(call(&app, endpoint, Some(&cookie), &answer).await.status(), 200, "{i}");
    }
    let tokens = app.count("uui_tokens").await;
    let res = call(&app, "consent/approve", Some(&cookie), &answer).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(app.count("uui_tokens").await, tokens, "nothing more written");
    assert_eq!(call(&app, "consent/deny", Some(&cookie), &answer).await.status(), 429);
    // Another person is unaffected.
    let other = Person::sign_in(&app, "calm@example.com").await.cookie;
    assert_eq!(call(&app, "consent/approve", Some(&other), &answer).await.status(), 200);
}

async fn relevance(c: &Connected, app: &TestApp, query: &str) -> Vec<(String, f64)> {
    let body = c.retrieve(app, serde_json::json!({ "query": query, "limit": 10 })).await;
    body["data"].as_array().unwrap().iter().map(|m| (m["content"].as_str().unwrap().to_string(), m["relevance_score"].as_f64().unwrap())).collect()
}

async fn ranking_ignores_categories_the_caller_cannot_read(app: TestApp) {
    let cookie = Person::sign_in(&app, "ranked@example.com").await.cookie;
    let reader = connect(&app, &cookie, &AgentCreds::create(&app, &[], "read_write").await, &["fact"], "read_write").await;
    let job = reader.add(&app, "I live in Lisbon. I work at Acme in Lisbon. My name is Ada.").await;
    reader.finished(&app, &job).await;
    let before = relevance(&reader, &app, "Lisbon Acme").await;
    assert!(before.len() >= 2, "{before:?}");
    // Another app writes many preferences full of the same words.
    let writer = connect(&app, &cookie, &AgentCreds::create(&app, &[], "read_write").await, &["preference"], "read_write").await;
    let job = writer.add(&app, "I love Lisbon. I like Acme coffee in Lisbon. I prefer Lisbon trams. I enjoy Acme Lisbon Lisbon walks.").await;
    let done = writer.finished(&app, &job).await;
    assert!(done["memories_created"].as_i64().unwrap() >= 3, "{done}");
    let after = relevance(&reader, &app, "Lisbon Acme").await;
    assert_eq!(before, after, "the reader's scores do not move with what it cannot read");
}

async fn a_flagged_memory_is_not_revealed_by_a_duplicate(app: TestApp) {
    let cookie = Person::sign_in(&app, "flagger@example.com").await.cookie;
    let c = connect(&app, &cookie, &AgentCreds::create(&app, &[], "read_write").await, &["preference"], "read_write").await;
    let job = c.add(&app, "I love green tea.").await;
    let id = c.finished(&app, &job).await["created_memory_ids"][0].as_str().unwrap().to_string();
    let me = Me { app: &app, cookie };
    assert_eq!(me.call(Method::POST, &format!("/v1/uui/me/memories/{id}/flag"), Some(serde_json::json!({ "flag": "never_said" }))).await.status(), 200);
    // A new statement and the flagged one look the same to the app.
    let flagged = c.add(&app, "I love green tea.").await;
    let fresh = c.add(&app, "I love black tea.").await;
    let (flagged, fresh) = (c.finished(&app, &flagged).await, c.finished(&app, &fresh).await);
    for key in ["memories_created"] {
        assert_eq!(flagged[key], fresh[key], "{key}: {flagged} vs {fresh}");
    }
    for key in ["duplicates", "conflicts", "questions_dropped", "outside_grant", "over_limit"] {
        assert_eq!(flagged["extraction_metadata"][key], fresh["extraction_metadata"][key], "{key}");
    }
    assert_eq!(app.count("memories").await, 2, "the flagged statement is not stored twice");
    // A real duplicate (readable, unflagged) is still one.
    let dup = c.add(&app, "I love black tea.").await;
    assert_eq!(c.finished(&app, &dup).await["extraction_metadata"]["duplicates"], 1);
}

async fn concurrent_approvals_of_one_grant_all_succeed(app: TestApp) {
    let cookie = Person::sign_in(&app, "racer@example.com").await.cookie;
    let a = AgentCreds::create(&app, &[], "read_write").await;
    let answer = serde_json::json!({ "agent_id": a.id, "state": "s", "redirect_uri": "", "categories": ["fact", "goal"], "duration": "90_days", "access": "read_write" });
    let calls = (0..12).map(|_| call(&app, "consent/approve", Some(&cookie), &answer));
    let statuses: Vec<u16> = futures_join(calls).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(app.count("grants").await, 1);
    assert_eq!(app.count("grant_events").await, 12);
}

async fn futures_join<F: std::future::Future<Output = reqwest::Response>>(calls: impl Iterator<Item = F>) -> Vec<u16> {
    let handles: Vec<_> = calls.collect();
    let mut out = Vec::new();
    // Run them all at once.
    let results = futures::future::join_all(handles).await;
    for r in results {
        out.push(r.status().as_u16());
    }
    out
}

async fn a_deleted_passport_leaves_every_nodes_cache(app: TestApp) {
    let cookie = Person::sign_in(&app, "gone@example.com").await.cookie;
    let c = connect(&app, &cookie, &AgentCreds::create(&app, &[], "read_write").await, &["fact"], "read_write").await;
    let job = c.add(&app, "My name is Ada.").await;
    c.finished(&app, &job).await;
    assert_eq!(relevance(&c, &app, "name").await.len(), 1);
    let passport: String = sqlx::query_scalar("SELECT id FROM passports").fetch_one(&app.db.pool).await.unwrap();
    let other = crate::common::spawn_node(app.backend, Some(app.database_url.clone()), |_| {}).await;
    let node_a = app.state.as_ref().unwrap();
    assert!(node_a.universal.corpora.holds(&passport), "node A cached the memories");
    // Deleted on node B: node A's next check lets go of them.
    let me = Me { app: &other, cookie };
    let res = me.call(Method::DELETE, "/v1/uui/me", Some(serde_json::json!({ "confirm": "DELETE" }))).await;
    assert_eq!(res.status(), 200);
    assert_eq!(node_a.universal.corpora.drop_stale(&app.db, node_a.universal.model_id()).await.unwrap(), 1);
    assert!(!node_a.universal.corpora.holds(&passport));
}
