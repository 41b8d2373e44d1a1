//! Accounting: the one interface every request's facts are handed to (identity, model,
//! zone, declared/detected/effective class, categories with counts, decision, upstream
//! status, tokens). Keeps the recent records in memory and counts decisions for /metrics.
//!
//! Must not: receive or log prompt content, completions or detected values — the record
//! type has no field that could hold them.

pub mod budget;
pub mod ledger;
pub mod report;

use std::collections::VecDeque;
use std::sync::Mutex;

use serde_json::{Map, Value};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

pub use budget::{BudgetExceeded, Meter};
pub use ledger::{Ledger, LedgerError, PruneReport, Retention, VerifyReport};

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
    /// Prompt tokens served from a cache (the upstream's `usage.prompt_tokens_details.cached_tokens`;
    /// green: tokens of the prompt prefix reused from the sequence's KV cache).
    pub cached_tokens: u64,
    /// Milliseconds from reading the request to the end of the answer (the last stream
    /// event for streams); 0 for requests refused before any work.
    pub latency_ms: u64,
}

/// What an administrator did in the console (the `action` of an admin ledger record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdminAction {
    /// Issued a client certificate (target: serial, user, department, role).
    CertificateIssued,
    /// Revoked a certificate (target: serial).
    CertificateRevoked,
    /// Created a knowledge collection (target: collection id or name).
    CollectionCreated,
    /// Deleted a knowledge collection (target: collection id).
    CollectionDeleted,
    /// Uploaded a document into a collection (target: collection id and file id).
    DocumentUploaded,
    /// Removed a document from a collection (target: collection id and file id).
    DocumentRemoved,
}

impl AdminAction {
    /// Wire name in the ledger (`certificate_issued`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            AdminAction::CertificateIssued => "certificate_issued",
            AdminAction::CertificateRevoked => "certificate_revoked",
            AdminAction::CollectionCreated => "collection_created",
            AdminAction::CollectionDeleted => "collection_deleted",
            AdminAction::DocumentUploaded => "document_uploaded",
            AdminAction::DocumentRemoved => "document_removed",
        }
    }
}

/// One admin action for the audit ledger: who, what, on what, with which outcome. Never
/// content (no document text, no key material, no passwords): `target` names the object
/// (a serial, a collection id, a file name), `outcome` is `ok` or `failed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminRecord {
    /// Unix seconds.
    pub time: u64,
    /// The administrator's user id (client certificate CN).
    pub user: String,
    /// The administrator's department.
    pub department: String,
    /// Serial of the administrator's client certificate.
    pub serial: String,
    /// What was done.
    pub action: AdminAction,
    /// On what (serial, collection id, file name).
    pub target: String,
    /// Whether it succeeded.
    pub ok: bool,
}

impl AdminRecord {
    /// The ledger fields (`kind` = `admin`).
    pub fn ledger_fields(&self) -> Map<String, Value> {
        actor_fields("admin", self.time, (&self.user, &self.department, &self.serial), self.action.as_str(), &self.target, self.ok)
    }
}

/// The fields of a record of something a certificate holder did (admin and knowledge
/// records): time, kind, user, department, certificate, action, target, outcome.
fn actor_fields(kind: &str, time: u64, (user, department, serial): (&str, &str, &str), action: &str, target: &str, ok: bool) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("time".into(), Value::from(time));
    m.insert("kind".into(), Value::from(kind));
    m.insert("user".into(), Value::from(user));
    m.insert("department".into(), Value::from(department));
    m.insert("certificate".into(), Value::from(serial));
    m.insert("action".into(), Value::from(action));
    m.insert("target".into(), Value::from(target));
    m.insert("outcome".into(), Value::from(if ok { "ok" } else { "failed" }));
    m
}

/// One call of the knowledge store's API (`/v1/files`, `/v1/vector_stores`): who did what
/// to which ids. Never names, queries, attributes or text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnowledgeRecord {
    /// Unix seconds.
    pub time: u64,
    /// User id (client certificate CN).
    pub user: String,
    /// Department.
    pub department: String,
    /// Serial of the client certificate.
    pub serial: String,
    /// `file_uploaded`, `vector_store_created`, `vector_store_searched`, … (see
    /// `api/knowledge_audit.rs`).
    pub action: &'static str,
    /// The ids concerned, space-separated (`vs_…`, `file-…`, `vsfb_…`, or `(name)`).
    pub target: String,
    /// The HTTP status of the answer.
    pub status: u16,
}

