//! Postal addresses and dates of birth (SPEC 5.2, 5.3).
//!
//! Addresses: German street grammar (suffix compounds `…straße 12`, two-word streets
//! `Kölner Straße 12`, prefix streets `Zur Alten Ziegelei 139`) with optional `PLZ Ort`;
//! candidates count only when a person is attached (decided by the pipeline through
//! [`keep_address`]). Dates of birth: German date grammar with calendar check and a trigger
//! word (`geb.`, `geboren`, `Geburtsdatum`, `*`, …) right before the date, `Jahrgang 1975`,
//! or a date in a person record row (`Name; Vorname; Datum`).
//!
//! Must not: report meeting dates, deadlines, law dates, planning/traffic addresses or public
//! buildings, keep values, or log.

use std::sync::LazyLock;

use regex::Regex;

use super::hits::{digit_windows, has_any, needles, rank, Hit};
use super::ids_numeric::before;
use super::text::Text;
use super::types::Category;

macro_rules! re {
    ($name:ident, $pat:expr) => {
        #[allow(clippy::expect_used)] // constant pattern, covered by tests
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect($pat));
    };
}

#[rustfmt::skip]
const SUFFIX: &str = "straße|strasse|str\\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|steig|stieg|pfad|markt|kamp|hof|berg|graben|wall|garten|winkel|höhe|zeile|hang|grund|brücke|bogen|twiete|redder|anger|aue|tor|park|steg|deich|siedlung";
#[rustfmt::skip]
const WORD_SUFFIX: &str = "Straße|Strasse|Str\\.|Weg|Allee|Platz|Gasse|Ring|Damm|Ufer|Markt|Chaussee|Steig|Pfad|Kamp|Berg|Graben|Wall|Garten|Tor|Brücke|Hof|Deich";
#[rustfmt::skip]
const PREFIX: &str = "Am|An der|An den|Auf dem|Auf der|Auf den|Im|In der|In den|Zum|Zur|Unter den|Hinter der|Hinter dem|Hinter den|Vor dem|Vor der|Bei der|Alte[rsn]?|Alt|Neue[rsn]?|Große[rsn]?|Kleine[rsn]?|Hohe[rsn]?|Lange[rsn]?|Breite[rsn]?";

static STREET: LazyLock<Regex> = LazyLock::new(|| {
    const UP: &str = "A-ZÀ-ÖØ-Þ";
    const LET: &str = "A-Za-zÀ-ÖØ-öø-ÿĀ-ž";
    let pat = format!(
        r"(?:(?P<sfx>[{LET}][{LET}.-]*?(?i:{SUFFIX}))|[{UP}][{LET}-]+[ ](?:{WORD_SUFFIX})|(?P<pre>(?:{PREFIX})[ ](?P<w1>[{UP}][{LET}-]+)(?:[ ][{UP}][{LET}-]+)?))[ ]?(?P<no>[0-9]{{1,3}})(?:[ ]?[a-zA-Z](?-u:\b))?(?P<range>[ ]?[-/][ ]?[0-9]{{1,3}}[a-zA-Z]?)?(?P<plz>,?[ \t]*\n?[ \t]*(?:D-)?[0-9]{{5}}[ \t]+[{LET}][{LET}-]+(?:[ \t]+(?:am|an der|an|im|in der|ob der|bei)[ \t]+[{UP}][{LET}-]+|[ \t]?\([{LET} ]+\))?)?"
    );
    #[allow(clippy::expect_used)] // constant pattern, covered by tests
    Regex::new(&pat).expect("street pattern")
});
re!(
    PLZ_ONLY,
    r"(?:wohnhaft|wohnt|wohnort|wohnen|gemeldet)(?:[ ]in)?[ :]+([0-9]{5}[ ]+[\p{L}][\p{L}-]+)"
);
re!(
    DATE,
    r"(?i)([0-9]{1,2})\.[ ]?([0-9]{1,2})\.[ ]?([0-9]{4}|[0-9]{2})|([0-9]{1,2})\.[ ]?(januar|februar|märz|maerz|april|mai|juni|juli|august|september|oktober|november|dezember|jan\.|feb\.|febr\.|mär\.|apr\.|jun\.|jul\.|aug\.|sep\.|sept\.|okt\.|nov\.|dez\.)[ ]?([0-9]{4})|([0-9]{4})-([0-9]{2})-([0-9]{2})"
);
re!(
    TRIGGER,
    r"(?:geb\.|geboren|geburtsdatum|geb\.-dat\.?|gebdat|geb\.-datum|geburtstag|born|dob|date of birth|\*)[ \t:,.-]*(?:(?:am|den|on|ist|war)[ \t:,.-]*)?$"
);
re!(JAHRGANG, r"(?i)Jahrgang[ ]?((?:19|20)[0-9]{2})");

