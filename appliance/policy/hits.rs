//! Internal hit type and the scanning helpers every detector uses: regex search with
//! character look-around emulated by predicates (the `regex` crate has no look-around),
//! digit-group extraction for identifiers printed with separators, and overlap resolution.
//!
//! Must not: hold or return text (a hit is a span in the normalised view), or log.

use std::collections::BTreeMap;

use aho_corasick::AhoCorasick;
use regex::{Captures, Regex};

use super::text::Text;
use super::types::{class_of, Category};

/// Rank of a hit when spans of different categories overlap: higher wins.
pub(crate) mod rank {
    /// Checksum-validated identifiers.
    pub const VALIDATED: u8 = 100;
    /// Structured identifiers and contact data with a distinctive shape.
    pub const STRUCTURED: u8 = 90;
    /// Phone numbers.
    pub const PHONE: u8 = 70;
    /// Dates of birth.
    pub const DOB: u8 = 60;
    /// Postal addresses.
    pub const ADDRESS: u8 = 50;
    /// Person names.
    pub const PERSON: u8 = 40;
    /// Lexicon terms and ICD codes.
    pub const TERM: u8 = 20;
}

/// A candidate finding in the normalised view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    pub cat: Category,
    pub start: usize,
    pub end: usize,
    pub det: &'static str,
    pub rank: u8,
}

impl Hit {
    pub(crate) fn new(
        cat: Category,
        start: usize,
        end: usize,
        det: &'static str,
        rank: u8,
    ) -> Self {
        Hit {
            cat,
            start,
            end,
            det,
            rank,
        }
    }

    pub(crate) fn overlaps(&self, s: usize, e: usize) -> bool {
        self.start < e && s < self.end
    }
}

/// Iterates over matches of `re` in `hay` for which `ok(start, end)` holds. A rejected match
/// is retried one character after its start, so a valid overlapping candidate is not lost.
pub(crate) fn find_bounded<'h>(
    re: &'h Regex,
    hay: &'h str,
    mut ok: impl FnMut(usize, usize) -> bool + 'h,
) -> impl Iterator<Item = (usize, usize)> + 'h {
    let mut pos = 0;
    std::iter::from_fn(move || {
        while pos <= hay.len() {
            let m = re.find_at(hay, pos)?;
            if ok(m.start(), m.end()) {
                pos = if m.end() > m.start() {
                    m.end()
                } else {
                    next_boundary(hay, m.end())
                };
                return Some((m.start(), m.end()));
            }
            pos = next_boundary(hay, m.start());
        }
        None
    })
}

/// Like [`find_bounded`] but yields captures.
pub(crate) fn captures_bounded<'h>(
    re: &'h Regex,
    hay: &'h str,
    mut ok: impl FnMut(&Captures<'h>) -> bool + 'h,
) -> impl Iterator<Item = Captures<'h>> + 'h {
    let mut pos = 0;
    std::iter::from_fn(move || {
        while pos <= hay.len() {
            let c = re.captures_at(hay, pos)?;
            let m = c.get(0)?;
            if ok(&c) {
                pos = if m.end() > m.start() {
                    m.end()
                } else {
                    next_boundary(hay, m.end())
                };
                return Some(c);
            }
            pos = next_boundary(hay, m.start());
        }
        None
    })
}

/// The next char boundary strictly after `i` (or `len + 1` at the end).
pub(crate) fn next_boundary(s: &str, i: usize) -> usize {
    if i >= s.len() {
        return s.len() + 1;
    }
    let mut j = i + 1;
    while j < s.len() && !s.is_char_boundary(j) {
        j += 1;
    }
    j
}

