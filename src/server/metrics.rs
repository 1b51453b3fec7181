//! Prometheus metrics at `/metrics`: requests and their latency by route, the job queue's
//! depth, and jobs completed and failed. Recorded through the `metrics` facade and rendered
//! by `metrics-exporter-prometheus`; no label ever carries a secret or a person's data (routes
//! are the patterns, e.g. `/v1/uui/me/memories/{id}`).
use crate::web::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Latency buckets in seconds: from a cached retrieve to a slow page.
const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

/// The process's recorder (installed once; every server in a process shares it).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .expect("buckets are not empty")
            .install_recorder()
            .expect("one metrics recorder per process")
    })
}

/// Counts each routed request and its latency under the route's pattern.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status).increment(1);
    metrics::histogram!("http_request_duration_seconds", "method" => method, "route" => route).record(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`, behind `Authorization: Bearer <METRICS_TOKEN>` when that is set.
pub async fn render(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &state.config.metrics_token {
        let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).unwrap_or("");
        let same = crate::auth::secrets::hashes_equal(&crate::auth::secrets::hash(given), &crate::auth::secrets::hash(&expected.0));
        if !same {
            return (StatusCode::UNAUTHORIZED, "metrics need the bearer token").into_response();
        }
    }
    match crate::service::universal::pending_jobs(&state.db).await {
        Ok(n) => metrics::gauge!("memory_jobs_pending").set(n as f64),
        Err(e) => tracing::warn!(error = %e, "could not count pending jobs"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], handle().render()).into_response()
}
