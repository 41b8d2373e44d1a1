//! The gate between the API and the relay: what text of a request an upstream would see,
//! the decision per zone and class, and [`Cleared`], the only value the relay forwards.
//!
//! Decision rule (DESIGN.md): effective class = max(declared, detected, classes of the
//! retrieved RAG sources the body carries); a zone receives a
//! request only when its maximum class admits the effective class; otherwise the zone's
//! `on_violation` applies (block, reroute to green, or pseudonymize and re-check).

use serde_json::Value;

use super::pseudonym::Pseudonyms;
use super::{categories_with_counts, Category, DataClass, Detector, PolicyError, Zone};
use crate::config::{OnViolation, PolicyConfig};

/// A request body the policy cleared for one zone. Only this module can build one; the
/// relay forwards nothing else (DESIGN.md: skipping the policy must fail to compile).
#[derive(Debug)]
pub struct Cleared<T> {
    inner: T,
    zone: Zone,
}

impl<T> Cleared<T> {
    /// The cleared value.
    pub fn get(&self) -> &T {
        &self.inner
    }
    /// The zone it was cleared for.
    pub fn zone(&self) -> Zone {
        self.zone
    }
    /// Takes the value out (the relay's last step before sending).
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// What the policy decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Forward as is.
    Allow,
    /// Refuse with 403 `data_class_not_allowed`.
    Block,
    /// Answer with a green model instead.
    Reroute,
    /// Forward with findings replaced by placeholders; restore them in the answer.
    Pseudonymize,
}

impl Decision {
    /// Wire name (`allow`, `block`, `reroute`, `pseudonymize`).
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Allow => "allow",
            Decision::Block => "block",
            Decision::Reroute => "reroute",
            Decision::Pseudonymize => "pseudonymize",
        }
    }
}

/// The facts of one decision, for the response, the audit ledger and metrics. No text, no values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The zone the client chose.
    pub zone: Zone,
    /// The class the client declared (or the configured default).
    pub declared: DataClass,
    /// The highest class the detectors found.
    pub detected: DataClass,
    /// The highest class of the retrieved RAG sources put into the request (`public` when
    /// there are none): a source's class counts even where the detectors find nothing.
    pub sources: DataClass,
    /// max(declared, detected, sources).
    pub effective: DataClass,
    /// Categories found, with counts.
    pub categories: Vec<(Category, usize)>,
    /// The decision.
    pub decision: Decision,
    /// The green model for [`Decision::Reroute`].
    pub reroute_model: Option<String>,
}

impl Verdict {
    /// The 403 message, German and English, naming categories, class and zone (never values).
    pub fn block_message(&self) -> String {
        let mut cats = if self.categories.is_empty() {
            "—".to_string()
        } else {
            self.categories.iter().map(|(c, n)| format!("{} ×{n}", c.as_str())).collect::<Vec<_>>().join(", ")
        };
        if self.sources > self.declared.max(self.detected) {
            cats.push_str(&format!("; sources/Quellen: {}", self.sources.as_str()));
        }
        let zone_de = match self.zone {
            Zone::Green => "grün",
            Zone::Yellow => "gelb",
            Zone::Red => "rot",
        };
        format!(
            "Diese Anfrage enthält Daten der Klasse „{}“ (gefunden: {cats}), die nicht in die Zone „{zone_de}“ gesendet werden dürfen. \
             This request contains data of class '{}' (found: {cats}), which may not be sent to the {} zone.",
            self.effective.label_de(),
            self.effective.as_str(),
            self.zone.as_str()
        )
    }
}

/// Outcome of [`check`].
#[derive(Debug)]
pub enum Outcome {
    /// Forward the (possibly pseudonymized) body; restore with the pseudonyms if any.
    Forward(Cleared<Value>, Option<Pseudonyms>, Verdict),
    /// Do not forward: block, or reroute to `verdict.reroute_model`.
    Stop(Verdict),
}

/// Keys whose string values are protocol, not content, and are not classified.
const NON_CONTENT_KEYS: &[&str] = &["model", "role", "type", "tool_call_id", "id", "object", "encoding_format", "detail", "tool_choice"];

