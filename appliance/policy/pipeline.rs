//! The detection pipeline of SPEC 3.1: normalise, identifier layer, name/address/date layer,
//! allowlists and specimen suppression, context rules that need the person layer
//! (functional contacts, BIC, VAT of legal persons, court numbers), the lexicon layer with
//! the person-reference rule, overlap resolution, and the mapping back to input offsets.
//!
//! Must not: send anything anywhere, keep text after returning, or log text or values.

use super::config::Compiled;
use super::hits::{alnum_upper, has_any, needles, resolve, Hit};
use super::text::Text;
use super::types::{Category, DataClass, Finding};
use super::{
    address, aktenzeichen, contact, ids_alnum, ids_numeric, names, secrets, sensitive, PolicyError,
};

/// Sentence markers of specimen/placeholder data (SPEC 3.3), folded.
#[rustfmt::skip]
const SPECIMEN: &[&str] = &[
    "mustermann",
    "musterfrau",
    "musterstadt",
    "musterstraße",
    "musterdaten",
    "beispieldaten",
    "[name]",
    "[adresse]",
    "[datum]",
    "[vorname]",
    "[nachname]",
    "platzhalter",
    "testdaten",
    "dummy-daten",
    "fiktive daten",
];
needles!(SPECIMEN_AC, SPECIMEN);
/// Legal forms of legal persons: a VAT ID next to them (and no person) is not personal.
#[rustfmt::skip]
const LEGAL_PERSON: &[&str] = &[
    "gmbh",
    " ag ",
    " ag,",
    " ag.",
    " ag)",
    "ug (",
    "mbh",
    "e.v.",
    " eg ",
    "kgaa",
    "aktiengesellschaft",
    "genossenschaft",
    "stadtwerke",
    " se ",
    "gesellschaft",
    "konzern",
    "(gmbh)",
];
needles!(LEGAL_PERSON_AC, LEGAL_PERSON);

fn near_person(t: &Text<'_>, h: &Hit, persons: &[Hit], tokens: usize) -> bool {
    let (a, b) = t.scope(h.start, h.end, tokens);
    persons.iter().any(|p| p.overlaps(a, b))
}

/// Runs all detectors over `input` and returns findings with input byte offsets, sorted.
pub(crate) fn detect(cfg: &Compiled, input: &str) -> Result<Vec<Finding>, PolicyError> {
    if input.len() > cfg.max_input_bytes {
        return Err(PolicyError::InputTooLarge {
            len: input.len(),
            max: cfg.max_input_bytes,
        });
    }
    let t = Text::new(input)?;
    let mut hits: Vec<Hit> = Vec::with_capacity(64);
    ids_numeric::detect(&t, &mut hits);
    ids_alnum::detect(&t, &cfg.allow, &mut hits);
    contact::detect(&t, &cfg.functional_domains, &mut hits);
    aktenzeichen::detect(&t, &cfg.custom, &mut hits);
    secrets::detect(&t, &mut hits);
    names::detect(&t, &mut hits);
    address::detect(&t, &mut hits);

    if !cfg.allow.is_empty() {
        hits.retain(|h| {
            !cfg.allow
                .contains(&String::from_utf8_lossy(&alnum_upper(t.at(h.start, h.end))).into_owned())
        });
    }
    // Specimen sentences carry no real person's name, address, birthday or contact
    // (unless the city switched the markers off: then such sentences are judged as any).
    hits.retain(|h| {
        if !cfg.specimen_markers {
            return true;
        }
        if !matches!(
            h.cat,
            Category::Person
                | Category::Address
                | Category::DateOfBirth
                | Category::Email
                | Category::Phone
        ) {
            return true;
        }
        let (ss, se) = t.sentences_of(h.start, h.end);
        !has_any(t.fold_of(ss, se), &SPECIMEN_AC)
    });
    let mut hits = resolve(hits);

    let persons: Vec<Hit> = hits
        .iter()
        .filter(|h| h.cat == Category::Person)
        .copied()
        .collect();
    let ibans: Vec<Hit> = hits
        .iter()
        .filter(|h| h.cat == Category::Iban)
        .copied()
        .collect();
    hits.retain(|h| match (h.cat, h.det) {
        (_, "email.functional") => near_person(&t, h, &persons, 12),
        (Category::Phone, _) => {
            near_person(&t, h, &persons, 12) || !contact::functional_context(&t, h.start, h.end)
        }
        (_, "dob.record") => {
            let l = t.line_of(h.start);
            persons.iter().any(|p| t.line_of(p.start) == l)
        }
        (_, "aktenzeichen.court") => {
            near_person(&t, h, &persons, 40) || sensitive::soft_reference(&t, h.start, h.end)
        }
        (Category::Bic, _) => {
            let (a, b) = t.scope(h.start, h.end, 40);
            ibans.iter().any(|i| i.overlaps(a, b))
                || persons.iter().any(|p| p.overlaps(a, b))
                || t.fold_of(a, b).contains("kontoinhaber")
        }
        (Category::Address, _) => {
            near_person(&t, h, &persons, 40)
                || address::keep_address(&t, h, false, || {
                    sensitive::soft_reference(&t, h.start, h.end)
                })
        }
        (Category::DeVatId, _) => {
            let (ss, se) = t.scope(h.start, h.end, 15);
            let legal = has_any(&format!(" {} ", t.fold_of(ss, se)), &LEGAL_PERSON_AC);
            !legal || near_person(&t, h, &persons, 40)
        }
        _ => true,
    });

    // Lexicon layer: keyword hits count only with a person reference (SPEC 6.2).
    let personal: Vec<Hit> = hits
        .iter()
        .filter(|h| h.cat != Category::Secret)
        .copied()
        .collect();
    for c in sensitive::detect(&t) {
        if c.pr_free || sensitive::person_reference(&t, c.hit.start, c.hit.end, &personal) {
            hits.push(c.hit);
        }
    }
    let hits = resolve(hits);

    let mut out = Vec::with_capacity(hits.len());
    for h in hits {
        let (start, end) = t.to_orig(h.start, h.end)?;
        out.push(Finding {
            category: h.cat,
            start,
            end,
            detector: h.det,
        });
    }
    Ok(out)
}

/// The highest class implied by `findings`, `Public` when there are none.
pub(crate) fn detected_class(findings: &[Finding]) -> DataClass {
    findings
        .iter()
        .map(Finding::data_class)
        .max()
        .unwrap_or(DataClass::Public)
}
