//! When something a person told happened: the relative expressions people use ("yesterday",
//! "last week", "five years ago", "next month", "this Friday", "last summer") and plain dates
//! ("on 3 May", "in 2019"), resolved against the time the message was said into a span of
//! calendar days, with the words that say that span in a memory that must still make sense
//! years later ("on 7 May 2023").
use time::{Date, Duration, Month, Weekday};

/// A span of calendar days, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub from: Date,
    pub to: Date,
}

impl Span {
    fn day(d: Date) -> Span {
        Span { from: d, to: d }
    }

    fn month(year: i32, month: Month) -> Option<Span> {
        let from = Date::from_calendar_date(year, month, 1).ok()?;
        let to = Date::from_calendar_date(year, month, month.length(year)).ok()?;
        Some(Span { from, to })
    }

    fn year(year: i32) -> Option<Span> {
        Some(Span { from: Date::from_ordinal_date(year, 1).ok()?, to: Date::from_calendar_date(year, Month::December, 31).ok()? })
    }

    /// Monday to Sunday of the week holding `d`.
    fn week_of(d: Date) -> Span {
        let from = d - Duration::days(i64::from(d.weekday().number_days_from_monday()));
        Span { from, to: from + Duration::days(6) }
    }

    /// True when the two spans share a day.
    pub fn overlaps(&self, other: &Span) -> bool {
        self.from <= other.to && other.from <= self.to
    }

    /// ISO dates, "2023-05-07" for both ends.
    pub fn iso(&self) -> (String, String) {
        (iso(self.from), iso(self.to))
    }

    /// Parses the two ISO ends stored for a memory.
    pub fn parse_iso(from: &str, to: &str) -> Option<Span> {
        Some(Span { from: parse_iso(from)?, to: parse_iso(to)? })
    }

    /// How a person would say the span: "7 May 2023", "May 2023", "2018", "1–7 May 2023".
    pub fn human(&self) -> String {
        let (f, t) = (self.from, self.to);
        if f == t {
            return format!("{} {} {}", f.day(), month_name(f.month()), f.year());
        }
        if f.day() == 1 && f.month() == Month::January && t.month() == Month::December && t.day() == 31 && f.year() == t.year() {
            return f.year().to_string();
        }
        if f.day() == 1 && f.month() == t.month() && f.year() == t.year() && t.day() == t.month().length(t.year()) {
            return format!("{} {}", month_name(f.month()), f.year());
        }
        if f.month() == t.month() && f.year() == t.year() {
            return format!("{}–{} {} {}", f.day(), t.day(), month_name(f.month()), f.year());
        }
        if f.year() == t.year() {
            return format!("{} {} – {} {} {}", f.day(), month_name(f.month()), t.day(), month_name(t.month()), f.year());
        }
        format!("{} – {}", Span::day(f).human(), Span::day(t).human())
    }
}

/// A date found in a sentence: where its words are, the span they mean, and the words that
/// replace them in a memory ("yesterday" → "on 7 May 2023").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub span: Span,
    pub says: String,
    /// "last week's trip": the date's words end in a possessive.
    pub possessive: bool,
    /// False for a plain date ("on 3 May 2021"), whose words can stay as they are.
    pub relative: bool,
}

/// What a question asks of time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Asked {
    /// What happened within a span it names ("in June 2023", "last summer", "at Easter").
    Within(Span),
    /// When something happened ("when did…", "how long ago…", "what date…").
    When,
}

/// Openings of questions that ask when.
const WHEN: &[&str] = &[
    "when ", "when's ", "since when", "what date", "which date", "what day", "which day", "what year", "which year",
    "what month", "which month", "what time of year", "how long ago", "on what date", "on which date", "on what day",
    "on which day", "in what year", "in which year", "in what month", "in which month",
];