/// One string of the request the upstream would see: its JSON pointer and its span in the
/// joined text.
#[derive(Debug, Clone)]
pub(crate) struct Leaf {
    pub pointer: String,
    pub start: usize,
    pub end: usize,
}

/// Separator between strings in the joined text: keeps findings from running across leaves.
const SEP: &str = "\n\n";

/// Joins every content string of `body` (all fields except protocol keys), in document order.
pub(crate) fn collect_text(body: &Value) -> (String, Vec<Leaf>) {
    fn walk(v: &Value, ptr: &mut String, text: &mut String, leaves: &mut Vec<Leaf>) {
        match v {
            Value::String(s) if !s.is_empty() => {
                if !text.is_empty() {
                    text.push_str(SEP);
                }
                let start = text.len();
                text.push_str(s);
                leaves.push(Leaf { pointer: ptr.clone(), start, end: text.len() });
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    let len = ptr.len();
                    ptr.push_str(&format!("/{i}"));
                    walk(x, ptr, text, leaves);
                    ptr.truncate(len);
                }
            }
            Value::Object(o) => {
                for (k, x) in o {
                    if NON_CONTENT_KEYS.contains(&k.as_str()) && x.is_string() {
                        continue;
                    }
                    let len = ptr.len();
                    ptr.push('/');
                    ptr.push_str(&k.replace('~', "~0").replace('/', "~1"));
                    walk(x, ptr, text, leaves);
                    ptr.truncate(len);
                }
            }
            _ => {}
        }
    }
    let (mut text, mut leaves) = (String::new(), Vec::new());
    walk(body, &mut String::new(), &mut text, &mut leaves);
    (text, leaves)
}

