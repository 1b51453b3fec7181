//! The consent link an app sends a person to: one type that the dashboard's URL builder builds
//! and the consent page (and its plain-form handler) parse, so that both agree byte for byte.
use super::categories::Category;

/// A consent link's parameters. Every value is kept as sent (decoded once), except the
/// categories, of which unknown names are left out; `access` is the raw requested access
/// (`read_only`, `read_write` or empty), which the page reads with `AccessType::parse`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConsentLink {
    pub agent_id: String,
    pub state: String,
    pub categories: Vec<Category>,
    pub redirect_uri: String,
    pub access: String,
    pub code_challenge: String,
    pub code_challenge_method: String,
    pub link_token: String,
    /// Set only by `/oauth/authorize`: the resource (our MCP endpoint) an OAuth client asks
    /// for. With it, approving issues an OAuth code and answers the OAuth way.
    pub resource: String,
}

impl ConsentLink {
    /// The link on the server at `base`, its public origin such as `http://127.0.0.1:3000` (a
    /// trailing slash is fine). Empty parameters are left out; `agent_id` is always there.
    pub fn build(&self, base: &str) -> String {
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("agent_id", &self.agent_id);
        let csv = self.categories.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(",");
        for (name, value) in [
            ("state", self.state.as_str()),
            ("categories", csv.as_str()),
            ("redirect_uri", self.redirect_uri.as_str()),
            ("access", self.access.as_str()),
            ("code_challenge", self.code_challenge.as_str()),
            ("code_challenge_method", self.code_challenge_method.as_str()),
            ("link_token", self.link_token.as_str()),
            ("resource", self.resource.as_str()),
        ] {
            if !value.is_empty() {
                q.append_pair(name, value);
            }
        }
        format!("{}/consent?{}", base.trim_end_matches('/'), q.finish())
    }

    /// Parses a raw query string (with or without `?`), decoding each value exactly once: a
    /// registered `…?next=%2Fhome` stays exactly that.
    pub fn parse(raw_query: &str) -> ConsentLink {
        let raw_query = raw_query.strip_prefix('?').unwrap_or(raw_query);
        let pairs: Vec<(String, String)> = form_urlencoded::parse(raw_query.as_bytes()).into_owned().collect();
        let get = |k: &str| pairs.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone()).unwrap_or_default();
        ConsentLink {
            agent_id: get("agent_id"),
            state: get("state"),
            categories: super::categories::parse_csv_lenient(&get("categories")),
            redirect_uri: get("redirect_uri"),
            access: get("access"),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
            link_token: get("link_token"),
            resource: get("resource"),
        }
    }
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

    fn full() -> ConsentLink {
        ConsentLink {
            agent_id: "aa535a7e".into(),
            state: "s t&x=%2F+é".into(),
            categories: vec![Category::Preference, Category::Goal],
            redirect_uri: "https://yourapp.com/cb?next=%2Fhome&a=1".into(),
            access: "read_only".into(),
            code_challenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".into(),
            code_challenge_method: "S256".into(),
            link_token: "t&u=%".into(),
            resource: "http://127.0.0.1:3000/mcp".into(),
        }
    }

    #[test]
    fn encodes_every_part() {
        let link = ConsentLink {
            agent_id: "aa535a7e".into(),
            state: "s t&x".into(),
            categories: vec![Category::Preference, Category::Goal],
            redirect_uri: "https://yourapp.com/cb?a=1".into(),
            access: "read_write".into(),
            ..Default::default()
        };
        assert_eq!(
            link.build("http://127.0.0.1:3000/"),
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
        let link = full();
        let url = link.build("http://127.0.0.1:3000");
        let parsed = ConsentLink::parse(url.split_once('?').unwrap().1);
        assert_eq!(parsed, link, "every part comes back, decoded once");
        assert_eq!(parsed.redirect_uri, "https://yourapp.com/cb?next=%2Fhome&a=1", "%2F stays %2F");
        assert_eq!(ConsentLink::parse(&format!("?{}", url.split_once('?').unwrap().1)), link, "a leading ? is fine");
        // Built again, it is the same link byte for byte.
        assert_eq!(parsed.build("http://127.0.0.1:3000"), url);
        let bare = ConsentLink { agent_id: "x".into(), ..Default::default() };
        assert_eq!(ConsentLink::parse(bare.build("https://mp.example").split_once('?').unwrap().1), bare);
    }

    #[test]
    fn parsing_decodes_each_value_once_and_drops_unknown_categories() {
        let parsed = ConsentLink::parse("agent_id=x&redirect_uri=https%3A%2F%2Fa.example%2Fcb%3Fnext%3D%252Fhome&categories=goal,bogus,preference&link_token=t%26u");
        assert_eq!(parsed.redirect_uri, "https://a.example/cb?next=%2Fhome");
        assert_eq!(parsed.categories, vec![Category::Preference, Category::Goal], "sorted, unknown names left out");
        assert_eq!(parsed.link_token, "t&u");
        assert_eq!(ConsentLink::parse(""), ConsentLink::default());
    }

    #[test]
    fn omits_empty_parts() {
        let url = ConsentLink { agent_id: "x".into(), ..Default::default() }.build("https://mp.example");
        assert_eq!(url, "https://mp.example/consent?agent_id=x");
    }
}
