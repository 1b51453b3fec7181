//! "Memory Passport": create, list, edit, rotate and retire global agents; the URL builder.
use super::agent_form::{AgentForm, FormState};
use super::url_builder::UrlBuilder;
use super::{session_resource, unless_signed_in, Area, DashboardShell};
use crate::app::components::{failure, copy_to_clipboard, error_text, ActionError, Alert, CategoryList, ConfirmDialog, SecretDialog, StatusBadge};
use crate::domain::agent::AgentDraft;
use crate::domain::categories;
use crate::domain::time::human;
use crate::model::{AgentView, AgentWithSecret};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

#[server]
pub async fn list_agents() -> Result<Vec<AgentView>, ServerFnError> {
    use crate::service::accounts::AccountKind;
    crate::web::context::as_account(AccountKind::Tenant, |state, tenant| async move {
        let agents = crate::service::agents::list_for_tenant(&state.db, &tenant.id).await?;
        Ok(agents.iter().map(AgentView::from).collect())
    })
    .await
}

#[server(input = Json)]
pub async fn create_agent(draft: AgentDraft) -> Result<AgentWithSecret, ServerFnError> {
    use crate::service::accounts::AccountKind;
    crate::web::context::as_account(AccountKind::Tenant, |state, tenant| async move {
        let (agent, secret) = crate::service::agents::create(&state.db, &tenant.id, &draft).await?;
        Ok(AgentWithSecret { agent: AgentView::from(&agent), secret })
    })
    .await
}

#[server(input = Json)]
pub async fn update_agent(id: String, draft: AgentDraft) -> Result<AgentView, ServerFnError> {
    use crate::service::accounts::AccountKind;
    crate::web::context::as_account(AccountKind::Tenant, |state, tenant| async move {
        let agent = crate::service::agents::update(&state.db, &tenant.id, &id, &draft).await?;
        Ok(AgentView::from(&agent))
    })
    .await
}

#[server]
pub async fn rotate_agent_secret(id: String) -> Result<String, ServerFnError> {
    use crate::service::accounts::AccountKind;
    crate::web::context::as_account(AccountKind::Tenant, |state, tenant| async move {
        Ok(crate::service::agents::rotate_secret(&state.db, &tenant.id, &id).await?)
    })
    .await
}

#[server]
pub async fn retire_agent(id: String) -> Result<(), ServerFnError> {
    use crate::service::accounts::AccountKind;
    crate::web::context::as_account(AccountKind::Tenant, |state, tenant| async move {
        Ok(crate::service::agents::retire(&state.db, &tenant.id, &id).await?)
    })
    .await
}

fn draft_of(a: &AgentView) -> AgentDraft {
    AgentDraft {
        name: a.name.clone(),
        description: a.description.clone(),
        website_url: a.website_url.clone(),
        logo_url: a.logo_url.clone(),
        default_categories: categories::to_names(&a.default_categories),
        redirect_uris: a.redirect_uris.clone(),
        access_type: a.access_type.as_str().to_string(),
    }
}

/// The page's actions and state; everything outside the data boundary, so reloading the list
/// loses no dialog, notice or half-typed form.
#[derive(Clone, Copy)]
struct Page {
    create: ServerAction<CreateAgent>,
    update: ServerAction<UpdateAgent>,
    rotate: ServerAction<RotateAgentSecret>,
    retire: ServerAction<RetireAgent>,
    /// Bumped after every successful change; failed ones keep the page (and the form) as is.
    refresh: RwSignal<u32>,
    secret: RwSignal<Option<String>>,
    secret_title: RwSignal<String>,
    notice: RwSignal<Option<String>>,
    editing: RwSignal<Option<String>>,
    confirm: RwSignal<Option<Pending>>,
    /// What the create form and the (one) open edit form hold.
    create_form: RwSignal<FormState>,
    edit_form: RwSignal<FormState>,
}

#[derive(Clone, PartialEq)]
enum Pending {
    Rotate(String, String),
    Retire(String, String),
}

