//! Your data: everything as one JSON download, and deleting the whole Passport after typing
//! DELETE (a hard delete that also ends this session and every app's access).
use leptos::server_fn::codec::Json;
use crate::app::components::{failure, go_to, ActionError};
use leptos::prelude::*;

/// Deletes the whole Passport and ends the session.
#[server(endpoint = "manage/delete_passport", input = Json)]
pub async fn delete_passport(confirm: String) -> Result<(), ServerFnError> {
    use crate::web::context;
    context::as_person(|state, passport| async move {
        crate::service::manage::delete_passport(&state.db, &state.key, &state.universal, &passport, &confirm).await?;
        context::end_passport_session().await
    })
    .await
}


#[component]
pub fn DataSection() -> impl IntoView {
    let delete = ServerAction::<DeletePassport>::new();
    let typed = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            go_to("/manage?deleted=1");
        }
    });
    view! {
        <section id="data" class="card" aria-labelledby="data-h">
            <h2 id="data-h">"Your data"</h2>
            <h3>"Download everything"</h3>
            <p>"One JSON file with your apps and their history, every memory with its earlier versions, open questions, and anything still waiting to be read."</p>
            <p><a class="button secondary" href="/v1/uui/me/export" download="memory-passport-export.json">"Download my data (JSON)"</a></p>
            <h3>"Delete my Passport"</h3>
            <p>"This deletes your memories, their history, every app's access and your sign-in for good. Apps lose access at once. It cannot be undone."</p>
            <form class="form" on:submit=move |ev| { ev.prevent_default(); delete.dispatch(DeletePassport { confirm: typed.get_untracked() }); }>
                <label for="delete-confirm">"Type DELETE to confirm"</label>
                <input id="delete-confirm" type="text" autocomplete="off" spellcheck="false" bind:value=typed/>
                <ActionError error=Signal::derive(move || failure(delete.value().get()))/>
                <div class="form-actions">
                    <button type="submit" class="button danger" disabled=move || { typed.get().trim() != "DELETE" || delete.pending().get() }>
                        "Delete my Passport"
                    </button>
                </div>
            </form>
        </section>
    }
}
