//! `/manage`: a person's own Passport. Same email sign-in as consent; then the apps with
//! access, what is remembered, questions that need a decision, and their data (export and
//! delete). One resource loads the first view; each section then keeps its own state and
//! reloads only what an action changed. Each section's server functions sit beside it and call
//! `service::manage` for the signed-in person (`context::as_person`; without a session the
//! answer is "Your session has ended").
mod apps;
mod memories;
mod questions;
mod your_data;

use super::components::{error_text, go_to, Alert, PageTitle};
use super::passport_auth::{SignInWithCode, SignOutPerson};
use crate::model::{ManageOverview, MemoryFilter, MemoryPage};
use memories::LoadMemories;
use crate::model::SignInState;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The page's first data, or where the signed-out person is in the sign-in.
#[server(endpoint = "manage/overview")]
pub async fn load_overview() -> Result<Result<(ManageOverview, MemoryPage), SignInState>, ServerFnError> {
    use crate::web::context;
    context::run(async move {
        let state = context::state()?;
        let Some(p) = context::passport().await? else { return Ok(Err(context::sign_in_state())) };
        let overview = crate::service::manage::overview(&state.db, &p).await?;
        let page = crate::service::manage::memory_page(&state.db, &p, &MemoryFilter::default()).await?;
        Ok(Ok((overview, page)))
    })
    .await
}


#[component]
pub fn ManagePage() -> impl IntoView {
    let query = use_query_map();
    let revoke = query.with_untracked(|q| q.get("revoke")).filter(|s| !s.is_empty());
    let deleted = query.with_untracked(|q| q.get("deleted").is_some());
    let refresh = RwSignal::new(0u32);
    let data = Resource::new(move || refresh.get(), |_| load_overview());
    view! {
        <PageTitle text="Your Memory Passport"/>
        <header class="site-header">
            <span class="brand">"Memory Passport"</span>
        </header>
        <main id="main" class="manage">
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || {
                    let revoke = revoke.clone();
                    Suspend::new(async move {
                        match data.await {
                            Ok(Ok((overview, page))) => view! { <Manage overview=overview first_page=page revoke=revoke/> }.into_any(),
                            Ok(Err(sign_in)) => view! {
                                <h1>"Your Memory Passport"</h1>
                                {deleted.then(|| view! { <Alert message="Your Passport and everything in it were deleted." success=true/> })}
                                <p class="lead">"See which apps can use your memory, change or revoke their access, and review what is remembered."</p>
                                <section class="card" aria-labelledby="find-h">
                                    <h2 id="find-h">"What you will find here"</h2>
                                    <ul class="plain-list">
                                        <li>"Every app that may use your memory: which categories, read only or read and write, and until when. Change it or revoke it at once."</li>
                                        <li>"What the apps remembered, with the message each memory came from. Correct, hide or delete any of it."</li>
                                        <li>"Questions when two memories disagree, for you to settle."</li>
                                        <li>"A copy of everything to download, and a button that deletes your whole Passport."</li>
                                    </ul>
                                    <p class="hint">"No password: sign in with a six-digit code sent to your email."</p>
                                </section>
                                <SignInWithCode initial=sign_in on_signed_in=Callback::new(move |_| refresh.update(|n| *n += 1))/>
                            }
                            .into_any(),
                            Err(e) => view! { <Alert message=error_text(&e)/> }.into_any(),
                        }
                    })
                }}
            </Transition>
        </main>
    }
}

/// The signed-in view: every section, sharing the memory list's filter and reload.
#[component]
fn Manage(overview: ManageOverview, first_page: MemoryPage, revoke: Option<String>) -> impl IntoView {
    let grants = RwSignal::new(overview.grants);
    let history = RwSignal::new(overview.history);
    let questions = RwSignal::new(overview.questions);
    let questions_total = RwSignal::new(overview.questions_total);
    let page = RwSignal::new(first_page);
    let filter = RwSignal::new(MemoryFilter::default());
    let load = ServerAction::<LoadMemories>::new();
    Effect::new(move |_| {
        if let Some(Ok(p)) = load.value().get() {
            page.set(p);
        }
    });
    let reload_memories = Callback::new(move |_| {
        load.dispatch(LoadMemories { filter: filter.get_untracked() });
    });
    let sign_out = ServerAction::<SignOutPerson>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            go_to("/manage");
        }
    });
    let question_count = move || questions_total.get();
    view! {
        <div class="page-head">
            <div>
                <h1>"Your Memory Passport"</h1>
                <p class="muted">"Signed in as " {overview.email.clone()}</p>
            </div>
            <button type="button" class="button secondary small" on:click=move |_| { sign_out.dispatch(SignOutPerson {}); }>"Sign out"</button>
        </div>
        <nav class="section-nav" aria-label="Sections of this page">
            <a href="#apps">"Apps with access"</a>
            <a href="#memories">"What is remembered"</a>
            <a href="#questions">
                "Needs your decision"
                {move || (question_count() > 0).then(|| view! { <span class="count" aria-label=format!("{} open", question_count())>{question_count()}</span> })}
            </a>
            <a href="#data">"Your data"</a>
        </nav>
        <apps::AppsSection grants=grants history=history revoke=revoke reload_memories=reload_memories/>
        <memories::MemoriesSection page=page filter=filter load=load grants=grants reload=reload_memories/>
        <questions::QuestionsSection questions=questions total=questions_total reload_memories=reload_memories/>
        <your_data::DataSection/>
    }
}
