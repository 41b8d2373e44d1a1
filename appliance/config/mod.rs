//! Configuration: the TOML schema of `/etc/zonegate/zonegate.toml`, loading and validation.
//!
//! Owns: one struct per module (`server`, `tls`, `models`, `logging`), parsing with unknown
//! keys rejected, and a validation pass that reports *every* error at once, each with the
//! key's dotted path and a hint how to fix it (DESIGN.md rule 7).
//! Must not: read environment variables (the only environment input is `--config` on the CLI),
//! open listeners or load models.

mod accounting;
mod rag;
mod console;
mod relay;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use accounting::{AccountingConfig, BudgetConfig, PriceConfig};
pub use rag::RagConfig;
pub use console::ConsoleConfig;
pub use relay::{OnViolation, PolicyConfig, UpstreamConfig, UpstreamModelConfig, ZonePolicyConfig};
pub use validate::{ConfigError, ConfigProblem};

/// Default location of the configuration file on the appliance.
pub const DEFAULT_PATH: &str = "/etc/zonegate/zonegate.toml";

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// `[server]`: listeners and request limits.
    #[serde(default)]
    pub server: ServerConfig,
    /// `[tls]`: server certificate and the client CAs of the mutual-TLS API listener.
    pub tls: TlsConfig,
    /// `[[models]]`: the green-zone GGUF models served by this box.
    #[serde(default)]
    pub models: Vec<ModelConfig>,
    /// `[[upstreams]]`: the yellow and red zones' OpenAI-compatible upstreams.
    #[serde(default)]
    pub upstreams: Vec<UpstreamConfig>,
    /// `[policy]`: data-class limits and decisions per zone, detector settings.
    #[serde(default)]
    pub policy: PolicyConfig,
    /// `[accounting]`: report rules.
    #[serde(default)]
    pub accounting: AccountingConfig,
    /// `[[prices]]`: EUR per million tokens per model.
    #[serde(default)]
    pub prices: Vec<PriceConfig>,
    /// `[[budgets]]`: monthly limits per department and zone.
    #[serde(default)]
    pub budgets: Vec<BudgetConfig>,
    /// `[logging]`: log level and target.
    #[serde(default)]
    pub logging: LoggingConfig,
    /// `[rag]`: the offline RAG store (off when absent).
    #[serde(default)]
    pub rag: Option<RagConfig>,
    /// `[console]`: the admin web console (off when absent).
    #[serde(default)]
    pub console: Option<ConsoleConfig>,
}

/// `[server]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address of the mutual-TLS OpenAI-compatible API listener (`host:port`; port 0 picks one).
    pub listen: SocketAddr,
    /// Optional plain-HTTP listener serving only `GET /health`; must be a loopback address.
    pub health_listen: Option<SocketAddr>,
    /// Largest accepted request body in bytes; larger bodies get HTTP 413.
    pub max_body_bytes: usize,
    /// Milliseconds a client may take to finish the TLS handshake before it is dropped.
    pub handshake_timeout_ms: u64,
    /// Upper bound for `max_tokens` / `max_completion_tokens` of one request, in tokens.
    /// Also the generation limit when a request names none.
    pub max_tokens_cap: u32,
    /// Requests that may wait for a free sequence per model; beyond it the API answers 429.
    pub queue_depth: usize,
    /// Seconds clients are told to wait (`Retry-After`) when the queue is full.
    pub retry_after_secs: u64,
    /// Directory for state (PKI, CRLs, stores). Created if absent.
    pub state_dir: PathBuf,
    /// Seconds SIGTERM waits for running streams before cancelling them.
    pub shutdown_grace_secs: u64,
    /// Account `zonegate serve` switches to (with its groups) when started as root outside
    /// systemd; ignored when not root (the systemd unit sets `User=` itself).
    pub user: Option<String>,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            health_listen: None,
            max_body_bytes: 4 * 1024 * 1024,
            handshake_timeout_ms: 10_000,
            max_tokens_cap: 4096,
            queue_depth: 64,
            retry_after_secs: 2,
            state_dir: PathBuf::from("/var/lib/zonegate"),
            shutdown_grace_secs: 30,
            user: None,
        }
    }
}

/// `[tls]` section: PEM files of the API listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Server certificate chain (PEM, leaf first).
    pub cert: PathBuf,
    /// Server private key (PEM, PKCS#8, SEC1 or PKCS#1).
    pub key: PathBuf,
    /// CA certificates (PEM) that client certificates must chain to; at least one.
    pub client_ca: Vec<PathBuf>,
    /// Certificate revocation lists (PEM or DER, RFC 5280) checked for client certificates.
    #[serde(default)]
    pub crl: Vec<PathBuf>,
}

/// What a model is loaded for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelRole {
    /// Text generation: `/v1/chat/completions` and `/v1/completions`.
    Chat,
    /// Pooled sentence embeddings: `/v1/embeddings`.
    Embedding,
}

