//! Text views shared by all detectors (SPEC 3.2): the normalised view with a byte-offset map
//! back to the caller's input, a case-folded view of identical byte layout, word tokens,
//! line and sentence boundaries, and the scope window of the person-reference rule (SPEC 6.2).
//!
//! Must not: decide anything about categories, keep text beyond one `detect` call, or log.

use std::borrow::Cow;

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

use super::PolicyError;

/// A word token: a maximal run of letters/digits (plus joining `-`, `'`, `’` between them),
/// as byte offsets into the normalised view.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Word {
    pub start: usize,
    pub end: usize,
}

/// The normalised text and its derived views. All offsets are bytes of `norm`; `fold` has
/// exactly the same byte layout (characters whose lower case has another UTF-8 length are
/// kept as they are).
pub(crate) struct Text<'a> {
    orig: &'a str,
    /// NFKC, spaces/dashes mapped, zero-width removed.
    pub norm: Cow<'a, str>,
    /// Lower-cased `norm`, same byte offsets.
    pub fold: String,
    /// For each byte of `norm`: the original span `(start, end)` it came from. `None` when
    /// `norm` is the input itself.
    map: Option<Vec<(u32, u32)>>,
    /// Word tokens in order.
    pub words: Vec<Word>,
    /// Byte offsets where a run of ASCII digits starts (candidate anchors for identifiers).
    pub digit_starts: Vec<usize>,
    line_starts: Vec<usize>,
    sent_starts: Vec<usize>,
}

fn special(c: char) -> Option<Option<char>> {
    match c {
        '\u{00A0}'
        | '\u{2009}'
        | '\u{202F}'
        | '\u{2007}'
        | '\u{2002}'..='\u{2006}'
        | '\u{2008}'
        | '\u{200A}' => Some(Some(' ')),
        '\u{2010}'..='\u{2015}' | '\u{2212}' => Some(Some('-')),
        '\u{200B}'..='\u{200D}' | '\u{FEFF}' | '\u{00AD}' => Some(None),
        _ => None,
    }
}

/// Index of the first non-ASCII byte at or after `i` (8 bytes at a time).
fn next_non_ascii(b: &[u8], mut i: usize) -> usize {
    while i + 8 <= b.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        if u64::from_le_bytes(w) & 0x8080_8080_8080_8080 != 0 {
            break;
        }
        i += 8;
    }
    while i < b.len() && b[i] < 0x80 {
        i += 1;
    }
    i
}

fn needs_normalisation(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    loop {
        i = next_non_ascii(b, i);
        if i >= b.len() {
            break;
        }
        let c = s[i..].chars().next().unwrap_or(' ');
        i += c.len_utf8();
        // Latin-1 letters (ä, ö, ü, ß, é, …) are NFKC-stable; check everything else.
        if ('\u{00C0}'..='\u{00FF}').contains(&c) {
            continue;
        }
        if special(c).is_some() || is_nfkc_quick(std::iter::once(c)) != IsNormalized::Yes {
            return true;
        }
    }
    false
}

/// Whether `c` belongs to a word token.
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || (!c.is_ascii() && canonical_combining_class(c) != 0)
}

impl<'a> Text<'a> {
    /// Builds all views. Fails only when the input exceeds `u32` offsets (the detector's
    /// own size limit is far below that).
    pub(crate) fn new(orig: &'a str) -> Result<Self, PolicyError> {
        if orig.len() >= u32::MAX as usize {
            return Err(PolicyError::InputTooLarge {
                len: orig.len(),
                max: u32::MAX as usize - 1,
            });
        }
        let (norm, map) = if needs_normalisation(orig) {
            let (n, m) = normalise(orig);
            (Cow::Owned(n), Some(m))
        } else {
            (Cow::Borrowed(orig), None)
        };
        let fold = fold_same_len(&norm);
        let (words, digit_starts, marks) = tokenize(&norm);
        let mut line_starts = vec![0];
        line_starts.extend(
            marks
                .iter()
                .filter(|&&i| norm.as_bytes()[i] == b'\n')
                .map(|&i| i + 1),
        );
        let sent_starts = sentence_starts(&norm, &words, &marks);
        Ok(Text {
            orig,
            norm,
            fold,
            map,
            words,
            digit_starts,
            line_starts,
            sent_starts,
        })
    }

