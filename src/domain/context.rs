//! The `system_prompt_addition` an agent receives: the ranked memories rendered as bullets
//! (grouped by category when there are several), JSON or XML, never longer than the token
//! budget. Counting is delegated to a `TokenCounter`, so the real tokenizer plugs in on the
//! server and tests can use a simple one.
use super::categories::Category;

pub const BULLETS_HEADER: &str = "What you know about this user:";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Bullets,
    Json,
    Xml,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "bullets" => Some(Format::Bullets),
            "json" => Some(Format::Json),
            "xml" => Some(Format::Xml),
            _ => None,
        }
    }
}

pub trait TokenCounter {
    fn count(&self, text: &str) -> usize;
}

/// One memory to render, in rank order.
#[derive(Clone, Debug, PartialEq)]
pub struct Item<'a> {
    pub category: Category,
    pub content: &'a str,
}

/// The rendered context and its size in tokens.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Context {
    pub text: String,
    pub tokens: usize,
    /// How many of the items fit (the first ones, in rank order).
    pub included: usize,
}

/// Renders as many of `items` (best first) as fit in `max_tokens`; empty when none fits.
/// Usually everything fits and one count decides; otherwise a binary search over how many
/// items to include, every candidate counted exactly, so the budget always holds.
pub fn build(items: &[Item<'_>], format: Format, max_tokens: usize, counter: &dyn TokenCounter) -> Context {
    let fits = |n: usize| -> Option<Context> {
        let text = render(&items[..n], format);
        let tokens = counter.count(&text);
        (tokens <= max_tokens).then_some(Context { text, tokens, included: n })
    };
    if items.is_empty() {
        return Context::default();
    }
    if let Some(all) = fits(items.len()) {
        return all;
    }
    // Invariant: `lo` items fit (or lo = 0), `hi` items do not.
    let (mut lo, mut hi, mut best) = (0, items.len(), Context::default());
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        match fits(mid) {
            Some(c) => {
                lo = mid;
                best = c;
            }
            None => hi = mid,
        }
    }
    best
}

fn render(items: &[Item<'_>], format: Format) -> String {
    match format {
        Format::Bullets => render_bullets(items),
        Format::Json => {
            let list: Vec<serde_json::Value> = items
                .iter()
                .map(|i| serde_json::json!({ "category": i.category.as_str(), "content": i.content }))
                .collect();
            serde_json::json!({ "user_memories": list }).to_string()
        }
        Format::Xml => {
            let mut out = String::from("<user_memories>");
            for i in items {
                out.push_str(&format!("<memory category=\"{}\">{}</memory>", i.category.as_str(), escape_xml(i.content)));
            }
            out.push_str("</user_memories>");
            out
        }
    }
}

fn render_bullets(items: &[Item<'_>]) -> String {
    let mut categories: Vec<Category> = items.iter().map(|i| i.category).collect();
    categories.sort();
    categories.dedup();
    let mut out = String::from(BULLETS_HEADER);
    if categories.len() == 1 {
        for i in items {
            out.push_str(&format!("\n- {}", one_line(i.content)));
        }
        return out;
    }
    for c in categories {
        out.push_str(&format!("\n\n{}:", c.label()));
        for i in items.iter().filter(|i| i.category == c) {
            out.push_str(&format!("\n- {}", one_line(i.content)));
        }
    }
    out
}

/// A memory never breaks the list it sits in.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use Category::*;

    /// Counts words: enough to test budgeting without a tokenizer.
    struct Words;
    impl TokenCounter for Words {
        fn count(&self, text: &str) -> usize {
            text.split_whitespace().count()
        }
    }

    fn items() -> Vec<Item<'static>> {
        vec![
            Item { category: Preference, content: "Prefers short answers." },
            Item { category: Goal, content: "Wants to run a marathon." },
            Item { category: Preference, content: "Likes Python\nexamples." },
        ]
    }

    #[test]
    fn bullets_group_by_category_when_there_are_several() {
        let c = build(&items(), Format::Bullets, 1000, &Words);
        assert_eq!(
            c.text,
            "What you know about this user:\n\nYour preferences and settings:\n- Prefers short answers.\n- Likes Python examples.\n\nYour goals:\n- Wants to run a marathon."
        );
        assert_eq!(c.included, 3);
        let one = build(&items()[..1], Format::Bullets, 1000, &Words);
        assert_eq!(one.text, "What you know about this user:\n- Prefers short answers.");
    }

    #[test]
    fn never_over_budget_and_best_first() {
        for budget in 0..40 {
            let c = build(&items(), Format::Bullets, budget, &Words);
            assert!(c.tokens <= budget);
            assert_eq!(Words.count(&c.text), c.tokens);
        }
        let small = build(&items(), Format::Bullets, 12, &Words);
        assert_eq!(small.included, 1, "{small:?}");
        assert!(small.text.contains("Prefers short answers."));
        assert_eq!(build(&items(), Format::Bullets, 3, &Words), Context { text: String::new(), tokens: 0, included: 0 });
    }

    #[test]
    fn json_and_xml_are_well_formed_and_escaped() {
        let tricky = [Item { category: Fact, content: "Works at <Acme & \"Sons\">" }];
        let json = build(&tricky, Format::Json, 1000, &Words).text;
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["user_memories"][0]["content"], "Works at <Acme & \"Sons\">");
        let xml = build(&tricky, Format::Xml, 1000, &Words).text;
        assert_eq!(xml, "<user_memories><memory category=\"fact\">Works at &lt;Acme &amp; &quot;Sons&quot;&gt;</memory></user_memories>");
        assert_eq!(Format::parse("yaml"), None);
    }
}
