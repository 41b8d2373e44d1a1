//! Detector quality on two corpora: the SPEC development corpus
//! (`$CARGO_MANIFEST_DIR/../shared/pii/corpus-dev.jsonl`; skipped with a note when absent)
//! and the project's own synthetic corpus (`tests/fixtures/pii/corpus-own.jsonl`, every
//! name, number and address invented, identifiers generated with valid check digits by
//! `tests/fixtures/pii/gen_corpus.py`).
//!
//! Matching rule: a finding matches an expected item when the categories are equal and the
//! byte spans overlap (the expected span is the first not yet used occurrence of the
//! expected value in the text). Recall = matched expected items / expected items; precision
//! = findings that match some expected item / findings (micro-averaged for the totals).
//!
//! Guards: recall 100 % for identifiers validated by a check digit or the ICAO 7-3-1 MRZ/
//! document rules, overall recall ≥ 0.95, overall precision ≥ 0.90, and no text allowed
//! into a zone more open than its `min_zone` (under-protection is a data-protection breach).
//! Set `POLICY_QUALITY_DEBUG=1` to list misses and false findings (synthetic data only).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;
use zonegate::policy::{Category, Detector, PolicyDetectConfig, Zone};

#[derive(Deserialize)]
struct Item {
    id: String,
    text: String,
    expected: Vec<Expected>,
    min_zone: Zone,
}

#[derive(Deserialize)]
struct Expected {
    category: String,
    value: String,
}

/// Identifiers whose recall must be perfect: validated by a check digit (or the ICAO/
/// document-number rules for ID cards and passports).
const CHECKSUM: &[Category] = &[
    Category::DeTaxId,
    Category::DeTaxNumber,
    Category::DeVatId,
    Category::Iban,
    Category::CreditCard,
    Category::DeRvnr,
    Category::DeKvnr,
    Category::DeIdCard,
    Category::DePassport,
];

#[derive(Default, Clone, Copy)]
struct Stat {
    expected: usize,
    found: usize,
    findings: usize,
    true_findings: usize,
}

struct Report {
    per_cat: BTreeMap<Category, Stat>,
    lines: usize,
    under: Vec<String>,
    over_red: usize,
    red: usize,
}

fn load(path: &Path) -> Vec<Item> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), i + 1))
        })
        .collect()
}

