//! Lexicon layer (SPEC 6): special categories, social data, criminal data and confidentiality
//! markers matched with one Aho-Corasick automaton over the folded text plus a few regexes;
//! ICD-10 codes with diagnosis context (SPEC 4.14); and the person-reference rule that decides
//! whether a keyword hit relates to an individual (SPEC 6.2).
//!
//! Must not: report a keyword hit without person reference (except PR-free markers), keep
//! text, or log.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, Input, MatchKind};
use regex::Regex;

use super::hits::{digit_windows, has_any, needles, rank, upper_at, Hit};
use super::name_words::is_capitalised_given_name;
use super::sensitive_terms::{EXCLUDE, PATTERNS, TERMS};
use super::text::Text;
use super::types::Category;

/// A keyword candidate before the person-reference decision.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    pub hit: Hit,
    /// Needs no person reference (classification markings).
    pub pr_free: bool,
}

struct Entry {
    cat: Category,
    lead: bool,
    trail: bool,
    weak: bool,
    pr_free: bool,
}

struct Lexicon {
    ac: AhoCorasick,
    entries: Vec<Entry>,
    /// (category, regex, needs no person reference, runs on the folded view)
    patterns: Vec<(Category, Regex, bool, bool)>,
}

#[allow(clippy::expect_used)] // constant lexicon, covered by tests
static LEXICON: LazyLock<Lexicon> = LazyLock::new(|| {
    let mut words = Vec::new();
    let mut entries = Vec::new();
    for (cat, terms) in TERMS {
        for raw in *terms {
            let weak = raw.starts_with('~');
            let pr_free = raw.starts_with('!');
            let s = raw.trim_start_matches(['~', '!']);
            let lead = s.starts_with('*');
            let trail = s.ends_with('*');
            for variant in expand_inner(s.trim_matches('*')) {
                words.push(variant);
                entries.push(Entry {
                    cat: *cat,
                    lead,
                    trail,
                    weak,
                    pr_free,
                });
            }
        }
    }
    let ac = AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .kind(Some(AhoCorasickKind::DFA))
        .build(&words)
        .expect("lexicon automaton");
    // `(?i)` patterns run case-sensitively on the folded view: same matches, literal prefilters.
    let patterns = PATTERNS
        .iter()
        .map(|(c, p, pr)| match p.strip_prefix("(?i)") {
            Some(rest) => (*c, Regex::new(&rest.to_lowercase()).expect(p), !*pr, true),
            None => (*c, Regex::new(p).expect(p), !*pr, false),
        })
        .collect();
    Lexicon {
        ac,
        entries,
        patterns,
    }
});

/// Expands a `*` inside a multi-word term (`sexuelle* orientierung`) into the adjective
/// endings `-e`, `-er`, `-en`, `-es`, `-em`.
fn expand_inner(term: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for (i, w) in term.split(' ').enumerate() {
        let forms: Vec<String> = match w.strip_suffix('*') {
            Some(base) => ["", "r", "n", "s", "m"]
                .iter()
                .map(|e| format!("{base}{e}"))
                .collect(),
            None => vec![w.to_string()],
        };
        out = out
            .iter()
            .flat_map(|prefix| {
                forms.iter().map(move |f| {
                    if i == 0 {
                        f.clone()
                    } else {
                        format!("{prefix} {f}")
                    }
                })
            })
            .collect();
    }
    out
}

macro_rules! re {
    ($name:ident, $pat:expr) => {
        #[allow(clippy::expect_used)] // constant pattern, covered by tests
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect($pat));
    };
}

