//! Alphanumeric identifiers (SPEC 4.3–4.6, 4.8, 4.9, 4.11, 4.13): IBAN (ISO 13616 MOD 97-10,
//! lower case and one line break tolerated), BIC (ISO 9362, labelled only), USt-IdNr.
//! (MOD 11,10), Rentenversicherungsnummer (VKVV), KVNR (§ 290 SGB V), Personalausweis/
//! Reisepass numbers (restricted alphabet + context; MRZ form with ICAO 7-3-1), Kfz-Kennzeichen
//! (case-sensitive, district list or vehicle context), Handelsregister HRA and Jobcenter
//! numbers (§ 51a SGB II).
//!
//! Must not: report a value that fails its check digit, keep values, or log.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use super::checksum::{iban_length, iban_valid, icao_check, kvnr_valid, rvnr_valid, vat_de_valid};
use super::hits::{
    alnum_upper, captures_bounded, digit_windows, digits, find_bounded, find_in_windows, has_any,
    needles, no_alnum_after, no_alnum_before, rank, upper_at, Hit,
};
use super::ids_numeric::before;
use super::kfz_codes;
use super::text::Text;
use super::types::Category;

macro_rules! re {
    ($name:ident, $pat:expr) => {
        #[allow(clippy::expect_used)] // constant pattern, covered by tests
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect($pat));
    };
}

re!(
    IBAN,
    r"(?i)[a-z]{2}[0-9]{2}(?:[ \t]{0,2}\n?[ \t]{0,2}[a-z0-9]){11,30}"
);
re!(
    BIC,
    r"(?:BIC|SWIFT|Swift|S\.W\.I\.F\.T\.)(?:[- ]?[Cc]ode)?[ \t]*[:.]?[ \t]*([A-Z]{6}[A-Z0-9]{2}(?:[A-Z0-9]{3})?)"
);
// Separators: a space, `.`, `-` or one line break (PDF copies, SPEC 3.2).
re!(
    VAT,
    r"(?i)DE(?:[ .-]|[ \t]*\n[ \t]*)?[0-9]{3}(?:[ .-]|[ \t]*\n[ \t]*)?[0-9]{3}(?:[ .-]|[ \t]*\n[ \t]*)?[0-9]{3}"
);
re!(
    RVNR,
    r"[0-9]{2}(?:[ /-]|[ \t]*\n[ \t]*)?[0-9]{6}(?:[ /-]|[ \t]*\n[ \t]*)?[A-Za-z](?:[ /-]|[ \t]*\n[ \t]*)?[0-9]{2}(?:[ /-]|[ \t]*\n[ \t]*)?[0-9]"
);
// Letter + 9 digits, printed compact or with single spaces (`A 123 456 780`).
re!(KVNR, r"[A-Z](?:[ ]?[0-9]){9}");
re!(DOC_FRONT, r"[CFGHJKLMNPRTVWXY][CFGHJKLMNPRTVWXYZ0-9]{8}");
re!(MRZ_ID, r"IDD<<([CFGHJKLMNPRTVWXYZ0-9]{9})([0-9])");
re!(MRZ_PASS, r"([CFGHJK][CFGHJKLMNPRTVWXYZ0-9]{8})([0-9])D<<");
re!(
    KFZ,
    r"[A-ZÄÖÜ]{1,3}(?:-| |- )[A-Z]{1,2}[ -]?[1-9][0-9]{0,3}[EH]?"
);
re!(
    HR,
    r"(HRA|HRB|GnR|PR|VR)[ ]?[0-9]{1,6}(?:[ ]?[A-Z]{1,2}(?-u:\b))?"
);
re!(BA_BG, r"[0-9]{5}[ ]?(?://)?[ ]?BG[ ]?[0-9]{7}");
re!(BA_KD, r"[0-9]{3}[A-Z][0-9]{6}");

static KFZ_CODES: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| kfz_codes::CODES.split_whitespace().collect());

