//! The one error type of the server, and the one place it becomes an HTTP answer (the API's
//! JSON envelope `{"error", "code", "request_id", "details"}`) or a sentence for a person (its
//! Display, which server functions carry to pages through `ServerFnError`'s blanket conversion).
use crate::domain::agent::FieldError;
use crate::request::id as request_id;
use crate::store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// Display is the sentence a person may read (pages get it through server functions); the
/// wire form is built by `parts`.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("We couldn't find that. It may have been removed.")]
    NotFound,
    #[error("{}", join_messages(.0))]
    Validation(Vec<FieldError>),
    #[error("The form could not be read. Reload the page and try again.")]
    BadRequestBody(String),
    #[error("Your session has ended. Sign in again.")]
    Unauthenticated,
    #[error("That email and password don't match an account.")]
    BadSignIn,
    #[error("{0}")]
    Conflict(String),
    #[error("{}", retry_text(*.retry_after_secs))]
    RateLimited { retry_after_secs: u64 },
    #[error("That is more text than we accept in one go.")]
    PayloadTooLarge,
    #[error("This request was refused. Reload the page and try again.")]
    MethodNotAllowed,
    #[error("This request was refused. Reload the page and try again.")]
    CrossSite,
    /// An exchange code that is unknown, used, expired, or bound to something else.
    #[error("This sign-in link has expired. Start again from the app.")]
    InvalidGrant,
    /// An OAuth request the authorization server refuses (RFC 6749 §5.2 and §4.1.2.1 names:
    /// `invalid_request`, `invalid_client`, `invalid_grant`, `unsupported_grant_type`,
    /// `invalid_scope`, `invalid_target`, `invalid_client_metadata`, `invalid_redirect_uri`).
    #[error("{description}")]
    OAuth { error: &'static str, description: String },
    /// A missing, unknown, expired or revoked OAuth access token at `/mcp`, or one for another
    /// resource, or whose grant is no longer in force (RFC 6750 `invalid_token`).
    #[error("missing or invalid access token")]
    InvalidToken,
    /// The access token does not carry what the call needs; `scope` is what would (RFC 6750).
    #[error("This app needs more access to do that.")]
    InsufficientScope { scope: String },
    /// Bad agent credentials on the agent API.
    #[error("missing or invalid agent credentials")]
    AgentAuth,
    /// An agent without an active read-write grant tried to add memories.
    #[error("This app may only read your memory, not add to it.")]
    WriteNotPermitted,
    #[error("Something went wrong on our side. Please try again.")]
    Store(#[source] StoreError),
    /// A broken invariant on our side (logged when it is created).
    #[error("Something went wrong on our side. Please try again.")]
    Internal(String),
}

fn join_messages(fields: &[FieldError]) -> String {
    fields.iter().map(|f| f.message.as_str()).collect::<Vec<_>>().join(" ")
}

fn retry_text(retry_after_secs: u64) -> String {
    match retry_after_secs.div_ceil(60) {
        0 | 1 => "Too many attempts. Try again in a minute.".into(),
        minutes => format!("Too many attempts. Try again in {minutes} minutes."),
    }
}

impl From<StoreError> for AppError {
    /// Storage failures are logged here, once, with their detail; people get a plain sentence.
    fn from(e: StoreError) -> AppError {
        tracing::error!(error = %e, "storage failed");
        AppError::Store(e)
    }
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn oauth(error: &'static str, description: impl Into<String>) -> AppError {
        AppError::OAuth { error, description: description.into() }
    }

    pub fn invalid(field: &str, message: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldError { field: field.into(), message: message.into() }])
    }

    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    /// Status, snake_case error name, code and details for the wire.
    fn parts(&self) -> (StatusCode, &'static str, &'static str, Value) {
        use AppError::*;
        match self {
            NotFound => (StatusCode::NOT_FOUND, "not_found", "REQ_404", Value::Null),
            Validation(fields) => (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed", "REQ_422", json!(fields)),
            BadRequestBody(why) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request_body", "REQ_422", json!({ "message": why }))
            }
            Unauthenticated => (StatusCode::UNAUTHORIZED, "invalid_api_key", "AUTH_401", Value::Null),
            BadSignIn => (StatusCode::UNAUTHORIZED, "invalid_credentials", "AUTH_401", Value::Null),
            Conflict(why) => (StatusCode::CONFLICT, "conflict", "REQ_409", json!({ "message": why })),
            RateLimited { retry_after_secs } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "RATE_429",
                json!({ "retry_after_seconds": retry_after_secs }),
            ),
            PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "REQ_413", Value::Null),
            MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "REQ_405", Value::Null),
            CrossSite => (StatusCode::FORBIDDEN, "cross_site_request", "CSRF_403", Value::Null),
            InvalidGrant => (StatusCode::BAD_REQUEST, "invalid_grant", "TOK_400", Value::Null),
            OAuth { error, description } => {
                let status = if *error == "invalid_client" { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
                (status, error, "OAUTH_400", json!({ "message": description }))
            }
            InvalidToken => (StatusCode::UNAUTHORIZED, "invalid_token", "MCP_401", Value::Null),
            InsufficientScope { scope } => (StatusCode::FORBIDDEN, "insufficient_scope", "MCP_403", json!({ "scope": scope })),
            AgentAuth => (StatusCode::UNAUTHORIZED, "cross_agent_auth_failed", "UAT_001", Value::Null),
            WriteNotPermitted => (StatusCode::FORBIDDEN, "write_not_permitted", "UAT_002", Value::Null),
            Store(_) | Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "SRV_500", Value::Null),
        }
    }

    /// What a person is told on a page. Never a raw code.
    pub fn for_people(&self) -> String {
        self.to_string()
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, error, code, details) = self.parts();
        let mut body = json!({
            "error": error,
            "code": code,
            "request_id": request_id::current(),
            "details": details,
        });
        // OAuth clients read the reason from `error_description` (RFC 6749 §5.2).
        if let AppError::OAuth { description, .. } = &self {
            body["error_description"] = json!(description);
        }
        let mut response = (status, axum::Json(body)).into_response();
        if let AppError::RateLimited { retry_after_secs } = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_answer_has_retry_after_and_envelope() {
        let r = AppError::RateLimited { retry_after_secs: 42 }.into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "42");
    }

    #[test]
    fn people_never_see_codes() {
        let all = [
            AppError::NotFound,
            AppError::invalid("name", "Give the agent a name."),
            AppError::Unauthenticated,
            AppError::RateLimited { retry_after_secs: 600 },
            AppError::Store(StoreError::Conflict),
        ];
        for e in all {
            let text = e.for_people();
            assert!(!text.contains("REQ_") && !text.contains("_4") && !text.contains("_5"), "{text}");
        }
        assert_eq!(AppError::RateLimited { retry_after_secs: 600 }.for_people(), "Too many attempts. Try again in 10 minutes.");
    }
}
