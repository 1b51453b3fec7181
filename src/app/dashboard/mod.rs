//! The tenant dashboard: agents ("Memory Passport"), API keys.
mod agent_form;
mod agents;
mod api_keys;
mod url_builder;

pub use agents::AgentsPage;
pub use api_keys::ApiKeysPage;

use super::components::{error_text, go_to, Alert, PageTitle};
use super::tenant_auth::{current_tenant, SignOut};
use crate::model::TenantSession;
use leptos::prelude::*;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Area {
    Agents,
    ApiKeys,
}

/// Header, navigation and the signed-in check around a dashboard page. `content` renders
/// the page for the signed-in tenant.
#[component]
pub fn DashboardShell(
    #[prop(into)] title: String,
    area: Area,
    content: fn(TenantSession) -> AnyView,
) -> impl IntoView {
    let session = Resource::new(|| (), |_| current_tenant());
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            go_to("/signin");
        }
    });
    let current = move |a: Area| if a == area { Some("page") } else { None };
    view! {
        <PageTitle text=title/>
        <header class="site-header">
            <a class="brand" href="/dashboard">"Memory Passport"</a>
            <nav aria-label="Dashboard">
                <a href="/dashboard" aria-current=current(Area::Agents)>"Agents"</a>
                <a href="/dashboard/api-keys" aria-current=current(Area::ApiKeys)>"API keys"</a>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        session.await.ok().flatten().map(|s| view! {
                            <span class="who" title="Signed in as">{s.email}</span>
                            <ActionForm action=sign_out attr:class="inline">
                                <button type="submit" class="link-button">"Sign out"</button>
                            </ActionForm>
                        })
                    })}
                </Suspense>
            </nav>
        </header>
        <main id="main">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match session.await {
                        Ok(Some(s)) => content(s),
                        Ok(None) => view! { <SignedOut/> }.into_any(),
                        Err(e) => view! { <Alert message=error_text(&e)/> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn SignedOut() -> impl IntoView {
    view! {
        <section class="card narrow">
            <h1>"Sign in to continue"</h1>
            <p>"The dashboard is for tenants: companies that register AI agents."</p>
            <p>
                <a class="button primary" href="/signin">"Sign in"</a>
                " "
                <a class="button secondary" href="/signup">"Create an account"</a>
            </p>
        </section>
    }
}