/// The widely published example IBAN (SPEC 3.3).
#[rustfmt::skip]
const EXAMPLE_IBANS: &[&str] = &["DE89370400440532013000"];
/// Specimen document numbers of the Bundesdruckerei (SPEC 3.3).
#[rustfmt::skip]
const SPECIMEN_DOCS: &[&str] = &["L01X00T47", "C01X00T47", "T22000129"];
#[rustfmt::skip]
const DOC_CUES: &[&str] = &[
    "ausweis",
    "reisepass",
    "passnummer",
    "pass-nr",
    "passnr",
    "seriennummer",
    "dokumentennummer",
    "dokumentnummer",
    "passport",
    " pass ",
    "id-karte",
    "identitätskarte",
];
needles!(DOC_CUES_AC, DOC_CUES);
#[rustfmt::skip]
const KFZ_CUES: &[&str] = &[
    "kennzeichen",
    "kfz",
    "fahrzeug",
    "pkw",
    "lkw",
    "auto",
    "wagen",
    "halter",
    "zulassung",
    "parkausweis",
    "park",
    "abgeschleppt",
    "motorrad",
    "bußgeld",
    "geblitzt",
    "kraftrad",
    "anhänger",
    "wohnmobil",
];
needles!(KFZ_CUES_AC, KFZ_CUES);
#[rustfmt::skip]
const KFZ_PLACEHOLDERS: &[&str] = &["XX-YY 1234", "AB-CD 1234", "XY-Z 123", "XX-XX 1234"];
#[rustfmt::skip]
const WEEKDAYS: &[&str] = &["MO", "DI", "MI", "DO", "FR", "SA", "SO"];
#[rustfmt::skip]
const KVNR_NEGATIVE: &[&str] = &[
    "artikel", "bestell", "auftrag", "produkt", "serien", "teile", "modell", "rechnung", "vorgang",
    "sendung", "los",
];
needles!(KVNR_NEGATIVE_AC, KVNR_NEGATIVE);
#[rustfmt::skip]
const BA_CUES: &[&str] = &[
    "kundennummer",
    "kunden-nr",
    "kundennr",
    "jobcenter",
    "agentur für arbeit",
    "arbeitsagentur",
    "bg-nummer",
    "bedarfsgemeinschaft",
    "leistungsbezieh",
];
needles!(BA_CUES_AC, BA_CUES);

/// Folded scope text around a span (sentence plus ±1 line, clipped to ±15 words).
pub(crate) fn near<'t>(t: &'t Text<'_>, s: usize, e: usize) -> &'t str {
    let (a, b) = t.scope(s, e, 15);
    t.fold_of(a, b)
}

/// Appends hits of the alphanumeric identifiers of `t` to `out`. `allow` holds exact
/// upper-case alphanumeric values that are never reported (configured allowlist).
pub(crate) fn detect(t: &Text<'_>, allow: &HashSet<String>, out: &mut Vec<Hit>) {
    let s = t.s();
    ibans(t, allow, out);
    for c in captures_bounded(&BIC, s, |c| {
        c.get(1).is_some_and(|m| no_alnum_after(t, m.end()))
    }) {
        if let Some(m) = c.get(1) {
            out.push(Hit::new(
                Category::Bic,
                m.start(),
                m.end(),
                "bic.labelled",
                rank::STRUCTURED,
            ));
        }
    }
    let bytes = s.as_bytes();
    let vat_w = digit_windows(t, 6, 24, |d| before(t, d, 6).contains("de"));
    for (a, b) in find_in_windows(&VAT, s, &vat_w, |a, b| {
        no_alnum_before(t, a) && no_alnum_after(t, b)
    }) {
        let d = digits(&s[a..b]);
        if s[a..b].matches('\n').count() <= 1
            && vat_de_valid(&d)
            && !allow.contains(&String::from_utf8_lossy(&alnum_upper(&s[a..b])).into_owned())
        {
            out.push(Hit::new(
                Category::DeVatId,
                a,
                b,
                "vat_id.mod11_10",
                rank::VALIDATED,
            ));
        }
    }
    let rv_w = digit_windows(t, 0, 28, |d| {
        bytes[d..(d + 11).min(bytes.len())]
            .iter()
            .filter(|c| c.is_ascii_digit())
            .count()
            >= 8
    });
    for (a, b) in find_in_windows(&RVNR, s, &rv_w, |a, b| {
        no_alnum_before(t, a) && no_alnum_after(t, b)
    }) {
        if s[a..b].matches('\n').count() <= 1 && rvnr_valid(&alnum_upper(&s[a..b])) {
            out.push(Hit::new(
                Category::DeRvnr,
                a,
                b,
                "rvnr.vkvv",
                rank::VALIDATED,
            ));
        }
    }
    let kv_w = digit_windows(t, 2, 14, |d| {
        (d > 0 && upper_at(s, d - 1)) || (d > 1 && bytes[d - 1] == b' ' && upper_at(s, d - 2))
    });
    for (a, b) in find_in_windows(&KVNR, s, &kv_w, |a, b| {
        no_alnum_before(t, a) && no_alnum_after(t, b)
    }) {
        if kvnr_valid(&alnum_upper(&s[a..b])) && !has_any(before(t, a, 30), &KVNR_NEGATIVE_AC) {
            out.push(Hit::new(
                Category::DeKvnr,
                a,
                b,
                "kvnr.sgb5",
                rank::VALIDATED,
            ));
        }
    }
    documents(t, out);
    kfz(t, out);
    for c in captures_bounded(&HR, s, |c| {
        c.get(0)
            .is_some_and(|m| no_alnum_before(t, m.start()) && no_alnum_after(t, m.end()))
    }) {
        if let (Some(m), Some(kind)) = (c.get(0), c.get(1)) {
            if kind.as_str() == "HRA" {
                out.push(Hit::new(
                    Category::DeHandelsregister,
                    m.start(),
                    m.end(),
                    "handelsregister.hra",
                    rank::STRUCTURED,
                ));
            }
        }
    }
    for (a, b) in find_bounded(&BA_BG, s, |a, b| {
        no_alnum_before(t, a) && no_alnum_after(t, b)
    }) {
        out.push(Hit::new(
            Category::DeBaNumber,
            a,
            b,
            "ba_number.bg",
            rank::STRUCTURED,
        ));
    }
    let kd_w = digit_windows(t, 0, 11, |d| {
        upper_at(s, d + 3)
            && bytes
                .get(d..d + 3)
                .is_some_and(|x| x.iter().all(u8::is_ascii_digit))
    });
    for (a, b) in find_in_windows(&BA_KD, s, &kd_w, |a, b| {
        no_alnum_before(t, a) && no_alnum_after(t, b)
    }) {
        if has_any(near(t, a, b), &BA_CUES_AC) {
            out.push(Hit::new(
                Category::DeBaNumber,
                a,
                b,
                "ba_number.kundennummer",
                rank::STRUCTURED,
            ));
        }
    }
}

