//! Contact data (SPEC 4.10, 5.4): e-mail addresses (with de-obfuscation of `(at)`, `[dot]`,
//! ` punkt `), phone numbers (German numbering plan of the Bundesnetzagentur plus
//! international `+CC`, with pre-filters against dates, decimals, digit runs and service
//! numbers) and public IP addresses (std parser; private, loopback and documentation ranges
//! excluded, IPv4 only with IP context).
//!
//! E-mail hits of functional mailboxes carry the detector name `email.functional`; they and
//! phone numbers in an office context ([`functional_context`]) are kept by the pipeline only
//! when a person is named next to them (SPEC 3.3).
//! Must not: look anything up over the network (no PSL download, no DNS), keep values, or log.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::LazyLock;

use regex::Regex;

use super::hits::{digit_windows, find_bounded, find_in_windows, has_any, needles, rank, Hit};
use super::ids_numeric::before;
use super::name_words as names;
use super::text::Text;
use super::types::Category;

macro_rules! re {
    ($name:ident, $pat:expr) => {
        #[allow(clippy::expect_used)] // constant pattern, covered by tests
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect($pat));
    };
}

re!(
    EMAIL,
    r"[a-z0-9._%+-]+(?:@|[ ]?[(\[{][ ]?(?:at|ät)[ ]?[)\]}][ ]?|[ ]at[ ])[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:(?:\.|[ ]?[(\[{][ ]?(?:dot|punkt)[ ]?[)\]}][ ]?|[ ]punkt[ ]|[ ]dot[ ])[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?:\.|[ ]?[(\[{][ ]?(?:dot|punkt)[ ]?[)\]}][ ]?|[ ]punkt[ ]|[ ]dot[ ])[a-z]{2,24}"
);
re!(AT_SIGN, r"@|[(\[{][ ]?(?:at|ät)[ ]?[)\]}]|[ ]at[ ]");
re!(
    PHONE,
    r"(?:\+|00)[1-9][0-9 ()./-]{5,24}[0-9]|\(?0[1-9][0-9 ()./-]{4,22}[0-9]"
);
re!(DATE_SHAPE, r"^\(?[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{2,4}");
re!(IPV4, r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}");
re!(IPV6, r"(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}");
re!(
    IP_CUE,
    r"(?:^|[^a-zäöüß])(?:ip|ips|ipv4|ip-adresse|ip-adressen|src|dst|client|clients|log|logs|logfile|zugriff|zugriffe|server|host|remote|login|verbindung|request|firewall|router|gateway|access|quelle|proxy|vpn|traffic)(?:[^a-zäöüß]|$)"
);

/// Obfuscated at-signs (SPEC 3.2).
/// (` at ` is checked separately: a leading space would defeat the automaton's prefilter.)
#[rustfmt::skip]
const OBFUSCATED_AT: &[&str] = &["(at)", "[at]", "{at}", "( at )", "[ at ]", "(ät)"];
needles!(OBFUSCATED_AT_AC, OBFUSCATED_AT);
/// Local-part stems of functional mailboxes (offices, services), folded.
#[rustfmt::skip]
const FUNCTIONAL_LOCAL: &[&str] = &[
    "post", "info", "kontakt", "service", "buero", "büro", "amt", "stelle", "team", "presse", "plan", "beirat",
    "verwaltung", "rathaus", "zentrale", "sekretariat", "hotline", "support", "noreply", "no-reply", "abteilung",
    "referat", "dezernat", "fachbereich", "bibliothek", "schule", "kita", "archiv", "wahl", "buerger", "bürger",
    "stadt", "gleichstellung", "vorstand", "redaktion", "personalrat", "datenschutz", "beschwerde", "anfrage",
    "antrag", "termin", "bewerbung", "vergabe", "kasse", "steuer", "office", "mail", "webmaster", "admin", "bauamt",
    "ordnung", "umwelt", "jugend", "sozial", "kultur", "sport", "feuerwehr", "poststelle", "anmeldung",
];
/// Sentence cues of a functional (office) phone number or mailbox, folded.
#[rustfmt::skip]
const FUNCTIONAL_CUES: &[&str] = &[
    "amt ", "amt,", "amtes", "stelle", "büro", "zentrale", "service", "hotline", "sprechstunde", "öffnungszeit",
    "bekanntmachung", "amtsblatt", "auskünfte", "auskunft", "einwahl", "konferenz", "vermittlung", "rathaus",
    "verwaltung", "behörde", "notruf", "bereitschaftsdienst", "website", "homepage", "internetseite", "aushang",
    "flyer", "pressestelle", "fachbereich", "abteilung", "referat", "dezernat", "infotelefon", "beratungstelefon",
    "behördennummer", "servicenummer", "durchwahl der", "geschäftsstelle",
];
needles!(FUNCTIONAL_CUES_AC, FUNCTIONAL_CUES);
#[rustfmt::skip]
const TAX_CUES: &[&str] = &["steuer-id", "idnr", "identifikationsn", "steuerliche"];
needles!(TAX_CUES_AC, TAX_CUES);
/// National significant numbers that are service, not personal, numbers (SPEC 5.4).
#[rustfmt::skip]
const SERVICE_PREFIXES: &[&str] = &["800", "180", "900", "700", "137", "116", "118", "115", "110", "112"];
#[rustfmt::skip]
const IP_NEGATIVE: &[&str] = &["version", "gliederung", "abschnitt", "§", "nr.", "kapitel", "ziffer", "punkt", "tabelle", "anlage", "v."];
needles!(IP_NEGATIVE_AC, IP_NEGATIVE);

