//! Pseudonymization: findings are replaced by placeholders such as `[PERSON_1]` before a
//! request leaves the box and restored in the answer, also when a placeholder arrives split
//! across stream chunks. The same value gets the same placeholder everywhere in the request,
//! and since every request carries the whole conversation in order, a conversation keeps its
//! placeholders from turn to turn. The mapping lives only in memory, for one request.

use std::collections::HashMap;

use super::gate::Leaf;
use super::Finding;

/// The placeholder ↔ value mapping of one request. Never logged, never stored.
#[derive(Clone, Default)]
pub struct Pseudonyms {
    /// (placeholder, original value), in order of first appearance.
    pairs: Vec<(String, String)>,
}

impl std::fmt::Debug for Pseudonyms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Pseudonyms({} placeholders)", self.pairs.len())
    }
}

/// Longest placeholder we hold back for while streaming (`[` + category + `_` + digits + `]`).
const MAX_PLACEHOLDER: usize = 48;

impl Pseudonyms {
    /// Masks `findings` (spans of `text`) inside each leaf; returns the new leaf strings and
    /// the mapping, or `None` when a finding crosses a leaf boundary (the caller fails closed).
    pub(crate) fn mask(text: &str, leaves: &[Leaf], findings: &[Finding]) -> Option<(Vec<String>, Pseudonyms)> {
        let mut ps = Pseudonyms::default();
        let mut by_value: HashMap<(String, String), String> = HashMap::new();
        let mut counters: HashMap<&'static str, usize> = HashMap::new();
        let mut out = Vec::with_capacity(leaves.len());
        let mut sorted: Vec<&Finding> = findings.iter().collect();
        sorted.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
        for leaf in leaves {
            let mut s = String::new();
            let mut pos = leaf.start;
            for f in sorted.iter().filter(|f| f.start < leaf.end && f.end > leaf.start) {
                if f.start < leaf.start || f.end > leaf.end {
                    return None;
                }
                if f.start < pos {
                    continue; // overlaps an earlier, longer finding
                }
                s.push_str(&text[pos..f.start]);
                let value = text[f.start..f.end].to_string();
                let cat = f.category.as_str();
                let key = (cat.to_string(), value.clone());
                let ph = by_value
                    .entry(key)
                    .or_insert_with(|| {
                        let n = counters.entry(cat).or_default();
                        *n += 1;
                        let ph = format!("[{cat}_{n}]");
                        ps.pairs.push((ph.clone(), value.clone()));
                        ph
                    })
                    .clone();
                s.push_str(&ph);
                pos = f.end;
            }
            s.push_str(&text[pos..leaf.end]);
            out.push(s);
        }
        Some((out, ps))
    }

    /// Number of placeholders.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether nothing was masked.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Replaces every placeholder in `text` with its value.
    pub fn restore(&self, text: &str) -> String {
        let mut out = text.to_string();
        // Longest first, so `[PERSON_12]` is not hit by `[PERSON_1]` (they differ in `]` anyway).
        for (ph, v) in &self.pairs {
            if out.contains(ph.as_str()) {
                out = out.replace(ph.as_str(), v);
            }
        }
        out
    }

    /// A streaming restorer for one choice.
    pub fn restorer(&self) -> Restorer {
        Restorer { ps: self.clone(), held: String::new() }
    }
}

/// Restores placeholders in streamed text; holds back a possible placeholder prefix until it
/// is complete or cannot be one.
#[derive(Debug)]
pub struct Restorer {
    ps: Pseudonyms,
    held: String,
}

impl Restorer {
    /// Adds a chunk; returns the text that is safe to emit.
    pub fn push(&mut self, chunk: &str) -> String {
        self.held.push_str(chunk);
        let cut = match self.held.rfind('[') {
            Some(i) if self.held.len() - i < MAX_PLACEHOLDER && !self.held[i..].contains(']') && could_be_placeholder(&self.held[i..]) => i,
            _ => self.held.len(),
        };
        let ready: String = self.held.drain(..cut).collect();
        self.ps.restore(&ready)
    }

    /// Flushes what is held at the end of the stream.
    pub fn finish(&mut self) -> String {
        let rest = std::mem::take(&mut self.held);
        self.ps.restore(&rest)
    }
}

/// Whether `s` (starting with `[`, no `]` yet) can still grow into `[CATEGORY_N]`.
fn could_be_placeholder(s: &str) -> bool {
    s[1..].chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Category, Detector, PolicyDetectConfig};

    #[test]
    fn same_value_same_placeholder_and_restore_roundtrips() {
        let text = "Frau Erika Beispielfrau schreibt an erika.beispiel@example.org; Erika Beispielfrau bittet um Rückruf.";
        let det = Detector::new(&PolicyDetectConfig::default()).unwrap();
        let findings = det.detect(text).unwrap();
        assert!(findings.iter().any(|f| f.category == Category::Email));
        let leaves = vec![Leaf { pointer: String::new(), start: 0, end: text.len() }];
        let (masked, ps) = Pseudonyms::mask(text, &leaves, &findings).unwrap();
        assert!(!masked[0].contains("erika.beispiel@example.org"));
        assert!(masked[0].contains("[EMAIL_1]"));
        assert_eq!(ps.restore(&masked[0]), text);
    }

    #[test]
    fn streamed_placeholders_split_across_chunks_are_restored() {
        let ps = Pseudonyms { pairs: vec![("[PERSON_1]".into(), "Erika Beispielfrau".into()), ("[EMAIL_12]".into(), "e@example.org".into())] };
        let mut r = ps.restorer();
        let mut out = String::new();
        for chunk in ["Sehr geehrte [PER", "SON_", "1], Ihre Mail [EMAIL_1", "2] ist da. [Hinweis] Ende [x"] {
            out.push_str(&r.push(chunk));
        }
        out.push_str(&r.finish());
        assert_eq!(out, "Sehr geehrte Erika Beispielfrau, Ihre Mail e@example.org ist da. [Hinweis] Ende [x");
    }
}