/// What `question` asks of time, relative expressions resolved against `today`.
pub fn asked(question: &str, today: Date) -> Option<Asked> {
    if let Some(found) = find(question, today) {
        return Some(Asked::Within(found.span));
    }
    let lower = question.trim().to_lowercase().replace('’', "'");
    let opening = lower.trim_start_matches(|c: char| !c.is_alphanumeric());
    let asks_when = WHEN.iter().any(|w| opening.starts_with(w)) || lower.contains("how long ago") || lower.contains(" since when");
    asks_when.then_some(Asked::When)
}

/// Words by which a question asks how things stand now ("Where do I work now?", "Am I still
/// climbing?", "my current car"), longest first so "right now" is taken whole.
const PRESENT: &[&str] = &[
    "right now", "at the moment", "these days", "at present", "any more", "nowadays", "currently", "presently",
    "anymore", "current", "lately", "still", "now",
];

/// Where `question` asks of the present: the byte ranges of its present words, in order. They
/// say which of a person's memories answers (the latest of those about it), not what it is
/// about, and as keywords they match every passing "now" ("At 38k now.").
pub fn present_words(question: &str) -> Vec<std::ops::Range<usize>> {
    let lower = question.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    // No letter, digit or apostrophe at byte `i` (or nothing there).
    let boundary = |i: usize| bytes.get(i).is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'\''));
    let mut found: Vec<std::ops::Range<usize>> = Vec::new();
    for word in PRESENT {
        let mut from = 0;
        while let Some(at) = lower[from..].find(word) {
            let (start, end) = (from + at, from + at + word.len());
            from = end;
            let free = !found.iter().any(|r| start < r.end && r.start < end);
            if free && (start == 0 || boundary(start - 1)) && boundary(end) {
                found.push(start..end);
            }
        }
    }
    found.sort_by_key(|r| r.start);
    found
}

/// The calendar day (UTC) of a time in ms since the epoch.
pub fn date_of(ms: i64) -> Date {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).map(|t| t.date()).unwrap_or(Date::MIN)
}

pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), d.month() as u8, d.day())
}

pub fn parse_iso(s: &str) -> Option<Date> {
    let mut parts = s.splitn(3, '-');
    let (y, m, d) = (parts.next()?.parse().ok()?, parts.next()?.parse::<u8>().ok()?, parts.next()?.parse().ok()?);
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

fn month_name(m: Month) -> &'static str {
    MONTHS[m as usize - 1].0
}

const MONTHS: [(&str, &str); 12] = [
    ("January", "jan"),
    ("February", "feb"),
    ("March", "mar"),
    ("April", "apr"),
    ("May", "may"),
    ("June", "jun"),
    ("July", "jul"),
    ("August", "aug"),
    ("September", "sep"),
    ("October", "oct"),
    ("November", "nov"),
    ("December", "dec"),
];

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("monday", Weekday::Monday),
    ("tuesday", Weekday::Tuesday),
    ("wednesday", Weekday::Wednesday),
    ("thursday", Weekday::Thursday),
    ("friday", Weekday::Friday),
    ("saturday", Weekday::Saturday),
    ("sunday", Weekday::Sunday),
];

const NUMBERS: [(&str, i64); 16] = [
    ("a", 1),
    ("an", 1),
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("eleven", 11),
    ("twelve", 12),
    ("few", 3),
    ("couple", 2),
];

/// A word of the sentence, lower-cased, with its byte range.
struct Word {
    text: String,
    start: usize,
    end: usize,
    /// "week's": the word was followed by a possessive 's (not part of `text`).
    possessive: bool,
}

fn words(s: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
        let part = c.is_alphanumeric() || c == '\'' || c == '’';
        match (part, start) {
            (true, None) => start = Some(i),
            (false, Some(b)) => {
                let text = s[b..i].to_lowercase().replace('’', "'");
                let possessive = text.ends_with("'s");
                let text = text.strip_suffix("'s").map(str::to_string).unwrap_or(text);
                out.push(Word { text, start: b, end: i, possessive });
                start = None;
            }
            _ => {}
        }
    }
    out
}

