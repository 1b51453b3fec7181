//! The pages, in shared Leptos components (rendered on the server, hydrated in the browser).
mod components;
mod consent;
mod dashboard;
mod home;
mod operator;
mod tenant_auth;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

/// The HTML document around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light"/>
                <link rel="stylesheet" id="leptos" href="/pkg/memory-passport.css"/>
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
    // Effects run only in the browser: this marks the page as interactive (tests wait for it).
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <Router>
            <Routes fallback=|| view! { <components::NotFound/> }>
                <Route path=path!("") view=home::HomePage/>
                <Route path=path!("/signup") view=tenant_auth::SignUpPage/>
                <Route path=path!("/signin") view=tenant_auth::SignInPage/>
                <Route path=path!("/dashboard") view=dashboard::AgentsPage/>
                <Route path=path!("/dashboard/api-keys") view=dashboard::ApiKeysPage/>
                <Route path=path!("/operator") view=operator::OperatorPage/>
                <Route path=path!("/consent") view=consent::ConsentPage/>
            </Routes>
        </Router>
    }
}
