//! The REST API.
//!
//! Layering: handlers parse and answer HTTP, and call `service` for every rule and every read
//! or write; they never call `store`. Request facts come from `web` (state, extractors) and
//! `request` (id, client).
pub mod v1;
