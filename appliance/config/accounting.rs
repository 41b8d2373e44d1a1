//! `[accounting]`, `[[prices]]` and `[[budgets]]`: cost and monthly budgets.

use serde::Deserialize;

use crate::policy::Zone;

/// `[accounting]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccountingConfig {
    /// Allow per-user figures in usage reports (off by default: works-council rules).
    pub per_user_reports: bool,
    /// Departments with fewer active users in a report period are shown only inside
    /// the group `other`.
    pub min_group_size: usize,
    /// `[accounting.retention_days]`: days the audit ledger keeps the identifying fields of
    /// a record, per data class (`public`, `internal`, `personal`, `confidential`,
    /// `social`; at least 1); classes without an entry are kept for ever. See
    /// [`crate::accounting::ledger::Ledger::prune`].
    pub retention_days: crate::accounting::ledger::Retention,
}

impl Default for AccountingConfig {
    fn default() -> Self {
        Self { per_user_reports: false, min_group_size: 5, retention_days: Default::default() }
    }
}

/// One `[[prices]]` entry: EUR per million tokens for a model.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PriceConfig {
    /// Public model id.
    pub model: String,
    /// EUR per million prompt (input) tokens.
    #[serde(default)]
    pub input_eur_per_million: f64,
    /// EUR per million completion (output) tokens.
    #[serde(default)]
    pub output_eur_per_million: f64,
}

/// One `[[budgets]]` entry: a monthly limit of one department in one zone.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BudgetConfig {
    /// Department (client certificate OU).
    pub department: String,
    /// The zone the budget limits; other zones are never blocked by it.
    pub zone: Zone,
    /// Tokens (prompt + completion) per calendar month (UTC).
    pub monthly_tokens: Option<u64>,
    /// EUR per calendar month (UTC), from `[[prices]]`.
    pub monthly_eur: Option<f64>,
    /// Fraction of the limit at which a warning is logged and shown (0..1).
    #[serde(default = "default_warn")]
    pub warn_at: f64,
}

fn default_warn() -> f64 {
    0.8
}
