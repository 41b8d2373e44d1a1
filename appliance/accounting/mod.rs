//! Accounting: the one interface every request's facts are handed to (identity, model,
//! zone, declared/detected/effective class, categories with counts, decision, upstream
//! status, tokens). Keeps the recent records in memory and counts decisions for /metrics.
//!
//! Must not: receive or log prompt content, completions or detected values — the record
//! type has no field that could hold them.

use std::collections::VecDeque;
use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

use crate::policy::{Category, DataClass, Decision, Zone};

/// Records kept in memory for the console and tests (newest last).
const RECENT: usize = 1000;

/// The facts of one request. No content, no values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// Unix seconds.
    pub time: u64,
    /// User id from the client certificate.
    pub user: String,
    /// Department from the client certificate.
    pub department: String,
    /// Public model id the client asked for.
    pub model: String,
    /// Zone that served the request (green after a reroute).
    pub zone: Zone,
    /// Declared class.
    pub declared: Option<DataClass>,
    /// Detected class (relayed requests).
    pub detected: Option<DataClass>,
    /// Effective class (relayed requests).
    pub effective: Option<DataClass>,
    /// Categories found with counts.
    pub categories: Vec<(Category, usize)>,
    /// The policy decision (`allow` for green requests).
    pub decision: Decision,
    /// HTTP status of the upstream, for relayed requests.
    pub upstream_status: Option<u16>,
    /// Prompt tokens (from the engine or the upstream's usage).
    pub prompt_tokens: u64,
    /// Completion tokens.
    pub completion_tokens: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    zone: String,
    decision: String,
}

/// The accounting sink shared by all handlers.
#[derive(Debug, Default)]
pub struct Accounting {
    recent: Mutex<VecDeque<RequestRecord>>,
    decisions: Family<DecisionLabels, Counter>,
}

impl Accounting {
    /// Records one request.
    pub fn record(&self, r: RequestRecord) {
        self.decisions.get_or_create(&DecisionLabels { zone: r.zone.as_str().into(), decision: r.decision.as_str().into() }).inc();
        // Who asked goes to the audit ledger, not to the log.
        log::debug!(
            "request model={} zone={} effective={} decision={} categories={} upstream_status={} tokens={}+{}",
            r.model,
            r.zone.as_str(),
            r.effective.map_or("-", DataClass::as_str),
            r.decision.as_str(),
            r.categories.iter().map(|(c, n)| format!("{}:{n}", c.as_str())).collect::<Vec<_>>().join(","),
            r.upstream_status.map_or("-".to_string(), |s| s.to_string()),
            r.prompt_tokens,
            r.completion_tokens
        );
        let mut q = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if q.len() == RECENT {
            q.pop_front();
        }
        q.push_back(r);
    }

    /// The most recent records, oldest first.
    pub fn recent(&self) -> Vec<RequestRecord> {
        self.recent.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }

    /// The decision counter family, for the metrics registry.
    pub fn decision_metrics(&self) -> Family<impl EncodeLabelSet + Clone + std::hash::Hash + Eq + std::fmt::Debug + Send + Sync + 'static, Counter> {
        self.decisions.clone()
    }
}
