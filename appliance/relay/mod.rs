//! Relay: forwarding cleared requests to the yellow and red zones' OpenAI-compatible
//! upstreams, streamed (event by event, no buffering) or not.
//!
//! Owns: upstream HTTP clients (rustls; API key, optional client certificate, CA bundle,
//! connect / first-byte / total timeouts), model-name mapping, retries and fallback.
//! Must not: forward anything that is not a [`policy::Cleared`] value (the signatures take
//! nothing else), fall back to a less trusted zone, retry after the first byte reached the
//! client, or log bodies.

mod upstream;

use std::collections::BTreeMap;
use std::time::Duration;

use futures::stream::BoxStream;
use serde_json::Value;

use crate::config::UpstreamConfig;
use crate::policy::{self, Zone};
use upstream::Upstream;

/// What went wrong with an upstream. Bodies of upstream errors are never passed on.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RelayError {
    /// An upstream could not be set up from its configuration.
    #[error("upstream {id}: {reason}")]
    Setup {
        /// Upstream id.
        id: String,
        /// What is wrong (file, certificate).
        reason: String,
    },
    /// Connection refused, reset or TLS failure.
    #[error("the upstream could not be reached")]
    Connect,
    /// A timeout (connect, first byte or total) passed.
    #[error("the upstream did not answer in time")]
    Timeout,
    /// The upstream answered with an error status.
    #[error("the upstream answered HTTP {status}")]
    Status {
        /// HTTP status of the upstream.
        status: u16,
        /// The upstream's `Retry-After`, in seconds.
        retry_after: Option<u64>,
        /// The upstream's error `code`, if it sent the OpenAI envelope.
        code: Option<String>,
    },
    /// The upstream sent something that is not the OpenAI protocol.
    #[error("the upstream sent an invalid response")]
    Protocol,
}

impl RelayError {
    fn retryable(&self) -> bool {
        match self {
            RelayError::Connect | RelayError::Timeout => true,
            RelayError::Status { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }
}

/// Which OpenAI endpoint a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/chat/completions`.
    ChatCompletions,
    /// `/completions`.
    Completions,
    /// `/embeddings`.
    Embeddings,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::ChatCompletions => "chat/completions",
            Endpoint::Completions => "completions",
            Endpoint::Embeddings => "embeddings",
        }
    }
}

/// A relayed model as clients see it.
#[derive(Debug, Clone)]
pub struct RelayedModel {
    /// Public id.
    pub id: String,
    /// Zone of its first (primary) upstream.
    pub zone: Zone,
}

/// How an upstream has been answering since start, for the console's status page. Counts
/// attempts (retries included) by their outcome; no bodies, no user data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamHealth {
    /// Upstream id.
    pub id: String,
    /// Its zone.
    pub zone: Zone,
    /// Scheme, host and port of its base URL (no path, no credentials).
    pub origin: String,
    /// Public model ids it serves.
    pub models: Vec<String>,
    /// Attempts that got a response.
    pub ok: u64,
    /// Attempts that failed (connection, timeout, error status).
    pub failed: u64,
    /// The last attempt's outcome: `None` before the first, else `Ok(())` or the error text.
    pub last: Option<Result<(), String>>,
    /// Unix seconds of the last attempt.
    pub last_at: Option<u64>,
}

/// A stream of upstream SSE payloads (`data:` contents, JSON parsed), ending before `[DONE]`.
pub type EventStream = BoxStream<'static, Result<Value, RelayError>>;

/// The upstream's answer.
pub enum Answer {
    /// A JSON body (non-streamed request).
    Json(Value),
    /// Server-sent events, passed on as they arrive.
    Stream(EventStream),
}

/// All upstreams and the models they offer.
#[derive(Default)]
pub struct Relay {
    upstreams: Vec<Upstream>,
    /// Public model id → (upstream index, upstream model name), in configuration order.
    models: BTreeMap<String, Vec<(usize, String)>>,
}

impl Relay {
    /// Builds the HTTP clients (reads API keys and certificates).
    ///
    /// # Errors
    /// [`RelayError::Setup`] naming the upstream.
    pub fn new(cfgs: &[UpstreamConfig]) -> Result<Relay, RelayError> {
        let mut relay = Relay::default();
        for (i, cfg) in cfgs.iter().enumerate() {
            relay.upstreams.push(Upstream::new(cfg)?);
            for m in &cfg.models {
                relay.models.entry(m.id.clone()).or_default().push((i, m.upstream_model.clone()));
            }
        }
        Ok(relay)
    }

    /// The relayed model with this public id.
    pub fn model(&self, id: &str) -> Option<RelayedModel> {
        let (idx, _) = self.models.get(id)?.first()?;
        Some(RelayedModel { id: id.to_string(), zone: self.upstreams[*idx].zone })
    }

    /// All relayed models in id order.
    pub fn models(&self) -> Vec<RelayedModel> {
        self.models.keys().filter_map(|id| self.model(id)).collect()
    }

    /// Per-upstream answer counts and the last outcome, in configuration order.
    pub fn health(&self) -> Vec<UpstreamHealth> {
        self.upstreams
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let models = self.models.iter().filter(|(_, v)| v.iter().any(|(idx, _)| *idx == i)).map(|(k, _)| k.clone()).collect();
                let (ok, failed, last, last_at) = u.health.snapshot();
                UpstreamHealth { id: u.id.clone(), zone: u.zone, origin: u.origin(), models, ok, failed, last, last_at }
            })
            .collect()
    }

    /// Forwards a cleared body to `model`'s upstream(s). `stream` requests SSE; the relay then
    /// asks the upstream for usage (`stream_options.include_usage`) whatever the client said.
    /// Retries connection errors, timeouts, 429 and 5xx (`max_retries` per upstream), then
    /// falls back to the model's next upstream of an equal or more trusted zone; all of this
    /// before anything reached the client.
    ///
    /// # Errors
    /// The last upstream's [`RelayError`].
    pub async fn send(&self, endpoint: Endpoint, model: &str, body: policy::Cleared<Value>, stream: bool) -> Result<Answer, RelayError> {
        let zone = body.zone();
        let mut body = body.into_inner();
        let candidates = self.models.get(model).ok_or(RelayError::Protocol)?;
        if let (true, Some(o)) = (stream, body.as_object_mut()) {
            o.insert("stream".into(), Value::Bool(true));
            let so = o.entry("stream_options").or_insert_with(|| Value::Object(Default::default()));
            if let Some(so) = so.as_object_mut() {
                so.insert("include_usage".into(), Value::Bool(true));
            }
        }
        let mut last = RelayError::Connect;
        for (idx, upstream_model) in candidates {
            let up = &self.upstreams[*idx];
            // Fallback never moves to a less trusted zone than the one the policy cleared.
            if up.zone.is_more_open_than(zone) {
                continue;
            }
            body["model"] = Value::String(upstream_model.clone());
            for attempt in 0..=up.max_retries {
                let outcome = up.post(endpoint.path(), &body, stream).await;
                up.health.note(outcome.as_ref().map(|_| ()));
                match outcome {
                    Ok(a) => return Ok(a),
                    Err(e) if e.retryable() => {
                        log::warn!("upstream {} attempt {} failed: {e}", up.id, attempt + 1);
                        if let RelayError::Status { retry_after: Some(s), .. } = &e {
                            tokio::time::sleep(Duration::from_secs((*s).min(5))).await;
                        }
                        last = e;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        Err(last)
    }
}