fn number(w: &str) -> Option<i64> {
    if let Ok(n) = w.parse::<i64>() {
        return (1..=200).contains(&n).then_some(n);
    }
    NUMBERS.iter().find(|(name, _)| *name == w).map(|(_, n)| *n)
}

fn month(w: &str) -> Option<Month> {
    let w = w.trim_end_matches('.');
    if w.len() < 3 {
        return None;
    }
    MONTHS.iter().position(|(full, short)| full.eq_ignore_ascii_case(w) || (*short == w && w != "may") || (w == "sept" && *short == "sep"))
        .and_then(|i| Month::try_from(i as u8 + 1).ok())
}

fn ordinal_day(w: &str) -> Option<u8> {
    let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &w[digits.len()..];
    if !matches!(suffix, "" | "st" | "nd" | "rd" | "th") {
        return None;
    }
    digits.parse::<u8>().ok().filter(|d| (1..=31).contains(d))
}

/// Seasons of the northern hemisphere: (name, first month, months long).
const SEASONS: [(&str, u8); 5] = [("spring", 3), ("summer", 6), ("fall", 9), ("autumn", 9), ("winter", 12)];

fn season(year: i32, first: u8) -> Option<Span> {
    let from = Date::from_calendar_date(year, Month::try_from(first).ok()?, 1).ok()?;
    let end_month = Month::try_from(first).ok()?.next().next();
    let end_year = if first == 12 { year + 1 } else { year };
    let to = Date::from_calendar_date(end_year, end_month, end_month.length(end_year)).ok()?;
    Some(Span { from, to })
}

fn add_months(d: Date, months: i64) -> Option<(i32, Month)> {
    let total = i64::from(d.year()) * 12 + i64::from(d.month() as u8 - 1) + months;
    let year = i32::try_from(total.div_euclid(12)).ok()?;
    Some((year, Month::try_from((total.rem_euclid(12) + 1) as u8).ok()?))
}

/// The first date expression in `sentence`, resolved against `anchor` (the day it was said).
pub fn find(sentence: &str, anchor: Date) -> Option<Found> {
    let ws = words(sentence);
    for i in 0..ws.len() {
        if let Some(found) = at(sentence, &ws, i, anchor) {
            return Some(found);
        }
    }
    None
}

