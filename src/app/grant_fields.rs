//! What a person sees and uses to decide what an app may do, shared by the consent page and the
//! manage page's grant editor: the app's header, the category picker, the access choice and the
//! duration choice. Every control has a name and a value, so a page's plain form post works
//! before the script has loaded (and without it).
use super::components::StatusBadge;
use crate::domain::agent::AccessType;
use crate::domain::categories::Category;
use crate::domain::grant::GrantDuration;
use crate::domain::time::day;
use crate::model::PublicAgent;
use leptos::prelude::*;

/// The app's logo (or its initial), name, website and review badge. `main` makes it the page's
/// heading (the consent page); otherwise it heads one card in a list.
#[component]
pub fn AgentHeader(agent: PublicAgent, #[prop(into)] heading_id: String, #[prop(optional)] main: bool) -> impl IntoView {
    let initial = agent.name.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default();
    let size = if main { "56" } else { "40" };
    let name = agent.name.clone();
    view! {
        <div class="agent-head">
            {if agent.logo_url.is_empty() {
                view! { <span class="logo placeholder" aria-hidden="true">{initial}</span> }.into_any()
            } else {
                view! { <img class="logo" src=agent.logo_url.clone() alt="" width=size height=size/> }.into_any()
            }}
            <div>
                {if main {
                    view! { <h1 id=heading_id>{name}</h1> }.into_any()
                } else {
                    view! { <h3 id=heading_id>{name}</h3> }.into_any()
                }}
                {(!agent.website_url.is_empty()).then(|| view! {
                    <a href=agent.website_url.clone() rel="noopener noreferrer" target="_blank">{agent.website_url.clone()}</a>
                })}
            </div>
            <StatusBadge status=agent.status/>
        </div>
    }
}

/// A checkbox per category, bound to `chosen`; ids are `{id_prefix}-{category}`. With
/// `requested`, each says whether the app asked for it and what it holds.
#[component]
pub fn CategoryPicker(
    chosen: RwSignal<Vec<Category>>,
    #[prop(into)] legend: String,
    #[prop(into)] id_prefix: String,
    /// The categories the app asked for, marked "Requested" (the others "Optional").
    #[prop(optional)]
    requested: Option<Vec<Category>>,
    /// Called after every change (e.g. to clear a message about the choice).
    #[prop(optional)]
    on_change: Option<Callback<()>>,
) -> impl IntoView {
    let initial = chosen.get_untracked();
    view! {
        <fieldset>
            <legend>{legend}</legend>
            {Category::ALL.into_iter().map(|c| {
                let id = format!("{id_prefix}-{}", c.as_str());
                let toggle = move |ev: leptos::ev::Event| {
                    let on = event_target_checked(&ev);
                    chosen.update(|cs| {
                        cs.retain(|x| *x != c);
                        if on { cs.push(c); cs.sort(); }
                    });
                    if let Some(f) = on_change { f.run(()); }
                };
                let checked = initial.contains(&c);
                match &requested {
                    Some(requested) => {
                        let desc = format!("{id}-desc");
                        let tag = if requested.contains(&c) { "Requested" } else { "Optional" };
                        view! {
                            <div class="category-choice">
                                <input id=id.clone() type="checkbox" name="categories" value=c.as_str() aria-describedby=desc.clone() data-label=c.label()
                                    checked=checked prop:checked=move || chosen.with(|cs| cs.contains(&c)) on:change=toggle/>
                                <label for=id>{c.label()} " " <span class=format!("tag tag-{}", tag.to_ascii_lowercase())>{tag}</span></label>
                                <p id=desc class="hint">{c.description()} <span class="example">"For example: “" {c.example()} "”"</span></p>
                            </div>
                        }.into_any()
                    }
                    None => view! {
                        <div class="checkbox-row">
                            <input id=id.clone() type="checkbox" name="categories" value=c.as_str() data-label=c.label()
                                checked=checked prop:checked=move || chosen.with(|cs| cs.contains(&c)) on:change=toggle/>
                            <label for=id>{c.label()}</label>
                        </div>
                    }.into_any(),
                }
            }).collect_view()}
        </fieldset>
    }
}