fn evaluate(items: &[Item]) -> Report {
    let debug = std::env::var_os("POLICY_QUALITY_DEBUG").is_some();
    let detector =
        Detector::new(&PolicyDetectConfig::default()).unwrap_or_else(|e| panic!("detector: {e}"));
    let mut per_cat: BTreeMap<Category, Stat> = BTreeMap::new();
    let mut under = Vec::new();
    let (mut over_red, mut red) = (0, 0);
    for item in items {
        let c = detector
            .classify(&item.text, None)
            .unwrap_or_else(|e| panic!("{}: {e}", item.id));
        // Expected spans.
        let mut used: Vec<(Category, usize, usize)> = Vec::new();
        for e in &item.expected {
            let cat = Category::from_str(&e.category)
                .unwrap_or_else(|_| panic!("{}: unknown category {}", item.id, e.category));
            let start = item
                .text
                .match_indices(e.value.as_str())
                .map(|(i, _)| i)
                .find(|&i| !used.iter().any(|&(c2, s, _)| c2 == cat && s == i))
                .unwrap_or_else(|| panic!("{}: expected value not in text", item.id));
            used.push((cat, start, start + e.value.len()));
        }
        for &(cat, s, e) in &used {
            let st = per_cat.entry(cat).or_default();
            st.expected += 1;
            if c.findings
                .iter()
                .any(|f| f.category == cat && f.start < e && s < f.end)
            {
                st.found += 1;
            } else if debug {
                println!("  MISS {} {} {:?}", item.id, cat, &item.text[s..e]);
            }
        }
        for f in &c.findings {
            let st = per_cat.entry(f.category).or_default();
            st.findings += 1;
            if used
                .iter()
                .any(|&(cat, s, e)| cat == f.category && f.start < e && s < f.end)
            {
                st.true_findings += 1;
            } else if debug {
                println!(
                    "  FALSE {} {} {:?} ({})",
                    item.id,
                    f.category,
                    &item.text[f.start..f.end],
                    f.detector
                );
            }
        }
        if c.min_zone.is_more_open_than(item.min_zone) {
            under.push(format!(
                "{} (expected {}, got {})",
                item.id, item.min_zone, c.min_zone
            ));
        }
        if item.min_zone == Zone::Red {
            red += 1;
            if c.min_zone != Zone::Red {
                over_red += 1;
                if debug {
                    println!("  OVER {} -> {}", item.id, c.min_zone);
                }
            }
        }
    }
    Report {
        per_cat,
        lines: items.len(),
        under,
        over_red,
        red,
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

fn print_and_check(name: &str, r: &Report) {
    println!("\n== {name}: {} lines ==", r.lines);
    println!(
        "{:<22} {:>8} {:>6} {:>7} {:>9} {:>9}",
        "category", "expected", "found", "recall", "findings", "precision"
    );
    let mut tot = Stat::default();
    for (cat, s) in &r.per_cat {
        println!(
            "{:<22} {:>8} {:>6} {:>7.3} {:>9} {:>9.3}",
            cat.as_str(),
            s.expected,
            s.found,
            ratio(s.found, s.expected),
            s.findings,
            ratio(s.true_findings, s.findings)
        );
        tot.expected += s.expected;
        tot.found += s.found;
        tot.findings += s.findings;
        tot.true_findings += s.true_findings;
    }
    let (recall, precision) = (
        ratio(tot.found, tot.expected),
        ratio(tot.true_findings, tot.findings),
    );
    println!(
        "{:<22} {:>8} {:>6} {:>7.3} {:>9} {:>9.3}",
        "TOTAL", tot.expected, tot.found, recall, tot.findings, precision
    );
    println!(
        "zones: under-protected {} ; red items sent inward {}/{} ({:.1} %)",
        r.under.len(),
        r.over_red,
        r.red,
        100.0 * ratio(r.over_red, r.red.max(1)) * if r.red == 0 { 0.0 } else { 1.0 }
    );
    for cat in CHECKSUM {
        if let Some(s) = r.per_cat.get(cat) {
            assert_eq!(
                s.found, s.expected,
                "{name}: recall of checksum identifier {cat} below 100 %"
            );
        }
    }
    assert!(
        r.under.is_empty(),
        "{name}: texts allowed into a zone more open than min_zone: {:?}",
        r.under
    );
    assert!(recall >= 0.95, "{name}: overall recall {recall:.3} < 0.95");
    assert!(
        precision >= 0.90,
        "{name}: overall precision {precision:.3} < 0.90"
    );
}

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn policy_quality_dev_corpus() {
    let path = manifest_dir().join("../shared/pii/corpus-dev.jsonl");
    if !path.exists() {
        println!("SKIP policy_quality_dev_corpus: {} not found (the SPEC corpus is not part of this repository)", path.display());
        return;
    }
    let items = load(&path);
    print_and_check("corpus-dev", &evaluate(&items));
}

#[test]
fn policy_quality_own_corpus() {
    let path = manifest_dir().join("tests/fixtures/pii/corpus-own.jsonl");
    let items = load(&path);
    assert!(
        items.len() >= 150,
        "own corpus has only {} lines",
        items.len()
    );
    let r = evaluate(&items);
    // Every category of the catalogue is exercised.
    for cat in Category::ALL {
        assert!(
            r.per_cat.get(cat).is_some_and(|s| s.expected > 0),
            "own corpus lacks positives of {cat}"
        );
    }
    print_and_check("corpus-own", &r);
}