fn ibans(t: &Text<'_>, allow: &HashSet<String>, out: &mut Vec<Hit>) {
    let s = t.s();
    let b = s.as_bytes();
    for &d in &t.digit_starts {
        // Country code: two ASCII letters right before the check digits.
        if d < 2 || !b[d - 1].is_ascii_alphabetic() || !b[d - 2].is_ascii_alphabetic() {
            continue;
        }
        let ms = d - 2;
        if !no_alnum_before(t, ms)
            || out
                .last()
                .is_some_and(|h| h.cat == Category::Iban && h.end > ms)
        {
            continue;
        }
        let mut we = (ms + 100).min(s.len());
        while !s.is_char_boundary(we) {
            we -= 1;
        }
        let Some(m) = IBAN.find(&s[ms..we]).filter(|m| m.start() == 0) else {
            continue;
        };
        let me = ms + m.end();
        let cc = s[ms..ms + 2].to_ascii_uppercase();
        let Some(len) = iban_length(cc.as_bytes()) else {
            continue;
        };
        // Take exactly `len` alphanumerics.
        let mut n = 0;
        let mut end = ms;
        for (i, ch) in s[ms..me].char_indices() {
            if ch.is_ascii_alphanumeric() {
                n += 1;
                if n == len {
                    end = ms + i + 1;
                    break;
                }
            }
        }
        if n < len || !no_alnum_after(t, end) || s[ms..end].matches('\n').count() > 1 {
            continue;
        }
        let v = alnum_upper(&s[ms..end]);
        let vs = String::from_utf8_lossy(&v).into_owned();
        if iban_valid(&v) && !EXAMPLE_IBANS.contains(&vs.as_str()) && !allow.contains(&vs) {
            out.push(Hit::new(
                Category::Iban,
                ms,
                end,
                "iban.mod97",
                rank::VALIDATED,
            ));
        }
    }
}

fn documents(t: &Text<'_>, out: &mut Vec<Hit>) {
    let s = t.s();
    for (re, det) in [(&*MRZ_ID, "id_card.mrz"), (&*MRZ_PASS, "passport.mrz")] {
        for c in re.captures_iter(s) {
            let (Some(num), Some(chk)) = (c.get(1), c.get(2)) else {
                continue;
            };
            let ok = icao_check(num.as_str().as_bytes()) == Some(chk.as_str().as_bytes()[0] - b'0');
            if ok && !SPECIMEN_DOCS.contains(&num.as_str()) {
                let cat = if det.starts_with("passport") {
                    Category::DePassport
                } else {
                    Category::DeIdCard
                };
                out.push(Hit::new(cat, num.start(), chk.end(), det, rank::VALIDATED));
            }
        }
    }
    if !has_any(&t.fold, &DOC_CUES_AC) {
        return;
    }
    // A document number contains a digit: scan only around digit runs.
    let windows = digit_windows(t, 8, 9, |_| true);
    for (a, b) in find_in_windows(&DOC_FRONT, s, &windows, |a, b| {
        no_alnum_before(t, a) && no_alnum_after(t, b)
    }) {
        let v = &s[a..b];
        if !v.bytes().any(|c| c.is_ascii_digit())
            || SPECIMEN_DOCS.contains(&v)
            || !has_any(near(t, a, b), &DOC_CUES_AC)
        {
            continue;
        }
        let first = v.as_bytes()[0];
        let (cat, det) = if b"CFGHJK".contains(&first) {
            (Category::DePassport, "passport.front")
        } else {
            (Category::DeIdCard, "id_card.front")
        };
        out.push(Hit::new(cat, a, b, det, rank::STRUCTURED));
    }
}

