//! Validation of a parsed [`Config`](super::Config): every problem at once, each with its key path.

use std::fmt;

use super::Config;

/// One problem in the configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Dotted key path, e.g. `models[0].sha256` (empty for whole-file problems).
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// All problems found in a configuration file.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigError {
    /// The problems, in file order.
    pub problems: Vec<ConfigProblem>,
}

impl ConfigError {
    pub(crate) fn single(key: &str, message: String, hint: &str) -> Self {
        Self { problems: vec![ConfigProblem { key: key.into(), message, hint: hint.into() }] }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} configuration error(s):", self.problems.len())?;
        for p in &self.problems {
            let key = if p.key.is_empty() { "(file)" } else { p.key.as_str() };
            writeln!(f, "  {key}: {} (fix: {})", p.message, p.hint)?;
        }
        Ok(())
    }
}

/// Turns a TOML syntax or schema error into a [`ConfigError`] naming the line, column and
/// the text of the offending key or value.
pub(crate) fn from_toml_error(e: toml::de::Error, text: &str) -> ConfigError {
    // toml's message names the offending key ("unknown field `x`, expected one of ...").
    let msg = e.message().to_string();
    let key = e
        .span()
        .map(|s| {
            let before = &text[..s.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            let what = text.get(s.clone()).unwrap_or("").lines().next().unwrap_or("").trim();
            format!("line {line}, column {col} ({what})")
        })
        .unwrap_or_default();
    let hint = if msg.contains("unknown field") {
        "remove the key or correct its spelling; see image/zonegate.toml for every key"
    } else if msg.contains("missing field") {
        "add the key; see image/zonegate.toml for an example"
    } else {
        "correct the TOML syntax or value type"
    };
    ConfigError::single(&key, msg, hint)
}

pub(crate) fn validate(cfg: &Config) -> Result<(), ConfigError> {
    let mut p = Vec::new();
    let mut add = |key: String, message: String, hint: &str| {
        p.push(ConfigProblem { key, message, hint: hint.into() });
    };
    let add: &mut dyn FnMut(String, String, &str) = &mut add;
    let s = &cfg.server;
    if let Some(h) = s.health_listen {
        if !h.ip().is_loopback() {
            add("server.health_listen".into(), format!("{h} is not a loopback address"), "use 127.0.0.1:PORT or [::1]:PORT; the plain-HTTP health endpoint must stay on the box");
        }
    }
    if s.max_body_bytes < 1024 {
        add("server.max_body_bytes".into(), format!("{} is too small", s.max_body_bytes), "use at least 1024 (default 4194304)");
    }
    if s.handshake_timeout_ms == 0 {
        add("server.handshake_timeout_ms".into(), "must be positive".into(), "use e.g. 10000");
    }
    if s.max_tokens_cap == 0 {
        add("server.max_tokens_cap".into(), "must be positive".into(), "use e.g. 4096");
    }
    if s.queue_depth == 0 {
        add("server.queue_depth".into(), "must be positive".into(), "use e.g. 64");
    }
    if let Some(u) = &s.user {
        let valid = u.len() <= 32
            && u.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c == '_')
            && u.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
        if !valid {
            add("server.user".into(), format!("{u:?} is not a valid user name"), "use a system account name such as \"zonegate\" (a-z, 0-9, '_', '-')");
        } else if u == "root" {
            add("server.user".into(), "must not be root".into(), "use the unprivileged account, e.g. \"zonegate\"");
        }
    }
    let t = &cfg.tls;
    for (key, path) in [("tls.cert", &t.cert), ("tls.key", &t.key)] {
        if !path.is_file() {
            add(key.into(), format!("file {} not found", path.display()), "run `zonegate pki init` and `zonegate pki issue-server`, or point to an existing PEM file");
        }
    }
    if t.client_ca.is_empty() {
        add("tls.client_ca".into(), "no client CA configured".into(), "list at least one CA certificate (PEM); the API only accepts client certificates");
    }
    for (i, ca) in t.client_ca.iter().enumerate() {
        if !ca.is_file() {
            add(format!("tls.client_ca[{i}]"), format!("file {} not found", ca.display()), "run `zonegate pki init` or point to an existing CA certificate");
        }
    }
    for (i, crl) in t.crl.iter().enumerate() {
        if !crl.is_file() {
            add(format!("tls.crl[{i}]"), format!("file {} not found", crl.display()), "run `zonegate pki init` (it writes an empty CRL) or remove the entry");
        }
    }
    let mut ids = std::collections::HashSet::new();
    for (i, m) in cfg.models.iter().enumerate() {
        let k = |f: &str| format!("models[{i}].{f}");
        if m.id.is_empty() || m.id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            add(k("id"), format!("{:?} is not a valid model id", m.id), "use letters, digits, '-', '_', '.', '/'");
        } else if !ids.insert(m.id.clone()) {
            add(k("id"), format!("duplicate model id {:?}", m.id), "give every model a unique id");
        }
        if !m.path.is_file() {
            add(k("path"), format!("file {} not found", m.path.display()), "run `make model` or point to an existing GGUF file");
        }
        if let Some(h) = &m.sha256 {
            if h.len() != 64 || !h.chars().all(|c| c.is_ascii_hexdigit()) {
                add(k("sha256"), "not 64 hex digits".into(), "put the output of `sha256sum FILE` here, or remove the key");
            }
        }
        if m.parallel == 0 || m.parallel > 256 {
            add(k("parallel"), format!("{} is out of range", m.parallel), "use 1..=256");
        }
        if m.context_size < 64 {
            add(k("context_size"), format!("{} is too small", m.context_size), "use at least 64 tokens (e.g. 8192)");
        } else if m.parallel > 0 && m.context_size / m.parallel < 64 {
            add(k("context_size"), format!("{} tokens shared by {} sequences leaves under 64 each", m.context_size, m.parallel), "raise context_size or lower parallel");
        }
        if m.batch_size < 32 {
            add(k("batch_size"), format!("{} is too small", m.batch_size), "use at least 32 (default 512)");
        }
        if m.threads == Some(0) {
            add(k("threads"), "must be positive".into(), "remove the key to use the physical core count");
        }
    }
    validate_relay(cfg, &ids, add);
    super::rag::validate(cfg, add);
    for (i, b) in cfg.budgets.iter().enumerate() {
        let k = |f: &str| format!("budgets[{i}].{f}");
        if b.monthly_tokens.is_none() && b.monthly_eur.is_none() {
            add(k("monthly_tokens"), "a budget needs monthly_tokens or monthly_eur".into(), "set one of them");
        }
        if b.monthly_eur.is_some_and(|e| !(e.is_finite() && e >= 0.0)) {
            add(k("monthly_eur"), "must be a non-negative number".into(), "e.g. 250.0");
        }
        if !(b.warn_at > 0.0 && b.warn_at <= 1.0) {
            add(k("warn_at"), format!("{} is not in (0, 1]", b.warn_at), "e.g. 0.8");
        }
    }
    for (class, days) in &cfg.accounting.retention_days {
        if *days == 0 {
            add(format!("accounting.retention_days.{}", class.as_str()), "must be at least 1".into(), "days the ledger keeps who made a request of this class, e.g. 365; remove the key to keep for ever");
        }
    }
    for (i, p) in cfg.prices.iter().enumerate() {
        if !(p.input_eur_per_million >= 0.0 && p.output_eur_per_million >= 0.0) {
            add(format!("prices[{i}]"), "prices must be non-negative".into(), "EUR per million tokens, e.g. 2.5");
        }
    }
    if let Some(c) = &cfg.console {
        if c.listen == cfg.server.listen && c.listen.port() != 0 {
            add("console.listen".into(), format!("{} is also server.listen", c.listen), "give the console its own port, e.g. 8444, on the management address");
        }
        // A missing credentials directory is not an error here (check-config runs on the
        // shell): the console then lists certificates without issuing and says why.
        if c.ca_key.is_some() && c.ca_key_credential.is_some() {
            add("console.ca_key".into(), "both ca_key and ca_key_credential are set".into(), "keep one of them");
        }
        if c.client_cert_days == 0 || c.client_cert_days > 3650 {
            add("console.client_cert_days".into(), format!("{} is out of range", c.client_cert_days), "use 1..=3650 (default 365)");
        }
    }
    if !["error", "warn", "info", "debug", "trace"].contains(&cfg.logging.level.as_str()) {
        add("logging.level".into(), format!("unknown level {:?}", cfg.logging.level), "use error, warn, info, debug or trace");
    }
    if p.is_empty() {
        Ok(())
    } else {
        Err(ConfigError { problems: p })
    }
}

