//! The yellow/red path of the API: classify what the upstream would see, decide, and
//! forward through the relay (or block, or reroute to green), restoring pseudonyms in the
//! answer. Also `POST /v1/zonegate/classify`.

use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde_json::{json, Value};

use super::error::ApiError;
use super::json::ApiJson;
use super::AppState;
use crate::accounting::RequestRecord;
use crate::policy::{self, DataClass, Outcome, Pseudonyms, Restorer, Verdict};
use crate::relay::{Answer, Endpoint, RelayError, RelayedModel};
use crate::tls::PeerIdentity;

/// Header with which a client declares the data class of its request.
pub const DATA_CLASS_HEADER: &str = "x-data-class";
/// Response header naming the green model a request was rerouted to.
pub const REROUTED_HEADER: &str = "x-zonegate-rerouted-to";

/// The declared class: `X-Data-Class`, else `metadata.data_class`, else the configured default.
pub(crate) fn declared_class(headers: &HeaderMap, body: &Value, default: DataClass) -> Result<DataClass, ApiError> {
    if let Some(h) = headers.get(DATA_CLASS_HEADER) {
        let s = h.to_str().unwrap_or("");
        return s.trim().parse().map_err(|_| ApiError::invalid("X-Data-Class", format!("unknown data class {s:?}; expected public, internal, personal, confidential or social")));
    }
    match body.pointer("/metadata/data_class") {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(s)) => s.parse().map_err(|_| ApiError::invalid("metadata.data_class", format!("unknown data class {s:?}; expected public, internal, personal, confidential or social"))),
        Some(_) => Err(ApiError::invalid("metadata.data_class", "expected a string")),
    }
}

/// Runs the detectors off the async workers, bounded by `policy.detect_timeout_ms`; any
/// failure is an error (the caller forwards nothing).
async fn decide(st: &AppState, who: &PeerIdentity, model: &RelayedModel, declared: DataClass, body: Value) -> Result<Outcome, ApiError> {
    let (det, pol, zone, department) = (st.detector.clone(), st.policy.clone(), model.zone, who.department.clone());
    let timeout = Duration::from_millis(st.policy.detect_timeout_ms);
    let job = tokio::task::spawn_blocking(move || policy::check(&det, &pol, zone, declared, &department, body));
    let fail = |why: &str| {
        log::error!("classification failed ({why}); request not forwarded");
        ApiError { status: StatusCode::SERVICE_UNAVAILABLE, message: "the request could not be classified and was not forwarded".into(), kind: "server_error", param: None, code: Some("classification_failed"), retry_after: None }
    };
    match tokio::time::timeout(timeout, job).await {
        Err(_) => Err(fail("timeout")),
        Ok(Err(_)) => Err(fail("detector panicked")),
        Ok(Ok(Err(e))) => Err(fail(&e.to_string())),
        Ok(Ok(Ok(o))) => Ok(o),
    }
}

/// Prompt, completion and cached prompt tokens from an upstream's `usage` object
/// (OpenAI: `prompt_tokens`, `completion_tokens`, `prompt_tokens_details.cached_tokens`).
fn usage_of(u: &Value) -> (u64, u64, u64) {
    let n = |p: &str| u.pointer(p).and_then(Value::as_u64).unwrap_or(0);
    (n("/prompt_tokens"), n("/completion_tokens"), n("/prompt_tokens_details/cached_tokens"))
}

fn record(st: &AppState, who: &PeerIdentity, start: super::RequestStart, model: &str, v: &Verdict, upstream_status: Option<u16>, usage: (u64, u64, u64)) {
    st.accounting.record(RequestRecord {
        time: super::stream::unix_now(),
        user: who.user.clone(),
        department: who.department.clone(),
        model: model.to_string(),
        zone: if v.decision == policy::Decision::Reroute { policy::Zone::Green } else { v.zone },
        declared: Some(v.declared),
        detected: Some(v.detected),
        effective: Some(v.effective),
        categories: v.categories.clone(),
        decision: v.decision,
        upstream_status,
        prompt_tokens: usage.0,
        completion_tokens: usage.1,
        cached_tokens: usage.2,
        latency_ms: start.elapsed_ms(),
    });
}

/// The result of the gate for the handlers: forward, or a reroute they serve on green.
pub(crate) enum Relayed {
    /// The response is ready (forwarded or blocked).
    Done(Response),
    /// Serve on this green model instead (add [`REROUTED_HEADER`]).
    Reroute(String),
}