    /// Maps a span of `norm` back to the caller's input. Errors if the map is inconsistent
    /// (callers fail closed).
    pub(crate) fn to_orig(&self, start: usize, end: usize) -> Result<(usize, usize), PolicyError> {
        let (s, e) = match &self.map {
            None => (start, end),
            Some(m) => {
                if start >= end || end > m.len() {
                    return Err(PolicyError::Internal("span outside the normalised text"));
                }
                (m[start].0 as usize, m[end - 1].1 as usize)
            }
        };
        if s >= e
            || e > self.orig.len()
            || !self.orig.is_char_boundary(s)
            || !self.orig.is_char_boundary(e)
        {
            return Err(PolicyError::Internal("span does not map onto the input"));
        }
        Ok((s, e))
    }

    /// The normalised text.
    pub(crate) fn s(&self) -> &str {
        &self.norm
    }

    /// Character before byte `i` of `norm`.
    pub(crate) fn prev_char(&self, i: usize) -> Option<char> {
        self.norm[..i].chars().next_back()
    }

    /// Character at byte `i` of `norm`.
    pub(crate) fn next_char(&self, i: usize) -> Option<char> {
        self.norm[i..].chars().next()
    }

    /// Index of the line containing byte `i`.
    pub(crate) fn line_of(&self, i: usize) -> usize {
        self.line_starts
            .partition_point(|&s| s <= i)
            .saturating_sub(1)
    }

    /// Byte range of line `l` (without its newline).
    pub(crate) fn line_range(&self, l: usize) -> (usize, usize) {
        let l = l.min(self.line_starts.len() - 1);
        let s = self.line_starts[l];
        let e = self
            .line_starts
            .get(l + 1)
            .map_or(self.norm.len(), |&n| n - 1);
        (s, e.max(s))
    }

    /// Byte range of the sentence containing byte `i`.
    pub(crate) fn sentence_of(&self, i: usize) -> (usize, usize) {
        let k = self
            .sent_starts
            .partition_point(|&s| s <= i)
            .saturating_sub(1);
        let s = self.sent_starts[k];
        let e = self
            .sent_starts
            .get(k + 1)
            .copied()
            .unwrap_or(self.norm.len());
        (s, e)
    }

    /// Byte range of all sentences touched by `start..end`.
    pub(crate) fn sentences_of(&self, start: usize, end: usize) -> (usize, usize) {
        let a = self.sentence_of(start).0;
        let b = self.sentence_of(end.saturating_sub(1).max(start)).1;
        (a, b)
    }

    /// Index of the first word that ends after byte `i`.
    pub(crate) fn word_at_or_after(&self, i: usize) -> usize {
        self.words.partition_point(|w| w.end <= i)
    }

    /// The person-reference scope of a hit (SPEC 6.2): its sentence(s), united with the
    /// window of ±1 line clipped to ±`tokens` words around the hit.
    pub(crate) fn scope(&self, start: usize, end: usize, tokens: usize) -> (usize, usize) {
        let (ss, se) = self.sentences_of(start, end);
        let l0 = self.line_of(start);
        let l1 = self.line_of(end.saturating_sub(1).max(start));
        let ls = self.line_range(l0.saturating_sub(1)).0;
        let le = self.line_range(l1 + 1).1;
        let (ts, te) = if self.words.is_empty() {
            (0, self.norm.len())
        } else {
            let w0 = self.word_at_or_after(start).min(self.words.len() - 1);
            let w1 = self
                .word_at_or_after(end.saturating_sub(1))
                .min(self.words.len() - 1);
            (
                self.words[w0.saturating_sub(tokens)].start,
                self.words[(w1 + tokens).min(self.words.len() - 1)].end,
            )
        };
        (ss.min(ls.max(ts)), se.max(le.min(te)))
    }

    /// Folded text of a span.
    pub(crate) fn fold_of(&self, start: usize, end: usize) -> &str {
        &self.fold[start..end]
    }

    /// Normalised text of a span.
    pub(crate) fn at(&self, start: usize, end: usize) -> &str {
        &self.norm[start..end]
    }
}

