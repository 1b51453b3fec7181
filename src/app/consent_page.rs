//! `/consent`: who is asking (before sign-in), email sign-in with a one-time code, then the
//! person's choice of categories, duration and access; approve or deny.
use super::components::{error_text, failure, go_to, ActionError, Alert, PageTitle, StatusBadge};
use super::consent::{consent_view, ApproveConsent, ConsentData, DenyConsent, ExistingGrant};
use super::passport_auth::{SendCode, SignOutPerson, VerifyCode};
use crate::domain::agent::{AccessType, AgentStatus};
use crate::domain::categories::{self, Category};
use crate::domain::grant::{self, GrantDuration};
use crate::domain::time::human;
use crate::model::{ConsentAnswer, PublicAgent};
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_query_map};
use std::time::Duration;

/// Where the hosted completion page finds this app's token (shown once, then removed).
pub const COMPLETION_TOKEN_KEY: &str = "mp_completion_token";

/// The consent link's parameters, as sent.
#[derive(Clone, Debug, Default, PartialEq)]
struct Link {
    agent_id: String,
    state: String,
    categories: Vec<Category>,
    redirect_uri: String,
    access: String,
    code_challenge: String,
    code_challenge_method: String,
    link_token: String,
}

#[component]
pub fn ConsentPage() -> impl IntoView {
    // The raw query, decoded exactly once: the router's query map decodes values a second
    // time, which would turn a registered `…?next=%2Fhome` into an unregistered `…?next=/home`.
    let search = use_location().search.get_untracked();
    let link = {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(search.as_bytes()).into_owned().collect();
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
        Link {
            agent_id: get("agent_id"),
            state: get("state"),
            categories: categories::parse_csv_lenient(&get("categories")),
            redirect_uri: get("redirect_uri"),
            access: get("access"),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
            link_token: get("link_token"),
        }
    };
    let refresh = RwSignal::new(0u32);
    let (agent_id, redirect_uri) = (link.agent_id.clone(), link.redirect_uri.clone());
    let view_data = Resource::new(move || refresh.get(), move |_| consent_view(agent_id.clone(), redirect_uri.clone()));
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
fn ConsentFlow(data: ConsentData, link: Link, refresh: RwSignal<u32>) -> impl IntoView {
    let preselected = grant::preselected(&link.categories, &data.agent.default_categories);
    let requested_access = grant::requested_access(AccessType::parse(&link.access), data.agent.access_type);
    let step = match data.person.clone() {
        None => view! { <SignInWithCode on_signed_in=Callback::new(move |_| refresh.update(|n| *n += 1))/> }.into_any(),
        Some(email) => view! {
            <ConsentForm
                agent=data.agent.clone()
                link=link
                preselected=preselected.clone()
                requested_access=requested_access
                existing=data.existing.clone()
                email=email
                refresh=refresh
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
        </article>
    }
}

/// Email, then the six-digit code; a new code can be asked for after a visible wait.
#[component]
pub(crate) fn SignInWithCode(on_signed_in: Callback<()>) -> impl IntoView {
    let send = ServerAction::<SendCode>::new();
    let verify = ServerAction::<VerifyCode>::new();
    let email = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let sent_to = RwSignal::new(None::<String>);
    let wait = RwSignal::new(0u64);
    let code_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(Ok(secs)) = send.value().get() {
            sent_to.set(Some(email.get_untracked()));
            wait.set(secs);
            code.set(String::new());
            request_animation_frame(move || {
                if let Some(input) = code_input.get_untracked() {
                    let _ = input.focus();
                }
            });
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = verify.value().get() {
            on_signed_in.run(());
        }
    });
    // One ticking clock for the resend countdown (effects run only in the browser).
    Effect::new(move |_| {
        let _ = set_interval_with_handle(move || wait.update(|w| *w = w.saturating_sub(1)), Duration::from_secs(1));
    });
    let send_code = move || {
        send.dispatch(SendCode { email: email.get_untracked() });
    };
    view! {
        <section class="card" aria-labelledby="signin-h">
            <h2 id="signin-h">"Sign in to your Memory Passport"</h2>
            <Show
                when=move || sent_to.get().is_some()
                fallback=move || view! {
                    <p>"We'll email you a one-time code. If this is your first time, we'll create your Passport."</p>
                    <form class="form" on:submit=move |ev| { ev.prevent_default(); send_code(); }>
                        <label for="person-email">"Email address"</label>
                        <input id="person-email" type="email" autocomplete="email" required maxlength="254" bind:value=email/>
                        <button type="submit" class="button primary" disabled=move || send.pending().get()>"Send code"</button>
                    </form>
                }
            >
                <p role="status">{move || format!("If {} can receive mail, a 6-digit code is on its way. It works once, for 10 minutes.", sent_to.get().unwrap_or_default())}</p>
                <form class="form" on:submit=move |ev| {
                    ev.prevent_default();
                    verify.dispatch(VerifyCode { email: sent_to.get_untracked().unwrap_or_default(), code: code.get_untracked() });
                }>
                    <label for="person-code">"Code from the email"</label>
                    <input id="person-code" node_ref=code_input type="text" inputmode="numeric" autocomplete="one-time-code"
                        required maxlength="7" pattern="[0-9 ]{6,7}" bind:value=code/>
                    <button type="submit" class="button primary" disabled=move || verify.pending().get()>"Continue"</button>
                </form>
                <ActionError error=Signal::derive(move || failure(verify.value().get()))/>
                <p class="form-actions">
                    <button type="button" class="button secondary small" disabled=move || { wait.get() > 0 || send.pending().get() }
                        on:click=move |_| send_code()>
                        {move || match wait.get() { 0 => "Send a new code".to_string(), s => format!("Send a new code (in {s} s)") }}
                    </button>
                    <button type="button" class="link-button" on:click=move |_| sent_to.set(None)>"Use a different email"</button>
                </p>
            </Show>
            <ActionError error=Signal::derive(move || failure(send.value().get()))/>
        </section>
    }
}

#[component]
fn ConsentForm(
    agent: PublicAgent,
    link: Link,
    preselected: Vec<Category>,
    requested_access: AccessType,
    existing: Option<ExistingGrant>,
    email: String,
    refresh: RwSignal<u32>,
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
            if let Some(token) = approved.token {
                if let Ok(Some(storage)) = window().session_storage() {
                    let _ = storage.set_item(COMPLETION_TOKEN_KEY, &token);
                }
            }
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
    let answer = StoredValue::new(ConsentAnswer {
        agent_id: link.agent_id.clone(),
        state: link.state.clone(),
        redirect_uri: link.redirect_uri.clone(),
        requested_access: link.access.clone(),
        code_challenge: link.code_challenge.clone(),
        code_challenge_method: link.code_challenge_method.clone(),
        link_token: link.link_token.clone(),
        ..Default::default()
    });
    let on_approve = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let cats = chosen.get_untracked();
        if let Err(m) = grant::approved_categories(&cats) {
            problem.set(Some(m.to_string()));
            return;
        }
        let Some(d) = duration.get_untracked() else {
            problem.set(Some("Choose how long this app may use your memory.".into()));
            return;
        };
        problem.set(None);
        let mut a = answer.get_value();
        a.categories = categories::to_names(&cats);
        a.duration = d.as_str().into();
        a.access = access.get_untracked().as_str().into();
        approve.dispatch(ApproveConsent { answer: a });
    };
    let on_deny = move |_| {
        deny.dispatch(DenyConsent { answer: answer.get_value() });
    };
    let name = agent.name.clone();
    let withheld = move || grant::withheld(&chosen.get());
    let busy = move || approve.pending().get() || deny.pending().get();
    view! {
        <section class="card" aria-labelledby="choose-h">
            <p class="muted">
                "Signed in as " <strong>{email}</strong> " · "
                <button type="button" class="link-button" on:click=move |_| { sign_out.dispatch(SignOutPerson {}); }>"Not you? Sign out"</button>
            </p>
            <h2 id="choose-h">{format!("Choose what {name} may use")}</h2>
            {existing.map(|g| view! {
                <p class="alert alert-warning" role="note">
                    {if g.active { "You already gave this app access to " } else { "This app had access to " }}
                    {g.categories.iter().map(|c| c.label()).collect::<Vec<_>>().join(", ")}
                    {format!(" ({}, {}). ", g.access.label().to_lowercase(), g.expires_at.map(|t| format!("until {}", human(t))).unwrap_or_else(|| "until you revoke it".into()))}
                    "Approving replaces that with what you choose here."
                </p>
            })}
            <form class="form" on:submit=on_approve novalidate>
                <fieldset>
                    <legend>"Memory categories"</legend>
                    {Category::ALL.into_iter().map(|c| {
                        let id = format!("consent-cat-{}", c.as_str());
                        let desc = format!("{id}-desc");
                        let tag = if preselected.contains(&c) { "Requested" } else { "Optional" };
                        view! {
                            <div class="category-choice">
                                <input id=id.clone() type="checkbox" aria-describedby=desc.clone()
                                    prop:checked=move || chosen.with(|cs| cs.contains(&c))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|cs| { cs.retain(|x| *x != c); if on { cs.push(c); cs.sort(); } });
                                        problem.set(None);
                                    }/>
                                <label for=id>{c.label()} " " <span class=format!("tag tag-{}", tag.to_lowercase())>{tag}</span></label>
                                <p id=desc class="hint">{c.description()}</p>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                <p class="summary" aria-live="polite">
                    {move || {
                        let w = withheld();
                        if w.is_empty() {
                            "This app may use every category.".to_string()
                        } else {
                            format!("This app will NOT access: {}.", w.iter().map(|c| c.label()).collect::<Vec<_>>().join(", "))
                        }
                    }}
                </p>
                <fieldset>
                    <legend>"For how long?"</legend>
                    {GrantDuration::ALL.into_iter().map(|d| {
                        let id = format!("consent-duration-{}", d.as_str());
                        view! {
                            <div class="checkbox-row">
                                <input id=id.clone() type="radio" name="duration" value=d.as_str()
                                    prop:checked=move || duration.get() == Some(d)
                                    on:change=move |_| { duration.set(Some(d)); problem.set(None); }/>
                                <label for=id>{d.label()}</label>
                            </div>
                        }
                    }).collect_view()}
                </fieldset>
                {match requested_access {
                    AccessType::ReadWrite => view! {
                        <fieldset>
                            <legend>"Access"</legend>
                            {[AccessType::ReadWrite, AccessType::ReadOnly].into_iter().map(|a| {
                                let id = format!("consent-access-{}", a.as_str());
                                let hint = match a {
                                    AccessType::ReadWrite => " — use what you share and remember new things",
                                    AccessType::ReadOnly => " — only use what you share",
                                };
                                view! {
                                    <div class="checkbox-row">
                                        <input id=id.clone() type="radio" name="access" value=a.as_str()
                                            prop:checked=move || access.get() == a
                                            on:change=move |_| access.set(a)/>
                                        <label for=id>{a.label()} <span class="muted">{hint}</span></label>
                                    </div>
                                }
                            }).collect_view()}
                        </fieldset>
                    }.into_any(),
                    AccessType::ReadOnly => view! { <p><strong>"Access: "</strong>"read only"</p> }.into_any(),
                }}
                {move || problem.get().map(|m| view! { <Alert message=m/> })}
                <ActionError error=Signal::derive(move || failure(approve.value().get()))/>
                <ActionError error=Signal::derive(move || failure(deny.value().get()))/>
                <div class="form-actions">
                    <button type="submit" class="button primary" disabled=busy>"Allow access"</button>
                    <button type="button" class="button secondary" disabled=busy on:click=on_deny>"Deny"</button>
                </div>
                <p class="hint">"You can change or revoke this at any time on your Memory Passport."</p>
            </form>
        </section>
    }
}

/// `/complete`: the hosted page after approving or denying without an app callback.
#[component]
pub fn CompletePage() -> impl IntoView {
    let query = use_query_map();
    let granted = query.with_untracked(|q| q.get("status").as_deref() == Some("granted"));
    let token = RwSignal::new(None::<String>);
    // Read once in the browser and forget: the token is shown on this one page view only.
    Effect::new(move |_| {
        if let Ok(Some(storage)) = window().session_storage() {
            if let Ok(Some(t)) = storage.get_item(COMPLETION_TOKEN_KEY) {
                let _ = storage.remove_item(COMPLETION_TOKEN_KEY);
                token.set(Some(t));
            }
        }
    });
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
                        <Show when=move || token.get().is_some()>
                            <h2>"Connection token for this app"</h2>
                            <p>"For demos, local agents and manual testing: give this token to the app. It is shown only this once."</p>
                            <label for="completion-token">"Token"</label>
                            <div class="secret-row">
                                <input id="completion-token" class="secret" type="text" readonly prop:value=move || token.get().unwrap_or_default()/>
                                <button type="button" class="button secondary" on:click=move |_| {
                                    super::components::copy_to_clipboard(&token.get_untracked().unwrap_or_default());
                                    copied.set(true);
                                }>"Copy"</button>
                            </div>
                            <p class="hint" role="status">{move || if copied.get() { "Copied to the clipboard." } else { "" }}</p>
                        </Show>
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