/// Read and write or read only, bound to `access`; for an app that may write (one that may
/// only read has nothing to choose). Ids are `{id_prefix}-{access}`.
#[component]
pub fn AccessChoice(
    access: RwSignal<AccessType>,
    #[prop(into)] name: String,
    #[prop(into)] id_prefix: String,
    /// Says after each choice what it lets the app do.
    #[prop(optional)]
    explained: bool,
) -> impl IntoView {
    let initial = access.get_untracked();
    view! {
        <fieldset>
            <legend>"Access"</legend>
            {[AccessType::ReadWrite, AccessType::ReadOnly].into_iter().map(|a| {
                let id = format!("{id_prefix}-{}", a.as_str());
                let hint = match a {
                    AccessType::ReadWrite => " — use what you share and remember new things",
                    AccessType::ReadOnly => " — only use what you share",
                };
                view! {
                    <div class="checkbox-row">
                        <input id=id.clone() type="radio" name=name.clone() value=a.as_str() data-verb=access_verb(a)
                            checked=a == initial prop:checked=move || access.get() == a on:change=move |_| access.set(a)/>
                        <label for=id>{a.label()} {explained.then(|| view! { <span class="muted">{hint}</span> })}</label>
                    </div>
                }
            }).collect_view()}
        </fieldset>
    }
}

/// How long a grant lasts: one radio per duration, none ticked until the person picks one
/// (`selected` None). Ids are `{id_prefix}-{duration}`.
#[component]
pub fn DurationChoice(
    #[prop(into)] selected: Signal<Option<GrantDuration>>,
    on_pick: Callback<GrantDuration>,
    #[prop(into)] legend: String,
    #[prop(into)] name: String,
    #[prop(into)] id_prefix: String,
    /// When the grant would start: each choice then says the day it ends.
    #[prop(optional)]
    from_ms: Option<i64>,
) -> impl IntoView {
    view! {
        <fieldset>
            <legend>{legend}</legend>
            {GrantDuration::ALL.into_iter().map(|d| {
                let id = format!("{id_prefix}-{}", d.as_str());
                let ends = from_ms.map(|now| match d.expires_at(now) {
                    Some(end) => format!(" — until {}", day(end)),
                    None => " — no end date".to_string(),
                });
                view! {
                    <div class="checkbox-row">
                        <input id=id.clone() type="radio" name=name.clone() value=d.as_str() data-phrase=duration_phrase(d)
                            prop:checked=move || selected.get() == Some(d) on:change=move |_| on_pick.run(d)/>
                        <label for=id>{d.label()} {ends.map(|e| view! { <span class="muted">{e}</span> })}</label>
                    </div>
                }
            }).collect_view()}
        </fieldset>
    }
}

/// The approve button's words: the app, the access and what it covers, e.g. "Allow Support
/// Copilot to read 3 categories for 90 days". The consent page's script puts the same words
/// together from the controls' `data-verb` and `data-phrase` (`web/consent.js`).
pub fn approve_label(app: &str, access: AccessType, categories: usize, duration: Option<GrantDuration>) -> String {
    if categories == 0 {
        return format!("Allow {app}");
    }
    let what = if categories == 1 { "1 category".to_string() } else { format!("{categories} categories") };
    let how_long = duration.map(duration_phrase).unwrap_or_default();
    format!("Allow {app} to {} {what}{how_long}", access_verb(access))
}

/// What an access lets the app do, as the approve button says it.
pub fn access_verb(access: AccessType) -> &'static str {
    match access {
        AccessType::ReadOnly => "read",
        AccessType::ReadWrite => "read and write",
    }
}

/// How long, as the approve button says it (after the categories).
pub fn duration_phrase(duration: GrantDuration) -> String {
    match duration {
        GrantDuration::UntilRevoked => " until you revoke it".into(),
        d => format!(" for {}", d.label()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_approve_button_names_the_app_the_access_and_the_time() {
        assert_eq!(approve_label("Support Copilot", AccessType::ReadOnly, 3, Some(GrantDuration::Days90)),
            "Allow Support Copilot to read 3 categories for 90 days");
        assert_eq!(approve_label("Notes", AccessType::ReadWrite, 1, Some(GrantDuration::UntilRevoked)),
            "Allow Notes to read and write 1 category until you revoke it");
        assert_eq!(approve_label("Notes", AccessType::ReadWrite, 2, None), "Allow Notes to read and write 2 categories");
        assert_eq!(approve_label("Notes", AccessType::ReadOnly, 0, None), "Allow Notes");
    }
}
