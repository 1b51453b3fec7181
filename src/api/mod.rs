//! The REST API (`/v1`), and the MCP front door (`/mcp`) with its OAuth authorization server.
//!
//! Layering: handlers parse and answer HTTP, and call `service` for every rule and every read
//! or write; they never call `store`. Request facts come from `web` (state, extractors) and
//! `request` (id, client).
pub mod mcp;
pub mod oauth;
pub mod v1;
