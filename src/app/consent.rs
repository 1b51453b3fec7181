//! The consent flow's server functions and data; the page itself is in `consent_page`.
use crate::model::{Approved, ConsentAnswer, PublicAgent, SignInState};
use leptos::server_fn::codec::Json;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

pub use crate::domain::consent_url::LinkProblem;
pub use crate::model::ExistingGrant;

/// Everything the consent page needs: the agent, and who is signed in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConsentData {
    pub agent: PublicAgent,
    pub person: Option<String>,
    pub existing: Option<ExistingGrant>,
    /// Where a signed-out person is in the sign-in, and the last plain form post's notice.
    pub sign_in: SignInState,
}

/// Looks up the agent of a consent link (checking the redirect URI exactly) and the person.
#[server(endpoint = "consent/view")]
pub async fn consent_view(agent_id: String, redirect_uri: String) -> Result<Result<ConsentData, LinkProblem>, ServerFnError> {
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        let agent = match crate::service::consent::link_agent(&state.db, &agent_id, &redirect_uri).await? {
            Ok(agent) => agent,
            Err(problem) => return Ok(Err(problem)),
        };
        let passport = context::passport().await?;
        let existing = match &passport {
            Some(p) => crate::service::consent::existing_grant(&state.db, p, &agent.id).await?,
            None => None,
        };
        let sign_in = context::sign_in_state();
        Ok(Ok(ConsentData { agent: PublicAgent::from(&agent), person: passport.map(|p| p.email), existing, sign_in }))
    })
    .await
}

/// The person approves: creates or updates the grant; answers where the browser goes next
/// (and, for the hosted completion page, this app's token, shown once).
#[server(endpoint = "consent/approve", input = Json)]
pub async fn approve_consent(answer: ConsentAnswer) -> Result<Approved, ServerFnError> {
    use crate::error::AppError;
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        let passport = context::passport().await?.ok_or(AppError::Unauthenticated)?;
        let approved = crate::service::consent::approve(&state.db, &state.mailer, &state.config.public_url, &passport, &answer).await?;
        if let Some(token) = &approved.token {
            context::set_cookie(context::completion_cookie(&state, token));
        }
        Ok(approved)
    })
    .await
}

/// The person says no: recorded when signed in; answers where the browser goes next.
#[server(endpoint = "consent/deny", input = Json)]
pub async fn deny_consent(answer: ConsentAnswer) -> Result<String, ServerFnError> {
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        let passport = context::passport().await?;
        crate::service::consent::deny(&state.db, &state.config.public_url, passport.as_ref(), &answer).await
    })
    .await
}
