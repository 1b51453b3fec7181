//! Global agent profile rules: what a tenant may register, and the status and access vocabulary.
use super::categories::{self, Category};
use serde::{Deserialize, Serialize};

pub const MAX_NAME_CHARS: usize = 80;
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
pub const MAX_URL_LEN: usize = 2048;
pub const MAX_REDIRECT_URIS: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AccessType {
    #[default]
    ReadOnly,
    ReadWrite,
}

impl AccessType {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessType::ReadOnly => "read_only",
            AccessType::ReadWrite => "read_write",
        }
    }
    pub fn parse(s: &str) -> Option<AccessType> {
        match s {
            "read_only" => Some(AccessType::ReadOnly),
            "read_write" => Some(AccessType::ReadWrite),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            AccessType::ReadOnly => "Read only",
            AccessType::ReadWrite => "Read and write",
        }
    }
}

/// Operator review state. Retirement is separate (a tenant action), see `retired_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    Pending,
    Verified,
    Rejected,
    Suspended,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::Pending => "pending",
            AgentStatus::Verified => "verified",
            AgentStatus::Rejected => "rejected",
            AgentStatus::Suspended => "suspended",
        }
    }
    pub fn parse(s: &str) -> Option<AgentStatus> {
        match s {
            "pending" => Some(AgentStatus::Pending),
            "verified" => Some(AgentStatus::Verified),
            "rejected" => Some(AgentStatus::Rejected),
            "suspended" => Some(AgentStatus::Suspended),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            AgentStatus::Pending => "Pending review",
            AgentStatus::Verified => "Verified",
            AgentStatus::Rejected => "Rejected",
            AgentStatus::Suspended => "Suspended",
        }
    }
    /// Rejected and suspended agents cannot receive grants and their API calls fail.
    pub fn may_receive_grants(self) -> bool {
        matches!(self, AgentStatus::Pending | AgentStatus::Verified)
    }

    /// An agent whose grants may be used: not retired, and in a status that may receive them.
    pub fn is_live(self, retired_at: Option<i64>) -> bool {
        retired_at.is_none() && self.may_receive_grants()
    }
}

/// What a tenant submits, from the dashboard form or the REST API, before validation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentDraft {
    pub name: String,
    pub description: String,
    pub website_url: String,
    pub logo_url: String,
    pub default_categories: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub access_type: String,
}

/// A draft that passed every rule.
#[derive(Clone, Debug, PartialEq)]
pub struct AgentProfile {
    pub name: String,
    pub description: String,
    pub website_url: String,
    pub logo_url: String,
    pub default_categories: Vec<Category>,
    pub redirect_uris: Vec<String>,
    pub access_type: AccessType,
}

impl From<&AgentProfile> for AgentDraft {
    /// The draft that would validate to this profile (the starting point of an edit).
    fn from(p: &AgentProfile) -> AgentDraft {
        AgentDraft {
            name: p.name.clone(),
            description: p.description.clone(),
            website_url: p.website_url.clone(),
            logo_url: p.logo_url.clone(),
            default_categories: categories::to_names(&p.default_categories),
            redirect_uris: p.redirect_uris.clone(),
            access_type: p.access_type.as_str().to_string(),
        }
    }
}

/// One field of a verified agent's profile that changed after the operator's review: what
/// the operator checked, and what people would now see instead.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileChange {
    /// The field as people read it ("Name", "Redirect URIs").
    pub field: String,
    pub before: String,
    pub after: String,
}

/// The fields a person relies on when the consent page says Verified: who the app is, where
/// it sends them back to, and what it may do. An edit of any of them needs a new review.
pub fn material_changes(before: &AgentProfile, after: &AgentProfile) -> Vec<ProfileChange> {
    let access = |p: &AgentProfile| p.access_type.label().to_string();
    let uris = |p: &AgentProfile| p.redirect_uris.join("\n");
    let fields: [(&str, fn(&AgentProfile) -> String); 6] = [
        ("Name", |p| p.name.clone()),
        ("Description", |p| p.description.clone()),
        ("Website", |p| p.website_url.clone()),
        ("Logo", |p| p.logo_url.clone()),
        ("Redirect URIs", uris),
        ("Requested access", access),
    ];
    fields
        .into_iter()
        .filter_map(|(field, get)| {
            let (b, a) = (get(before), get(after));
            (b != a).then(|| ProfileChange { field: field.to_string(), before: b, after: a })
        })
        .collect()
}

