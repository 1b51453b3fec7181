//! Facts about the request being served that every layer may need and that depend on nothing
//! else in the crate: its id (in logs and error bodies) and which client sent it (for limits).
pub mod client_ip;
pub mod id;
