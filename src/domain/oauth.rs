//! OAuth 2.1 rules of the MCP front door, with no I/O: scopes are categories and access, what a
//! self-registering app may ask for, and which resource a token is for.
//!
//! Scopes: `memory.<category>.read` and `memory.<category>.write` (write includes read). A
//! grant of categories C with access A is the scopes {read of C} ∪ {write of C when A is
//! read-write}; a token carries the scopes it was issued with, and a call may use only what
//! both the token and the grant in force allow.
use super::agent::{check_redirect_uri as check_web_redirect, AccessType, FieldError, MAX_NAME_CHARS, MAX_REDIRECT_URIS, MAX_URL_LEN};
use super::categories::Category;

/// How long an access token lives: short, so a revocation the token check misses (none should)
/// could not outlive it for long, and a leaked token soon dies.
pub const ACCESS_TOKEN_MS: i64 = 60 * 60 * 1000;
/// How long a refresh token lives unless used (each use replaces it).
pub const REFRESH_TOKEN_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// The longest `scope` string we read.
pub const MAX_SCOPE_CHARS: usize = 1_000;

/// One scope: a category, read or write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Scope {
    pub category: Category,
    pub write: bool,
}

impl Scope {
    pub fn name(self) -> String {
        format!("memory.{}.{}", self.category.as_str(), if self.write { "write" } else { "read" })
    }

    pub fn parse(s: &str) -> Option<Scope> {
        let rest = s.strip_prefix("memory.")?;
        let (category, right) = rest.rsplit_once('.')?;
        let write = match right {
            "read" => false,
            "write" => true,
            _ => return None,
        };
        Some(Scope { category: Category::parse(category)?, write })
    }
}

/// Every scope we know, reads first: what metadata advertises.
pub fn all_scopes() -> Vec<String> {
    let reads = Category::ALL.iter().map(|&c| Scope { category: c, write: false });
    let writes = Category::ALL.iter().map(|&c| Scope { category: c, write: true });
    reads.chain(writes).map(Scope::name).collect()
}

/// What an app asks for when it names no scope: reading every category (the person chooses).
pub fn default_scope() -> String {
    Category::ALL.iter().map(|&c| Scope { category: c, write: false }.name()).collect::<Vec<_>>().join(" ")
}

