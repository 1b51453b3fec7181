//! The built front end under `/pkg` (wasm, JS, CSS): served from the files cargo-leptos wrote,
//! as brotli or gzip when the build precompressed them (`cargo leptos build --release
//! --precompress`, as `make run` does) and the browser accepts it, else as they are (the
//! response compression layer then gzips them on the fly).
//!
//! What caches may keep of them is [`super::headers::asset_cache_control`]: a year when the
//! names carry a content hash, otherwise revalidation on every use.
//!
//! Beside them, the consent flow's one script ([`consent_script`], `consent.js`), built into
//! the binary and named by its content's hash.
use super::headers::asset_cache_control;
use axum::Router;
use http::header::{CACHE_CONTROL, VARY};
use http::HeaderValue;
use std::path::Path;
use tower_http::services::ServeDir;

/// The `/pkg` service for the site in `site_root`; `hashed`: the build hashed the file names.
pub fn pkg<S: Clone + Send + Sync + 'static>(site_root: &str, hashed: bool) -> Router<S> {
    let dir = ServeDir::new(Path::new(site_root).join("pkg")).precompressed_br().precompressed_gzip();
    let policy = HeaderValue::from_static(asset_cache_control(hashed));
    Router::new().fallback_service(dir).layer(axum::middleware::map_response(move |mut res: axum::response::Response| {
        let policy = policy.clone();
        async move {
            // Only a file found may be kept; a miss must not be cached for a year.
            if res.status().is_success() || res.status() == http::StatusCode::NOT_MODIFIED {
                res.headers_mut().insert(CACHE_CONTROL, policy);
            }
            // The same name answers br, gzip or plain bytes by the request's Accept-Encoding.
            if !res.headers().contains_key(VARY) {
                res.headers_mut().insert(VARY, HeaderValue::from_static("accept-encoding"));
            }
            res
        }
    }))
}

/// The consent flow's script, compiled into the binary.
const CONSENT_JS: &str = include_str!("consent.js");

/// Where the consent flow's pages load their script from: `/assets/consent.<hash>.js`, the hash
/// of its content, so that it can be kept for a year.
pub fn consent_script_path() -> &'static str {
    static PATH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    PATH.get_or_init(|| {
        use sha2::Digest;
        let hash = hex::encode(&sha2::Sha256::digest(CONSENT_JS.as_bytes())[..8]);
        format!("/assets/consent.{hash}.js")
    })
}

/// `GET /assets/{file}`: the consent flow's script under its hashed name (the response
/// compression layer compresses it); any other name is not found.
pub async fn consent_script(axum::extract::Path(file): axum::extract::Path<String>) -> axum::response::Response {
    use axum::response::IntoResponse;
    if consent_script_path().strip_prefix("/assets/") != Some(file.as_str()) {
        return http::StatusCode::NOT_FOUND.into_response();
    }
    (
        [
            (http::header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8")),
            (CACHE_CONTROL, HeaderValue::from_static(asset_cache_control(true))),
        ],
        CONSENT_JS,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_consent_script_is_named_by_its_content() {
        let path = consent_script_path();
        assert!(path.starts_with("/assets/consent.") && path.ends_with(".js"), "{path}");
        assert_eq!(path.len(), "/assets/consent.".len() + 16 + ".js".len());
        assert!(CONSENT_JS.contains("data-hydrated"));
    }
}
