//! Small pieces shared by every page.
use crate::domain::agent::AgentStatus;
use crate::domain::categories::Category;
use leptos::prelude::*;
use leptos_meta::Title;

/// The sentence a server function failed with, without framework prefixes.
pub fn error_text(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(message) => message.clone(),
        _ => "We couldn't reach the server. Check your connection and try again.".to_string(),
    }
}

/// Loads `path` as a new page, so every resource on it is fetched fresh.
pub fn go_to(path: &str) {
    let _ = window().location().set_href(path);
}

/// A fresh random value for a `state` parameter.
pub fn random_state() -> String {
    window().crypto().map(|c| c.random_uuid().replace('-', "")).unwrap_or_default()
}

/// Copies text to the clipboard; the returned promise is not awaited (best effort).
pub fn copy_to_clipboard(text: &str) {
    let _ = window().navigator().clipboard().write_text(text);
}

#[component]
pub fn PageTitle(#[prop(into)] text: String) -> impl IntoView {
    view! { <Title text=format!("{text} · Memory Passport")/> }
}

#[component]
pub fn StatusBadge(status: AgentStatus, #[prop(optional)] retired: bool) -> impl IntoView {
    let (class, label) = if retired {
        ("badge badge-retired", "Retired")
    } else {
        let class = match status {
            AgentStatus::Pending => "badge badge-pending",
            AgentStatus::Verified => "badge badge-verified",
            AgentStatus::Rejected => "badge badge-rejected",
            AgentStatus::Suspended => "badge badge-suspended",
        };
        (class, status.label())
    };
    view! { <span class=class>{label}</span> }
}

#[component]
pub fn CategoryList(categories: Vec<Category>) -> impl IntoView {
    if categories.is_empty() {
        return view! { <span class="muted">"None (all six are preselected)"</span> }.into_any();
    }
    view! {
        <ul class="chips">
            {categories.into_iter().map(|c| view! { <li class="chip" title=c.description()>{c.label()}</li> }).collect_view()}
        </ul>
    }
    .into_any()
}

/// A message for a person, announced by screen readers.
#[component]
pub fn Alert(#[prop(into)] message: String, #[prop(optional)] success: bool) -> impl IntoView {
    let class = if success { "alert alert-success" } else { "alert alert-error" };
    let role = if success { "status" } else { "alert" };
    view! { <p class=class role=role>{message}</p> }
}

/// The error sentence of a finished action, if it failed.
pub fn failure<T>(value: Option<Result<T, ServerFnError>>) -> Option<String> {
    match value {
        Some(Err(e)) => Some(error_text(&e)),
        _ => None,
    }
}

/// Shows an action's error, if any.
#[component]
pub fn ActionError(#[prop(into)] error: Signal<Option<String>>) -> impl IntoView {
    move || error.get().map(|message| view! { <Alert message=message/> })
}

/// Shows a secret exactly once in a modal dialog that cannot be dismissed by accident: Escape
/// and clicks outside do nothing, and Close needs the "I have stored it" box ticked.
#[component]
pub fn SecretDialog(
    /// The secret to show; `Some` opens the dialog, closing sets it back to `None`.
    secret: RwSignal<Option<String>>,
    #[prop(into)] title: Signal<String>,
    #[prop(into)] explanation: String,
    #[prop(into)] id: String,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let stored = RwSignal::new(false);
    let copied = RwSignal::new(false);
    Effect::new(move |_| {
        if secret.get().is_some() {
            stored.set(false);
            copied.set(false);
            if let Some(d) = dialog.get() {
                if !d.open() {
                    let _ = d.show_modal();
                }
            }
        }
    });
    let close = move |_| {
        if let Some(d) = dialog.get() {
            d.close();
        }
        secret.set(None);
    };
    let title_id = format!("{id}-title");
    let value_id = format!("{id}-value");
    let check_id = format!("{id}-stored");
    let title_ref = title_id.clone();
    view! {
        <dialog
            node_ref=dialog
            id=id.clone()
            class="dialog secret-dialog"
            aria-labelledby=title_ref
            on:cancel=|ev: leptos::ev::Event| ev.prevent_default()
        >
            <h2 id=title_id>{title}</h2>
            <p>{explanation}</p>
            <label for=value_id.clone()>"Secret"</label>
            <div class="secret-row">
                <input id=value_id class="secret" type="text" readonly prop:value=move || secret.get().unwrap_or_default()/>
                <button type="button" class="button secondary" on:click=move |_| {
                    copy_to_clipboard(&secret.get_untracked().unwrap_or_default());
                    copied.set(true);
                }>"Copy"</button>
            </div>
            <p class="hint" role="status">{move || if copied.get() { "Copied to the clipboard." } else { "" }}</p>
            <p class="warning">"This is the only time it is shown. We keep only a hash, so we cannot show it again."</p>
            <div class="checkbox-row">
                <input id=check_id.clone() type="checkbox" prop:checked=stored on:change=move |ev| stored.set(event_target_checked(&ev))/>
                <label for=check_id>"I have stored this secret somewhere safe"</label>
            </div>
            <div class="dialog-actions">
                <button type="button" class="button primary" disabled=move || !stored.get() on:click=close>"Close"</button>
            </div>
        </dialog>
    }
}

