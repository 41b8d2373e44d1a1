//! Turning sampled token bytes into text deltas: never splits a UTF-8 character and
//! never emits text that could be the start of a stop sequence (OpenAI `stop`).
//!
//! Pure logic, unit-tested without a model.

use super::TokenLogprob;

/// What the assembler produced for a pushed token.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Emitted {
    /// Text that is final and may go to the client (possibly empty).
    pub text: String,
    /// Log-probabilities of the tokens whose bytes are now fully emitted.
    pub logprobs: Vec<TokenLogprob>,
    /// A stop sequence matched: generation ends; the stop text itself is not emitted.
    pub stopped: bool,
}

/// Accumulates token bytes and releases complete, stop-safe text.
#[derive(Debug)]
pub(crate) struct TextAssembler {
    stops: Vec<String>,
    pending: Vec<u8>,
    /// Log-probabilities waiting for their bytes, with the end offset of each in `pending`.
    pending_lp: Vec<(usize, TokenLogprob)>,
}

impl TextAssembler {
    /// `stops` are the request's stop sequences; empty strings are ignored.
    pub(crate) fn new(stops: &[String]) -> Self {
        Self { stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(), pending: Vec::new(), pending_lp: Vec::new() }
    }

    /// Adds one token's bytes (and optionally its log-probability).
    pub(crate) fn push(&mut self, bytes: &[u8], lp: Option<TokenLogprob>) -> Emitted {
        self.pending.extend_from_slice(bytes);
        if let Some(lp) = lp {
            self.pending_lp.push((self.pending.len(), lp));
        }
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(s) => s.len(),
            Err(e) if e.error_len().is_some() => {
                // Invalid (not merely incomplete) bytes: replace them so the stream stays valid.
                let fixed = String::from_utf8_lossy(&self.pending).into_owned();
                self.pending = fixed.into_bytes();
                self.pending.len()
            }
            Err(e) => e.valid_up_to(),
        };
        let text = String::from_utf8_lossy(&self.pending[..valid]).into_owned();
        if let Some(pos) = self.stops.iter().filter_map(|s| text.find(s.as_str())).min() {
            let out = self.release(pos);
            return Emitted { stopped: true, ..out };
        }
        let hold = self.stops.iter().map(|s| longest_prefix_suffix(&text, s)).max().unwrap_or(0);
        self.release(valid - hold)
    }

    /// Flushes what is left at the end of generation (an incomplete UTF-8 tail is replaced).
    pub(crate) fn finish(&mut self) -> Emitted {
        let text = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        let logprobs = self.pending_lp.drain(..).map(|(_, lp)| lp).collect();
        Emitted { text, logprobs, stopped: false }
    }

    /// Emits the first `n` bytes of `pending` (on a char boundary) with their log-probabilities.
    fn release(&mut self, n: usize) -> Emitted {
        let text = String::from_utf8_lossy(&self.pending[..n]).into_owned();
        self.pending.drain(..n);
        let mut logprobs = Vec::new();
        let mut keep = Vec::new();
        for (end, lp) in self.pending_lp.drain(..) {
            if end <= n {
                logprobs.push(lp);
            } else {
                keep.push((end - n, lp));
            }
        }
        self.pending_lp = keep;
        Emitted { text, logprobs, stopped: false }
    }
}

/// Length of the longest suffix of `text` that is a proper prefix of `stop`, on char boundaries.
fn longest_prefix_suffix(text: &str, stop: &str) -> usize {
    let max = text.len().min(stop.len().saturating_sub(1));
    (1..=max).rev().find(|&k| text.is_char_boundary(text.len() - k) && stop.starts_with(&text[text.len() - k..])).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pieces: &[&[u8]], stops: &[&str]) -> (String, bool) {
        let stops: Vec<String> = stops.iter().map(|s| s.to_string()).collect();
        let mut a = TextAssembler::new(&stops);
        let mut out = String::new();
        for p in pieces {
            let e = a.push(p, None);
            out.push_str(&e.text);
            if e.stopped {
                return (out, true);
            }
        }
        out.push_str(&a.finish().text);
        (out, false)
    }

    #[test]
    fn multibyte_characters_split_across_tokens_are_emitted_whole() {
        let ue = "ü".as_bytes();
        let emoji = "😀".as_bytes();
        let mut a = TextAssembler::new(&[]);
        assert_eq!(a.push(&ue[..1], None).text, "", "half an umlaut is held back");
        assert_eq!(a.push(&ue[1..], None).text, "ü");
        assert_eq!(a.push(&emoji[..3], None).text, "");
        assert_eq!(a.push(&emoji[3..], None).text, "😀");
    }

    #[test]
    fn stop_sequence_across_tokens_is_cut_and_not_emitted() {
        assert_eq!(run(&[b"Hallo W", b"el", b"t! END", b"E"], &["END"]), ("Hallo Welt! ".into(), true));
    }

    #[test]
    fn text_that_only_looks_like_a_stop_prefix_is_released_later() {
        let (text, stopped) = run(&[b"a E", b"N", b"x"], &["END"]);
        assert_eq!((text.as_str(), stopped), ("a ENx", false));
    }

    #[test]
    fn earliest_of_several_stops_wins() {
        assert_eq!(run(&[b"one two three"], &["three", "two"]).0, "one ");
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        assert_eq!(run(&[b"a\xffb"], &[]).0, "a\u{fffd}b");
    }

    #[test]
    fn logprobs_travel_with_their_bytes() {
        let lp = |t: &str| TokenLogprob { token: t.into(), bytes: t.as_bytes().to_vec(), logprob: -0.5, top: vec![] };
        let mut a = TextAssembler::new(&["XY".to_string()]);
        assert_eq!(a.push(b"ab", Some(lp("ab"))).logprobs.len(), 1);
        let held = a.push(b"X", Some(lp("X")));
        assert!(held.logprobs.is_empty(), "X may start the stop sequence");
        let e = a.push(b"z", Some(lp("z")));
        assert_eq!(e.text, "Xz");
        assert_eq!(e.logprobs.len(), 2);
    }
}
