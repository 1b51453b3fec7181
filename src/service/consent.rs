//! Consent: what happens when a person approves or denies an agent, and how the agent's
//! backend then exchanges its code for a pairwise token.
use crate::auth::pkce;
use crate::domain::agent::AccessType;
use crate::domain::categories::{self, Category};
use crate::domain::consent_url::with_query;
use crate::domain::grant::{self, GrantDuration};
use crate::domain::time::human;
use crate::error::{AppError, AppResult};
use crate::mail::{Mail, Mailer};
use crate::store::agents::{self, Agent};
use crate::store::grants::{self, Approval, Grant};
use crate::store::passports::Passport;
use crate::store::{now_ms, Db};
pub use crate::domain::consent_url::LinkProblem;
pub use crate::model::{Approved, ConsentAnswer, ExistingGrant};

pub const MAX_STATE_CHARS: usize = 512;
pub const MAX_LINK_TOKEN_CHARS: usize = 512;

/// The one check of a consent link's agent and redirect URI (the page and approve/deny both
/// call it): the agent, if it exists, is live and may receive grants, and `redirect_uri` is
/// "" (the hosted page) or registered byte for byte; else why the link cannot be used. An
/// OAuth link (`oauth`: it came through `/oauth/authorize`) is only for apps that registered
/// themselves over OAuth.
pub async fn link_agent(db: &Db, agent_id: &str, redirect_uri: &str, oauth: bool) -> AppResult<Result<Agent, LinkProblem>> {
    let agent_id = agent_id.trim();
    if agent_id.is_empty() {
        return Ok(Err(LinkProblem::MissingAgent));
    }
    let Some(agent) = agents::get(db, agent_id).await?.filter(|a| a.retired_at.is_none() && (!oauth || a.is_self_registered())) else {
        return Ok(Err(LinkProblem::UnknownAgent));
    };
    if !agent.status.may_receive_grants() {
        return Ok(Err(LinkProblem::AgentUnavailable));
    }
    if !redirect_uri.is_empty() && !agent.profile.redirect_uris.iter().any(|u| u == redirect_uri) {
        return Ok(Err(LinkProblem::RedirectNotRegistered));
    }
    Ok(Ok(agent))
}

/// [`link_agent`] as an error for approve and deny. Errors never carry a redirect.
pub async fn linked_agent(db: &Db, agent_id: &str, redirect_uri: &str, oauth: bool) -> AppResult<Agent> {
    match link_agent(db, agent_id, redirect_uri, oauth).await? {
        Ok(agent) => Ok(agent),
        Err(LinkProblem::MissingAgent | LinkProblem::UnknownAgent) => Err(AppError::NotFound),
        Err(LinkProblem::AgentUnavailable) => {
            Err(AppError::invalid("agent_id", "This app can't receive access to Memory Passports at the moment."))
        }
        Err(LinkProblem::RedirectNotRegistered) => {
            Err(AppError::invalid("redirect_uri", "This link would send you to an address the app has not registered."))
        }
    }
}

/// The person's grant for `agent_id`, in force or not, for the re-consent note.
pub async fn existing_grant(db: &Db, passport: &Passport, agent_id: &str) -> AppResult<Option<ExistingGrant>> {
    Ok(grants::find(db, &passport.id, agent_id).await?.map(|g| ExistingGrant {
        active: g.is_active(now_ms()),
        categories: g.categories,
        access: g.access_type,
        expires_at: g.expires_at,
    }))
}

fn check_link(answer: &ConsentAnswer) -> AppResult<Option<String>> {
    if answer.state.chars().count() > MAX_STATE_CHARS || answer.state.chars().any(char::is_control) {
        return Err(AppError::invalid("state", "The link's state is too long or malformed."));
    }
    if answer.link_token.chars().count() > MAX_LINK_TOKEN_CHARS || answer.link_token.chars().any(char::is_control) {
        return Err(AppError::invalid("link_token", "The link's link_token is too long or malformed."));
    }
    match (answer.code_challenge.as_str(), answer.code_challenge_method.as_str()) {
        ("", "") => Ok(None),
        (challenge, "S256") if pkce::is_valid_challenge(challenge) => Ok(Some(challenge.to_string())),
        _ => Err(AppError::invalid("code_challenge", "The link's code_challenge must be S256.")),
    }
}

