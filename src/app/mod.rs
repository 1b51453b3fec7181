//! The pages, in shared Leptos components (rendered on the server, hydrated in the browser).
//!
//! Layering: pages and their server functions call `service` (and read `domain` and `model`),
//! never `store`; request facts (state, signed-in account, cookies, client) come from
//! `web::context`. Server functions live beside the components that call them, in the same
//! file, as in the Leptos examples; a server function two files call lives with the first
//! (e.g. `passport_auth`, the email sign-in of both the consent and the manage page).
pub mod api_docs;
mod components;
mod consent_page;
mod dashboard;
mod grant_fields;
mod home;
mod manage;
mod operator;
#[cfg(feature = "ssr")]
pub mod forms;
pub mod passport_auth;
mod tenant_auth;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::web::headers::adopt_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <HashedStylesheet options=options.clone() id="leptos"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser. Suspense boundaries finish hydrating in microtasks, so
    // by the next frame the whole page is interactive; mark it then (tests wait for it).
    Effect::new(|_| {
        request_animation_frame(|| {
            if let Some(body) = document().body() {
                let _ = body.set_attribute("data-hydrated", "");
            }
        });
    });
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <Router>
            <Routes fallback=|| view! { <components::NotFound/> }>
                <Route path=path!("") view=home::HomePage/>
                <Route path=path!("/signup") view=tenant_auth::SignUpPage/>
                <Route path=path!("/signin") view=tenant_auth::SignInPage/>
                // Pages with data render whole before they are sent (SsrMode::Async): no
                // streamed chunks for hydration to race, and a complete page without scripts.
                <Route path=path!("/dashboard") view=dashboard::AgentsPage ssr=SsrMode::Async/>
                <Route path=path!("/dashboard/api-keys") view=dashboard::ApiKeysPage ssr=SsrMode::Async/>
                <Route path=path!("/operator") view=operator::OperatorPage ssr=SsrMode::Async/>
                <Route path=path!("/consent") view=consent_page::ConsentPage ssr=SsrMode::Async/>
                <Route path=path!("/complete") view=consent_page::CompletePage ssr=SsrMode::Async/>
                <Route path=path!("/passport/link") view=passport_auth::LinkPage ssr=SsrMode::Async/>
                <Route path=path!("/manage") view=manage::ManagePage ssr=SsrMode::Async/>
                <Route path=path!("/docs/api") view=api_docs::ApiDocsPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
