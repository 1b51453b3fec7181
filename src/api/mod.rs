//! The REST API.
pub mod v1;
