//! Purely numeric identifiers printed with optional separators (SPEC 4.1, 4.2, 4.7):
//! Steuer-ID (ISO/IEC 7064 MOD 11,10 + repetition rule, § 139b AO), Steuernummer (ELSTER-13
//! and Bescheidformat per state) and payment cards (Luhn, ISO/IEC 7812-1, IIN/length).
//!
//! Candidates are windows of whole digit groups inside a maximal run of digits joined by
//! single separators (space, `.`, `/`, `-`, or one line break), so `+49 89 99998 936` never
//! yields an 11-digit tax-ID window and `Steuer-ID76290158362Name` still does.
//! Must not: report a number that fails its check digit, keep values, or log.

use std::sync::LazyLock;

use regex::Regex;

use super::checksum::{bescheid_valid, elster13_valid, luhn_valid, steuer_id_valid};
use super::hits::{at_most_one_newline, digits, groups, has_any, needles, rank, Group, Hit};
use super::text::Text;
use super::types::Category;

#[allow(clippy::expect_used)] // constant pattern, covered by tests
static RUN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[0-9]+(?:(?:[ \t]*\n[ \t]*|[ \t]{1,2}|[./-])[0-9]+)*").expect("digit-run pattern")
});

/// Labels after which a number is an invoice/order/phone/account number, not a person ID.
#[rustfmt::skip]
const NEGATIVE_LABELS: &[&str] = &[
    "rechnung",
    "bestell",
    "auftrag",
    "kunden",
    "vertrag",
    "artikel",
    "sendung",
    "tel",
    "fax",
    "mobil",
    "handy",
    "ruf",
    "iban",
    "konto",
    "blz",
    "kassenzeichen",
    "vorgang",
    "ticket",
    "beleg",
    "buchung",
    "referenz",
    "pin",
    "tan",
    "los-nr",
    "losnummer",
    "chargen",
    "serien",
];
needles!(NEGATIVE_LABELS_AC, NEGATIVE_LABELS);
#[rustfmt::skip]
const TAX_ID_CUES: &[&str] = &[
    "steuer-id",
    "steuerid",
    "steuer id",
    "idnr",
    "id-nr",
    "identifikationsn",
    "tin",
    "steuerliche",
];
needles!(TAX_ID_CUES_AC, TAX_ID_CUES);
#[rustfmt::skip]
const TAX_NUMBER_CUES: &[&str] = &[
    "steuernummer",
    "steuer-nr",
    "steuernr",
    "st.-nr",
    "st.nr",
    "stnr",
    "st-nr",
    "steuer-nummer",
    "finanzamt",
];
needles!(TAX_NUMBER_CUES_AC, TAX_NUMBER_CUES);
/// Published test card numbers (SPEC 3.3): never personal.
#[rustfmt::skip]
const TEST_PANS: &[&str] = &[
    "4111111111111111",
    "5555555555554444",
    "4242424242424242",
    "378282246310005",
    "371449635398431",
    "6011111111111117",
    "5105105105105100",
    "4012888888881881",
    "4000056655665556",
    "5200828282828210",
    "3530111333300000",
    "30569309025904",
    "38520000023237",
    "6011000990139424",
    "2223003122003222",
    "4000000000000002",
    "4000000000000077",
    "5454545454545454",
    "4917610000000000",
    "4444333322221111",
];

/// Folded text of up to `n` bytes before `i`, cut at a char boundary.
pub(crate) fn before<'t>(t: &'t Text<'_>, i: usize, n: usize) -> &'t str {
    let mut a = i.saturating_sub(n);
    while a > 0 && !t.fold.is_char_boundary(a) {
        a -= 1;
    }
    &t.fold[a..i]
}

fn sep_ok(s: &str, allowed: &[u8]) -> bool {
    s.bytes().all(|b| allowed.contains(&b))
}

/// Appends DE_TAX_ID, DE_TAX_NUMBER and CREDIT_CARD hits of `t` to `out`.
pub(crate) fn detect(t: &Text<'_>, out: &mut Vec<Hit>) {
    let s = t.s();
    for m in RUN.find_iter(s) {
        let (rs, re) = (m.start(), m.end());
        // Every identifier here has at least 10 digits.
        if re - rs < 10 {
            continue;
        }
        let g = groups(s, rs, re);
        let phone_like = t.prev_char(rs) == Some('+') || s[rs..].starts_with("00");
        tax_ids(t, &g, phone_like, out);
        cards(t, &g, out);
        tax_numbers(t, &g, out);
    }
}

