//! People sign in to their Passport with a code sent by email (consent and manage pages).
use leptos::prelude::*;

/// Sends a sign-in code; returns the seconds until another may be requested. The answer is
/// the same whether or not the address already has a Passport.
#[server(endpoint = "passport/send_code")]
pub async fn send_code(email: String) -> Result<u64, ServerFnError> {
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        crate::service::otp::send_code(&state.db, &state.key, &state.mailer, &context::client_key(), &email).await
    })
    .await
}

/// Checks the code and starts the person's session (creating the Passport the first time).
#[server(endpoint = "passport/verify_code")]
pub async fn verify_code(email: String, code: String) -> Result<(), ServerFnError> {
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        let passport =
            crate::service::otp::verify_code(&state.db, &state.key, &context::client_key(), &email, &code).await?;
        context::start_passport_session(&state, &passport.id).await
    })
    .await
}

/// The signed-in person's email, if any.
#[server(endpoint = "passport/session")]
pub async fn current_person() -> Result<Option<String>, ServerFnError> {
    use crate::server::context;
    context::run(async move { Ok(context::passport().await?.map(|p| p.email)) }).await
}

#[server(endpoint = "passport/sign_out")]
pub async fn sign_out_person() -> Result<(), ServerFnError> {
    use crate::server::context;
    context::run(context::end_passport_session()).await
}