fn kfz(t: &Text<'_>, out: &mut Vec<Hit>) {
    let s = t.s();
    let free = |c: Option<char>| !c.is_some_and(|c| c.is_alphanumeric() || c == '-');
    let b = s.as_bytes();
    let windows = digit_windows(t, 12, 6, |d| {
        b[d] != b'0' && (1..=4).any(|k| d >= k && b[d - k].is_ascii_uppercase())
    });
    for (a, b) in find_in_windows(&KFZ, s, &windows, |a, b| {
        free(t.prev_char(a)) && free(t.next_char(b))
    }) {
        let v = &s[a..b];
        if KFZ_PLACEHOLDERS.contains(&v) {
            continue;
        }
        let code: String = v.chars().take_while(|c| c.is_alphabetic()).collect();
        let rest = &v[code.len()..];
        let letters: String = rest.chars().filter(char::is_ascii_uppercase).collect();
        let significant = v.chars().filter(|c| c.is_alphanumeric()).count();
        if significant > 8
            || (WEEKDAYS.contains(&code.as_str()) && WEEKDAYS.contains(&letters.as_str()))
        {
            continue;
        }
        if KFZ_CODES.contains(code.as_str()) || has_any(near(t, a, b), &KFZ_CUES_AC) {
            out.push(Hit::new(
                Category::DeKfz,
                a,
                b,
                "kfz.plate",
                rank::STRUCTURED,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Vec<(Category, String)> {
        let t = Text::new(s).unwrap_or_else(|_| panic!("text"));
        let mut out = Vec::new();
        detect(&t, &HashSet::new(), &mut out);
        out.iter()
            .map(|h| (h.cat, s[h.start..h.end].to_string()))
            .collect()
    }

    #[test]
    fn ibans_in_all_shapes() {
        assert_eq!(
            run("IBAN: DE22 3863 6574\n1526 2361 21\nBetrag"),
            vec![(Category::Iban, "DE22 3863 6574\n1526 2361 21".into())]
        );
        assert_eq!(
            run("Konto DE09171668220782710483."),
            vec![(Category::Iban, "DE09171668220782710483".into())]
        );
        assert!(run("IBAN DE89 3704 0044 0532 0130 00").is_empty());
        assert!(run("'IBAN ungültig': DE54 4268 0352 9672 0176 12.").is_empty());
    }

    #[test]
    fn ids_with_check_digits() {
        assert_eq!(
            run("USt-IdNr. DE136695976"),
            vec![(Category::DeVatId, "DE136695976".into())]
        );
        assert!(run("USt-IdNr. DE136695977").is_empty());
        assert_eq!(
            run("Nr. 15 070649 C 103."),
            vec![(Category::DeRvnr, "15 070649 C 103".into())]
        );
        assert!(run("65 170839 J 08 8").is_empty());
        assert_eq!(
            run("KVNR A123456780,"),
            vec![(Category::DeKvnr, "A123456780".into())]
        );
        assert!(run("Artikel A123456780").is_empty());
        // Spaced and line-broken forms (SPEC 3.2).
        assert_eq!(
            run("KVNR A 123 456 780."),
            vec![(Category::DeKvnr, "A 123 456 780".into())]
        );
        assert_eq!(
            run("Nr. 15 070649\nC 103"),
            vec![(Category::DeRvnr, "15 070649\nC 103".into())]
        );
        assert_eq!(
            run("USt-IdNr. DE 136\n695 976"),
            vec![(Category::DeVatId, "DE 136\n695 976".into())]
        );
    }

    #[test]
    fn documents_plates_registers() {
        assert_eq!(
            run("Ausweisnummer X8L68JGLT gemeldet"),
            vec![(Category::DeIdCard, "X8L68JGLT".into())]
        );
        assert!(run("Seriennummer L01X00T47 (Muster)").is_empty());
        assert_eq!(
            run("'IDD<<T220001293<<<' ist Muster"),
            Vec::<(Category, String)>::new()
        );
        assert!(run("Code LA4B2E9QZ im Ausweis").is_empty());
        assert_eq!(
            run("Kennzeichen SU-ZY 142, gültig"),
            vec![(Category::DeKfz, "SU-ZY 142".into())]
        );
        assert!(run("Beispiel XX-YY 1234 und ist am 01").is_empty());
        assert_eq!(
            run("HRA 4711 beim Amtsgericht, HRB 99"),
            vec![(Category::DeHandelsregister, "HRA 4711".into())]
        );
        assert_eq!(
            run("BG-Nummer 92918BG2039369"),
            vec![(Category::DeBaNumber, "92918BG2039369".into())]
        );
    }
}
