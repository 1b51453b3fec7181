//! The pages, in shared Leptos components (rendered on the server, hydrated in the browser).
//!
//! Layering: pages and their server functions call `service` (and read `domain` and `model`),
//! never `store`; request facts (state, signed-in account, cookies, client) come from
//! `web::context`. Server functions live beside the components that call them, in the same
//! file, as in the Leptos examples; a server function two files call lives with the first
//! (e.g. `passport_auth`, the email sign-in of both the consent and the manage page).
pub mod api_docs;
mod components;
#[cfg_attr(not(feature = "ssr"), allow(dead_code))]
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
use leptos_router::components::{FlatRoutes, Route, Router};
use leptos_router::{lazy_route, path, Lazy, LazyRoute, SsrMode};

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
                <Scripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The consent flow: the pages a person reaches from an app, often on a phone. They are
/// rendered whole on the server and work as plain forms (`forms`), so instead of the app's
/// WebAssembly they load one small script (`web/consent.js`) for what needs a script, and are
/// interactive as soon as they are shown.
pub const CONSENT_FLOW: [&str; 3] = ["/consent", "/complete", "/passport/link"];

/// The consent flow's routes: its pages on the server; in the browser, which never renders
/// them, a page that loads itself from the server (should the app's router ever navigate to
/// one), so that none of their code is in the WebAssembly. (Kept as lazy routes instead,
/// their code shared with /manage split into ~90 small chunks: /manage then loaded 514 KB in
/// place of 414 KB.)
mod consent_flow {
    #[cfg(feature = "ssr")]
    pub use super::consent_page::{CompletePage as Complete, ConsentPage as Consent};
    #[cfg(feature = "ssr")]
    pub use super::passport_auth::LinkPage as SignInLink;
    #[cfg(not(feature = "ssr"))]
    pub use server_page as Complete;
    #[cfg(not(feature = "ssr"))]
    pub use server_page as Consent;
    #[cfg(not(feature = "ssr"))]
    pub use server_page as SignInLink;

    /// Loads the address the router is going to from the server (the router has not put it
    /// in the address bar yet, so this is not a reload).
    #[cfg(not(feature = "ssr"))]
    pub fn server_page() -> impl leptos::IntoView {
        use leptos::prelude::*;
        let location = leptos_router::hooks::use_location();
        let (path, query) = (location.pathname.get_untracked(), location.search.get_untracked());
        let url = match query.trim_start_matches('?') {
            "" => path,
            q => format!("{path}?{q}"),
        };
        Effect::new(move |_| {
            let _ = window().location().set_href(&url);
        });
    }
}

/// A page's scripts: the app's WebAssembly (hydration), or the consent flow's one script.
#[component]
fn Scripts(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if crate::web::context::path().is_some_and(|p| CONSENT_FLOW.contains(&p.as_str())) {
        let nonce = leptos::nonce::use_nonce();
        return view! { <script nonce=nonce src=crate::web::assets::consent_script_path() defer></script> }.into_any();
    }
    view! { <HydrationScripts options/> }.into_any()
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <Router>
            // Every page is its own chunk, fetched when it is opened (`cargo leptos --split`,
            // see `lazy_pages`); the consent flow is not in the WebAssembly at all
            // (`CONSENT_FLOW`, `consent_flow`).
            <FlatRoutes fallback=|| view! { <components::NotFound/> }>
                <Route path=path!("") view={Lazy::<lazy_pages::Home>::new()}/>
                <Route path=path!("/signup") view={Lazy::<lazy_pages::SignUp>::new()}/>
                <Route path=path!("/signin") view={Lazy::<lazy_pages::SignIn>::new()}/>
                // Pages with data render whole before they are sent (SsrMode::Async): no
                // streamed chunks for hydration to race, and a complete page without scripts.
                <Route path=path!("/dashboard") view={Lazy::<lazy_pages::Agents>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/dashboard/api-keys") view={Lazy::<lazy_pages::ApiKeys>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/operator") view={Lazy::<lazy_pages::Operator>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/consent") view=consent_flow::Consent ssr=SsrMode::Async/>
                <Route path=path!("/complete") view=consent_flow::Complete ssr=SsrMode::Async/>
                <Route path=path!("/passport/link") view=consent_flow::SignInLink ssr=SsrMode::Async/>
                <Route path=path!("/manage") view={Lazy::<lazy_pages::Manage>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/docs/api") view={Lazy::<lazy_pages::ApiDocs>::new()} ssr=SsrMode::Async/>
            </FlatRoutes>
        </Router>
    }
}

/// The pages loaded on demand. Each is a route with no data of its own to start early (its
/// resources live in the page), so `data()` is empty and `view()` — the split-off part —
/// renders the page. On the server they are plain calls; every wasm build must be split
/// (`cargo leptos build --split`, as `scripts/` do), or the chunks' imports are left unresolved.
mod lazy_pages {
    use super::*;

    pub struct Home;
    #[lazy_route]
    impl LazyRoute for Home {
        fn data() -> Self {
            Home
        }
        fn view(_this: Self) -> AnyView {
            view! { <home::HomePage/> }.into_any()
        }
    }

    pub struct SignUp;
    #[lazy_route]
    impl LazyRoute for SignUp {
        fn data() -> Self {
            SignUp
        }
        fn view(_this: Self) -> AnyView {
            view! { <tenant_auth::SignUpPage/> }.into_any()
        }
    }

    pub struct SignIn;
    #[lazy_route]
    impl LazyRoute for SignIn {
        fn data() -> Self {
            SignIn
        }
        fn view(_this: Self) -> AnyView {
            view! { <tenant_auth::SignInPage/> }.into_any()
        }
    }

    pub struct Agents;
    #[lazy_route]
    impl LazyRoute for Agents {
        fn data() -> Self {
            Agents
        }
        fn view(_this: Self) -> AnyView {
            view! { <dashboard::AgentsPage/> }.into_any()
        }
    }

    pub struct ApiKeys;
    #[lazy_route]
    impl LazyRoute for ApiKeys {
        fn data() -> Self {
            ApiKeys
        }
        fn view(_this: Self) -> AnyView {
            view! { <dashboard::ApiKeysPage/> }.into_any()
        }
    }

    pub struct Operator;
    #[lazy_route]
    impl LazyRoute for Operator {
        fn data() -> Self {
            Operator
        }
        fn view(_this: Self) -> AnyView {
            view! { <operator::OperatorPage/> }.into_any()
        }
    }

    pub struct Manage;
    #[lazy_route]
    impl LazyRoute for Manage {
        fn data() -> Self {
            Manage
        }
        fn view(_this: Self) -> AnyView {
            view! { <manage::ManagePage/> }.into_any()
        }
    }

    pub struct ApiDocs;
    #[lazy_route]
    impl LazyRoute for ApiDocs {
        fn data() -> Self {
            ApiDocs
        }
        fn view(_this: Self) -> AnyView {
            view! { <api_docs::ApiDocsPage/> }.into_any()
        }
    }
}
