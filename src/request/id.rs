//! A request id on every response (`x-request-id`) and in every error body, and request logs
//! that carry it. Paths are logged without query strings, which may carry state or tokens.
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Response};
use axum::middleware::Next;
use std::time::Duration;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::TraceLayer;
use tracing::Span;

tokio::task_local! {
    static REQUEST_ID: String;
}

#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// The id of the request being handled on this task.
pub fn current() -> String {
    REQUEST_ID.try_with(Clone::clone).unwrap_or_else(|_| "req_none".to_string())
}

pub async fn assign(mut req: Request, next: Next) -> Response<Body> {
    let id = format!("req_{}", uuid::Uuid::new_v4().simple());
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut res = REQUEST_ID.scope(id.clone(), next.run(req)).await;
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

type MakeSpan = fn(&Request) -> Span;
type OnResponse = fn(&Response<Body>, Duration, &Span);

pub fn trace_layer() -> TraceLayer<SharedClassifier<ServerErrorsAsFailures>, MakeSpan, tower_http::trace::DefaultOnRequest, OnResponse> {
    TraceLayer::new_for_http().make_span_with(make_span as MakeSpan).on_response(on_response as OnResponse)
}

fn make_span(req: &Request) -> Span {
    let id = req.extensions().get::<RequestId>().map(|r| r.0.as_str()).unwrap_or("");
    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
}

fn on_response(res: &Response<Body>, latency: Duration, _span: &Span) {
    tracing::info!(status = res.status().as_u16(), latency_ms = latency.as_secs_f64() * 1000.0, "response");
}
