//! API keys: create a named `mem_…` key (shown once), see when each was last used, revoke.
use super::{session_resource, unless_signed_in, Area, DashboardShell};
use crate::app::components::{failure, error_text, ActionError, Alert, ConfirmDialog, SecretDialog};
use crate::domain::time::human;
use crate::model::{ApiKeyView, NewApiKey};
use leptos::prelude::*;

#[server]
pub async fn list_api_keys() -> Result<Vec<ApiKeyView>, ServerFnError> {
    use crate::service::accounts::AccountKind;
    crate::web::context::as_account(AccountKind::Tenant, |state, tenant| async move {
        let keys = crate::service::api_keys::list(&state.db, &tenant.id).await?;
        Ok(keys.iter().map(ApiKeyView::from).collect())
    })
    .await
}

#[server]
pub async fn create_api_key(name: String) -> Result<NewApiKey, ServerFnError> {
    use crate::service::accounts::AccountKind;
    crate::web::context::as_account(AccountKind::Tenant, |state, tenant| async move {
        let (row, raw) = crate::service::api_keys::create(&state.db, &tenant.id, &name).await?;
        Ok(NewApiKey { key: ApiKeyView::from(&row), raw })
    })
    .await
}

#[server]
pub async fn revoke_api_key(id: String) -> Result<(), ServerFnError> {
    use crate::service::accounts::AccountKind;
    crate::web::context::as_account(AccountKind::Tenant, |state, tenant| async move {
        crate::service::api_keys::revoke(&state.db, &tenant.id, &id).await
    })
    .await
}

#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let session = session_resource();
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    // Reload only after a success, so a refused name stays in the field.
    let refresh = RwSignal::new(0u32);
    let keys = Resource::new(move || refresh.get(), |_| list_api_keys());
    let secret = RwSignal::new(None::<String>);
    let name = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(NewApiKey { raw, .. })) = create.value().get() {
            secret.set(Some(raw));
            name.set(String::new());
            refresh.update(|n| *n += 1);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = revoke.value().get() {
            refresh.update(|n| *n += 1);
        }
    });
    let confirm = RwSignal::new(None::<(String, String)>);
    let title = Signal::derive(move || confirm.get().map(|(_, n)| format!("Revoke the key \"{n}\"?")).unwrap_or_default());
    let body = Signal::derive(|| "Requests that use this key will be refused from now on. This cannot be undone.".to_string());

    view! {
        <DashboardShell title="API keys" area=Area::ApiKeys session=session>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    if let Err(view) = unless_signed_in(session.await) {
                        return view;
                    }
                    let list = match keys.await {
                        Err(e) => view! { <Alert message=error_text(&e)/> }.into_any(),
                        Ok(list) if list.is_empty() => view! { <p class="empty">"No keys yet."</p> }.into_any(),
                        Ok(list) => view! { <KeyTable keys=list confirm=confirm/> }.into_any(),
                    };
                    view! {
                        <div class="page-head">
                            <h1>"API keys"</h1>
                            <p class="lead">"Keys starting with mem_ let your backend manage global agents through the REST API, e.g. POST /v1/agents/global. Each key is shown once."</p>
                        </div>
                        <div class="dashboard-grid two">
                            <section class="card" aria-labelledby="new-key-h">
                                <h2 id="new-key-h">"Create a key"</h2>
                                <form class="form" on:submit=move |ev| {
                                    ev.prevent_default();
                                    create.dispatch(CreateApiKey { name: name.get_untracked() });
                                }>
                                    <label for="key-name">"Name"</label>
                                    <input id="key-name" type="text" required maxlength="60" placeholder="production backend" bind:value=name/>
                                    <button type="submit" class="button primary" disabled=move || create.pending().get()>"Create key"</button>
                                </form>
                                <ActionError error=Signal::derive(move || failure(create.value().get()))/>
                            </section>
                            <section class="card" aria-labelledby="keys-h">
                                <h2 id="keys-h">"Your keys"</h2>
                                <ActionError error=Signal::derive(move || failure(revoke.value().get()))/>
                                {list}
                            </section>
                        </div>
                    }.into_any()
                })}
            </Transition>
            <SecretDialog
                id="key-secret"
                secret=secret
                title="Your new API key"
                explanation="Store this mem_… key in your backend's secret manager. Anyone with it can manage your agents."
            />
            <ConfirmDialog
                id="key-confirm"
                open=confirm
                title=title
                body=body
                confirm_label="Revoke key"
                on_confirm=Callback::new(move |(id, _): (String, String)| { revoke.dispatch(RevokeApiKey { id }); })
            />
        </DashboardShell>
    }
}

#[component]
fn KeyTable(keys: Vec<ApiKeyView>, confirm: RwSignal<Option<(String, String)>>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <thead>
                    <tr><th scope="col">"Name"</th><th scope="col">"Key"</th><th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col">"Status"</th></tr>
                </thead>
                <tbody>
                    {keys.into_iter().map(|k| {
                        let (id, name) = (k.id.clone(), k.name.clone());
                        let label = format!("Revoke {}", k.name);
                        view! {
                            <tr>
                                <th scope="row">{k.name.clone()}</th>
                                <td><code>{format!("{}…", k.key_prefix)}</code></td>
                                <td>{human(k.created_at)}</td>
                                <td>{k.last_used_at.map(human).unwrap_or_else(|| "Never".into())}</td>
                                <td>
                                    {match k.revoked_at {
                                        Some(at) => view! { <span class="badge badge-retired">{format!("Revoked {}", human(at))}</span> }.into_any(),
                                        None => view! {
                                            <button type="button" class="button danger small" aria-label=label
                                                on:click=move |_| confirm.set(Some((id.clone(), name.clone())))>"Revoke"</button>
                                        }.into_any(),
                                    }}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