fn validate_relay(cfg: &Config, green_ids: &std::collections::HashSet<String>, add: &mut dyn FnMut(String, String, &str)) {
    use crate::policy::Zone;
    let mut ids = green_ids.clone();
    for (i, u) in cfg.upstreams.iter().enumerate() {
        let k = |f: &str| format!("upstreams[{i}].{f}");
        if u.zone == Zone::Green {
            add(k("zone"), "an upstream cannot be green".into(), "use yellow or red; green models are [[models]] served by this box");
        }
        match url::Url::parse(&u.base_url) {
            Ok(url) if url.scheme() == "https" => {}
            Ok(url) if url.scheme() == "http" && url.host_str().is_some_and(|h| h == "localhost" || h.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())) => {}
            Ok(_) => add(k("base_url"), format!("{:?} is not an https URL", u.base_url), "use https://HOST/v1 (plain http only for loopback test upstreams)"),
            Err(e) => add(k("base_url"), format!("{:?} is not a URL: {e}", u.base_url), "use https://HOST/v1"),
        }
        if u.api_key_file.is_some() && u.api_key_credential.is_some() {
            add(k("api_key_file"), "both api_key_file and api_key_credential are set".into(), "keep one of them");
        } else if let Err(e) = u.api_key() {
            add(k(if u.api_key_file.is_some() { "api_key_file" } else { "api_key_credential" }), e, "point to a readable file with the key on its first line");
        }
        if u.client_cert.is_some() != u.client_key.is_some() {
            add(k("client_cert"), "client_cert and client_key must be given together".into(), "set both or neither");
        }
        for (key, path) in [("client_cert", &u.client_cert), ("client_key", &u.client_key), ("ca_bundle", &u.ca_bundle)] {
            if let Some(p) = path {
                if !p.is_file() {
                    add(k(key), format!("file {} not found", p.display()), "point to an existing PEM file");
                }
            }
        }
        if u.connect_timeout_ms == 0 || u.first_byte_timeout_ms == 0 || u.total_timeout_ms == 0 {
            add(k("connect_timeout_ms"), "timeouts must be positive".into(), "use milliseconds, e.g. 5000");
        }
        if u.models.is_empty() {
            add(k("models"), "the upstream offers no model".into(), "add [[upstreams.models]] with id and upstream_model");
        }
        for (j, m) in u.models.iter().enumerate() {
            if m.id.is_empty() || m.upstream_model.is_empty() {
                add(format!("upstreams[{i}].models[{j}].id"), "id and upstream_model must not be empty".into(), "e.g. id = \"red/gpt-4o\", upstream_model = \"gpt-4o\"");
            } else if green_ids.contains(&m.id) {
                add(format!("upstreams[{i}].models[{j}].id"), format!("{:?} is also a green model id", m.id), "give relayed models their own ids, e.g. with a zone prefix");
            } else {
                ids.insert(m.id.clone());
            }
        }
    }
    for zone in [Zone::Yellow, Zone::Red] {
        let Some(z) = cfg.policy.zone(zone) else { continue };
        let key = |f: &str| format!("policy.{}.{f}", zone.as_str());
        if let Some(c) = z.max_class {
            if c > zone.default_max_class() && !z.allow_looser_than_default {
                add(key("max_class"), format!("{} is looser than the {} zone's limit {}", c.as_str(), zone.as_str(), zone.default_max_class().as_str()), "lower it, or set allow_looser_than_default = true after the data-protection officer approved it");
            }
        }
        if z.on_violation == super::OnViolation::Reroute {
            match &z.reroute_model {
                None => add(key("reroute_model"), "on_violation = \"reroute\" needs a reroute_model".into(), "name a green chat model from [[models]]"),
                Some(m) if !cfg.models.iter().any(|g| &g.id == m && g.role == super::ModelRole::Chat) => {
                    add(key("reroute_model"), format!("{m:?} is not a green chat model"), "name a [[models]] entry with role = \"chat\"")
                }
                Some(_) => {}
            }
        }
    }
    if cfg.policy.detect_timeout_ms == 0 {
        add("policy.detect_timeout_ms".into(), "must be positive".into(), "use e.g. 2000");
    }
}
