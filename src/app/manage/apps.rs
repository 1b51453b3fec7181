//! Apps with access: each live grant with its app, categories, access, expiry and last use;
//! change or revoke (with a confirmation; `?revoke=<grant id>` from the mail opens it), and the
//! history of what was granted, changed, denied and revoked.
use crate::domain::categories::Category;
use crate::domain::grant::GrantDuration;
use leptos::server_fn::codec::Json;
use crate::app::components::{failure, ActionError, Alert, ActionDialog};
use crate::app::grant_fields::{AccessChoice, AgentHeader, CategoryPicker, DurationChoice};
use crate::domain::agent::AccessType;
use crate::domain::time::human;
use crate::model::{GrantCard, HistoryEntry};
use leptos::prelude::*;

#[server(endpoint = "manage/apps", input = Json)]
pub async fn load_apps() -> Result<(Vec<GrantCard>, Vec<HistoryEntry>), ServerFnError> {
    use crate::web::context;
    context::as_person(|state, passport| async move {
        crate::service::manage::apps(&state.db, &passport).await
    })
    .await
}

#[server(endpoint = "manage/update_grant", input = Json)]
pub async fn update_grant(grant_id: String, categories: Vec<Category>, access: AccessType, duration: GrantDuration) -> Result<(), ServerFnError> {
    use crate::web::context;
    context::as_person(|state, passport| async move {
        crate::service::manage::update_grant(&state.db, &passport, &grant_id, &categories, access, duration).await?;
        Ok(())
    })
    .await
}

#[server(endpoint = "manage/revoke", input = Json)]
pub async fn revoke_grant(grant_id: String) -> Result<(), ServerFnError> {
    use crate::web::context;
    context::as_person(|state, passport| async move {
        crate::service::manage::revoke_grant(&state.db, &passport, &grant_id).await
    })
    .await
}


#[component]
pub fn AppsSection(
    grants: RwSignal<Vec<GrantCard>>,
    history: RwSignal<Vec<HistoryEntry>>,
    revoke: Option<String>,
    reload_memories: Callback<()>,
) -> impl IntoView {
    let load = ServerAction::<LoadApps>::new();
    let update = ServerAction::<UpdateGrant>::new();
    let revoke_action = ServerAction::<RevokeGrant>::new();
    let target = RwSignal::new(None::<GrantCard>);
    let dialog_open = RwSignal::new(false);
    let notice = RwSignal::new(None::<String>);
    let editing = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok((g, h))) = load.value().get() {
            grants.set(g);
            history.set(h);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = update.value().get() {
            editing.set(None);
            notice.set(Some("Saved. The app sees the change on its next request.".into()));
            load.dispatch(LoadApps {});
            reload_memories.run(());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = revoke_action.value().get() {
            let name = target.get_untracked().map(|g| g.agent.name).unwrap_or_default();
            dialog_open.set(false);
            notice.set(Some(format!("{name} no longer has access to your memory.")));
            load.dispatch(LoadApps {});
        }
    });
    // The revoke link in the grant mail opens the dialog straight away (in the browser).
    let from_link = StoredValue::new(revoke);
    Effect::new(move |_| {
        if let Some(id) = from_link.get_value() {
            match grants.get_untracked().into_iter().find(|g| g.id == id && g.active) {
                Some(card) => {
                    target.set(Some(card));
                    dialog_open.set(true);
                }
                None => notice.set(Some("That access has already ended; nothing more to do.".into())),
            }
            from_link.set_value(None);
        }
    });
    let ask_revoke = Callback::new(move |card: GrantCard| {
        revoke_action.clear();
        target.set(Some(card));
        dialog_open.set(true);
    });
    let live = move || grants.get().into_iter().filter(|g| g.active).collect::<Vec<_>>();
    let ended = move || grants.get().into_iter().filter(|g| !g.active).collect::<Vec<_>>();
    view! {
        <section id="apps" class="card" aria-labelledby="apps-h">
            <h2 id="apps-h">"Apps with access"</h2>
            {move || notice.get().map(|m| view! { <Alert message=m success=true/> })}
            <Show when=move || !live().is_empty() fallback=|| view! {
                <p class="empty">"No app has access to your memory. When you allow one on a consent page, it appears here."</p>
            }>
                <ul class="grant-list">
                    <For each=live key=|g| (g.id.clone(), g.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>(), g.access.as_str(), g.expires_at, g.last_used_at) let:card>
                        <GrantItem card=card editing=editing update=update on_revoke=ask_revoke/>
                    </For>
                </ul>
            </Show>
            <ActionDialog
                open=dialog_open
                id="revoke-dialog"
                title=Signal::derive(move || format!("Revoke access for {}?", target.get().map(|g| g.agent.name).unwrap_or_default()))
                confirm_label="Revoke access"
                busy=revoke_action.pending()
                on_confirm=Callback::new(move |_| {
                    if let Some(card) = target.get_untracked() {
                        revoke_action.dispatch(RevokeGrant { grant_id: card.id });
                    }
                })
            >
                <p>"It stops receiving your memories at once and cannot add new ones. What it already added stays in your Passport, where you can review or delete it."</p>
                <ActionError error=Signal::derive(move || failure(revoke_action.value().get()))/>
            </ActionDialog>
            <Show when=move || !ended().is_empty()>
                <h3>"Access that has ended"</h3>
                <ul class="ended-list">
                    <For each=ended key=|g| g.id.clone() let:card>
                        <li>
                            <strong>{card.agent.name.clone()}</strong>
                            " — "
                            {ended_reason(&card)}
                        </li>
                    </For>
                </ul>
            </Show>
            <details class="history">
                <summary>"History of requests and changes"</summary>
                <Show when=move || !history.get().is_empty() fallback=|| view! { <p class="empty">"Nothing yet."</p> }>
                    <div class="table-wrap">
                        <table>
                            <thead><tr><th scope="col">"When"</th><th scope="col">"App"</th><th scope="col">"What happened"</th><th scope="col">"Categories"</th></tr></thead>
                            <tbody>
                                <For each=move || history.get() key=|h| (h.at, h.kind.clone(), h.agent_name.clone()) let:h>
                                    <tr>
                                        <td>{human(h.at)}</td>
                                        <td>{h.agent_name.clone()}</td>
                                        <td>{event_label(&h.kind)}</td>
                                        <td>{h.categories.iter().map(|c| c.label()).collect::<Vec<_>>().join(", ")}</td>
                                    </tr>
                                </For>
                            </tbody>
                        </table>
                    </div>
                </Show>
            </details>
        </section>
    }
}