/// Classifies `body` of a caller of `department` for `zone` and decides. `sources` is the
/// highest class of the retrieved RAG chunks the body carries (`public` when none): it
/// raises the effective class like a declaration does, and pseudonymizing cannot lower it.
/// A request of an SGB body ([`PolicyConfig::is_sgb_body`]) with a person reference (a
/// detected class of at least `personal`) is Sozialdaten (§ 35 SGB I): detected class
/// `social`, and never pseudonymised out of the green zone. Detection errors are
/// returned: callers fail closed (nothing is forwarded).
///
/// # Errors
/// [`PolicyError`] from the detector.
pub fn check(detector: &Detector, policy: &PolicyConfig, zone: Zone, declared: DataClass, sources: DataClass, department: &str, mut body: Value) -> Result<Outcome, PolicyError> {
    let (text, leaves) = collect_text(&body);
    let floor = declared.max(sources);
    let mut c = detector.classify(&text, Some(floor))?;
    let social_by_body = policy.is_sgb_body(department) && c.detected_class >= DataClass::Personal;
    if social_by_body {
        c.detected_class = DataClass::Social;
        c.effective_class = DataClass::Social;
    }
    let mut verdict = Verdict {
        zone,
        declared,
        detected: c.detected_class,
        sources,
        effective: c.effective_class,
        categories: categories_with_counts(&c.findings),
        decision: Decision::Allow,
        reroute_model: None,
    };
    let max = policy.max_class(zone);
    if c.effective_class <= max {
        return Ok(Outcome::Forward(Cleared { inner: body, zone }, None, verdict));
    }
    let Some(zp) = policy.zone(zone) else {
        return Ok(Outcome::Forward(Cleared { inner: body, zone }, None, verdict));
    };
    match zp.on_violation {
        OnViolation::Block => {
            verdict.decision = Decision::Block;
            Ok(Outcome::Stop(verdict))
        }
        OnViolation::Reroute => {
            verdict.decision = Decision::Reroute;
            verdict.reroute_model = zp.reroute_model.clone();
            Ok(Outcome::Stop(verdict))
        }
        // Pseudonymised Sozialdaten remain personal data of the social context (Art. 4 Nr. 5
        // GDPR, SPEC section 10): no way out of the green zone.
        OnViolation::Pseudonymize if social_by_body => {
            verdict.decision = Decision::Block;
            Ok(Outcome::Stop(verdict))
        }
        OnViolation::Pseudonymize => {
            let Some((masked, pseudonyms)) = Pseudonyms::mask(&text, &leaves, &c.findings) else {
                verdict.decision = Decision::Block;
                return Ok(Outcome::Stop(verdict));
            };
            for (leaf, value) in leaves.iter().zip(masked) {
                if let Some(slot) = body.pointer_mut(&leaf.pointer) {
                    *slot = Value::String(value);
                }
            }
            // Re-check what would actually leave the box.
            let (masked_text, _) = collect_text(&body);
            let again = detector.classify(&masked_text, Some(floor))?;
            if again.effective_class <= max {
                verdict.decision = Decision::Pseudonymize;
                Ok(Outcome::Forward(Cleared { inner: body, zone }, Some(pseudonyms), verdict))
            } else {
                verdict.decision = Decision::Block;
                Ok(Outcome::Stop(verdict))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::OnViolation;
    use crate::policy::PolicyDetectConfig;

    fn policy(on_violation: OnViolation) -> PolicyConfig {
        let mut p = PolicyConfig::default();
        p.yellow.on_violation = on_violation;
        p
    }

    fn ask(text: &str) -> Value {
        serde_json::json!({"model": "m", "messages": [{"role": "user", "content": text}]})
    }

    #[test]
    fn personal_data_from_an_sgb_body_is_social_and_stays_green() {
        let det = Detector::new(&Default::default()).unwrap();
        let text = "Bitte formuliere eine Terminerinnerung an Frau Jolanda Quastenberg, Lindenweg 12, 47110 Dorfen.";
        // The same text from the Bauamt may go to yellow (personal data is allowed there).
        let from_bauamt = check(&det, &policy(OnViolation::Block), Zone::Yellow, DataClass::Internal, DataClass::Public, "Bauamt", ask(text)).unwrap();
        assert!(matches!(from_bauamt, Outcome::Forward(_, None, ref v) if v.effective == DataClass::Personal), "{from_bauamt:?}");
        // From the Jugendamt it is a Sozialdatum, and pseudonymising does not change that.
        for on_violation in [OnViolation::Block, OnViolation::Pseudonymize] {
            let from_jugendamt = check(&det, &policy(on_violation), Zone::Yellow, DataClass::Internal, DataClass::Public, "jugendamt", ask(text)).unwrap();
            let Outcome::Stop(v) = from_jugendamt else { panic!("forwarded Sozialdaten under {on_violation:?}") };
            assert_eq!((v.detected, v.effective, v.decision), (DataClass::Social, DataClass::Social, Decision::Block));
        }
        // Without a person reference, an SGB body's text is what it is.
        let plain = check(&det, &policy(OnViolation::Block), Zone::Yellow, DataClass::Internal, DataClass::Public, "Sozialamt", ask("Wie viele Anträge auf Wohngeld gingen 2025 ein?")).unwrap();
        assert!(matches!(plain, Outcome::Forward(..)), "{plain:?}");
    }

    /// Guards issue 4: a retrieved source's class raises the effective class even where the
    /// detectors find nothing, and pseudonymizing cannot lower it.
    #[test]
    fn the_class_of_retrieved_sources_decides_like_a_declaration() {
        let det = Detector::new(&PolicyDetectConfig::default()).unwrap();
        let body = serde_json::json!({"messages": [{"role": "system", "content": "[1] parkraum.html\nDer Stellplatz kostet 23 Euro im Monat."}, {"role": "user", "content": "Was kostet der Stellplatz?"}]});
        let pol = PolicyConfig::default();
        match check(&det, &pol, Zone::Red, DataClass::Internal, DataClass::Public, "Bauamt", body.clone()).unwrap() {
            Outcome::Forward(_, _, v) => assert_eq!((v.effective, v.sources), (DataClass::Internal, DataClass::Public)),
            Outcome::Stop(v) => panic!("harmless internal text must pass: {v:?}"),
        }
        for zone in [Zone::Red, Zone::Yellow] {
            let Outcome::Stop(v) = check(&det, &pol, zone, DataClass::Internal, DataClass::Confidential, "Bauamt", body.clone()).unwrap() else { panic!("a confidential source must not go to {zone:?}") };
            assert_eq!((v.declared, v.sources, v.effective), (DataClass::Internal, DataClass::Confidential, DataClass::Confidential));
            assert!(v.block_message().contains("confidential"));
        }
    }
}
