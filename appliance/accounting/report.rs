//! Usage reports for cost-centre billing, from the audit ledger: requests, tokens and cost
//! per month grouped by department, zone, model (and user or day where allowed), as CSV or
//! JSON. Per-user figures need `[accounting] per_user_reports = true` (works-council rule);
//! without them, a department with fewer than `min_group_size` active users in the month
//! is folded into the group `other`, so no small team can be singled out.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use serde_json::{json, Value};

use super::budget::month_of;
use super::ledger::{self, LedgerError};
use crate::config::AccountingConfig;

/// A grouping dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// Department (certificate OU).
    Department,
    /// Zone.
    Zone,
    /// Public model id.
    Model,
    /// User id (only with `per_user_reports`).
    User,
    /// Day (`YYYY-MM-DD`).
    Day,
}

impl Dim {
    fn name(self) -> &'static str {
        match self {
            Dim::Department => "department",
            Dim::Zone => "zone",
            Dim::Model => "model",
            Dim::User => "user",
            Dim::Day => "day",
        }
    }
}

/// Parses `department,zone,model` into dimensions.
///
/// # Errors
/// The unknown name, or `user` when per-user reports are off.
pub fn parse_dims(s: &str, cfg: &AccountingConfig) -> Result<Vec<Dim>, String> {
    s.split(',')
        .map(|d| match d.trim() {
            "department" => Ok(Dim::Department),
            "zone" => Ok(Dim::Zone),
            "model" => Ok(Dim::Model),
            "day" => Ok(Dim::Day),
            "user" if cfg.per_user_reports => Ok(Dim::User),
            "user" => Err("--by user needs [accounting] per_user_reports = true (off by default: works-council rules)".to_string()),
            other => Err(format!("unknown --by dimension {other:?}; use department, zone, model, day or user")),
        })
        .collect()
}

/// One row: the group's key values and its totals.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Values of the dimensions, in `--by` order.
    pub key: Vec<String>,
    /// Requests.
    pub requests: u64,
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
    /// Prompt tokens served from a cache.
    pub cached_tokens: u64,
    /// Cost in EUR.
    pub cost_eur: f64,
    /// Sum of the requests' latencies in milliseconds (see [`Row::mean_latency_ms`]).
    pub latency_ms_sum: u64,
}

impl Row {
    /// Mean latency of the group's requests in milliseconds (0 for an empty group).
    pub fn mean_latency_ms(&self) -> u64 {
        self.latency_ms_sum.checked_div(self.requests).unwrap_or(0)
    }
}

