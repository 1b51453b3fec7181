//! Ranking memories for a query: Okapi BM25 on the text, blended with the memory's importance
//! and how recently it was used or made. Pure, so it can be tested and benchmarked alone.

/// BM25 parameters (the usual defaults).
const K1: f64 = 1.2;
const B: f64 = 0.75;
/// How much each signal weighs in the final score; relevance dominates when there is any.
const W_TEXT: f64 = 0.85;
const W_IMPORTANCE: f64 = 0.10;
const W_RECENCY: f64 = 0.05;
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

/// `text` with the bytes in `ranges` (sorted by start; they may overlap) turned to spaces, so
/// the words left keep their places: a query without the words it should not be matched by.
pub fn blanked<'a>(text: &'a str, ranges: &[std::ops::Range<usize>]) -> std::borrow::Cow<'a, str> {
    if ranges.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    for r in ranges {
        let start = r.start.max(from);
        out.push_str(&text[from..start]);
        out.extend(std::iter::repeat_n(' ', r.end.saturating_sub(start)));
        from = r.end.max(from);
    }
    out.push_str(&text[from..]);
    std::borrow::Cow::Owned(out)
}

/// The byte ranges of the words in a query that name someone or something the person's
/// memories never mention: capitalised words (not a sentence's first, not all capitals) whose
/// stem `known` does not know. A question asked about the person in the third person ("Where
/// does Kenji work now?") names them, and they never name themselves, so a name's weight in the
/// query's vector would only pull it away from their memories; names they do mention ("Sofia")
/// stay. Nothing is skipped in a query written in title case, where capitals say nothing.
pub fn stray_names(query: &str, known: impl Fn(&str) -> bool) -> Vec<std::ops::Range<usize>> {
    let mut words: Vec<(usize, &str, bool)> = Vec::new();
    let mut starts_sentence = true;
    let mut at = None;
    for (i, c) in query.char_indices().chain(std::iter::once((query.len(), ' '))) {
        let in_word = c.is_alphanumeric() || ((c == '\'' || c == '’') && at.is_some());
        match (in_word, at) {
            (true, None) => at = Some(i),
            (false, Some(start)) => {
                words.push((start, &query[start..i], starts_sentence));
                starts_sentence = false;
                at = None;
            }
            _ => {}
        }
        if !in_word && matches!(c, '.' | '?' | '!' | ':' | '\n') {
            starts_sentence = true;
        }
    }
    let capitalised = |w: &str| w.chars().next().is_some_and(char::is_uppercase) && w.chars().skip(1).any(char::is_lowercase);
    if words.iter().filter(|(_, w, _)| capitalised(w)).count() * 2 > words.len() {
        return Vec::new();
    }
    words
        .into_iter()
        .filter(|(_, w, first)| !first && capitalised(w))
        .filter_map(|(start, w, _)| {
            let bare = w.trim_end_matches("'s").trim_end_matches("’s").trim_end_matches(['\'', '’']);
            let term = terms(bare).into_iter().next()?;
            (!known(&term)).then(|| start..start + w.len())
        })
        .collect()
}

/// How much closer to a question that asks of time a memory counts when its date answers it
/// (added to its semantic similarity before fusion): one that happened within the span asked
/// about, or, for "when did…", one whose words say when. A nudge among similar memories, not a
/// filter: the date of a memory is only what its words said.
pub const TIME_BONUS: f32 = 0.05;

/// The bonus of a memory that happened `happened` (its words' date) and was said at `said_at`
/// (ms; its day is worked out only when the memory has no date of its own and a span is asked:
/// this runs for every memory of a time question).
pub fn time_bonus(asked: crate::domain::when::Asked, happened: Option<crate::domain::when::Span>, said_at: Option<i64>) -> f32 {
    use crate::domain::when::{date_of, Asked, Span};
    let answers = match asked {
        Asked::Within(span) => happened.or_else(|| said_at.map(date_of).map(|d| Span { from: d, to: d })).is_some_and(|h| h.overlaps(&span)),
        Asked::When => happened.is_some(),
    };
    if answers { TIME_BONUS } else { 0.0 }
}

