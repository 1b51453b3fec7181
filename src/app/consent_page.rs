//! `/consent`: who is asking (before sign-in), email sign-in with a one-time code, then the
//! person's choice of categories, duration and access; approve or deny.
use super::components::{error_text, failure, go_to, ActionError, Alert, PageTitle};
use super::passport_auth::{SignInWithCode, SignOutPerson};
use super::grant_fields::{access_verb, approve_label, AccessChoice, AgentHeader, CategoryPicker, DurationChoice};
use crate::domain::agent::{AccessType, AgentStatus};
use crate::domain::categories::{self, Category};
use crate::domain::consent_url::ConsentLink;
use crate::domain::grant::{self, GrantDuration};
use crate::domain::time::human;
use crate::domain::consent_url::LinkProblem;
use crate::model::{Approved, ConsentAnswer, ExistingGrant, Notice, PublicAgent, SignInState};
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};

/// Everything the consent page needs: the agent, and who is signed in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentData {
    pub agent: PublicAgent,
    pub person: Option<String>,
    pub existing: Option<ExistingGrant>,
    /// Where a signed-out person is in the sign-in, and the last plain form post's notice.
    pub sign_in: SignInState,
    /// The server's clock when the page was made, so that the end date beside each duration
    /// reads the same in the server's render and in the browser.
    pub now_ms: i64,
}

/// Looks up the agent of a consent link (checking the redirect URI exactly) and the person.
#[server(endpoint = "consent/view")]
pub async fn consent_view(agent_id: String, redirect_uri: String, #[server(default)] oauth: bool) -> Result<Result<ConsentData, LinkProblem>, ServerFnError> {
    use crate::web::context;
    context::run(async move {
        let state = context::state()?;
        let agent = match crate::service::consent::link_agent(&state.db, &agent_id, &redirect_uri, oauth).await? {
            Ok(agent) => agent,
            Err(problem) => return Ok(Err(problem)),
        };
        let passport = context::passport().await?;
        let existing = match &passport {
            Some(p) => crate::service::consent::existing_grant(&state.db, p, &agent.id).await?,
            None => None,
        };
        let sign_in = context::sign_in_state();
        let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0);
        Ok(Ok(ConsentData { agent: PublicAgent::from(&agent), person: passport.map(|p| p.email), existing, sign_in, now_ms }))
    })
    .await
}

/// The person approves: creates or updates the grant; answers where the browser goes next
/// (and, for the hosted completion page, this app's token, shown once).
#[server(endpoint = "consent/approve", input = Json)]
pub async fn approve_consent(answer: ConsentAnswer) -> Result<Approved, ServerFnError> {
    use crate::web::context;
    context::as_person(|state, passport| async move {
        let approved = crate::service::consent::approve(&state.db, &state.mailer, &state.config.public_url, &passport, &answer).await?;
        if let Some(token) = &approved.token {
            context::set_cookie(context::completion_cookie(&state, token));
        }
        Ok(approved)
    })
    .await
}

/// The person says no: recorded when signed in; answers where the browser goes next.
#[server(endpoint = "consent/deny", input = Json)]
pub async fn deny_consent(answer: ConsentAnswer) -> Result<String, ServerFnError> {
    use crate::web::context;
    context::run(async move {
        let state = context::state()?;
        let passport = context::passport().await?;
        crate::service::consent::deny(&state.db, &state.config.public_url, passport.as_ref(), &answer).await
    })
    .await
}


/// What the consent form says when no duration is chosen.
const NEED_DURATION: &str = "Choose how long this app may use your memory.";

