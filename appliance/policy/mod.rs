//! Data-class policy: data classes, the zone matrix and the offline German personal-data
//! detectors (SPEC `shared/pii/SPEC.md`).
//!
//! Owns: [`DataClass`], [`Zone`], [`Category`], [`Finding`]; the [`Detector`] (identifiers
//! with check digits, names, addresses, dates of birth, special categories, social data,
//! secrets) and [`Classification`] (effective class = max(declared, detected), allowed
//! zones, `min_zone` = the most open zone the text may go to); the `zonegate classify` CLI.
//! Must not: send anything anywhere (no network, no cloud NER), log or store text or detected
//! values at any level (findings are spans only), or lower a declared class.
//!
//! Detection errors are errors: callers must fail closed (treat the text as green-only).

mod address;
mod aktenzeichen;
mod checksum;
mod cli;
mod config;
mod contact;
mod gate;
mod hits;
mod ids_alnum;
mod ids_numeric;
mod kfz_codes;
mod name_words;
mod names;
mod names_lexicon;
mod pipeline;
mod pseudonym;
mod secrets;
mod sensitive;
mod sensitive_terms;
mod text;
mod types;

use std::collections::BTreeMap;

use serde::Serialize;

pub use gate::{check, Cleared, Decision, Outcome, Verdict};
pub use pseudonym::{Pseudonyms, Restorer};
pub use cli::{run_classify, ClassifyArgs};
pub use config::{AktenzeichenPattern, PolicyDetectConfig, DEFAULT_MAX_INPUT_BYTES};
pub use types::{Category, DataClass, Finding, UnknownName, Zone};

