//! `/consent`: the agent card a person sees before signing in. The sign-in and approval steps
//! build on this page (consent flow issue).
use super::components::{error_text, Alert, PageTitle, StatusBadge};
use crate::domain::agent::{AccessType, AgentStatus};
use crate::domain::categories::{self, Category};
use crate::model::{Approved, ConsentAnswer, PublicAgent};
use leptos::server_fn::codec::Json;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// Why a consent link cannot be used. Never redirects: the link may be forged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LinkProblem {
    MissingAgent,
    UnknownAgent,
    AgentUnavailable,
    RedirectNotRegistered,
}

impl LinkProblem {
    fn explain(&self) -> &'static str {
        match self {
            LinkProblem::MissingAgent => "This link does not say which app is asking. Ask the app for a new link.",
            LinkProblem::UnknownAgent => "We don't know the app this link is for. It may have been removed. Ask the app for a new link.",
            LinkProblem::AgentUnavailable => "This app can't receive access to Memory Passports at the moment.",
            LinkProblem::RedirectNotRegistered => "This link would send you to an address the app has not registered with us, so we stopped here to keep you safe.",
        }
    }
}

/// Looks up the agent of a consent link and checks the redirect URI exactly.
#[server]
pub async fn consent_agent(agent_id: String, redirect_uri: String) -> Result<Result<PublicAgent, LinkProblem>, ServerFnError> {
    use crate::error::AppError;
    crate::server::context::run(async move {
        let state = crate::server::context::state()?;
        if agent_id.trim().is_empty() {
            return Ok(Err(LinkProblem::MissingAgent));
        }
        let agent = match crate::service::agents::get_public(&state.db, agent_id.trim()).await {
            Ok(a) => a,
            Err(AppError::NotFound) => return Ok(Err(LinkProblem::UnknownAgent)),
            Err(e) => return Err(e),
        };
        if !agent.status.may_receive_grants() {
            return Ok(Err(LinkProblem::AgentUnavailable));
        }
        if !redirect_uri.is_empty() && !agent.profile.redirect_uris.iter().any(|u| u == &redirect_uri) {
            return Ok(Err(LinkProblem::RedirectNotRegistered));
        }
        Ok(Ok(PublicAgent::from(&agent)))
    })
    .await
}

#[component]
pub fn ConsentPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |name: &str| query.with(|q| q.get(name).unwrap_or_default());
    let lookup = Resource::new(move || (param("agent_id"), param("redirect_uri")), |(id, uri)| consent_agent(id, uri));
    let requested = move || categories::parse_csv_lenient(&param("categories"));
    let access = move || AccessType::parse(&param("access"));
    view! {
        <PageTitle text="Connect shared memory"/>
        <header class="site-header">
            <span class="brand">"Memory Passport"</span>
        </header>
        <main id="main" class="narrow">
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match lookup.await {
                        Ok(Ok(agent)) => view! { <AgentCard agent=agent requested=requested() access=access()/> }.into_any(),
                        Ok(Err(problem)) => view! {
                            <section class="card error-page" aria-labelledby="problem-h">
                                <h1 id="problem-h">"This link can't be used"</h1>
                                <p>{problem.explain()}</p>
                                <p class="muted">"Nothing was shared. You can close this page."</p>
                            </section>
                        }.into_any(),
                        Err(e) => view! { <Alert message=error_text(&e)/> }.into_any(),
                    }
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn AgentCard(agent: PublicAgent, requested: Vec<Category>, access: Option<AccessType>) -> impl IntoView {
    // Preselection rule: the link's categories, else the agent's defaults, else all six.
    let preselected = if !requested.is_empty() {
        requested
    } else if !agent.default_categories.is_empty() {
        agent.default_categories.clone()
    } else {
        Category::ALL.to_vec()
    };
    let access = access.unwrap_or(agent.access_type);
    let initial = agent.name.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default();
    view! {
        <article class="card agent-card" aria-labelledby="agent-name">
            <div class="agent-head">
                {if agent.logo_url.is_empty() {
                    view! { <span class="logo placeholder" aria-hidden="true">{initial}</span> }.into_any()
                } else {
                    view! { <img class="logo" src=agent.logo_url.clone() alt="" width="56" height="56"/> }.into_any()
                }}
                <div>
                    <h1 id="agent-name">{agent.name.clone()}</h1>
                    {(!agent.website_url.is_empty()).then(|| view! {
                        <a href=agent.website_url.clone() rel="noopener noreferrer" target="_blank">{agent.website_url.clone()}</a>
                    })}
                </div>
                <StatusBadge status=agent.status/>
            </div>
            {(agent.status == AgentStatus::Pending).then(|| view! {
                <p class="alert alert-warning" role="note">
                    "This app has not been reviewed by the Memory Passport operators yet. Only continue if you trust it."
                </p>
            })}
            <p class="lead">{if agent.description.is_empty() { "This app would like to use parts of your memory.".to_string() } else { agent.description.clone() }}</p>
            <h2>"It asks to use"</h2>
            <ul class="category-summary">
                {preselected.iter().map(|c| view! { <li><strong>{c.label()}</strong>" — "{c.description()}</li> }).collect_view()}
            </ul>
            <p>
                <strong>"Access: "</strong>
                {match access {
                    AccessType::ReadOnly => "read only — it can use what you share, not add to it.",
                    AccessType::ReadWrite => "read and write — it can use what you share and remember new things in these categories.",
                }}
            </p>
            <p class="muted">"Next you'll sign in with a one-time code sent to your email, then choose exactly what to share and for how long."</p>
        </article>
    }
}

/// The person approves: creates or updates the grant; answers where the browser goes next
/// (and, for the hosted completion page, this app's token, shown once).
#[server(endpoint = "consent/approve", input = Json)]
pub async fn approve_consent(answer: ConsentAnswer) -> Result<Approved, ServerFnError> {
    use crate::error::AppError;
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        let passport = context::passport().await?.ok_or(AppError::Unauthenticated)?;
        crate::service::consent::approve(&state.db, &state.mailer, &state.config.public_url, &passport, &answer).await
    })
    .await
}

/// The person says no: recorded when signed in; answers where the browser goes next.
#[server(endpoint = "consent/deny", input = Json)]
pub async fn deny_consent(answer: ConsentAnswer) -> Result<String, ServerFnError> {
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        let passport = context::passport().await?;
        crate::service::consent::deny(&state.db, &state.config.public_url, passport.as_ref(), &answer).await
    })
    .await
}
