//! What to do with the statements one extraction found, given what the person already holds:
//! the duplicate, conflict and limit rules in one pure function, so that the store only carries
//! out a plan (in one transaction) and the rules are tested on their own.
//!
//! - The same words as a memory the writer may see: a duplicate, not stored again. The same
//!   words as a memory the writer may not see (flagged "never said" by the person, or in a
//!   category outside its grant): answered as new, so the writer cannot tell, and not stored.
//! - The same value in a single-valued slot: a duplicate. Another value where the slot holds
//!   one: a question for the person, not an overwrite — unless the app already has its maximum
//!   of open questions (dropped and reported to it), or the person has theirs (reported to the
//!   app as raised, so no app learns what the others asked).
//! - Past the person's memory limit: skipped and reported.
//!
//! Statements earlier in the same extraction count as held for the later ones.
use super::categories::Category;
use super::extract::{content_key, Extracted};
use std::collections::{HashMap, HashSet};

/// A memory with the same words as a new statement (by `content_key`).
#[derive(Clone, Debug, PartialEq)]
pub struct SameWords {
    pub id: String,
    pub category: Category,
    pub flagged: bool,
}

/// An unflagged memory that holds a value in a single-valued slot.
#[derive(Clone, Debug, PartialEq)]
pub struct SlotHolder {
    pub memory_id: String,
    pub value: Option<String>,
}

/// What the plan needs to know of the person's memories, for the statements at hand.
#[derive(Clone, Debug, Default)]
pub struct Held {
    /// By content key: the memory with those words, an unflagged one if there is one.
    pub same_words: HashMap<String, SameWords>,
    /// By slot key: the unflagged memories holding it, newest first.
    pub slots: HashMap<String, Vec<SlotHolder>>,
    /// (memory id, candidate content key) of every question ever raised (one per pair).
    pub asked: HashSet<(String, String)>,
    pub memories: i64,
    /// Open questions of the person, from every app.
    pub person_questions: i64,
    /// Open questions this writer raised.
    pub writer_questions: i64,
}

/// A person holds at most this many memories; extraction past it is skipped and reported.
pub const MAX_MEMORIES_PER_PASSPORT: i64 = 200_000;
/// Open questions one app may have raised for one person; further conflicts from that app are
/// dropped and counted in its job result (`questions_dropped`).
pub const MAX_OPEN_QUESTIONS_PER_APP: i64 = 50;
/// Open questions one person may have from all apps together; past it, conflicts are dropped
/// but reported to the app as raised, so that no app learns what the others asked.
pub const MAX_OPEN_QUESTIONS_PER_PERSON: i64 = 200;

/// The caps the plan keeps to.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub memories: i64,
    pub questions_per_person: i64,
    pub questions_per_app: i64,
}

impl Limits {
    pub const PRODUCT: Limits = Limits {
        memories: MAX_MEMORIES_PER_PASSPORT,
        questions_per_person: MAX_OPEN_QUESTIONS_PER_PERSON,
        questions_per_app: MAX_OPEN_QUESTIONS_PER_APP,
    };
}

/// Who writes: an app (whose open questions are capped) or the person, and what it may read.
#[derive(Clone, Copy, Debug)]
pub struct Writer<'a> {
    pub is_app: bool,
    /// The categories the writer may read; None: everything (the person themself).
    pub readable: Option<&'a [Category]>,
}

/// What happens to one statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Step {
    /// A new memory with this id and content key.
    Insert { id: String, key: String },
    /// A question: keep `memory_id`'s value or take the statement's.
    Ask { memory_id: String, key: String },
    /// A conflict reported as raised, with no new question: asked before about the same words,
    /// or the person already has their maximum of open questions.
    Conflict,
    Duplicate,
    /// The same words as memory `id`, which the writer may not see: reported as new.
    Unseen { id: String },
    /// A conflict dropped: this app already has its maximum of open questions.
    QuestionDropped,
    OverLimit,
}