/// Errors of the policy module. Messages never contain input text.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A configured Aktenzeichen pattern does not compile (index into
    /// `aktenzeichen_patterns`).
    #[error("aktenzeichen_patterns[{index}] is invalid: {reason}")]
    InvalidPattern {
        /// Position of the pattern in the configuration list.
        index: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A configuration value is out of range.
    #[error("invalid detector configuration: {0}")]
    InvalidConfig(&'static str),
    /// The input is larger than the configured limit; the caller must fail closed.
    #[error("input of {len} bytes exceeds the detector limit of {max} bytes")]
    InputTooLarge {
        /// Input size in bytes.
        len: usize,
        /// Configured limit in bytes.
        max: usize,
    },
    /// An internal invariant failed (e.g. a span did not map back onto the input); the
    /// caller must fail closed.
    #[error("internal detector error: {0}")]
    Internal(&'static str),
}

/// The offline detector, built once from a [`PolicyDetectConfig`] and shared (`Send + Sync`,
/// no interior mutability). The constant automata are built once per process.
#[derive(Debug)]
pub struct Detector {
    cfg: config::Compiled,
}

/// Result of [`Detector::classify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classification {
    /// All findings, sorted by start offset (spans into the classified text, no values).
    pub findings: Vec<Finding>,
    /// The highest class implied by the findings (`public` when there are none).
    pub detected_class: DataClass,
    /// max(declared, detected): detection only raises a class, never lowers it.
    pub effective_class: DataClass,
    /// Zones whose default maximum class admits `effective_class`, most trusted first
    /// (always contains `green`).
    pub allowed_zones: Vec<Zone>,
    /// The most open zone the text may go to (SPEC section 1).
    pub min_zone: Zone,
}

impl Classification {
    /// Number of findings per category, in catalogue order; categories without findings are
    /// left out.
    pub fn categories_with_counts(&self) -> Vec<(Category, usize)> {
        categories_with_counts(&self.findings)
    }
}

/// Number of findings per category, in catalogue order (categories without findings left
/// out). Safe to log: contains no text.
pub fn categories_with_counts(findings: &[Finding]) -> Vec<(Category, usize)> {
    let mut m: BTreeMap<Category, usize> = BTreeMap::new();
    for f in findings {
        *m.entry(f.category).or_default() += 1;
    }
    m.into_iter().collect()
}

impl Detector {
    /// Builds the detector.
    ///
    /// Errors: [`PolicyError::InvalidPattern`] for a configured Aktenzeichen pattern that
    /// does not compile, is longer than 4 KiB or matches the empty string;
    /// [`PolicyError::InvalidConfig`] for `max_input_bytes == 0`.
    pub fn new(config: &PolicyDetectConfig) -> Result<Self, PolicyError> {
        Ok(Detector {
            cfg: config.compile()?,
        })
    }

    /// Finds personal data, special categories, social data and secrets in `text`.
    ///
    /// Returns findings sorted by `start`, with byte offsets into `text` on char boundaries;
    /// overlapping candidates are resolved (validated identifiers win). Runs in linear time
    /// in the input size (about 1 ms per 20 kB on one core).
    ///
    /// Errors: [`PolicyError::InputTooLarge`] beyond `max_input_bytes`;
    /// [`PolicyError::Internal`] if an invariant fails. Callers fail closed on any error.
    pub fn detect(&self, text: &str) -> Result<Vec<Finding>, PolicyError> {
        // A bug in a rule must not take the request path down or let text through: a panic
        // becomes an error, and callers fail closed.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pipeline::detect(&self.cfg, text)
        }))
        .unwrap_or(Err(PolicyError::Internal("detector panicked")))
    }

    /// Classifies `text`: detected class from the findings, effective class =
    /// max(`declared`, detected), the zones that may receive it under the default zone
    /// limits (green `social`, yellow `personal`, red `internal`) and `min_zone`, the most open
    /// of them. Errors as [`Detector::detect`].
    pub fn classify(
        &self,
        text: &str,
        declared: Option<DataClass>,
    ) -> Result<Classification, PolicyError> {
        let findings = self.detect(text)?;
        let detected_class = pipeline::detected_class(&findings);
        let effective_class = declared.map_or(detected_class, |d| d.max(detected_class));
        let allowed_zones: Vec<Zone> = Zone::ALL
            .into_iter()
            .filter(|z| z.admits(effective_class))
            .collect();
        let min_zone = allowed_zones.last().copied().unwrap_or(Zone::Green);
        Ok(Classification {
            findings,
            detected_class,
            effective_class,
            allowed_zones,
            min_zone,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn det() -> Detector {
        Detector::new(&PolicyDetectConfig::default()).unwrap_or_else(|e| panic!("{e}"))
    }

    fn cats(text: &str) -> Vec<&'static str> {
        det()
            .detect(text)
            .unwrap_or_default()
            .iter()
            .map(|f| f.category.as_str())
            .collect()
    }

    #[test]
    fn classify_raises_never_lowers() {
        let d = det();
        let c = d.classify(
            "Bitte die Tagesordnung für den Bauausschuss formatieren.",
            Some(DataClass::Internal),
        );
        let c = c.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.effective_class, DataClass::Internal);
        assert_eq!(c.min_zone, Zone::Red);
        let c = d.classify(
            "Frau Marta Gündoğdu, geb. 20.08.1947, beantragt Grundsicherung im Alter.",
            Some(DataClass::Public),
        );
        let c = c.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(c.effective_class, DataClass::Social);
        assert_eq!(c.allowed_zones, vec![Zone::Green]);
        assert_eq!(c.min_zone, Zone::Green);
        assert_eq!(c.categories_with_counts().len(), 3);
    }

    #[test]
    fn offsets_point_into_the_input() {
        let text = "Rückruf\u{00A0}bei Frau Koch unter +49\u{2009}152 28817386.";
        let f = det().detect(text).unwrap_or_default();
        let spans: Vec<&str> = f.iter().map(|f| &text[f.start..f.end]).collect();
        assert_eq!(spans, vec!["Koch", "+49\u{2009}152 28817386"]);
    }

    #[test]
    fn aggregate_social_text_stays_red() {
        assert!(cats("Im Jahr 2024 bezogen in der Stadt 12.480 Personen Bürgergeld.").is_empty());
        assert_eq!(
            cats("Frau Koch bezieht Bürgergeld."),
            vec!["PERSON", "SOCIAL_DATA"]
        );
    }

    /// Regression guard for slicing bugs: random texts built from the characters the rules
    /// look at (digits, separators, umlauts, combining marks, MRZ fillers) must never make the
    /// detector fail.
    #[test]
    fn random_texts_never_fail() {
        const PALETTE: &[&str] = &[
            "0",
            "1",
            "7",
            "9",
            " ",
            "  ",
            "\n",
            ".",
            "-",
            "/",
            ":",
            ";",
            ",",
            "@",
            "<",
            "(",
            ")",
            "+",
            "A",
            "D",
            "E",
            "K",
            "X",
            "Z",
            "a",
            "e",
            "s",
            "t",
            "ä",
            "Ü",
            "ß",
            "ğ",
            "é",
            "e\u{301}",
            "\u{00A0}",
            "\u{2013}",
            "\u{200B}",
            "ﬁ",
            "１",
            "Herr ",
            "Frau ",
            "de",
            "IBAN ",
            "geb. ",
            "Steuer-ID",
            "SGB ",
            "straße ",
            "Kind ",
            "at",
        ];
        let d = det();
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let rounds: usize = std::env::var("POLICY_FUZZ_ROUNDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(300);
        for _ in 0..rounds {
            let mut text = String::new();
            for _ in 0..120 {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                text.push_str(PALETTE[(seed >> 33) as usize % PALETTE.len()]);
            }
            let f = d.detect(&text).unwrap_or_else(|e| panic!("{e}"));
            for x in f {
                assert!(
                    x.start < x.end
                        && text.is_char_boundary(x.start)
                        && text.is_char_boundary(x.end)
                );
            }
        }
    }

    #[test]
    fn specimen_markers_can_be_switched_off() {
        let text = "Testdaten: Herr Konrad Weißgerber, geb. 14.03.1961, wohnt in der Lindenallee 7.";
        let on = Detector::new(&PolicyDetectConfig::default()).unwrap_or_else(|e| panic!("{e}"));
        let off = Detector::new(&PolicyDetectConfig { specimen_markers: false, ..PolicyDetectConfig::default() }).unwrap_or_else(|e| panic!("{e}"));
        let persons = |d: &Detector| d.detect(text).unwrap_or_else(|e| panic!("{e}")).iter().filter(|f| f.category == Category::Person).count();
        assert_eq!(persons(&on), 0, "SPEC 3.3: a specimen sentence is not personal");
        assert!(persons(&off) >= 1, "switched off, the same sentence is judged as any");
    }

    #[test]
    fn too_large_input_is_an_error() {
        let cfg = PolicyDetectConfig {
            max_input_bytes: 10,
            ..PolicyDetectConfig::default()
        };
        let d = Detector::new(&cfg).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            d.detect("01234567890"),
            Err(PolicyError::InputTooLarge { len: 11, max: 10 })
        ));
    }
}
