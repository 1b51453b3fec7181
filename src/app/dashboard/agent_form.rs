//! The create / edit form for a global agent. Its state lives in a signal owned by the page,
//! so reloading the list around it never loses what was typed.
use crate::domain::agent::{AccessType, AgentDraft, MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS};
use crate::domain::categories::Category;
use leptos::prelude::*;

/// What the form shows; redirect URIs are kept as typed (one per line).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FormState {
    pub name: String,
    pub description: String,
    pub website_url: String,
    pub logo_url: String,
    pub categories: Vec<String>,
    pub redirect_uris: String,
    pub access: String,
}

impl From<AgentDraft> for FormState {
    fn from(d: AgentDraft) -> FormState {
        FormState {
            name: d.name,
            description: d.description,
            website_url: d.website_url,
            logo_url: d.logo_url,
            categories: d.default_categories,
            redirect_uris: d.redirect_uris.join("\n"),
            access: if d.access_type.is_empty() { AccessType::ReadOnly.as_str().into() } else { d.access_type },
        }
    }
}

impl FormState {
    pub fn draft(&self) -> AgentDraft {
        AgentDraft {
            name: self.name.clone(),
            description: self.description.clone(),
            website_url: self.website_url.clone(),
            logo_url: self.logo_url.clone(),
            default_categories: self.categories.clone(),
            redirect_uris: self.redirect_uris.lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect(),
            access_type: self.access.clone(),
        }
    }

    /// The starting point of a new agent: the guide's example categories.
    pub fn new_agent() -> FormState {
        FormState::from(AgentDraft {
            default_categories: vec!["preference".into(), "fact".into(), "goal".into()],
            ..Default::default()
        })
    }
}

#[component]
pub fn AgentForm(
    /// Prefix for element ids, so two forms can share a page.
    #[prop(into)]
    id: String,
    state: RwSignal<FormState>,
    #[prop(into)] submit_label: String,
    on_submit: Callback<AgentDraft>,
    pending: Signal<bool>,
    #[prop(optional)] on_cancel: Option<Callback<()>>,
) -> impl IntoView {
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_submit.run(state.with_untracked(FormState::draft));
    };
    let fid = move |field: &str| format!("{id}-{field}");
    // A text field bound to one field of the state.
    macro_rules! text {
        ($field:ident) => {
            (
                move || state.with(|s| s.$field.clone()),
                move |ev| state.update(|s| s.$field = event_target_value(&ev)),
            )
        };
    }
    let (name, set_name) = text!(name);
    let (description, set_description) = text!(description);
    let (website, set_website) = text!(website_url);
    let (logo, set_logo) = text!(logo_url);
    let (redirects, set_redirects) = text!(redirect_uris);

    view! {
        <form class="form" on:submit=submit>
            <label for=fid("name")>"Name"</label>
            <input id=fid("name") type="text" required maxlength=MAX_NAME_CHARS prop:value=name on:input=set_name/>

            <label for=fid("description")>"Description " <span class="muted">"(shown to people on the consent page)"</span></label>
            <textarea id=fid("description") rows="3" maxlength=MAX_DESCRIPTION_CHARS prop:value=description on:input=set_description></textarea>

            <label for=fid("website")>"Website"</label>
            <input id=fid("website") type="url" placeholder="https://yourapp.com" prop:value=website on:input=set_website/>

            <label for=fid("logo")>"Logo URL"</label>
            <input id=fid("logo") type="url" placeholder="https://yourapp.com/logo.png" prop:value=logo on:input=set_logo/>

            <fieldset>
                <legend>"Default requested categories"</legend>
                <p class="hint">"Only the starting selection on consent links without a categories parameter; people can add or remove any."</p>
                {Category::ALL.into_iter().map(|c| {
                    let cid = fid(&format!("cat-{}", c.as_str()));
                    let name = c.as_str();
                    view! {
                        <div class="checkbox-row">
                            <input
                                id=cid.clone()
                                type="checkbox"
                                prop:checked=move || state.with(|s| s.categories.iter().any(|x| x == name))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    state.update(|s| {
                                        s.categories.retain(|x| x != name);
                                        if on { s.categories.push(name.to_string()); }
                                    });
                                }
                            />
                            <label for=cid>{c.label()} " " <span class="muted">"(" {c.as_str()} ")"</span></label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>

            <label for=fid("redirects")>"Redirect URIs " <span class="muted">"(optional, one per line)"</span></label>
            <textarea id=fid("redirects") rows="2" placeholder="https://yourapp.com/integrations/memoryos/callback" aria-describedby=fid("redirects-hint") prop:value=redirects on:input=set_redirects></textarea>
            <p id=fid("redirects-hint") class="hint">"https:// only (http:// for localhost and 127.0.0.1). Consent links must use one of these exactly. Leave empty to use the hosted completion page."</p>

            <fieldset>
                <legend>"Requested access"</legend>
                {[AccessType::ReadOnly, AccessType::ReadWrite].into_iter().map(|a| {
                    let rid = fid(&format!("access-{}", a.as_str()));
                    let value = a.as_str();
                    view! {
                        <div class="checkbox-row">
                            <input id=rid.clone() type="radio" name=fid("access") value=value
                                prop:checked=move || state.with(|s| s.access == value)
                                on:change=move |_| state.update(|s| s.access = value.to_string())/>
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_lines_are_trimmed_and_blank_lines_dropped() {
        let s = FormState { redirect_uris: " https://a.example/cb \n\n https://b.example/cb\n".into(), ..FormState::new_agent() };
        assert_eq!(s.draft().redirect_uris, vec!["https://a.example/cb", "https://b.example/cb"]);
        assert_eq!(FormState::from(s.draft()).draft(), s.draft());
        assert_eq!(FormState::new_agent().access, "read_only");
    }
}
