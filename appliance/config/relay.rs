//! `[[upstreams]]` and `[policy]`: the yellow/red upstreams and the data-class policy.

use std::path::PathBuf;

use serde::Deserialize;

use crate::policy::{DataClass, PolicyDetectConfig, Zone};

/// One OpenAI-compatible upstream of the yellow or red zone.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Name used in logs and the audit ledger (e.g. `sovereign-cloud`).
    pub id: String,
    /// `yellow` or `red` (green models are served by this box).
    pub zone: Zone,
    /// Base URL including the API version path, e.g. `https://llm.example/v1`.
    pub base_url: String,
    /// File holding the API key (first line), sent as `Authorization: Bearer`.
    pub api_key_file: Option<PathBuf>,
    /// Name of a systemd credential (`LoadCredential=`) holding the API key; read from
    /// `$CREDENTIALS_DIRECTORY/<name>`.
    pub api_key_credential: Option<String>,
    /// Client certificate (PEM) for upstream mutual TLS.
    pub client_cert: Option<PathBuf>,
    /// Client key (PEM) for upstream mutual TLS.
    pub client_key: Option<PathBuf>,
    /// CA bundle (PEM) trusted for this upstream instead of the built-in web roots.
    pub ca_bundle: Option<PathBuf>,
    /// Milliseconds to establish the connection.
    #[serde(default = "default_connect")]
    pub connect_timeout_ms: u64,
    /// Milliseconds until the response headers arrive.
    #[serde(default = "default_first_byte")]
    pub first_byte_timeout_ms: u64,
    /// Milliseconds for the whole response, streams included.
    #[serde(default = "default_total")]
    pub total_timeout_ms: u64,
    /// Extra attempts after a connection error, timeout, 429 or 5xx — only before anything
    /// was sent to the client.
    #[serde(default = "default_retries")]
    pub max_retries: u32,
    /// The models this upstream offers under public ids.
    pub models: Vec<UpstreamModelConfig>,
}

fn default_connect() -> u64 {
    5_000
}
fn default_first_byte() -> u64 {
    60_000
}
fn default_total() -> u64 {
    600_000
}
fn default_retries() -> u32 {
    1
}

/// A model offered by an upstream.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamModelConfig {
    /// Public id clients use, e.g. `red/gpt-4o`.
    pub id: String,
    /// The upstream's own model name, e.g. `gpt-4o`.
    pub upstream_model: String,
}

/// What happens to a request whose effective class its zone may not receive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnViolation {
    /// Refuse with 403 `data_class_not_allowed`.
    Block,
    /// Answer with the zone's `reroute_model` (a green model) instead.
    Reroute,
    /// Replace the findings with placeholders, forward, restore them in the answer; blocks
    /// when the masked text still exceeds the zone's class.
    Pseudonymize,
}

/// `[policy.yellow]` / `[policy.red]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZonePolicyConfig {
    /// Highest class the zone may receive; defaults to the zone's DESIGN.md maximum.
    pub max_class: Option<DataClass>,
    /// Required to set `max_class` looser than the zone's default.
    #[serde(default)]
    pub allow_looser_than_default: bool,
    /// What to do on a violation.
    #[serde(default = "default_violation")]
    pub on_violation: OnViolation,
    /// Green model for `reroute`.
    pub reroute_model: Option<String>,
}

fn default_violation() -> OnViolation {
    OnViolation::Block
}

impl Default for ZonePolicyConfig {
    fn default() -> Self {
        Self { max_class: None, allow_looser_than_default: false, on_violation: OnViolation::Block, reroute_model: None }
    }
}

/// `[policy]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Declared class when a request has neither `X-Data-Class` nor `metadata.data_class`.
    pub default_class: DataClass,
    /// Policy of the yellow zone.
    pub yellow: ZonePolicyConfig,
    /// Policy of the red zone.
    pub red: ZonePolicyConfig,
    /// Milliseconds detection may take before the request fails closed.
    pub detect_timeout_ms: u64,
    /// Detector settings (Aktenzeichen patterns, allowlist, …).
    pub detect: PolicyDetectConfig,
    /// Departments (client certificate OU, compared case-insensitively) that are social
    /// benefit bodies (Leistungsträger, § 12 SGB I): every personal datum they send is a
    /// Sozialdatum (§ 35 SGB I, § 67 SGB X), so a request of theirs with a person reference
    /// has the class `social`, and pseudonymising it does not make it leave the green zone.
    pub sgb_departments: Vec<String>,
}

impl Default for PolicyConfig {
    fn default() -> Self {
        Self {
            default_class: DataClass::Internal,
            yellow: ZonePolicyConfig::default(),
            red: ZonePolicyConfig::default(),
            detect_timeout_ms: 2_000,
            detect: PolicyDetectConfig::default(),
            sgb_departments: ["Sozialamt", "Jugendamt", "Jobcenter", "Wohngeldstelle", "Amt für Soziales"].map(String::from).to_vec(),
        }
    }
}

impl PolicyConfig {
    /// The zone's policy (`None` for green, which receives everything).
    pub fn zone(&self, zone: Zone) -> Option<&ZonePolicyConfig> {
        match zone {
            Zone::Green => None,
            Zone::Yellow => Some(&self.yellow),
            Zone::Red => Some(&self.red),
        }
    }

    /// Whether `department` is one of [`PolicyConfig::sgb_departments`].
    pub fn is_sgb_body(&self, department: &str) -> bool {
        self.sgb_departments.iter().any(|d| d.to_lowercase() == department.to_lowercase())
    }

    /// The highest class `zone` may receive under this policy.
    pub fn max_class(&self, zone: Zone) -> DataClass {
        self.zone(zone).and_then(|z| z.max_class).unwrap_or_else(|| zone.default_max_class())
    }
}
