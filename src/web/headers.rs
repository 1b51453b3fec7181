//! Response headers that every answer carries, in one place: framing, sniffing, referrers, the
//! Content-Security-Policy of pages and what caches may keep.
//!
//! - Every answer: `X-Content-Type-Options: nosniff`, `X-Frame-Options: DENY`,
//!   `Referrer-Policy: strict-origin-when-cross-origin` (tower-http header layers).
//! - Pages: a CSP with a fresh nonce per request ([`page_policy`]): the nonce is made here,
//!   handed to the render (the HTML shell adopts it, so Leptos puts it on every inline script
//!   it writes), and the policy is set on the answer if it is HTML. Every other answer gets
//!   [`OTHER_CSP`], which allows nothing at all. (This one needs request state, so it is a
//!   small middleware; the fixed headers are tower-http layers.)
//! - `Cache-Control: no-store` for credentials, personal pages and server-function answers
//!   ([`cache_control`]); `no-cache` for public pages and an hour for public files
//!   ([`default_cache_control`]); the built front end's files a year when their names are
//!   hashed ([`asset_cache_control`], set by [`super::assets`]).
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, PRAGMA, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use http::HeaderValue;
use tower_http::set_header::SetResponseHeaderLayer;

/// The policy of answers that are not pages (JSON, files, plain text): nothing may run, load
/// or frame them.
pub const OTHER_CSP: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The policy of a page rendered with `nonce`: scripts only from this origin or inline with the
/// nonce, WebAssembly compiled (not `eval`), styles from this origin only, images also from
/// https (agent logos live on the agents' sites), and never inside a frame.
pub fn page_csp(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' https: data:; font-src 'self'; connect-src 'self'; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'"
    )
}

/// The fixed headers of every answer (the page CSP is set during the render, so the layer
/// only fills it in where it is missing).
pub fn layers<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .layer(axum::middleware::from_fn(cache_policy))
        .layer(axum::middleware::from_fn(page_policy))
        .layer(SetResponseHeaderLayer::if_not_present(CONTENT_SECURITY_POLICY, HeaderValue::from_static(OTHER_CSP)))
        .layer(SetResponseHeaderLayer::overriding(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin")))
}

/// What caches may keep of the answer to `path`: `Some("no-store")` for credentials (the token
/// exchange, RFC 6749 §5.1), personal pages, the person's API and server functions; `None`
/// leaves the answer's own caching alone.
pub fn cache_control(path: &str) -> Option<&'static str> {
    const PRIVATE_PAGES: [&str; 6] = ["/complete", "/manage", "/dashboard", "/operator", "/consent", "/passport"];
    let under = |prefix: &str| path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'));
    let private = PRIVATE_PAGES.iter().any(|p| under(p))
        || under("/api")
        || under("/v1/uui/me")
        || path == "/v1/universal/token"
        || under("/oauth")
        || path == "/mcp";
    private.then_some("no-store")
}

/// What caches may keep of a built front-end file (`/pkg/…`): a year, never revalidated, when
/// its name carries its content hash (a new build has new names); otherwise it is checked
/// with the server (`Last-Modified`) before each use.
pub fn asset_cache_control(hashed: bool) -> &'static str {
    if hashed { "public, max-age=31536000, immutable" } else { "no-cache" }
}

/// What caches may keep of a page or file answer that set no policy of its own: a public page
/// is checked again before each use (its nonce and the signed-in header change), a public file
/// such as the icon (a last path segment with a dot) is kept an hour; anything else (health
/// checks, metrics) is left alone.
pub fn default_cache_control(path: &str, is_html: bool) -> Option<&'static str> {
    let file = path.rsplit('/').next().is_some_and(|last| last.contains('.'));
    if is_html {
        Some("no-cache")
    } else if file {
        Some("public, max-age=3600")
    } else {
        None
    }
}

async fn cache_policy(req: Request, next: Next) -> Response {
    let policy = cache_control(req.uri().path());
    let token_exchange = req.uri().path() == "/v1/universal/token";
    let path = req.uri().path().to_string();
    let file_or_page = req.method() == http::Method::GET && !path.starts_with("/v1/") && !path.starts_with("/api/");
    let mut res = next.run(req).await;
    if let Some(value) = policy {
        res.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static(value));
        if token_exchange {
            res.headers_mut().insert(PRAGMA, HeaderValue::from_static("no-cache"));
        }
    } else if file_or_page && res.status().is_success() && !res.headers().contains_key(CACHE_CONTROL) {
        let is_html = res.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
        if let Some(value) = default_cache_control(&path, is_html) {
            res.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static(value));
        }
    }
    res
}

/// The nonce of one request's page, in the request's extensions.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

/// Makes this request's nonce, and gives an HTML answer the page policy with it.
async fn page_policy(mut req: Request, next: Next) -> Response {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let nonce = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut res = next.run(req).await;
    let is_html = res.headers().get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|t| t.starts_with("text/html"));
    if is_html {
        if let Ok(value) = HeaderValue::from_str(&page_csp(&nonce)) {
            res.headers_mut().insert(CONTENT_SECURITY_POLICY, value);
        }
    }
    res
}

/// Called by the HTML shell on the server: the render uses the request's nonce, so every
/// inline script Leptos writes carries the one the page policy names.
pub fn adopt_nonce() {
    use leptos::prelude::{provide_context, use_context};
    let nonce = use_context::<http::request::Parts>().and_then(|p| p.extensions.get::<CspNonce>().cloned());
    if let Some(CspNonce(n)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(n));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_personal_pages_and_server_functions_are_never_stored() {
        for path in [
            "/complete", "/manage", "/dashboard", "/dashboard/api-keys", "/operator", "/consent",
            "/api/passport/send_code", "/v1/uui/me", "/v1/uui/me/grants", "/v1/uui/me/export", "/v1/universal/token",
        ] {
            assert_eq!(cache_control(path), Some("no-store"), "{path}");
        }
        for path in ["/", "/signin", "/signup", "/docs/api", "/pkg/memory-passport.js", "/favicon.svg", "/v1/openapi.json",
            "/v1/universal/memories/retrieve", "/managers", "/apis", "/v1/uui/mesh"] {
            assert_eq!(cache_control(path), None, "{path}");
        }
    }

    #[test]
    fn public_pages_are_revalidated_files_kept_an_hour_and_hashed_assets_a_year() {
        assert_eq!(default_cache_control("/", true), Some("no-cache"));
        assert_eq!(default_cache_control("/docs/api", true), Some("no-cache"));
        assert_eq!(default_cache_control("/favicon.svg", false), Some("public, max-age=3600"));
        assert_eq!(default_cache_control("/healthz", false), None);
        assert_eq!(default_cache_control("/metrics", false), None);
        assert!(asset_cache_control(true).contains("immutable"));
        assert!(!asset_cache_control(false).contains("immutable") && !asset_cache_control(false).contains("max-age=3"));
    }

    #[test]
    fn the_page_policy_frames_nothing_and_runs_no_unnonced_inline_script() {
        let csp = page_csp("abc");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(csp.contains("script-src 'self' 'nonce-abc' 'wasm-unsafe-eval';"));
        assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"));
        assert!(OTHER_CSP.contains("frame-ancestors 'none'") && OTHER_CSP.starts_with("default-src 'none'"));
    }
}
