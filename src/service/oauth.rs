//! The authorization server of the MCP front door (OAuth 2.1): apps register themselves, the
//! person answers on the consent page, and the app trades its code for short-lived access
//! tokens and rotating refresh tokens. HTTP lives in `api::oauth`; the rules of scopes and
//! registrations in `domain::oauth`.
use crate::auth::pkce;
use crate::config::Config;
use crate::domain::agent::AgentProfile;
use crate::domain::consent_url::{ConsentLink, LinkProblem};
use crate::domain::oauth::{self, Registration};
use crate::error::{AppError, AppResult};
use crate::service::limits::{self, OAUTH_REGISTRATIONS_OVERALL, OAUTH_REGISTRATIONS_PER_CLIENT, OAUTH_TOKEN_FAILURES_PER_CLIENT};
use crate::store::agents::Agent;
use crate::store::oauth::{self as tokens, Refresh};
use crate::store::{grants, now_ms, Db};

/// The issuer: this server's public URL (RFC 8414).
pub fn issuer(public_url: &str) -> String {
    public_url.trim_end_matches('/').to_string()
}

/// The protected resource: our MCP endpoint (RFC 8707, RFC 9728).
pub fn resource(public_url: &str) -> String {
    format!("{}/mcp", issuer(public_url))
}

/// Registers an app that registered itself (RFC 7591). It is a pending global agent of no
/// tenant until an operator reviews it; the person's consent page says so.
pub async fn register(db: &Db, client: &str, registration: &Registration) -> AppResult<Agent> {
    limits::enforce(db, &format!("oauth-register:{client}"), OAUTH_REGISTRATIONS_PER_CLIENT).await?;
    let checked = registration.check().map_err(|errors| {
        let field = if errors.iter().any(|e| e.field == "redirect_uris") { "invalid_redirect_uri" } else { "invalid_client_metadata" };
        AppError::oauth(field, errors.iter().map(|e| e.message.as_str()).collect::<Vec<_>>().join(" "))
    })?;
    limits::enforce(db, "oauth-register", OAUTH_REGISTRATIONS_OVERALL).await?;
    Ok(tokens::register(db, &profile_of(checked)).await?)
}

/// An authorization request as it arrives (RFC 6749 §4.1.1 with PKCE and RFC 8707).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AuthorizeRequest {
    pub response_type: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub state: String,
    pub code_challenge: String,
    pub code_challenge_method: String,
    pub resource: String,
}

/// Where an authorization request goes.
#[derive(Debug, PartialEq)]
pub enum Authorize {
    /// To the consent page with this link.
    Consent(String),
    /// Back to the app with an error (the client and redirect URI are known good).
    Refuse(String),
    /// Nowhere: the app or its redirect URI cannot be trusted. The consent page (this link)
    /// says why and links nowhere.
    Stop(LinkProblem, String),
}

