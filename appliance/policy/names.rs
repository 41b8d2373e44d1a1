//! PERSON detector (SPEC 5.1) by rules over word tokens and compiled-in lexicons, without a
//! statistical model: salutation/title + name, given-name gazetteer + family name, surname-
//! first forms (`MÜLLER, ANNA`, `Müller; Anna`), form fields (`Nachname:`), initials
//! (`M. Müller`), user names derived from names, and the lower-case variants of chat input.
//! Specimen names and deceased historical figures are suppressed (SPEC 3.3).
//!
//! Must not: report given names alone, read names out of e-mail addresses (those are EMAIL
//! findings), keep any text, or log.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::hits::{rank, Hit};
use super::names_lexicon as lex;
use super::text::Text;
use super::types::Category;

struct Lex {
    given: HashSet<&'static str>,
    family: Vec<&'static str>,
    family_set: HashSet<&'static str>,
    stop: HashSet<&'static str>,
    role: HashSet<&'static str>,
    lower_stop: HashSet<&'static str>,
    ambiguous: HashSet<&'static str>,
}

static LEX: LazyLock<Lex> = LazyLock::new(|| Lex {
    given: lex::GIVEN_NAMES.split_whitespace().collect(),
    family: lex::FAMILY_NAMES.split_whitespace().filter(|w| w.chars().count() >= 5).collect(),
    family_set: lex::FAMILY_NAMES.split_whitespace().collect(),
    stop: lex::STOP_WORDS.split_whitespace().collect(),
    role: lex::ROLE_WORDS.split_whitespace().collect(),
    lower_stop: lex::LOWER_STOP.split_whitespace().chain(lex::STOP_WORDS.split_whitespace()).collect(),
    ambiguous: lex::AMBIGUOUS_LOWER.iter().copied().collect(),
});

