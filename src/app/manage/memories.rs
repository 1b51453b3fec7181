//! What is remembered: every memory with its category, the app it came from and when; filter
//! by category and app, search; correct (the old wording is kept as a version), flag (flagged
//! memories are not served to agents), delete, and each memory's version history. Pages of
//! 50, so 10,000 memories cost the browser no more than 50.
use crate::model::MemoryVersion;
use leptos::server_fn::codec::Json;
use crate::app::components::{failure, ActionError, ActionDialog};
use crate::domain::categories::Category;
use crate::domain::time::human;
use crate::model::{Flag, GrantCard, MemoryFilter, MemoryPage, MemoryRow};
use leptos::prelude::*;

#[server(endpoint = "manage/memories", input = Json)]
pub async fn load_memories(filter: MemoryFilter) -> Result<MemoryPage, ServerFnError> {
    use crate::web::context;
    context::as_person(|state, passport| async move {
        crate::service::manage::memory_page(&state.db, &passport, &filter).await
    })
    .await
}

#[server(endpoint = "manage/correct", input = Json)]
pub async fn correct_memory(memory_id: String, content: String, category: Category) -> Result<(), ServerFnError> {
    use crate::web::context;
    context::as_person(|state, passport| async move {
        crate::service::manage::correct_memory(&state.db, &passport, &memory_id, &content, category).await
    })
    .await
}

#[server(endpoint = "manage/flag", input = Json)]
pub async fn flag_memory(memory_id: String, flag: Option<Flag>) -> Result<(), ServerFnError> {
    use crate::web::context;
    context::as_person(|state, passport| async move {
        crate::service::manage::flag_memory(&state.db, &passport, &memory_id, flag).await
    })
    .await
}

#[server(endpoint = "manage/delete_memory", input = Json)]
pub async fn delete_memory(memory_id: String) -> Result<(), ServerFnError> {
    use crate::web::context;
    context::as_person(|state, passport| async move {
        crate::service::manage::delete_memory(&state.db, &passport, &memory_id).await
    })
    .await
}

#[server(endpoint = "manage/versions", input = Json)]
pub async fn memory_versions(memory_id: String) -> Result<Vec<MemoryVersion>, ServerFnError> {
    use crate::web::context;
    context::as_person(|state, passport| async move {
        crate::service::manage::memory_versions(&state.db, &passport, &memory_id).await
    })
    .await
}