/// The changes since the last review after one more edit: each field keeps the value the
/// operator reviewed as its `before`, and a field edited back to it drops out.
pub fn merge_changes(since_review: &[ProfileChange], edit: Vec<ProfileChange>) -> Vec<ProfileChange> {
    let mut merged: Vec<ProfileChange> = since_review.to_vec();
    for change in edit {
        match merged.iter().position(|c| c.field == change.field) {
            Some(i) => merged[i].after = change.after,
            None => merged.push(change),
        }
    }
    merged.retain(|c| c.before != c.after);
    merged
}

/// What an edit does to the review: a verified agent with material changes goes back to
/// pending review (and its changes are kept for the operator); an agent already back in review
/// keeps collecting them, and is verified again when edited back to the reviewed profile; other agents keep their status and collect nothing (there is no
/// reviewed profile to compare with, or the decision stands whatever the profile says).
pub fn review_after_edit(status: AgentStatus, since_review: &[ProfileChange], before: &AgentProfile, after: &AgentProfile) -> (AgentStatus, Vec<ProfileChange>) {
    let edit = material_changes(before, after);
    match status {
        AgentStatus::Verified if !edit.is_empty() => (AgentStatus::Pending, edit),
        // Only an operator's "verified" leaves changes to compare with, and any decision clears
        // them: edited back to exactly what was reviewed, the badge returns.
        AgentStatus::Pending if !since_review.is_empty() => {
            let merged = merge_changes(since_review, edit);
            let status = if merged.is_empty() { AgentStatus::Verified } else { AgentStatus::Pending };
            (status, merged)
        }
        other => (other, since_review.to_vec()),
    }
}

/// Why a tenant's agent is in review again, in one sentence for the dashboard.
pub fn review_reason(changes: &[ProfileChange]) -> Option<String> {
    if changes.is_empty() {
        return None;
    }
    let names: Vec<String> = changes.iter().map(|c| c.field.to_lowercase()).collect();
    let list = match names.as_slice() {
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
        [] => unreachable!(),
    };
    Some(format!(
        "Back in review: you changed its {list} after it was verified. People see it as not yet reviewed until an operator checks it again."
    ))
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError { field: field.to_string(), message: message.into() }
}

fn has_control_chars(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
}

/// The URL parser would quietly drop or encode these, leaving a stored string that differs
/// from what was checked; refuse them instead.
fn has_space_or_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() || c.is_whitespace())
}

fn is_local_host(host: &str) -> bool {
    host == "localhost" || host == "127.0.0.1" || host == "[::1]" || host.ends_with(".localhost")
}

