//! The create / edit form for a global agent.
use crate::domain::agent::{AccessType, AgentDraft, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS};
use crate::domain::categories::Category;
use leptos::prelude::*;

#[component]
pub fn AgentForm(
    /// Prefix for element ids, so two forms can share a page.
    #[prop(into)]
    id: String,
    initial: AgentDraft,
    #[prop(into)] submit_label: String,
    on_submit: Callback<AgentDraft>,
    pending: Signal<bool>,
    #[prop(optional)] on_cancel: Option<Callback<()>>,
) -> impl IntoView {
    let name = RwSignal::new(initial.name);
    let description = RwSignal::new(initial.description);
    let website_url = RwSignal::new(initial.website_url);
    let logo_url = RwSignal::new(initial.logo_url);
    let categories = RwSignal::new(initial.default_categories);
    let redirect_uris = RwSignal::new(initial.redirect_uris.join("\n"));
    let access = RwSignal::new(if initial.access_type.is_empty() { "read_only".to_string() } else { initial.access_type });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_submit.run(AgentDraft {
            name: name.get_untracked(),
            description: description.get_untracked(),
            website_url: website_url.get_untracked(),
            logo_url: logo_url.get_untracked(),
            default_categories: categories.get_untracked(),
            redirect_uris: redirect_uris.get_untracked().lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect(),
            access_type: access.get_untracked(),
        });
    };
    let fid = move |field: &str| format!("{id}-{field}");

    view! {
        <form class="form" on:submit=submit>
            <label for=fid("name")>"Name"</label>
            <input id=fid("name") type="text" required maxlength=MAX_NAME_CHARS bind:value=name/>

            <label for=fid("description")>"Description " <span class="muted">"(shown to people on the consent page)"</span></label>
            <textarea id=fid("description") rows="3" maxlength=MAX_DESCRIPTION_CHARS bind:value=description></textarea>

            <label for=fid("website")>"Website"</label>
            <input id=fid("website") type="url" placeholder="https://yourapp.com" bind:value=website_url/>

            <label for=fid("logo")>"Logo URL"</label>
            <input id=fid("logo") type="url" placeholder="https://yourapp.com/logo.png" bind:value=logo_url/>

            <fieldset>
                <legend>"Default requested categories"</legend>
                <p class="hint">"Only the starting selection on consent links without a categories parameter; people can add or remove any."</p>
                {Category::ALL.into_iter().map(|c| {
                    let cid = fid(&format!("cat-{}", c.as_str()));
                    let name = c.as_str().to_string();
                    let name2 = name.clone();
                    view! {
                        <div class="checkbox-row">
                            <input
                                id=cid.clone()
                                type="checkbox"
                                prop:checked=move || categories.with(|cs| cs.contains(&name))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    categories.update(|cs| {
                                        cs.retain(|x| x != &name2);
                                        if on { cs.push(name2.clone()); }
                                    });
                                }
                            />
                            <label for=cid>{c.label()} " " <span class="muted">"(" {c.as_str()} ")"</span></label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>

            <label for=fid("redirects")>"Redirect URIs " <span class="muted">"(optional, one per line)"</span></label>
            <textarea id=fid("redirects") rows="2" placeholder="https://yourapp.com/integrations/memoryos/callback" aria-describedby=fid("redirects-hint") bind:value=redirect_uris></textarea>
            <p id=fid("redirects-hint") class="hint">"https:// only (http:// for localhost and 127.0.0.1). Consent links must use one of these exactly. Leave empty to use the hosted completion page."</p>

            <fieldset>
                <legend>"Requested access"</legend>
                {[AccessType::ReadOnly, AccessType::ReadWrite].into_iter().map(|a| {
                    let rid = fid(&format!("access-{}", a.as_str()));
                    let value = a.as_str();
                    view! {
                        <div class="checkbox-row">
                            <input id=rid.clone() type="radio" name=fid("access") value=value
                                prop:checked=move || access.get() == value
                                on:change=move |_| access.set(value.to_string())/>
                            <label for=rid>{a.label()}</label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>

            <div class="form-actions">
                <button type="submit" class="button primary" disabled=move || pending.get()>{submit_label}</button>
                {on_cancel.map(|cancel| view! {
                    <button type="button" class="button secondary" on:click=move |_| cancel.run(())>"Cancel"</button>
                })}
            </div>
        </form>
    }
}