/// Windows `[a, b]` of groups whose digit count is `want(n)`.
fn windows(g: &[Group], max_digits: usize, mut f: impl FnMut(usize, usize, usize)) {
    for a in 0..g.len() {
        let mut n = 0;
        for (b, &(gs, ge)) in g.iter().enumerate().skip(a) {
            n += ge - gs;
            if n > max_digits {
                break;
            }
            f(a, b, n);
        }
    }
}

fn tax_ids(t: &Text<'_>, g: &[Group], phone_like: bool, out: &mut Vec<Hit>) {
    let s = t.s();
    windows(g, 11, |a, b, n| {
        if n != 11 || (phone_like && a == 0) {
            return;
        }
        let (ws, we) = (g[a].0, g[b].1);
        if !at_most_one_newline(&s[ws..we]) {
            return;
        }
        if a > 0 && phone_like {
            return;
        }
        if !steuer_id_valid(&digits(&s[ws..we]), true) {
            return;
        }
        let pre = before(t, ws, 40);
        let cue = has_any(pre, &TAX_ID_CUES_AC);
        let near = before(t, ws, 24);
        if !cue && has_any(near, &NEGATIVE_LABELS_AC) {
            return;
        }
        out.push(Hit::new(
            Category::DeTaxId,
            ws,
            we,
            "tax_id.mod11_10",
            rank::VALIDATED,
        ));
    });
}

fn brand_ok(d: &[u8]) -> bool {
    let len = d.len();
    let num = |k: usize| d[..k].iter().fold(0u32, |acc, &x| acc * 10 + u32::from(x));
    let (p2, p3, p4) = (num(2), num(3), num(4));
    match d[0] {
        4 => matches!(len, 13 | 16 | 19),
        5 => (51..=55).contains(&p2) && len == 16,
        2 => (2221..=2720).contains(&p4) && len == 16,
        3 => {
            ((p2 == 34 || p2 == 37) && len == 15)
                || ((p2 == 36 || p2 == 38 || (300..=305).contains(&p3)) && len == 14)
                || ((3528..=3589).contains(&p4) && (16..=19).contains(&len))
        }
        6 => {
            (p4 == 6011 || p2 == 65 || p2 == 62 || (644..=649).contains(&p3))
                && (16..=19).contains(&len)
        }
        _ => false,
    }
}

fn cards(t: &Text<'_>, g: &[Group], out: &mut Vec<Hit>) {
    let s = t.s();
    windows(g, 19, |a, b, n| {
        if n < 13 {
            return;
        }
        let (ws, we) = (g[a].0, g[b].1);
        let inner_ok = (a..b).all(|k| {
            let sep = &s[g[k].1..g[k + 1].0];
            sep_ok(sep, b" -\n\t") && at_most_one_newline(sep)
        });
        if !inner_ok {
            return;
        }
        // Only whole groups: the window must not continue a space/dash-joined number.
        let open_before = a > 0 && sep_ok(&s[g[a - 1].1..g[a].0], b" -");
        let open_after = b + 1 < g.len() && sep_ok(&s[g[b].1..g[b + 1].0], b" -");
        if open_before || open_after {
            return;
        }
        let d = digits(&s[ws..we]);
        if !brand_ok(&d) || !luhn_valid(&d) {
            return;
        }
        let compact: String = d.iter().map(|x| char::from(b'0' + x)).collect();
        if TEST_PANS.contains(&compact.as_str()) {
            return;
        }
        // A 13-digit ELSTER Steuernummer can pass Luhn as well: the label decides.
        let pre = before(t, ws, 24);
        if has_any(pre, &NEGATIVE_LABELS_AC) || has_any(pre, &TAX_NUMBER_CUES_AC) {
            return;
        }
        out.push(Hit::new(
            Category::CreditCard,
            ws,
            we,
            "card.luhn",
            rank::VALIDATED,
        ));
    });
}

