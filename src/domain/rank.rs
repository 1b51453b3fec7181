//! Ranking memories for a query: Okapi BM25 on the text, blended with the memory's importance
//! and how recently it was used or made. Pure, so it can be tested and benchmarked alone.

/// BM25 parameters (the usual defaults).
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// How much each signal weighs in the final score; relevance dominates when there is any.
const W_TEXT: f64 = 0.70;
const W_IMPORTANCE: f64 = 0.20;
const W_RECENCY: f64 = 0.10;
/// Recency halves every 30 days.
const HALF_LIFE_MS: f64 = 30.0 * 24.0 * 60.0 * 60.0 * 1000.0;

/// Words that carry no meaning for matching.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "by", "for", "from", "how", "i", "in", "is", "it", "me", "my", "of",
    "on", "or", "should", "so", "that", "the", "this", "to", "was", "what", "when", "with", "you", "your", "do",
    "does", "can", "about", "user", "their", "they",
];

/// Lower-cased word stems: letters and digits, stop words dropped, a light plural/verb strip.
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '+' && c != '#')
        .filter(|w| !w.is_empty())
        .map(|w| stem(&w.to_lowercase()))
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

fn stem(word: &str) -> String {
    for suffix in ["ings", "ing", "ies", "es", "s", "ed"] {
        if word.len() > suffix.len() + 2 {
            if let Some(base) = word.strip_suffix(suffix) {
                return if suffix == "ies" { format!("{base}y") } else { base.to_string() };
            }
        }
    }
    word.to_string()
}

/// What ranking needs to know of one memory.
#[derive(Clone, Debug)]
pub struct Candidate<'a> {
    pub text: &'a str,
    /// 1..=10.
    pub importance: u8,
    /// Last used, else created (ms since the epoch).
    pub touched_at: i64,
}

/// One ranked memory: its index in the input, and scores in 0..=1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ranked {
    pub index: usize,
    pub relevance: f64,
    pub score: f64,
}

/// Ranks `candidates` for `query` and returns the best `limit`, best first. With no matching
/// words at all, importance and recency decide.
pub fn rank(query: &str, candidates: &[Candidate<'_>], now_ms: i64, limit: usize) -> Vec<Ranked> {
    let query_terms = {
        let mut t = terms(query);
        t.sort();
        t.dedup();
        t
    };
    let docs: Vec<Vec<String>> = candidates.iter().map(|c| terms(c.text)).collect();
    let n = docs.len() as f64;
    let avg_len = (docs.iter().map(Vec::len).sum::<usize>() as f64 / n.max(1.0)).max(1.0);
    let idf: Vec<f64> = query_terms
        .iter()
        .map(|q| {
            let df = docs.iter().filter(|d| d.contains(q)).count() as f64;
            ((n - df + 0.5) / (df + 0.5) + 1.0).ln()
        })
        .collect();
    let raw: Vec<f64> = docs
        .iter()
        .map(|doc| {
            let len = doc.len() as f64;
            query_terms
                .iter()
                .zip(&idf)
                .map(|(q, idf)| {
                    let tf = doc.iter().filter(|t| *t == q).count() as f64;
                    if tf == 0.0 {
                        0.0
                    } else {
                        idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg_len))
                    }
                })
                .sum()
        })
        .collect();
    let best = raw.iter().cloned().fold(0.0_f64, f64::max);
    let mut ranked: Vec<Ranked> = candidates
        .iter()
        .zip(&raw)
        .enumerate()
        .map(|(index, (c, r))| {
            let relevance = if best > 0.0 { r / best } else { 0.0 };
            let importance = f64::from(c.importance.clamp(1, 10)) / 10.0;
            let age = (now_ms - c.touched_at).max(0) as f64;
            let recency = 0.5_f64.powf(age / HALF_LIFE_MS);
            Ranked { index, relevance, score: W_TEXT * relevance + W_IMPORTANCE * importance + W_RECENCY * recency }
        })
        .collect();
    ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
    ranked.truncate(limit);
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 24 * 60 * 60 * 1000;

    fn c(text: &str, importance: u8, age_days: i64) -> Candidate<'_> {
        Candidate { text, importance, touched_at: 1_000 * DAY - age_days * DAY }
    }

    #[test]
    fn terms_are_stemmed_and_stop_words_dropped() {
        assert_eq!(terms("I prefer short, structured explanations!"), vec!["prefer", "short", "structur", "explanation"]);
        assert_eq!(terms("Stories about C++ and C#"), vec!["story", "c++", "c#"]);
    }

    #[test]
    fn relevance_wins_when_words_match() {
        let memories = [
            c("I usually deploy on Tuesdays.", 9, 0),
            c("I prefer Python examples in explanations.", 5, 200),
            c("My manager is Sarah.", 8, 1),
        ];
        let ranked = rank("Which language should the code examples use? Python?", &memories, 1_000 * DAY, 10);
        assert_eq!(ranked[0].index, 1);
        assert!((ranked[0].relevance - 1.0).abs() < 1e-9);
        assert_eq!(ranked.len(), 3);
    }

    #[test]
    fn without_matching_words_importance_then_recency_decide() {
        let memories = [c("Likes tea.", 3, 0), c("Allergic to peanuts.", 9, 10), c("Lives in Lisbon.", 9, 400)];
        let ranked = rank("zebra", &memories, 1_000 * DAY, 2);
        assert_eq!(ranked.iter().map(|r| r.index).collect::<Vec<_>>(), vec![1, 2]);
        assert!(ranked.iter().all(|r| r.relevance == 0.0));
    }

    #[test]
    fn rare_words_count_more_than_common_ones() {
        let memories = [
            c("I write Rust at work and Rust at home.", 5, 0),
            c("I write Python at work.", 5, 0),
            c("I write Go at work.", 5, 0),
        ];
        let ranked = rank("rust work", &memories, 1_000 * DAY, 3);
        assert_eq!(ranked[0].index, 0);
        assert!(ranked[1].relevance < 0.5, "matching only the common word scores low");
    }

    #[test]
    fn empty_inputs_are_fine() {
        assert!(rank("anything", &[], 0, 10).is_empty());
        let memories = [c("x", 5, 0)];
        assert_eq!(rank("", &memories, 0, 10).len(), 1);
        assert!(rank("x", &memories, 0, 0).is_empty());
    }
}
