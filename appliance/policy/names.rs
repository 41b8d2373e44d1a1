//! PERSON detector (SPEC 5.1) by rules over word tokens and compiled-in lexicons, without a
//! statistical model: salutation/title + name, given-name gazetteer + family name, surname-
//! first forms (`MÜLLER, ANNA`, `Müller; Anna`), form fields (`Nachname:`), initials
//! (`M. Müller`), user names derived from names, and the lower-case variants of chat input.
//! Specimen names and deceased historical figures are suppressed (SPEC 3.3).
//!
//! Must not: report given names alone, read names out of e-mail addresses (those are EMAIL
//! findings), keep any text, or log.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::LazyLock;

use regex::Regex;

use super::hits::{rank, Hit};
use super::name_words::{Case, FxLike, Words, GIVEN, INIT_BLOCK, LABEL, LEX, PREP, SALUT, USER};
use super::names_lexicon as lex;
use super::text::Text;
use super::types::Category;

/// MRZ name field `NACHNAME<<VORNAME<VORNAME2` (ICAO Doc 9303 Part 3).
#[allow(clippy::expect_used)] // constant pattern, covered by tests
static MRZ_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?:^|[^A-Z<])(?:P<D|I<D|IDD|ID<)?<*([A-Z]{2,}(?:<[A-Z]{2,})*<<[A-Z]{2,}(?:<[A-Z]{2,})*)",
    )
    .expect("mrz name")
});

