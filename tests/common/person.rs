//! A person with a Memory Passport: signed in through the real one-time code flow, and their
//! own API (`/v1/uui/me/*`) over that session.
use super::app::TestApp;
use super::outbox::{code_in, is_code_mail};
use serde_json::Value;
use std::time::Duration;

/// A person signed in with an emailed code.
#[derive(Clone, Debug)]
pub struct Person {
    pub email: String,
    /// The session cookie, `mp_passport=…`, as a `Cookie` header sends it.
    pub cookie: String,
}

impl Person {
    /// Signs `email` in through the real one-time code flow: asks for a code, reads the newest
    /// code for this address from the outbox once it has arrived, and verifies it.
    pub async fn sign_in(app: &TestApp, email: &str) -> Person {
        let outbox = app.outbox();
        let is_code = |m: &String| m.contains(&format!("To: {email}")) && is_code_mail(m);
        let before = outbox.files();
        let codes_before = if before == 0 { 0 } else { outbox.wait_for(before).await.iter().filter(|m| is_code(m)).count() };
        assert_eq!(app.server_fn("passport/send_code", None, &[("email", email)]).await.status(), 200);
        let mut mail = None;
        // The newest code for this address, once it has arrived.
        for n in before + 1..=before + 20 {
            let codes: Vec<String> = outbox.wait_for(n).await.into_iter().filter(is_code).collect();
            if codes.len() > codes_before {
                mail = codes.into_iter().last();
                break;
            }
        }
        let mail = mail.expect("a sign-in code was mailed");
        let code = code_in(&mail);
        let res = app.server_fn("passport/verify_code", None, &[("email", email), ("code", &code)]).await;
        assert_eq!(res.status(), 200);
        let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
        Person { email: email.to_string(), cookie }
    }

    /// This person's own API on `app`.
    pub fn me<'a>(&self, app: &'a TestApp) -> Me<'a> {
        Me { app, cookie: self.cookie.clone() }
    }
}

/// Asks for a sign-in code for `email` (with `cookie`, as a browser holding it would) and
/// returns the code from the new mail.
pub async fn request_code(app: &TestApp, email: &str, cookie: Option<&str>) -> String {
    let before = app.outbox().codes_to(email).len();
    let res = app.server_fn("passport/send_code", cookie, &[("email", email)]).await;
    assert_eq!(res.status(), 200, "send_code {email}");
    for _ in 0..200 {
        let codes = app.outbox().codes_to(email);
        if codes.len() > before {
            return codes.last().unwrap().clone();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no code arrived for {email}");
}

/// The person's own API, `/v1/uui/me/*`, with a session cookie, from our own origin.
pub struct Me<'a> {
    pub app: &'a TestApp,
    pub cookie: String,
}

impl Me<'_> {
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> reqwest::Response {
        let mut req = self.app.client.request(method, self.app.url(path)).header("Cookie", &self.cookie).header("Origin", &self.app.base);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send().await.unwrap()
    }

    /// A call that must answer 200; returns its `data`.
    pub async fn data(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let res = self.call(method, path, body).await;
        assert_eq!(res.status(), 200, "{path}");
        res.json::<Value>().await.unwrap()["data"].clone()
    }
}

/// One call to the person's own API with the session `cookie`, from our own origin.
pub async fn me(app: &TestApp, cookie: &str, method: reqwest::Method, path: &str, body: Option<Value>) -> reqwest::Response {
    Me { app, cookie: cookie.to_string() }.call(method, path, body).await
}