/// Reads a space-separated `scope`; `Err` names the first scope we do not know. Empty = none.
pub fn parse_scope(s: &str) -> Result<Vec<Scope>, String> {
    if s.chars().count() > MAX_SCOPE_CHARS {
        return Err(format!("{}…", s.chars().take(40).collect::<String>()));
    }
    let mut out = Vec::new();
    for word in s.split(' ').filter(|w| !w.is_empty()) {
        out.push(Scope::parse(word).ok_or_else(|| word.chars().take(80).collect::<String>())?);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The consent page's question for a scope request: which categories, and which access.
pub fn consent_request(scopes: &[Scope]) -> (Vec<Category>, AccessType) {
    let mut categories: Vec<Category> = scopes.iter().map(|s| s.category).collect();
    categories.sort();
    categories.dedup();
    let access = if scopes.iter().any(|s| s.write) { AccessType::ReadWrite } else { AccessType::ReadOnly };
    (categories, access)
}

/// The scopes a grant of `categories` with `access` is, as a `scope` string.
pub fn granted_scope(categories: &[Category], access: AccessType) -> String {
    let write = access == AccessType::ReadWrite;
    let mut scopes: Vec<Scope> = categories.iter().map(|&c| Scope { category: c, write: false }).collect();
    if write {
        scopes.extend(categories.iter().map(|&c| Scope { category: c, write: true }));
    }
    scopes.into_iter().map(Scope::name).collect::<Vec<_>>().join(" ")
}

/// What a call may do with a token of `scopes` under the grant in force (`categories`,
/// `access`): the categories both allow, and whether it may write them.
pub fn in_force(scopes: &[Scope], categories: &[Category], access: AccessType) -> (Vec<Category>, AccessType) {
    let readable: Vec<Category> = categories.iter().copied().filter(|c| scopes.iter().any(|s| s.category == *c)).collect();
    let writes = access == AccessType::ReadWrite && readable.iter().any(|c| scopes.iter().any(|s| s.category == *c && s.write));
    (readable, if writes { AccessType::ReadWrite } else { AccessType::ReadOnly })
}

/// The scope to ask for after a 403 `insufficient_scope` (MCP's step-up): what the call may
/// do now (`held` with `access`) plus the write it needs (to `category`, or to every held
/// category when it names none), so that the new authorization adds to the grant instead of
/// replacing it with the one missing scope (MCP 2025-11-25, scope challenge handling).
pub fn step_up_scope(held: &[Category], access: AccessType, category: Option<Category>) -> String {
    let mut scopes: Vec<Scope> = held.iter().map(|&c| Scope { category: c, write: false }).collect();
    if access == AccessType::ReadWrite {
        scopes.extend(held.iter().map(|&c| Scope { category: c, write: true }));
    }
    let writes: Vec<Category> = match category {
        Some(c) => vec![c],
        None if held.is_empty() => Category::ALL.to_vec(),
        None => held.to_vec(),
    };
    for c in writes {
        if !scopes.contains(&Scope { category: c, write: true }) {
            scopes.push(Scope { category: c, write: true });
        }
    }
    scopes.into_iter().map(Scope::name).collect::<Vec<_>>().join(" ")
}

/// Whether `given` names our resource `ours` (RFC 8707): the same absolute URI, ignoring one
/// trailing slash and the case of scheme and host (which URL parsing lowers).
pub fn is_our_resource(given: &str, ours: &str) -> bool {
    let norm = |s: &str| url::Url::parse(s.trim_end_matches('/')).ok().filter(|u| u.fragment().is_none()).map(|u| u.as_str().trim_end_matches('/').to_string());
    matches!((norm(given), norm(ours)), (Some(a), Some(b)) if a == b)
}

/// A redirect URI a self-registering app may use: https; http on a loopback address (native
/// apps listen on one, RFC 8252 §7.3); or a private-use scheme with a dot in it, like
/// `com.example.app:/callback` (RFC 8252 §7.1). Never a fragment, credentials, or a scheme
/// that runs code in the browser.
pub fn check_client_redirect_uri(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.len() > MAX_URL_LEN || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err("Redirect URIs must be at most 2048 characters, without spaces.".into());
    }
    let url = url::Url::parse(raw).map_err(|_| format!("\"{raw}\" is not a full URI."))?;
    match url.scheme() {
        "https" => check_web_redirect(raw),
        "http" => {
            let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
            if !loopback {
                return Err(format!("\"{raw}\" must use https (http only on a loopback address)."));
            }
            if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
                return Err(format!("\"{raw}\" must not contain a #fragment or credentials."));
            }
            Ok(raw.to_string())
        }
        scheme if scheme.contains('.') && !scheme.starts_with('.') && !scheme.ends_with('.') => {
            if url.fragment().is_some() {
                return Err(format!("\"{raw}\" must not contain a #fragment."));
            }
            Ok(raw.to_string())
        }
        _ => Err(format!("\"{raw}\" must use https, http on a loopback address, or an app scheme like com.example.app.")),
    }
}

/// The largest client metadata document we read.
pub const MAX_METADATA_DOCUMENT_BYTES: usize = 5 * 1024;
/// How long reading one may take, connection included.
pub const METADATA_FETCH_TIMEOUT_MS: u64 = 5_000;
/// How long a document read is trusted before it is read again.
pub const METADATA_CACHE_MS: i64 = 60 * 60 * 1000;

/// The URL of a Client ID Metadata Document, when `client_id` is one: https, a host name or
/// address, a path other than `/`, no fragment, no credentials. `allow_loopback_http` also
/// takes `http://127.0.0.1…`/`localhost` (development only).
pub fn metadata_document_url(client_id: &str, allow_loopback_http: bool) -> Option<url::Url> {
    if client_id.len() > MAX_URL_LEN || client_id.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return None;
    }
    let url = url::Url::parse(client_id).ok()?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"));
    let scheme_ok = url.scheme() == "https" || (allow_loopback_http && url.scheme() == "http" && loopback);
    let ok = scheme_ok && url.host_str().is_some() && url.path() != "/" && url.fragment().is_none() && url.username().is_empty() && url.password().is_none();
    ok.then_some(url)
}