/// A yes/no question in a modal dialog. `open` holds what the question is about.
#[component]
pub fn ConfirmDialog<T: Clone + Send + Sync + 'static>(
    open: RwSignal<Option<T>>,
    #[prop(into)] id: String,
    title: Signal<String>,
    body: Signal<String>,
    #[prop(into)] confirm_label: String,
    on_confirm: Callback<T>,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    Effect::new(move |_| {
        let want_open = open.with(Option::is_some);
        if let Some(d) = dialog.get() {
            if want_open && !d.open() {
                let _ = d.show_modal();
            } else if !want_open && d.open() {
                d.close();
            }
        }
    });
    let title_id = format!("{id}-title");
    let body_id = format!("{id}-body");
    let (title_ref, body_ref) = (title_id.clone(), body_id.clone());
    view! {
        <dialog
            node_ref=dialog
            id=id
            class="dialog"
            role="alertdialog"
            aria-labelledby=title_ref
            aria-describedby=body_ref
            on:close=move |_| open.set(None)
        >
            <h2 id=title_id>{title}</h2>
            <p id=body_id>{body}</p>
            <div class="dialog-actions">
                <button type="button" class="button secondary" autofocus on:click=move |_| open.set(None)>"Cancel"</button>
                <button type="button" class="button danger" on:click=move |_| {
                    if let Some(item) = open.get_untracked() {
                        open.set(None);
                        on_confirm.run(item);
                    }
                }>{confirm_label}</button>
            </div>
        </dialog>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    set_not_found_status();
    view! {
        <PageTitle text="Page not found"/>
        <main id="main" class="narrow">
            <h1>"We couldn't find that page"</h1>
            <p>"The address may be mistyped, or the page may have moved."</p>
            <p><a href="/">"Go to the start page"</a></p>
        </main>
    }
}

#[cfg(feature = "ssr")]
fn set_not_found_status() {
    crate::web::context::set_status(http::StatusCode::NOT_FOUND);
}

#[cfg(not(feature = "ssr"))]
fn set_not_found_status() {}

/// A modal confirmation whose action runs while it stays open (errors show inside it): it opens when `open` is set, focuses Cancel
/// first (the safe choice), closes on Escape or Cancel, and gives focus back to the control
/// that opened it.
#[component]
pub fn ActionDialog(
    open: RwSignal<bool>,
    #[prop(into)] id: String,
    #[prop(into)] title: Signal<String>,
    #[prop(into)] confirm_label: String,
    on_confirm: Callback<()>,
    #[prop(into, optional)] busy: Signal<bool>,
    children: Children,
) -> impl IntoView {
    use leptos::wasm_bindgen::JsCast;
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    // The control that opened the dialog is marked in the DOM (nothing browser-only is held
    // in Rust, so the server renders this component like any other).
    let marker = format!("[data-return-focus=\"{id}\"]");
    let dialog_id = id.clone();
    Effect::new(move |_| {
        let Some(d) = dialog.get() else { return };
        if open.get() {
            if !d.open() {
                if let Some(active) = document().active_element() {
                    let _ = active.set_attribute("data-return-focus", &dialog_id);
                }
                let _ = d.show_modal();
            }
        } else if d.open() {
            d.close();
        }
    });
    let on_close = move |_| {
        open.set(false);
        if let Ok(Some(el)) = document().query_selector(&marker) {
            let _ = el.remove_attribute("data-return-focus");
            if let Ok(el) = el.dyn_into::<leptos::web_sys::HtmlElement>() {
                let _ = el.focus();
            }
        }
    };
    let title_id = format!("{id}-title");
    let title_ref = title_id.clone();
    view! {
        <dialog node_ref=dialog id=id class="dialog" aria-labelledby=title_ref on:close=on_close>
            <h2 id=title_id>{title}</h2>
            {children()}
            <div class="dialog-actions">
                <button type="button" class="button secondary" on:click=move |_| open.set(false)>"Cancel"</button>
                <button type="button" class="button danger" disabled=move || busy.get() on:click=move |_| on_confirm.run(())>
                    {confirm_label}
                </button>
            </div>
        </dialog>
    }
}
