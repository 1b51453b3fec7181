//! Cross-site request defence: every state-changing request to the pages and server functions
//! must come from our own origin (Origin, else Referer; Fetch Metadata when sent), with or
//! without a cookie (sign-in forms are targets too: login CSRF). The `/v1` API is for servers
//! and authenticates by header, so there the rule applies only when a cookie is sent.
//! Together with SameSite=Lax cookies this is OWASP's recommended origin check.
use super::AppState;
use crate::error::AppError;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    // Machine-to-machine endpoints that authenticate by header or are meant to be called from
    // other origins (OAuth clients); with a cookie they are checked like any other request.
    let path = req.uri().path();
    let machine = path.starts_with("/v1/") || path == "/mcp" || matches!(path, "/oauth/token" | "/oauth/register" | "/oauth/revoke");
    let api_without_cookie = machine && !req.headers().contains_key(header::COOKIE);
    if safe || api_without_cookie {
        return next.run(req).await;
    }
    if request_is_same_origin(req.headers(), state.config.public_origin().as_deref()) {
        next.run(req).await
    } else {
        tracing::warn!(path = %req.uri().path(), "refused a cross-site request");
        AppError::CrossSite.into_response()
    }
}

fn request_is_same_origin(headers: &HeaderMap, public_origin: Option<&str>) -> bool {
    let get = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return false;
        }
    }
    let Some(source) = get(header::ORIGIN).or_else(|| get(header::REFERER)) else {
        return false;
    };
    let host = get(header::HOST).unwrap_or("");
    is_same_origin(source, host, public_origin)
}

/// True if `source` (an Origin or Referer value) is the public origin or names the host the
/// request was sent to.
pub fn is_same_origin(source: &str, host: &str, public_origin: Option<&str>) -> bool {
    let Ok(url) = url::Url::parse(source) else {
        return false;
    };
    if !matches!(url.scheme(), "http" | "https") {
        return false;
    }
    let origin = url.origin().ascii_serialization();
    if let Some(public) = public_origin {
        if public.eq_ignore_ascii_case(&origin) {
            return true;
        }
        // Served over https: nothing but the public origin itself (not http on the same host).
        if public.starts_with("https://") {
            return false;
        }
    }
    let Some(source_host) = url.host_str() else {
        return false;
    };
    let authority = match url.port() {
        Some(port) => format!("{source_host}:{port}"),
        None => source_host.to_string(),
    };
    !host.is_empty() && authority.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_rules() {
        assert!(is_same_origin("http://127.0.0.1:3000", "127.0.0.1:3000", None));
        assert!(is_same_origin("http://127.0.0.1:3000/dashboard?x=1", "127.0.0.1:3000", None));
        assert!(is_same_origin("https://mp.example", "internal:8080", Some("https://mp.example")));
        assert!(is_same_origin("https://mp.example", "mp.example", None));
        assert!(!is_same_origin("http://mp.example", "mp.example", Some("https://mp.example")), "scheme matters");
        assert!(!is_same_origin("https://other.example", "other.example", Some("https://mp.example")));
        assert!(!is_same_origin("http://evil.example", "127.0.0.1:3000", None));
        assert!(!is_same_origin("http://127.0.0.1:3001", "127.0.0.1:3000", None));
        assert!(!is_same_origin("null", "127.0.0.1:3000", None));
        assert!(!is_same_origin("http://127.0.0.1:3000.evil.example", "127.0.0.1:3000", None));
        assert!(!is_same_origin("http://127.0.0.1:3000", "", None));
    }

    #[test]
    fn fetch_metadata_and_missing_origin() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "127.0.0.1:3000".parse().unwrap());
        assert!(!request_is_same_origin(&h, None), "no Origin or Referer");
        h.insert(header::ORIGIN, "http://127.0.0.1:3000".parse().unwrap());
        assert!(request_is_same_origin(&h, None));
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!request_is_same_origin(&h, None));
    }
}