impl Page {
    fn new() -> Page {
        let page = Page {
            create: ServerAction::new(),
            update: ServerAction::new(),
            rotate: ServerAction::new(),
            retire: ServerAction::new(),
            refresh: RwSignal::new(0),
            secret: RwSignal::new(None),
            secret_title: RwSignal::new(String::new()),
            notice: RwSignal::new(None),
            editing: RwSignal::new(None),
            confirm: RwSignal::new(None),
            create_form: RwSignal::new(FormState::new_agent()),
            edit_form: RwSignal::new(FormState::default()),
        };
        let done = move |message: String| {
            page.notice.set(Some(message));
            page.refresh.update(|n| *n += 1);
        };
        Effect::new(move |_| {
            if let Some(Ok(created)) = page.create.value().get() {
                page.secret_title.set(format!("Secret for {}", created.agent.name));
                page.secret.set(Some(created.secret));
                page.create_form.set(FormState::new_agent());
                done(format!("{} was created. It shows as Pending review until an operator verifies it.", created.agent.name));
            }
        });
        Effect::new(move |_| {
            if let Some(Ok(raw)) = page.rotate.value().get() {
                page.secret_title.set("New agent secret".into());
                page.secret.set(Some(raw));
                done("The secret was rotated. The old one no longer works.".into());
            }
        });
        Effect::new(move |_| {
            if let Some(Ok(())) = page.retire.value().get() {
                done("The agent was retired. Its secret no longer works and consent links to it show an error.".into());
            }
        });
        Effect::new(move |_| {
            if let Some(Ok(agent)) = page.update.value().get() {
                page.editing.set(None);
                done(format!("Saved changes to {}.", agent.name));
            }
        });
        page
    }
}

#[component]
pub fn AgentsPage() -> impl IntoView {
    let session = session_resource();
    let page = Page::new();
    let agents = Resource::new(move || page.refresh.get(), |_| list_agents());

    let confirm = page.confirm;
    let confirm_title = Signal::derive(move || match confirm.get() {
        Some(Pending::Rotate(_, name)) => format!("Rotate the secret of {name}?"),
        Some(Pending::Retire(_, name)) => format!("Retire {name}?"),
        None => String::new(),
    });
    let confirm_body = Signal::derive(move || match confirm.get() {
        Some(Pending::Rotate(..)) => "A new secret is issued and the current one stops working at once. Update your backend with the new secret.".to_string(),
        Some(Pending::Retire(..)) => "The agent stops working for good: its secret is disabled, every grant people gave it is revoked, and consent links to it show an error. This cannot be undone.".to_string(),
        None => String::new(),
    });
    let on_confirm = Callback::new(move |p: Pending| match p {
        Pending::Rotate(id, _) => {
            page.rotate.dispatch(RotateAgentSecret { id });
        }
        Pending::Retire(id, _) => {
            page.retire.dispatch(RetireAgent { id });
        }
    });

    view! {
        <DashboardShell title="Memory Passport" area=Area::Agents session=session>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let session = match unless_signed_in(session.await) {
                        Ok(s) => s,
                        Err(view) => return view,
                    };
                    let agents = agents.await;
                    view! { <AgentsContent page=page public_url=session.public_url agents=agents/> }.into_any()
                })}
            </Transition>
            <SecretDialog
                id="agent-secret"
                secret=page.secret
                title=page.secret_title
                explanation="Copy this agent_sk_… secret into your backend's secret manager. Never put it in browser code."
            />
            <ConfirmDialog
                id="agent-confirm"
                open=confirm
                title=confirm_title
                body=confirm_body
                confirm_label="Yes, continue"
                on_confirm=on_confirm
            />
        </DashboardShell>
    }
}

#[component]
fn AgentsContent(page: Page, public_url: String, agents: Result<Vec<AgentView>, ServerFnError>) -> impl IntoView {
    let create = page.create;
    let live: Vec<AgentView> = agents.as_ref().map(|l| l.iter().filter(|a| !a.retired).cloned().collect()).unwrap_or_default();
    let list = match agents {
        Err(e) => view! { <Alert message=error_text(&e)/> }.into_any(),
        Ok(list) if list.is_empty() => view! {
            <p class="empty">"No agents yet. Create one to get its agent_id and secret."</p>
        }.into_any(),
        Ok(list) => view! {
            <ul class="agent-list">
                {list.into_iter().map(|a| view! { <AgentItem agent=a page=page/> }).collect_view()}
            </ul>
        }.into_any(),
    };
    view! {
        <div class="page-head">
            <h1>"Memory Passport"</h1>
            <p class="lead">"Register the global agents that ask people for access to their memory. New agents show as Pending review until an operator verifies them."</p>
        </div>
        {move || page.notice.get().map(|n| view! { <Alert message=n success=true/> })}
        <ActionError error=Signal::derive(move || failure(page.rotate.value().get()))/>
        <ActionError error=Signal::derive(move || failure(page.retire.value().get()))/>
        <div class="dashboard-grid">
            <section class="card" aria-labelledby="create-h">
                <h2 id="create-h">"Create a global agent"</h2>
                <AgentForm
                    id="create"
                    state=page.create_form
                    submit_label="Create global agent"
                    pending=create.pending().into()
                    on_submit=Callback::new(move |draft| { create.dispatch(CreateAgent { draft }); })
                />
                <ActionError error=Signal::derive(move || failure(create.value().get()))/>
            </section>
            <section class="card" aria-labelledby="agents-h">
                <h2 id="agents-h">"Your agents"</h2>
                {list}
            </section>
            <section class="card" aria-labelledby="builder-h">
                <h2 id="builder-h">"Consent URL Builder"</h2>
                <UrlBuilder agents=live public_url=public_url/>
            </section>
        </div>
    }
}

