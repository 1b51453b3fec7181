//! The six memory categories and the one table of labels used on every surface.
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Preference,
    Fact,
    Goal,
    Procedure,
    Relationship,
    Expertise,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Preference,
        Category::Fact,
        Category::Goal,
        Category::Procedure,
        Category::Relationship,
        Category::Expertise,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Preference => "preference",
            Category::Fact => "fact",
            Category::Goal => "goal",
            Category::Procedure => "procedure",
            Category::Relationship => "relationship",
            Category::Expertise => "expertise",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Category::Preference => "Your preferences and settings",
            Category::Fact => "Facts about you",
            Category::Goal => "Your goals",
            Category::Procedure => "How you do things",
            Category::Relationship => "People in your life",
            Category::Expertise => "Your skills and knowledge",
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Category::Preference => {
                "Communication style, defaults, and how you like your tools to behave."
            }
            Category::Fact => "Stable profile facts that help apps personalize correctly.",
            Category::Goal => "What you are trying to accomplish over time.",
            Category::Procedure => "How you prefer to work through recurring tasks.",
            Category::Relationship => {
                "People, teams, and collaboration context you choose to share."
            }
            Category::Expertise => "Topics, tools, and domains you know well.",
        }
    }

    /// One thing the category might hold, in the person's voice, shown beside its checkbox so
    /// that the choice is concrete.
    pub fn example(self) -> &'static str {
        match self {
            Category::Preference => "I prefer short answers in British English.",
            Category::Fact => "I live in Lisbon and work night shifts.",
            Category::Goal => "I am training for a half marathon in May.",
            Category::Procedure => "I review pull requests before lunch, tests first.",
            Category::Relationship => "Ana is my manager; Tom is my brother.",
            Category::Expertise => "I know Rust and PostgreSQL well.",
        }
    }

    pub fn parse(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// Parses a list of category names, keeping the canonical order and dropping duplicates.
/// Returns the first unknown name as the error.
pub fn parse_list<S: AsRef<str>>(names: &[S]) -> Result<Vec<Category>, String> {
    let mut out = Vec::new();
    for name in names {
        let name = name.as_ref().trim();
        let cat = Category::parse(name).ok_or_else(|| name.to_string())?;
        if !out.contains(&cat) {
            out.push(cat);
        }
    }
    out.sort();
    Ok(out)
}

/// Parses the comma-separated `categories` consent parameter; unknown names are ignored so a
/// stale link still opens, and the person chooses anyway.
pub fn parse_csv_lenient(csv: &str) -> Vec<Category> {
    let mut out: Vec<Category> = csv.split(',').filter_map(|s| Category::parse(s.trim())).collect();
    out.sort();
    out.dedup();
    out
}

pub fn to_names(cats: &[Category]) -> Vec<String> {
    cats.iter().map(|c| c.as_str().to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for c in Category::ALL {
            assert_eq!(Category::parse(c.as_str()), Some(c));
            assert!(!c.label().is_empty() && !c.description().is_empty());
        }
        assert_eq!(Category::parse("Preference"), None);
    }

    #[test]
    fn parse_list_dedupes_orders_and_rejects_unknown() {
        assert_eq!(
            parse_list(&["goal", "fact", "goal"]).unwrap(),
            vec![Category::Fact, Category::Goal]
        );
        assert_eq!(parse_list(&["fact", "hobby"]).unwrap_err(), "hobby");
    }

    #[test]
    fn csv_is_lenient() {
        assert_eq!(parse_csv_lenient("goal, bogus,preference"), vec![Category::Preference, Category::Goal]);
        assert!(parse_csv_lenient("").is_empty());
    }
}