/// Aggregates the request records of `(year, month)`.
///
/// # Errors
/// [`LedgerError`] when the ledger cannot be read.
pub fn report(path: &Path, month: (i32, u8), dims: &[Dim], cfg: &AccountingConfig) -> Result<Vec<Row>, LedgerError> {
    let mut recs = Vec::new();
    ledger::for_each(path, |v| {
        if v["kind"] == "request" && month_of(v["time"].as_u64().unwrap_or(0)) == month {
            recs.push(v.clone());
        }
    })?;
    let mut users: HashMap<String, HashSet<String>> = HashMap::new();
    for r in &recs {
        users.entry(r["department"].as_str().unwrap_or("").to_string()).or_default().insert(r["user"].as_str().unwrap_or("").to_string());
    }
    let small = |d: &str| !cfg.per_user_reports && users.get(d).map_or(0, HashSet::len) < cfg.min_group_size;
    let mut groups: BTreeMap<Vec<String>, Row> = BTreeMap::new();
    for r in &recs {
        let key: Vec<String> = dims
            .iter()
            .map(|d| match d {
                Dim::Department => {
                    let dep = r["department"].as_str().unwrap_or("");
                    if small(dep) { "other".to_string() } else { dep.to_string() }
                }
                Dim::Day => {
                    let t = time::OffsetDateTime::from_unix_timestamp(r["time"].as_i64().unwrap_or(0)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
                    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
                }
                d => r[d.name()].as_str().unwrap_or("").to_string(),
            })
            .collect();
        let row = groups.entry(key.clone()).or_insert(Row { key, requests: 0, prompt_tokens: 0, completion_tokens: 0, cached_tokens: 0, cost_eur: 0.0, latency_ms_sum: 0 });
        row.requests += 1;
        row.prompt_tokens += r["prompt_tokens"].as_u64().unwrap_or(0);
        row.completion_tokens += r["completion_tokens"].as_u64().unwrap_or(0);
        row.cached_tokens += r["cached_tokens"].as_u64().unwrap_or(0);
        row.cost_eur += r["cost_eur"].as_f64().unwrap_or(0.0);
        row.latency_ms_sum += r["latency_ms"].as_u64().unwrap_or(0);
    }
    Ok(groups.into_values().collect())
}

/// CSV (RFC 4180) with a header row.
pub fn to_csv(dims: &[Dim], rows: &[Row]) -> String {
    let quote = |s: &str| if s.contains([',', '"', '\n']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_string() };
    let mut out = dims.iter().map(|d| d.name()).chain(["requests", "prompt_tokens", "completion_tokens", "cached_tokens", "cost_eur", "mean_latency_ms"]).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    for r in rows {
        let mut cells: Vec<String> = r.key.iter().map(|k| quote(k)).collect();
        cells.extend([r.requests.to_string(), r.prompt_tokens.to_string(), r.completion_tokens.to_string(), r.cached_tokens.to_string(), format!("{:.4}", r.cost_eur), r.mean_latency_ms().to_string()]);
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

/// JSON: an array of objects with the dimension names and totals.
pub fn to_json(dims: &[Dim], rows: &[Row]) -> Value {
    Value::Array(
        rows.iter()
            .map(|r| {
                let mut o = serde_json::Map::new();
                for (d, k) in dims.iter().zip(&r.key) {
                    o.insert(d.name().into(), json!(k));
                }
                o.insert("requests".into(), json!(r.requests));
                o.insert("prompt_tokens".into(), json!(r.prompt_tokens));
                o.insert("completion_tokens".into(), json!(r.completion_tokens));
                o.insert("cached_tokens".into(), json!(r.cached_tokens));
                o.insert("cost_eur".into(), json!(r.cost_eur));
                o.insert("mean_latency_ms".into(), json!(r.mean_latency_ms()));
                Value::Object(o)
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounting::Ledger;

    fn rec(dep: &str, user: &str, zone: &str, tokens: u64, time: u64) -> serde_json::Map<String, Value> {
        let v = json!({"time": time, "kind": "request", "department": dep, "user": user, "zone": zone, "model": "m", "prompt_tokens": tokens, "completion_tokens": 1, "cost_eur": 0.5});
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn small_departments_fold_into_other_and_months_are_separate() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.jsonl");
        let l = Ledger::open(&p).unwrap();
        let nov = 1_795_996_800; // 2026-11-30
        for u in ["a", "b", "c"] {
            l.append(rec("Bauamt", u, "red", 10, nov)).unwrap();
        }
        l.append(rec("Kämmerei", "k", "red", 5, nov)).unwrap();
        l.append(rec("Bauamt", "a", "red", 99, nov + 86_400)).unwrap(); // December
        let cfg = AccountingConfig { per_user_reports: false, min_group_size: 2, ..Default::default() };
        let dims = parse_dims("department,zone", &cfg).unwrap();
        let rows = report(&p, (2026, 11), &dims, &cfg).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].key, vec!["Bauamt", "red"]);
        assert_eq!((rows[0].requests, rows[0].prompt_tokens), (3, 30));
        assert_eq!(rows[1].key, vec!["other", "red"], "one user only: not shown by name");
        assert!(to_csv(&dims, &rows).starts_with("department,zone,requests,prompt_tokens,completion_tokens,cached_tokens,cost_eur,mean_latency_ms\r\n"));
        assert!(parse_dims("user", &cfg).is_err(), "per-user figures are off by default");
    }
}
