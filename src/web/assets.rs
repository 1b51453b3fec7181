//! The built front end under `/pkg` (wasm, JS, CSS): served from the files cargo-leptos wrote,
//! as brotli or gzip when the build precompressed them (`cargo leptos build --release
//! --precompress`, as `make run` does) and the browser accepts it, else as they are (the
//! response compression layer then gzips them on the fly).
//!
//! What caches may keep of them is [`super::headers::asset_cache_control`]: a year when the
//! names carry a content hash, otherwise revalidation on every use.
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