/// Classifies, decides and forwards one request to a relayed model.
pub(crate) async fn forward(st: &AppState, who: &PeerIdentity, start: super::RequestStart, headers: &HeaderMap, endpoint: Endpoint, model: RelayedModel, body: Value) -> Result<Relayed, ApiError> {
    let declared = declared_class(headers, &body, st.policy.default_class)?;
    let stream = body.get("stream").and_then(Value::as_bool).unwrap_or(false) && endpoint != Endpoint::Embeddings;
    let include_usage = body.pointer("/stream_options/include_usage").and_then(Value::as_bool).unwrap_or(false);
    let (cleared, pseudonyms, verdict) = match decide(st, who, &model, declared, body).await? {
        Outcome::Stop(v) if v.decision == policy::Decision::Reroute => {
            record(st, who, start, &model.id, &v, None, (0, 0, 0));
            return Ok(Relayed::Reroute(v.reroute_model.clone().unwrap_or_default()));
        }
        Outcome::Stop(v) => {
            record(st, who, start, &model.id, &v, None, (0, 0, 0));
            return Err(ApiError { status: StatusCode::FORBIDDEN, message: v.block_message(), kind: "invalid_request_error", param: None, code: Some("data_class_not_allowed"), retry_after: None });
        }
        Outcome::Forward(c, p, v) => (c, p, v),
    };
    match st.relay.send(endpoint, &model.id, cleared, stream).await {
        Err(e) => {
            record(st, who, start, &model.id, &verdict, relay_status(&e), (0, 0, 0));
            Err(ApiError::from_relay(&e))
        }
        Ok(Answer::Json(mut v)) => {
            if let Some(p) = &pseudonyms {
                restore_json(&mut v, p);
            }
            let usage = v.get("usage").map(usage_of).unwrap_or_default();
            record(st, who, start, &model.id, &verdict, Some(200), usage);
            Ok(Relayed::Done(axum::Json(v).into_response()))
        }
        Ok(Answer::Stream(events)) => Ok(Relayed::Done(pass_stream(Audit { st: st.clone(), who: who.clone(), start, model: model.id, verdict }, events, pseudonyms, include_usage))),
    }
}

fn relay_status(e: &RelayError) -> Option<u16> {
    match e {
        RelayError::Status { status, .. } => Some(*status),
        _ => None,
    }
}

/// Restores placeholders in a non-streamed answer (message content, tool-call arguments, text).
fn restore_json(v: &mut Value, p: &Pseudonyms) {
    for choice in v.get_mut("choices").and_then(Value::as_array_mut).into_iter().flatten() {
        for ptr in ["/message/content", "/text"] {
            if let Some(Value::String(s)) = choice.pointer_mut(ptr) {
                *s = p.restore(s);
            }
        }
        for tc in choice.pointer_mut("/message/tool_calls").and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(Value::String(s)) = tc.pointer_mut("/function/arguments") {
                *s = p.restore(s);
            }
        }
    }
}

/// Per-stream state: a restorer per (choice, field) and the upstream's usage.
struct PassState {
    restorers: std::collections::HashMap<(u64, String), Restorer>,
    pseudonyms: Option<Pseudonyms>,
    usage: (u64, u64, u64),
    recorded: bool,
}

impl PassState {
    fn restore(&mut self, choice: u64, field: &str, s: &mut String, finishing: bool) {
        let Some(p) = &self.pseudonyms else { return };
        let r = self.restorers.entry((choice, field.to_string())).or_insert_with(|| p.restorer());
        let mut out = r.push(s);
        if finishing {
            out.push_str(&r.finish());
        }
        *s = out;
    }

