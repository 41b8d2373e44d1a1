//! A recording OpenAI-compatible upstream for the relay tests: plain HTTP on loopback,
//! records every request body it receives, and answers by echoing the last user message —
//! streamed in small pieces, spaced in time, so that placeholders split across chunks and
//! buffering would show.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

pub const API_KEY: &str = "test-upstream-key";
/// Pause between streamed chunks.
pub const GAP: Duration = Duration::from_millis(150);
/// Text that makes the upstream cut its stream after two chunks.
pub const CUT_STREAM: &str = "please-cut-the-stream";

#[derive(Clone, Default)]
pub struct Upstream {
    pub addr: Option<SocketAddr>,
    pub bodies: Arc<Mutex<Vec<Value>>>,
}

impl Upstream {
    pub async fn start() -> Upstream {
        let mut up = Upstream::default();
        let app = Router::new()
            .route("/v1/chat/completions", post(chat))
            .route("/v1/completions", post(chat))
            .route("/v1/embeddings", post(embeddings))
            .with_state(up.clone());
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        up.addr = Some(l.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(l, app).await });
        up
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr.unwrap())
    }

    pub fn received(&self) -> Vec<Value> {
        self.bodies.lock().unwrap().clone()
    }

    /// `[[upstreams]]` TOML for this upstream in `zone`, offering `model` as `upstream-model`.
    pub fn config(&self, id: &str, zone: &str, model: &str, key_file: &std::path::Path) -> String {
        std::fs::write(key_file, format!("{API_KEY}\n")).unwrap();
        format!(
            "\n[[upstreams]]\nid = \"{id}\"\nzone = \"{zone}\"\nbase_url = \"{}\"\napi_key_file = \"{}\"\nmax_retries = 0\nfirst_byte_timeout_ms = 10000\n[[upstreams.models]]\nid = \"{model}\"\nupstream_model = \"upstream-model\"\n",
            self.base_url(),
            key_file.display()
        )
    }
}

fn last_text(body: &Value) -> String {
    if let Some(p) = body.get("prompt").and_then(Value::as_str) {
        return p.to_string();
    }
    let msgs = body["messages"].as_array().cloned().unwrap_or_default();
    let last = msgs.iter().rev().find(|m| m["role"] == "user").cloned().unwrap_or_default();
    match &last["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p["text"].as_str()).collect::<Vec<_>>().join("\n"),
        _ => String::new(),
    }
}

async fn chat(State(up): State<Upstream>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(&format!("Bearer {API_KEY}")) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": {"message": "bad key", "type": "auth", "param": null, "code": "invalid_api_key"}}))).into_response();
    }
    up.bodies.lock().unwrap().push(body.clone());
    let answer = format!("ECHO: {}", last_text(&body));
    let usage = json!({"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18, "prompt_tokens_details": {"cached_tokens": 4}});
    if !body["stream"].as_bool().unwrap_or(false) {
        return Json(json!({"id": "up-1", "object": "chat.completion", "created": 1, "model": "upstream-model", "system_fingerprint": "fp_upstream",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "logprobs": null, "finish_reason": "stop"}], "usage": usage}))
        .into_response();
    }
    let with_usage = body.pointer("/stream_options/include_usage").and_then(Value::as_bool).unwrap_or(false);
    let cut = answer.contains(CUT_STREAM);
    let pieces: Vec<String> = answer.chars().collect::<Vec<_>>().chunks(4).map(|c| c.iter().collect()).collect();
    let chunk = |delta: Value, finish: Value| {
        let mut c = json!({"id": "up-1", "object": "chat.completion.chunk", "created": 1, "model": "upstream-model", "system_fingerprint": "fp_upstream",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]});
        if with_usage {
            c["usage"] = Value::Null;
        }
        c
    };
    let mut events: Vec<Value> = vec![chunk(json!({"role": "assistant", "content": ""}), Value::Null)];
    events.extend(pieces.iter().map(|p| chunk(json!({"content": p}), Value::Null)));
    events.push(chunk(json!({}), json!("stop")));
    if with_usage {
        events.push(json!({"id": "up-1", "object": "chat.completion.chunk", "created": 1, "model": "upstream-model", "choices": [], "usage": usage}));
    }
    let stream = futures::stream::unfold((events, 0usize), move |(events, i)| async move {
        if i > 0 {
            tokio::time::sleep(GAP).await;
        }
        if cut && i == 2 {
            return None; // connection ends without [DONE]
        }
        if i < events.len() {
            Some((Ok::<_, std::convert::Infallible>(Event::default().data(events[i].to_string())), (events, i + 1)))
        } else if i == events.len() {
            Some((Ok(Event::default().data("[DONE]")), (events, i + 1)))
        } else {
            None
        }
    });
    Sse::new(stream).into_response()
}

async fn embeddings(State(up): State<Upstream>, Json(body): Json<Value>) -> Response {
    up.bodies.lock().unwrap().push(body.clone());
    Json(json!({"object": "list", "model": "upstream-model", "data": [{"object": "embedding", "index": 0, "embedding": [0.6, 0.8]}], "usage": {"prompt_tokens": 3, "total_tokens": 3}})).into_response()
}