/// Whether the sentence around `a..b` reads like an office contact.
pub(crate) fn functional_context(t: &Text<'_>, a: usize, b: usize) -> bool {
    let (ss, se) = t.sentences_of(a, b);
    has_any(t.fold_of(ss, se), &FUNCTIONAL_CUES_AC)
}

/// Appends EMAIL, PHONE and IP_ADDRESS hits of `t` to `out`. `functional_domains` are
/// the city's own mail domains (folded).
pub(crate) fn detect(t: &Text<'_>, functional_domains: &[String], out: &mut Vec<Hit>) {
    emails(t, functional_domains, out);
    phones(t, out);
    ips(t, out);
}

fn emails(t: &Text<'_>, functional_domains: &[String], out: &mut Vec<Hit>) {
    let f = &t.fold;
    let obfuscated = has_any(f, &OBFUSCATED_AT_AC) || f.contains(" at ");
    if !f.contains('@') && !obfuscated {
        return;
    }
    let local_char = |c: char| c.is_ascii_alphanumeric() || "._%+-".contains(c);
    let free_before = |a: usize| !t.prev_char(a).is_some_and(local_char);
    let free_after = |b: usize| {
        !t.next_char(b)
            .is_some_and(|c| c.is_alphanumeric() || c == '-')
    };
    // Windows around each `@` or obfuscated at-sign instead of a scan of the whole text.
    let mut marks: Vec<usize> = f.match_indices('@').map(|(i, _)| i).collect();
    if obfuscated {
        marks.extend(AT_SIGN.find_iter(f).map(|m| m.start()));
        marks.sort_unstable();
    }
    let mut windows: Vec<(usize, usize)> = Vec::new();
    for p in marks {
        let mut a = p.saturating_sub(80);
        while !f.is_char_boundary(a) {
            a -= 1;
        }
        let mut b = (p + 120).min(f.len());
        while !f.is_char_boundary(b) {
            b += 1;
        }
        match windows.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => windows.push((a, b)),
        }
    }
    for (a, b) in find_in_windows(&EMAIL, f, &windows, |a, b| free_before(a) && free_after(b)) {
        let Some(at) = AT_SIGN.find(&f[a..b]) else {
            continue;
        };
        let local = &f[a..a + at.start()];
        let domain = f[a + at.end()..b].trim();
        if local.starts_with('.') || local.ends_with('.') || local.is_empty() {
            continue;
        }
        let name_like = local
            .split(['.', '_', '-'])
            .any(|p| names::is_given_name(p) || names::is_family_name(p))
            || names::starts_with_given_name(local);
        let functional_local = FUNCTIONAL_LOCAL.iter().any(|s| local.contains(s));
        let own_domain = functional_domains
            .iter()
            .any(|d| domain == d.as_str() || domain.ends_with(&format!(".{d}")))
            || authority_domain(domain);
        let det = if !name_like && (functional_local || own_domain) {
            "email.functional"
        } else {
            "email.address"
        };
        out.push(Hit::new(Category::Email, a, b, det, rank::STRUCTURED));
    }
}

