//! The consent link a tenant sends a person to. Built here once so the URL builder on the
//! dashboard and any server-side code agree byte for byte.
use super::agent::AccessType;
use super::categories::Category;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConsentLink {
    pub agent_id: String,
    pub state: String,
    pub categories: Vec<Category>,
    pub redirect_uri: String,
    pub access: Option<AccessType>,
}

/// `base` is the server's public origin, e.g. `http://127.0.0.1:3000` (no trailing slash needed).
pub fn build(base: &str, link: &ConsentLink) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("agent_id", &link.agent_id);
    if !link.state.is_empty() {
        q.append_pair("state", &link.state);
    }
    if !link.categories.is_empty() {
        let csv: Vec<&str> = link.categories.iter().map(|c| c.as_str()).collect();
        q.append_pair("categories", &csv.join(","));
    }
    if !link.redirect_uri.is_empty() {
        q.append_pair("redirect_uri", &link.redirect_uri);
    }
    if let Some(access) = link.access {
        q.append_pair("access", access.as_str());
    }
    format!("{}/consent?{}", base.trim_end_matches('/'), q.finish())
}

/// Why a consent link cannot be used. The page says so and never redirects: the link may be
/// forged.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

/// A consent link's parameters as the consent page reads them (every one the page knows; the
/// tenant-built [`ConsentLink`] is the subset an app sends).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkQuery {
    pub agent_id: String,
    pub state: String,
    pub categories: Vec<Category>,
    pub redirect_uri: String,
    pub access: String,
    pub code_challenge: String,
    pub code_challenge_method: String,
    pub link_token: String,
}

impl LinkQuery {
    /// Parses a raw query string (without `?`), decoding each value exactly once: a registered
    /// `…?next=%2Fhome` stays exactly that. Unknown categories are left out.
    pub fn parse(raw_query: &str) -> LinkQuery {
        let raw_query = raw_query.strip_prefix('?').unwrap_or(raw_query);
        let pairs: Vec<(String, String)> = form_urlencoded::parse(raw_query.as_bytes()).into_owned().collect();
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
        LinkQuery {
            agent_id: get("agent_id"),
            state: get("state"),
            categories: super::categories::parse_csv_lenient(&get("categories")),
            redirect_uri: get("redirect_uri"),
            access: get("access"),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
            link_token: get("link_token"),
        }
    }
}

/// `uri` with `pairs` added to its query (existing parameters kept), for the redirect back to
/// the app; `uri` must be an absolute URL (a registered redirect URI).
pub fn with_query(uri: &str, pairs: &[(&str, &str)]) -> Option<String> {
    let mut url = url::Url::parse(uri).ok()?;
    url.query_pairs_mut().extend_pairs(pairs.iter().filter(|(_, v)| !v.is_empty()));
    Some(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_every_part() {
        let url = build(
            "http://127.0.0.1:3000/",
            &ConsentLink {
                agent_id: "aa535a7e".into(),
                state: "s t&x".into(),
                categories: vec![Category::Preference, Category::Goal],
                redirect_uri: "https://yourapp.com/cb?a=1".into(),
                access: Some(AccessType::ReadWrite),
            },
        );
        assert_eq!(
            url,
            "http://127.0.0.1:3000/consent?agent_id=aa535a7e&state=s+t%26x&categories=preference%2Cgoal&redirect_uri=https%3A%2F%2Fyourapp.com%2Fcb%3Fa%3D1&access=read_write"
        );
    }

    #[test]
    fn redirects_keep_the_apps_own_query() {
        assert_eq!(
            with_query("https://app.example/cb?tenant=7", &[("status", "granted"), ("state", "a b"), ("code", "mpc_x")]).unwrap(),
            "https://app.example/cb?tenant=7&status=granted&state=a+b&code=mpc_x"
        );
        assert_eq!(with_query("http://localhost:9999/cb", &[("status", "denied"), ("state", "")]).unwrap(), "http://localhost:9999/cb?status=denied");
        assert_eq!(with_query("/relative", &[]), None);
    }

    #[test]
    fn a_built_link_parses_back_to_what_was_built() {
        let link = ConsentLink {
            agent_id: "aa535a7e".into(),
            state: "s t&x=%2F+é".into(),
            categories: vec![Category::Preference, Category::Goal],
            redirect_uri: "https://yourapp.com/cb?next=%2Fhome&a=1".into(),
            access: Some(AccessType::ReadOnly),
        };
        let url = build("http://127.0.0.1:3000", &link);
        let parsed = LinkQuery::parse(url.split_once('?').unwrap().1);
        assert_eq!(parsed.agent_id, link.agent_id);
        assert_eq!(parsed.state, link.state);
        assert_eq!(parsed.categories, link.categories);
        assert_eq!(parsed.redirect_uri, link.redirect_uri, "decoded once: %2F stays %2F");
        assert_eq!(parsed.access, "read_only");
        assert_eq!(LinkQuery::parse("?agent_id=x&code_challenge=c&code_challenge_method=S256&link_token=t%26u"),
            LinkQuery { agent_id: "x".into(), code_challenge: "c".into(), code_challenge_method: "S256".into(), link_token: "t&u".into(), ..Default::default() });
    }

    #[test]
    fn omits_empty_parts() {
        let url = build("https://mp.example", &ConsentLink { agent_id: "x".into(), ..Default::default() });
        assert_eq!(url, "https://mp.example/consent?agent_id=x");
    }
}
