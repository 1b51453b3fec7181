//! People sign in to their Passport with a code (or the one-click link of the same mail) sent
//! by email, on the consent and manage pages. These server functions serve the hydrated page;
//! `app::forms` serves the same steps as plain HTML form posts.
use crate::model::SignInState;
use leptos::prelude::*;
use std::time::Duration;

/// Sends a sign-in code and link; returns the seconds until another may be requested. The
/// answer is the same whether or not the address already has a Passport. The mail's link
/// returns to `return_to` when it is this site's consent or manage page.
#[server(endpoint = "passport/send_code")]
pub async fn send_code(email: String, return_to: Option<String>) -> Result<u64, ServerFnError> {
    use crate::web::context;
    context::run(async move {
        let state = context::state()?;
        let wait = crate::service::otp::send_code(
            &state.db,
            &state.key,
            &state.mailer,
            &state.config.public_url,
            &context::client_key(),
            &email,
            return_to.as_deref().unwrap_or_default(),
        )
        .await?;
        context::remember_code_sent(&state, &email);
        Ok(wait)
    })
    .await
}

/// Checks the code and starts the person's session (creating the Passport the first time).
#[server(endpoint = "passport/verify_code")]
pub async fn verify_code(email: String, code: String) -> Result<(), ServerFnError> {
    use crate::web::context;
    context::run(async move {
        let state = context::state()?;
        let passport =
            crate::service::otp::verify_code(&state.db, &state.key, &context::client_key(), &email, &code).await?;
        context::start_passport_session(&state, &passport.id).await
    })
    .await
}

/// "Use a different email": forgets where the last code went.
#[server(endpoint = "passport/change_email")]
pub async fn change_email() -> Result<(), ServerFnError> {
    use crate::web::context;
    context::run(async move {
        context::forget_code_sent(&context::state()?);
        Ok(())
    })
    .await
}

/// The signed-in person's email, if any.
#[server(endpoint = "passport/session")]
pub async fn current_person() -> Result<Option<String>, ServerFnError> {
    use crate::web::context;
    context::run(async move { Ok(context::passport().await?.map(|p| p.email)) }).await
}

#[server(endpoint = "passport/sign_out")]
pub async fn sign_out_person() -> Result<(), ServerFnError> {
    use crate::web::context;
    context::run(context::end_passport_session()).await
}

/// The page this sign-in is on (path and query), for the mail's link to come back to.
fn this_page() -> Option<String> {
    let location = window().location();
    Some(format!("{}{}", location.pathname().ok()?, location.search().ok()?))
}