/// Domains of public authorities (`stadt-…`, `…kreis…`, `rathaus…`): mailboxes there are
/// offices unless the local part is a person's name.
fn authority_domain(domain: &str) -> bool {
    const STEMS: &[&str] = &[
        "stadt",
        "gemeinde",
        "kreis",
        "rathaus",
        "verwaltung",
        "kommune",
        "landkreis",
        "bezirksamt",
        "amt-",
    ];
    let first = domain.split('.').next().unwrap_or(domain);
    STEMS.iter().any(|s| first.contains(s))
}

fn phones(t: &Text<'_>, out: &mut Vec<Hit>) {
    let s = t.s();
    let bytes = s.as_bytes();
    let windows = digit_windows(t, 2, 40, |d| {
        bytes[d] == b'0' || (d > 0 && matches!(bytes[d - 1], b'+' | b'('))
    });
    for (a, b) in find_in_windows(&PHONE, s, &windows, |_, _| true) {
        let cand = &s[a..b];
        // Embedded in a longer number, a decimal or a word.
        if let Some(p) = t.prev_char(a) {
            if p.is_alphanumeric() || p == '+' {
                continue;
            }
            let pp = s[..a].trim_end_matches([' ', '\t']);
            if pp.len() + 2 >= a && pp.ends_with(|c: char| c.is_ascii_digit()) && pp.len() < a {
                continue;
            }
            if matches!(p, ',' | '.' | '/' | '-')
                && s[..a - 1].ends_with(|c: char| c.is_ascii_digit())
            {
                continue;
            }
        }
        if DATE_SHAPE.is_match(cand) || cand.contains("..") {
            continue;
        }
        let d: Vec<u8> = cand.bytes().filter(u8::is_ascii_digit).collect();
        let nsn: &[u8] = if cand.starts_with('+') || cand.starts_with("00") {
            let rest = if cand.starts_with('+') {
                &d[..]
            } else {
                &d[2..]
            };
            if rest.starts_with(b"49") {
                let r = &rest[2..];
                r.strip_prefix(b"0").unwrap_or(r)
            } else {
                if !(8..=15).contains(&rest.len()) {
                    continue;
                }
                rest
            }
        } else {
            &d[1..]
        };
        if !(6..=12).contains(&nsn.len()) || nsn.first() == Some(&b'0') {
            continue;
        }
        if SERVICE_PREFIXES
            .iter()
            .any(|p| nsn.starts_with(p.as_bytes()))
        {
            continue;
        }
        if has_any(before(t, a, 30), &TAX_CUES_AC) {
            continue;
        }
        out.push(Hit::new(Category::Phone, a, b, "phone.number", rank::PHONE));
    }
}

fn ipv4_public(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || ip.is_documentation()
        || o[0] == 0
        || o[0] >= 240
        || (o[0] == 100 && (64..128).contains(&o[1]))
        || (o[0] == 198 && (18..20).contains(&o[1])))
}

fn ipv6_public(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xfe00) == 0xfc00
        || ip.to_ipv4_mapped().is_some())
}

