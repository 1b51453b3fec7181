//! Token counts with a real tokenizer (OpenAI's cl100k_base, bundled in tiktoken-rs), for the
//! `context_max_tokens` budget of retrieved context.
use crate::domain::context::TokenCounter;
use std::sync::LazyLock;
use tiktoken_rs::CoreBPE;

static CL100K: LazyLock<CoreBPE> = LazyLock::new(|| tiktoken_rs::cl100k_base().expect("the bundled cl100k_base loads"));

pub struct Cl100k;

/// Loads the tokenizer now (about 50 ms), so the first retrieve does not pay for it.
pub fn warm() {
    LazyLock::force(&CL100K);
}

impl TokenCounter for Cl100k {
    fn count(&self, text: &str) -> usize {
        CL100K.encode_ordinary(text).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::categories::Category;
    use crate::domain::context::{build, Format, Item};

    #[test]
    fn counts_like_the_reference_tokenizer() {
        // Reference counts from OpenAI's tokenizer for cl100k_base.
        assert_eq!(Cl100k.count("hello world"), 2);
        assert_eq!(Cl100k.count(""), 0);
        assert!(Cl100k.count("What you know about this user:") >= 6);
    }

    #[test]
    fn a_real_budget_is_respected() {
        let long = "I prefer concise, structured explanations with Python examples and no filler.";
        let items: Vec<Item> = (0..50).map(|_| Item { category: Category::Preference, content: long }).collect();
        for budget in [0, 10, 25, 100, 500] {
            let c = build(&items, Format::Bullets, budget, &Cl100k);
            assert!(c.tokens <= budget, "budget {budget}: {}", c.tokens);
            assert_eq!(Cl100k.count(&c.text), c.tokens);
        }
        assert!(build(&items, Format::Bullets, 500, &Cl100k).included > 10);
    }
}
