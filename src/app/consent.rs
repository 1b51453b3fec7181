//! The consent flow's server functions and data; the page itself is in `consent_page`.
use crate::domain::agent::AccessType;
use crate::domain::categories::Category;
use crate::model::{Approved, ConsentAnswer, PublicAgent, SignInState};
use leptos::server_fn::codec::Json;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Why a consent link cannot be used. Never redirects: the link may be forged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LinkProblem {
    MissingAgent,
    UnknownAgent,
    AgentUnavailable,
    RedirectNotRegistered,
}

impl LinkProblem {
    pub fn explain(&self) -> &'static str {
        match self {
            LinkProblem::MissingAgent => "This link does not say which app is asking. Ask the app for a new link.",
            LinkProblem::UnknownAgent => "We don't know the app this link is for. It may have been removed. Ask the app for a new link.",
            LinkProblem::AgentUnavailable => "This app can't receive access to Memory Passports at the moment.",
            LinkProblem::RedirectNotRegistered => "This link would send you to an address the app has not registered with us, so we stopped here to keep you safe.",
        }
    }
}

/// The person's existing grant for this agent, shown on re-consent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExistingGrant {
    pub categories: Vec<Category>,
    pub access: AccessType,
    pub expires_at: Option<i64>,
    pub active: bool,
}

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
    use crate::error::AppError;
    use crate::server::context;
    context::run(async move {
        let state = context::state()?;
        if agent_id.trim().is_empty() {
            return Ok(Err(LinkProblem::MissingAgent));
        }
        let agent = match crate::service::agents::get_public(&state.db, agent_id.trim()).await {
            Ok(a) => a,
            Err(AppError::NotFound) => return Ok(Err(LinkProblem::UnknownAgent)),
            Err(e) => return Err(e),
        };
        if !agent.status.may_receive_grants() {
            return Ok(Err(LinkProblem::AgentUnavailable));
        }
        if !redirect_uri.is_empty() && !agent.profile.redirect_uris.iter().any(|u| u == &redirect_uri) {
            return Ok(Err(LinkProblem::RedirectNotRegistered));
        }
        let passport = context::passport().await?;
        let existing = match &passport {
            Some(p) => crate::store::grants::find(&state.db, &p.id, &agent.id).await?.map(|g| ExistingGrant {
                active: g.is_active(crate::store::now_ms()),
                categories: g.categories,
                access: g.access_type,
                expires_at: g.expires_at,
            }),
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
