//! What pages, server functions and `/v1` handlers share about the request they serve: the
//! application state, the signed-in account and its cookies, the CSRF guard and the response
//! headers. Pages (`app`) and the API (`api`) import this; it imports neither, and the server
//! (`server`) assembles them all into one router.
pub mod assets;
pub mod context;
pub mod csrf;
pub mod headers;
mod state;

pub use state::AppState;

use crate::request::client_ip::ClientKey;
use axum::extract::FromRequestParts;
use http::request::Parts;
use std::convert::Infallible;

/// `/v1` handlers and plain-form handlers take the client as an extractor.
impl FromRequestParts<AppState> for ClientKey {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(ClientKey::of(parts, &state.config.trusted_proxies))
    }
}
