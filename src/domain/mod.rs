//! Pure rules of the product: no HTTP, no Leptos, no SQL. Compiled on both sides so pages and
//! the server agree on labels, limits and URL shapes.
pub mod agent;
pub mod categories;
pub mod consent_url;
pub mod context;
pub mod dense;
pub mod email;
pub mod extract;
pub mod grant;
pub mod oauth;
pub mod plan;
pub mod rank;
pub mod time;
pub mod when;