re!(
    ICD,
    r"[A-Z][0-9]{2}(?:\.[0-9]{1,2}|\.-)?[†*!]?(?:[ ]?[GVZA](?-u:\b))?(?:[ ]?[RLB](?-u:\b))?"
);
re!(ICD_SUFFIX, r"[ ]?[GVZA](?:[ ]?[RLB])?$");
re!(
    SGB_TAIL,
    r"^(?:[ ]*\((?:§+[ ]*[0-9]+[a-z]?[ ]*)?SGB[ ]?[IVX]+\)|[ ]+(?:nach|gem\.|gemäß)[ ]+(?:dem[ ]+|den[ ]+)?(?:§+[ ]*[0-9]+[a-z]?(?:[ ]+Abs\.[ ]*[0-9]+)?(?:[ ]+S\.[ ]*[0-9]+)?[ ]+)?SGB[ ]?[IVX]+)"
);
re!(
    ROLE,
    r"(?:^|[^\p{L}])(?:der|die|das|dem|den|des|ein|eine|einem|einer|unser|unsere|unserem|unserer|ihr|ihre|ihrem|ihres|sein|seine|seinem|seines|mein|meine|meinem|dein|deine)[ ]+(?:antragsteller(?:in)?|leistungsberechtigte[rn]?|klient(?:in)?|kind(?:es)?|sohn(?:es)?|tochter|mutter|vater|beschäftigte[rn]?|bewerber(?:in)?|mitarbeiter(?:in)?|patient(?:in)?|betroffene[rn]?|bürger(?:in)?|mieter(?:in)?|widerspruchsführer(?:in)?|kläger(?:in)?|wahlhelfer(?:in)?|schüler(?:in)?|jugendliche[rn]?|kunde|kundin|versicherte[rn]?|ehemann|ehefrau|partner(?:in)?|bruder|schwester|großmutter|großvater|enkel(?:in)?|nachbar(?:in)?|kollege|kollegin|pflegekind|mündel|beschuldigte[rn]?|angeklagte[rn]?|verstorbene[rn]?|bewohner(?:in)?|teilnehmer(?:in)?|senior(?:in)?|säugling|baby|minderjährige[rn]?)(?:[^\p{L}]|$)"
);
re!(
    INITIALS,
    r"(?:^|[^\p{L}])\p{Lu}\.[ ]?\p{Lu}\.(?:[^\p{L}]|$)"
);
re!(
    FIRST_PERSON,
    r"(?:^|[^\p{L}])(?:ich[ ]+(?:bin|habe|hatte|war|wurde|werde|beziehe|bekomme|erhalte|leide|lebe|wohne|muss|brauche|gehöre|bin seit)|mein(?:e|em|en|er)?[ ]+(?:sohn|tochter|kind|kinder|mann|frau|ehemann|ehefrau|mutter|vater|partner|partnerin|freund|freundin|bruder|schwester|name|diagnose|erkrankung|krankheit|religion|einkommen|antrag|bescheid|arzt|ärztin))(?:[^\p{L}]|$)"
);

/// Sentence cues that make a span aggregate or generic (SPEC 6.2 SUPPRESS), folded.
#[rustfmt::skip]
const AGGREGATE: &[&str] = &[
    "anzahl",
    "insgesamt",
    "personen",
    "fälle",
    "prozent",
    "%",
    "quote",
    "statistik",
    "bericht",
    "durchschnittlich",
    "allgemein",
    "textbaustein",
    "muster",
    "ohne namen",
    "keine einzelfälle",
    "[name]",
    "platzhalter",
    "stellenausschreibung",
    "wir suchen",
    "flyer",
    "broschüre",
    "infoblatt",
    "informationsblatt",
    "faq",
    "schulung",
    "in einfacher sprache",
    "vorlage",
    "beispiel",
];
needles!(AGGREGATE_AC, AGGREGATE);
/// Diagnosis context for ICD-10 codes (SPEC 4.14), folded.
#[rustfmt::skip]
const ICD_CONTEXT: &[&str] = &[
    "diagnose",
    "dg.",
    "icd",
    "au-",
    " au ",
    "befund",
    "attest",
    "gutachten",
    "leidet",
    "erkrankt",
    "festgestellt",
    "diagnostiziert",
    "arzt",
    "ärztlich",
    "krank",
    "behandlung",
    "therapie",
];
needles!(ICD_CONTEXT_AC, ICD_CONTEXT);
#[rustfmt::skip]
const ICD_NEGATIVE: &[&str] = &[
    "raum",
    "zimmer",
    "linie",
    "bus",
    "autobahn",
    "bundesstraße",
    "kraftstoff",
    "format",
    "papier",
    "din",
    "tarif",
    "gruppe",
    "stufe",
    "gleis",
    "bahn",
    "straße",
    "b-",
    "a-",
    "typ",
    "modell",
    "version",
];
needles!(ICD_NEGATIVE_AC, ICD_NEGATIVE);

fn detector_name(cat: Category) -> &'static str {
    match cat {
        Category::Health => "lexicon.health",
        Category::Religion => "lexicon.religion",
        Category::EthnicOrigin => "lexicon.ethnic_origin",
        Category::PoliticalOpinion => "lexicon.political_opinion",
        Category::UnionMembership => "lexicon.union_membership",
        Category::SexLifeOrientation => "lexicon.sex_life_orientation",
        Category::Biometric => "lexicon.biometric",
        Category::Genetic => "lexicon.genetic",
        Category::SocialData => "lexicon.social_data",
        Category::CriminalOffence => "lexicon.criminal_offence",
        Category::Confidential => "lexicon.confidential",
        _ => "lexicon.other",
    }
}