fn normalise(orig: &str) -> (String, Vec<(u32, u32)>) {
    let mut out = String::with_capacity(orig.len() + 16);
    let mut map: Vec<(u32, u32)> = Vec::with_capacity(orig.len() + 16);
    let mut seg = String::new();
    let mut it = orig.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let mut end = i + c.len_utf8();
        if c.is_ascii() {
            out.push(c);
            map.push((i as u32, end as u32));
            continue;
        }
        seg.clear();
        match special(c) {
            Some(Some(r)) => seg.push(r),
            Some(None) => {}
            None => seg.push(c),
        }
        while let Some(&(j, d)) = it.peek() {
            if !d.is_ascii() && canonical_combining_class(d) != 0 {
                seg.push(d);
                end = j + d.len_utf8();
                it.next();
            } else {
                break;
            }
        }
        let before = out.len();
        out.extend(seg.nfkc());
        for _ in before..out.len() {
            map.push((i as u32, end as u32));
        }
    }
    (out, map)
}

fn fold_same_len(s: &str) -> String {
    let mut out = s.to_ascii_lowercase();
    if s.is_ascii() {
        return out;
    }
    // Non-ASCII characters are lower-cased in place when their lower case has the same
    // UTF-8 length (all letters of German and its neighbours); others stay as they are.
    let b = s.as_bytes();
    let mut buf = [0u8; 4];
    let mut fixes: Vec<(usize, char)> = Vec::new();
    let mut i = 0;
    loop {
        i = next_non_ascii(b, i);
        if i >= b.len() {
            break;
        }
        let Some(c) = s[i..].chars().next() else {
            break;
        };
        let at = i;
        i += c.len_utf8();
        if !c.is_uppercase() {
            continue;
        }
        let mut lc = c.to_lowercase();
        if let (Some(l), None) = (lc.next(), lc.next()) {
            if l.len_utf8() == c.len_utf8() {
                fixes.push((at, l));
            }
        }
    }
    if fixes.is_empty() {
        return out;
    }
    let mut bytes = std::mem::take(&mut out).into_bytes();
    for (i, l) in fixes {
        let e = l.encode_utf8(&mut buf);
        bytes[i..i + e.len()].copy_from_slice(e.as_bytes());
    }
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Word tokens, the starts of ASCII digit runs and the positions of `\n . ! ?`, in one pass.
fn tokenize(s: &str) -> (Vec<Word>, Vec<usize>, Vec<usize>) {
    let b = s.as_bytes();
    let mut words = Vec::with_capacity(s.len() / 6);
    let mut digit_starts = Vec::new();
    let mut marks = Vec::new();
    let mut start: Option<usize> = None;
    let mut i = 0;
    let next_is_letter = |j: usize| -> bool {
        match b.get(j) {
            Some(&x) if x < 0x80 => x.is_ascii_alphabetic(),
            Some(_) => s[j..].chars().next().is_some_and(char::is_alphabetic),
            None => false,
        }
    };
    while i < b.len() {
        let x = b[i];
        if x < 0x80 {
            if x.is_ascii_alphanumeric() {
                if x.is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit()) {
                    digit_starts.push(i);
                }
                if start.is_none() {
                    start = Some(i);
                }
            } else {
                if matches!(x, b'\n' | b'.' | b'!' | b'?') {
                    marks.push(i);
                }
                if let Some(st) = start {
                    // `-` and `'` join letters (`Nowak-Liebig`, `O'Neill`).
                    if !((x == b'-' || x == b'\'') && next_is_letter(i + 1)) {
                        words.push(Word { start: st, end: i });
                        start = None;
                    }
                }
            }
            i += 1;
            continue;
        }
        let c = s[i..].chars().next().unwrap_or(' ');
        let len = c.len_utf8();
        if is_word_char(c) {
            if start.is_none() {
                start = Some(i);
            }
        } else if let Some(st) = start {
            if !(c == '’' && next_is_letter(i + len)) {
                words.push(Word { start: st, end: i });
                start = None;
            }
        }
        i += len;
    }
    if let Some(st) = start {
        words.push(Word {
            start: st,
            end: s.len(),
        });
    }
    (words, digit_starts, marks)
}