/// The most a question of the present ("Where do I work now?") adds to the similarity of a
/// person's latest memory; their first gets nothing and the rest lie between by when they were
/// said. Among memories about the same thing, the newer then answers (they changed jobs).
pub const PRESENT_BONUS: f32 = 0.05;

/// The present bonus of a memory said at `said_at` (ms), the person's memories having been said
/// from `first` to `last`.
pub fn present_bonus(said_at: Option<i64>, first: i64, last: i64) -> f32 {
    match said_at {
        Some(at) if last > first => PRESENT_BONUS * ((at.clamp(first, last) - first) as f64 / (last - first) as f64) as f32,
        _ => 0.0,
    }
}

/// How many places lower each further memory of one message ranks: a message that told
/// three things fills one place of the top, not three, while its second memory still beats
/// anything `SAME_MESSAGE_STEP` places below it.
pub const SAME_MESSAGE_STEP: usize = 5;

/// How many ranked memories `spread` needs for its first `limit` to be exact: a memory at
/// place p with j of its message before it moves to p + STEP·j ≤ (1 + STEP)·p, so the first
/// `limit` stay below (1 + STEP)·limit, and every memory ranked deeper lands at least as low.
pub fn spread_depth(limit: usize) -> usize {
    limit.saturating_mul(1 + SAME_MESSAGE_STEP)
}

/// `ranked` (best first) with every memory that comes after another of the same message
/// (`message(index)`; `None`: its own) moved `SAME_MESSAGE_STEP` places lower for each such one,
/// cut to `limit`. Among equal places the better-ranked goes first; scores are kept as they were.
pub fn spread(ranked: Vec<Ranked>, message: impl Fn(usize) -> Option<u64>, limit: usize) -> Vec<Ranked> {
    let mut seen: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    let mut placed: Vec<(usize, usize, Ranked)> = ranked
        .into_iter()
        .enumerate()
        .map(|(place, r)| {
            let before = message(r.index).map_or(0, |m| {
                let n = seen.entry(m).or_insert(0);
                *n += 1;
                *n - 1
            });
            (place + SAME_MESSAGE_STEP * before, place, r)
        })
        .collect();
    placed.sort_by_key(|&(at, place, _)| (at, place));
    placed.into_iter().take(limit).map(|(_, _, r)| r).collect()
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
    let index = Index::new(candidates.iter().map(|c| (c.text, c.importance, 0)));
    index.rank(query, 1, |i| Some(candidates[i].touched_at), now_ms, limit)
}

/// Higher score first; among equals, the earlier document.
fn better(a: &Ranked, b: &Ranked) -> bool {
    a.score.total_cmp(&b.score).then(b.index.cmp(&a.index)).is_gt()
}

/// Orders the heap so that its top is the worst of the kept documents.
struct Worst(Ranked);

