//! The German-aware analyzer of the BM25 index.
//!
//! Steps for every word (a maximal run of alphanumeric characters, Unicode):
//! 1. lower-casing (Unicode), then folding: `ß` → `ss`, and every diacritic removed after
//!    canonical decomposition (NFD; `ä` → `a`, `é` → `e`), so "Straße", "STRASSE" and
//!    "Strasse" and "Gebäude"/"Gebaude" meet. (The transliterations `ae`/`oe`/`ue` are not
//!    folded: that would merge "neue"/"neu" style pairs.)
//! 2. a short German stop-word list is dropped (articles, pronouns, auxiliaries);
//! 3. light stemming with the German Snowball stemmer (`rust-stemmers`,
//!    <https://snowballstem.org/algorithms/german/stemmer.html>);
//! 4. compounds: German writes compounds as one word ("Bewohnerparkausweis"), so a query
//!    for "Parkausweis" would miss it. Stems of at least [`GRAM_MIN_WORD`] characters are
//!    also indexed as character 4-grams (marked `#`, so they never collide with words).
//!    A query word of four or more characters adds its 4-grams, each as a gram and as a
//!    plain word (so "Hundesteuer" also finds "Steuer für Hunde"), with a total weight of
//!    [`GRAM_QUERY_WEIGHT`] per word, so whole-word matches dominate.
//!
//! Document length for BM25 counts words only (not grams).

use std::collections::HashMap;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization as _;

/// Stems at least this long (in characters) are also indexed as 4-grams.
pub const GRAM_MIN_WORD: usize = 7;
/// Length of the compound grams.
pub const GRAM_LEN: usize = 4;
/// Total query weight of one word's grams (a whole-word match weighs 1).
pub const GRAM_QUERY_WEIGHT: f32 = 0.5;
/// Changes whenever the analyzer's output changes; stored terms of older versions are stale.
pub const ANALYZER_VERSION: u32 = 1;

const STOP: &[&str] = &[
    "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "einer", "eines", "und", "oder", "aber", "als", "wie", "wo",
    "was", "wer", "wann", "ist", "sind", "war", "waren", "wird", "werden", "wurde", "wurden", "hat", "haben", "hatte", "kann", "konnen",
    "muss", "mussen", "soll", "sollen", "ich", "du", "er", "sie", "es", "wir", "ihr", "man", "mich", "mir", "sich", "uns", "in", "im",
    "an", "am", "auf", "aus", "bei", "mit", "nach", "von", "vom", "zu", "zum", "zur", "fur", "uber", "um", "durch", "dass", "ob", "nicht",
    "auch", "noch", "nur", "so", "da", "dann", "denn", "welche", "welcher", "welches", "the", "of", "and", "to", "a", "is",
];

/// Lower-cases and folds one word (step 1).
pub fn fold(word: &str) -> String {
    let lower = word.to_lowercase().replace('ß', "ss");
    lower.nfd().filter(|c| !unicode_normalization::char::is_combining_mark(*c)).collect()
}

/// Splits text into words (alphanumeric runs), in order.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

/// The analyzer (holds the stemmer).
pub struct Analyzer {
    stemmer: Stemmer,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self { stemmer: Stemmer::create(Algorithm::German) }
    }
}

/// The index terms of one text: term → frequency, and the length in words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Terms {
    /// Term → occurrences (words and `#`-marked grams), sorted by term.
    pub tf: Vec<(String, u32)>,
    /// Words counted for BM25 length normalisation.
    pub words: u32,
}

impl Analyzer {
    /// The stem of one word, or None for stop words and single characters other than digits.
    pub fn stem(&self, word: &str) -> Option<String> {
        let f = fold(word);
        if STOP.contains(&f.as_str()) || (f.chars().count() < 2 && !f.chars().all(|c| c.is_ascii_digit())) {
            return None;
        }
        Some(self.stemmer.stem(&f).into_owned())
    }