const SALUTATIONS: &[&str] = &["herr", "herrn", "frau", "familie", "eheleute", "ehepaar", "fräulein", "hr", "fr"];
const TITLES: &[&str] = &[
    "dr", "prof", "dipl", "ing", "med", "vet", "jur", "rer", "nat", "phil", "pol", "oec", "dent", "habil", "mag",
];
const LABELS: &[&str] = &[
    "name", "nachname", "familienname", "vorname", "vornamen", "geburtsname", "inhaber", "inhaberin", "kontoinhaber",
    "kontoinhaberin", "antragsteller", "antragstellerin", "empfänger", "empfängerin", "absender", "absenderin",
    "ansprechpartner", "ansprechpartnerin", "patient", "patientin", "mieter", "mieterin", "schuldner", "schuldnerin",
    "bewerber", "bewerberin", "teilnehmer", "teilnehmerin", "versicherte", "versicherter", "kläger", "klägerin",
    "beklagte", "beklagter", "unterzeichner", "unterzeichnerin", "eigentümer", "eigentümerin", "halter", "halterin",
    "steuerpflichtige", "steuerpflichtiger", "ehemann", "ehefrau", "verstorbene", "verstorbener", "zeuge", "zeugin",
    "betroffene", "betroffener", "kunde", "kundin", "mitglied", "vertreter", "vertreterin", "bevollmächtigte",
    "bevollmächtigter", "person", "gast", "zahlungsempfänger", "zahlungsempfängerin", "auftraggeber",
    "auftraggeberin", "auftragnehmer", "auftragnehmerin", "begünstigte", "begünstigter", "karteninhaber",
    "karteninhaberin", "versicherungsnehmer", "versicherungsnehmerin", "erziehungsberechtigte",
    "erziehungsberechtigter", "vertragspartner", "vertragspartnerin", "spender", "spenderin", "ansprechperson",
    "kontaktperson", "verfasser", "verfasserin", "unterschrift",
];
/// Nouns for a person in a role; two capitalised words right after one are a name
/// (`der Gutachter Kolja Brandt`). Folded; see also [`ROLE_SUFFIXES`].
const ROLE_CUES: &[&str] = &[
    "gutachter", "gutachterin", "flüchtling", "geflüchtete", "geflüchteter", "hausmeister", "hausmeisterin",
    "dozent", "dozentin", "referent", "referentin", "kläger", "klägerin", "beschäftigte", "beschäftigten",
    "mitarbeiter", "mitarbeiterin", "kollege", "kollegin", "mieter", "mieterin", "vermieter", "vermieterin",
    "eigentümer", "eigentümerin", "schüler", "schülerin", "student", "studentin", "auszubildende",
    "auszubildender", "praktikant", "praktikantin", "aushilfe", "saisonkraft", "architekt", "architektin",
    "ingenieurbüro", "ingenieurbüros", "architekturbüro", "steuerberater", "steuerberaterin", "bürger",
    "bürgerin", "anwohner", "anwohnerin", "nachbar", "nachbarin", "patient", "patientin", "klient", "klientin",
    "betroffene", "betroffener", "beschuldigte", "beschuldigter", "zeuge", "zeugin", "schöffe", "schöffin",
    "ehrenamtliche", "ehrenamtlicher", "fahrer", "fahrerin", "kind", "sohn", "tochter", "mutter", "vater",
    "ehemann", "ehefrau", "witwe", "witwer", "erbe", "erbin", "verstorbene", "verstorbenen", "verstorbener",
    "spender", "spenderin", "künstler", "künstlerin", "trainer", "trainerin", "lehrer", "lehrerin", "lehrkraft",
    "erzieher", "erzieherin", "pflegekraft", "angestellte", "angestellter", "beamtin", "beamter", "pächter",
    "pächterin", "halter", "halterin", "fahrzeughalter", "fahrzeughalterin", "versicherte", "versicherter",
    "asylbewerber", "asylbewerberin", "bewohner", "bewohnerin", "interessent", "interessentin", "käufer",
    "käuferin", "verkäufer", "verkäuferin", "bauherr", "bauherrin", "gastwirt", "gastwirtin", "wirt", "wirtin",
    "landwirt", "landwirtin", "jubilar", "jubilarin", "preisträger", "preisträgerin", "teilnehmende",
    "einwohner", "einwohnerin", "rentner", "rentnerin", "arzt", "ärztin", "pfleger", "pflegerin", "dozierende",
];
/// Endings of role nouns (`Malermeister`, `Einzelhändler`, `Antragstellerin`, …).
const ROLE_SUFFIXES: &[&str] = &[
    "meister", "meisterin", "händler", "händlerin", "inhaber", "inhaberin", "empfänger", "empfängerin", "helfer",
    "helferin", "berater", "beraterin", "kandidat", "kandidatin", "unternehmer", "unternehmerin", "führer",
    "führerin", "steller", "stellerin", "nehmer", "nehmerin", "geber", "geberin", "pflichtige", "pflichtiger",
    "berechtigte", "berechtigter", "bewerber", "bewerberin", "arbeiter", "arbeiterin", "leiter", "leiterin",
    "vertreter", "vertreterin", "beauftragte", "beauftragter", "sachverständige", "sachverständiger",
];
/// Prepositions before a capitalised name pair (`für Kolja Brandt,`).
const PREPOSITIONS: &[&str] = &["für", "von", "an", "bei", "mit", "gegen", "über", "durch", "zwischen", "heiße"];
/// Endings of abstract nouns; such words are neither given nor family names.
const NOUN_SUFFIXES: &[&str] = &["ung", "heit", "keit", "schaft", "tion", "sion", "ität", "ismus", "nisse", "ungen"];
/// Endings of inflected adjectives (`Offene`, `Städtischen`); such words do not start a name.
const ADJECTIVE_SUFFIXES: &[&str] = &["ische", "ischen", "liche", "lichen", "ige", "igen", "ene", "enen", "ale", "alen", "ete", "eten", "ste", "sten"];
const USER_LABELS: &[&str] = &[
    "nutzer", "benutzer", "nutzername", "benutzername", "username", "user", "account", "profil", "kennung",
    "nickname", "pseudonym", "handle", "login", "konto", "login-name", "loginname", "benutzerkennung", "user-id",
    "userid", "nutzer-id", "nutzerkennung", "anmeldename", "account-name",
];
const INITIAL_BLOCK: &[&str] = &[
    "anlage", "abschnitt", "teil", "punkt", "gruppe", "typ", "variante", "buchstabe", "stufe", "kategorie", "klasse",
    "zone", "block", "haus", "gebäude", "raum", "reihe", "modell", "version", "option", "feld", "spalte", "zeile",
    "linie", "merkzeichen", "anhang", "plan", "seite", "s", "vitamin", "gleis", "halle", "bauteil", "ebene", "tor",
];
/// Endings of institution and place words (never family names; `-haus`, `-rath` are).
const INSTITUTION_SUFFIXES: &[&str] = &[
    "straße", "strasse", "amt", "kasse", "stelle", "verwaltung", "behörde", "gericht", "zentrum", "schule", "verein",
    "bank", "büro", "gesellschaft", "stiftung", "gymnasium", "kita", "allee", "klinik", "kirche", "gemeinde",
    "partei", "fraktion", "ausschuss", "beirat", "platz",
];