/// Checks an authorization request and turns it into a consent link: who the client is and
/// its redirect URI first (failures never redirect), then the rest (failures go back to the
/// app as `error=`).
pub async fn authorize(db: &Db, config: &Config, client: &str, r: &AuthorizeRequest) -> AppResult<Authorize> {
    let public_url = config.public_url.as_str();
    let stop = |problem: LinkProblem| {
        let link = ConsentLink { agent_id: r.client_id.clone(), redirect_uri: r.redirect_uri.clone(), resource: resource(public_url), ..Default::default() };
        Ok(Authorize::Stop(problem, link.build(public_url)))
    };
    let Some(known) = client_agent(db, config, client, &r.client_id).await? else {
        return stop(if r.client_id.trim().is_empty() { LinkProblem::MissingAgent } else { LinkProblem::UnknownAgent });
    };
    // A client with one registered redirect URI may leave it out (RFC 6749 §3.1.2.3).
    let redirect_uri = match (r.redirect_uri.as_str(), known.profile.redirect_uris.as_slice()) {
        ("", [only]) => only.clone(),
        ("", _) => return stop(LinkProblem::RedirectNotRegistered),
        (given, _) => given.to_string(),
    };
    // The same check as every consent link: live, may receive grants, redirect registered
    // byte for byte.
    let agent = match crate::service::consent::link_agent(db, &known.id, &redirect_uri, true).await? {
        Ok(agent) => agent,
        Err(problem) => return stop(problem),
    };
    let refuse = |error: &str, description: &str| {
        crate::domain::consent_url::with_query(
            &redirect_uri,
            &[("error", error), ("error_description", description), ("state", &r.state)],
        )
        .map(Authorize::Refuse)
        .ok_or_else(|| AppError::Internal("a registered redirect URI is not a URL".into()))
    };
    if r.response_type != "code" {
        return refuse("unsupported_response_type", "Only response_type=code is supported.");
    }
    if r.code_challenge_method != "S256" || !pkce::is_valid_challenge(&r.code_challenge) {
        return refuse("invalid_request", "PKCE with code_challenge_method=S256 is required.");
    }
    if r.state.chars().count() > crate::service::consent::MAX_STATE_CHARS || r.state.chars().any(char::is_control) {
        return refuse("invalid_request", "state is too long or malformed.");
    }
    let ours = resource(public_url);
    if !oauth::is_our_resource(&r.resource, &ours) {
        return refuse("invalid_target", "resource must be this server's MCP endpoint.");
    }
    let scopes = match oauth::parse_scope(&r.scope) {
        Ok(s) => s,
        Err(_) => return refuse("invalid_scope", "scope names a scope this server does not know."),
    };
    let (categories, access) = if scopes.is_empty() {
        (agent.profile.default_categories.clone(), crate::domain::agent::AccessType::ReadOnly)
    } else {
        oauth::consent_request(&scopes)
    };
    let link = ConsentLink {
        agent_id: agent.id,
        state: r.state.clone(),
        categories,
        redirect_uri,
        access: access.as_str().to_string(),
        code_challenge: r.code_challenge.clone(),
        code_challenge_method: r.code_challenge_method.clone(),
        link_token: String::new(),
        resource: ours,
    };
    Ok(Authorize::Consent(link.build(public_url)))
}

/// A token request as it arrives (form fields of RFC 6749 §4.1.3 and §6, with RFC 8707).
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct TokenRequest {
    pub grant_type: String,
    pub client_id: String,
    pub code: String,
    pub redirect_uri: String,
    pub code_verifier: String,
    pub refresh_token: String,
    pub resource: String,
}

/// What a good token request gets (RFC 6749 §5.1).
#[derive(Clone, Debug, serde::Serialize)]
pub struct TokenAnswer {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    pub scope: String,
}

/// Redeems a code or a refresh token. Refusals count towards a per-client limit.
pub async fn token(db: &Db, config: &Config, client: &str, r: &TokenRequest) -> AppResult<TokenAnswer> {
    let answer = exchange(db, config, client, r).await;
    if matches!(answer, Err(AppError::OAuth { .. })) {
        limits::enforce(db, &format!("oauth-token-fail:{client}"), OAUTH_TOKEN_FAILURES_PER_CLIENT).await?;
    }
    answer
}

