//! Open redirects (`docs/security-matrix.md`, rows 6*): a consent link's `redirect_uri` that is
//! not byte for byte a registered one, a `next` / `return_to` style parameter on the pages, and
//! Leptos's no-JavaScript form handling (which redirects to the `Referer`). Also the weakness
//! these tests found and that is fixed: the consent page decoding its query twice. Each test
//! runs on SQLite and on PostgreSQL.
use crate::common::{call, expect_error, query, AgentCreds, Person, TestApp, REDIRECT};
use crate::on_both_backends;
use serde_json::{json, Value};

on_both_backends!(
    consent_links_never_redirect_to_an_unregistered_uri,
    pages_take_no_redirect_parameter,
    html_form_posts_only_return_to_our_own_pages,
    a_registered_uri_with_a_percent_escape_opens_the_consent_page,
);

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
    let AgentCreds { id: agent_id, .. } = AgentCreds::create(&app, &[REDIRECT, "http://localhost:8080/cb"], "read_only").await;
    let cookie = Person::sign_in(&app, "redirects@example.com").await.cookie;
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

/// An agent may register a redirect URI with a %-escape in it (`…/cb?next=%2Fhome`); a consent
/// link carrying it, encoded once as a URL parameter must be, should open the consent page.
/// The router's query map (leptos_router's `ParamsMap::insert`) percent-decodes every value a
/// second time, so the page used to see `…/cb?next=/home`, which is not registered, and stop;
/// the page now decodes the raw query once.
async fn a_registered_uri_with_a_percent_escape_opens_the_consent_page(app: TestApp) {
    let registered = "https://app.example/cb?next=%2Fhome";
    let AgentCreds { id: agent_id, .. } = AgentCreds::create(&app, &[registered], "read_only").await;
    let page = app.client.get(app.url("/consent")).query(&[("agent_id", agent_id.as_str()), ("redirect_uri", registered)]).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(!html.contains("has not registered"), "the registered URI is refused on the page");
}