impl KnowledgeRecord {
    /// The ledger fields (`kind` = `knowledge`; `outcome` `ok` below HTTP 400).
    pub fn ledger_fields(&self) -> Map<String, Value> {
        let mut m = actor_fields("knowledge", self.time, (&self.user, &self.department, &self.serial), self.action, &self.target, self.status < 400);
        m.insert("http_status".into(), Value::from(self.status));
        m
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DecisionLabels {
    zone: String,
    decision: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BudgetLabels {
    department: String,
    zone: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    zone: String,
    model: String,
    decision: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    zone: String,
    model: String,
    /// `prompt`, `completion` or `cached`.
    r#type: String,
}

/// The accounting sink shared by all handlers.
#[derive(Debug, Default)]
pub struct Accounting {
    recent: Mutex<VecDeque<RequestRecord>>,
    decisions: Family<DecisionLabels, Counter>,
    requests: Family<RequestLabels, Counter>,
    tokens: Family<TokenLabels, Counter>,
    ledger: Option<Ledger>,
    ledger_failures: Counter,
    meter: Meter,
    retention: Retention,
    default_class: Option<DataClass>,
}

impl RequestRecord {
    /// The ledger fields of this record (no content, no values).
    pub fn ledger_fields(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let class = |c: Option<DataClass>| c.map_or(Value::Null, |c| Value::from(c.as_str()));
        m.insert("time".into(), Value::from(self.time));
        m.insert("kind".into(), Value::from("request"));
        m.insert("user".into(), Value::from(self.user.clone()));
        m.insert("department".into(), Value::from(self.department.clone()));
        m.insert("model".into(), Value::from(self.model.clone()));
        m.insert("zone".into(), Value::from(self.zone.as_str()));
        m.insert("declared_class".into(), class(self.declared));
        m.insert("detected_class".into(), class(self.detected));
        m.insert("effective_class".into(), class(self.effective));
        let cats: Map<String, Value> = self.categories.iter().map(|(c, n)| (c.as_str().to_string(), Value::from(*n))).collect();
        m.insert("categories".into(), Value::Object(cats));
        m.insert("decision".into(), Value::from(self.decision.as_str()));
        m.insert("upstream_status".into(), self.upstream_status.map_or(Value::Null, Value::from));
        m.insert("prompt_tokens".into(), Value::from(self.prompt_tokens));
        m.insert("completion_tokens".into(), Value::from(self.completion_tokens));
        m.insert("cached_tokens".into(), Value::from(self.cached_tokens));
        m.insert("latency_ms".into(), Value::from(self.latency_ms));
        m
    }
}

impl Accounting {
    /// Accounting that appends every record to the audit `ledger` and meters it with
    /// `meter`; the current month's totals are replayed from the ledger.
    ///
    /// # Errors
    /// [`LedgerError`] when the ledger cannot be read.
    pub fn new(ledger: Ledger, meter: Meter, now: u64) -> Result<Self, LedgerError> {
        let month = budget::month_of(now);
        ledger::for_each(ledger.path(), |v| {
            let t = v["time"].as_u64().unwrap_or(0);
            if budget::month_of(t) != month || v["kind"] != "request" {
                return;
            }
            let zone = match v["zone"].as_str() {
                Some("yellow") => Zone::Yellow,
                Some("red") => Zone::Red,
                _ => Zone::Green,
            };
            let tokens = v["prompt_tokens"].as_u64().unwrap_or(0) + v["completion_tokens"].as_u64().unwrap_or(0);
            meter.add(v["department"].as_str().unwrap_or(""), zone, t, tokens, v["cost_eur"].as_f64().unwrap_or(0.0));
        })?;
        Ok(Self { ledger: Some(ledger), meter, ..Self::default() })
    }

    /// Sets the ledger's retention per data class; records without a class count as
    /// `default_class` (the policy's default).
    #[must_use]
    pub fn with_retention(mut self, retention: Retention, default_class: DataClass) -> Self {
        self.retention = retention;
        self.default_class = Some(default_class);
        self
    }

    /// Prunes the ledger's records whose retention ran out at `now` (see
    /// [`Ledger::prune`]); `None` without a ledger or without a retention setting.
    ///
    /// # Errors
    /// [`LedgerError`] from the rewrite; the ledger is left as it was.
    pub fn prune(&self, now: u64) -> Result<Option<PruneReport>, LedgerError> {
        match &self.ledger {
            Some(l) if !self.retention.is_empty() => l.prune(now, &self.retention, self.default_class.unwrap_or(DataClass::Internal)).map(Some),
            _ => Ok(None),
        }
    }

    /// Refuses a request of `department` to `zone` when its monthly budget is used up.
    ///
    /// # Errors
    /// [`BudgetExceeded`].
    pub fn check_budget(&self, department: &str, zone: Zone) -> Result<(), Box<BudgetExceeded>> {
        self.meter.check(department, zone, unix_now())
    }

    /// The meter (budget fill levels for the console and metrics).
    pub fn meter(&self) -> &Meter {
        &self.meter
    }

    /// Ledger appends that failed since start (also logged as errors).
    pub fn ledger_failures(&self) -> u64 {
        self.ledger_failures.get()
    }

    /// Records one request: the audit ledger first (before the response completes), then
    /// the in-memory list and the decision counters.
    pub fn record(&self, r: RequestRecord) {
        let cost = self.meter.cost(&r.model, r.prompt_tokens, r.completion_tokens);
        self.meter.add(&r.department, r.zone, r.time, r.prompt_tokens + r.completion_tokens, cost);
        if let Some(l) = &self.ledger {
            let mut fields = r.ledger_fields();
            fields.insert("cost_eur".into(), Value::from(cost));
            if let Err(e) = l.append(fields) {
                self.ledger_failures.inc();
                log::error!("{e}");
            }
        }
        self.decisions.get_or_create(&DecisionLabels { zone: r.zone.as_str().into(), decision: r.decision.as_str().into() }).inc();
        self.requests.get_or_create(&RequestLabels { zone: r.zone.as_str().into(), model: r.model.clone(), decision: r.decision.as_str().into() }).inc();
        for (kind, n) in [("prompt", r.prompt_tokens), ("completion", r.completion_tokens), ("cached", r.cached_tokens)] {
            self.tokens.get_or_create(&TokenLabels { zone: r.zone.as_str().into(), model: r.model.clone(), r#type: kind.into() }).inc_by(n);
        }
        // Who asked goes to the audit ledger, not to the log.
        log::debug!(
            "request model={} zone={} effective={} decision={} categories={} upstream_status={} tokens={}+{} cached={} latency_ms={}",
            r.model,
            r.zone.as_str(),
            r.effective.map_or("-", DataClass::as_str),
            r.decision.as_str(),
            r.categories.iter().map(|(c, n)| format!("{}:{n}", c.as_str())).collect::<Vec<_>>().join(","),
            r.upstream_status.map_or("-".to_string(), |s| s.to_string()),
            r.prompt_tokens,
            r.completion_tokens,
            r.cached_tokens,
            r.latency_ms
        );
        let mut q = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if q.len() == RECENT {
            q.pop_front();
        }
        q.push_back(r);
    }

    /// Appends an admin action to the audit ledger (same chain as the requests; reports and
    /// budgets skip `kind = admin`). Without a ledger (tests) nothing is written.
    ///
    /// # Errors
    /// [`LedgerError`] when the append fails (also counted in [`Accounting::ledger_failures`]).
    pub fn record_admin(&self, r: &AdminRecord) -> Result<(), LedgerError> {
        log::info!("admin action {} by certificate {}: {}", r.action.as_str(), r.serial, if r.ok { "ok" } else { "failed" });
        self.append(r.ledger_fields())
    }

    /// Appends a knowledge-store API call to the audit ledger (reports and budgets skip
    /// `kind = knowledge`). Without a ledger (tests) nothing is written.
    ///
    /// # Errors
    /// As [`Accounting::record_admin`].
    pub fn record_knowledge(&self, r: &KnowledgeRecord) -> Result<(), LedgerError> {
        self.append(r.ledger_fields())
    }

    fn append(&self, fields: Map<String, Value>) -> Result<(), LedgerError> {
        let Some(l) = &self.ledger else { return Ok(()) };
        l.append(fields).map(|_| ()).inspect_err(|e| {
            self.ledger_failures.inc();
            log::error!("{e}");
        })
    }

    /// The audit ledger file, when there is one.
    pub fn ledger_path(&self) -> Option<&std::path::Path> {
        self.ledger.as_ref().map(Ledger::path)
    }

    /// The most recent records, oldest first.
    pub fn recent(&self) -> Vec<RequestRecord> {
        self.recent.lock().unwrap_or_else(|e| e.into_inner()).iter().cloned().collect()
    }

    /// Registers the accounting metrics (low-cardinality labels only: zone, model,
    /// decision, token type; budgets by department and zone — never user ids):
    /// `policy_decisions`, `accounted_requests`, `accounted_tokens` and
    /// `budget_fill_ratio` (fraction of each configured monthly budget used at `now`, the larger of its token
    /// and EUR fractions).
    pub fn register_metrics(&self, reg: &mut prometheus_client::registry::Registry, now: u64) {
        reg.register("policy_decisions", "Policy decisions by zone and decision", self.decisions.clone());
        reg.register("accounted_requests", "Requests recorded by accounting, by zone, model and decision", self.requests.clone());
        reg.register("accounted_tokens", "Tokens recorded by accounting, by zone, model and type (prompt, completion, cached)", self.tokens.clone());
        let fill: Family<BudgetLabels, Gauge<f64, std::sync::atomic::AtomicU64>> = Family::default();
        for (b, f) in self.meter.fill(now) {
            fill.get_or_create(&BudgetLabels { department: b.department.clone(), zone: b.zone.as_str().into() }).set(f);
        }
        reg.register("budget_fill_ratio", "Fraction of the monthly budget used, per department and zone", fill);
    }
}

/// Current Unix time in seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::config::AccountingConfig;

    /// Admin records share the chain with requests: the chain verifies, the budget replay
    /// and the usage report skip them, the export keeps them.
    #[test]
    fn admin_records_chain_and_are_skipped_by_reports() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ledger.jsonl");
        let now = 1_795_996_800; // 2026-11-30
        let acc = Accounting::new(Ledger::open(&p).unwrap(), Meter::default(), now).unwrap();
        let req = RequestRecord {
            time: now,
            user: "u1".into(),
            department: "Bauamt".into(),
            model: "m".into(),
            zone: Zone::Green,
            declared: None,
            detected: None,
            effective: None,
            categories: Vec::new(),
            decision: Decision::Allow,
            upstream_status: None,
            prompt_tokens: 7,
            completion_tokens: 3,
            cached_tokens: 0,
            latency_ms: 12,
        };
        acc.record(req.clone());
        let admin = AdminRecord { time: now, user: "admin".into(), department: "IT".into(), serial: "ab12".into(), action: AdminAction::CertificateIssued, target: "serial 99 user x".into(), ok: true };
        acc.record_admin(&admin).unwrap();
        acc.record(req);
        assert_eq!(ledger::verify(&p).unwrap(), VerifyReport { records: 3, pruned: 0, first_broken: None });
        let text = std::fs::read_to_string(&p).unwrap();
        assert!(text.contains("\"kind\":\"admin\"") && text.contains("\"action\":\"certificate_issued\""));
        let cfg = AccountingConfig { per_user_reports: true, min_group_size: 1, ..AccountingConfig::default() };
        let rows = report::report(&p, (2026, 11), &report::parse_dims("department", &cfg).unwrap(), &cfg).unwrap();
        assert_eq!(rows.len(), 1, "the admin record is no department's usage: {rows:?}");
        assert_eq!(rows[0].requests, 2);
        drop(acc); // releases the ledger's lock
        let again = Accounting::new(Ledger::open(&p).unwrap(), Meter::default(), now).unwrap();
        assert_eq!(again.meter().used("IT", Zone::Green, now), (0, 0.0), "replay skips admin records");
        assert_eq!(again.meter().used("Bauamt", Zone::Green, now).0, 20);
        let mut out = Vec::new();
        assert_eq!(ledger::export(&p, now, now + 1, &mut out).unwrap(), 3);
    }
}