#[component]
pub fn ConsentPage() -> impl IntoView {
    // The raw query, decoded exactly once (see `ConsentLink::parse`).
    let link = ConsentLink::parse(&use_location().search.get_untracked());
    let refresh = RwSignal::new(0u32);
    let (agent_id, redirect_uri, oauth) = (link.agent_id.clone(), link.redirect_uri.clone(), !link.resource.is_empty());
    let view_data = Resource::new(move || refresh.get(), move |_| consent_view(agent_id.clone(), redirect_uri.clone(), oauth));
    let link = StoredValue::new(link);
    view! {
        <PageTitle text="Connect shared memory"/>
        <header class="site-header">
            <span class="brand">"Memory Passport"</span>
        </header>
        <main id="main" class="narrow">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match view_data.await {
                        Ok(Ok(data)) => view! { <ConsentFlow data=data link=link.get_value() refresh=refresh/> }.into_any(),
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
            </Transition>
        </main>
    }
}

#[component]
fn ConsentFlow(data: ConsentData, link: ConsentLink, refresh: RwSignal<u32>) -> impl IntoView {
    let preselected = grant::preselected(&link.categories, &data.agent.default_categories);
    let requested_access = grant::requested_access(AccessType::parse(&link.access), data.agent.access_type);
    let step = match data.person.clone() {
        None => view! { <SignInWithCode initial=data.sign_in.clone() on_signed_in=Callback::new(move |_| refresh.update(|n| *n += 1))/> }.into_any(),
        Some(email) => view! {
            <ConsentForm
                agent=data.agent.clone()
                link=link
                preselected=preselected.clone()
                requested_access=requested_access
                existing=data.existing.clone()
                notice=data.sign_in.notice.clone()
                email=email
                refresh=refresh
                now_ms=data.now_ms
            />
        }
        .into_any(),
    };
    view! {
        <AgentCard agent=data.agent preselected=preselected access=requested_access/>
        {step}
    }
}

#[component]
fn AgentCard(agent: PublicAgent, preselected: Vec<Category>, access: AccessType) -> impl IntoView {
    view! {
        <article class="card agent-card" aria-labelledby="agent-name">
            <AgentHeader agent=agent.clone() heading_id="agent-name" main=true/>
            {match (agent.status, agent.self_registered) {
                (AgentStatus::Verified, _) => None,
                (_, true) => Some(view! {
                    <p class="alert alert-warning" role="note">
                        <strong>"Not reviewed: this app registered itself."</strong>
                        " Nobody has checked who makes it or that its name is its own. Only continue if you started this from an app you trust."
                    </p>
                }.into_any()),
                (AgentStatus::Pending, false) => Some(view! {
                    <p class="alert alert-warning" role="note">
                        "This app has not been reviewed by the Memory Passport operators yet. Only continue if you trust it."
                    </p>
                }.into_any()),
                _ => None,
            }}
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
        </article>
    }
}

#[component]
fn ConsentForm(
    agent: PublicAgent,
    link: ConsentLink,
    preselected: Vec<Category>,
    requested_access: AccessType,
    existing: Option<ExistingGrant>,
    notice: Option<Notice>,
    email: String,
    refresh: RwSignal<u32>,
    now_ms: i64,
) -> impl IntoView {
    let approve = ServerAction::<ApproveConsent>::new();
    let deny = ServerAction::<DenyConsent>::new();
    let sign_out = ServerAction::<SignOutPerson>::new();
    let chosen = RwSignal::new(preselected.clone());
    let duration = RwSignal::new(None::<GrantDuration>);
    let access = RwSignal::new(requested_access);
    let problem = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(approved)) = approve.value().get() {
            // The hosted completion page gets the token from a one-page cookie set with this
            // answer (so it works the same after a plain form post).
            go_to(&approved.location);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(location)) = deny.value().get() {
            go_to(&location);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            refresh.update(|n| *n += 1);
        }
    });
    let answer = StoredValue::new(ConsentAnswer::for_link(&link));
    let on_approve = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let cats = chosen.get_untracked();
        if let Err(m) = grant::approved_categories(&cats) {
            problem.set(Some(m.to_string()));
            return;
        }
        let Some(d) = duration.get_untracked() else {
            problem.set(Some(NEED_DURATION.into()));
            return;
        };
        problem.set(None);
        let mut a = answer.get_value();
        a.categories = categories::to_names(&cats);
        a.duration = d.as_str().into();
        a.access = access.get_untracked().as_str().into();
        approve.dispatch(ApproveConsent { answer: a });
    };
    let on_deny = move |ev: leptos::ev::MouseEvent| {
        // Once hydrated the deny button calls the server function; before, it posts the form.
        ev.prevent_default();
        deny.dispatch(DenyConsent { answer: answer.get_value() });
    };
    let name = agent.name.clone();
    let agent_name = agent.name.clone();
    let withheld = move || grant::withheld(&chosen.get());
    let busy = move || approve.pending().get() || deny.pending().get();
    view! {
        <section class="card" aria-labelledby="choose-h">
            <div class="muted signed-in">
                "Signed in as " <strong>{email}</strong> " · "
                <form class="inline-form" method="post" on:submit=move |ev| { ev.prevent_default(); sign_out.dispatch(SignOutPerson {}); }>
                    <input type="hidden" name="intent" value="sign_out"/>
                    <button type="submit" class="link-button">"Not you? Sign out"</button>
                </form>
            </div>
            {notice.map(|n| view! { <Alert message=n.text success=!n.is_error/> })}
            <h2 id="choose-h">{format!("Choose what {name} may use")}</h2>
            {existing.map(|g| view! {
                <p class="alert alert-warning" role="note">
                    {if g.active { "You already gave this app access to " } else { "This app had access to " }}
                    {g.categories.iter().map(|c| c.label()).collect::<Vec<_>>().join(", ")}
                    {format!(" ({}, {}). ", g.access.label().to_ascii_lowercase(), g.expires_at.map(|t| format!("until {}", human(t))).unwrap_or_else(|| "until you revoke it".into()))}
                    "Approving replaces that with what you choose here."
                </p>
            })}
            // `data-*`: what the page's script (web/consent.js) needs to say the same as this
            // component does, on the server-rendered page.
            <form class="form" method="post" on:submit=on_approve novalidate data-consent=""
                data-need-category=grant::approved_categories(&[]).err().unwrap_or_default() data-need-duration=NEED_DURATION>
                <CategoryPicker chosen=chosen legend="Memory categories" id_prefix="consent-cat" requested=preselected.clone()
                    on_change=Callback::new(move |_| problem.set(None))/>
                <p class="summary" aria-live="polite" data-withheld="">
                    {move || {
                        let w = withheld();
                        if w.is_empty() {
                            "This app may use every category.".to_string()
                        } else {
                            format!("This app will NOT access: {}.", w.iter().map(|c| c.label()).collect::<Vec<_>>().join(", "))
                        }
                    }}
                </p>
                <DurationChoice selected=duration legend="For how long?" name="duration" id_prefix="consent-duration" from_ms=now_ms
                    on_pick=Callback::new(move |d| { duration.set(Some(d)); problem.set(None); })/>
                {match requested_access {
                    AccessType::ReadWrite => view! { <AccessChoice access=access name="access" id_prefix="consent-access" explained=true/> }.into_any(),
                    AccessType::ReadOnly => view! {
                        <p><strong>"Access: "</strong>"read only"</p>
                        <input type="hidden" name="access" value="read_only" data-verb=access_verb(AccessType::ReadOnly)/>
                    }.into_any(),
                }}
                <div data-problem="">{move || problem.get().map(|m| view! { <Alert message=m/> })}</div>
                <ActionError error=Signal::derive(move || failure(approve.value().get()))/>
                <ActionError error=Signal::derive(move || failure(deny.value().get()))/>
                <div class="form-actions">
                    <button type="submit" name="intent" value="approve" class="button primary" disabled=busy data-app=agent.name.clone()>
                        {move || approve_label(&agent_name, access.get(), chosen.with(|c| c.len()), duration.get())}
                    </button>
                    <button type="submit" name="intent" value="deny" class="button secondary" disabled=busy on:click=on_deny>"Deny"</button>
                </div>
                <p class="hint">"You can change or revoke this at any time on your Memory Passport."</p>
            </form>
        </section>
    }
}

