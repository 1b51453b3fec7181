//! Consent rules: which categories start ticked, what the person may change, how long a grant
//! lasts. Pure, so the consent page and the server apply exactly the same rules.
use super::agent::AccessType;
use super::categories::Category;
use serde::{Deserialize, Serialize};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// How long a grant lasts; the person must choose one (nothing is preselected).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GrantDuration {
    #[serde(rename = "30_days")]
    Days30,
    #[serde(rename = "90_days")]
    Days90,
    #[serde(rename = "1_year")]
    Year1,
    #[serde(rename = "until_revoked")]
    UntilRevoked,
}

impl GrantDuration {
    pub const ALL: [GrantDuration; 4] =
        [GrantDuration::Days30, GrantDuration::Days90, GrantDuration::Year1, GrantDuration::UntilRevoked];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantDuration::Days30 => "30_days",
            GrantDuration::Days90 => "90_days",
            GrantDuration::Year1 => "1_year",
            GrantDuration::UntilRevoked => "until_revoked",
        }
    }

    pub fn parse(s: &str) -> Option<GrantDuration> {
        GrantDuration::ALL.into_iter().find(|d| d.as_str() == s)
    }


    pub fn label(self) -> &'static str {
        match self {
            GrantDuration::Days30 => "30 days",
            GrantDuration::Days90 => "90 days",
            GrantDuration::Year1 => "1 year",
            GrantDuration::UntilRevoked => "Until I revoke",
        }
    }

    /// When a grant made at `now_ms` ends; None for "until I revoke".
    pub fn expires_at(self, now_ms: i64) -> Option<i64> {
        match self {
            GrantDuration::Days30 => Some(now_ms + 30 * DAY_MS),
            GrantDuration::Days90 => Some(now_ms + 90 * DAY_MS),
            GrantDuration::Year1 => Some(now_ms + 365 * DAY_MS),
            GrantDuration::UntilRevoked => None,
        }
    }
}

/// A grant is in force when it is not revoked and not past its end (`None`: until revoked).
pub fn in_force(revoked_at: Option<i64>, expires_at: Option<i64>, now_ms: i64) -> bool {
    revoked_at.is_none() && expires_at.is_none_or(|end| end > now_ms)
}

/// The categories ticked when the consent page opens: the link's `categories` if it names
/// any, else the agent's defaults, else all six.
pub fn preselected(link: &[Category], agent_defaults: &[Category]) -> Vec<Category> {
    if !link.is_empty() {
        link.to_vec()
    } else if !agent_defaults.is_empty() {
        agent_defaults.to_vec()
    } else {
        Category::ALL.to_vec()
    }
}

/// The access the app asks for: the link's `access`, else the agent's registered access, and
/// never more than the agent registered (a link is written by anyone; the registration was
/// reviewed).
pub fn requested_access(link: Option<AccessType>, registered: AccessType) -> AccessType {
    match (link, registered) {
        (Some(AccessType::ReadOnly), _) | (_, AccessType::ReadOnly) => AccessType::ReadOnly,
        _ => AccessType::ReadWrite,
    }
}

/// The person may keep what was asked or lower read_write to read_only, never raise it.
pub fn granted_access(requested: AccessType, chosen: AccessType) -> Result<AccessType, &'static str> {
    match (requested, chosen) {
        (AccessType::ReadOnly, AccessType::ReadWrite) => Err("This app asked for read-only access; it cannot be given more."),
        (_, chosen) => Ok(chosen),
    }
}

/// What the person finally approved: at least one category, canonical order, no repeats.
pub fn approved_categories(chosen: &[Category]) -> Result<Vec<Category>, &'static str> {
    let mut cats = chosen.to_vec();
    cats.sort();
    cats.dedup();
    if cats.is_empty() {
        Err("Choose at least one category to share, or deny access.")
    } else {
        Ok(cats)
    }
}

/// The categories the app will NOT access, for the summary under the checkboxes.
pub fn withheld(chosen: &[Category]) -> Vec<Category> {
    Category::ALL.into_iter().filter(|c| !chosen.contains(c)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Category::*;

    #[test]
    fn preselection_follows_the_guide() {
        assert_eq!(preselected(&[Goal], &[Fact]), vec![Goal]);
        assert_eq!(preselected(&[], &[Fact, Preference]), vec![Fact, Preference]);
        assert_eq!(preselected(&[], &[]), Category::ALL.to_vec());
    }

    #[test]
    fn access_can_only_be_lowered() {
        assert_eq!(requested_access(None, AccessType::ReadWrite), AccessType::ReadWrite);
        assert_eq!(requested_access(Some(AccessType::ReadOnly), AccessType::ReadWrite), AccessType::ReadOnly);
        assert_eq!(requested_access(Some(AccessType::ReadWrite), AccessType::ReadWrite), AccessType::ReadWrite);
        // A link cannot ask for more than the agent registered.
        assert_eq!(requested_access(Some(AccessType::ReadWrite), AccessType::ReadOnly), AccessType::ReadOnly);
        assert_eq!(requested_access(None, AccessType::ReadOnly), AccessType::ReadOnly);
        assert_eq!(granted_access(AccessType::ReadWrite, AccessType::ReadOnly), Ok(AccessType::ReadOnly));
        assert_eq!(granted_access(AccessType::ReadWrite, AccessType::ReadWrite), Ok(AccessType::ReadWrite));
        assert!(granted_access(AccessType::ReadOnly, AccessType::ReadWrite).is_err());
    }

    #[test]
    fn at_least_one_category() {
        assert!(approved_categories(&[]).is_err());
        assert_eq!(approved_categories(&[Goal, Fact, Goal]).unwrap(), vec![Fact, Goal]);
        assert_eq!(withheld(&[Fact, Goal]), vec![Preference, Procedure, Relationship, Expertise]);
    }

    #[test]
    fn durations() {
        for d in GrantDuration::ALL {
            assert_eq!(GrantDuration::parse(d.as_str()), Some(d));
        }
        assert_eq!(GrantDuration::Days30.expires_at(0), Some(30 * DAY_MS));
        assert_eq!(GrantDuration::Year1.expires_at(1), Some(1 + 365 * DAY_MS));
        assert_eq!(GrantDuration::UntilRevoked.expires_at(5), None);
        assert_eq!(GrantDuration::parse("forever"), None);
    }
}