/// Email, then the six-digit code (or the mail's one-click link); a new code can be asked for
/// after a visible wait. Each step is a plain form that posts to the page it is on, where
/// `app::forms` handles it when the script has not run (yet, or at all) and returns to the
/// same full address; once hydrated, the same forms call the server functions instead.
#[component]
pub fn SignInWithCode(initial: SignInState, on_signed_in: Callback<()>) -> impl IntoView {
    let send = ServerAction::<SendCode>::new();
    let verify = ServerAction::<VerifyCode>::new();
    let change = ServerAction::<ChangeEmail>::new();
    let email = RwSignal::new(initial.code_sent_to.clone().unwrap_or_default());
    let code = RwSignal::new(String::new());
    let sent_to = RwSignal::new(initial.code_sent_to.clone());
    let wait = RwSignal::new(initial.resend_in);
    // After a plain form post sent the code, the page opens at the code (the script's focus
    // call does the same for the hydrated page).
    let focus_code = initial.code_sent_to.is_some();
    let notice = RwSignal::new(initial.notice.clone());
    let code_input = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(Ok(secs)) = send.value().get() {
            sent_to.set(Some(email.get_untracked()));
            wait.set(secs);
            code.set(String::new());
            notice.set(None);
            request_animation_frame(move || {
                if let Some(input) = code_input.get_untracked() {
                    let _ = input.focus();
                }
            });
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = verify.value().get() {
            on_signed_in.run(());
        }
    });
    // One ticking clock for the resend countdown (effects run only in the browser).
    Effect::new(move |_| {
        let _ = set_interval_with_handle(move || wait.update(|w| *w = w.saturating_sub(1)), Duration::from_secs(1));
    });
    let send_code = move || {
        let to = sent_to.get_untracked().unwrap_or_else(|| email.get_untracked());
        send.dispatch(SendCode { email: to, return_to: this_page() });
    };
    let notice_view = move || {
        notice.get().map(|n| {
            if n.is_error {
                view! { <p class="alert alert-error" role="alert">{n.text}</p> }.into_any()
            } else {
                view! { <p class="alert alert-success" role="status">{n.text}</p> }.into_any()
            }
        })
    };
    view! {
        <section class="card" aria-labelledby="signin-h">
            <h2 id="signin-h">"Sign in to your Memory Passport"</h2>
            {notice_view}
            <Show
                when=move || sent_to.get().is_some()
                fallback=move || view! {
                    <p>"We'll email you a one-time code. If this is your first time, we'll create your Passport."</p>
                    <form class="form" method="post" on:submit=move |ev| { ev.prevent_default(); sent_to.set(None); send_code(); }>
                        <input type="hidden" name="intent" value="send_code"/>
                        <label for="person-email">"Email address"</label>
                        <input id="person-email" name="email" type="email" autocomplete="email" required maxlength="254" bind:value=email/>
                        <button type="submit" class="button primary" disabled=move || send.pending().get()>"Send code"</button>
                    </form>
                }
            >
                <p role="status">{move || format!(
                    "If {} can receive mail, a 6-digit code is on its way, with a link that signs you in with one click. Both work once, for 15 minutes.",
                    sent_to.get().unwrap_or_default()
                )}</p>
                <form class="form" method="post" on:submit=move |ev| {
                    ev.prevent_default();
                    verify.dispatch(VerifyCode { email: sent_to.get_untracked().unwrap_or_default(), code: code.get_untracked() });
                }>
                    <input type="hidden" name="intent" value="verify_code"/>
                    <input type="hidden" name="email" value=move || sent_to.get().unwrap_or_default()/>
                    <label for="person-code">"Code from the email"</label>
                    <input id="person-code" name="code" node_ref=code_input type="text" inputmode="numeric" autocomplete="one-time-code"
                        required maxlength="7" pattern="[0-9 ]{6,7}" autofocus=focus_code bind:value=code/>
                    <button type="submit" class="button primary" disabled=move || verify.pending().get()>"Continue"</button>
                </form>
                <super::components::ActionError error=Signal::derive(move || super::components::failure(verify.value().get()))/>
                <div class="form-actions">
                    <form method="post" on:submit=move |ev| { ev.prevent_default(); send_code(); }>
                        <input type="hidden" name="intent" value="send_code"/>
                        <input type="hidden" name="email" value=move || sent_to.get().unwrap_or_default()/>
                        <button type="submit" class="button secondary small" data-wait=move || wait.get().to_string()
                            disabled=move || { wait.get() > 0 || send.pending().get() }>
                            {move || match wait.get() { 0 => "Send a new code".to_string(), s => format!("Send a new code (in {s} s)") }}
                        </button>
                    </form>
                    <form method="post" on:submit=move |ev| {
                        ev.prevent_default();
                        sent_to.set(None);
                        notice.set(None);
                        change.dispatch(ChangeEmail {});
                    }>
                        <input type="hidden" name="intent" value="change_email"/>
                        <button type="submit" class="link-button">"Use a different email"</button>
                    </form>
                </div>
            </Show>
            <super::components::ActionError error=Signal::derive(move || super::components::failure(send.value().get()))/>
        </section>
    }
}

/// `/passport/link`: the one-click link of a sign-in mail. Opening it signs nobody in (mail
/// scanners open links too); it names the address and asks for one click, which posts the form
/// to `app::forms::use_link` and lands on the page the code was asked for.
#[component]
pub fn LinkPage() -> impl IntoView {
    use leptos_router::hooks::use_query_map;
    let query = use_query_map();
    let (email, token) = query.with_untracked(|q| (q.get("email").unwrap_or_default(), q.get("token").unwrap_or_default()));
    let problem = query.with_untracked(|q| q.get("problem").is_some());
    view! {
        <super::components::PageTitle text="Sign in to your Memory Passport"/>
        <header class="site-header">
            <span class="brand">"Memory Passport"</span>
        </header>
        <main id="main" class="narrow">
            <section class="card" aria-labelledby="link-h">
                <h1 id="link-h">"Sign in to your Memory Passport"</h1>
                {if problem || email.is_empty() || token.is_empty() {
                    view! {
                        <p class="alert alert-error" role="alert">
                            "This sign-in link has been used or has expired. Only the newest mail's link works, once, for 15 minutes."
                        </p>
                        <p><a class="button secondary" href="/manage">"Send a new code"</a></p>
                    }.into_any()
                } else {
                    view! {
                        <p>"You are signing in as " <strong>{email.clone()}</strong> "."</p>
                        <p class="muted">"If this is not your address, close this page: someone may be trying to sign you in to their Passport."</p>
                        <form class="form" method="post" action="/passport/link">
                            <input type="hidden" name="email" value=email/>
                            <input type="hidden" name="token" value=token/>
                            <button type="submit" class="button primary">"Sign in"</button>
                        </form>
                    }.into_any()
                }}
            </section>
        </main>
    }
}