impl PartialEq for Worst {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Worst {}
impl PartialOrd for Worst {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Worst {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // "Greater" = worse, so BinaryHeap (a max-heap) keeps the worst on top.
        if better(&self.0, &other.0) {
            std::cmp::Ordering::Less
        } else if better(&other.0, &self.0) {
            std::cmp::Ordering::Greater
        } else {
            std::cmp::Ordering::Equal
        }
    }
}

/// An inverted index over a fixed set of memories, built once and queried many times. A query
/// costs work in proportion to the documents its words occur in; the others can only win on
/// importance and recency, so they are visited in order of importance and the visit stops as
/// soon as none of the rest could enter the top `limit`.
#[derive(Debug, Default)]
pub struct Index {
    /// term → (document, term frequency)
    postings: std::collections::HashMap<String, Vec<(u32, u32)>>,
    lens: Vec<u32>,
    importance: Vec<u8>,
    /// Documents by importance, highest first.
    by_importance: Vec<u32>,
    /// Each document's group (a category), and per group the documents and their total
    /// length: ranking statistics are computed over the groups a caller may read alone, so
    /// nothing outside them changes a caller's scores.
    groups: Vec<u8>,
    group_docs: [u32; MAX_GROUPS],
    group_len: [u64; MAX_GROUPS],
    /// How many documents are removed (their group is `REMOVED`).
    removed: usize,
}

/// The group of a removed document: in no mask.
const REMOVED: u8 = u8::MAX;

/// Groups an index tells apart (one bit each in a `rank` mask).
pub const MAX_GROUPS: usize = 8;

impl Index {
    /// Indexes (text, importance 1..=10, group below `MAX_GROUPS`) triples; documents are
    /// numbered in input order.
    pub fn new<'a>(docs: impl IntoIterator<Item = (&'a str, u8, u8)>) -> Index {
        let mut postings: std::collections::HashMap<String, Vec<(u32, u32)>> = std::collections::HashMap::new();
        let mut lens = Vec::new();
        let mut importance = Vec::new();
        let (mut groups, mut group_docs, mut group_len) = (Vec::new(), [0u32; MAX_GROUPS], [0u64; MAX_GROUPS]);
        for (doc, (text, imp, group)) in docs.into_iter().enumerate() {
            let mut words = terms(text);
            let group = group.min(MAX_GROUPS as u8 - 1);
            groups.push(group);
            group_docs[group as usize] += 1;
            group_len[group as usize] += words.len() as u64;
            lens.push(words.len() as u32);
            importance.push(imp.clamp(1, 10));
            words.sort_unstable();
            let mut i = 0;
            while i < words.len() {
                let j = words[i..].iter().position(|w| *w != words[i]).map_or(words.len(), |p| i + p);
                postings.entry(std::mem::take(&mut words[i])).or_default().push((doc as u32, (j - i) as u32));
                i = j;
            }
        }
        let mut by_importance: Vec<u32> = (0..lens.len() as u32).collect();
        by_importance.sort_by_key(|&d| (std::cmp::Reverse(importance[d as usize]), d));
        Index { postings, lens, importance, by_importance, groups, group_docs, group_len, removed: 0 }
    }

    /// Whether some document holds the term (a stem as `terms` makes it).
    pub fn knows(&self, term: &str) -> bool {
        self.postings.contains_key(term)
    }

    /// Documents ever added, removed ones included (document numbers run up to this).
    pub fn len(&self) -> usize {
        self.lens.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lens.is_empty()
    }

    /// Adds a document at the end (number `len()` before the call) and returns its number; the
    /// index ranks exactly as one built with it from the start.
    pub fn push(&mut self, text: &str, importance: u8, group: u8) -> u32 {
        let doc = self.lens.len() as u32;
        let mut words = terms(text);
        let group = group.min(MAX_GROUPS as u8 - 1);
        let importance = importance.clamp(1, 10);
        self.groups.push(group);
        self.group_docs[group as usize] += 1;
        self.group_len[group as usize] += words.len() as u64;
        self.lens.push(words.len() as u32);
        self.importance.push(importance);
        words.sort_unstable();
        let mut i = 0;
        while i < words.len() {
            let j = words[i..].iter().position(|w| *w != words[i]).map_or(words.len(), |p| i + p);
            // Appended last, so each posting list stays in document order.
            self.postings.entry(std::mem::take(&mut words[i])).or_default().push((doc, (j - i) as u32));
            i = j;
        }
        // After every document at least as important: the order of (importance desc, number).
        let at = self.by_importance.partition_point(|&d| self.importance[d as usize] >= importance);
        self.by_importance.insert(at, doc);
        doc
    }

    /// Takes document `doc`, whose text was `text`, out of every ranking, statistic and
    /// posting list (its number stays taken): the index ranks exactly as one built without it,
    /// numbers aside, and keeps none of its words.
    pub fn remove(&mut self, doc: u32, text: &str) {
        let d = doc as usize;
        let Some(&group) = self.groups.get(d) else { return };
        if group == REMOVED {
            return;
        }
        self.group_docs[group as usize] -= 1;
        self.group_len[group as usize] -= u64::from(self.lens[d]);
        self.groups[d] = REMOVED;
        self.removed += 1;
        let mut words = terms(text);
        words.sort_unstable();
        words.dedup();
        for w in words {
            if let Some(list) = self.postings.get_mut(&w) {
                if let Ok(at) = list.binary_search_by_key(&doc, |&(x, _)| x) {
                    list.remove(at);
                }
                if list.is_empty() {
                    self.postings.remove(&w);
                }
            }
        }
    }

    /// How many documents were removed (their postings still take room until a rebuild).
    pub fn removed(&self) -> usize {
        self.removed
    }

    /// True when `doc` is in one of the groups of the mask `groups` (and not removed).
    fn readable(&self, doc: usize, groups: u8) -> bool {
        let g = self.groups[doc];
        g != REMOVED && groups & (1u8 << g) != 0
    }

    /// The best `limit` documents for `query` among the groups in the bit mask `groups`, best
    /// first. `touched_at(i)` gives when a document was last used or made, or `None` when it
    /// may not be returned; relevance is scaled by the best eligible match. Document counts,
    /// frequencies and lengths are those of the `groups` alone.
    pub fn rank(&self, query: &str, groups: u8, touched_at: impl Fn(usize) -> Option<i64>, now_ms: i64, limit: usize) -> Vec<Ranked> {
        self.rank_hybrid(query, groups, touched_at, None, now_ms, limit)
    }

    /// As `rank`, with each document's semantic similarity to the query (`similarity[i]`, a
    /// cosine, for every document; ignored where `touched_at` says no) fused with its keyword
    /// score by reciprocal rank (RRF, k = 60): a document high in either list ranks high, one
    /// high in both ranks highest, and neither score's scale matters.
    pub fn rank_hybrid(
        &self,
        query: &str,
        groups: u8,
        touched_at: impl Fn(usize) -> Option<i64>,
        similarity: Option<&[f32]>,
        now_ms: i64,
        limit: usize,
    ) -> Vec<Ranked> {
        let readable = |d: usize| self.readable(d, groups);
        let (docs, total_len) = (0..MAX_GROUPS)
            .filter(|g| groups & (1u8 << g) != 0)
            .fold((0u64, 0u64), |(n, len), g| (n + u64::from(self.group_docs[g]), len + self.group_len[g]));
        if limit == 0 || docs == 0 {
            return Vec::new();
        }
        let mut query_terms = terms(query);
        query_terms.sort_unstable();
        query_terms.dedup();
        let n = docs as f64;
        let avg_len = (total_len as f64 / n).max(1.0);
        // Dense scores: one slot per document beats hashing when a query touches many.
        let mut text = vec![0.0_f64; self.lens.len()];
        let mut matched: Vec<u32> = Vec::new();
        for q in &query_terms {
            let Some(list) = self.postings.get(q) else { continue };
            let df = list.iter().filter(|&&(doc, _)| readable(doc as usize)).count() as f64;
            if df == 0.0 {
                continue;
            }
            let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
            for &(doc, tf) in list {
                if !readable(doc as usize) {
                    continue;
                }
                let tf = f64::from(tf);
                let len = f64::from(self.lens[doc as usize]);
                let slot = &mut text[doc as usize];
                if *slot == 0.0 {
                    matched.push(doc);
                }
                *slot += idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * len / avg_len));
            }
        }
        let mut matched: Vec<(u32, i64)> = matched.into_iter().filter_map(|d| Some((d, touched_at(d as usize)?))).collect();
        if let Some(sim) = similarity.filter(|s| s.len() == self.lens.len()) {
            fuse(&mut text, &mut matched, sim, |d| readable(d), &touched_at, limit);
        }
        let best = matched.iter().map(|&(d, _)| text[d as usize]).fold(0.0_f64, f64::max);
        let score = |index: usize, touched: i64| {
            let relevance = if best > 0.0 { text[index] / best } else { 0.0 };
            let importance = f64::from(self.importance[index]) / 10.0;
            let age = (now_ms - touched).max(0) as f64;
            let recency = (-std::f64::consts::LN_2 * age / HALF_LIFE_MS).exp();
            Ranked { index, relevance, score: W_TEXT * relevance + W_IMPORTANCE * importance + W_RECENCY * recency }
        };
        // The best `limit` so far, worst on top, so each document costs O(log limit).
        let mut top: std::collections::BinaryHeap<Worst> = std::collections::BinaryHeap::with_capacity(limit + 1);
        let offer = |top: &mut std::collections::BinaryHeap<Worst>, r: Ranked| {
            if top.len() < limit {
                top.push(Worst(r));
            } else if top.peek().is_some_and(|w| better(&r, &w.0)) {
                top.pop();
                top.push(Worst(r));
            }
        };
        for &(d, touched) in &matched {
            offer(&mut top, score(d as usize, touched));
        }
        for &d in &self.by_importance {
            let d = d as usize;
            if text[d] > 0.0 || !readable(d) {
                continue;
            }
            // The most an unmatched document of this importance can score (recency 1).
            // Written as `score` computes it (relevance 0, recency 1), so the bound is exact in
            // floating point too.
            let ceiling = W_TEXT * 0.0 + W_IMPORTANCE * (f64::from(self.importance[d]) / 10.0) + W_RECENCY * 1.0;
            if top.len() == limit && top.peek().is_some_and(|w| w.0.score > ceiling) {
                break; // Every later document is at most as important.
            }
            if let Some(touched) = touched_at(d) {
                offer(&mut top, score(d, touched));
            }
        }
        let mut ranked: Vec<Ranked> = top.into_iter().map(|w| w.0).collect();
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
        ranked
    }
}

