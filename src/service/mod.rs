//! The service layer: rules + storage, shared by pages (server functions), the REST API and the
//! command line. Knows nothing of HTTP or Leptos.
//!
//! The arrows point one way: `app` and `api` → `service` → `domain` (pure rules) and `store`
//! (all SQL, no policy). The service re-exports the store's row types its callers use.
pub mod accounts;
pub mod agents;
pub mod api_keys;
pub mod consent;
pub mod limits;
pub mod oauth;
pub mod manage;
pub mod otp;
pub mod session;
pub mod token_count;
pub mod universal;
mod views;

/// The clock and ids every layer uses (kept with the store, which writes them).
pub use crate::store::{new_id, now_ms};