/// Records the person's approval, sends the notification mail, and says where to go next.
pub async fn approve(db: &Db, mailer: &Mailer, public_url: &str, passport: &Passport, answer: &ConsentAnswer) -> AppResult<Approved> {
    let agent = linked_agent(db, &answer.agent_id, &answer.redirect_uri, !answer.resource.is_empty()).await?;
    let challenge = check_link(answer)?;
    limit_answers(db, passport).await?;
    let chosen = categories::parse_list(&answer.categories)
        .map_err(|name| AppError::invalid("categories", format!("\"{name}\" is not a memory category.")))?;
    let chosen = grant::approved_categories(&chosen).map_err(|m| AppError::invalid("categories", m))?;
    let duration = GrantDuration::parse(&answer.duration)
        .ok_or_else(|| AppError::invalid("duration", "Choose how long this app may use your memory."))?;
    let requested = grant::requested_access(AccessType::parse(&answer.requested_access), agent.profile.access_type);
    let access = AccessType::parse(&answer.access).unwrap_or(requested);
    let access = grant::granted_access(requested, access).map_err(|m| AppError::invalid("access", m))?;
    let link_token = Some(answer.link_token.as_str()).filter(|t| !t.is_empty());

    let oauth = oauth_binding(public_url, answer, challenge.as_deref())?;
    let (grant, _) = grants::upsert(
        db,
        &Approval { passport_id: &passport.id, agent_id: &agent.id, categories: &chosen, access_type: access, duration },
    )
    .await?;
    notify(mailer, public_url, passport, &agent, &grant);

    if answer.redirect_uri.is_empty() {
        let token = grants::issue_token(db, &grant).await?;
        let location = with_query(&format!("{public_url}/complete"), &[("status", "granted"), ("state", &answer.state)])
            .ok_or_else(|| AppError::Internal("PUBLIC_URL is not a URL".into()))?;
        return Ok(Approved { location, token: Some(token), grant_id: grant.id });
    }
    if let Some(resource) = oauth {
        let scope = crate::domain::oauth::granted_scope(&grant.categories, grant.access_type);
        let binding = grants::OAuthBinding { resource: &resource, scope: &scope };
        let code = grants::create_exchange_code(db, &grant, &answer.redirect_uri, challenge.as_deref(), None, Some(binding)).await?;
        let location = with_query(&answer.redirect_uri, &[("code", &code), ("state", &answer.state)])
            .ok_or_else(|| AppError::invalid("redirect_uri", "The redirect URI is not a URL."))?;
        return Ok(Approved { location, token: None, grant_id: grant.id });
    }
    let code = grants::create_exchange_code(db, &grant, &answer.redirect_uri, challenge.as_deref(), link_token, None).await?;
    let location = with_query(&answer.redirect_uri, &[("status", "granted"), ("state", &answer.state), ("code", &code)])
        .ok_or_else(|| AppError::invalid("redirect_uri", "The redirect URI is not a URL."))?;
    Ok(Approved { location, token: None, grant_id: grant.id })
}

/// Records a denial (when the person is signed in) and says where to go next.
pub async fn deny(db: &Db, public_url: &str, passport: Option<&Passport>, answer: &ConsentAnswer) -> AppResult<String> {
    let agent = linked_agent(db, &answer.agent_id, &answer.redirect_uri, !answer.resource.is_empty()).await?;
    check_link(answer)?;
    if let Some(p) = passport {
        limit_answers(db, p).await?;
        grants::record_denial(db, &p.id, &agent.id).await?;
    }
    if !answer.resource.is_empty() && !answer.redirect_uri.is_empty() {
        return with_query(&answer.redirect_uri, &[("error", "access_denied"), ("state", &answer.state)])
            .ok_or_else(|| AppError::Internal("bad redirect base".into()));
    }
    let base = if answer.redirect_uri.is_empty() { format!("{public_url}/complete") } else { answer.redirect_uri.clone() };
    with_query(&base, &[("status", "denied"), ("state", &answer.state)]).ok_or_else(|| AppError::Internal("bad redirect base".into()))
}