/// Endings of lower-case street words before a house number (chat input).
#[rustfmt::skip]
const STREET_ENDINGS: &[&str] =
    &["straße", "strasse", "str", "weg", "allee", "platz", "gasse", "ring", "damm", "ufer", "markt", "pfad", "kamp", "graben", "wall"];
#[rustfmt::skip]
const PREFIX_STOP: &[&str] = &[
    "jahr", "jahre", "jahres", "monat", "tag", "montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag",
    "sonntag", "januar", "februar", "märz", "april", "mai", "juni", "juli", "august", "september", "oktober",
    "november", "dezember", "rahmen", "fall", "auftrag", "namen", "zeitraum", "vorjahr", "zimmer", "raum", "saal",
    "kapitel", "abschnitt", "alter", "durchschnitt", "schnitt", "vergleich", "gegensatz", "anschluss", "ende",
    "anfang", "laufe", "bereich", "sinne", "hinblick", "zuge", "gebiet", "stadtgebiet", "bezirk", "ortsteil",
    "haushalt", "haushaltsjahr", "ergebnis", "mittel", "übrigen", "wesentlichen", "einzelnen", "sitzung", "termin",
    "wochenende", "sommer", "winter", "frühjahr", "herbst", "moment", "quartal", "artikel", "absatz", "satz", "punkt",
    "nummer", "rang", "stand", "kreis", "landkreis", "rat", "ausschuss", "gebäude", "erdgeschoss", "obergeschoss",
    "stock", "block", "team", "verfahren", "schuljahr", "jahrgang", "zeitpunkt", "januar", "fokus", "vorfeld",
];
#[rustfmt::skip]
const SUFFIX_STOP: &[&str] = &[
    "anhang", "zusammenhang", "umfang", "eingang", "ausgang", "übergang", "vorgang", "hintergrund", "grund",
    "abgrund", "untergrund", "vordergrund", "arbeitsmarkt", "wohnungsmarkt", "weihnachtsmarkt", "flohmarkt",
    "supermarkt", "binnenmarkt", "arbeitsweg", "schulweg", "rechtsweg", "bildungsweg", "dienstweg", "umweg",
    "ausweg", "rückweg", "arbeitsplatz", "stellplatz", "parkplatz", "spielplatz", "sportplatz", "bahnhof",
    "friedhof", "innenhof", "hinterhof", "bauhof", "wertstoffhof", "betriebshof", "schulhof", "kindergarten",
    "beitragshöhe", "höhe", "platz", "markt", "weg", "ring", "hof", "berg", "park", "tor", "aue", "steg", "hang",
    "wall", "ufer", "damm", "bogen", "winkel", "garten", "grund", "nürnberg", "heidelberg", "bamberg", "freiberg",
    "wittenberg", "königsberg", "würzburg", "zeile", "siedlung", "deich", "steig", "pfad", "anger", "graben",
    "tiergarten", "rosengarten", "stadtpark", "kurpark", "freizeitpark", "windpark", "solarpark", "gewerbepark",
    "nationalpark", "themenpark", "wohnpark", "fuhrpark", "gebäudering", "autobahnring",
];
#[rustfmt::skip]
const UNITS: &[&str] = &[
    "uhr", "jahre", "jahren", "jahr", "eur", "euro", "€", "prozent", "%", "km", "m", "qm", "m²", "personen", "plätze",
    "stück", "mal", "tage", "tagen", "wochen", "monate", "monaten", "minuten", "stunden", "kinder", "fälle",
    "seiten", "mio", "tsd", "cent", "ct", "stimmen", "punkte", "x", "kg", "t", "l", "mitglieder", "einwohner",
    "wohnungen", "betten", "räume",
];
#[rustfmt::skip]
const PUBLIC_BUILDINGS: &[&str] = &["rathaus", "markt 1", "am rathaus", "rathausplatz", "rathausmarkt", "stadthaus", "kreishaus"];
/// Cue words that attach an address to a person (SPEC 5.2), folded.
#[rustfmt::skip]
const ADDRESS_CUES: &[&str] = &[
    "wohnhaft", "wohnt", "wohnen", "anschrift", "adresse", "meldeadresse", "wohnanschrift", "wohnort", "zugezogen",
    "umgezogen", "umzug", "einzug", "antragsteller", "eigentümer", "mieter", "bürger", "empfänger", "absender",
    "postanschrift", "zustell", "lieferanschrift", "c/o", "meldebestätigung", "ummeldung", "anmeldung", "zieht",
];
needles!(ADDRESS_CUES_AC, ADDRESS_CUES);
/// Planning/traffic context (SPEC 5.2): no person attached unless one is named.
#[rustfmt::skip]
const PLANNING_CUES: &[&str] = &[
    "bebauungsplan", "baustelle", "gesperrt", "sperrung", "umleitung", "flurstück", "hausnummer", "ladesäule",
    "kreuzung", "verkehr", "baumaßnahme", "bauarbeiten", "straßenbau", "planung", "veranstaltung", "festsetzung",
];
needles!(PLANNING_CUES_AC, PLANNING_CUES);

