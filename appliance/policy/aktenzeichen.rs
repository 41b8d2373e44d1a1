//! AKTENZEICHEN detector (SPEC 4.12): label-led administrative file numbers (`Az.`,
//! `Geschäftszeichen`, `Fall`, `Vorgang`, …), social-court register signs (`S 4 AS 432/22`:
//! AS, SO, AY, KR, …) and other court file numbers, plus the configurable patterns of
//! [`super::PolicyDetectConfig`]. File numbers of social courts and of the KGSt offices
//! 50 (Sozialamt), 51 (Jugendamt) and 53 (Gesundheitsamt) carry detector names starting with
//! `aktenzeichen.social`, which the classification reads as a social signal.
//!
//! Must not: report empty templates (`32.1-____/2025`), court numbers of published judgments
//! without a person in scope, keep values, or log.

use std::sync::LazyLock;

use regex::Regex;

use super::hits::{captures_bounded, find_bounded, rank, Hit};
use super::text::Text;
use super::types::Category;

macro_rules! re {
    ($name:ident, $pat:expr) => {
        #[allow(clippy::expect_used)] // constant pattern, covered by tests
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect($pat));
    };
}

re!(
    LABELLED,
    r"(?:az\.?|aktenzeichen|gz\.?|geschäftszeichen|unser zeichen|ihr zeichen|fall(?:-?nr\.?|nummer)?|vorgangs?(?:nummer|-nr\.?|nr\.?)?|kassenzeichen|bescheid-nr\.?|bescheidnummer|personenkonto)[ \t]*[:.]?[ \t]*([0-9]{2}[0-9a-z./-]{3,25})"
);
re!(
    SOCIAL_COURT,
    r"[SL][ ]?[0-9]{1,3}[ ]?(?:AS|SO|AY|KR|KA|P|R|U|AL|SB|EG|KG|VE|BA|VG|VH|VJ)(?:[ ]?-?ER)?[ ]?[0-9]{1,5}/[0-9]{2}(?:[ ]?ER)?"
);
re!(
    COURT,
    r"[A-Z]?[ ]?[0-9]{1,3}[ ]?[A-Z][A-Za-z]{0,3}[ ]?[0-9]{1,5}/[0-9]{2}(?:[ ]?[A-Z]{1,3}(?-u:\b))?"
);

/// A compiled Aktenzeichen pattern from the configuration.
#[derive(Debug)]
pub(crate) struct CustomPattern {
    pub re: Regex,
    pub social: bool,
}

fn free(c: Option<char>) -> bool {
    !c.is_some_and(char::is_alphanumeric)
}

/// Appends AKTENZEICHEN hits of `t` to `out`. Court numbers other than social-court ones are
/// returned with detector `aktenzeichen.court` and kept by the pipeline only next to a
/// person.
pub(crate) fn detect(t: &Text<'_>, custom: &[CustomPattern], out: &mut Vec<Hit>) {
    let s = t.s();
    // Labels are matched on the folded view (same offsets; the pattern is lower case).
    for c in captures_bounded(&LABELLED, &t.fold, |c| {
        c.get(0).is_some_and(|m| free(t.prev_char(m.start())))
    }) {
        let Some(v) = c.get(1) else { continue };
        let raw = &s[v.start()..v.end()];
        let trimmed = raw.trim_end_matches(['.', '/', '-']);
        let end = v.start() + trimmed.len();
        if matches!(t.next_char(v.end()), Some('_' | '…')) || s[v.end()..].starts_with("..") {
            continue;
        }
        if trimmed.bytes().filter(u8::is_ascii_digit).count() < 4 || is_date(trimmed) {
            continue;
        }
        let social = ["50", "51", "53"].iter().any(|p| trimmed.starts_with(p))
            && trimmed
                .as_bytes()
                .get(2)
                .is_some_and(|b| matches!(b, b'.' | b'/' | b'-' | b' '));
        let det = if social {
            "aktenzeichen.social_office"
        } else {
            "aktenzeichen.labelled"
        };
        out.push(Hit::new(
            Category::Aktenzeichen,
            v.start(),
            end,
            det,
            rank::STRUCTURED,
        ));
    }
    let social: Vec<(usize, usize)> = find_bounded(&SOCIAL_COURT, s, |a, b| {
        free(t.prev_char(a)) && free(t.next_char(b))
    })
    .collect();
    for &(a, b) in &social {
        out.push(Hit::new(
            Category::Aktenzeichen,
            a,
            b,
            "aktenzeichen.social_court",
            rank::STRUCTURED,
        ));
    }
    for (a, b) in find_bounded(&COURT, s, |a, b| {
        free(t.prev_char(a)) && free(t.next_char(b))
    }) {
        if !social.iter().any(|&(x, y)| a < y && x < b) {
            out.push(Hit::new(
                Category::Aktenzeichen,
                a,
                b,
                "aktenzeichen.court",
                rank::STRUCTURED,
            ));
        }
    }
    for p in custom {
        for m in p.re.captures_iter(s) {
            let Some(g) = m.get(1).or_else(|| m.get(0)) else {
                continue;
            };
            if g.start() < g.end() {
                let det = if p.social {
                    "aktenzeichen.social_configured"
                } else {
                    "aktenzeichen.configured"
                };
                out.push(Hit::new(
                    Category::Aktenzeichen,
                    g.start(),
                    g.end(),
                    det,
                    rank::STRUCTURED,
                ));
            }
        }
    }
}

fn is_date(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Vec<(&'static str, String)> {
        let t = Text::new(s).unwrap_or_else(|_| panic!("text"));
        let mut out = Vec::new();
        detect(&t, &[], &mut out);
        out.iter()
            .map(|h| (h.det, s[h.start..h.end].to_string()))
            .collect()
    }

    #[test]
    fn file_numbers() {
        assert_eq!(
            run("Fall 51.2-2024-3265: Das Kind"),
            vec![("aktenzeichen.social_office", "51.2-2024-3265".into())]
        );
        assert_eq!(
            run("Verfahren S 4 AS 432/22 vor"),
            vec![("aktenzeichen.social_court", "S 4 AS 432/22".into())]
        );
        assert_eq!(
            run("Az. 61.2-17/2025."),
            vec![("aktenzeichen.labelled", "61.2-17/2025".into())]
        );
        assert!(run("Unser Zeichen: 32.1-____/2025'").is_empty());
        assert_eq!(
            run("Urteil 1 BvR 123/20 vom"),
            vec![("aktenzeichen.court", "1 BvR 123/20".into())]
        );
    }
}
