//! Memory Passport: a self-hostable server that lets a person decide which AI agents may
//! remember and use which parts of their memory.
// Deep pages nest many view types; the compiler needs more room for them.
#![recursion_limit = "256"]
pub mod app;
pub mod domain;
pub mod model;

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod config;
#[cfg(feature = "ssr")]
pub mod embed;
#[cfg(feature = "ssr")]
pub mod error;
#[cfg(feature = "ssr")]
pub mod mail;
#[cfg(feature = "ssr")]
pub mod request;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod service;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod web;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Lazy routes (app::lazy_pages): hydration waits for the page's chunk, so the page is
    // interactive only when this future ends, not when the app's first effect runs. Suspense
    // boundaries finish in microtasks after it; by the next frame the whole page is
    // interactive, and <body data-hydrated> says so (the tests wait for it).
    wasm_bindgen_futures::spawn_local(async {
        let body = leptos::prelude::document().body().expect("the page has a <body>");
        leptos::mount::hydrate_from_async(body, app::App).await.forget();
        leptos::prelude::request_animation_frame(|| {
            if let Some(body) = leptos::prelude::document().body() {
                let _ = body.set_attribute("data-hydrated", "");
            }
        });
    });
}
