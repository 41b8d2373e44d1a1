//! Check-digit validators of German and international identifiers (SPEC section 4).
//!
//! Owns: pure functions over already-extracted characters (separators stripped by the
//! caller): ISO/IEC 7064 MOD 11,10 (Steuer-ID, USt-IdNr.), the ELSTER Steuernummer
//! procedures, ISO 13616 IBAN MOD 97-10, Luhn (ISO/IEC 7812-1), the VKVV Versicherungsnummer,
//! the KVNR check digit of § 290 SGB V and ICAO Doc 9303 7-3-1.
//! Must not: search text, allocate per call beyond small fixed buffers, log, or know about
//! categories and zones.

/// ISO/IEC 7064 MOD 11,10 check digit over `digits` (values 0..=9).
///
/// Source: ISO/IEC 7064; as used by § 139b AO (ELSTER "Prüfung der Steuer- und
/// Steueridentifikationsnummer", ch. 2) and ZMDV Anlage 3 (USt-IdNr.).
pub(crate) fn mod11_10_check(digits: &[u8]) -> u8 {
    let mut p: u32 = 10;
    for &d in digits {
        let mut t = (u32::from(d) + p) % 10;
        if t == 0 {
            t = 10;
        }
        p = (2 * t) % 11;
    }
    let c = 11 - p;
    if c == 10 {
        0
    } else {
        c as u8
    }
}

/// Steuerliche Identifikationsnummer (§ 139b AO), 11 digits as values 0..=9.
///
/// Production numbers never start with 0; `production = false` also accepts ELSTER test
/// numbers (leading 0). Rules: exactly one digit of positions 1–10 repeats, twice or three
/// times, never three in a row; check digit by ISO/IEC 7064 MOD 11,10 (SPEC 4.1).
pub(crate) fn steuer_id_valid(d: &[u8], production: bool) -> bool {
    if d.len() != 11 {
        return false;
    }
    if d[0] == 0 && production {
        return false;
    }
    let mut cnt = [0u8; 10];
    for &x in &d[..10] {
        cnt[usize::from(x)] += 1;
    }
    let repeated: Vec<usize> = (0..10).filter(|&i| cnt[i] > 1).collect();
    if repeated.len() != 1 {
        return false;
    }
    let r = repeated[0];
    if !(2..=3).contains(&cnt[r]) {
        return false;
    }
    if cnt[r] == 3
        && d[..10]
            .windows(3)
            .any(|w| w.iter().all(|&x| usize::from(x) == r))
    {
        return false;
    }
    mod11_10_check(&d[..10]) == d[10]
}

/// USt-IdNr. check (§ 27a UStG; ZMDV Anlage 3, BGBl. 1993 I S. 736): the 9 digits after
/// `DE`; digit 9 is the ISO/IEC 7064 MOD 11,10 check over digits 1–8.
pub(crate) fn vat_de_valid(d: &[u8]) -> bool {
    d.len() == 9 && d[0] != 0 && mod11_10_check(&d[..8]) == d[8]
}

