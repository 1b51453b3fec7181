//! Extractors whose failures are already in the error envelope.
use crate::error::AppError;
use crate::web::AppState;
use crate::service::limits;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

/// A JSON body; malformed JSON, a wrong content type or wrong field types are 422, an
/// oversized body 413.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(AppError::PayloadTooLarge),
            Err(rejection) => Err(AppError::BadRequestBody(rejection.body_text())),
        }
    }
}

/// A path parameter; anything that does not parse is an unknown id (404 in the envelope).
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|_| AppError::NotFound)
    }
}

/// The `ApiKey`/`Bearer` credential of the Authorization header.
pub fn api_key(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, key) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("apikey") || scheme.eq_ignore_ascii_case("bearer")).then(|| key.trim())
}

/// A tenant authenticated by a live `mem_…` key.
pub struct Tenant {
    pub id: String,
}

impl FromRequestParts<AppState> for Tenant {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let key = api_key(&parts.headers).ok_or(AppError::Unauthenticated)?;
        let id = crate::service::api_keys::authenticate(&state.db, key).await?.ok_or(AppError::Unauthenticated)?;
        limits::enforce(&state.db, &format!("api:tenant:{id}"), limits::TENANT_API_PER_TENANT).await?;
        Ok(Tenant { id })
    }
}

/// An agent authenticated by its `agent_sk_…` secret (live, not rejected or suspended).
pub struct AgentKey(pub crate::service::agents::Agent);

impl FromRequestParts<AppState> for AgentKey {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let key = api_key(&parts.headers).ok_or(AppError::AgentAuth)?;
        let agent = crate::service::agents::authenticate_secret(&state.db, key).await?.ok_or(AppError::AgentAuth)?;
        Ok(AgentKey(agent))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorization_schemes() {
        let mut h = HeaderMap::new();
        assert_eq!(api_key(&h), None);
        h.insert(header::AUTHORIZATION, "ApiKey mem_abc".parse().unwrap());
        assert_eq!(api_key(&h), Some("mem_abc"));
        h.insert(header::AUTHORIZATION, "bearer  mem_abc ".parse().unwrap());
        assert_eq!(api_key(&h), Some("mem_abc"));
        h.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(api_key(&h), None);
    }
}
