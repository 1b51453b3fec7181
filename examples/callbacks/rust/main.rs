//! Memory Passport callback example: axum, with reqwest for the server-side exchange.
//! Run: `cargo run --features ssr --example callback_axum` (settings: see ../README.md).
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use rand::RngCore;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Session {
    user: String,
    state: Option<String>,
    verifier: Option<String>,
}

struct App {
    mp_base: String,
    agent_id: String,
    agent_secret: String, // server-side only
    callback: String,
    sessions: Mutex<HashMap<String, Session>>,
    tokens: Mutex<HashMap<String, String>>, // app user -> uui_ token; a real app uses its database
    http: reqwest::Client,
}

fn random(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    URL_SAFE_NO_PAD.encode(b)
}

/// The session id from the cookie; with `create`, a new session (and its Set-Cookie) when there
/// is none. Only /connect creates sessions, so stray requests cost no memory.
fn session_id(app: &App, headers: &HeaderMap, create: bool) -> Option<(String, Option<String>)> {
    let existing = headers
        .get(header::COOKIE)
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.split(';').find_map(|p| p.trim().strip_prefix("sid=").map(str::to_string)));
    let mut sessions = app.sessions.lock().unwrap();
    if let Some(id) = existing.filter(|id| sessions.contains_key(id)) {
        return Some((id, None));
    }
    if !create {
        return None;
    }
    let id = random(18);
    sessions.insert(id.clone(), Session { user: random(8), ..Default::default() });
    Some((id.clone(), Some(format!("sid={id}; HttpOnly; SameSite=Lax; Path=/"))))
}

fn with_cookie(res: impl IntoResponse, cookie: Option<String>) -> Response {
    let mut res = res.into_response();
    if let Some(c) = cookie {
        res.headers_mut().insert(header::SET_COOKIE, c.parse().unwrap());
    }
    res
}

async fn connect(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let (sid, cookie) = session_id(&app, &headers, true).expect("created");
    let verifier = random(48);
    let state = random(24);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    {
        let mut sessions = app.sessions.lock().unwrap();
        let s = sessions.get_mut(&sid).unwrap();
        s.verifier = Some(verifier);
        s.state = Some(state.clone());
    }
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("agent_id", &app.agent_id)
        .append_pair("state", &state)
        .append_pair("redirect_uri", &app.callback)
        .append_pair("categories", "preference,goal")
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    with_cookie(Redirect::to(&format!("{}/consent?{query}", app.mp_base)), cookie)
}

#[derive(Deserialize)]
struct Callback {
    status: Option<String>,
    state: Option<String>,
    code: Option<String>,
}

async fn callback(State(app): State<Arc<App>>, headers: HeaderMap, Query(q): Query<Callback>) -> Response {
    let Some((sid, cookie)) = session_id(&app, &headers, false) else {
        return (StatusCode::BAD_REQUEST, "This link is not from your session. Start again from the app.").into_response();
    };
    let (user, expected, verifier) = {
        let mut sessions = app.sessions.lock().unwrap();
        let s = sessions.get_mut(&sid).unwrap();
        (s.user.clone(), s.state.take(), s.verifier.take())
    };
    let given = q.state.unwrap_or_default();
    let state_ok = expected.is_some_and(|e| subtle::ConstantTimeEq::ct_eq(e.as_bytes(), given.as_bytes()).into());
    if !state_ok {
        return with_cookie((StatusCode::BAD_REQUEST, "This link is not from your session. Start again from the app."), cookie);
    }
    if q.status.as_deref() == Some("denied") {
        return with_cookie(Html("<h1>Not connected</h1><p>You chose not to share your memory. Nothing changed.</p>"), cookie);
    }
    let answer = app
        .http
        .post(format!("{}/v1/universal/token", app.mp_base))
        .header("Authorization", format!("ApiKey {}", app.agent_secret))
        .json(&serde_json::json!({ "code": q.code.unwrap_or_default(), "redirect_uri": app.callback, "code_verifier": verifier }))
        .send()
        .await;
    let data = match answer {
        Ok(res) if res.status().is_success() => res.json::<serde_json::Value>().await.ok().map(|v| v["data"].clone()),
        _ => None,
    };
    let Some(data) = data.filter(|d| d["uui_token"].is_string()) else {
        return with_cookie((StatusCode::BAD_GATEWAY, Html("<h1>Not connected</h1><p>The connection expired. Please try again.</p>")), cookie);
    };
    app.tokens.lock().unwrap().insert(user, data["uui_token"].as_str().unwrap().to_string());
    let cats: Vec<&str> = data["grant"]["categories"].as_array().map(|a| a.iter().filter_map(|c| c.as_str()).collect()).unwrap_or_default();
    with_cookie(Html(format!("<h1>Connected</h1><p>Shared categories: {}.</p>", cats.join(", "))), cookie)
}

async fn status(State(app): State<Arc<App>>, headers: HeaderMap) -> Response {
    let user = session_id(&app, &headers, false).map(|(sid, _)| app.sessions.lock().unwrap()[&sid].user.clone());
    let token = user.and_then(|u| app.tokens.lock().unwrap().get(&u).cloned()).unwrap_or_default();
    Json(serde_json::json!({ "connected": !token.is_empty(), "token_prefix": token.chars().take(4).collect::<String>() })).into_response()
}

#[tokio::main]
async fn main() {
    let env = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("set {k}"));
    let app_base = env("APP_BASE_URL").trim_end_matches('/').to_string();
    let app = Arc::new(App {
        mp_base: env("MP_BASE_URL").trim_end_matches('/').to_string(),
        agent_id: env("MP_AGENT_ID"),
        agent_secret: env("MP_AGENT_SECRET"),
        callback: format!("{app_base}/integrations/memoryos/callback"),
        sessions: Mutex::default(),
        tokens: Mutex::default(),
        http: reqwest::Client::new(),
    });
    let router = Router::new()
        .route("/connect", get(connect))
        .route("/integrations/memoryos/callback", get(callback))
        .route("/status", get(status))
        .with_state(app);
    let port = std::env::var("PORT").unwrap_or_else(|_| "5003".into());
    let listener = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}")).await.unwrap();
    axum::serve(listener, router).await.unwrap();
}