/// Whether an address is on the public internet, so that reading a client's document cannot
/// reach into the server's own network (loopback, private, link-local, shared, reserved,
/// documentation and multicast ranges are not).
pub fn is_public_address(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 192 && b == 0 && c == 0)
                || (a == 198 && (18..20).contains(&b))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_address(IpAddr::V4(v4));
            }
            let s = v6.segments();
            // IPv4-compatible (::a.b.c.d) and 6to4 (2002:aabb:ccdd::/48) carry an IPv4
            // address that a relay may deliver to: it decides.
            if s[..6] == [0, 0, 0, 0, 0, 0] && !v6.is_loopback() && !v6.is_unspecified() {
                return is_public_address(IpAddr::V4(std::net::Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8)));
            }
            if s[0] == 0x2002 {
                return is_public_address(IpAddr::V4(std::net::Ipv4Addr::new((s[1] >> 8) as u8, s[1] as u8, (s[2] >> 8) as u8, s[2] as u8)));
            }
            let first = s[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || (first & 0xffc0) == 0xfec0 // site-local (deprecated, still routed inside some sites)
                || (first == 0x2001 && s[1] == 0x0db8) // documentation
                || (first == 0x2001 && s[1] == 0) // Teredo: an IPv4 address in disguise
                || (first == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only
                || first == 0x0064) // NAT64: an IPv4 address behind a translator
        }
    }
}

/// A Client ID Metadata Document as it arrives: a registration that names itself.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct MetadataDocument {
    #[serde(default)]
    pub client_id: String,
    #[serde(flatten)]
    pub registration: Registration,
}

impl MetadataDocument {
    /// The registration rules, and: the document names the URL it was read from, and asks for
    /// no client secret (it cannot have one).
    pub fn check(&self, url: &str) -> Result<Client, Vec<FieldError>> {
        let mut errors = Vec::new();
        if self.client_id != url {
            errors.push(problem("client_id", "client_id must be the document's own URL."));
        }
        if !matches!(self.registration.token_endpoint_auth_method.as_deref(), None | Some("none")) {
            errors.push(problem("token_endpoint_auth_method", "A metadata document client authenticates with none (PKCE)."));
        }
        match self.registration.check() {
            Ok(client) if errors.is_empty() => Ok(client),
            Ok(_) => Err(errors),
            Err(more) => Err(errors.into_iter().chain(more).collect()),
        }
    }
}

/// An app's registration (RFC 7591) as it arrives; unknown fields are ignored.
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct Registration {
    pub redirect_uris: Vec<String>,
    pub client_name: Option<String>,
    pub client_uri: Option<String>,
    pub logo_uri: Option<String>,
    pub scope: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<String>,
}

/// A registration that passed every rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Client {
    pub name: String,
    pub website_url: String,
    pub logo_url: String,
    pub redirect_uris: Vec<String>,
    /// The categories of the scopes it registered with (all six when none).
    pub categories: Vec<Category>,
}

fn problem(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.into(), message: message.into() }
}

fn optional_https(field: &str, v: &Option<String>) -> Result<String, FieldError> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(String::new()),
        Some(s) => {
            let ok = s.len() <= MAX_URL_LEN
                && !s.chars().any(|c| c.is_control() || c.is_whitespace())
                && url::Url::parse(s).is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some() && u.username().is_empty() && u.password().is_none());
            if ok { Ok(s.to_string()) } else { Err(problem(field, format!("{field} must be an https URL."))) }
        }
    }
}