/// Appends PERSON hits of `t` to `out`.
pub(crate) fn detect(t: &Text<'_>, out: &mut Vec<Hit>) {
    let ws = Words::new(t);
    let n = ws.n();
    let mut found: Vec<(usize, usize, &'static str)> = Vec::new();
    let mut i = 0;
    while i < n {
        let c = ws.case[i];
        let flags = ws.info[i].flags;
        // Fast skips: a lower-case word without lexicon entry starts no rule; a capitalised
        // one only with a capitalised or given-name successor (pairs, surname-first) or as
        // an initial.
        if flags == 0 {
            let next_interesting =
                i + 1 < n && (ws.case[i + 1] != Case::Lower || ws.info[i + 1].flags & GIVEN != 0);
            if c == Case::Lower || (!next_interesting && ws.char_len(i) > 1) {
                i += 1;
                continue;
            }
        }
        let f = ws.fold(i);
        let before = found.len();
        // Salutation + name.
        if ws.has(i, SALUT) && c != Case::Other {
            let short = f == "hr" || f == "fr";
            let ok_gap = if short {
                ws.gap(i) == ". "
            } else {
                ws.space(i)
            };
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
        if ws.has(i, LABEL)
            && ws.gap(i).trim_start_matches([' ', '\t']).starts_with(':')
            && c != Case::Other
        {
            if let Some((a, b)) = label_value(&ws, i + 1) {
                found.push((a, b, "person.field_label"));
            }
        }
        // User names derived from names: `Nutzer 'aschmidt78'`.
        if ws.has(i, USER) && i + 1 < n {
            let g = ws.gap(i);
            if g.len() <= 4
                && g.chars().all(|ch| " :='\"„“‚‘»«`".contains(ch))
                && user_name_like(ws.fold(i + 1))
            {
                found.push((i + 1, i + 1, "person.user_name"));
            }
        }
        // Role noun or preposition + two capitalised words: `der Gutachter Kolja Brandt`,
        // `für Wilko Berg,`, `ich bin Lorenz Ohm`.
        if found.len() == before
            && i > 0
            && ws.case[i] == Case::Cap
            && ws.space(i - 1)
            && ws.cap_pair(i)
        {
            let prev = ws.fold(i - 1);
            let prev2 = if i > 1 && ws.space(i - 2) {
                ws.fold(i - 2)
            } else {
                ""
            };
            let cue = ws.role_cue(i - 1)
                || ws.has(i - 1, PREP)
                || (prev == "bin" && prev2 == "ich")
                || (prev == "ist" && prev2 == "name");
            if cue {
                found.push((i, i + 1, "person.cue_pair"));
            }
        }
        // Role noun + a lone first name: `die Kollegin Maike`, `Sohn Ben`.
        if found.len() == before
            && ws.is_given(i, false)
            && i > 0
            && ws.space(i - 1)
            && ws.role_cue(i - 1)
        {
            found.push((i, i, "person.role_given_name"));
        }
        // Given name(s) + family name, in capitalised or lower-case text.
        if found.len() == before {
            let lower = c == Case::Lower;
            if let Some(e) = ws.chain(i, lower) {
                found.push((
                    i,
                    e,
                    if lower {
                        "person.lowercase"
                    } else {
                        "person.given_name"
                    },
                ));
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
            if (ws.gap(j - 1) == ". " || ws.gap(j - 1) == ".")
                && ws.surname_ok(j, false)
                && ws.case[j] == Case::Cap
            {
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
    let mut spans: Vec<(usize, usize, &'static str)> = found
        .into_iter()
        .map(|(a, b, d)| (t.words[a].start, t.words[b].end, d))
        .chain(extra)
        .collect();
    spans.sort_by_key(|&(s, e, _)| (s, std::cmp::Reverse(e)));
    let mut merged: Vec<(usize, usize, &'static str)> = Vec::with_capacity(spans.len());
    for (s, e, d) in spans {
        match merged.last_mut() {
            Some(last) if s < last.1 => last.1 = last.1.max(e),
            _ => merged.push((s, e, d)),
        }
    }
    merged.retain(|&(s, e, _)| !suppressed(t.fold_of(s, e)));
    // User names derived from a family name named in the text (`nostendorff78`): lower-case
    // ASCII tokens with digits that contain such a family name.
    let mut surnames: Vec<String> = merged
        .iter()
        .filter_map(|&(s, e, _)| {
            t.fold_of(s, e)
                .split(|c: char| !c.is_alphabetic())
                .rfind(|w| w.chars().count() >= 5)
        })
        .map(transliterate)
        .collect();
    surnames.sort_unstable();
    surnames.dedup();
    if !surnames.is_empty() {
        let mut derived = Vec::new();
        for w in &t.words {
            let f = t.fold_of(w.start, w.end);
            let token_ok = f.len() >= 6
                && f.bytes().any(|b| b.is_ascii_digit())
                && f.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
            if token_ok
                && !merged.iter().any(|&(s, e, _)| s < w.end && w.start < e)
                && surnames.iter().any(|sn| f.contains(sn.as_str()))
            {
                derived.push((w.start, w.end, "person.derived_user_name"));
            }
        }
        merged.extend(derived);
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
    if i + 1 >= n || !ws.is_given(i + 1, false) || ws.is_given(i, false) {
        return false;
    }
    let g = ws.gap(i);
    if !matches!(g, ", " | "," | "; " | ";") || !ws.surname_ok(i, false) {
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
    if ws
        .t
        .prev_char(s)
        .is_some_and(|c| c.is_alphanumeric() || c == '.')
    {
        return false;
    }
    !(i > 0 && ws.has(i - 1, INIT_BLOCK))
}

fn user_name_like(w: &str) -> bool {
    if !w
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_')
    {
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
    letters.len() >= 5
        && LEX
            .family
            .iter()
            .any(|f| f.is_ascii() && letters.contains(f))
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

/// Single suppressed names (`true`) and last words of suppressed full names (`false`).
static SUPPRESSED_WORDS: LazyLock<HashMap<&'static str, bool, BuildHasherDefault<FxLike>>> =
    LazyLock::new(|| {
        let mut m: HashMap<&'static str, bool, BuildHasherDefault<FxLike>> = HashMap::default();
        for s in lex::SUPPRESSED_NAMES {
            match s.rsplit(' ').next() {
                Some(last) if s.contains(' ') => {
                    m.entry(last).or_insert(false);
                }
                _ => {
                    m.insert(s, true);
                }
            }
        }
        m
    });

fn suppressed(fold: &str) -> bool {
    let mut full_name_candidate = false;
    for w in fold
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        match SUPPRESSED_WORDS.get(w) {
            Some(true) => return true,
            Some(false) => full_name_candidate = true,
            None => {}
        }
    }
    full_name_candidate
        && lex::SUPPRESSED_NAMES
            .iter()
            .any(|s| s.contains(' ') && fold.contains(s))
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
        assert_eq!(
            names("an Herrn Dr. Jonas Albers-Okafor,"),
            vec!["Jonas Albers-Okafor"]
        );
        assert_eq!(
            names("Antragstellerin Olga Gündoğdu, Im Wiesengrund"),
            vec!["Olga Gündoğdu"]
        );
        assert_eq!(
            names("Eigentümerin Dr. Anna von Ostenbrück sowie"),
            vec!["Anna von Ostenbrück"]
        );
        assert_eq!(
            names("das Ehepaar Sven und Greta Lindqvist-Brandt;"),
            vec!["Sven und Greta Lindqvist-Brandt"]
        );
        assert_eq!(
            names("bitte schreib an zeynep rautenfeld, dass"),
            vec!["zeynep rautenfeld"]
        );
        assert_eq!(names("Hallo herrn petrović,"), vec!["petrović"]);
    }

    #[test]
    fn forms_initials_and_user_names() {
        assert_eq!(
            names("Inhaber: WEIDENBACH, BASTIAN, geboren"),
            vec!["WEIDENBACH, BASTIAN"]
        );
        assert_eq!(
            names("Nachname: Petrović\nVorname: Malte\n"),
            vec!["Petrović", "Malte"]
        );
        assert_eq!(names("Unterschrift 'M. Ballhorn'."), vec!["M. Ballhorn"]);
        assert_eq!(
            names("Nutzer 'gweidenbach78' postet"),
            vec!["gweidenbach78"]
        );
        assert!(names("user=antrag4711 src").is_empty());
        assert_eq!(names("Brenner; Yusuf; DE34"), vec!["Brenner; Yusuf"]);
        assert_eq!(
            names("P<D<<BRANDSTETT<<LIOBA<MARIE<<<<<<"),
            vec!["BRANDSTETT<<LIOBA<MARIE"]
        );
        assert_eq!(names("Die Klientin J. W. bezieht"), vec!["J. W"]);
        assert_eq!(
            names("Login-Name nostendorp78 gesperrt, Frau Ostendorp informieren"),
            vec!["nostendorp78", "Ostendorp"]
        );
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