/// One `[[models]]` entry: a GGUF file served in the green zone.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Public model id clients put in `model` (e.g. `smollm2-135m`).
    pub id: String,
    /// Path of the GGUF file.
    pub path: PathBuf,
    /// Expected SHA-256 of the file (64 hex digits); checked at load when given.
    pub sha256: Option<String>,
    /// `chat` (default) or `embedding`.
    #[serde(default = "default_role")]
    pub role: ModelRole,
    /// Context size in tokens shared by all parallel sequences (llama.cpp `n_ctx`).
    #[serde(default = "default_ctx")]
    pub context_size: u32,
    /// Sequences decoded together (llama.cpp `n_seq_max`, "slots"); each gets
    /// `context_size / parallel` tokens.
    #[serde(default = "default_parallel")]
    pub parallel: u32,
    /// Layers offloaded to the GPU (llama.cpp `n_gpu_layers`); 0 keeps everything on the CPU.
    #[serde(default)]
    pub gpu_layers: u32,
    /// CPU threads for decoding; defaults to the number of physical cores.
    pub threads: Option<u32>,
    /// Logical batch size in tokens (llama.cpp `n_batch`).
    #[serde(default = "default_batch")]
    pub batch_size: u32,
    /// Who may reuse a prompt prefix left in a sequence's KV cache by an earlier request:
    /// `user` (default), `department`, or `off`. A wider scope gives more cache hits but lets
    /// its members learn from the time to first token whether someone in the scope sent
    /// the same prefix.
    #[serde(default)]
    pub prefix_cache: PrefixCache,
}

/// Scope of prompt-prefix reuse (see [`ModelConfig::prefix_cache`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PrefixCache {
    /// Never reuse: every request evaluates its whole prompt.
    Off,
    /// Reuse only prefixes the same user left (identity from the client certificate).
    #[default]
    User,
    /// Reuse prefixes left by anyone of the same department.
    Department,
}

fn default_role() -> ModelRole {
    ModelRole::Chat
}
fn default_ctx() -> u32 {
    8192
}
fn default_parallel() -> u32 {
    4
}
fn default_batch() -> u32 {
    512
}

/// `[logging]` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LoggingConfig {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub level: String,
}

impl Default for LoggingConfig {
    fn default() -> Self {
        Self { level: "info".into() }
    }
}

impl Config {
    /// Reads, parses and validates the file at `path`.
    ///
    /// Relative paths inside the file are resolved against the file's directory.
    ///
    /// # Errors
    /// [`ConfigError`] listing every problem found, each with its key path.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::single("", format!("cannot read {}: {e}", path.display()), "pass an existing file with --config")
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, base)
    }

    /// Parses and validates TOML text; relative paths are resolved against `base`.
    ///
    /// # Errors
    /// [`ConfigError`] listing every problem found, each with its key path.
    pub fn parse(text: &str, base: &Path) -> Result<Config, ConfigError> {
        let mut cfg: Config = toml::from_str(text).map_err(|e| validate::from_toml_error(e, text))?;
        cfg.resolve_paths(base);
        validate::validate(&cfg)?;
        Ok(cfg)
    }

    fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut self.server.state_dir);
        if let Some(d) = self.rag.as_mut().and_then(|r| r.dir.as_mut()) {
            fix(d);
        }
        fix(&mut self.tls.cert);
        fix(&mut self.tls.key);
        self.tls.client_ca.iter_mut().for_each(fix);
        self.tls.crl.iter_mut().for_each(fix);
        self.models.iter_mut().for_each(|m| fix(&mut m.path));
        if let Some(c) = &mut self.console {
            for p in [&mut c.pki_dir, &mut c.ca_key].into_iter().flatten() {
                fix(p);
            }
        }
        for u in &mut self.upstreams {
            for p in [&mut u.api_key_file, &mut u.client_cert, &mut u.client_key, &mut u.ca_bundle].into_iter().flatten() {
                fix(p);
            }
        }
    }
}

/// The directory of systemd credentials (`$CREDENTIALS_DIRECTORY`, set for units with
/// `LoadCredential=`). The only environment variable the configuration reads.
pub fn credentials_dir() -> Option<PathBuf> {
    std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from)
}

impl UpstreamConfig {
    /// The API key from `api_key_file` or the systemd credential, trimmed; `None` if neither
    /// is configured.
    ///
    /// # Errors
    /// The file cannot be read, or the credential directory is not set.
    pub fn api_key(&self) -> Result<Option<String>, String> {
        let path = match (&self.api_key_file, &self.api_key_credential) {
            (Some(p), _) => p.clone(),
            (None, Some(name)) => credentials_dir().ok_or("api_key_credential needs $CREDENTIALS_DIRECTORY (systemd LoadCredential=)")?.join(name),
            (None, None) => return Ok(None),
        };
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Some(text.lines().next().unwrap_or("").trim().to_string()))
    }
}