/// Appends ADDRESS candidates (`address.street`, `address.postcode`) and DATE_OF_BIRTH hits
/// (`dob.trigger`, `dob.jahrgang`, `dob.record`) of `t` to `out`.
pub(crate) fn detect(t: &Text<'_>, out: &mut Vec<Hit>) {
    streets(t, out);
    dates(t, out);
}

fn streets(t: &Text<'_>, out: &mut Vec<Hit>) {
    let s = t.s();
    // An address has a house number: scan windows around digit runs, widened to whole words.
    // Only digits right after a street word (capitalised, or ending like a street) can be a
    // house number.
    let b = s.as_bytes();
    let street_before = |d: usize| {
        let mut e = d;
        if e > 0 && b[e - 1] == b' ' {
            e -= 1;
        }
        let word_start = s[..e]
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_alphabetic() || c == '.' || c == '-'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let w = &s[word_start..e];
        w.chars().next().is_some_and(char::is_uppercase)
            || (w.len() > 3 && {
                let f = t.fold[word_start..e].trim_end_matches('.');
                STREET_ENDINGS.iter().any(|x| f.ends_with(x))
            })
    };
    let mut windows = digit_windows(t, 70, 60, street_before);
    for w in windows.iter_mut() {
        while w.0 > 0 && !s[..w.0].ends_with([' ', '\n', '\t']) {
            w.0 -= t.prev_char(w.0).map_or(1, char::len_utf8);
        }
    }
    let mut last_end = 0;
    for (w0, w1) in windows {
        let w0 = w0.max(last_end);
        let sub = &s[w0..w1];
        let mut pos = 0;
        while pos < sub.len() {
            let Some(c) = STREET.captures_at(sub, pos) else {
                break;
            };
            let Some(m) = c.get(0) else { break };
            pos = m.end().max(m.start() + 1);
            while pos < sub.len() && !sub.is_char_boundary(pos) {
                pos += 1;
            }
            let (a, mut b) = (w0 + m.start(), w0 + m.end());
            if t.prev_char(a)
                .is_some_and(|ch| ch.is_alphanumeric() || ch == '-')
            {
                // Started inside a word: retry from the next character.
                pos = m.start() + t.next_char(a).map_or(1, char::len_utf8);
                continue;
            }
            if let Some(sfx) = c.name("sfx") {
                if SUFFIX_STOP.contains(&t.fold_of(w0 + sfx.start(), w0 + sfx.end())) {
                    continue;
                }
            }
            if let Some(g) = c.name("w1") {
                if PREFIX_STOP.contains(&t.fold_of(w0 + g.start(), w0 + g.end())) {
                    continue;
                }
            }
            let Some(no) = c.name("no") else { continue };
            if c.name("plz").is_none() {
                // A house number must end the number: no decimals, dates, times or units.
                let after = &s[b..];
                if after.starts_with(|ch: char| ch.is_ascii_digit())
                    || [".", ":", ","].iter().any(|p| {
                        after.starts_with(p)
                            && after[1..].starts_with(|ch: char| ch.is_ascii_digit())
                    })
                {
                    continue;
                }
                let next_word: String = t.fold[b..]
                    .trim_start()
                    .chars()
                    .take_while(|ch| ch.is_alphanumeric() || *ch == '%' || *ch == '€')
                    .collect();
                if UNITS.contains(&next_word.as_str()) || no.as_str() == "0" {
                    continue;
                }
            }
            if let Some(plz) = c.name("plz") {
                let d: String = plz.as_str().chars().filter(char::is_ascii_digit).collect();
                if d.starts_with("00") || d == "99999" {
                    b = w0 + plz.start();
                }
            }
            if PUBLIC_BUILDINGS
                .iter()
                .any(|p| t.fold_of(a, b).starts_with(p))
            {
                continue;
            }
            let det = if c.name("range").is_some() {
                "address.range"
            } else {
                "address.street"
            };
            out.push(Hit::new(
                Category::Address,
                a,
                b.min(s.len()),
                det,
                rank::ADDRESS,
            ));
            last_end = last_end.max(b);
        }
    }
    for c in PLZ_ONLY.captures_iter(&t.fold) {
        if let Some(g) = c.get(1) {
            out.push(Hit::new(
                Category::Address,
                g.start(),
                g.end(),
                "address.postcode",
                rank::ADDRESS,
            ));
        }
    }
}

