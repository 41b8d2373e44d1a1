//! Word-level machinery of the PERSON detector: one lexicon lookup per word (flags from the
//! compiled-in name lists, stop words, roles and labels), word case from the original and
//! folded views, lazily computed suffix classes, and the name-chain grammar (given names,
//! couples, particles, family name) shared by the rules in `names.rs`.
//!
//! Must not: decide findings on its own, keep text beyond one call, or log.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

use super::names_lexicon as lex;
use super::text::Text;

// Lexical flags of a folded word (one hash lookup per word).
pub(crate) const GIVEN: u32 = 1;
pub(crate) const FAMILY: u32 = 1 << 1;
pub(crate) const STOP: u32 = 1 << 2;
pub(crate) const OFFICE: u32 = 1 << 3;
pub(crate) const LOWER_STOP: u32 = 1 << 4;
pub(crate) const AMBIGUOUS: u32 = 1 << 5;
pub(crate) const SALUT: u32 = 1 << 6;
pub(crate) const TITLE: u32 = 1 << 7;
pub(crate) const LABEL: u32 = 1 << 8;
pub(crate) const USER: u32 = 1 << 9;
pub(crate) const ROLE: u32 = 1 << 10;
pub(crate) const PARTICLE: u32 = 1 << 11;
pub(crate) const PREP: u32 = 1 << 12;
pub(crate) const INIT_BLOCK: u32 = 1 << 13;
// Suffix flags, computed on demand.
const S_NOUN: u8 = 1;
const S_ADJ: u8 = 1 << 1;
const S_INST: u8 = 1 << 2;
const S_ROLE: u8 = 1 << 3;

/// Multiply-rotate hashing of short keys, 8 bytes at a time (as in rustc's FxHash). The
/// table holds only compiled-in words, so crafted input cannot lengthen its probe sequences.
#[derive(Default)]
pub(crate) struct FxLike(u64);

impl Hasher for FxLike {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x517c_c1b7_2722_0a95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut buf = [0u8; 8];
            buf.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(buf)).wrapping_mul(K);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let v = rest
                .iter()
                .rev()
                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            h = (h.rotate_left(5) ^ v).wrapping_mul(K);
        }
        self.0 = h;
    }
}

type FlagMap = HashMap<&'static str, u32, BuildHasherDefault<FxLike>>;

pub(crate) struct Lex {
    flags: FlagMap,
    /// Family names of at least 5 letters (for user names).
    pub(crate) family: Vec<&'static str>,
}

pub(crate) static LEX: LazyLock<Lex> = LazyLock::new(|| {
    let mut flags = FlagMap::default();
    let mut add = |words: &mut dyn Iterator<Item = &'static str>, f: u32| {
        for w in words {
            *flags.entry(w).or_default() |= f;
        }
    };
    add(&mut lex::GIVEN_NAMES.split_whitespace(), GIVEN);
    add(&mut lex::FAMILY_NAMES.split_whitespace(), FAMILY);
    add(&mut lex::STOP_WORDS.split_whitespace(), STOP | LOWER_STOP);
    add(&mut lex::ROLE_WORDS.split_whitespace(), OFFICE);
    add(&mut lex::LOWER_STOP.split_whitespace(), LOWER_STOP);
    add(&mut lex::AMBIGUOUS_LOWER.iter().copied(), AMBIGUOUS);
    add(&mut lex::SALUTATIONS.iter().copied(), SALUT);
    add(&mut lex::TITLES.iter().copied(), TITLE);
    add(&mut lex::LABELS.iter().copied(), LABEL);
    add(&mut lex::USER_LABELS.iter().copied(), USER);
    add(&mut lex::ROLE_CUES.iter().copied(), ROLE);
    add(&mut lex::PARTICLES.iter().copied(), PARTICLE);
    add(&mut lex::PREPOSITIONS.iter().copied(), PREP);
    add(&mut lex::INITIAL_BLOCK.iter().copied(), INIT_BLOCK);
    Lex {
        flags,
        family: lex::FAMILY_NAMES
            .split_whitespace()
            .filter(|w| w.chars().count() >= 5)
            .collect(),
    }
});

fn flags_of(w: &str) -> u32 {
    LEX.flags.get(w).copied().unwrap_or(0)
}

/// Whether the folded word is a given name of the lexicon (at least 3 letters).
pub(crate) fn is_given_name(w: &str) -> bool {
    w.chars().count() >= 3 && flags_of(w) & GIVEN != 0
}