/// The hosted completion page's token, once: the server hands it over in a cookie for that
/// page alone and clears it with this answer, so a reload shows it no more.
#[server(endpoint = "consent/completion_token")]
pub async fn completion_token() -> Result<Option<String>, ServerFnError> {
    crate::web::context::run(async move { Ok(crate::web::context::take_completion_token()) }).await
}

/// `/complete`: the hosted page after approving or denying without an app callback.
#[component]
pub fn CompletePage() -> impl IntoView {
    let query = use_query_map();
    let granted = query.with_untracked(|q| q.get("status").as_deref() == Some("granted"));
    let token = Resource::new(|| (), |_| completion_token());
    let copied = RwSignal::new(false);
    view! {
        <PageTitle text=if granted { "Access granted" } else { "Access denied" }/>
        <header class="site-header">
            <span class="brand">"Memory Passport"</span>
        </header>
        <main id="main" class="narrow">
            {if granted {
                view! {
                    <section class="card" aria-labelledby="done-h">
                        <h1 id="done-h">"Access granted"</h1>
                        <p>"The app can now use the parts of your memory you chose. You can return to it."</p>
                        <Transition fallback=|| ()>
                            {move || Suspend::new(async move {
                                let Ok(Some(t)) = token.await else { return ().into_any() };
                                let for_copy = t.clone();
                                view! {
                                    <h2>"Connection token for this app"</h2>
                                    <p>"For demos, local agents and manual testing: give this token to the app. It is shown only this once."</p>
                                    <label for="completion-token">"Token"</label>
                                    <div class="secret-row">
                                        // A wrapping, selectable block in a face that shows `_` clearly, so
                                        // the token can be read and typed by eye as well as copied.
                                        <textarea id="completion-token" class="secret token-value" readonly rows="2" spellcheck="false"
                                            autocomplete="off">{t}</textarea>
                                        <button type="button" class="button secondary" data-copy="completion-token" on:click=move |_| {
                                            super::components::copy_to_clipboard(&for_copy);
                                            copied.set(true);
                                        }>"Copy"</button>
                                    </div>
                                    <p class="hint" role="status" data-copied="">{move || if copied.get() { "Copied to the clipboard." } else { "" }}</p>
                                }.into_any()
                            })}
                        </Transition>
                        <p><a class="button secondary" href="/manage">"Manage your Memory Passport"</a></p>
                    </section>
                }.into_any()
            } else {
                view! {
                    <section class="card" aria-labelledby="done-h">
                        <h1 id="done-h">"You said no"</h1>
                        <p>"Nothing was shared with the app. You can close this page or return to the app."</p>
                    </section>
                }.into_any()
            }}
        </main>
    }
}