/// Tries every expression that can start at word `i`.
fn at(sentence: &str, ws: &[Word], i: usize, anchor: Date) -> Option<Found> {
    let w = |k: usize| ws.get(i + k).map(|w| w.text.as_str()).unwrap_or("");
    let found = |len: usize, span: Span, says: String| {
        let last = &ws[i + len - 1];
        Some(Found { start: ws[i].start, end: last.end, span, says, possessive: last.possessive, relative: true })
    };
    let on = |d: Date| format!("on {}", Span::day(d).human());
    let day = |d: Date| Span::day(d);
    match w(0) {
        "today" | "tonight" => return found(1, day(anchor), on(anchor)),
        "yesterday" => return found(1, day(anchor - Duration::days(1)), on(anchor - Duration::days(1))),
        "tomorrow" => return found(1, day(anchor + Duration::days(1)), on(anchor + Duration::days(1))),
        "this" if matches!(w(1), "morning" | "afternoon" | "evening") => return found(2, day(anchor), on(anchor)),
        "the" if w(1) == "day" && w(2) == "before" && w(3) == "yesterday" => {
            let d = anchor - Duration::days(2);
            return found(4, day(d), on(d));
        }
        "the" if w(1) == "day" && w(2) == "after" && w(3) == "tomorrow" => {
            let d = anchor + Duration::days(2);
            return found(4, day(d), on(d));
        }
        "last" | "this" | "next" | "past" | "coming" => {
            let step: i64 = match w(0) {
                "last" | "past" => -1,
                "this" => 0,
                _ => 1,
            };
            match w(1) {
                "week" => {
                    let span = Span::week_of(anchor + Duration::weeks(step));
                    return found(2, span, format!("in the week of {}", Span::day(span.from).human()));
                }
                "weekend" => {
                    // The Saturday and Sunday before, of, or after the week said in.
                    let saturday = Span::week_of(anchor).from + Duration::days(5) + Duration::weeks(step);
                    let span = Span { from: saturday, to: saturday + Duration::days(1) };
                    return found(2, span, format!("on the weekend of {}", span.human()));
                }
                "month" => {
                    let (y, m) = add_months(anchor, step)?;
                    let span = Span::month(y, m)?;
                    return found(2, span, format!("in {}", span.human()));
                }
                "year" => {
                    let span = Span::year(anchor.year() + step as i32)?;
                    return found(2, span, format!("in {}", anchor.year() + step as i32));
                }
                "night" if step == -1 => {
                    let d = anchor - Duration::days(1);
                    return found(2, day(d), on(d));
                }
                other => {
                    if let Some((_, wd)) = WEEKDAYS.iter().find(|(n, _)| *n == other) {
                        let d = match step {
                            -1 => anchor.prev_occurrence(*wd),
                            1 => anchor.next_occurrence(*wd),
                            _ => Span::week_of(anchor).from + Duration::days(i64::from(wd.number_days_from_monday())),
                        };
                        return found(2, day(d), format!("on {} {}", weekday_name(*wd), Span::day(d).human()));
                    }
                    if let Some((name, first)) = SEASONS.iter().find(|(n, _)| *n == other) {
                        let this_year = season(anchor.year(), *first)?;
                        // Winter that began last December is this winter in January.
                        let current = if *first == 12 && anchor.month() as u8 <= 2 { season(anchor.year() - 1, 12)? } else { this_year };
                        let span = match step {
                            0 => current,
                            -1 if current.to < anchor => current,
                            -1 => season(current.from.year() - 1, *first)?,
                            _ if current.from > anchor => current,
                            _ => season(current.from.year() + 1, *first)?,
                        };
                        let name = if *name == "autumn" { "autumn" } else { name };
                        return found(2, span, format!("in {} {}", name, span.from.year()));
                    }
                    if let Some(m) = month(other) {
                        let year = match step {
                            -1 if (m as u8) < anchor.month() as u8 => anchor.year(),
                            -1 => anchor.year() - 1,
                            1 if (m as u8) > anchor.month() as u8 => anchor.year(),
                            1 => anchor.year() + 1,
                            _ => anchor.year(),
                        };
                        let span = Span::month(year, m)?;
                        return found(2, span, format!("in {}", span.human()));
                    }
                }
            }
        }
        _ => {}
    }
    // "five years ago", "3 days ago", "a few months ago", "a couple of weeks ago": a count,
    // perhaps "of", then the unit and "ago".
    let (n, mut unit_at) = match (w(0), w(1)) {
        ("a", "few" | "couple") => (number(w(1)), 2),
        (first, _) => (number(first), 1),
    };
    let Some(n) = n else { return plain_date(sentence, ws, i, anchor) };
    if w(unit_at) == "of" {
        unit_at += 1;
    }
    if w(unit_at + 1) == "ago" {
        let unit = w(unit_at).trim_end_matches('s');
        let len = unit_at + 2;
        match unit {
            "day" => {
                let d = anchor - Duration::days(n);
                return found(len, day(d), on(d));
            }
            "week" => {
                let span = Span::week_of(anchor - Duration::weeks(n));
                return found(len, span, format!("in the week of {}", Span::day(span.from).human()));
            }
            "month" => {
                let (y, m) = add_months(anchor, -n)?;
                let span = Span::month(y, m)?;
                return found(len, span, format!("in {}", span.human()));
            }
            "year" => {
                let y = anchor.year() - n as i32;
                return found(len, Span::year(y)?, format!("in {y}"));
            }
            _ => {}
        }
    }
    plain_date(sentence, ws, i, anchor)
}