/// One step per statement, in order; `new_id` names each new memory.
pub fn plan(items: &[Extracted], held: &Held, writer: Writer<'_>, limits: Limits, mut new_id: impl FnMut() -> String) -> Vec<Step> {
    let mut same_words = held.same_words.clone();
    let mut slots = held.slots.clone();
    let mut asked = held.asked.clone();
    let (mut memories, mut person_questions, mut writer_questions) = (held.memories, held.person_questions, held.writer_questions);
    let may_read = |m: &SameWords| !m.flagged && writer.readable.is_none_or(|cats| cats.contains(&m.category));
    items
        .iter()
        .map(|item| {
            let key = content_key(&item.content);
            if let Some(m) = same_words.get(&key) {
                return if may_read(m) { Step::Duplicate } else { Step::Unseen { id: m.id.clone() } };
            }
            if let Some(slot) = &item.slot {
                let holders = slots.get(&slot.key).map(Vec::as_slice).unwrap_or_default();
                if holders.iter().any(|h| h.value.as_deref() == Some(slot.value.as_str())) {
                    return Step::Duplicate;
                }
                if let Some(newest) = holders.first() {
                    if writer.is_app && writer_questions >= limits.questions_per_app {
                        return Step::QuestionDropped;
                    }
                    if person_questions >= limits.questions_per_person || !asked.insert((newest.memory_id.clone(), key.clone())) {
                        return Step::Conflict;
                    }
                    person_questions += 1;
                    writer_questions += 1;
                    return Step::Ask { memory_id: newest.memory_id.clone(), key };
                }
            }
            if memories >= limits.memories {
                return Step::OverLimit;
            }
            memories += 1;
            let id = new_id();
            same_words.insert(key.clone(), SameWords { id: id.clone(), category: item.category, flagged: false });
            if let Some(slot) = &item.slot {
                slots.entry(slot.key.clone()).or_default().insert(0, SlotHolder { memory_id: id.clone(), value: Some(slot.value.clone()) });
            }
            Step::Insert { id, key }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::extract::Slot;

    const LIMITS: Limits = Limits { memories: 100, questions_per_person: 200, questions_per_app: 50 };
    const APP: Writer<'static> = Writer { is_app: true, readable: None };

    fn said(content: &str) -> Extracted {
        Extracted {
            content: content.into(),
            category: Category::Preference,
            importance: 5,
            slot: None,
            turn_id: None,
            said_at: None,
            message: None,
            source: None,
            happened: None,
            embedding: None, context: None, previous: None, turn_embedding: None,
        }
    }

    fn slotted(content: &str, key: &str, value: &str) -> Extracted {
        Extracted { slot: Some(Slot { key: key.into(), value: value.into() }), ..said(content) }
    }

    fn ids() -> impl FnMut() -> String {
        let mut n = 0;
        move || {
            n += 1;
            format!("m{n}")
        }
    }

    fn holding_name(value: &str) -> Held {
        let mut held = Held { memories: 1, ..Default::default() };
        held.slots.insert("name".into(), vec![SlotHolder { memory_id: "old".into(), value: Some(value.into()) }]);
        held
    }

    #[test]
    fn new_statements_are_inserted_and_repeats_within_one_extraction_are_duplicates() {
        let steps = plan(&[said("I like tea."), said("i like TEA"), said("I like coffee.")], &Held::default(), APP, LIMITS, ids());
        assert_eq!(
            steps,
            vec![
                Step::Insert { id: "m1".into(), key: "i like tea".into() },
                Step::Duplicate,
                Step::Insert { id: "m2".into(), key: "i like coffee".into() },
            ]
        );
    }

    #[test]
    fn the_same_words_the_writer_may_not_see_are_answered_as_new_and_not_stored() {
        let mut held = Held::default();
        held.same_words.insert("i like tea".into(), SameWords { id: "flagged".into(), category: Category::Preference, flagged: true });
        held.same_words.insert("i run".into(), SameWords { id: "health".into(), category: Category::Relationship, flagged: false });
        held.same_words.insert("i swim".into(), SameWords { id: "seen".into(), category: Category::Preference, flagged: false });
        let granted = [Category::Preference];
        let writer = Writer { is_app: true, readable: Some(&granted) };
        let steps = plan(&[said("I like tea."), said("I run."), said("I swim.")], &held, writer, LIMITS, ids());
        assert_eq!(steps, vec![Step::Unseen { id: "flagged".into() }, Step::Unseen { id: "health".into() }, Step::Duplicate]);
        // The person sees everything they hold, but not what they flagged.
        let person = Writer { is_app: false, readable: None };
        let steps = plan(&[said("I like tea."), said("I run.")], &held, person, LIMITS, ids());
        assert_eq!(steps, vec![Step::Unseen { id: "flagged".into() }, Step::Duplicate]);
    }

    #[test]
    fn a_new_value_in_a_held_slot_is_a_question_and_the_same_value_a_duplicate() {
        let held = holding_name("Ada");
        let steps = plan(&[slotted("My name is Ada.", "name", "ada"), slotted("Call me Bea.", "name", "bea")], &holding_name("ada"), APP, LIMITS, ids());
        assert_eq!(steps, vec![Step::Duplicate, Step::Ask { memory_id: "old".into(), key: "call me bea".into() }]);
        // Asked once per memory and wording: the second time it is a conflict with no new question.
        let steps = plan(&[slotted("Call me Bea.", "name", "bea"), slotted("call me bea!", "name", "bea")], &held, APP, LIMITS, ids());
        assert_eq!(steps, vec![Step::Ask { memory_id: "old".into(), key: "call me bea".into() }, Step::Conflict]);
        let mut asked_before = holding_name("ada");
        asked_before.asked.insert(("old".into(), "call me bea".into()));
        assert_eq!(plan(&[slotted("Call me Bea.", "name", "bea")], &asked_before, APP, LIMITS, ids()), vec![Step::Conflict]);
    }

    #[test]
    fn a_slot_filled_earlier_in_the_same_extraction_is_held_for_the_later_statements() {
        let steps = plan(&[slotted("I live in Lisbon.", "home", "lisbon"), slotted("I live in Porto.", "home", "porto")], &Held::default(), APP, LIMITS, ids());
        assert_eq!(
            steps,
            vec![Step::Insert { id: "m1".into(), key: "i live in lisbon".into() }, Step::Ask { memory_id: "m1".into(), key: "i live in porto".into() }]
        );
    }

    #[test]
    fn question_caps_drop_an_apps_conflicts_but_hide_the_persons_cap() {
        let mut held = holding_name("ada");
        held.writer_questions = LIMITS.questions_per_app;
        assert_eq!(plan(&[slotted("Call me Bea.", "name", "bea")], &held, APP, LIMITS, ids()), vec![Step::QuestionDropped]);
        // The person writing for themself has no per-app cap.
        let person = Writer { is_app: false, readable: None };
        assert_eq!(plan(&[slotted("Call me Bea.", "name", "bea")], &held, person, LIMITS, ids()), vec![Step::Ask { memory_id: "old".into(), key: "call me bea".into() }]);
        // At the person's cap the app is told a conflict was raised, and nothing is asked.
        let mut full = holding_name("ada");
        full.person_questions = LIMITS.questions_per_person;
        assert_eq!(plan(&[slotted("Call me Bea.", "name", "bea")], &full, APP, LIMITS, ids()), vec![Step::Conflict]);
        // Questions raised in this extraction count toward the caps.
        let mut near = Held { memories: 2, ..Default::default() };
        near.slots.insert("name".into(), vec![SlotHolder { memory_id: "n".into(), value: Some("ada".into()) }]);
        near.slots.insert("home".into(), vec![SlotHolder { memory_id: "h".into(), value: Some("lisbon".into()) }]);
        near.writer_questions = LIMITS.questions_per_app - 1;
        let steps = plan(&[slotted("Call me Bea.", "name", "bea"), slotted("I live in Porto.", "home", "porto")], &near, APP, LIMITS, ids());
        assert_eq!(steps, vec![Step::Ask { memory_id: "n".into(), key: "call me bea".into() }, Step::QuestionDropped]);
    }

    #[test]
    fn past_the_memory_limit_statements_are_skipped() {
        let held = Held { memories: LIMITS.memories - 1, ..Default::default() };
        let steps = plan(&[said("I like tea."), said("I like coffee."), said("I like tea.")], &held, APP, LIMITS, ids());
        assert_eq!(steps, vec![Step::Insert { id: "m1".into(), key: "i like tea".into() }, Step::OverLimit, Step::Duplicate]);
    }
}