/// MRZ name field `NACHNAME<<VORNAME<VORNAME2` (ICAO Doc 9303 Part 3).
#[allow(clippy::expect_used)] // constant pattern, covered by tests
static MRZ_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^A-Z<])(?:P<D|I<D|IDD|ID<)?<*([A-Z]{2,}(?:<[A-Z]{2,})*<<[A-Z]{2,}(?:<[A-Z]{2,})*)").expect("mrz name"));

/// Whether the folded word is a given name of the lexicon (at least 3 letters).
pub(crate) fn is_given_name(w: &str) -> bool {
    w.chars().count() >= 3 && LEX.given.contains(w)
}

/// Whether the folded word is a family name of the lexicon.
pub(crate) fn is_family_name(w: &str) -> bool {
    LEX.family_set.contains(w)
}

/// Whether the folded token starts with a given name of at least 4 letters followed by at
/// least 4 more letters (`jolantabrandt`), as in e-mail local parts.
pub(crate) fn starts_with_given_name(w: &str) -> bool {
    (4..=w.len().min(12)).any(|k| w.is_char_boundary(k) && w.len() - k >= 4 && LEX.given.contains(&w[..k]))
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Case {
    Cap,
    Upper,
    Lower,
    Other,
}

fn case_of(w: &str) -> Case {
    let mut first = true;
    let mut first_upper = false;
    let (mut up, mut low) = (0usize, 0usize);
    for c in w.chars() {
        if c.is_numeric() {
            return Case::Other;
        }
        if !c.is_alphabetic() {
            continue;
        }
        if first {
            first_upper = c.is_uppercase();
            first = false;
        }
        if c.is_uppercase() {
            up += 1;
        } else if c.is_lowercase() {
            low += 1;
        }
    }
    if up + low == 0 {
        Case::Other
    } else if up == 0 {
        Case::Lower
    } else if low == 0 {
        if up >= 2 {
            Case::Upper
        } else {
            Case::Other
        }
    } else if first_upper {
        Case::Cap
    } else {
        Case::Other
    }
}

struct Words<'t, 'a> {
    t: &'t Text<'a>,
    case: Vec<Case>,
}

impl Words<'_, '_> {
    fn n(&self) -> usize {
        self.t.words.len()
    }
    fn fold(&self, i: usize) -> &str {
        let w = self.t.words[i];
        self.t.fold_of(w.start, w.end)
    }
    fn gap(&self, i: usize) -> &str {
        if i + 1 >= self.n() {
            return "";
        }
        self.t.at(self.t.words[i].end, self.t.words[i + 1].start)
    }
    fn space(&self, i: usize) -> bool {
        i + 1 < self.n() && self.gap(i) == " "
    }
    fn char_len(&self, i: usize) -> usize {
        self.fold(i).chars().count()
    }
    fn is_given(&self, i: usize, lower: bool) -> bool {
        if i >= self.n() {
            return false;
        }
        let c = self.case[i];
        let f = self.fold(i);
        if lower {
            if c != Case::Lower || LEX.ambiguous.contains(f) {
                return false;
            }
        } else if c != Case::Cap && c != Case::Upper {
            return false;
        }
        LEX.given.contains(f) || (f.contains('-') && f.split('-').all(|p| LEX.given.contains(p)))
    }
    fn is_particle(&self, i: usize) -> bool {
        i < self.n() && self.case[i] == Case::Lower && lex::PARTICLES.contains(&self.fold(i))
    }
    fn institution_like(&self, i: usize) -> bool {
        let f = self.fold(i);
        INSTITUTION_SUFFIXES.iter().any(|s| f.ends_with(s) && f.len() > s.len() + 2)
    }
    fn surname_ok(&self, i: usize, lower: bool) -> bool {
        if i >= self.n() || self.char_len(i) < 2 {
            return false;
        }
        let f = self.fold(i);
        if lower {
            return self.case[i] == Case::Lower
                && self.char_len(i) >= 3
                && !LEX.lower_stop.contains(f)
                && !LEX.role.contains(f)
                && !self.institution_like(i);
        }
        matches!(self.case[i], Case::Cap | Case::Upper)
            && !LEX.stop.contains(f)
            && !LEX.role.contains(f)
            && !self.institution_like(i)
    }
    fn noun_like(&self, i: usize) -> bool {
        let f = self.fold(i);
        NOUN_SUFFIXES.iter().any(|x| f.ends_with(x))
    }
    fn role_cue(&self, i: usize) -> bool {
        let f = self.fold(i);
        ROLE_CUES.contains(&f) || ROLE_SUFFIXES.iter().any(|x| f.ends_with(x) && f.len() > x.len() + 2)
    }
    /// Two capitalised words that read as first name + family name although the first is not
    /// in the lexicon; only used after a strong cue.
    fn cap_pair(&self, i: usize) -> bool {
        i + 1 < self.n()
            && self.case[i] == Case::Cap
            && self.space(i)
            && self.char_len(i) >= 2
            && !LEX.stop.contains(self.fold(i))
            && !LEX.role.contains(self.fold(i))
            && !self.role_cue(i)
            && !self.noun_like(i)
            && !ADJECTIVE_SUFFIXES.iter().any(|x| self.fold(i).ends_with(x))
            && !self.institution_like(i)
            && self.surname_ok(i + 1, false)
            && self.case[i + 1] == Case::Cap
            && !self.noun_like(i + 1)
            && !self.role_cue(i + 1)
            && !(self.space(i + 1) && i + 2 < self.n() && self.case[i + 2] == Case::Cap && !LEX.stop.contains(self.fold(i + 2)))
    }
    fn is_initial(&self, i: usize) -> bool {
        i < self.n()
            && self.char_len(i) == 1
            && self.case[i] != Case::Lower
            && self.t.at(self.t.words[i].start, self.t.words[i].end).chars().all(char::is_uppercase)
            && self.gap(i).starts_with('.')
    }
    fn dotted(&self, i: usize) -> bool {
        let g = self.gap(i);
        g == "." || g == ". " || g == ".-"
    }

    /// Given name(s) [+ `und` + given name(s)] [+ particle(s)] + family name; returns the
    /// index of the last word.
    fn chain(&self, i: usize, lower: bool) -> Option<usize> {
        if !self.is_given(i, lower) {
            return None;
        }
        let mut j = i;
        let mut had_und = false;
        loop {
            if self.space(j) && self.is_given(j + 1, lower) && !self.is_particle(j + 1) {
                j += 1;
            } else if self.space(j)
                && j + 2 < self.n()
                && self.fold(j + 1) == "und"
                && self.space(j + 1)
                && self.is_given(j + 2, lower)
            {
                j += 2;
                had_und = true;
            } else {
                break;
            }
        }
        // `Gesa und Vesna Brandt`: a second, unknown first name of a couple.
        if !lower
            && self.space(j)
            && j + 3 < self.n()
            && self.fold(j + 1) == "und"
            && self.space(j + 1)
            && self.case[j + 2] == Case::Cap
            && !LEX.stop.contains(self.fold(j + 2))
            && self.space(j + 2)
            && self.surname_ok(j + 3, false)
        {
            return Some(j + 3);
        }
        let mut k = j + 1;
        if self.space(j) && self.is_particle(k) {
            if self.space(k) && self.is_particle(k + 1) {
                k += 1;
            }
            if self.space(k) && self.surname_ok(k + 1, lower) {
                return Some(k + 1);
            }
        } else if self.space(j) && self.surname_ok(k, lower) {
            return Some(k);
        }
        k = j;
        (k > i && !had_und && !lower).then_some(k)
    }

    /// A name after a salutation, title or label: chain, or a single family name (with
    /// particles). Returns (first, last) word.
    fn name_after(&self, mut j: usize, lower: bool) -> Option<(usize, usize)> {
        while j < self.n() && TITLES.contains(&self.fold(j)) && self.dotted(j) {
            j += 1;
        }
        while j < self.n() && LEX.role.contains(self.fold(j)) && self.space(j) {
            j += 1;
        }
        let first = j;
        while self.is_initial(j) {
            j += 1;
        }
        if let Some(e) = self.chain(j, lower) {
            return Some((first, e));
        }
        if self.is_particle(j) && self.space(j) {
            let mut k = j + 1;
            if self.is_particle(k) && self.space(k) {
                k += 1;
            }
            return self.surname_ok(k, lower).then_some((first, k));
        }
        if self.surname_ok(j, lower) {
            return Some((first, j));
        }
        None
    }
}

/// Appends PERSON hits of `t` to `out`.
pub(crate) fn detect(t: &Text<'_>, out: &mut Vec<Hit>) {
    let ws = Words { t, case: t.words.iter().map(|w| case_of(t.at(w.start, w.end))).collect() };
    let n = ws.n();
    let mut found: Vec<(usize, usize, &'static str)> = Vec::new();
    let mut i = 0;
    while i < n {
        let f = ws.fold(i);
        let c = ws.case[i];
        let before = found.len();
        // Salutation + name.
        if SALUTATIONS.contains(&f) && c != Case::Other {
            let short = f == "hr" || f == "fr";
            let ok_gap = if short { ws.gap(i) == ". " } else { ws.space(i) };
            if ok_gap && i + 1 < n {
                let lower = ws.case[i + 1] == Case::Lower;
                if let Some((a, mut b)) = ws.name_after(i + 1, lower) {
                    // `Herr Tjorven Brandt`: unknown first name followed by the family name.
                    if a == b && !lower && ws.cap_pair(b) {
                        b += 1;
                    }
                    found.push((a, b, "person.salutation"));
                }
            }
        }
        // Academic title + name.
        if (f == "dr" || f == "prof") && c == Case::Cap && ws.gap(i) == ". " {
            if let Some((a, b)) = ws.name_after(i + 1, false) {
                found.push((a, b, "person.title"));
            }
        }
        // Form fields: `Nachname: Müller`.
        if LABELS.contains(&f) && ws.gap(i).trim_start_matches([' ', '\t']).starts_with(':') && c != Case::Other {
            if let Some((a, b)) = label_value(&ws, i + 1) {
                found.push((a, b, "person.field_label"));
            }
        }
        // User names derived from names: `Nutzer 'aschmidt78'`.
        if USER_LABELS.contains(&f) && i + 1 < n {
            let g = ws.gap(i);
            if g.len() <= 4 && g.chars().all(|ch| " :='\"„“‚‘»«`".contains(ch)) && user_name_like(ws.fold(i + 1)) {
                found.push((i + 1, i + 1, "person.user_name"));
            }
        }
        // Role noun or preposition + two capitalised words: `der Gutachter Kolja Brandt`,
        // `für Wilko Berg,`, `ich bin Lorenz Ohm`.
        if found.len() == before && i > 0 && ws.space(i - 1) && ws.cap_pair(i) {
            let prev = ws.fold(i - 1);
            let prev2 = if i > 1 && ws.space(i - 2) { ws.fold(i - 2) } else { "" };
            let cue = ws.role_cue(i - 1)
                || PREPOSITIONS.contains(&prev)
                || (prev == "bin" && prev2 == "ich")
                || (prev == "ist" && prev2 == "name");
            if cue {
                found.push((i, i + 1, "person.cue_pair"));
            }
        }
        // Role noun + a lone first name: `die Kollegin Maike`, `Sohn Ben`.
        if found.len() == before && i > 0 && ws.space(i - 1) && ws.role_cue(i - 1) && ws.is_given(i, false) {
            found.push((i, i, "person.role_given_name"));
        }
        // Given name(s) + family name, in capitalised or lower-case text.
        if found.len() == before {
            let lower = c == Case::Lower;
            if let Some(e) = ws.chain(i, lower) {
                found.push((i, e, if lower { "person.lowercase" } else { "person.given_name" }));
            }
        }
        // Surname-first: `WEIDENFELLER, BASTIAN`, `Müller; Anna`.
        if found.len() == before && surname_first(&ws, i) {
            found.push((i, i + 1, "person.surname_first"));
        }
        // Initial + family name: `M. Müller`.
        if found.len() == before && ws.is_initial(i) && initial_ok(&ws, i) {
            let mut j = i + 1;
            if ws.is_initial(j) {
                j += 1;
            }
            if (ws.gap(j - 1) == ". " || ws.gap(j - 1) == ".") && ws.surname_ok(j, false) && ws.case[j] == Case::Cap {
                found.push((i, j, "person.initial"));
            }
        }
        i += 1;
    }
    // Bare initials `J. W.` as the name of a data subject.
    for i in 0..n.saturating_sub(1) {
        if ws.is_initial(i) && ws.gap(i) == ". " && ws.is_initial(i + 1) && initial_ok(&ws, i) {
            let next_cap = i + 2 < n && ws.gap(i + 1) == ". " && ws.case[i + 2] == Case::Cap;
            if !next_cap {
                found.push((i, i + 1, "person.initials"));
            }
        }
    }
    let mut extra: Vec<(usize, usize, &'static str)> = Vec::new();
    if t.s().contains("<<") {
        for c in MRZ_NAME.captures_iter(t.s()) {
            if let Some(m) = c.get(1) {
                if !m.as_str().starts_with("IDD") {
                    extra.push((m.start(), m.end(), "person.mrz"));
                }
            }
        }
    }
    // Merge overlapping spans (several rules often fire on one name).
    let mut spans: Vec<(usize, usize, &'static str)> =
        found.into_iter().map(|(a, b, d)| (t.words[a].start, t.words[b].end, d)).chain(extra).collect();
    spans.sort_by_key(|&(s, e, _)| (s, std::cmp::Reverse(e)));
    let mut merged: Vec<(usize, usize, &'static str)> = Vec::with_capacity(spans.len());
    for (s, e, d) in spans {
        match merged.last_mut() {
            Some(last) if s < last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e, d)),
        }
    }
    merged.retain(|&(s, e, _)| !suppressed(t.fold_of(s, e)));
    // User names derived from a family name named in the text (`nostendorff78`).
    let surnames: Vec<String> = merged
        .iter()
        .filter_map(|&(s, e, _)| t.fold_of(s, e).split(|c: char| !c.is_alphabetic()).rfind(|w| w.chars().count() >= 5))
        .map(transliterate)
        .collect();
    if !surnames.is_empty() {
        for w in &t.words {
            let f = t.fold_of(w.start, w.end);
            let token_ok = f.len() >= 6 && f.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            let inside = merged.iter().any(|&(s, e, _)| s < w.end && w.start < e);
            if token_ok && !inside && surnames.iter().any(|sn| f.contains(sn.as_str()) && f != sn) {
                merged.push((w.start, w.end, "person.derived_user_name"));
            }
        }
    }
    for (s, e, det) in merged {
        out.push(Hit::new(Category::Person, s, e, det, rank::PERSON));
    }
}

fn label_value(ws: &Words<'_, '_>, j: usize) -> Option<(usize, usize)> {
    if j >= ws.n() {
        return None;
    }
    // The value must be on the label's line or start the next one.
    if let Some((a, b)) = ws.name_after(j, ws.case[j] == Case::Lower && ws.is_given(j, true)) {
        return Some((a, b));
    }
    None
}

fn surname_first(ws: &Words<'_, '_>, i: usize) -> bool {
    let n = ws.n();
    if i + 1 >= n || !ws.surname_ok(i, false) || ws.is_given(i, false) {
        return false;
    }
    let g = ws.gap(i);
    if !matches!(g, ", " | "," | "; " | ";") || !ws.is_given(i + 1, false) {
        return false;
    }
    let both_upper = ws.case[i] == Case::Upper && ws.case[i + 1] == Case::Upper;
    let both_cap = ws.case[i] == Case::Cap && ws.case[i + 1] == Case::Cap;
    if !(both_upper || both_cap) {
        return false;
    }
    // `Köln, Anna Schmidt` is a list, not a surname-first name.
    if ws.space(i + 1) && ws.surname_ok(i + 2, false) {
        return false;
    }
    // A preceding postcode makes the first word a city.
    if i > 0 {
        let p = ws.fold(i - 1);
        if p.len() == 5 && p.bytes().all(|b| b.is_ascii_digit()) {
            return false;
        }
    }
    true
}

fn initial_ok(ws: &Words<'_, '_>, i: usize) -> bool {
    let s = ws.t.words[i].start;
    if ws.t.prev_char(s).is_some_and(|c| c.is_alphanumeric() || c == '.') {
        return false;
    }
    !(i > 0 && INITIAL_BLOCK.contains(&ws.fold(i - 1)))
}

fn user_name_like(w: &str) -> bool {
    if !w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_') {
        return false;
    }
    let letters: String = w.chars().filter(char::is_ascii_lowercase).collect();
    let digits = w.bytes().filter(u8::is_ascii_digit).count();
    let trailing_two = w.len() > 2
        && w.as_bytes()[w.len() - 2..].iter().all(u8::is_ascii_digit)
        && !w.as_bytes()[w.len() - 3].is_ascii_digit();
    if letters.len() >= 5 && digits == 2 && trailing_two {
        return true;
    }
    letters.len() >= 5 && LEX.family.iter().any(|f| f.is_ascii() && letters.contains(f))
}

/// ASCII form of a folded name as used in user names and mail addresses.
fn transliterate(w: &str) -> String {
    let mut out = String::with_capacity(w.len());
    for c in w.chars() {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            c if c.is_ascii() => out.push(c),
            c => {
                use unicode_normalization::UnicodeNormalization;
                out.extend(c.to_string().nfd().filter(char::is_ascii));
            }
        }
    }
    out
}

fn suppressed(fold: &str) -> bool {
    lex::SUPPRESSED_NAMES.iter().any(|s| {
        if s.contains(' ') {
            fold.contains(s)
        } else {
            fold.split(|c: char| !c.is_alphanumeric()).any(|w| w == *s)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(s: &str) -> Vec<String> {
        let t = Text::new(s).unwrap_or_else(|_| panic!("text"));
        let mut out = Vec::new();
        detect(&t, &mut out);
        out.iter().map(|h| s[h.start..h.end].to_string()).collect()
    }

    #[test]
    fn salutation_and_given_names() {
        assert_eq!(names("Herr Hagemeister rief an."), vec!["Hagemeister"]);
        assert_eq!(names("an Herrn Dr. Jonas Albers-Okafor,"), vec!["Jonas Albers-Okafor"]);
        assert_eq!(names("Antragstellerin Olga Gündoğdu, Im Wiesengrund"), vec!["Olga Gündoğdu"]);
        assert_eq!(names("Eigentümerin Dr. Anna von Ostenbrück sowie"), vec!["Anna von Ostenbrück"]);
        assert_eq!(names("das Ehepaar Sven und Greta Lindqvist-Brandt;"), vec!["Sven und Greta Lindqvist-Brandt"]);
        assert_eq!(names("bitte schreib an zeynep rautenfeld, dass"), vec!["zeynep rautenfeld"]);
        assert_eq!(names("Hallo herrn petrović,"), vec!["petrović"]);
    }

    #[test]
    fn forms_initials_and_user_names() {
        assert_eq!(names("Inhaber: WEIDENBACH, BASTIAN, geboren"), vec!["WEIDENBACH, BASTIAN"]);
        assert_eq!(names("Nachname: Petrović\nVorname: Malte\n"), vec!["Petrović", "Malte"]);
        assert_eq!(names("Unterschrift 'M. Ballhorn'."), vec!["M. Ballhorn"]);
        assert_eq!(names("Nutzer 'gweidenbach78' postet"), vec!["gweidenbach78"]);
        assert!(names("user=antrag4711 src").is_empty());
        assert_eq!(names("Brenner; Yusuf; DE34"), vec!["Brenner; Yusuf"]);
        assert_eq!(names("P<D<<BRANDSTETT<<LIOBA<MARIE<<<<<<"), vec!["BRANDSTETT<<LIOBA<MARIE"]);
        assert_eq!(names("Die Klientin J. W. bezieht"), vec!["J. W"]);
        assert_eq!(names("Login-Name nostendorp78 gesperrt, Frau Ostendorp informieren"), vec!["nostendorp78", "Ostendorp"]);
        assert_eq!(names("Unsere Kollegin Maike hat Urlaub."), vec!["Maike"]);
    }

    #[test]
    fn negatives() {
        assert!(names("Todestag von Ludwig van Beethoven für").is_empty());
        assert!(names("Muster: Max Mustermann, Musterstraße 1").is_empty());
        assert!(names("Käthe-Kollwitz-Gesamtschule, Astrid-Lindgren-Grundschule").is_empty());
        assert!(names("Der Oberbürgermeister lädt ein.").is_empty());
        assert!(names("Frau Bürgermeisterin eröffnet").is_empty());
        assert!(names("Die Mutter von Ben (7) holt ihn ab.").is_empty());
        assert!(names("Anlage B. Die Stadt").is_empty());
    }
}