fn is_letter(c: Option<char>) -> bool {
    c.is_some_and(char::is_alphabetic)
}

fn excluded(word: &str) -> bool {
    EXCLUDE.iter().any(|x| match x.strip_suffix('*') {
        Some(p) => word.starts_with(p),
        None => word == *x,
    })
}

/// Keyword and ICD candidates of `t`, before the person-reference decision.
pub(crate) fn detect(t: &Text<'_>) -> Vec<Candidate> {
    let lx = &*LEXICON;
    let f = &t.fold;
    let mut raw: Vec<(Candidate, bool)> = Vec::new(); // (candidate, weak)
                                                      // Leftmost-longest search; a match rejected at a word boundary is retried one character
                                                      // later, so a term inside it is not lost.
    let mut pos = 0;
    while pos < f.len() {
        let Some(m) = lx.ac.find(Input::new(f.as_str()).span(pos..f.len())) else {
            break;
        };
        pos = m.start() + t.next_char(m.start()).map_or(1, char::len_utf8);
        let e = &lx.entries[m.pattern().as_usize()];
        let (mut s, mut end) = (m.start(), m.end());
        if !e.lead && is_letter(t.prev_char(s)) {
            continue;
        }
        if !e.trail && is_letter(t.next_char(end)) {
            continue;
        }
        pos = m.end();
        if e.lead {
            while is_letter(t.prev_char(s)) {
                s -= t.prev_char(s).map_or(1, char::len_utf8);
            }
        }
        if e.trail {
            loop {
                match t.next_char(end) {
                    Some(c) if c.is_alphabetic() => end += c.len_utf8(),
                    Some('-') if is_letter(t.next_char(end + 1)) => end += 1,
                    _ => break,
                }
            }
        }
        if (e.lead || e.trail) && excluded(t.fold_of(s, end)) {
            continue;
        }
        let hit = Hit::new(e.cat, s, end, detector_name(e.cat), rank::TERM);
        raw.push((
            Candidate {
                hit,
                pr_free: e.pr_free,
            },
            e.weak,
        ));
        pos = pos.max(end);
    }
    for (cat, re, pr_free, on_fold) in &lx.patterns {
        let hay = if *on_fold { t.fold.as_str() } else { t.s() };
        for m in re.find_iter(hay) {
            if t.prev_char(m.start()).is_some_and(char::is_alphanumeric) {
                continue;
            }
            let hit = Hit::new(*cat, m.start(), m.end(), detector_name(*cat), rank::TERM);
            raw.push((
                Candidate {
                    hit,
                    pr_free: *pr_free,
                },
                false,
            ));
        }
    }
    markings(t, &mut raw);
    let icd = icd_codes(t, &raw);
    raw.extend(icd.into_iter().map(|c| (c, false)));
    finish(t, raw)
}

/// Classification markings at the start of a line: `Vertraulich:`, `STRENG VERTRAULICH`,
/// `Geheim!` (a line that is only the marking counts too).
fn markings(t: &Text<'_>, raw: &mut Vec<(Candidate, bool)>) {
    let s = t.s();
    let mut line_start = 0;
    for line in s.split('\n') {
        let body = line.trim_start_matches([' ', '\t', '>', '*', '#', '_', '-']);
        let off = line_start + (line.len() - body.len());
        line_start += line.len() + 1;
        for w in [
            "Streng vertraulich",
            "STRENG VERTRAULICH",
            "Streng Vertraulich",
            "Vertraulich",
            "VERTRAULICH",
            "Geheim",
            "GEHEIM",
        ] {
            if let Some(rest) = body.strip_prefix(w) {
                let rest = rest.trim_start_matches([' ', '\t']);
                if rest.is_empty() || rest.starts_with([':', '!', '-']) {
                    let hit = Hit::new(
                        Category::Confidential,
                        off,
                        off + w.len(),
                        "lexicon.confidential",
                        rank::TERM,
                    );
                    raw.push((Candidate { hit, pr_free: true }, false));
                }
                break;
            }
        }
    }
}