#[component]
pub fn MemoriesSection(
    page: RwSignal<MemoryPage>,
    filter: RwSignal<MemoryFilter>,
    load: ServerAction<LoadMemories>,
    grants: RwSignal<Vec<GrantCard>>,
    reload: Callback<()>,
) -> impl IntoView {
    let delete = ServerAction::<DeleteMemory>::new();
    let doomed = RwSignal::new(None::<MemoryRow>);
    let dialog_open = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            dialog_open.set(false);
            reload.run(());
        }
    });
    let ask_delete = Callback::new(move |m: MemoryRow| {
        delete.clear();
        doomed.set(Some(m));
        dialog_open.set(true);
    });
    // The filter form edits a draft; Search applies it from the first page.
    let category = RwSignal::new(String::new());
    let app = RwSignal::new(String::new());
    let search = RwSignal::new(String::new());
    let apply = move |offset: u32| {
        let f = MemoryFilter {
            category: Category::parse(&category.get_untracked()),
            agent_id: Some(app.get_untracked()).filter(|a| !a.is_empty()),
            search: search.get_untracked(),
            offset,
        };
        filter.set(f.clone());
        load.dispatch(LoadMemories { filter: f });
    };
    let apps = move || {
        let mut seen: Vec<(String, String)> = grants.get().into_iter().map(|g| (g.agent.id, g.agent.name)).collect();
        seen.sort_by(|a, b| a.1.cmp(&b.1));
        seen.dedup_by(|a, b| a.0 == b.0);
        seen
    };
    let range = move || {
        let p = page.get();
        if p.total == 0 {
            String::new()
        } else {
            let first = i64::from(p.offset) + 1;
            let last = (i64::from(p.offset) + p.memories.len() as i64).min(p.total);
            format!("Showing {first}–{last} of {}", p.total)
        }
    };
    let has_prev = move || page.with(|p| p.offset > 0);
    let has_next = move || page.with(|p| i64::from(p.offset) + i64::from(p.page_size) < p.total);
    let filtered = move || filter.with(|f| f.category.is_some() || f.agent_id.is_some() || !f.search.is_empty());
    view! {
        <section id="memories" class="card" aria-labelledby="memories-h">
            <h2 id="memories-h">"What is remembered"</h2>
            <form class="filters" role="search" aria-label="Filter memories" on:submit=move |ev| { ev.prevent_default(); apply(0); }>
                <div>
                    <label for="filter-category">"Category"</label>
                    <select id="filter-category" on:change=move |ev| category.set(event_target_value(&ev))>
                        <option value="">"All categories"</option>
                        {Category::ALL.into_iter().map(|c| view! { <option value=c.as_str()>{c.label()}</option> }).collect_view()}
                    </select>
                </div>
                <div>
                    <label for="filter-app">"App"</label>
                    <select id="filter-app" on:change=move |ev| app.set(event_target_value(&ev))>
                        <option value="">"All apps"</option>
                        {move || apps().into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                    </select>
                </div>
                <div class="grow">
                    <label for="filter-search">"Search"</label>
                    <input id="filter-search" type="search" maxlength="200" bind:value=search placeholder="Words in a memory"/>
                </div>
                <button type="submit" class="button secondary" disabled=move || load.pending().get()>"Search"</button>
            </form>
            <ActionError error=Signal::derive(move || failure(load.value().get()))/>
            <p class="muted" role="status" aria-live="polite">{range}</p>
            <Show when=move || !page.with(|p| p.memories.is_empty()) fallback=move || view! {
                <p class="empty">{move || if filtered() { "No memory matches. Try fewer words or another category." } else { "Nothing is remembered yet. When an app you allowed adds something, it shows up here." }}</p>
            }>
                <ul class="memory-list">
                    <For each=move || page.get().memories key=|m| (m.id.clone(), m.content.clone(), m.flag.map(|f| f.as_str()), m.versions, m.category.as_str()) let:m>
                        <MemoryItem memory=m reload=reload on_delete=ask_delete/>
                    </For>
                </ul>
            </Show>
            <div class="pager">
                <button type="button" class="button secondary small" disabled=move || !has_prev() || load.pending().get()
                    on:click=move |_| { let o = filter.with_untracked(|f| f.offset).saturating_sub(page.with_untracked(|p| p.page_size)); apply(o); }>
                    "Previous page"
                </button>
                <button type="button" class="button secondary small" disabled=move || !has_next() || load.pending().get()
                    on:click=move |_| { let o = filter.with_untracked(|f| f.offset) + page.with_untracked(|p| p.page_size); apply(o); }>
                    "Next page"
                </button>
            </div>
            <ActionDialog
                open=dialog_open
                id="delete-memory-dialog"
                title="Delete this memory?"
                confirm_label="Delete for good"
                busy=delete.pending()
                on_confirm=Callback::new(move |_| {
                    if let Some(m) = doomed.get_untracked() {
                        delete.dispatch(DeleteMemory { memory_id: m.id });
                    }
                })
            >
                <p class="quote">{move || doomed.get().map(|m| m.content).unwrap_or_default()}</p>
                <p>"No app will receive it again, and it cannot be brought back."</p>
                <ActionError error=Signal::derive(move || failure(delete.value().get()))/>
            </ActionDialog>
        </section>
    }
}

