//! One upstream: its reqwest client and the POST with the three timeouts.

use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use super::{Answer, RelayError};
use crate::config::UpstreamConfig;
use crate::policy::Zone;

/// (answered, failed, last outcome, Unix seconds of the last attempt).
pub(super) type HealthSnapshot = (u64, u64, Option<Result<(), String>>, Option<u64>);

/// Outcome counts of one upstream (see [`super::UpstreamHealth`]).
#[derive(Default)]
pub(super) struct Health {
    inner: std::sync::Mutex<HealthSnapshot>,
}

impl Health {
    pub(super) fn note(&self, outcome: Result<(), &RelayError>) {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let mut h = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match outcome {
            Ok(()) => h.0 += 1,
            Err(_) => h.1 += 1,
        }
        h.2 = Some(outcome.map_err(ToString::to_string));
        h.3 = Some(now);
    }

    pub(super) fn snapshot(&self) -> HealthSnapshot {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

pub(super) struct Upstream {
    pub health: Health,
    pub id: String,
    pub zone: Zone,
    pub max_retries: u32,
    base: String,
    api_key: Option<String>,
    client: reqwest::Client,
    first_byte: Duration,
    total: Duration,
}

impl Upstream {
    pub(super) fn new(cfg: &UpstreamConfig) -> Result<Upstream, RelayError> {
        let setup = |reason: String| RelayError::Setup { id: cfg.id.clone(), reason };
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .connect_timeout(Duration::from_millis(cfg.connect_timeout_ms))
            .timeout(Duration::from_millis(cfg.total_timeout_ms))
            .pool_idle_timeout(Duration::from_secs(60));
        if let Some(ca) = &cfg.ca_bundle {
            let pem = std::fs::read(ca).map_err(|e| setup(format!("{}: {e}", ca.display())))?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| setup(format!("{}: {e}", ca.display())))?;
            b = b.tls_built_in_root_certs(false);
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        if let (Some(cert), Some(key)) = (&cfg.client_cert, &cfg.client_key) {
            let mut pem = std::fs::read(cert).map_err(|e| setup(format!("{}: {e}", cert.display())))?;
            pem.extend(std::fs::read(key).map_err(|e| setup(format!("{}: {e}", key.display())))?);
            b = b.identity(reqwest::Identity::from_pem(&pem).map_err(|e| setup(format!("client certificate: {e}")))?);
        }
        let client = b.build().map_err(|e| setup(e.to_string()))?;
        Ok(Upstream {
            health: Health::default(),
            id: cfg.id.clone(),
            zone: cfg.zone,
            max_retries: cfg.max_retries,
            base: cfg.base_url.trim_end_matches('/').to_string(),
            api_key: cfg.api_key().map_err(setup)?,
            client,
            first_byte: Duration::from_millis(cfg.first_byte_timeout_ms),
            total: Duration::from_millis(cfg.total_timeout_ms),
        })
    }

    /// Scheme, host and port of the base URL.
    pub(super) fn origin(&self) -> String {
        url::Url::parse(&self.base).map(|u| u.origin().ascii_serialization()).unwrap_or_else(|_| "?".into())
    }

    pub(super) async fn post(&self, path: &str, body: &Value, stream: bool) -> Result<Answer, RelayError> {
        let mut req = self.client.post(format!("{}/{path}", self.base)).json(body);
        if let Some(k) = &self.api_key {
            req = req.bearer_auth(k);
        }
        if stream {
            req = req.header(reqwest::header::ACCEPT, "text/event-stream");
        }
        let resp = match tokio::time::timeout(self.first_byte, req.send()).await {
            Err(_) => return Err(RelayError::Timeout),
            Ok(Err(e)) if e.is_timeout() => return Err(RelayError::Timeout),
            Ok(Err(_)) => return Err(RelayError::Connect),
            Ok(Ok(r)) => r,
        };
        let status = resp.status();
        if !status.is_success() {
            let retry_after = resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            let code = body.pointer("/error/code").and_then(Value::as_str).map(str::to_string);
            return Err(RelayError::Status { status: status.as_u16(), retry_after, code });
        }
        if !stream {
            return resp.json::<Value>().await.map(Answer::Json).map_err(|e| if e.is_timeout() { RelayError::Timeout } else { RelayError::Protocol });
        }
        let deadline = tokio::time::Instant::now() + self.total;
        let events = eventsource_stream::EventStream::new(resp.bytes_stream());
        let s = futures::stream::unfold((events, false), move |(mut events, done)| async move {
            if done {
                return None;
            }
            match tokio::time::timeout_at(deadline, events.next()).await {
                Err(_) => Some((Err(RelayError::Timeout), (events, true))),
                // A stream that ends without [DONE] was cut off.
                Ok(None) => Some((Err(RelayError::Protocol), (events, true))),
                Ok(Some(Err(_))) => Some((Err(RelayError::Connect), (events, true))),
                Ok(Some(Ok(ev))) if ev.data.trim() == "[DONE]" => None,
                Ok(Some(Ok(ev))) => match serde_json::from_str::<Value>(&ev.data) {
                    Ok(v) if v.get("error").is_some() => Some((Err(RelayError::Status { status: 502, retry_after: None, code: None }), (events, true))),
                    Ok(v) => Some((Ok(v), (events, false))),
                    Err(_) => Some((Err(RelayError::Protocol), (events, true))),
                },
            }
        });
        Ok(Answer::Stream(s.boxed()))
    }
}