fn ips(t: &Text<'_>, out: &mut Vec<Hit>) {
    let s = t.s();
    let free_after = |b: usize| {
        let n = t.next_char(b);
        !(n.is_some_and(|c| c.is_ascii_digit())
            || (n == Some('.') && s[b + 1..].starts_with(|c: char| c.is_ascii_digit())))
    };
    let bytes = s.as_bytes();
    let windows = digit_windows(t, 0, 16, |d| {
        bytes[d..(d + 16).min(bytes.len())]
            .iter()
            .filter(|&&c| c == b'.')
            .count()
            >= 3
    });
    let ok4 = |a: usize, b: usize| {
        !t.prev_char(a)
            .is_some_and(|c| c.is_ascii_digit() || c == '.')
            && free_after(b)
    };
    for (a, b) in find_in_windows(&IPV4, s, &windows, ok4) {
        let Ok(ip) = s[a..b].parse::<Ipv4Addr>() else {
            continue;
        };
        if !ipv4_public(ip) || has_any(before(t, a, 20), &IP_NEGATIVE_AC) {
            continue;
        }
        let (ls, _) = t.line_range(t.line_of(a));
        let (ss, se) = t.sentences_of(a, b);
        let ctx_start = ls.min(ss).max(a.saturating_sub(200));
        if IP_CUE.is_match(t.fold_of(floor(t, ctx_start), se)) {
            out.push(Hit::new(
                Category::IpAddress,
                a,
                b,
                "ip.v4",
                rank::STRUCTURED,
            ));
        }
    }
    if !s.contains("::") && s.matches(':').count() < 3 {
        return;
    }
    let hexish = |c: char| c.is_ascii_hexdigit() || c == ':';
    for (a, b) in find_bounded(&IPV6, s, |a, b| {
        !t.prev_char(a).is_some_and(hexish) && !t.next_char(b).is_some_and(hexish)
    }) {
        let v = &s[a..b];
        if v.matches(':').count() < 3 {
            continue;
        }
        if let Ok(ip) = v.parse::<Ipv6Addr>() {
            if ipv6_public(ip) {
                out.push(Hit::new(
                    Category::IpAddress,
                    a,
                    b,
                    "ip.v6",
                    rank::STRUCTURED,
                ));
            }
        }
    }
}

fn floor(t: &Text<'_>, mut i: usize) -> usize {
    while i > 0 && !t.fold.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Vec<(Category, &'static str, String)> {
        let t = Text::new(s).unwrap_or_else(|_| panic!("text"));
        let mut out = Vec::new();
        detect(&t, &[], &mut out);
        out.iter()
            .map(|h| (h.cat, h.det, s[h.start..h.end].to_string()))
            .collect()
    }

    #[test]
    fn emails_plain_and_obfuscated() {
        assert_eq!(
            run("an wierzbicki.torben@example.net."),
            vec![(
                Category::Email,
                "email.address",
                "wierzbicki.torben@example.net".into()
            )]
        );
        assert_eq!(
            run("mail: anna.schmidt (at) example [dot] org bitte"),
            vec![(
                Category::Email,
                "email.address",
                "anna.schmidt (at) example [dot] org".into()
            )]
        );
        assert_eq!(
            run("oder laermaktionsplan@stadt.example."),
            vec![(
                Category::Email,
                "email.functional",
                "laermaktionsplan@stadt.example".into()
            )]
        );
    }

    #[test]
    fn phones_and_negatives() {
        assert_eq!(
            run("Rückruf unter +49 (0)69 90009 877, fragt"),
            vec![(
                Category::Phone,
                "phone.number",
                "+49 (0)69 90009 877".into()
            )]
        );
        assert_eq!(
            run("(Rückruf unter 04066969257) und"),
            vec![(Category::Phone, "phone.number", "04066969257".into())]
        );
        assert!(run("Sitzung am 07.03.2025 um 17:00").is_empty());
        assert!(run("0,0049 als Prozentwert").is_empty());
        assert!(run("Einwahl: 0800 1234567, PIN 482913#").is_empty());
        assert!(run("Notruf 112 und 116117").is_empty());
        let text = "Auskünfte erteilt das Umweltamt unter Telefon 0221 4710 100.";
        let t = Text::new(text).unwrap_or_else(|_| panic!("text"));
        assert!(functional_context(&t, 40, 50));
    }

    #[test]
    fn ip_addresses() {
        assert_eq!(
            run("letzte IP 37.120.141.68. Wie"),
            vec![(Category::IpAddress, "ip.v4", "37.120.141.68".into())]
        );
        assert_eq!(
            run("src=2a02:8849:8564:4395:fb57:6214:1417:7b7c'"),
            vec![(
                Category::IpAddress,
                "ip.v6",
                "2a02:8849:8564:4395:fb57:6214:1417:7b7c".into()
            )]
        );
        assert!(run("Gliederungspunkt 10.4.2.1 und Version 2.3.1.5 im Log").is_empty());
        assert!(run("Server 192.168.0.1 und 203.0.113.5 im Log").is_empty());
        assert!(run("um 2025-03-02T09:14:55Z").is_empty());
    }
}
