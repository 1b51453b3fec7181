//! The service layer: rules + storage, shared by pages (server functions), the REST API and the
//! command line. Knows nothing of HTTP or Leptos.
pub mod accounts;
pub mod agents;
pub mod api_keys;
pub mod consent;
pub mod limits;
pub mod manage;
pub mod otp;
pub mod passport_session;
pub mod tokens;
pub mod universal;