#[component]
fn AgentItem(agent: AgentView, page: Page) -> impl IntoView {
    let (editing, confirm, update) = (page.editing, page.confirm, page.update);
    let id = agent.id.clone();
    let is_editing = {
        let id = id.clone();
        move || editing.get().as_deref() == Some(id.as_str())
    };
    let form = FormState::from(draft_of(&agent));
    let heading_id = format!("agent-{}", agent.id);
    let heading_ref = heading_id.clone();
    let copied = RwSignal::new(false);
    let id_for_copy = id.clone();
    let actions = (!agent.retired).then(|| {
        let (id1, id2, id3) = (id.clone(), id.clone(), id.clone());
        let (n2, n3) = (agent.name.clone(), agent.name.clone());
        view! {
            <div class="actions">
                <button type="button" class="button secondary small" on:click=move |_| {
                    page.edit_form.set(form.clone());
                    editing.set(Some(id1.clone()));
                }>"Edit"</button>
                <button type="button" class="button secondary small" on:click=move |_| confirm.set(Some(Pending::Rotate(id2.clone(), n2.clone())))>"Rotate secret"</button>
                <button type="button" class="button danger small" on:click=move |_| confirm.set(Some(Pending::Retire(id3.clone(), n3.clone())))>"Retire"</button>
            </div>
        }
    });
    view! {
        <li class="agent" class:retired=agent.retired aria-labelledby=heading_ref>
            <div class="agent-head">
                {(!agent.logo_url.is_empty()).then(|| view! { <img class="logo" src=agent.logo_url.clone() alt="" width="40" height="40"/> })}
                <h3 id=heading_id>{agent.name.clone()}</h3>
                <StatusBadge status=agent.status retired=agent.retired/>
            </div>
            {(!agent.retired).then(|| crate::domain::agent::review_reason(&agent.changes_since_review))
                .flatten()
                .map(|reason| view! { <p class="notice review-reason">{reason}</p> })}
            <dl class="facts">
                <dt>"Agent ID"</dt>
                <dd>
                    <code class="agent-id">{agent.id.clone()}</code>
                    " "
                    <button type="button" class="link-button" on:click=move |_| { copy_to_clipboard(&id_for_copy); copied.set(true); }>
                        {move || if copied.get() { "Copied" } else { "Copy" }}
                    </button>
                </dd>
                {(!agent.website_url.is_empty()).then(|| view! {
                    <dt>"Website"</dt>
                    <dd><a href=agent.website_url.clone() rel="noopener noreferrer" target="_blank">{agent.website_url.clone()}</a></dd>
                })}
                <dt>"Default categories"</dt>
                <dd><CategoryList categories=agent.default_categories.clone()/></dd>
                <dt>"Redirect URIs"</dt>
                <dd>
                    {if agent.redirect_uris.is_empty() {
                        view! { <span class="muted">"None: people land on the hosted completion page"</span> }.into_any()
                    } else {
                        view! { <ul class="plain">{agent.redirect_uris.iter().map(|u| view! { <li><code>{u.clone()}</code></li> }).collect_view()}</ul> }.into_any()
                    }}
                </dd>
                <dt>"Requested access"</dt>
                <dd>{agent.access_type.label()}</dd>
                <dt>"Created"</dt>
                <dd>{human(agent.created_at)}</dd>
            </dl>
            {actions}
            <Show when=is_editing.clone()>
                {
                    let id = id.clone();
                    move || {
                        let id = id.clone();
                        view! {
                            <div class="edit-panel">
                                <h4>"Edit agent"</h4>
                                <AgentForm
                                    id=format!("edit-{id}")
                                    state=page.edit_form
                                    submit_label="Save changes"
                                    pending=update.pending().into()
                                    on_submit=Callback::new(move |draft| { update.dispatch(UpdateAgent { id: id.clone(), draft }); })
                                    on_cancel=Callback::new(move |_| editing.set(None))
                                />
                                <ActionError error=Signal::derive(move || failure(update.value().get()))/>
                            </div>
                        }
                    }
                }
            </Show>
        </li>
    }
    .into_any()
}