    /// Index terms of a chunk (steps 1–4).
    pub fn index_terms(&self, text: &str) -> Terms {
        let mut tf: HashMap<String, u32> = HashMap::new();
        let mut n = 0u32;
        for w in words(text) {
            let Some(s) = self.stem(w) else { continue };
            n += 1;
            if s.chars().count() >= GRAM_MIN_WORD {
                for g in grams(&s) {
                    *tf.entry(format!("#{g}")).or_insert(0) += 1;
                }
            }
            *tf.entry(s).or_insert(0) += 1;
        }
        let mut tf: Vec<(String, u32)> = tf.into_iter().collect();
        tf.sort();
        Terms { tf, words: n }
    }

    /// Weighted query terms (term, weight), merged by term, in first-seen order.
    pub fn query_terms(&self, text: &str) -> Vec<(String, f32)> {
        let mut out: Vec<(String, f32)> = Vec::new();
        let mut add = |t: String, w: f32| match out.iter_mut().find(|(x, _)| *x == t) {
            Some(e) => e.1 = e.1.max(w),
            None => out.push((t, w)),
        };
        for w in words(text) {
            let Some(s) = self.stem(w) else { continue };
            if s.chars().count() >= GRAM_LEN {
                let g = grams(&s);
                let each = GRAM_QUERY_WEIGHT / g.len() as f32;
                for x in g {
                    if x != s {
                        add(x.clone(), each);
                    }
                    add(format!("#{x}"), each);
                }
            }
            add(s, 1.0);
        }
        out
    }
}

/// The character [`GRAM_LEN`]-grams of a word (the word itself when it is that short).
fn grams(s: &str) -> Vec<String> {
    let c: Vec<char> = s.chars().collect();
    if c.len() <= GRAM_LEN {
        return vec![s.to_string()];
    }
    c.windows(GRAM_LEN).map(|w| w.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_case_umlauts_and_sharp_s() {
        assert_eq!(fold("Straße"), "strasse");
        assert_eq!(fold("STRASSE"), "strasse");
        assert_eq!(fold("Gebäude"), "gebaude");
        assert_eq!(fold("Öffnungszeiten"), "offnungszeiten");
        assert_eq!(fold("Café"), "cafe");
    }

    #[test]
    fn stems_inflections_together_and_drops_stop_words() {
        let a = Analyzer::default();
        assert_eq!(a.stem("Anträge"), a.stem("Antrag"));
        assert_eq!(a.stem("Gebäuden"), a.stem("Gebäude"));
        assert_eq!(a.stem("Straße"), a.stem("Strassen"));
        assert_eq!(a.stem("Parkausweise"), a.stem("Parkausweis"));
        assert_eq!(a.stem("die"), None);
        assert_eq!(a.stem("x"), None);
        assert_eq!(a.stem("7").as_deref(), Some("7"));
    }

    #[test]
    fn compounds_share_grams_with_their_parts() {
        let a = Analyzer::default();
        let doc = a.index_terms("Der Bewohnerparkausweis wird beim Bürgerbüro beantragt.");
        assert_eq!(doc.words, 4, "der/wird are stop words: {doc:?}");
        let q = a.query_terms("Parkausweis");
        let doc_terms: Vec<&str> = doc.tf.iter().map(|(t, _)| t.as_str()).collect();
        let shared: Vec<_> = q.iter().filter(|(t, _)| doc_terms.contains(&t.as_str())).collect();
        assert!(shared.len() >= 5, "query grams of Parkausweis must occur in the compound: {shared:?}");
        assert!(!doc_terms.contains(&"parkausweis"), "the whole word is not there, only grams");
        // Query weights: the word 1.0, grams sum to GRAM_QUERY_WEIGHT per gram family.
        assert_eq!(q.iter().find(|(t, _)| !t.starts_with('#') && t.len() > GRAM_LEN).map(|x| x.1), Some(1.0));
        let gram_sum: f32 = q.iter().filter(|(t, _)| t.starts_with('#')).map(|x| x.1).sum();
        assert!((gram_sum - GRAM_QUERY_WEIGHT).abs() < 1e-4, "{gram_sum}");
    }

    #[test]
    fn term_frequencies_count_repeats() {
        let a = Analyzer::default();
        let t = a.index_terms("Hund, Hunde, HUNDE!");
        let hund = a.stem("Hund").unwrap_or_default();
        assert_eq!(t.tf.iter().find(|(x, _)| *x == hund).map(|x| x.1), Some(3));
        assert_eq!(t.words, 3);
    }
}