/// Luhn check (ISO/IEC 7812-1 annex B) over digit values, check digit last.
pub(crate) fn luhn_valid(d: &[u8]) -> bool {
    if d.is_empty() {
        return false;
    }
    let mut sum = 0u32;
    for (i, &x) in d.iter().rev().enumerate() {
        let mut v = u32::from(x);
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

/// ISO 13616 registry lengths of IBANs by country code (subset: EU/EEA, CH, GB and
/// neighbours; other countries are not reported).
pub(crate) fn iban_length(country: &[u8]) -> Option<usize> {
    Some(match country {
        b"DE" => 22,
        b"AT" => 20,
        b"CH" | b"LI" => 21,
        b"NL" => 18,
        b"BE" => 16,
        b"LU" => 20,
        b"FR" | b"MC" | b"IT" | b"SM" => 27,
        b"ES" | b"SE" | b"SK" | b"CZ" | b"RO" => 24,
        b"PL" | b"HU" | b"CY" => 28,
        b"DK" | b"FI" | b"FO" | b"GL" => 18,
        b"NO" => 15,
        b"GB" | b"IE" => 22,
        b"PT" => 25,
        b"GR" => 27,
        b"SI" => 19,
        b"HR" | b"LV" => 21,
        b"BG" => 22,
        b"EE" | b"LT" => 20,
        b"MT" => 31,
        b"IS" => 26,
        b"TR" => 26,
        b"RS" | b"ME" => 22,
        b"BA" => 20,
        b"UA" => 29,
        _ => return None,
    })
}

/// IBAN check (ISO 13616-1 with ISO/IEC 7064 MOD 97-10) over upper-case ASCII alphanumerics
/// without separators. Verifies the registry length of known countries (DE: 22, digits only
/// after the country code) and `mod 97 == 1`.
pub(crate) fn iban_valid(s: &[u8]) -> bool {
    if s.len() < 5
        || !s[..2].iter().all(u8::is_ascii_uppercase)
        || !s[2..4].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    match iban_length(&s[..2]) {
        Some(n) if n == s.len() => {}
        _ => return false,
    }
    if &s[..2] == b"DE" && !s[4..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut rem: u32 = 0;
    for &c in s[4..].iter().chain(&s[..4]) {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

fn cross_sum(n: u32) -> u32 {
    n / 10 + n % 10
}

/// Rentenversicherungsnummer (§ 147 SGB VI, § 2 VKVV), 12 characters `BBTTMMJJASSP`
/// upper case without separators. Day field ≤ 97 (unknown birthdays and +32/+64/+96 serial
/// overflow), month ≤ 12; weights 2-1-2-5-7-1-2-1-2-1-2-1 over the 12 digits obtained by
/// writing the letter as 01..26; sum of cross sums mod 10 = check digit (SPEC 4.4).
pub(crate) fn rvnr_valid(s: &[u8]) -> bool {
    if s.len() != 12
        || !s[..8].iter().all(u8::is_ascii_digit)
        || !s[8].is_ascii_uppercase()
        || !s[9..].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    let day = u32::from(s[2] - b'0') * 10 + u32::from(s[3] - b'0');
    let month = u32::from(s[4] - b'0') * 10 + u32::from(s[5] - b'0');
    if day > 97 || month > 12 {
        return false;
    }
    let letter = u32::from(s[8] - b'A') + 1;
    let mut e = [0u32; 12];
    for i in 0..8 {
        e[i] = u32::from(s[i] - b'0');
    }
    e[8] = letter / 10;
    e[9] = letter % 10;
    e[10] = u32::from(s[9] - b'0');
    e[11] = u32::from(s[10] - b'0');
    const W: [u32; 12] = [2, 1, 2, 5, 7, 1, 2, 1, 2, 1, 2, 1];
    let sum: u32 = e.iter().zip(W).map(|(&x, w)| cross_sum(x * w)).sum();
    sum % 10 == u32::from(s[11] - b'0')
}

/// Krankenversichertennummer, unchangeable part (§ 290 SGB V; GKV-Spitzenverband Anlage 1
/// "Prüfziffernberechnung", 02.01.2023): letter A–Z + 8 digits + check digit. The letter
/// becomes 01..26; weights 1-2-1-2… over the 10 digits, sum of cross sums mod 10.
pub(crate) fn kvnr_valid(s: &[u8]) -> bool {
    if s.len() != 10 || !s[0].is_ascii_uppercase() || !s[1..].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let letter = u32::from(s[0] - b'A') + 1;
    let mut e = [0u32; 10];
    e[0] = letter / 10;
    e[1] = letter % 10;
    for i in 1..9 {
        e[i + 1] = u32::from(s[i] - b'0');
    }
    let sum: u32 = e
        .iter()
        .enumerate()
        .map(|(i, &x)| cross_sum(x * if i % 2 == 0 { 1 } else { 2 }))
        .sum();
    sum % 10 == u32::from(s[9] - b'0')
}

/// ICAO Doc 9303 Part 3 check digit with weights 7-3-1 (digits 0–9, `A`–`Z` 10–35, `<` 0),
/// as used in the MRZ of Personalausweis and Reisepass (§ 5 PAuswG, § 4 PassG).
/// Returns `None` for characters outside the MRZ alphabet.
pub(crate) fn icao_check(s: &[u8]) -> Option<u8> {
    const W: [u32; 3] = [7, 3, 1];
    let mut sum = 0u32;
    for (i, &c) in s.iter().enumerate() {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            b'<' => 0,
            _ => return None,
        };
        sum += v * W[i % 3];
    }
    Some((sum % 10) as u8)
}

/// Federal states of the Steuernummer procedures (ELSTER-13 prefixes, SPEC 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaxState {
    Bw,
    By,
    Be,
    Bb,
    Hb,
    Hh,
    He,
    Mv,
    Ni,
    Nw,
    Rp,
    Sh,
    Sl,
    Sn,
    St,
    Th,
}

/// The state of an ELSTER-13 Steuernummer from its prefix (10 SL, 11 BE, 21 SH, 22 HH,
/// 23 NI, 24 HB, 26 HE, 27 RP, 28 BW, 30 BB, 31 ST, 32 SN, 40 MV, 41 TH, 5 NW, 9 BY).
pub(crate) fn tax_state(d: &[u8]) -> Option<TaxState> {
    use TaxState::*;
    match d.first()? {
        5 => return Some(Nw),
        9 => return Some(By),
        _ => {}
    }
    Some(match (d[0], *d.get(1)?) {
        (1, 0) => Sl,
        (1, 1) => Be,
        (2, 1) => Sh,
        (2, 2) => Hh,
        (2, 3) => Ni,
        (2, 4) => Hb,
        (2, 6) => He,
        (2, 7) => Rp,
        (2, 8) => Bw,
        (3, 0) => Bb,
        (3, 1) => St,
        (3, 2) => Sn,
        (4, 0) => Mv,
        (4, 1) => Th,
        _ => return None,
    })
}

fn weighted11(d: &[u8], f: &[u32; 12]) -> bool {
    let s: u32 = d[..12].iter().zip(f).map(|(&x, &w)| u32::from(x) * w).sum();
    let c = (11 - s % 11) % 11;
    c != 10 && c == u32::from(d[12])
}

fn digital_root(n: u32) -> u32 {
    if n == 0 {
        0
    } else {
        1 + (n - 1) % 9
    }
}

/// ELSTER-13 Steuernummer validation (ELSTER "Prüfung der Steuer- und
/// Steueridentifikationsnummer", ch. 3–7, as transcribed by rechtlogisch/steuernummer and
/// SPEC 4.2): Formatschlüssel digit 5 = 0, district ∉ {000, 998, 999}, then the state's
/// procedure (11er with state factors, modified 11er NW and RP, 2er for BW/HE/SH; BE accepts
/// factor set A or B because the BUFA table is not shipped).
pub(crate) fn elster13_valid(d: &[u8]) -> bool {
    use TaxState::*;
    if d.len() != 13 || d[4] != 0 {
        return false;
    }
    let district = u32::from(d[5]) * 100 + u32::from(d[6]) * 10 + u32::from(d[7]);
    if matches!(district, 0 | 998 | 999) {
        return false;
    }
    let Some(state) = tax_state(d) else {
        return false;
    };
    match state {
        By | Bb | Mv | Sl | Sn | St | Th => weighted11(d, &[0, 5, 4, 3, 0, 2, 7, 6, 5, 4, 3, 2]),
        Hb | Hh => weighted11(d, &[0, 0, 4, 3, 0, 2, 7, 6, 5, 4, 3, 2]),
        Ni => weighted11(d, &[0, 0, 2, 9, 0, 8, 7, 6, 5, 4, 3, 2]),
        Be => {
            weighted11(d, &[0, 0, 0, 0, 0, 7, 6, 5, 8, 4, 3, 2])
                || weighted11(d, &[0, 0, 2, 9, 0, 8, 7, 6, 5, 4, 3, 2])
        }
        Nw => {
            const F: [u32; 12] = [0, 3, 2, 1, 0, 7, 6, 5, 4, 3, 2, 1];
            let s: u32 = d[..12].iter().zip(F).map(|(&x, w)| u32::from(x) * w).sum();
            let c = s % 11;
            c != 10 && c == u32::from(d[12])
        }
        Rp => {
            const F: [u32; 12] = [0, 0, 1, 2, 0, 1, 2, 1, 2, 1, 2, 1];
            let s: u32 = d[..12]
                .iter()
                .zip(F)
                .map(|(&x, w)| {
                    let p = u32::from(x) * w;
                    if p > 9 {
                        p % 10 + 1
                    } else {
                        p
                    }
                })
                .sum();
            (10 - s % 10) % 10 == u32::from(d[12])
        }
        Bw | He | Sh => {
            const S: [u32; 12] = [0, 0, 9, 8, 0, 7, 6, 5, 4, 3, 2, 1];
            const F: [u32; 12] = [0, 0, 512, 256, 0, 128, 64, 32, 16, 8, 4, 2];
            let s: u32 = (0..12)
                .filter(|&i| F[i] > 0)
                .map(|i| digital_root(((u32::from(d[i]) + S[i]) % 10) * F[i]))
                .sum();
            (10 - s % 10) % 10 == u32::from(d[12])
        }
    }
}

/// Converts a Steuernummer in Bescheidformat (digit groups as printed) to the ELSTER-13
/// candidates of every state whose layout matches the group lengths, and reports whether any
/// candidate validates. Group layouts (SPEC 4.2 table): `FFBBB/UUUUP` BW; `FFF/BBB/UUUUP` BY;
/// `FF/BBB/UUUUP` BE/HB/HH/NI/RP/SH; `0FF/BBB/UUUUP` BB/HE/MV/SL; `1FF/…` ST/TH;
/// `2FF/…` SN; `FFF/BBBB/UUUP` NW.
pub(crate) fn bescheid_valid(groups: &[&[u8]]) -> bool {
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let mut cands: Vec<[u8; 13]> = Vec::new();
    let mut push = |prefix: &[u8], ff: &[u8], bbb: &[u8], rest: &[u8]| {
        let mut v = [0u8; 13];
        let parts: [&[u8]; 5] = [prefix, ff, &[0], bbb, rest];
        let mut i = 0;
        for p in parts {
            for &x in p {
                if i < 13 {
                    v[i] = x;
                }
                i += 1;
            }
        }
        if i == 13 {
            cands.push(v);
        }
    };
    match lens.as_slice() {
        [5, 5] => push(&[2, 8], &groups[0][..2], &groups[0][2..], groups[1]),
        [2, 3, 5] => {
            for p in [[1u8, 1], [2, 4], [2, 2], [2, 3], [2, 7], [2, 1]] {
                push(&p, groups[0], groups[1], groups[2]);
            }
        }
        [3, 3, 5] => {
            let g = groups[0];
            match g[0] {
                0 => {
                    for p in [[3u8, 0], [2, 6], [4, 0], [1, 0]] {
                        push(&p, &g[1..], groups[1], groups[2]);
                    }
                }
                1 => {
                    for p in [[3u8, 1], [4, 1]] {
                        push(&p, &g[1..], groups[1], groups[2]);
                    }
                }
                2 => push(&[3, 2], &g[1..], groups[1], groups[2]),
                _ => push(&[9], g, groups[1], groups[2]),
            }
        }
        [3, 4, 4] => push(&[5], groups[0], groups[1], groups[2]),
        _ => {}
    }
    cands.iter().any(|c| elster13_valid(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(s: &str) -> Vec<u8> {
        s.bytes()
            .filter(u8::is_ascii_digit)
            .map(|b| b - b'0')
            .collect()
    }

    #[test]
    fn steuer_id_vectors() {
        // SPEC 4.1: ELSTER examples, stdnum vector, and the repetition-rule counter-example.
        for v in [
            "86095742719",
            "47036892816",
            "65929970489",
            "57549285017",
            "25768131411",
            "36574261809",
        ] {
            assert!(steuer_id_valid(&digits(v), true), "{v}");
        }
        assert!(!steuer_id_valid(&digits("02476291358"), true));
        assert!(steuer_id_valid(&digits("02476291358"), false));
        assert!(!steuer_id_valid(&digits("12345678903"), true));
        assert!(!steuer_id_valid(&digits("86095742718"), true));
    }

    #[test]
    fn vat_vectors() {
        assert!(vat_de_valid(&digits("136695976")));
        assert!(!vat_de_valid(&digits("136695977")));
    }

    #[test]
    fn iban_vectors() {
        assert!(iban_valid(b"DE89370400440532013000"));
        assert!(!iban_valid(b"DE54426803529672017612"));
        assert!(iban_valid(b"GB82WEST12345698765432"));
        assert!(!iban_valid(b"DE8937040044053201300"));
    }

    #[test]
    fn luhn_vectors() {
        assert!(luhn_valid(&digits("4111 1111 1111 1111")));
        assert!(luhn_valid(&digits("79927398713")));
        assert!(!luhn_valid(&digits("4532 1234 5678 9012")));
    }

    #[test]
    fn rvnr_vectors() {
        for v in ["15070649C103", "65170839J003", "10010490A443"] {
            assert!(rvnr_valid(v.as_bytes()), "{v}");
        }
        // Knappschaft lexicon example does not verify (SPEC 4.4).
        assert!(!rvnr_valid(b"65170839J088"));
    }

    #[test]
    fn kvnr_vectors() {
        for v in ["A000500015", "C000500021", "A123456780"] {
            assert!(kvnr_valid(v.as_bytes()), "{v}");
        }
        assert!(!kvnr_valid(b"A123456789"));
    }

    #[test]
    fn icao_vectors() {
        assert_eq!(icao_check(b"T22000129"), Some(3));
        assert_eq!(icao_check(b"520727"), Some(3));
    }

    #[test]
    fn steuernummer_vectors() {
        for v in [
            "1121081508150",
            "9181081508155",
            "5400012345678",
            "5205012345677",
            "2865013528340",
            "2893073921039",
        ] {
            assert!(elster13_valid(&digits(v)), "{v}");
        }
        let g = |s: &str| -> Vec<Vec<u8>> { s.split(['/', ' ']).map(digits).collect() };
        let ok = |s: &str| {
            let v = g(s);
            let r: Vec<&[u8]> = v.iter().map(Vec::as_slice).collect();
            bescheid_valid(&r)
        };
        assert!(ok("21/815/08150"));
        assert!(ok("181/815/08155"));
        // Invalid Bavarian number that would pass as NW if grouping were ignored (SPEC 4.2).
        assert!(!ok("181/815/08156"));
    }
}