    /// Rewrites one upstream chunk for the client; `None` drops it.
    fn chunk(&mut self, mut v: Value, include_usage: bool) -> Option<Value> {
        if let Some(u) = v.get("usage").filter(|u| !u.is_null()) {
            self.usage = usage_of(u);
        }
        let is_usage_chunk = v.get("choices").and_then(Value::as_array).is_some_and(Vec::is_empty) && v.get("usage").is_some_and(|u| !u.is_null());
        if is_usage_chunk && !include_usage {
            return None;
        }
        if !include_usage {
            if let Some(o) = v.as_object_mut() {
                o.remove("usage");
            }
        }
        for choice in v.get_mut("choices").and_then(Value::as_array_mut).into_iter().flatten() {
            let idx = choice["index"].as_u64().unwrap_or(0);
            let finishing = !choice["finish_reason"].is_null();
            for (ptr, field) in [("/delta/content", "content"), ("/text", "text")] {
                if let Some(Value::String(s)) = choice.pointer_mut(ptr) {
                    self.restore(idx, field, s, finishing);
                }
            }
            for tc in choice.pointer_mut("/delta/tool_calls").and_then(Value::as_array_mut).into_iter().flatten() {
                let field = format!("tool{}", tc["index"].as_u64().unwrap_or(0));
                if let Some(Value::String(s)) = tc.pointer_mut("/function/arguments") {
                    self.restore(idx, &field, s, finishing);
                }
            }
        }
        Some(v)
    }
}

/// Passes upstream events on as they arrive; ends with `[DONE]`, after an error event if the
/// upstream failed mid-stream.
/// What the audit record of a relayed stream needs besides the outcome.
#[derive(Clone)]
struct Audit {
    st: AppState,
    who: PeerIdentity,
    start: super::RequestStart,
    model: String,
    verdict: Verdict,
}

impl Audit {
    fn record(&self, upstream_status: Option<u16>, usage: (u64, u64, u64)) {
        record(&self.st, &self.who, self.start, &self.model, &self.verdict, upstream_status, usage);
    }
}

fn pass_stream(audit: Audit, events: crate::relay::EventStream, pseudonyms: Option<Pseudonyms>, include_usage: bool) -> Response {
    let state = PassState { restorers: Default::default(), pseudonyms, usage: (0, 0, 0), recorded: false };
    let body = futures::stream::unfold((events, state, false), move |(mut events, mut state, done)| {
        let audit = audit.clone();
        async move {
            if done {
                return None;
            }
            loop {
                match events.next().await {
                    Some(Ok(v)) => {
                        if let Some(out) = state.chunk(v, include_usage) {
                            return Some((Ok::<Event, std::convert::Infallible>(Event::default().data(out.to_string())), (events, state, false)));
                        }
                    }
                    Some(Err(e)) => {
                        audit.record(relay_status(&e).or(Some(502)), state.usage);
                        state.recorded = true;
                        let err = ApiError::from_relay(&e).body();
                        let ev = Event::default().data(err.to_string());
                        // One error event; the [DONE] marker follows from the next poll.
                        let ended = futures::stream::empty().boxed();
                        return Some((Ok(ev), (ended, state, false)));
                    }
                    None => {
                        if !state.recorded {
                            audit.record(Some(200), state.usage);
                        }
                        return Some((Ok(Event::default().data("[DONE]")), (events, state, true)));
                    }
                }
            }
        }
    });
    let mut resp = Sse::new(body).into_response();
    let h = resp.headers_mut();
    h.insert(axum::http::header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

/// `POST /v1/zonegate/classify` body: `{"input": "...", "declared_class": "internal"}`.
#[derive(Debug, serde::Deserialize)]
pub(crate) struct ClassifyRequest {
    input: String,
    #[serde(default)]
    declared_class: Option<DataClass>,
}

/// `POST /v1/zonegate/classify`: findings (category, byte start/end, detector), detected and
/// effective class, and the zones the text may go to under the configured policy.
pub(crate) async fn classify(State(st): State<AppState>, _who: PeerIdentity, ApiJson(req): ApiJson<ClassifyRequest>) -> Result<Response, ApiError> {
    let det = st.detector.clone();
    let input = req.input;
    let declared = req.declared_class;
    let c = tokio::task::spawn_blocking(move || det.classify(&input, declared))
        .await
        .map_err(|_| ApiError::internal())?
        .map_err(|e| ApiError::invalid("input", e.to_string()))?;
    let allowed: Vec<&str> = policy::Zone::ALL.into_iter().filter(|z| c.effective_class <= st.policy.max_class(*z)).map(|z| z.as_str()).collect();
    let findings: Vec<Value> = c.findings.iter().map(|f| json!({"category": f.category.as_str(), "start": f.start, "end": f.end, "detector": f.detector})).collect();
    Ok(axum::Json(json!({
        "object": "zonegate.classification",
        "detected_class": c.detected_class.as_str(),
        "effective_class": c.effective_class.as_str(),
        "allowed_zones": allowed,
        "findings": findings,
    }))
    .into_response())
}