/// Abbreviations after which a full stop does not end a sentence (compared folded).
#[rustfmt::skip]
const ABBREV: &[&str] = &[
    "abs",
    "abt",
    "allg",
    "anm",
    "art",
    "az",
    "bd",
    "bspw",
    "bzgl",
    "bzw",
    "ca",
    "co",
    "dipl",
    "dr",
    "evtl",
    "fa",
    "ff",
    "fr",
    "gem",
    "geb",
    "ggf",
    "gz",
    "hr",
    "hrn",
    "hrsg",
    "inkl",
    "ing",
    "jur",
    "kap",
    "lt",
    "max",
    "med",
    "min",
    "mio",
    "mrd",
    "nr",
    "nrn",
    "od",
    "pkt",
    "prof",
    "rer",
    "nat",
    "sog",
    "st",
    "std",
    "str",
    "tel",
    "tsd",
    "usw",
    "vgl",
    "ziff",
    "zzgl",
    "jan",
    "feb",
    "mär",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "okt",
    "nov",
    "dez",
    "bsp",
    "lfd",
    "idnr",
    "ust",
    "steuer-nr",
    "reg",
    "verh",
    "wg",
    "zt",
    "zb",
    "ua",
    "ehem",
    "gez",
    "stv",
    "vors",
    "beh",
    "eg",
    "kfz",
];

fn sentence_starts(s: &str, words: &[Word], marks: &[usize]) -> Vec<usize> {
    let b = s.as_bytes();
    let mut starts = vec![0];
    let mut wi = 0;
    for &i in marks {
        let c = b[i];
        if c == b'\n' {
            starts.push(i + 1);
        } else if matches!(c, b'.' | b'!' | b'?') {
            let next = b.get(i + 1).copied();
            if next.is_none_or(|n| n == b' ' || n == b'\t' || n == b'\n' || n == b'"' || n == b'\'')
            {
                let mut boundary = true;
                if c == b'.' {
                    while wi < words.len() && words[wi].end <= i {
                        wi += 1;
                    }
                    if wi > 0 && words[wi - 1].end == i {
                        let w = &s[words[wi - 1].start..i];
                        let last = w.rsplit(['-', '.']).next().unwrap_or(w);
                        let short_num = w.len() <= 3 && w.bytes().all(|x| x.is_ascii_digit());
                        let single = last.chars().count() == 1;
                        let abbr = last.len() <= 9
                            && ABBREV
                                .iter()
                                .any(|a| a.len() == last.len() && a.eq_ignore_ascii_case(last));
                        if short_num || single || abbr {
                            boundary = false;
                        }
                    }
                }
                if boundary && next.is_some() {
                    starts.push(i + 1);
                }
            }
        }
    }
    starts.dedup();
    starts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_maps_back() {
        let input = "IBAN\u{00A0}DE89\u{2009}3704 \u{200B}x \u{2013} ﬁn";
        let t = Text::new(input)
            .map_err(|_| ())
            .unwrap_or_else(|_| panic!("text"));
        assert_eq!(t.s(), "IBAN DE89 3704 x - fin");
        let i = t.s().find("fin").unwrap_or(0);
        let (s, e) = t.to_orig(i, i + 3).unwrap_or((0, 0));
        assert_eq!(&input[s..e], "ﬁn");
        let j = t.s().find("DE89").unwrap_or(0);
        let (s, e) = t.to_orig(j, j + 4).unwrap_or((0, 0));
        assert_eq!(&input[s..e], "DE89");
    }

    #[test]
    fn fold_keeps_layout() {
        let t = Text::new("ÄÖÜ Straße İx").unwrap_or_else(|_| panic!("text"));
        assert_eq!(t.fold.len(), t.s().len());
        assert!(t.fold.starts_with("äöü straße"));
    }

    #[test]
    fn sentences_skip_abbreviations() {
        let t = Text::new("Frau Dr. Koch, geb. 1.2.1950, kam. Danach ging sie.")
            .unwrap_or_else(|_| panic!("text"));
        let (s, e) = t.sentence_of(3);
        assert_eq!(t.at(s, e), "Frau Dr. Koch, geb. 1.2.1950, kam.");
    }

    #[test]
    fn words_join_hyphens() {
        let t = Text::new("Nowak-Liebig, ver.di 12").unwrap_or_else(|_| panic!("text"));
        let w: Vec<&str> = t.words.iter().map(|w| t.at(w.start, w.end)).collect();
        assert_eq!(t.digit_starts, vec![21]);
        assert_eq!(t.line_of(22), 0);
        assert_eq!(w, vec!["Nowak-Liebig", "ver", "di", "12"]);
    }
}