/// For an answer to `/oauth/authorize` (it names a resource): checks what OAuth needs on top of
/// a consent link (PKCE, a redirect URI, our resource; `link_agent` checked the app registered
/// itself) and returns
/// the canonical resource the code will be bound to. `None` for a plain consent link.
fn oauth_binding(public_url: &str, answer: &ConsentAnswer, challenge: Option<&str>) -> AppResult<Option<String>> {
    if answer.resource.is_empty() {
        return Ok(None);
    }
    let ours = crate::service::oauth::resource(public_url);
    if !crate::domain::oauth::is_our_resource(&answer.resource, &ours) {
        return Err(AppError::invalid("resource", "This link asks for access to a service we don't provide."));
    }
    if answer.redirect_uri.is_empty() || challenge.is_none() {
        return Err(AppError::invalid("resource", "This link is incomplete. Start again from the app."));
    }
    Ok(Some(ours))
}

/// Counts one consent answer of `passport` (approve and deny share the limit).
async fn limit_answers(db: &Db, passport: &Passport) -> AppResult<()> {
    crate::service::limits::enforce(db, &format!("consent-answers:{}", passport.id), crate::service::limits::CONSENT_ANSWERS_PER_PERSON).await
}

fn notify(mailer: &Mailer, public_url: &str, passport: &Passport, agent: &Agent, grant: &Grant) {
    let labels: Vec<String> = grant.categories.iter().map(|c: &Category| format!("  - {}", c.label())).collect();
    let until = grant.expires_at.map(human).unwrap_or_else(|| "until you revoke it".into());
    let mail = Mail {
        to: passport.email.clone(),
        subject: format!("{} can now use parts of your Memory Passport", agent.profile.name),
        text: format!(
            "You gave {} access to:\n{}\n\nAccess: {}\nUntil: {}\n\nTo revoke it at any time: {}/manage?revoke={}\n",
            agent.profile.name,
            labels.join("\n"),
            grant.access_type.label(),
            until,
            public_url,
            grant.id
        ),
    };
    let mailer = mailer.clone();
    tokio::spawn(async move {
        if let Err(e) = mailer.send(&mail).await {
            tracing::warn!(error = %e, "could not deliver a grant notification");
        }
    });
}

/// What the agent's backend receives for a good code.
#[derive(Debug)]
pub struct Exchanged {
    pub uui_token: String,
    pub grant: Grant,
    /// The app's own reference from the consent link that made this code.
    pub link_token: Option<String>,
}

/// Redeems an exchange code for `agent`: single use, unexpired, same agent, same redirect URI,
/// and the PKCE verifier when the link carried a challenge. Every failure looks the same.
pub async fn exchange(db: &Db, agent: &Agent, code: &str, redirect_uri: &str, verifier: Option<&str>) -> AppResult<Exchanged> {
    // No code, redirect URI or verifier we issue or accept has a control character (and
    // PostgreSQL refuses NUL in a parameter): such a request cannot name a real code.
    if [code, redirect_uri, verifier.unwrap_or_default()].iter().any(|v| v.chars().any(char::is_control)) {
        return Err(AppError::InvalidGrant);
    }
    // Only the agent and redirect URI the code was made for can use (and so burn) it.
    let redeemed = grants::redeem_exchange_code(db, code, &agent.id, redirect_uri, "").await?.ok_or(AppError::InvalidGrant)?;
    let pkce_ok = match (&redeemed.code_challenge, verifier) {
        (Some(challenge), Some(v)) => pkce::verify(v, challenge),
        // A verifier for a code that had no challenge means the link was altered (downgrade).
        (None, Some(_)) | (Some(_), None) => false,
        (None, None) => true,
    };
    if !pkce_ok {
        return Err(AppError::InvalidGrant);
    }
    let grant = grants::get(db, &redeemed.grant_id).await?.filter(|g| g.is_active(now_ms())).ok_or(AppError::InvalidGrant)?;
    let uui_token = grants::issue_token(db, &grant).await?;
    Ok(Exchanged { uui_token, grant, link_token: redeemed.link_token })
}