fn icd_codes(t: &Text<'_>, raw: &[(Candidate, bool)]) -> Vec<Candidate> {
    let s = t.s();
    let mut out = Vec::new();
    let windows = digit_windows(t, 1, 14, |d| d > 0 && upper_at(s, d - 1));
    let found = windows.iter().flat_map(|&(wa, wb)| {
        ICD.find_iter(&s[wa..wb])
            .map(move |m| (wa + m.start(), wa + m.end()))
    });
    for (a, b) in found {
        if t.prev_char(a)
            .is_some_and(|c| c.is_alphanumeric() || c == '.' || c == '-')
        {
            continue;
        }
        match t.next_char(b) {
            Some(c) if c.is_alphanumeric() => continue,
            Some('.') if t.next_char(b + 1).is_some_and(|c| !c.is_whitespace()) => continue,
            _ => {}
        }
        let (ss, se) = t.sentences_of(a, b);
        let sentence = t.fold_of(ss, se);
        let pre = super::ids_numeric::before(t, a, 16);
        if has_any(pre, &ICD_NEGATIVE_AC) {
            continue;
        }
        let suffix = ICD_SUFFIX.is_match(&s[a..b]);
        let health_near = raw
            .iter()
            .any(|(c, _)| c.hit.cat == Category::Health && c.hit.overlaps(ss, se));
        if suffix || health_near || has_any(sentence, &ICD_CONTEXT_AC) {
            out.push(Candidate {
                hit: Hit::new(Category::Icd10Code, a, b, "icd10.code", rank::TERM),
                pr_free: false,
            });
        }
    }
    out
}

fn finish(t: &Text<'_>, raw: Vec<(Candidate, bool)>) -> Vec<Candidate> {
    let s = t.s();
    // Social terms absorb an adjacent legal citation (`Hilfe zur Pflege (SGB XII)`).
    let mut cands: Vec<(Candidate, bool)> = raw
        .into_iter()
        .map(|(mut c, w)| {
            if c.hit.cat == Category::SocialData {
                if let Some(m) = SGB_TAIL.find(&s[c.hit.end..]) {
                    c.hit.end += m.end();
                }
            }
            (c, w)
        })
        .collect();
    // Weak terms only when nothing stronger of their category is in the sentence.
    let strong: Vec<(Category, usize, usize)> = cands
        .iter()
        .filter(|(_, w)| !w)
        .map(|(c, _)| (c.hit.cat, c.hit.start, c.hit.end))
        .collect();
    cands.retain(|(c, weak)| {
        if !weak {
            return true;
        }
        let (ss, se) = t.sentences_of(c.hit.start, c.hit.end);
        // An ICD code is the concrete health datum next to `Diagnose`, `AU-Bescheinigung`.
        let stronger = |cat: Category| {
            cat == c.hit.cat || (c.hit.cat == Category::Health && cat == Category::Icd10Code)
        };
        !strong.iter().any(|&(cat, a, b)| {
            stronger(cat) && a < se && ss < b && !(a < c.hit.end && c.hit.start < b)
        })
    });
    // A word that is a strict prefix of another hit of its category in the sentence is the
    // same concept mentioned twice (`Hundesteuer: … Hundesteuerbescheid`).
    let words: Vec<(Category, usize, usize, String)> = cands
        .iter()
        .map(|(c, _)| {
            (
                c.hit.cat,
                c.hit.start,
                c.hit.end,
                t.fold_of(c.hit.start, c.hit.end).to_string(),
            )
        })
        .collect();
    let mut out: Vec<Candidate> = Vec::with_capacity(cands.len());
    for (c, _) in cands {
        if out
            .iter()
            .any(|o| o.hit.cat == c.hit.cat && o.hit.start == c.hit.start && o.hit.end == c.hit.end)
        {
            continue;
        }
        let me = t.fold_of(c.hit.start, c.hit.end);
        let (ss, se) = t.sentences_of(c.hit.start, c.hit.end);
        // Also the same word twice (`Gewerbesteuer: … Stundung der Gewerbesteuer`): keep the
        // later, in-context mention.
        let dup = words.iter().any(|(cat, a, b, w)| {
            *cat == c.hit.cat
                && *a >= ss
                && *b <= se
                && !(c.hit.start < *b && *a < c.hit.end)
                && ((w.len() > me.len() && w.starts_with(me)) || (w == me && *a > c.hit.start))
        });
        if !dup {
            out.push(c);
        }
    }
    out
}

