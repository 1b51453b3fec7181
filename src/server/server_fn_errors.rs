//! Leptos answers a server-function call whose arguments cannot be read with 500. That is the
//! caller's mistake, not ours: it becomes 422 (405 for a method the function does not take),
//! so no bad input is ever reported as a server failure.
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Error bodies are short (`Kind|message`); anything longer is not one of these.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn client_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR || !res.headers().contains_key("serverfnerror") {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BODY).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if let Some(status) = status_for(&bytes) {
        parts.status = status;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The status for a server function's encoded error (`Kind|message`), when the caller caused it.
fn status_for(body: &[u8]) -> Option<StatusCode> {
    match body.split(|b| *b == b'|').next()? {
        b"Args" | b"MissingArg" | b"Deserialization" => Some(StatusCode::UNPROCESSABLE_ENTITY),
        b"UnsupportedRequestMethod" => Some(StatusCode::METHOD_NOT_ALLOWED),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_errors_in_the_request_are_remapped() {
        assert_eq!(status_for(b"Args|missing field `email`"), Some(StatusCode::UNPROCESSABLE_ENTITY));
        assert_eq!(status_for(b"MissingArg|code"), Some(StatusCode::UNPROCESSABLE_ENTITY));
        assert_eq!(status_for(b"Deserialization|EOF while parsing"), Some(StatusCode::UNPROCESSABLE_ENTITY));
        assert_eq!(status_for(b"UnsupportedRequestMethod|PUT"), Some(StatusCode::METHOD_NOT_ALLOWED));
        assert_eq!(status_for(b"ServerError|Something went wrong on our side."), None);
        assert_eq!(status_for(b"Serialization|x"), None);
        assert_eq!(status_for(b""), None);
    }
}