async fn exchange(db: &Db, config: &Config, client: &str, r: &TokenRequest) -> AppResult<TokenAnswer> {
    let public_url = config.public_url.as_str();
    let fields = [&r.client_id, &r.code, &r.redirect_uri, &r.code_verifier, &r.refresh_token, &r.resource];
    if fields.iter().any(|v| v.len() > 4096 || v.chars().any(char::is_control)) {
        return Err(AppError::oauth("invalid_request", "A field is too long or malformed."));
    }
    let agent = client_agent(db, config, client, &r.client_id)
        .await?
        .filter(|a| a.retired_at.is_none() && a.status.may_receive_grants())
        .ok_or_else(|| AppError::oauth("invalid_client", "Unknown or disabled client_id."))?;
    let ours = resource(public_url);
    if !r.resource.is_empty() && !oauth::is_our_resource(&r.resource, &ours) {
        return Err(AppError::oauth("invalid_target", "resource must be this server's MCP endpoint."));
    }
    let invalid_grant = || AppError::oauth("invalid_grant", "The code or refresh token is invalid, used, expired, or not this client's.");
    let (grant_id, family, scope) = match r.grant_type.as_str() {
        "authorization_code" => {
            if r.resource.is_empty() {
                return Err(AppError::oauth("invalid_target", "resource is required."));
            }
            if !pkce::is_valid_verifier(&r.code_verifier) {
                return Err(AppError::oauth("invalid_request", "code_verifier is required (PKCE)."));
            }
            // A client that left redirect_uri out of its authorization request got its one
            // registered URI (see `authorize`), and may leave it out here too.
            let redirect_uri = match (r.redirect_uri.as_str(), agent.profile.redirect_uris.as_slice()) {
                ("", [only]) => only.as_str(),
                (given, _) => given,
            };
            let Some(redeemed) = grants::redeem_exchange_code(db, &r.code, &agent.id, redirect_uri, &ours).await? else {
                // A code used twice may have been stolen: whatever the first use got ends too
                // (OAuth 2.1 §4.1.3).
                if grants::exchange_code_was_used(db, &r.code, &agent.id).await? {
                    tracing::warn!(client = %agent.id, "an authorization code was used twice; the tokens it gave are revoked");
                    tokens::revoke_family(db, &code_family(&r.code)).await?;
                }
                return Err(invalid_grant());
            };
            let challenge = redeemed.code_challenge.ok_or_else(invalid_grant)?;
            if !pkce::verify(&r.code_verifier, &challenge) {
                return Err(invalid_grant());
            }
            (redeemed.grant_id, code_family(&r.code), redeemed.scope.unwrap_or_default())
        }
        "refresh_token" => match tokens::use_refresh_token(db, &r.refresh_token, &agent.id).await? {
            Refresh::Rotated { family_id, grant_id, resource, scope } if resource == ours => (grant_id, family_id, scope),
            // The thief and the owner cannot be told apart, so both lose the family
            // (RFC 9700 §4.14.2).
            Refresh::Reused { family_id } => {
                tracing::warn!(client = %agent.id, "a refresh token was used twice; its family is revoked");
                tokens::revoke_family(db, &family_id).await?;
                return Err(invalid_grant());
            }
            _ => return Err(invalid_grant()),
        },
        _ => return Err(AppError::oauth("unsupported_grant_type", "Use authorization_code or refresh_token.")),
    };
    let grant = grants::get(db, &grant_id).await?.filter(|g| g.is_active(now_ms())).ok_or_else(invalid_grant)?;
    let issued = tokens::issue(db, &grant, &family, &ours, &scope).await?;
    Ok(TokenAnswer {
        access_token: issued.access_token,
        token_type: "Bearer",
        expires_in: issued.expires_in_secs,
        refresh_token: issued.refresh_token,
        scope,
    })
}

/// The family of the tokens one authorization code leads to: named after the code's hash, so
/// a second use of the code finds them.
fn code_family(code: &str) -> String {
    crate::auth::secrets::hash(code)
}

/// RFC 7009: ends a token of `client_id` (and a refresh token's family). Always succeeds, so
/// nobody learns which tokens exist.
pub async fn revoke(db: &Db, config: &Config, client: &str, client_id: &str, token: &str) -> AppResult<()> {
    if token.len() > 4096 {
        return Ok(());
    }
    if let Some(agent) = client_agent(db, config, client, client_id).await? {
        tokens::revoke(db, token, &agent.id).await?;
    }
    Ok(())
}