/// Checks a public web URL (website, logo): https, or http only for local development.
fn check_web_url(field: &str, raw: &str) -> Result<String, FieldError> {
    let raw = raw.trim();
    if raw.len() > MAX_URL_LEN {
        return Err(field_error(field, format!("Use at most {MAX_URL_LEN} characters.")));
    }
    if has_space_or_control(raw) {
        return Err(field_error(field, "A URL cannot contain spaces or control characters."));
    }
    let url = url::Url::parse(raw)
        .map_err(|_| field_error(field, "Enter a full URL starting with https://."))?;
    let host = url.host_str().unwrap_or_default().to_string();
    let ok_scheme = url.scheme() == "https" || (url.scheme() == "http" && is_local_host(&host));
    if !ok_scheme || host.is_empty() {
        return Err(field_error(field, "Use an https:// URL (http:// only for localhost)."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(field_error(field, "The URL must not contain a user name or password."));
    }
    Ok(raw.to_string())
}

/// Redirect URIs are matched exactly later, so they must be unambiguous now: https (or http on
/// localhost / 127.0.0.1), a host, no credentials and no fragment.
pub fn check_redirect_uri(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.len() > MAX_URL_LEN {
        return Err(format!("Redirect URIs can be at most {MAX_URL_LEN} characters."));
    }
    if has_space_or_control(raw) {
        return Err("Redirect URIs cannot contain spaces or control characters.".to_string());
    }
    let url = url::Url::parse(raw).map_err(|_| format!("\"{raw}\" is not a full URL."))?;
    let host = url.host_str().unwrap_or_default();
    let local = host == "localhost" || host == "127.0.0.1";
    if host.is_empty() || !(url.scheme() == "https" || (url.scheme() == "http" && local)) {
        return Err(format!(
            "\"{raw}\" must start with https:// (http:// is allowed only for localhost and 127.0.0.1)."
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("\"{raw}\" must not contain a user name or password."));
    }
    if url.fragment().is_some() || raw.contains('#') {
        return Err(format!("\"{raw}\" must not contain a #fragment."));
    }
    Ok(raw.to_string())
}

impl AgentDraft {
    /// Applies every rule and reports all problems at once, so a form can show them together.
    pub fn validate(&self) -> Result<AgentProfile, Vec<FieldError>> {
        let mut errors = Vec::new();

        let name = self.name.trim().to_string();
        if name.is_empty() {
            errors.push(field_error("name", "Give the agent a name."));
        } else if name.chars().count() > MAX_NAME_CHARS {
            errors.push(field_error("name", format!("Use at most {MAX_NAME_CHARS} characters.")));
        } else if has_control_chars(&name) || name.contains('\n') {
            errors.push(field_error("name", "The name must be a single line of text."));
        }

        let description = self.description.trim().to_string();
        if description.chars().count() > MAX_DESCRIPTION_CHARS {
            errors.push(field_error(
                "description",
                format!("Use at most {MAX_DESCRIPTION_CHARS} characters."),
            ));
        } else if has_control_chars(&description) {
            errors.push(field_error("description", "The description contains control characters."));
        }

        let mut optional_url = |field: &str, raw: &str| -> String {
            if raw.trim().is_empty() {
                return String::new();
            }
            check_web_url(field, raw).unwrap_or_else(|e| {
                errors.push(e);
                String::new()
            })
        };
        let website_url = optional_url("website_url", &self.website_url);
        let logo_url = optional_url("logo_url", &self.logo_url);

        let default_categories = match categories::parse_list(&self.default_categories) {
            Ok(c) => c,
            Err(unknown) => {
                errors.push(field_error(
                    "default_categories_requested",
                    format!(
                        "\"{unknown}\" is not a memory category; use preference, fact, goal, procedure, relationship or expertise."
                    ),
                ));
                Vec::new()
            }
        };

        let mut redirect_uris: Vec<String> = Vec::new();
        for raw in self.redirect_uris.iter().filter(|u| !u.trim().is_empty()) {
            match check_redirect_uri(raw) {
                Ok(uri) if !redirect_uris.contains(&uri) => redirect_uris.push(uri),
                Ok(_) => {}
                Err(msg) => errors.push(field_error("redirect_uris", msg)),
            }
        }
        if redirect_uris.len() > MAX_REDIRECT_URIS {
            errors.push(field_error(
                "redirect_uris",
                format!("Register at most {MAX_REDIRECT_URIS} redirect URIs."),
            ));
        }

        let access_type = match self.access_type.trim() {
            "" => AccessType::ReadOnly,
            other => AccessType::parse(other).unwrap_or_else(|| {
                errors.push(field_error("access_type", "Choose read_only or read_write."));
                AccessType::ReadOnly
            }),
        };

        if errors.is_empty() {
            Ok(AgentProfile {
                name,
                description,
                website_url,
                logo_url,
                default_categories,
                redirect_uris,
                access_type,
            })
        } else {
            Err(errors)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> AgentDraft {
        AgentDraft {
            name: "Support Copilot".into(),
            description: "Customer support agent.".into(),
            website_url: "https://yourapp.com".into(),
            logo_url: "https://yourapp.com/logo.png".into(),
            default_categories: vec!["preference".into(), "fact".into(), "goal".into()],
            redirect_uris: vec![],
            access_type: String::new(),
        }
    }

    #[test]
    fn the_guides_example_is_valid() {
        let p = draft().validate().unwrap();
        assert_eq!(p.name, "Support Copilot");
        assert_eq!(p.access_type, AccessType::ReadOnly);
        assert_eq!(p.default_categories, vec![Category::Preference, Category::Fact, Category::Goal]);
    }

    #[test]
    fn reports_every_problem_at_once() {
        let mut d = draft();
        d.name = " ".into();
        d.website_url = "javascript:alert(1)".into();
        d.logo_url = "http://evil.example/logo.png".into();
        d.default_categories = vec!["hobby".into()];
        d.access_type = "admin".into();
        let fields: Vec<String> = d.validate().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(
            fields,
            ["name", "website_url", "logo_url", "default_categories_requested", "access_type"]
        );
    }

    #[test]
    fn redirect_uri_rules() {
        for ok in [
            "https://yourapp.com/callback",
            "http://localhost:8080/cb",
            "http://127.0.0.1:5000/integrations/memoryos/callback?x=1",
        ] {
            assert!(check_redirect_uri(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://yourapp.com/callback",
            "ftp://yourapp.com/",
            "https://user:pw@yourapp.com/cb",
            "https://yourapp.com/cb#frag",
            "/relative/path",
            "http://localhost.evil.com/cb",
            "javascript:alert(1)",
            "https://yourapp.com/cb\u{0}",
            "https://yourapp.com/c b",
            "https://yourapp.com/cb\tx",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn redirect_uris_dedupe_and_cap() {
        let mut d = draft();
        d.redirect_uris = vec!["https://a.example/cb".into(), "https://a.example/cb".into(), "".into()];
        assert_eq!(d.validate().unwrap().redirect_uris, vec!["https://a.example/cb"]);
        d.redirect_uris = (0..11).map(|i| format!("https://a.example/cb{i}")).collect();
        assert!(d.validate().is_err());
    }

    #[test]
    fn a_profile_round_trips_through_its_draft() {
        let mut d = draft();
        d.redirect_uris = vec!["https://a.example/cb".into()];
        let p = d.validate().unwrap();
        assert_eq!(AgentDraft::from(&p).validate().unwrap(), p);
    }

    #[test]
    fn a_material_edit_of_a_verified_agent_returns_it_to_review() {
        let reviewed = draft().validate().unwrap();
        let mut renamed = reviewed.clone();
        renamed.name = "Support Copilot Pro".into();
        renamed.logo_url = "https://yourapp.com/new.png".into();
        let (status, changes) = review_after_edit(AgentStatus::Verified, &[], &reviewed, &renamed);
        assert_eq!(status, AgentStatus::Pending);
        assert_eq!(changes.iter().map(|c| c.field.as_str()).collect::<Vec<_>>(), ["Name", "Logo"]);
        assert_eq!(changes[0].before, reviewed.name);
        assert_eq!(review_reason(&changes).unwrap(),
            "Back in review: you changed its name and logo after it was verified. People see it as not yet reviewed until an operator checks it again.");

        // Each material field alone is enough.
        let edits: [fn(&mut AgentProfile); 6] = [
            |p| p.name.push('!'),
            |p| p.description.push('!'),
            |p| p.website_url = "https://other.example".into(),
            |p| p.logo_url = "https://other.example/l.png".into(),
            |p| p.redirect_uris.push("https://other.example/cb".into()),
            |p| p.access_type = if p.access_type == AccessType::ReadOnly { AccessType::ReadWrite } else { AccessType::ReadOnly },
        ];
        for edit in edits {
            let mut p = reviewed.clone();
            edit(&mut p);
            assert_eq!(review_after_edit(AgentStatus::Verified, &[], &reviewed, &p).0, AgentStatus::Pending, "{p:?}");
        }
        // Default categories only preselect checkboxes: the badge stays.
        let mut p = reviewed.clone();
        p.default_categories.pop();
        assert_eq!(review_after_edit(AgentStatus::Verified, &[], &reviewed, &p), (AgentStatus::Verified, vec![]));
    }

    #[test]
    fn changes_since_review_accumulate_and_edits_back_drop_out() {
        let reviewed = draft().validate().unwrap();
        let mut a = reviewed.clone();
        a.name = "A".into();
        let (_, first) = review_after_edit(AgentStatus::Verified, &[], &reviewed, &a);
        let mut b = a.clone();
        b.name = "B".into();
        b.website_url = "https://b.example".into();
        let (status, second) = review_after_edit(AgentStatus::Pending, &first, &a, &b);
        assert_eq!(status, AgentStatus::Pending);
        assert_eq!(second[0], ProfileChange { field: "Name".into(), before: reviewed.name.clone(), after: "B".into() });
        assert_eq!(second.len(), 2);
        let (status, back) = review_after_edit(AgentStatus::Pending, &second, &b, &reviewed);
        assert!(back.is_empty(), "everything edited back: {back:?}");
        assert_eq!(status, AgentStatus::Verified, "exactly the reviewed profile again");
        // Suspended and rejected agents stay so whatever is edited; never-reviewed ones too.
        for status in [AgentStatus::Suspended, AgentStatus::Rejected, AgentStatus::Pending] {
            assert_eq!(review_after_edit(status, &[], &reviewed, &b), (status, vec![]));
        }
    }

    #[test]
    fn name_length_counts_characters() {
        let mut d = draft();
        d.name = "é".repeat(MAX_NAME_CHARS);
        assert!(d.validate().is_ok());
        d.name = "é".repeat(MAX_NAME_CHARS + 1);
        assert!(d.validate().is_err());
    }
}
