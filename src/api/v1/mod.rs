//! `/v1`: JSON in, JSON out, every answer with `request_id` and every error in the envelope.
mod agents;
mod extract;
mod me;
pub mod reference;
mod universal;
pub mod wire;

use crate::domain::time::rfc3339;
use crate::error::AppError;
use crate::request::id as request_id;
use crate::web::AppState;
use crate::service::now_ms;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use std::sync::OnceLock;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Largest JSON body accepted by `/v1`.
pub const MAX_JSON_BYTES: usize = 64 * 1024;

/// Every `/v1` route with its documentation: `routes!` registers a handler and its
/// `#[utoipa::path]` together, so nothing is served that the document does not describe.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(<ApiDoc as utoipa::OpenApi>::openapi())
        .routes(routes!(agents::create, agents::list))
        .routes(routes!(agents::public_profile, agents::update, agents::retire))
        .routes(routes!(agents::rotate_secret))
        .routes(routes!(universal::token))
        .routes(routes!(universal::retrieve))
        .routes(routes!(universal::add))
        .routes(routes!(universal::job))
        .routes(routes!(me::delete_passport))
        .routes(routes!(me::grants))
        .routes(routes!(me::update_grant, me::revoke_grant))
        .routes(routes!(me::memories))
        .routes(routes!(me::correct_memory, me::delete_memory))
        .routes(routes!(me::flag_memory))
        .routes(routes!(me::memory_versions))
        .routes(routes!(me::questions))
        .routes(routes!(me::answer_question))
        .routes(routes!(me::export))
}

pub fn router() -> Router<AppState> {
    let (routes, _) = documented().split_for_parts();
    routes
        .route("/openapi.json", get(openapi_json))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_JSON_BYTES))
}

/// The OpenAPI 3.1 document of `/v1`, with the paths as clients call them (`/v1/…`).
pub fn openapi() -> &'static OpenApi {
    static DOC: OnceLock<OpenApi> = OnceLock::new();
    DOC.get_or_init(|| {
        let (_, mut doc) = documented().split_for_parts();
        let paths = std::mem::take(&mut doc.paths.paths);
        doc.paths.paths = paths.into_iter().map(|(path, item)| (format!("/v1{path}"), item)).collect();
        doc
    })
}

async fn openapi_json() -> Response {
    let mut res = axum::Json(openapi()).into_response();
    res.headers_mut().insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("public, max-age=300"));
    res
}

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Memory Passport API",
        description = "Tenants register global agents (`mem_` key); agents read and add a person's approved memory \
                       (`agent_sk_` secret plus the person's `uui_` token); people manage their own Passport over their \
                       signed-in session. Every error is `{error, code, request_id, details}`.",
        license(name = "Apache-2.0"),
    ),
    modifiers(&SecuritySchemes),
    components(schemas(wire::ErrorBody)),
    tags(
        (name = "agents", description = "Global agents, for tenants (`Authorization: ApiKey mem_…`)"),
        (name = "universal", description = "For agents: `Authorization: ApiKey agent_sk_…` and `X-MemoryOS-UUI: uui_…`"),
        (name = "me", description = "A person's own Passport, over the manage page's session cookie; changes must come from this origin"),
    )
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, doc: &mut OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        let header = |name: &str, what: &str| SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(name, what)));
        c.add_security_scheme("tenant_key", header("Authorization", "`ApiKey mem_…` (or `Bearer mem_…`): a tenant API key"));
        c.add_security_scheme("agent_key", header("Authorization", "`ApiKey agent_sk_…` (or `Bearer …`): the agent's secret"));
        c.add_security_scheme("person_token", header("X-MemoryOS-UUI", "`uui_…`: the person's pairwise token for this agent"));
        c.add_security_scheme(
            "passport_session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::cookies::PASSPORT_COOKIE,
                "The manage page's session, from signing in with an emailed code",
            ))),
        );
    }
}

/// `{"data": …, "request_id", "timestamp"}` with the given status.
pub fn data<T: Serialize>(status: StatusCode, data: T) -> Response {
    let body = serde_json::json!({
        "data": data,
        "request_id": request_id::current(),
        "timestamp": rfc3339(now_ms()),
    });
    (status, axum::Json(body)).into_response()
}

async fn not_found() -> AppError {
    AppError::NotFound
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use crate::service::universal as u;
    use serde_json::Value;

    fn schema<'a>(doc: &'a Value, name: &str) -> &'a Value {
        &doc["components"]["schemas"][name]["properties"]
    }

    /// The document states the limits the code enforces, so generated requests probe the edges.
    #[test]
    fn documented_limits_are_the_enforced_ones() {
        let doc = serde_json::to_value(super::openapi()).unwrap();
        let retrieve = schema(&doc, "RetrieveBody");
        assert_eq!(retrieve["limit"]["maximum"], u::MAX_LIMIT);
        assert_eq!(retrieve["context_max_tokens"]["maximum"], u::MAX_CONTEXT_TOKENS);
        assert_eq!(retrieve["query"]["maxLength"], u::MAX_QUERY_CHARS);
        let add = schema(&doc, "AddBody");
        assert_eq!(add["messages"]["maxItems"], u::MAX_MESSAGES);
        assert_eq!(add["idempotency_key"]["maxLength"], u::MAX_IDEMPOTENCY_KEY_CHARS);
        assert_eq!(schema(&doc, "MessageBody")["content"]["maxLength"], u::MAX_MESSAGE_CHARS);
    }

    #[test]
    fn every_path_is_under_v1_and_every_operation_says_what_it_does() {
        let doc = serde_json::to_value(super::openapi()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        assert_eq!(paths.len(), 17);
        for (path, item) in paths {
            assert!(path.starts_with("/v1/"), "{path}");
            for (method, op) in item.as_object().unwrap() {
                assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{method} {path} has no summary");
                assert!(op["responses"].as_object().unwrap().keys().any(|s| s.starts_with('2')), "{method} {path}");
            }
        }
    }
}