/// Merged windows `[d - back, d + fwd)` (on char boundaries) around the starts `d` of digit
/// runs for which `pred(d)` holds. Identifiers contain digits, so scanning these windows
/// instead of the whole text keeps detection fast on long prompts.
pub(crate) fn digit_windows(
    t: &Text<'_>,
    back: usize,
    fwd: usize,
    mut pred: impl FnMut(usize) -> bool,
) -> Vec<(usize, usize)> {
    let s = t.s();
    let mut out: Vec<(usize, usize)> = Vec::new();
    for &d in &t.digit_starts {
        if !pred(d) {
            continue;
        }
        let mut a = d.saturating_sub(back);
        while !s.is_char_boundary(a) {
            a -= 1;
        }
        let mut b = (d + fwd).min(s.len());
        while !s.is_char_boundary(b) {
            b += 1;
        }
        match out.last_mut() {
            Some(last) if a <= last.1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// [`find_bounded`] inside each window; `ok` and the results use absolute offsets.
pub(crate) fn find_in_windows(
    re: &Regex,
    hay: &str,
    windows: &[(usize, usize)],
    mut ok: impl FnMut(usize, usize) -> bool,
) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for &(a, b) in windows {
        out.extend(
            find_bounded(re, &hay[a..b], |s, e| ok(a + s, a + e)).map(|(s, e)| (a + s, a + e)),
        );
    }
    out
}

/// Whether the byte at `i` exists and is an ASCII upper-case letter.
pub(crate) fn upper_at(s: &str, i: usize) -> bool {
    s.as_bytes().get(i).is_some_and(u8::is_ascii_uppercase)
}

/// Whether the char before `i` is absent or not alphanumeric.
pub(crate) fn no_alnum_before(t: &Text<'_>, i: usize) -> bool {
    !t.prev_char(i).is_some_and(char::is_alphanumeric)
}

/// Whether the char at `i` is absent or not alphanumeric.
pub(crate) fn no_alnum_after(t: &Text<'_>, i: usize) -> bool {
    !t.next_char(i).is_some_and(char::is_alphanumeric)
}

/// Digit values of a span (separators dropped).
pub(crate) fn digits(s: &str) -> Vec<u8> {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

/// Upper-case ASCII alphanumerics of a span (separators dropped).
pub(crate) fn alnum_upper(s: &str) -> Vec<u8> {
    s.bytes()
        .filter(u8::is_ascii_alphanumeric)
        .map(|b| b.to_ascii_uppercase())
        .collect()
}

/// A digit group: `(start, end)` of a maximal digit run inside a numeric candidate.
pub(crate) type Group = (usize, usize);

/// The digit groups of `s[start..end]`, as absolute offsets.
pub(crate) fn groups(s: &str, start: usize, end: usize) -> Vec<Group> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = start;
    while i < end {
        if b[i].is_ascii_digit() {
            let g = i;
            while i < end && b[i].is_ascii_digit() {
                i += 1;
            }
            out.push((g, i));
        } else {
            i += 1;
        }
    }
    out
}

/// Whether the text between two groups (`s[a..b]`) holds exactly one line break at most and
/// otherwise only blanks.
pub(crate) fn at_most_one_newline(s: &str) -> bool {
    s.bytes().filter(|&c| c == b'\n').count() <= 1
}

/// An automaton over a keyword list, built once (see [`needles!`]).
pub(crate) fn needle_set(keys: &[&str]) -> AhoCorasick {
    #[allow(clippy::expect_used)] // constant keyword lists, covered by tests
    AhoCorasick::new(keys).expect("keyword automaton")
}

/// Declares a lazily built keyword automaton over a constant list.
macro_rules! needles {
    ($name:ident, $list:expr) => {
        static $name: std::sync::LazyLock<aho_corasick::AhoCorasick> =
            std::sync::LazyLock::new(|| $crate::policy::hits::needle_set($list));
    };
}
pub(crate) use needles;

/// Whether a keyword of `keys` (folded substrings) occurs in the folded text.
pub(crate) fn has_any(fold: &str, keys: &AhoCorasick) -> bool {
    keys.is_match(fold)
}

/// Resolves overlaps: hits of the same category that overlap are merged; of two overlapping
/// hits of different categories the higher rank wins, equal ranks keep the longer span.
/// Returns the hits sorted by start.
pub(crate) fn resolve(mut hits: Vec<Hit>) -> Vec<Hit> {
    // Highest priority first: rank, then length.
    hits.sort_by(|a, b| {
        b.rank
            .cmp(&a.rank)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
    });
    // Kept hits are pairwise disjoint, indexed by start.
    let mut kept: BTreeMap<usize, Hit> = BTreeMap::new();
    for h in hits {
        // Disjoint intervals sorted by start have increasing ends: walking back from the last
        // one starting before `h.end` finds every overlap.
        let mut over: Option<usize> = None;
        for (&ks, k) in kept.range(..h.end).rev() {
            if k.end <= h.start {
                break;
            }
            over = Some(ks);
            if k.cat == h.cat {
                break;
            }
        }
        match over {
            None => {
                kept.insert(h.start, h);
            }
            Some(ks) => {
                if let Some(mut k) = kept.remove(&ks) {
                    if k.cat == h.cat {
                        k.start = k.start.min(h.start);
                        k.end = k.end.max(h.end);
                        if class_of(h.cat, h.det) > class_of(k.cat, k.det) {
                            k.det = h.det;
                        }
                    }
                    kept.insert(k.start, k);
                }
            }
        }
    }
    // Merging may have produced new same-category overlaps; fold them.
    let mut out: Vec<Hit> = Vec::with_capacity(kept.len());
    for h in kept.into_values() {
        if let Some(last) = out.last_mut() {
            if last.overlaps(h.start, h.end) {
                if last.cat == h.cat {
                    last.end = last.end.max(h.end);
                    if class_of(h.cat, h.det) > class_of(last.cat, last.det) {
                        last.det = h.det;
                    }
                    continue;
                }
                if (h.rank, h.end - h.start) > (last.rank, last.end - last.start) {
                    *last = h;
                }
                continue;
            }
        }
        out.push(h);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_retries_inside_rejected_match() {
        let re = Regex::new("[0-9]{3}").unwrap_or_else(|_| panic!("regex"));
        let hay = "1234 567";
        let t = Text::new(hay).unwrap_or_else(|_| panic!("text"));
        let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        let found: Vec<_> = find_bounded(&re, hay, |s, e| {
            !digit(t.prev_char(s)) && !digit(t.next_char(e))
        })
        .collect();
        assert_eq!(found, vec![(5, 8)]);
    }

    #[test]
    fn resolve_prefers_rank_then_length() {
        let a = Hit::new(Category::Phone, 0, 10, "p", rank::PHONE);
        let b = Hit::new(Category::Iban, 2, 20, "i", rank::VALIDATED);
        let c = Hit::new(Category::Person, 30, 35, "n", rank::PERSON);
        let d = Hit::new(Category::Person, 33, 40, "n", rank::PERSON);
        let r = resolve(vec![a, b, c, d]);
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].cat, r[1].cat, r[1].start, r[1].end),
            (Category::Iban, Category::Person, 30, 40)
        );
    }
}
