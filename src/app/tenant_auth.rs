//! Tenant sign-up, sign-in and sign-out.
use super::components::{error_text, go_to, Alert, PageTitle};
use crate::model::TenantSession;
use leptos::prelude::*;

#[server(endpoint = "tenant/sign_up")]
pub async fn sign_up(email: String, password: String) -> Result<(), ServerFnError> {
    use crate::web::context;
    use crate::service::accounts::AccountKind;
    context::run(async move {
        let state = context::state()?;
        let token = crate::service::accounts::sign_up(&state.db, &context::client_key(), &email, &password).await?;
        context::start_session(&state, AccountKind::Tenant, &token);
        Ok(())
    })
    .await
}

#[server(endpoint = "tenant/sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), ServerFnError> {
    use crate::web::context;
    use crate::service::accounts::AccountKind;
    context::run(async move {
        let state = context::state()?;
        let client = context::client_key();
        let token = crate::service::accounts::sign_in(&state.db, AccountKind::Tenant, &client, &email, &password).await?;
        context::start_session(&state, AccountKind::Tenant, &token);
        Ok(())
    })
    .await
}

#[server(endpoint = "tenant/sign_out")]
pub async fn sign_out() -> Result<(), ServerFnError> {
    use crate::web::context;
    context::run(context::end_session(crate::service::accounts::AccountKind::Tenant)).await
}

/// The signed-in tenant, if any.
#[server(endpoint = "tenant/session")]
pub async fn current_tenant() -> Result<Option<TenantSession>, ServerFnError> {
    use crate::web::context;
    context::run(async move {
        let state = context::state()?;
        let account = context::account(crate::service::accounts::AccountKind::Tenant).await?;
        Ok(account.map(|a| TenantSession { email: a.email, public_url: state.config.public_url.clone() }))
    })
    .await
}

#[component]
fn AuthLayout(#[prop(into)] title: String, children: Children) -> impl IntoView {
    view! {
        <PageTitle text=title.clone()/>
        <header class="site-header">
            <a class="brand" href="/">"Memory Passport"</a>
        </header>
        <main id="main" class="narrow">
            <h1>{title}</h1>
            {children()}
        </main>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            go_to("/dashboard");
        }
    });
    view! {
        <AuthLayout title="Create a tenant account">
            <p class="lead">"Register the AI agents your company builds, and send people to a consent page where they decide what each agent may remember."</p>
            <ActionForm action=action attr:class="form card">
                <label for="email">"Work email"</label>
                <input id="email" name="email" type="email" autocomplete="email" required maxlength="254"/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="new-password" required minlength="10" maxlength="256" aria-describedby="password-hint"/>
                <p id="password-hint" class="hint">"At least 10 characters. A passphrase of a few words works well."</p>
                {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <Alert message=error_text(&e)/> })}
                <button type="submit" class="button primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Creating account…" } else { "Create account" }}
                </button>
            </ActionForm>
            <p>"Already have an account? " <a href="/signin">"Sign in"</a></p>
        </AuthLayout>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            go_to("/dashboard");
        }
    });
    view! {
        <AuthLayout title="Sign in">
            <ActionForm action=action attr:class="form card">
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="username" required maxlength="254"/>
                <label for="password">"Password"</label>
                <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="256"/>
                {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <Alert message=error_text(&e)/> })}
                <button type="submit" class="button primary" disabled=move || action.pending().get()>
                    {move || if action.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <p>"New here? " <a href="/signup">"Create a tenant account"</a></p>
        </AuthLayout>
    }
}