/// Whether the word `orig` (as written) with folded form `fold` is a capitalised first name
/// of the lexicon that is not also a common word.
pub(crate) fn is_capitalised_given_name(orig: &str, fold: &str) -> bool {
    orig.chars().next().is_some_and(char::is_uppercase)
        && flags_of(fold) & (GIVEN | AMBIGUOUS | STOP) == GIVEN
}

/// Whether the folded word is a family name of the lexicon.
pub(crate) fn is_family_name(w: &str) -> bool {
    flags_of(w) & FAMILY != 0
}

/// Whether the folded token starts with a given name of at least 4 letters followed by at
/// least 4 more letters (`jolantabrandt`), as in e-mail local parts.
pub(crate) fn starts_with_given_name(w: &str) -> bool {
    (4..=w.len().min(12))
        .any(|k| w.is_char_boundary(k) && w.len() - k >= 4 && flags_of(&w[..k]) & GIVEN != 0)
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Case {
    Cap,
    Upper,
    Lower,
    Other,
}

/// Case of a word from its original and folded bytes (same layout): a byte sequence that
/// folding changed is an upper-case letter.
fn case_of(orig: &[u8], fold: &[u8]) -> Case {
    let (mut up, mut low) = (0usize, 0usize);
    let mut first_upper = false;
    let mut i = 0;
    while i < orig.len() {
        let o = orig[i];
        if o < 0x80 {
            if o.is_ascii_digit() {
                return Case::Other;
            }
            if o.is_ascii_uppercase() {
                up += 1;
                first_upper |= i == 0;
            } else if o.is_ascii_lowercase() {
                low += 1;
            }
            i += 1;
            continue;
        }
        let len = match o {
            0xc0..=0xdf => 2,
            0xe0..=0xef => 3,
            _ => 4,
        }
        .min(orig.len() - i);
        if (i..i + len).any(|k| orig[k] != fold[k]) {
            up += 1;
            first_upper |= i == 0;
        } else {
            low += 1;
        }
        i += len;
    }
    match (up, low) {
        (0, 0) => Case::Other,
        (0, _) => Case::Lower,
        (u, 0) if u >= 2 => Case::Upper,
        (_, 0) => Case::Other,
        _ if first_upper => Case::Cap,
        _ => Case::Other,
    }
}

#[derive(Clone, Copy)]
pub(crate) struct Info {
    pub(crate) case: Case,
    pub(crate) flags: u32,
    chars: usize,
}

pub(crate) struct Words<'t, 'a> {
    pub(crate) t: &'t Text<'a>,
    pub(crate) info: Vec<Info>,
    pub(crate) case: Vec<Case>,
    sfx: Vec<OnceCell<u8>>,
}

impl<'t, 'a> Words<'t, 'a> {
    pub(crate) fn new(t: &'t Text<'a>) -> Self {
        let info: Vec<Info> = t
            .words
            .iter()
            .map(|w| {
                let f = t.fold_of(w.start, w.end);
                let first_digit = f.as_bytes().first().is_some_and(u8::is_ascii_digit);
                let mut flags = if first_digit || f.len() > 40 {
                    0
                } else {
                    flags_of(f)
                };
                if flags & GIVEN == 0
                    && f.contains('-')
                    && f.split('-').all(|p| flags_of(p) & GIVEN != 0)
                {
                    flags |= GIVEN;
                }
                let chars = if f.is_ascii() {
                    f.len()
                } else {
                    f.chars().count()
                };
                Info {
                    case: case_of(t.at(w.start, w.end).as_bytes(), f.as_bytes()),
                    flags,
                    chars,
                }
            })
            .collect();
        let case = info.iter().map(|i| i.case).collect();
        let sfx = (0..info.len()).map(|_| OnceCell::new()).collect();
        Words { t, info, case, sfx }
    }
    pub(crate) fn n(&self) -> usize {
        self.info.len()
    }
    pub(crate) fn has(&self, i: usize, f: u32) -> bool {
        i < self.n() && self.info[i].flags & f != 0
    }
    pub(crate) fn suffix(&self, i: usize, f: u8) -> bool {
        let v = *self.sfx[i].get_or_init(|| {
            let w = self.fold(i);
            let ends = |list: &[&str], min_extra: usize| {
                list.iter()
                    .any(|x| w.ends_with(x) && w.len() >= x.len() + min_extra)
            };
            let mut v = 0;
            if ends(lex::NOUN_SUFFIXES, 0) {
                v |= S_NOUN;
            }
            if ends(lex::ADJECTIVE_SUFFIXES, 0) {
                v |= S_ADJ;
            }
            if ends(lex::INSTITUTION_SUFFIXES, 3) {
                v |= S_INST;
            }
            if ends(lex::ROLE_SUFFIXES, 3) {
                v |= S_ROLE;
            }
            v
        });
        v & f != 0
    }
    pub(crate) fn fold(&self, i: usize) -> &str {
        let w = self.t.words[i];
        self.t.fold_of(w.start, w.end)
    }
    pub(crate) fn gap(&self, i: usize) -> &str {
        if i + 1 >= self.n() {
            return "";
        }
        self.t.at(self.t.words[i].end, self.t.words[i + 1].start)
    }
    pub(crate) fn space(&self, i: usize) -> bool {
        i + 1 < self.n()
            && self.t.words[i + 1].start == self.t.words[i].end + 1
            && self.gap(i) == " "
    }
    pub(crate) fn char_len(&self, i: usize) -> usize {
        self.info[i].chars
    }
    pub(crate) fn is_given(&self, i: usize, lower: bool) -> bool {
        if i >= self.n() || self.info[i].flags & GIVEN == 0 {
            return false;
        }
        let c = self.case[i];
        if lower {
            c == Case::Lower && self.info[i].flags & AMBIGUOUS == 0
        } else {
            c == Case::Cap || c == Case::Upper
        }
    }
    pub(crate) fn is_particle(&self, i: usize) -> bool {
        i < self.n() && self.case[i] == Case::Lower && self.has(i, PARTICLE)
    }
    pub(crate) fn institution_like(&self, i: usize) -> bool {
        self.suffix(i, S_INST)
    }
    pub(crate) fn surname_ok(&self, i: usize, lower: bool) -> bool {
        if i >= self.n() || self.char_len(i) < 2 {
            return false;
        }
        if lower {
            return self.case[i] == Case::Lower
                && self.char_len(i) >= 3
                && !self.has(i, LOWER_STOP | OFFICE)
                && !self.institution_like(i);
        }
        matches!(self.case[i], Case::Cap | Case::Upper)
            && !self.has(i, STOP | OFFICE)
            && !self.institution_like(i)
    }
    pub(crate) fn noun_like(&self, i: usize) -> bool {
        self.suffix(i, S_NOUN)
    }
    pub(crate) fn role_cue(&self, i: usize) -> bool {
        self.has(i, ROLE) || self.suffix(i, S_ROLE)
    }
    /// Two capitalised words that read as first name + family name although the first is not
    /// in the lexicon; only used after a strong cue.
    pub(crate) fn cap_pair(&self, i: usize) -> bool {
        i + 1 < self.n()
            && self.case[i] == Case::Cap
            && self.case[i + 1] == Case::Cap
            && self.space(i)
            && self.char_len(i) >= 2
            && !self.has(i, STOP | OFFICE)
            && !self.role_cue(i)
            && !self.noun_like(i)
            && !self.suffix(i, S_ADJ)
            && !self.institution_like(i)
            && self.surname_ok(i + 1, false)
            && !self.noun_like(i + 1)
            && !self.role_cue(i + 1)
            && !(self.space(i + 1)
                && i + 2 < self.n()
                && self.case[i + 2] == Case::Cap
                && !self.has(i + 2, STOP))
    }
    pub(crate) fn is_initial(&self, i: usize) -> bool {
        i < self.n()
            && self.char_len(i) == 1
            && self.case[i] != Case::Lower
            && self
                .t
                .at(self.t.words[i].start, self.t.words[i].end)
                .chars()
                .all(char::is_uppercase)
            && self.gap(i).starts_with('.')
    }
    pub(crate) fn dotted(&self, i: usize) -> bool {
        let g = self.gap(i);
        g == "." || g == ". " || g == ".-"
    }

    /// Given name(s) [+ `und` + given name(s)] [+ particle(s)] + family name; returns the
    /// index of the last word.
    pub(crate) fn chain(&self, i: usize, lower: bool) -> Option<usize> {
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
            && !self.has(j + 2, STOP)
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
    pub(crate) fn name_after(&self, mut j: usize, lower: bool) -> Option<(usize, usize)> {
        while self.has(j, TITLE) && self.dotted(j) {
            j += 1;
        }
        while self.has(j, OFFICE) && self.space(j) {
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
