//! The tenant dashboard: agents ("Memory Passport"), API keys.
//!
//! Each page creates its resources at the top, and renders its data in one Suspense or
//! Transition boundary that is never nested in another one: nested boundaries race during
//! hydration.
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

pub type SessionResource = Resource<Result<Option<TenantSession>, ServerFnError>>;

pub fn session_resource() -> SessionResource {
    Resource::new(|| (), |_| current_tenant())
}

/// What a dashboard page renders when there is no signed-in tenant (or the check failed);
/// `None` when there is one.
pub fn unless_signed_in(session: Result<Option<TenantSession>, ServerFnError>) -> Result<TenantSession, AnyView> {
    match session {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(view! { <SignedOut/> }.into_any()),
        Err(e) => Err(view! { <Alert message=error_text(&e)/> }.into_any()),
    }
}

/// Header and navigation around a dashboard page.
#[component]
pub fn DashboardShell(#[prop(into)] title: String, area: Area, session: SessionResource, children: Children) -> impl IntoView {
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
        <main id="main">{children()}</main>
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
