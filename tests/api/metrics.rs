//! `/metrics` in the Prometheus text format: requests by route pattern (never a raw path with
//! ids), latency histograms, the job queue's depth and job outcomes; a token guards it when set.
use crate::common::{spawn_app, spawn_app_with, Backend};

#[tokio::test]
async fn metrics_count_routes_and_jobs() {
    let app = spawn_app(Backend::Sqlite).await;
    assert_eq!(app.get("/healthz", None).await.status(), 200);
    let id = uuid::Uuid::new_v4();
    assert_eq!(app.get(&format!("/v1/agents/global/{id}"), None).await.status(), 404);
    let res = app.get("/metrics", None).await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"}"#), "{text}");
    assert!(text.contains(r#"route="/v1/agents/global/{id}",status="404""#), "route patterns, not ids");
    assert!(!text.contains(&id.to_string()), "no id in a label");
    assert!(text.contains("http_request_duration_seconds_bucket"));
    assert!(text.contains("memory_jobs_pending 0"));
}

#[tokio::test]
async fn metrics_can_require_a_token() {
    let app = spawn_app_with(Backend::Sqlite, |c| c.metrics_token = Some(memory_passport::config::Redacted("scrape-secret".into()))).await;
    assert_eq!(app.get("/metrics", None).await.status(), 401);
    let res = app.client.get(app.url("/metrics")).header("Authorization", "Bearer wrong").send().await.unwrap();
    assert_eq!(res.status(), 401);
    let res = app.client.get(app.url("/metrics")).header("Authorization", "Bearer scrape-secret").send().await.unwrap();
    assert_eq!(res.status(), 200);
}
