//! Detector configuration: the part of the policy settings the detectors need (extra
//! Aktenzeichen patterns, the city's allowlist of own identifiers and functional mail
//! domains, the input size limit), deserialised with unknown keys rejected so the config
//! module can embed it as a section.
//!
//! Must not: read files or environment variables, or log configured values.

use std::collections::HashSet;

use regex::RegexBuilder;
use serde::Deserialize;

use super::aktenzeichen::CustomPattern;
use super::hits::alnum_upper;
use super::PolicyError;

/// Default largest input accepted by [`super::Detector::detect`], in bytes (16 MiB).
pub const DEFAULT_MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// Settings of the detector. Every field has a default; `{}` is a valid configuration.
///
/// TOML example (as a section the lead may embed):
/// ```toml
/// aktenzeichen_patterns = [{ pattern = '50\.[0-9]{2}-[0-9]{4}/[0-9]{2}', social = true }]
/// allowlist = ["DE02 3705 0198 0000 0011 11", "0221 221-0"]
/// functional_domains = ["stadt.example"]
/// max_input_bytes = 16777216
/// specimen_markers = true
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyDetectConfig {
    /// Extra file-number patterns of the city's Aktenplan, in `regex` crate syntax. If the
    /// pattern has a capture group 1, only that group is reported.
    pub aktenzeichen_patterns: Vec<AktenzeichenPattern>,
    /// Exact identifier values that are never reported (the city's own IBANs, switchboard
    /// numbers, fleet plates, …). Compared on upper-case alphanumerics, so separators and
    /// case do not matter. Never whole domains or ranges (SPEC 3.3).
    pub allowlist: Vec<String>,
    /// The city's own e-mail domains: mailboxes there whose local part is not a person's
    /// name count as functional (reported only next to a named person).
    pub functional_domains: Vec<String>,
    /// Largest input in bytes; larger inputs are an error (callers fail closed).
    pub max_input_bytes: usize,
    /// Whether a sentence with a specimen marker ("Mustermann", "Musterstadt",
    /// "Testdaten", "[Name]", …; SPEC 3.3) has its names, addresses, birth dates and contacts
    /// treated as placeholders and not reported. On by default, as SPEC 3.3 defines; off
    /// fails closed for a writer who puts such a word next to real data (a sentence starting
    /// "Testdaten:" would otherwise pass).
    pub specimen_markers: bool,
}

impl Default for PolicyDetectConfig {
    fn default() -> Self {
        Self {
            aktenzeichen_patterns: Vec::new(),
            allowlist: Vec::new(),
            functional_domains: Vec::new(),
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
            specimen_markers: true,
        }
    }
}

/// One configured Aktenzeichen pattern.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AktenzeichenPattern {
    /// Regular expression (`regex` crate syntax, no look-around), at most 4 KiB.
    pub pattern: String,
    /// Whether a match is a social signal (file numbers of Sozialamt, Jugendamt,
    /// Jobcenter, …): the finding then classifies as `social`.
    #[serde(default)]
    pub social: bool,
}

/// The compiled form of [`PolicyDetectConfig`].
#[derive(Debug)]
pub(crate) struct Compiled {
    pub custom: Vec<CustomPattern>,
    pub allow: HashSet<String>,
    pub functional_domains: Vec<String>,
    pub max_input_bytes: usize,
    pub specimen_markers: bool,
}

impl PolicyDetectConfig {
    /// Compiles the patterns; errors name the pattern's index, never input text.
    pub(crate) fn compile(&self) -> Result<Compiled, PolicyError> {
        let mut custom = Vec::with_capacity(self.aktenzeichen_patterns.len());
        for (index, p) in self.aktenzeichen_patterns.iter().enumerate() {
            if p.pattern.len() > 4096 {
                return Err(PolicyError::InvalidPattern {
                    index,
                    reason: "longer than 4096 bytes".into(),
                });
            }
            let re = RegexBuilder::new(&p.pattern)
                .size_limit(1 << 20)
                .dfa_size_limit(1 << 21)
                .build()
                .map_err(|e| PolicyError::InvalidPattern {
                    index,
                    reason: e.to_string(),
                })?;
            if re.is_match("") {
                return Err(PolicyError::InvalidPattern {
                    index,
                    reason: "matches the empty string".into(),
                });
            }
            custom.push(CustomPattern {
                re,
                social: p.social,
            });
        }
        if self.max_input_bytes == 0 {
            return Err(PolicyError::InvalidConfig(
                "max_input_bytes must be greater than 0",
            ));
        }
        Ok(Compiled {
            custom,
            allow: self
                .allowlist
                .iter()
                .map(|v| String::from_utf8_lossy(&alnum_upper(v)).into_owned())
                .filter(|v| !v.is_empty())
                .collect(),
            functional_domains: self
                .functional_domains
                .iter()
                .map(|d| d.trim().to_lowercase())
                .collect(),
            max_input_bytes: self.max_input_bytes,
            specimen_markers: self.specimen_markers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unknown_keys_and_bad_patterns() {
        let bad: Result<PolicyDetectConfig, _> = serde_json::from_str(r#"{"aktenzeichen": []}"#);
        assert!(bad.is_err());
        let cfg: PolicyDetectConfig =
            serde_json::from_str(r#"{"aktenzeichen_patterns": [{"pattern": "(unclosed"}]}"#)
                .unwrap_or_default();
        assert!(matches!(
            cfg.compile(),
            Err(PolicyError::InvalidPattern { index: 0, .. })
        ));
        let empty: PolicyDetectConfig = serde_json::from_str("{}").unwrap_or_default();
        assert!(empty.compile().is_ok());
        assert_eq!(empty.max_input_bytes, DEFAULT_MAX_INPUT_BYTES);
    }
}