fn tax_numbers(t: &Text<'_>, g: &[Group], out: &mut Vec<Hit>) {
    let s = t.s();
    let cue_at = |ws: usize| {
        let (ss, _) = t.sentence_of(ws);
        let pre = before(t, ws, 80);
        has_any(pre, &TAX_NUMBER_CUES_AC) || has_any(&t.fold[ss..ws], &TAX_NUMBER_CUES_AC)
    };
    for (k, &(gs, ge)) in g.iter().enumerate() {
        // ELSTER-13: one compact group of 13 digits.
        if ge - gs == 13 && g.len() == 1 && elster13_valid(&digits(&s[gs..ge])) && cue_at(gs) {
            out.push(Hit::new(
                Category::DeTaxNumber,
                gs,
                ge,
                "tax_number.elster13",
                rank::VALIDATED,
            ));
        }
        // Bescheidformat: 2 or 3 groups joined by `/` or a space.
        for len in [2usize, 3] {
            if k + len > g.len() {
                continue;
            }
            let seps_ok = (k..k + len - 1).all(|i| {
                let sep = &s[g[i].1..g[i + 1].0];
                sep == "/" || sep == " "
            });
            if !seps_ok {
                continue;
            }
            let open_before = k > 0 && matches!(&s[g[k - 1].1..gs], "/" | " ");
            let last = k + len - 1;
            let open_after =
                last + 1 < g.len() && matches!(&s[g[last].1..g[last + 1].0], "/" | " ");
            if open_before || open_after {
                continue;
            }
            let parts: Vec<Vec<u8>> = (k..k + len).map(|i| digits(&s[g[i].0..g[i].1])).collect();
            let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
            if bescheid_valid(&refs) && cue_at(gs) {
                out.push(Hit::new(
                    Category::DeTaxNumber,
                    gs,
                    g[last].1,
                    "tax_number.bescheid",
                    rank::VALIDATED,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Vec<(Category, String)> {
        let t = Text::new(s).unwrap_or_else(|_| panic!("text"));
        let mut out = Vec::new();
        detect(&t, &mut out);
        out.iter()
            .map(|h| (h.cat, s[h.start..h.end].to_string()))
            .collect()
    }

    #[test]
    fn tax_id_forms() {
        assert_eq!(
            run("IdNr 86 095 742 719 vom"),
            vec![(Category::DeTaxId, "86 095 742 719".into())]
        );
        assert_eq!(
            run("Steuer-ID76290158362Name"),
            vec![(Category::DeTaxId, "76290158362".into())]
        );
        assert_eq!(
            run("Steuer-ID 860 957\n42719."),
            vec![(Category::DeTaxId, "860 957\n42719".into())]
        );
        assert!(run("Test-IdNr 02476291358").is_empty());
        assert!(run("IdNr 12345678903").is_empty());
        assert!(run("Rückruf +49 89 99998 936").is_empty());
    }

    #[test]
    fn cards_and_tax_numbers() {
        assert_eq!(
            run("Karte 4556 7375 8689 9855 gültig"),
            vec![(Category::CreditCard, "4556 7375 8689 9855".into())]
        );
        assert!(run("Testkarte 4111 1111 1111 1111").is_empty());
        assert!(run("Bestellnummer 4532 1234 5678 9012").is_empty());
        assert_eq!(
            run("Steuernummer 181/815/08155"),
            vec![(Category::DeTaxNumber, "181/815/08155".into())]
        );
        assert!(run("Steuernummer 181/815/08156").is_empty());
        assert!(run("Artikel 181/815/08155").is_empty());
        assert_eq!(
            run("Steuernummer: 2893073921039"),
            vec![(Category::DeTaxNumber, "2893073921039".into())]
        );
    }
    /// One generated number per state (by `tests/fixtures/pii/gen_corpus.py`-style code written
    /// from SPEC 4.2), in ELSTER-13 and Bescheid layout: guards the state conversions and the
    /// label rule against card look-alikes (MV's number also passes Luhn).
    #[test]
    fn steuernummer_all_states() {
        let cases = [
            ("SL", "1040070689168", "040/706/89168"),
            ("BE", "1118072002156", "18/720/02156"),
            ("SH", "2139029677047", "39/296/77047"),
            ("HH", "2270050624670", "70/506/24670"),
            ("NI", "2376049902480", "76/499/02480"),
            ("HB", "2430087696846", "30 876 96846"),
            ("HE", "2659083169949", "059 831 69949"),
            ("RP", "2766023759881", "66/237/59881"),
            ("BW", "2873032242269", "73322/42269"),
            ("BB", "3063061963227", "063/619/63227"),
            ("ST", "3139044404699", "139/444/04699"),
            ("SN", "3299098153474", "299/981/53474"),
            ("MV", "4023083034593", "023/830/34593"),
            ("TH", "4144039120380", "144/391/20380"),
            ("NW", "5145066378197", "145/6637/8197"),
            ("BY", "9177012048158", "177/120/48158"),
        ];
        for (state, elster, bescheid) in cases {
            for v in [elster, bescheid] {
                let text = format!("Steuernummer {v} der Freiberuflerin.");
                assert_eq!(
                    run(&text),
                    vec![(Category::DeTaxNumber, v.to_string())],
                    "{state}"
                );
            }
        }
    }
}
