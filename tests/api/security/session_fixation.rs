//! Session fixation (`docs/security-matrix.md`, rows 5*): a session value planted in the victim's
//! browser before sign-in (an unknown value, the attacker's own valid session, or a cookie
//! tossed from a sibling host) is never adopted; sign-out ends the session on the server; one
//! kind of session is never taken for another. Each test runs on SQLite and on PostgreSQL,
//! except the https cookie test (a configuration, SQLite only).
use crate::common::{
    call, expect_error, me, request_code, server_fn_endpoint, sessions_for, set_cookie, spawn_app_with, value_of, AgentCreds, Backend, Person,
    TestApp,
};
use crate::on_both_backends;
use memory_passport::auth::secrets;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

on_both_backends!(
    planted_passport_cookie_is_never_adopted_and_sign_out_ends_the_session,
    planted_tenant_cookie_is_never_adopted_and_sign_out_ends_the_session,
    session_tokens_do_not_cross_account_kinds,
);

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
    let attackers = Person::sign_in(&app, "attacker@example.com").await.cookie;
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
    let AgentCreds { id: agent_id, .. } = AgentCreds::create(&app, &[], "read_only").await;
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
    let passport = Person::sign_in(&app, "kinds@example.com").await.cookie;
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
        if let Some(c) = app.outbox().codes_to(email).pop() {
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