impl Registration {
    /// Applies every rule and reports every problem at once. Apps are public clients: they
    /// prove themselves with PKCE, so we issue no secret and answer `none` as their method.
    pub fn check(&self) -> Result<Client, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut redirect_uris = Vec::new();
        if self.redirect_uris.is_empty() || self.redirect_uris.len() > MAX_REDIRECT_URIS {
            errors.push(problem("redirect_uris", format!("Register 1 to {MAX_REDIRECT_URIS} redirect URIs.")));
        }
        for uri in self.redirect_uris.iter().take(MAX_REDIRECT_URIS) {
            match check_client_redirect_uri(uri) {
                Ok(u) if !redirect_uris.contains(&u) => redirect_uris.push(u),
                Ok(_) => {}
                Err(m) => errors.push(problem("redirect_uris", m)),
            }
        }
        let name = self.client_name.as_deref().map(str::trim).unwrap_or_default();
        let name = if name.is_empty() { "Unnamed app".to_string() } else { name.to_string() };
        if name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            errors.push(problem("client_name", format!("client_name must be one line of at most {MAX_NAME_CHARS} characters.")));
        }
        let website_url = optional_https("client_uri", &self.client_uri).map_err(|e| errors.push(e)).unwrap_or_default();
        let logo_url = optional_https("logo_uri", &self.logo_uri).map_err(|e| errors.push(e)).unwrap_or_default();
        let scopes = match parse_scope(self.scope.as_deref().unwrap_or_default()) {
            Ok(s) => s,
            Err(bad) => {
                errors.push(problem("scope", format!("\"{bad}\" is not a scope we know.")));
                vec![]
            }
        };
        let grants_ok = self.grant_types.as_ref().is_none_or(|g| g.iter().all(|t| t == "authorization_code" || t == "refresh_token"));
        if !grants_ok {
            errors.push(problem("grant_types", "Only authorization_code and refresh_token are supported."));
        }
        if !self.response_types.as_ref().is_none_or(|r| r.iter().all(|t| t == "code")) {
            errors.push(problem("response_types", "Only the code response type is supported."));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let categories = if scopes.is_empty() { Category::ALL.to_vec() } else { consent_request(&scopes).0 };
        Ok(Client { name, website_url, logo_url, redirect_uris, categories })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Category::*;

    #[test]
    fn scopes_round_trip_and_unknown_ones_are_named() {
        assert_eq!(all_scopes().len(), 12);
        for s in all_scopes() {
            assert_eq!(Scope::parse(&s).unwrap().name(), s);
        }
        assert_eq!(parse_scope("memory.fact.write  memory.fact.read memory.fact.read").unwrap().len(), 2);
        assert_eq!(parse_scope("memory.fact.read openid").unwrap_err(), "openid");
        assert_eq!(parse_scope("memory.hobby.read").unwrap_err(), "memory.hobby.read");
        assert_eq!(parse_scope("").unwrap(), vec![]);
    }

    #[test]
    fn a_scope_request_asks_the_consent_page_a_question() {
        let s = parse_scope("memory.goal.read memory.fact.write").unwrap();
        assert_eq!(consent_request(&s), (vec![Fact, Goal], AccessType::ReadWrite));
        let s = parse_scope("memory.goal.read").unwrap();
        assert_eq!(consent_request(&s), (vec![Goal], AccessType::ReadOnly));
        assert_eq!(granted_scope(&[Fact, Goal], AccessType::ReadOnly), "memory.fact.read memory.goal.read");
        assert_eq!(
            granted_scope(&[Fact], AccessType::ReadWrite),
            "memory.fact.read memory.fact.write"
        );
    }

    #[test]
    fn a_call_gets_what_both_token_and_grant_allow() {
        let token = parse_scope(&granted_scope(&[Fact, Goal], AccessType::ReadWrite)).unwrap();
        // The person later narrowed the grant on /manage: the token narrows with it.
        assert_eq!(in_force(&token, &[Goal], AccessType::ReadOnly), (vec![Goal], AccessType::ReadOnly));
        // A wider grant (a later consent) does not widen an older token.
        let read_only = parse_scope("memory.fact.read").unwrap();
        assert_eq!(in_force(&read_only, &[Fact, Goal], AccessType::ReadWrite), (vec![Fact], AccessType::ReadOnly));
        // A step-up keeps what the app holds and adds the write it needs.
        assert_eq!(step_up_scope(&[Fact, Goal], AccessType::ReadOnly, None), "memory.fact.read memory.goal.read memory.fact.write memory.goal.write");
        assert_eq!(step_up_scope(&[Preference, Goal], AccessType::ReadOnly, Some(Fact)), "memory.preference.read memory.goal.read memory.fact.write");
        assert_eq!(step_up_scope(&[Fact], AccessType::ReadWrite, Some(Goal)), "memory.fact.read memory.fact.write memory.goal.write");
        let (categories, access) = consent_request(&parse_scope(&step_up_scope(&[Preference, Goal], AccessType::ReadOnly, Some(Fact))).unwrap());
        assert_eq!((categories, access), (vec![Preference, Fact, Goal], AccessType::ReadWrite), "the consent page offers all three");
    }

    #[test]
    fn the_resource_must_be_ours() {
        let ours = "http://127.0.0.1:3000/mcp";
        assert!(is_our_resource("http://127.0.0.1:3000/mcp", ours));
        assert!(is_our_resource("http://127.0.0.1:3000/mcp/", ours));
        assert!(is_our_resource("HTTP://127.0.0.1:3000/mcp", ours));
        assert!(!is_our_resource("http://127.0.0.1:3000/", ours));
        assert!(!is_our_resource("https://other.example/mcp", ours));
        assert!(!is_our_resource("http://127.0.0.1:3000/mcp#x", ours));
        assert!(!is_our_resource("", ours));
    }

    #[test]
    fn redirect_uris_of_self_registering_apps() {
        for ok in ["https://claude.ai/api/mcp/auth_callback", "http://127.0.0.1:33418/callback", "http://localhost:6274/oauth/callback",
            "http://[::1]:9000/cb", "com.example.app:/oauth2redirect", "cursor.mcp:/callback"] {
            assert!(check_client_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in ["http://example.com/cb", "javascript:alert(1)", "data:text/html,x", "file:///etc/passwd", "https://a.example/cb#frag",
            "https://user:pw@a.example/cb", "myapp:/cb", "relative/path", "https://a.example/ cb"] {
            assert!(check_client_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn metadata_document_urls_and_the_addresses_they_may_reach() {
        assert!(metadata_document_url("https://app.example/oauth/client.json", false).is_some());
        for bad in ["https://app.example/", "https://app.example", "http://app.example/c.json", "https://u:p@app.example/c.json",
            "https://app.example/c.json#x", "a-uuid-like-id", "http://127.0.0.1:9/c.json"] {
            assert!(metadata_document_url(bad, false).is_none(), "{bad}");
        }
        assert!(metadata_document_url("http://127.0.0.1:9/c.json", true).is_some(), "development only");
        assert!(metadata_document_url("http://10.0.0.1/c.json", true).is_none());
        for private in ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1",
            "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2001:db8::1", "::127.0.0.1", "::10.0.0.1",
            "2002:0a00:0001::1", "2002:7f00:0001::1", "fec0::1", "2001:0:4136:e378::1", "64:ff9b::a00:1", "100::1"] {
            assert!(!is_public_address(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "2002:5db8:d822::1"] {
            assert!(is_public_address(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn a_metadata_document_names_itself_and_has_no_secret() {
        let url = "https://app.example/client.json";
        let doc: MetadataDocument = serde_json::from_value(serde_json::json!({
            "client_id": url, "client_name": "App", "redirect_uris": ["https://app.example/cb"]
        }))
        .unwrap();
        assert_eq!(doc.check(url).unwrap().name, "App");
        assert!(doc.check("https://other.example/client.json").is_err());
        let secret = MetadataDocument {
            registration: Registration { token_endpoint_auth_method: Some("client_secret_basic".into()), ..doc.registration.clone() },
            ..doc
        };
        assert_eq!(secret.check(url).unwrap_err()[0].field, "token_endpoint_auth_method");
    }

    #[test]
    fn registrations_are_checked_whole() {
        let ok = Registration {
            redirect_uris: vec!["http://127.0.0.1:5000/cb".into(), "http://127.0.0.1:5000/cb".into()],
            client_name: Some("Claude".into()),
            logo_uri: Some("https://claude.ai/logo.png".into()),
            scope: Some("memory.fact.read memory.goal.read".into()),
            token_endpoint_auth_method: Some("client_secret_post".into()),
            ..Default::default()
        }
        .check()
        .unwrap();
        assert_eq!((ok.redirect_uris.len(), ok.categories), (1, vec![Fact, Goal]));
        assert_eq!(Registration { redirect_uris: vec!["https://a.example/cb".into()], ..Default::default() }.check().unwrap().name, "Unnamed app");
        let errors = Registration {
            redirect_uris: vec!["http://evil.example/cb".into()],
            client_name: Some("x".repeat(MAX_NAME_CHARS + 1)),
            logo_uri: Some("http://a.example/logo.png".into()),
            scope: Some("admin".into()),
            grant_types: Some(vec!["client_credentials".into()]),
            response_types: Some(vec!["token".into()]),
            ..Default::default()
        }
        .check()
        .unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, vec!["redirect_uris", "client_name", "logo_uri", "scope", "grant_types", "response_types"]);
        assert!(Registration::default().check().is_err(), "no redirect URI");
    }
}
