//! Credentials: random secrets and their hashes, passwords, and session cookies.
pub mod cookies;
pub mod password;
pub mod pkce;
pub mod secrets;
pub mod server_key;