/// Person reference (SPEC 6.2) for the span `s..e`: a personal hit in its scope, or a soft
/// cue (singular role noun with determiner, initials, first-person narration) without an
/// aggregate/generic cue in its sentence.
pub(crate) fn person_reference(t: &Text<'_>, s: usize, e: usize, personal: &[Hit]) -> bool {
    let (a, b) = t.scope(s, e, 40);
    if personal.iter().any(|h| h.overlaps(a, b)) {
        return true;
    }
    soft_reference(t, s, e)
}

/// The soft part of the person-reference rule (no personal hit needed).
pub(crate) fn soft_reference(t: &Text<'_>, s: usize, e: usize) -> bool {
    let (a, b) = t.scope(s, e, 40);
    let (ss, se) = t.sentences_of(s, e);
    let sentence = t.fold_of(ss, se);
    let soft = ROLE.is_match(t.fold_of(a, b))
        || INITIALS.is_match(t.at(a, b))
        || FIRST_PERSON.is_match(sentence)
        || given_name_in(t, ss, se);
    soft && !has_any(sentence, &AGGREGATE_AC)
}

/// Whether a capitalised first name of the lexicon occurs in `a..b` (`Leon (8) bekommt …`):
/// a named individual even without family name (SPEC 6.2, fail closed).
fn given_name_in(t: &Text<'_>, a: usize, b: usize) -> bool {
    let first = t.word_at_or_after(a);
    t.words[first..]
        .iter()
        .take_while(|w| w.end <= b)
        .any(|w| is_capitalised_given_name(t.at(w.start, w.end), t.fold_of(w.start, w.end)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Vec<(Category, String)> {
        let t = Text::new(s).unwrap_or_else(|_| panic!("text"));
        detect(&t)
            .iter()
            .map(|c| (c.hit.cat, s[c.hit.start..c.hit.end].to_string()))
            .collect()
    }

    #[test]
    fn terms_extend_and_absorb_citations() {
        let r =
            run("Hilfe zur Pflege (SGB XII) ab Juni; Grundsicherung im Alter nach dem SGB XII.");
        assert!(
            r.contains(&(Category::SocialData, "Hilfe zur Pflege (SGB XII)".into())),
            "{r:?}"
        );
        assert!(
            r.contains(&(
                Category::SocialData,
                "Grundsicherung im Alter nach dem SGB XII".into()
            )),
            "{r:?}"
        );
        assert_eq!(
            run("eine offene Lungentuberkulose (A15.0) festgestellt"),
            vec![
                (Category::Health, "Lungentuberkulose".into()),
                (Category::Icd10Code, "A15.0".into()),
            ]
        );
        assert_eq!(run("Der Hund besucht die Verkehrsbehinderung"), vec![]);
    }

    #[test]
    fn weak_terms_and_prefix_duplicates() {
        assert_eq!(
            run("Die AU-Bescheinigung nennt Diabetes mellitus."),
            vec![(Category::Health, "Diabetes".into())]
        );
        assert_eq!(
            run("Hundesteuer: Der Hundesteuerbescheid für X."),
            vec![(Category::Confidential, "Hundesteuerbescheid".into())]
        );
    }

    #[test]
    fn icd_needs_context() {
        assert!(run("Dürfen die Dienstfahrzeuge mit E10 betankt werden?").is_empty());
        assert!(run("Die A3 ist gesperrt, Umleitung über die B51.").is_empty());
        // The code is the health datum; the weak word `Diagnose` next to it is not repeated.
        assert_eq!(
            run("enthält die Diagnose E11.9 G (Typ 2)"),
            vec![(Category::Icd10Code, "E11.9 G".into())]
        );
    }

    #[test]
    fn person_reference_rule() {
        let t = Text::new("Das Kind (7 Jahre) meldet eine Kindeswohlgefährdung.")
            .unwrap_or_else(|_| panic!("t"));
        assert!(soft_reference(&t, 20, 30));
        let t = Text::new("Im Jahr 2024 bezogen 12.480 Personen Bürgergeld.")
            .unwrap_or_else(|_| panic!("t"));
        assert!(!soft_reference(&t, 30, 40));
        let t = Text::new("Textbaustein: Der Antragsteller bezieht Bürgergeld.")
            .unwrap_or_else(|_| panic!("t"));
        assert!(!soft_reference(&t, 35, 45));
        let t = Text::new("Die Pflegeeltern von Leon (8) beantragen Pflegegeld.")
            .unwrap_or_else(|_| panic!("t"));
        assert!(soft_reference(&t, 40, 50));
    }
}