fn weekday_name(wd: Weekday) -> &'static str {
    match wd {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

/// "3 May 2021", "May 3rd", "May 3, 2021", "in March 2020", "in 2019". A day and month without
/// a year is the latest such day on or before the anchor (people tell what has happened).
fn plain_date(_sentence: &str, ws: &[Word], i: usize, anchor: Date) -> Option<Found> {
    let w = |k: usize| ws.get(i + k).map(|w| w.text.as_str()).unwrap_or("");
    let year_of = |s: &str| s.parse::<i32>().ok().filter(|y| (1900..=2100).contains(y));
    let make = |len: usize, span: Span| {
        Some(Found { start: ws[i].start, end: ws[i + len - 1].end, says: String::new(), span, possessive: false, relative: false })
    };
    let latest = |m: Month, d: u8| {
        let this = Date::from_calendar_date(anchor.year(), m, d).ok()?;
        if this <= anchor { Some(this) } else { Date::from_calendar_date(anchor.year() - 1, m, d).ok() }
    };
    // day month [year]
    if let (Some(d), Some(m)) = (ordinal_day(w(0)), month(w(1)).or_else(|| (w(1) == "of").then(|| month(w(2))).flatten())) {
        let m_at = if w(1) == "of" { 2 } else { 1 };
        if let Some(y) = year_of(w(m_at + 1)) {
            return make(m_at + 2, Span::day(Date::from_calendar_date(y, m, d).ok()?));
        }
        return make(m_at + 1, Span::day(latest(m, d)?));
    }
    // month day [year] | month year
    if let Some(m) = month(w(0)) {
        if w(0) == "may" && !ws.get(i + 1).is_some_and(|x| ordinal_day(&x.text).is_some() || year_of(&x.text).is_some()) {
            return None; // "may" is mostly the verb.
        }
        if let Some(d) = ordinal_day(w(1)) {
            if let Some(y) = year_of(w(2)) {
                return make(3, Span::day(Date::from_calendar_date(y, m, d).ok()?));
            }
            return make(2, Span::day(latest(m, d)?));
        }
        if let Some(y) = year_of(w(1)) {
            return make(2, Span::month(y, m)?);
        }
    }
    // in/since/during 2019
    if matches!(w(0), "in" | "since" | "during" | "of") {
        if let Some(y) = year_of(w(1)) {
            let found = make(2, Span::year(y)?)?;
            return Some(Found { start: ws[i + 1].start, ..found });
        }
    }
    None
}

/// Rewrites a sentence so that its relative date says the day: "I went to a support group
/// yesterday." said on 8 May 2023 → ("I went to a support group on 7 May 2023.", 7 May 2023).
/// A plain date stays as written. None when the sentence names no date.
pub fn resolve(sentence: &str, anchor: Date) -> Option<(String, Span)> {
    let found = find(sentence, anchor)?;
    if !found.relative {
        return Some((sentence.to_string(), found.span));
    }
    let before = &sentence[..found.start];
    let after = &sentence[found.end..];
    // Words that a date replaces with its own preposition: "on last Friday" reads "on Friday…".
    let before_trim = before.trim_end();
    let lower = before_trim.to_lowercase();
    let before = ["on", "in", "during", "from"].iter().find(|p| lower.ends_with(&format!(" {p}")) || lower == **p)
        .map(|p| &before_trim[..before_trim.len() - p.len()])
        .unwrap_or(before);
    let mut says = found.says.clone();
    // After a preposition of the sentence's own ("as of", "since", "until"), the date drops its
    // "in" or "on": "pets are allowed as of May 2023", not "as of in May 2023".
    let last_word = before.trim_end().rsplit(' ').next().unwrap_or_default().to_lowercase();
    if ["of", "since", "until", "till", "by", "before", "after"].contains(&last_word.as_str()) {
        if let Some(rest) = says.strip_prefix("in ").or_else(|| says.strip_prefix("on ")) {
            says = rest.to_string();
        }
    }
    if found.possessive {
        // "last week's trip" → "the trip … (in the week of …)" is clumsy; keep the words and add the date.
        return Some((format!("{} ({})", sentence.trim_end_matches(['.', '!']), found.span.human()) + ".", found.span));
    }
    if before.trim().is_empty() {
        let mut c = says.chars();
        says = c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default();
    }
    let sep = if before.is_empty() || before.ends_with(' ') { "" } else { " " };
    Some((format!("{before}{sep}{says}{after}"), found.span))
}

#[cfg(test)]
mod asked_tests {
    use super::*;

    #[test]
    fn questions_ask_for_a_span_or_for_when() {
        let today = Date::from_calendar_date(2024, Month::March, 10).unwrap();
        let span = |q: &str| match asked(q, today) {
            Some(Asked::Within(s)) => Some(s.iso()),
            _ => None,
        };
        assert_eq!(span("What did I do in June 2023?"), Some(("2023-06-01".into(), "2023-06-30".into())));
        assert_eq!(span("Where did we go last summer?"), Some(("2023-06-01".into(), "2023-08-31".into())));
        assert_eq!(asked("When did I go to the support group?", today), Some(Asked::When));
        assert_eq!(asked("How long ago did I start surfing?", today), Some(Asked::When));
        assert_eq!(asked("On which day did the truck sell 600 tacos?", today), Some(Asked::When));
        assert_eq!(asked("What kind of dog do I have?", today), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u8, day: u8) -> Date {
        Date::from_calendar_date(y, Month::try_from(m).unwrap(), day).unwrap()
    }

    /// Monday 8 May 2023.
    fn anchor() -> Date {
        d(2023, 5, 8)
    }

    fn says(s: &str) -> (String, String, String) {
        let (text, span) = resolve(s, anchor()).unwrap_or_else(|| panic!("no date in {s:?}"));
        let (f, t) = span.iso();
        (text, f, t)
    }

    fn t(a: &str, b: &str, c: &str) -> (String, String, String) {
        (a.to_string(), b.to_string(), c.to_string())
    }

    #[test]
    fn relative_days() {
        assert_eq!(says("I went to a support group yesterday."), t("I went to a support group on 7 May 2023.", "2023-05-07", "2023-05-07"));
        assert_eq!(says("Yesterday I ran 10k."), t("On 7 May 2023 I ran 10k.", "2023-05-07", "2023-05-07"));
        assert_eq!(says("I have a dentist appointment tomorrow."), t("I have a dentist appointment on 9 May 2023.", "2023-05-09", "2023-05-09"));
        assert_eq!(says("I baked bread today"), t("I baked bread on 8 May 2023", "2023-05-08", "2023-05-08"));
        assert_eq!(says("I saw it 3 days ago."), t("I saw it on 5 May 2023.", "2023-05-05", "2023-05-05"));
        assert_eq!(says("We met the day before yesterday."), t("We met on 6 May 2023.", "2023-05-06", "2023-05-06"));
        assert_eq!(says("I went out last night."), t("I went out on 7 May 2023.", "2023-05-07", "2023-05-07"));
    }

    #[test]
    fn weekdays_weeks_and_weekends() {
        assert_eq!(says("I painted a sunset last Friday."), t("I painted a sunset on Friday 5 May 2023.", "2023-05-05", "2023-05-05"));
        assert_eq!(says("My recital is this Friday."), t("My recital is on Friday 12 May 2023.", "2023-05-12", "2023-05-12"));
        assert_eq!(says("I fly out next Monday."), t("I fly out on Monday 15 May 2023.", "2023-05-15", "2023-05-15"));
        assert_eq!(says("I went camping last week."), t("I went camping in the week of 1 May 2023.", "2023-05-01", "2023-05-07"));
        assert_eq!(says("We have been official since last week."), t("We have been official since the week of 1 May 2023.", "2023-05-01", "2023-05-07"));
        assert_eq!(says("We are official as of last weekend."), t("We are official as of the weekend of 6–7 May 2023.", "2023-05-06", "2023-05-07"));
        assert_eq!(says("We went hiking last weekend."), t("We went hiking on the weekend of 6–7 May 2023.", "2023-05-06", "2023-05-07"));
        assert_eq!(says("I saw her two weeks ago."), t("I saw her in the week of 24 April 2023.", "2023-04-24", "2023-04-30"));
    }

    #[test]
    fn months_years_and_seasons() {
        assert_eq!(says("I started surfing five years ago."), t("I started surfing in 2018.", "2018-01-01", "2018-12-31"));
        assert_eq!(says("I'm moving next month."), t("I'm moving in June 2023.", "2023-06-01", "2023-06-30"));
        assert_eq!(says("I quit my job last month."), t("I quit my job in April 2023.", "2023-04-01", "2023-04-30"));
        assert_eq!(says("I adopted a dog a few months ago."), t("I adopted a dog in February 2023.", "2023-02-01", "2023-02-28"));
        assert_eq!(says("I graduated last year."), t("I graduated in 2022.", "2022-01-01", "2022-12-31"));
        assert_eq!(says("We went to Italy last summer."), t("We went to Italy in summer 2022.", "2022-06-01", "2022-08-31"));
        assert_eq!(says("I want to visit Japan next summer."), t("I want to visit Japan in summer 2023.", "2023-06-01", "2023-08-31"));
        assert_eq!(says("It snowed a lot last winter."), t("It snowed a lot in winter 2022.", "2022-12-01", "2023-02-28"));
        assert_eq!(says("I ran a marathon last October."), t("I ran a marathon in October 2022.", "2022-10-01", "2022-10-31"));
    }

    #[test]
    fn plain_dates_stay_as_written() {
        assert_eq!(says("I got married on 3 June 2015."), t("I got married on 3 June 2015.", "2015-06-03", "2015-06-03"));
        assert_eq!(says("My exam was on May 2nd."), t("My exam was on May 2nd.", "2023-05-02", "2023-05-02"));
        // A day not yet reached this year is last year's.
        assert_eq!(says("I moved here on December 1st."), t("I moved here on December 1st.", "2022-12-01", "2022-12-01"));
        assert_eq!(says("I moved to Berlin in 2019."), t("I moved to Berlin in 2019.", "2019-01-01", "2019-12-31"));
        assert_eq!(says("I started in March 2020."), t("I started in March 2020.", "2020-03-01", "2020-03-31"));
    }

    #[test]
    fn words_that_are_not_dates() {
        for s in ["I may go later.", "I like this week's colours", "I have five cats.", "I met a friend.", "Today's lesson was hard"] {
            let r = resolve(s, anchor());
            if s.starts_with("Today") || s.contains("week's") {
                // A possessive date keeps its words and names the day after them.
                assert!(r.is_some(), "{s}");
                assert!(r.unwrap().0.contains(s.trim_end_matches('.')), "{s}");
            } else {
                assert_eq!(r, None, "{s}");
            }
        }
    }

    #[test]
    fn spans_overlap_and_read_back() {
        let a = Span { from: d(2023, 5, 1), to: d(2023, 5, 7) };
        assert!(a.overlaps(&Span::day(d(2023, 5, 7))));
        assert!(!a.overlaps(&Span::day(d(2023, 5, 8))));
        let (f, t) = a.iso();
        assert_eq!(Span::parse_iso(&f, &t), Some(a));
        assert_eq!(date_of(1_683_547_200_000), d(2023, 5, 8));
    }

    #[test]
    fn present_words_are_whole_words_longest_first() {
        let q = "Where do I work now?";
        assert_eq!(present_words(q).iter().map(|r| &q[r.clone()]).collect::<Vec<_>>(), ["now"]);
        let q = "Right now, am I still climbing? What's my current car these days";
        assert_eq!(
            present_words(q).iter().map(|r| &q[r.clone()]).collect::<Vec<_>>(),
            ["Right now", "still", "current", "these days"]
        );
        // Inside other words, nothing: "know", "snow", "nowhere", "currently's" stem aside.
        assert!(present_words("Do I know anyone who skis in the snow? nowhere to go").is_empty());
        assert!(present_words("When did I move to Denver?").is_empty());
    }
}