/// The app behind a `client_id`: one that registered, or one whose metadata document URL it
/// is, read (at most once an hour while it is in use), checked, and filed or updated here. A
/// document that changes what a verified app shows sends it back to review, as a tenant's edit
/// would. Reading is limited per client address. `None`: no such app, or its document cannot
/// be used.
async fn client_agent(db: &Db, config: &Config, client: &str, client_id: &str) -> AppResult<Option<Agent>> {
    let client_id = client_id.trim();
    let Some(url) = oauth::metadata_document_url(client_id, config.oauth_metadata_allow_loopback) else {
        return Ok(tokens::client(db, client_id).await?);
    };
    let known = tokens::metadata_client(db, client_id).await?;
    if let Some((agent, read_at)) = &known {
        if now_ms() - read_at < oauth::METADATA_CACHE_MS {
            return Ok(Some(agent.clone()));
        }
    }
    limits::enforce(db, &format!("oauth-metadata:{client}"), limits::OAUTH_METADATA_READS_PER_CLIENT).await?;
    let checked = match metadata::read(&url, config.oauth_metadata_allow_loopback).await {
        Ok(c) => c,
        Err(why) => {
            tracing::info!(client_id, why, "a client metadata document cannot be used");
            return Ok(None);
        }
    };
    let profile = profile_of(checked);
    let Some((agent, _)) = known else {
        return Ok(Some(tokens::register_metadata_client(db, client_id, &profile).await?));
    };
    let decide = |current: &Agent| {
        let (status, changes_since_review) =
            crate::domain::agent::review_after_edit(current.status, &current.changes_since_review, &current.profile, &profile);
        crate::store::agents::Edit { profile: profile.clone(), status, changes_since_review }
    };
    let updated = crate::store::agents::update(db, crate::store::agents::SELF_REGISTERED, &agent.id, decide).await?;
    tokens::touch_metadata_client(db, &agent.id).await?;
    Ok(updated)
}

/// The agent profile of a self-registered app.
fn profile_of(checked: oauth::Client) -> AgentProfile {
    AgentProfile {
        name: checked.name,
        description: String::new(),
        website_url: checked.website_url,
        logo_url: checked.logo_url,
        default_categories: checked.categories,
        redirect_uris: checked.redirect_uris,
        // The most it may ask for: what a registration says binds nothing (nobody reviewed
        // it), and an assistant asks for write later, when the person wants it to remember
        // something (step-up). Each authorization asks for its scopes; the person decides.
        access_type: crate::domain::agent::AccessType::ReadWrite,
    }
}

/// Reading a client metadata document without letting the URL reach into our own network.
mod metadata {
    use crate::domain::oauth::{self, MetadataDocument, MAX_METADATA_DOCUMENT_BYTES, METADATA_FETCH_TIMEOUT_MS};
    use std::time::Duration;

    /// Resolves the host once, refuses any address that is not public (loopback too, when
    /// `allow_loopback`), then connects to that vetted address only (so a second lookup cannot
    /// answer differently), follows no redirect, and reads at most the size limit in the time
    /// limit.
    pub async fn read(url: &url::Url, allow_loopback: bool) -> Result<oauth::Client, String> {
        let limit = Duration::from_millis(METADATA_FETCH_TIMEOUT_MS);
        let host = url.host_str().ok_or("no host")?.trim_start_matches('[').trim_end_matches(']').to_string();
        let port = url.port_or_known_default().ok_or("no port")?;
        let addresses: Vec<std::net::SocketAddr> = tokio::time::timeout(limit, tokio::net::lookup_host((host.as_str(), port)))
            .await
            .map_err(|_| "the host name took too long to resolve")?
            .map_err(|e| format!("the host name does not resolve: {e}"))?
            .collect();
        let allowed = |ip: std::net::IpAddr| oauth::is_public_address(ip) || (allow_loopback && ip.is_loopback());
        let Some(first) = addresses.first().copied() else { return Err("the host name has no address".into()) };
        if !addresses.iter().all(|a| allowed(a.ip())) {
            return Err("the host name resolves to a private address".into());
        }
        let http = reqwest::Client::builder()
            // A proxy would be asked for the host by name and could reach anything: the
            // pinned, vetted address is the only way out.
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(limit)
            .resolve(&host, first)
            .build()
            .map_err(|e| e.to_string())?;
        let mut res = http.get(url.clone()).header("accept", "application/json").send().await.map_err(|e| format!("reading failed: {e}"))?;
        if res.status() != reqwest::StatusCode::OK {
            return Err(format!("the document answered {}", res.status()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(|e| format!("reading failed: {e}"))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_METADATA_DOCUMENT_BYTES {
                return Err("the document is too large".into());
            }
        }
        let doc: MetadataDocument = serde_json::from_slice(&body).map_err(|e| format!("the document is not JSON metadata: {e}"))?;
        doc.check(url.as_str()).map_err(|errors| errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join(" "))
    }
}
