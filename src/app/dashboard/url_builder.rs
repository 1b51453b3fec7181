//! Consent URL Builder: pick an agent, categories, state, redirect URI and access; get the
//! link, copy it, open a preview.
use crate::app::components::{copy_to_clipboard, random_state};
use crate::domain::agent::AccessType;
use crate::domain::categories::Category;
use crate::domain::consent_url::ConsentLink;
use crate::model::AgentView;
use leptos::prelude::*;

#[component]
pub fn UrlBuilder(agents: Vec<AgentView>, public_url: String) -> impl IntoView {
    if agents.is_empty() {
        return view! { <p class="empty">"Create an agent first; then build a consent link for it here."</p> }.into_any();
    }
    let agents = StoredValue::new(agents);
    let first = agents.with_value(|a| a[0].clone());
    let agent_id = RwSignal::new(first.id.clone());
    let categories = RwSignal::new(first.default_categories.clone());
    let state = RwSignal::new(String::new());
    let redirect_uri = RwSignal::new(String::new());
    let access = RwSignal::new(String::new());
    let copied = RwSignal::new(false);

    let selected = move || agents.with_value(|all| all.iter().find(|a| a.id == agent_id.get()).cloned());
    let url = Memo::new(move |_| {
        ConsentLink {
            agent_id: agent_id.get(),
            state: state.get(),
            categories: categories.get(),
            redirect_uri: redirect_uri.get(),
            // Only a real access type goes into the link.
            access: AccessType::parse(&access.get()).map(|a| a.as_str().to_string()).unwrap_or_default(),
            ..Default::default()
        }
        .build(&public_url)
    });
    let on_agent = move |ev| {
        agent_id.set(event_target_value(&ev));
        if let Some(a) = selected() {
            categories.set(a.default_categories.clone());
        }
        redirect_uri.set(String::new());
        copied.set(false);
    };

    view! {
        <form class="form" on:submit=|ev| ev.prevent_default()>
            <label for="ub-agent">"Agent"</label>
            <select id="ub-agent" on:change=on_agent prop:value=move || agent_id.get()>
                {agents.with_value(|all| all.iter().map(|a| view! { <option value=a.id.clone()>{a.name.clone()}</option> }).collect_view())}
            </select>

            <fieldset>
                <legend>"Categories to preselect"</legend>
                <p class="hint">"None ticked: the agent's defaults apply, or all six when it has none."</p>
                {Category::ALL.into_iter().map(|c| {
                    let cid = format!("ub-cat-{}", c.as_str());
                    view! {
                        <div class="checkbox-row">
                            <input id=cid.clone() type="checkbox"
                                prop:checked=move || categories.with(|cs| cs.contains(&c))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    categories.update(|cs| {
                                        cs.retain(|x| *x != c);
                                        if on { cs.push(c); cs.sort(); }
                                    });
                                    copied.set(false);
                                }/>
                            <label for=cid>{c.label()}</label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>

            <label for="ub-state">"State " <span class="muted">"(your own value, returned unchanged)"</span></label>
            <div class="secret-row">
                <input id="ub-state" type="text" maxlength="512" bind:value=state/>
                <button type="button" class="button secondary" on:click=move |_| state.set(random_state())>"Generate"</button>
            </div>

            <label for="ub-redirect">"Redirect URI"</label>
            <select id="ub-redirect" prop:value=move || redirect_uri.get() on:change=move |ev| redirect_uri.set(event_target_value(&ev))>
                <option value="">"None: hosted completion page"</option>
                {move || selected().map(|a| a.redirect_uris.into_iter().map(|u| view! { <option value=u.clone()>{u.clone()}</option> }).collect_view())}
            </select>

            <label for="ub-access">"Access"</label>
            <select id="ub-access" prop:value=move || access.get() on:change=move |ev| access.set(event_target_value(&ev))>
                <option value="">{move || format!("Agent default ({})", selected().map(|a| a.access_type.label()).unwrap_or("Read only"))}</option>
                <option value="read_only">"Read only"</option>
                <option value="read_write">"Read and write"</option>
            </select>

            <label for="ub-url">"Consent URL"</label>
            <textarea id="ub-url" class="url-output" readonly rows="4" prop:value=move || url.get()></textarea>
            <div class="form-actions">
                <button type="button" class="button primary" on:click=move |_| { copy_to_clipboard(&url.get_untracked()); copied.set(true); }>
                    "Copy URL"
                </button>
                <a class="button secondary" href=move || url.get() target="_blank" rel="noopener">"Open preview"</a>
                <span role="status" class="hint">{move || if copied.get() { "Copied to the clipboard." } else { "" }}</span>
            </div>
        </form>
    }
    .into_any()
}