#[component]
fn MemoryItem(memory: MemoryRow, reload: Callback<()>, on_delete: Callback<MemoryRow>) -> impl IntoView {
    let correct = ServerAction::<CorrectMemory>::new();
    let flag = ServerAction::<FlagMemory>::new();
    let versions = ServerAction::<MemoryVersions>::new();
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(memory.content.clone());
    let draft_category = RwSignal::new(memory.category);
    let flag_choice = RwSignal::new(Flag::Incorrect.as_str().to_string());
    let show_versions = RwSignal::new(false);
    // Opening the editor moves focus into it, so keyboard users land where they type.
    let text_box = NodeRef::<leptos::html::Textarea>::new();
    Effect::new(move |_| {
        if editing.get() {
            request_animation_frame(move || {
                if let Some(t) = text_box.get_untracked() {
                    let _ = t.focus();
                }
            });
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = correct.value().get() {
            editing.set(false);
            reload.run(());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = flag.value().get() {
            reload.run(());
        }
    });
    let id = memory.id.clone();
    let prefix = format!("m-{}", memory.id);
    let flag_select_id = format!("{prefix}-flag");
    let source = memory.source.clone().unwrap_or_else(|| "You".into());
    let when = if memory.updated_at > memory.created_at {
        format!("Added {} · changed {}", human(memory.created_at), human(memory.updated_at))
    } else {
        format!("Added {}", human(memory.created_at))
    };
    let flagged = memory.flag;
    let version_count = memory.versions;
    let happened = match (&memory.happened_from, &memory.happened_to) {
        (Some(f), Some(t)) => crate::domain::when::Span::parse_iso(f, t).map(|s| s.human()),
        _ => None,
    };
    // The person's own words, when the memory says them differently.
    let said = memory.source_text.clone().filter(|s| s.trim_end_matches(['.', '!']) != memory.content.trim_end_matches(['.', '!']));
    let said_when = memory.said_at.map(human);
    let (id_save, id_flag, id_unflag, id_versions) = (id.clone(), id.clone(), id.clone(), id.clone());
    let for_delete = memory.clone();
    view! {
        <li class=if flagged.is_some() { "memory flagged" } else { "memory" }>
            <p class="memory-text">{memory.content.clone()}</p>
            <p class="memory-meta">
                <span class="chip">{memory.category.label()}</span>
                " "{format!("From {source}")}" · "{when}
                {happened.map(|h| view! { " · " {format!("Happened {h}")} })}
                {flagged.map(|f| view! { " · " <span class="badge badge-pending badge-long">{format!("Flagged: {} — not shared with apps", f.label())}</span> })}
            </p>
            {said.map(|words| view! {
                <details class="memory-source">
                    <summary>"What you said"</summary>
                    <blockquote>{words}</blockquote>
                    {said_when.clone().map(|w| view! { <p class="memory-meta">{format!("Said {w}")}</p> })}
                </details>
            })}
            <Show when=move || editing.get() fallback=move || view! {
                <div class="actions">
                    <button type="button" class="button secondary small" on:click=move |_| { correct.clear(); editing.set(true); }>"Correct"</button>
                    {if flagged.is_some() {
                        let id = id_unflag.clone();
                        view! {
                            <button type="button" class="button secondary small" on:click=move |_| { flag.dispatch(FlagMemory { memory_id: id.clone(), flag: None }); }>"Remove flag"</button>
                        }.into_any()
                    } else {
                        let (id, select_id) = (id_flag.clone(), flag_select_id.clone());
                        view! {
                            <span class="inline-field">
                                <label for=select_id.clone() class="visually-hidden">"Why flag this memory"</label>
                                <select id=select_id on:change=move |ev| flag_choice.set(event_target_value(&ev))>
                                    {Flag::ALL.into_iter().map(|f| view! { <option value=f.as_str()>{f.label()}</option> }).collect_view()}
                                </select>
                                <button type="button" class="button secondary small" on:click=move |_| {
                                    flag.dispatch(FlagMemory { memory_id: id.clone(), flag: Flag::parse(&flag_choice.get_untracked()) });
                                }>"Flag"</button>
                            </span>
                        }.into_any()
                    }}
                    <button type="button" class="button danger small" on:click={
                        let m = for_delete.clone();
                        move |_| on_delete.run(m.clone())
                    }>"Delete"</button>
                    {(version_count > 0).then(|| {
                        let id = id_versions.clone();
                        view! {
                            <button type="button" class="link-button" aria-expanded=move || show_versions.get().to_string() on:click=move |_| {
                                let open = !show_versions.get_untracked();
                                show_versions.set(open);
                                if open { versions.dispatch(MemoryVersions { memory_id: id.clone() }); }
                            }>{format!("Earlier versions ({version_count})")}</button>
                        }
                    })}
                </div>
            }>
                <form class="form edit-panel" on:submit={
                    let id = id_save.clone();
                    move |ev: leptos::ev::SubmitEvent| {
                        ev.prevent_default();
                        correct.dispatch(CorrectMemory { memory_id: id.clone(), content: draft.get_untracked(), category: draft_category.get_untracked() });
                    }
                }>
                    <label for=format!("{prefix}-text")>"What should be remembered"</label>
                    <textarea id=format!("{prefix}-text") node_ref=text_box rows="3" maxlength="1000" bind:value=draft></textarea>
                    <label for=format!("{prefix}-cat")>"Category"</label>
                    <select id=format!("{prefix}-cat") on:change=move |ev| {
                        if let Some(c) = Category::parse(&event_target_value(&ev)) { draft_category.set(c); }
                    }>
                        {Category::ALL.into_iter().map(|c| view! { <option value=c.as_str() selected=move || draft_category.get() == c>{c.label()}</option> }).collect_view()}
                    </select>
                    <ActionError error=Signal::derive(move || failure(correct.value().get()))/>
                    <div class="form-actions">
                        <button type="submit" class="button primary small" disabled=move || correct.pending().get()>"Save"</button>
                        <button type="button" class="button secondary small" on:click=move |_| editing.set(false)>"Cancel"</button>
                    </div>
                </form>
            </Show>
            <ActionError error=Signal::derive(move || failure(flag.value().get()))/>
            <Show when=move || show_versions.get()>
                <div class="versions">
                    <h4>"Earlier versions"</h4>
                    {move || match versions.value().get() {
                        None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                        Some(Err(e)) => view! { <p class="alert alert-error" role="alert">{crate::app::components::error_text(&e)}</p> }.into_any(),
                        Some(Ok(list)) => view! {
                            <ol>
                                {list.into_iter().map(|v| view! { <li>{v.content}" "<span class="muted">{format!("({}, until {})", v.category.label(), human(v.replaced_at))}</span></li> }).collect_view()}
                            </ol>
                        }.into_any(),
                    }}
                </div>
            </Show>
        </li>
    }
}