/// RRF's constant: how much a first place outweighs a tenth.
const RRF_K: f64 = 60.0;
/// How much the keyword list counts against the semantic one in fusion.
const KEYWORD_WEIGHT: f64 = 1.0;
/// How deep each list is read for fusion: past this, a document's reciprocal rank is noise.
const FUSE_DEPTH: usize = 200;
/// Similarities below this say nothing about the query (unrelated sentences of MiniLM sit
/// around 0–0.15).
const MIN_SIMILARITY: f32 = 0.2;

/// Replaces the keyword scores in `text` with fused reciprocal-rank scores and adds the
/// semantically similar documents to `matched`.
fn fuse(
    text: &mut [f64],
    matched: &mut Vec<(u32, i64)>,
    sim: &[f32],
    readable: impl Fn(usize) -> bool,
    touched_at: &impl Fn(usize) -> Option<i64>,
    limit: usize,
) {
    let depth = FUSE_DEPTH.max(limit * 4);
    let mut by_text: Vec<u32> = matched.iter().map(|&(d, _)| d).collect();
    let by_score = |a: &u32, b: &u32| text[*b as usize].total_cmp(&text[*a as usize]).then(a.cmp(b));
    // Only the first `depth` are ranked: picked first, then sorted (a common word matches
    // tens of thousands at 100,000 memories).
    if by_text.len() > depth {
        by_text.select_nth_unstable_by(depth, by_score);
        by_text.truncate(depth);
    }
    by_text.sort_by(by_score);
    let mut by_meaning: Vec<u32> =
        (0..sim.len() as u32).filter(|&d| sim[d as usize] >= MIN_SIMILARITY && readable(d as usize)).collect();
    let cmp = |a: &u32, b: &u32| sim[*b as usize].total_cmp(&sim[*a as usize]).then(a.cmp(b));
    if by_meaning.len() > depth {
        by_meaning.select_nth_unstable_by(depth, cmp);
        by_meaning.truncate(depth);
    }
    by_meaning.sort_by(cmp);
    for slot in text.iter_mut() {
        *slot = 0.0;
    }
    for (rank, d) in by_text.iter().enumerate() {
        text[*d as usize] += KEYWORD_WEIGHT / (RRF_K + rank as f64 + 1.0);
    }
    let mut known = vec![false; sim.len()];
    matched.iter().for_each(|&(d, _)| known[d as usize] = true);
    for (rank, d) in by_meaning.iter().enumerate() {
        text[*d as usize] += 1.0 / (RRF_K + rank as f64 + 1.0);
        if !known[*d as usize] {
            if let Some(t) = touched_at(*d as usize) {
                matched.push((*d, t));
            }
        }
    }
    // Keyword matches past the fused depth keep a sliver, so they still beat non-matches.
    for &(d, _) in matched.iter() {
        if text[d as usize] == 0.0 {
            text[d as usize] = 1e-9;
        }
    }
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
    fn names_the_memories_never_mention_are_stray() {
        let known = |t: &str| ["sofia", "denver"].contains(&t);
        let q = "Where does Kenji work now, and is Sofia with him in Denver?";
        let spans: Vec<&str> = stray_names(q, known).into_iter().map(|r| &q[r]).collect();
        assert_eq!(spans, ["Kenji"]);
        let q = "What did Tomás's cousin do? Kenji asked.";
        let spans: Vec<&str> = stray_names(q, known).into_iter().map(|r| &q[r]).collect();
        assert_eq!(spans, ["Tomás's"], "possessives are names too; a sentence's first word is not");
        assert!(stray_names("What TV show do I like?", known).is_empty(), "all capitals, and I, are not names");
        assert!(stray_names("Where Does Kenji Work Now", known).is_empty(), "title case says nothing");
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
    fn ineligible_documents_are_never_returned_and_do_not_set_the_scale() {
        let texts = ["I love Rust.", "Rust at work.", "I like tea."];
        let index = Index::new(texts.map(|t| (t, 5, 0)));
        let ranked = index.rank("rust", 1, |i| (i != 0).then_some(0), 0, 10);
        assert_eq!(ranked.iter().map(|r| r.index).collect::<Vec<_>>(), vec![1, 2]);
        assert!((ranked[0].relevance - 1.0).abs() < 1e-9, "scaled by the best eligible match");
    }

    /// The same ranking without any pruning, to check the pruned one against.
    fn rank_exhaustively(query: &str, candidates: &[Candidate<'_>], now_ms: i64) -> Vec<Ranked> {
        let index = Index::new(candidates.iter().map(|c| (c.text, c.importance, 0)));
        let mut all = index.rank(query, 1, |i| Some(candidates[i].touched_at), now_ms, candidates.len());
        all.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.index.cmp(&b.index)));
        all
    }

    #[test]
    fn pruning_unmatched_documents_changes_nothing() {
        let texts: Vec<String> = (0..3000).map(|i| format!("note {i} on topic{} and theme{}", i % 11, i % 5)).collect();
        let candidates: Vec<Candidate> = texts
            .iter()
            .enumerate()
            .map(|(i, t)| Candidate { text: t, importance: ((i * 7) % 10) as u8 + 1, touched_at: ((i * 13) % 400) as i64 * DAY })
            .collect();
        for query in ["topic3", "theme1 topic7", "zebra", "", "note 17"] {
            for limit in [1, 10, 50] {
                let full = rank_exhaustively(query, &candidates, 400 * DAY);
                assert_eq!(rank(query, &candidates, 400 * DAY, limit), full[..limit].to_vec(), "{query:?} {limit}");
            }
        }
    }

    #[test]
    fn top_k_selection_matches_a_full_sort() {
        let texts: Vec<String> = (0..500).map(|i| format!("memory {i} about topic{} and rust{}", i % 7, i % 3)).collect();
        let candidates: Vec<Candidate> =
            texts.iter().enumerate().map(|(i, t)| Candidate { text: t, importance: (i % 10) as u8 + 1, touched_at: i as i64 * DAY }).collect();
        let all = rank("topic3 rust1", &candidates, 600 * DAY, 500);
        let top = rank("topic3 rust1", &candidates, 600 * DAY, 12);
        assert_eq!(&all[..12], &top[..]);
    }

    #[test]
    fn empty_inputs_are_fine() {
        assert!(rank("anything", &[], 0, 10).is_empty());
        let memories = [c("x", 5, 0)];
        assert_eq!(rank("", &memories, 0, 10).len(), 1);
        assert!(rank("x", &memories, 0, 0).is_empty());
    }

    #[test]
    fn what_a_caller_cannot_read_changes_none_of_its_scores() {
        let readable = ["I deploy rust services on fridays", "rust is my main language", "coffee before standups"];
        let rank_with = |hidden: &[&str]| {
            let docs = readable.iter().map(|t| (*t, 5, 0)).chain(hidden.iter().map(|t| (*t, 9, 1)));
            let index = Index::new(docs);
            index.rank("rust deploy fridays", 0b01, |_| Some(0), 0, 10)
        };
        let alone = rank_with(&[]);
        let beside = rank_with(&["rust rust rust", "deploy everything", "rust deploy fridays again", "a very long memory about many other things entirely"]);
        assert_eq!(alone, beside, "another category's memories leave scores and order exactly as they were");
        assert_eq!(alone.len(), 3);
        assert!(beside.iter().all(|r| r.index < readable.len()), "nothing unreadable is returned");
        // The same index read with both groups does see them.
        let docs = readable.iter().map(|t| (*t, 5, 0)).chain(["rust rust rust"].iter().map(|t| (*t, 9, 1)));
        assert!(Index::new(docs).rank("rust", 0b11, |_| Some(0), 0, 10).iter().any(|r| r.index == readable.len()));
    }

    #[test]
    fn meaning_finds_what_words_miss_and_both_together_rank_first() {
        let docs = [("I adopted a puppy.", 5, 0), ("The invoice is due Friday.", 5, 0), ("My dog loves the beach.", 5, 0)];
        let index = Index::new(docs);
        // Similarities as a model would give for "Do I have a dog?".
        let sim = [0.62_f32, 0.05, 0.55];
        let ranked = index.rank_hybrid("Do I have a dog?", 1, |_| Some(0), Some(&sim), 0, 3);
        let order: Vec<usize> = ranked.iter().map(|r| r.index).collect();
        assert_eq!(order[..2], [2, 0], "'dog' matches both ways; the puppy by meaning alone");
        assert!(ranked.iter().find(|r| r.index == 1).is_none_or(|r| r.relevance == 0.0), "the invoice is unrelated");
        // Without similarities it is keyword ranking as before.
        assert_eq!(index.rank_hybrid("dog", 1, |_| Some(0), None, 0, 1)[0].index, 2);
    }

    #[test]
    fn an_index_changed_in_place_ranks_as_one_built_from_scratch() {
        let texts = [
            ("I deploy rust services on fridays", 5, 0),
            ("rust is my main language", 7, 0),
            ("coffee before standups", 3, 1),
            ("I went to a support group on 7 May 2023", 6, 2),
            ("my sister lives in Lisbon", 8, 3),
            ("I started surfing five years ago", 4, 2),
            ("I prefer green tea, no sugar", 5, 1),
            ("I run every morning before work", 6, 4),
            ("my cat is called Miso", 2, 3),
            ("I am learning Portuguese for the Lisbon trip", 9, 5),
        ];
        // Six built at once, four added after, then two of each removed.
        let mut changed = Index::new(texts[..6].iter().copied());
        for &(t, imp, g) in &texts[6..] {
            changed.push(t, imp, g);
        }
        let gone = [1u32, 4, 7, 9];
        for d in gone {
            changed.remove(d, texts[d as usize].0);
        }
        changed.remove(4, texts[4].0); // twice is once
        assert_eq!(changed.removed(), 4);
        assert!(!changed.postings.contains_key("sister"), "a removed document's words are gone");
        assert!(changed.postings.contains_key("rust"), "words other documents use stay");
        let live: Vec<usize> = (0..texts.len()).filter(|d| !gone.contains(&(*d as u32))).collect();
        let built = Index::new(live.iter().map(|&d| texts[d]));
        let day = 24 * 60 * 60 * 1000;
        let touched = |d: usize| 1_000 * day - (d as i64) * day;
        let sim_full: Vec<f32> = (0..texts.len()).map(|d| 0.2 + 0.07 * ((d * 7) % 10) as f32).collect();
        let sim_live: Vec<f32> = live.iter().map(|&d| sim_full[d]).collect();
        for query in ["rust language", "Lisbon", "tea or coffee", "when did I go to the support group", "", "surfing morning run"] {
            for groups in [0xff_u8, 0b0000_0101, 0b0011_0000] {
                for similarity in [false, true] {
                    let (a, b) = if similarity {
                        (
                            changed.rank_hybrid(query, groups, |d| Some(touched(d)), Some(&sim_full), 1_000 * day, 5),
                            built.rank_hybrid(query, groups, |d| Some(touched(live[d])), Some(&sim_live), 1_000 * day, 5),
                        )
                    } else {
                        (changed.rank(query, groups, |d| Some(touched(d)), 1_000 * day, 5), built.rank(query, groups, |d| Some(touched(live[d])), 1_000 * day, 5))
                    };
                    let b: Vec<Ranked> = b.into_iter().map(|r| Ranked { index: live[r.index], ..r }).collect();
                    assert_eq!(a, b, "{query:?} groups {groups:#b} similarity {similarity}");
                    assert!(a.iter().all(|r| !gone.contains(&(r.index as u32))), "a removed document is never returned");
                }
            }
        }
    }

    #[test]
    fn the_present_bonus_grows_with_when_a_memory_was_said() {
        assert_eq!(present_bonus(Some(100), 100, 300), 0.0);
        assert!((present_bonus(Some(200), 100, 300) - PRESENT_BONUS / 2.0).abs() < 1e-6);
        assert_eq!(present_bonus(Some(300), 100, 300), PRESENT_BONUS);
        // Outside the span it is held to its ends; one moment or no time gives nothing.
        assert_eq!(present_bonus(Some(900), 100, 300), PRESENT_BONUS);
        assert_eq!(present_bonus(Some(100), 100, 100), 0.0);
        assert_eq!(present_bonus(None, 100, 300), 0.0);
    }

    #[test]
    fn a_message_that_told_several_things_fills_one_place_not_several() {
        let r = |index: usize, score: f64| Ranked { index, relevance: score, score };
        // Memories 0, 1 and 2 came from one message, 3..9 from others, 10 from none known.
        let ranked: Vec<Ranked> = (0..11).map(|i| r(i, 1.0 - i as f64 / 20.0)).collect();
        let message = |i: usize| match i {
            0..=2 => Some(7),
            10 => None,
            i => Some(100 + i as u64),
        };
        let order: Vec<usize> = spread(ranked.clone(), message, 11).iter().map(|r| r.index).collect();
        // The second of the message takes place 1 + 5 (ahead of what was there), the third 2 + 10.
        assert_eq!(order, vec![0, 3, 4, 5, 1, 6, 7, 8, 9, 10, 2]);
        assert_eq!(spread(ranked.clone(), message, 3).iter().map(|r| r.index).collect::<Vec<_>>(), vec![0, 3, 4]);
        // Memories of no known message, or all of different ones, keep their order.
        let alone: Vec<usize> = spread(ranked.clone(), |_| None, 11).iter().map(|r| r.index).collect();
        assert_eq!(alone, (0..11).collect::<Vec<_>>());
        assert!(spread(Vec::new(), message, 5).is_empty());
        assert_eq!(spread_depth(10), 60);
        // Cut at its depth, a spread ranking gives the first `limit` of a full one.
        let many: Vec<Ranked> = (0..200).map(|i| r(i, 1.0 - i as f64 / 400.0)).collect();
        for limit in [1, 3, 10] {
            for groups in [1_u64, 2, 3, 7] {
                let key = |i: usize| Some(i as u64 % groups);
                let whole = spread(many.clone(), key, 200);
                let cut = spread(many[..spread_depth(limit)].to_vec(), key, limit);
                assert_eq!(cut, whole[..limit].to_vec(), "limit {limit}, {groups} messages");
            }
        }
    }

    #[test]
    fn blanked_keeps_every_other_byte_where_it_was() {
        let q = "Where do I work now?";
        assert_eq!(blanked(q, &[16..19]), "Where do I work    ?");
        assert_eq!(blanked("Right now, still?", &[0..9, 11..16]), "         ,      ?");
        assert!(matches!(blanked(q, &[]), std::borrow::Cow::Borrowed(_)));
        // Overlapping ranges (a stray name that is also a present word) are blanked once.
        assert_eq!(blanked("Still here Still", &[0..5, 0..5, 11..16]), "      here      ");
    }
}