/// Whether an ADDRESS candidate is attached to a person: a person in scope, or a cue word /
/// soft person reference in its sentence, and no planning/traffic context or house-number
/// range without a named person.
pub(crate) fn keep_address(
    t: &Text<'_>,
    h: &Hit,
    person_near: bool,
    soft_ref: impl FnOnce() -> bool,
) -> bool {
    if person_near {
        return true;
    }
    let (ss, se) = t.sentences_of(h.start, h.end);
    let sentence = t.fold_of(ss, se);
    if h.det == "address.range" || has_any(sentence, &PLANNING_CUES_AC) {
        return false;
    }
    has_any(sentence, &ADDRESS_CUES_AC) || soft_ref()
}

fn valid_date(d: u32, m: u32, y: Option<u32>) -> bool {
    if !(1..=12).contains(&m) || d == 0 {
        return false;
    }
    let leap = y.is_none_or(|y| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0);
    let days = match m {
        2 => 28 + u32::from(leap),
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    d <= days && y.is_none_or(|y| (1900..=current_year()).contains(&y))
}

fn current_year() -> u32 {
    u32::try_from(time::OffsetDateTime::now_utc().year()).unwrap_or(2100)
}

fn month_number(m: &str) -> u32 {
    const M: [&str; 12] = [
        "jan", "feb", "mär", "apr", "mai", "jun", "jul", "aug", "sep", "okt", "nov", "dez",
    ];
    let m = m.replace("maerz", "mär");
    M.iter()
        .position(|p| m.starts_with(p))
        .map_or(0, |i| i as u32 + 1)
}

/// Day, month and (four-digit) year of a folded date matched by `DATE`.
fn parse_date(m: &str) -> (u32, u32, Option<u32>) {
    let nums: Vec<&str> = m
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .collect();
    let n = |i: usize| nums.get(i).and_then(|p| p.parse::<u32>().ok()).unwrap_or(0);
    let year = |i: usize| {
        nums.get(i)
            .filter(|p| p.len() == 4)
            .and_then(|p| p.parse::<u32>().ok())
    };
    if m.contains('-') {
        (n(2), n(1), year(0))
    } else if nums.len() == 3 {
        (n(0), n(1), year(2))
    } else {
        let word: String = m.chars().filter(|c| c.is_alphabetic()).collect();
        (n(0), month_number(&word), year(1))
    }
}

fn dates(t: &Text<'_>, out: &mut Vec<Hit>) {
    let s = t.s();
    let b = s.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    // Dates start with `d.`, `dd.` or `dddd-`.
    let windows = digit_windows(t, 0, 32, |d| {
        at(d + 1) == b'.' || at(d + 2) == b'.' || at(d + 4) == b'-'
    });
    let found = windows.iter().flat_map(|&(wa, wb)| {
        DATE.find_iter(&s[wa..wb])
            .map(move |m| (wa + m.start(), wa + m.end()))
    });
    for (a, b) in found {
        if t.prev_char(a)
            .is_some_and(|ch| ch.is_ascii_digit() || ch == '.')
            || t.next_char(b).is_some_and(|ch| ch.is_ascii_digit())
            || (t.next_char(b) == Some('.')
                && t.next_char(b + 1).is_some_and(|ch| ch.is_ascii_digit()))
        {
            continue;
        }
        let (d, mo, y) = parse_date(&t.fold[a..b]);
        if !valid_date(d, mo, y) {
            continue;
        }
        let line_start = t.line_range(t.line_of(a)).0;
        let pre = before(t, a, 40);
        let pre = &pre[pre.len().saturating_sub(a - line_start)..];
        if let Some(tm) = TRIGGER.find(pre) {
            let star_at_line_start =
                pre[tm.start()..].starts_with('*') && pre[..tm.start()].trim().is_empty();
            if !star_at_line_start {
                out.push(Hit::new(
                    Category::DateOfBirth,
                    a,
                    b,
                    "dob.trigger",
                    rank::DOB,
                ));
                continue;
            }
        }
        // Person record rows (`Name; Vorname; 12.03.1980`): kept by the pipeline only when
        // a person is named on the same line.
        let (ls, le) = t.line_range(t.line_of(a));
        let line = &s[ls..le];
        if (line.matches(';').count() >= 2 || line.matches('\t').count() >= 2)
            && y.is_some_and(|y| y + 10 <= current_year())
        {
            out.push(Hit::new(
                Category::DateOfBirth,
                a,
                b,
                "dob.record",
                rank::DOB,
            ));
        }
    }
    for c in JAHRGANG.captures_iter(s) {
        if let Some(g) = c.get(1) {
            out.push(Hit::new(
                Category::DateOfBirth,
                g.start(),
                g.end(),
                "dob.jahrgang",
                rank::DOB,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Vec<(Category, &'static str, String)> {
        let t = Text::new(s).unwrap_or_else(|_| panic!("text"));
        let mut out = Vec::new();
        detect(&t, &mut out);
        out.iter()
            .map(|h| (h.cat, h.det, s[h.start..h.end].to_string()))
            .collect()
    }

    #[test]
    fn street_shapes() {
        assert_eq!(
            run("an Frau X, Zur Alten Ziegelei 139, 10115 Berlin, zu")[0].2,
            "Zur Alten Ziegelei 139, 10115 Berlin"
        );
        assert_eq!(
            run("Kastanienallee 108, 44135 Dortmund, Einzug")[0].2,
            "Kastanienallee 108, 44135 Dortmund"
        );
        assert_eq!(run("an x, lindenstraße 8a, dass")[0].2, "lindenstraße 8a");
        assert_eq!(run("wohnt Kölner Straße 12 in")[0].2, "Kölner Straße 12");
        assert_eq!(
            run("Die Brunnenstraße 1-15 ist gesperrt")[0].1,
            "address.range"
        );
        assert!(run("Im Jahr 2024 bezogen 12 Personen").is_empty());
        assert!(run("Zwischen Hausnummer 12 und 18 im Anhang 3").is_empty());
        assert!(run("Rathausplatz 1, 50667 Köln").is_empty());
    }

    #[test]
    fn dates_of_birth() {
        assert_eq!(
            run("Nikolai D., * 2.3.49, neue"),
            vec![(Category::DateOfBirth, "dob.trigger", "2.3.49".into())]
        );
        assert_eq!(
            run("Kind X, geboren 12. Juni 2012, Wunsch"),
            vec![(Category::DateOfBirth, "dob.trigger", "12. Juni 2012".into())]
        );
        assert_eq!(
            run("geb. 20.08.1947, beantragt"),
            vec![(Category::DateOfBirth, "dob.trigger", "20.08.1947".into())]
        );
        assert!(run("Sitzung am 14.03.2025 um 17:00 Uhr; Frist bis 07.03.2025").is_empty());
        assert!(run("Das Gesetz vom 23.12.2003 ist am 01.01.2005 in Kraft").is_empty());
        assert!(run("* 12.03.2025 Sitzung").is_empty());
        assert!(run("geboren am 31.02.1980").is_empty());
    }
}