fn event_label(kind: &str) -> &'static str {
    match kind {
        "granted" => "You allowed access",
        "updated" => "You changed access",
        "denied" => "You said no",
        "revoked" => "Access revoked",
        _ => "Changed",
    }
}

fn ended_reason(card: &GrantCard) -> String {
    if let Some(at) = card.revoked_at {
        format!("revoked on {}", human(at))
    } else if card.agent_retired {
        "the app was retired by its makers".to_string()
    } else if let Some(at) = card.expires_at {
        format!("expired on {}", human(at))
    } else {
        "ended".to_string()
    }
}

#[component]
fn GrantItem(card: GrantCard, editing: RwSignal<Option<String>>, update: ServerAction<UpdateGrant>, on_revoke: Callback<GrantCard>) -> impl IntoView {
    let id = card.id.clone();
    let is_editing = {
        let id = id.clone();
        move || editing.get().as_deref() == Some(id.as_str())
    };
    let until = card.expires_at.map(|t| format!("Until {}", human(t))).unwrap_or_else(|| "Until you revoke it".into());
    let used = card.last_used_at.map(|t| format!("Last used {}", human(t))).unwrap_or_else(|| "Not used yet".into());
    let access = card.access.label();
    let heading_id = format!("grant-{}", card.id);
    let heading_ref = heading_id.clone();
    let card_for_revoke = card.clone();
    let card_for_edit = card.clone();
    let open_id = id.clone();
    view! {
        <li class="grant" aria-labelledby=heading_ref>
            <AgentHeader agent=card.agent.clone() heading_id=heading_id/>
            <ul class="chips" aria-label="Categories it may use">
                {card.categories.iter().map(|c| view! { <li class="chip" title=c.description()>{c.label()}</li> }).collect_view()}
            </ul>
            <p class="facts-line">{access}" · "{until}" · "{used}</p>
            <Show when=is_editing.clone() fallback=move || {
                let (open_id, card) = (open_id.clone(), card_for_revoke.clone());
                view! {
                    <div class="actions">
                        <button type="button" class="button secondary small" on:click=move |_| { update.clear(); editing.set(Some(open_id.clone())); }>"Change"</button>
                        <button type="button" class="button danger small" on:click=move |_| on_revoke.run(card.clone())>"Revoke"</button>
                    </div>
                }
            }>
                <GrantEditor card=card_for_edit.clone() editing=editing update=update/>
            </Show>
        </li>
    }
}

#[component]
fn GrantEditor(card: GrantCard, editing: RwSignal<Option<String>>, update: ServerAction<UpdateGrant>) -> impl IntoView {
    let chosen = RwSignal::new(card.categories.clone());
    let access = RwSignal::new(card.access);
    let duration = RwSignal::new(card.duration);
    let may_write = card.access == AccessType::ReadWrite;
    let id = card.id.clone();
    let prefix = format!("edit-{}", card.id);
    // The editor opens with focus on its first field, so keyboard users land in it.
    let first = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        request_animation_frame(move || {
            if let Some(f) = first.get_untracked() {
                if let Ok(Some(input)) = f.query_selector("input") {
                    use leptos::wasm_bindgen::JsCast;
                    if let Ok(input) = input.dyn_into::<leptos::web_sys::HtmlElement>() {
                        let _ = input.focus();
                    }
                }
            }
        });
    });
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        update.dispatch(UpdateGrant { grant_id: id.clone(), categories: chosen.get_untracked(), access: access.get_untracked(), duration: duration.get_untracked() });
    };
    view! {
        <form class="form edit-panel" node_ref=first on:submit=save>
            <CategoryPicker chosen=chosen legend="Categories it may use" id_prefix=prefix.clone()/>
            {if may_write {
                view! { <AccessChoice access=access name=format!("{prefix}-access") id_prefix=prefix.clone()/> }.into_any()
            } else {
                view! {
                    <fieldset>
                        <legend>"Access"</legend>
                        <p class="muted">"Read only. To let this app add memories, connect it again from the app."</p>
                    </fieldset>
                }.into_any()
            }}
            <DurationChoice selected=Signal::derive(move || Some(duration.get())) legend="For how long (from today)"
                name=format!("{prefix}-duration") id_prefix=prefix.clone() on_pick=Callback::new(move |d| duration.set(d))/>
            <ActionError error=Signal::derive(move || failure(update.value().get()))/>
            <div class="form-actions">
                <button type="submit" class="button primary small" disabled=move || update.pending().get()>"Save changes"</button>
                <button type="button" class="button secondary small" on:click=move |_| editing.set(None)>"Cancel"</button>
            </div>
        </form>
    }
}
