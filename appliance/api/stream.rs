//! Driving one or more generations to the client: server-sent events exactly as OpenAI
//! sends them (`data: {json}\n\n` chunks, the optional usage chunk, `data: [DONE]`), or one
//! collected result. Dropping the response (client gone) drops the generations, which
//! cancels their sequences in the engine.

use std::collections::VecDeque;
use std::convert::Infallible;

use axum::http::{header, HeaderValue};
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, SelectAll, StreamExt};
use serde_json::Value;
use tokio_stream::wrappers::UnboundedReceiverStream;

use super::error::ApiError;
use super::types::Usage;
use crate::engine::{FinishReason, GenEvent, Generation, TokenLogprob};

/// Shapes the chunks of one endpoint (chat or legacy completions). Methods return the JSON
/// chunks to send, possibly none (e.g. while a tool call is being buffered).
pub(crate) trait ChunkFormat: Send + 'static {
    /// Chunks before any text of choice `index` (chat: the `role` delta).
    fn start(&mut self, index: u32) -> Vec<Value>;
    /// New text of choice `index`.
    fn delta(&mut self, index: u32, text: String, logprobs: Vec<TokenLogprob>) -> Vec<Value>;
    /// The last chunk(s) of choice `index`, the final one carrying `finish_reason`.
    fn finish(&mut self, index: u32, reason: FinishReason) -> Vec<Value>;
    /// The usage chunk (`choices: []`).
    fn usage(&self, usage: Usage) -> Value;
}

type Merged = SelectAll<stream::BoxStream<'static, (u32, GenEvent)>>;

fn merge(gens: Vec<Generation>) -> Merged {
    stream::select_all(gens.into_iter().enumerate().map(|(i, g)| {
        let i = i as u32;
        UnboundedReceiverStream::new(g.events).map(move |e| (i, e)).boxed()
    }))
}

/// What one choice produced, for non-streaming responses.
#[derive(Debug, Default)]
pub(crate) struct Collected {
    pub text: String,
    pub logprobs: Vec<TokenLogprob>,
    pub reason: Option<FinishReason>,
    pub completion_tokens: u32,
    pub cached_tokens: u32,
}

/// Waits for all generations; returns one [`Collected`] per generation, in order.
pub(crate) async fn collect(gens: Vec<Generation>) -> Result<Vec<Collected>, ApiError> {
    let mut out: Vec<Collected> = (0..gens.len()).map(|_| Collected::default()).collect();
    let mut merged = merge(gens);
    while let Some((i, ev)) = merged.next().await {
        let c = &mut out[i as usize];
        match ev {
            GenEvent::Delta { text, logprobs } => {
                c.text.push_str(&text);
                c.logprobs.extend(logprobs);
            }
            GenEvent::Finished { reason, completion_tokens, cached_tokens } => {
                c.reason = Some(reason);
                c.completion_tokens = completion_tokens;
                c.cached_tokens = cached_tokens;
            }
            GenEvent::Failed(e) => return Err(ApiError::from_engine(e, "messages", 1)),
        }
    }
    if out.iter().any(|c| c.reason.is_none()) {
        return Err(ApiError::from_engine(crate::engine::EngineError::WorkerGone, "messages", 1));
    }
    Ok(out)
}

/// Called once with the request's usage when a stream completes normally.
pub(crate) type OnDone = Box<dyn FnOnce(Usage) + Send>;

struct State<F> {
    on_done: Option<OnDone>,
    merged: Merged,
    fmt: F,
    pending: VecDeque<Event>,
    include_usage: bool,
    prompt_tokens: u32,
    completion_tokens: u32,
    cached_tokens: u32,
    done: bool,
}

fn event(v: &Value) -> Event {
    Event::default().data(v.to_string())
}

/// Streams the generations as SSE. `prompt_tokens` is the request's prompt usage.
pub(crate) fn sse<F: ChunkFormat>(gens: Vec<Generation>, prompt_tokens: u32, include_usage: bool, mut fmt: F, on_done: OnDone) -> Response {
    let mut pending = VecDeque::new();
    for i in 0..gens.len() as u32 {
        pending.extend(fmt.start(i).iter().map(event));
    }
    let state = State { on_done: Some(on_done), merged: merge(gens), fmt, pending, include_usage, prompt_tokens, completion_tokens: 0, cached_tokens: 0, done: false };
    let body = stream::unfold(state, |mut st| async move {
        loop {
            if let Some(e) = st.pending.pop_front() {
                return Some((Ok::<Event, Infallible>(e), st));
            }
            if st.done {
                return None;
            }
            match st.merged.next().await {
                Some((i, GenEvent::Delta { text, logprobs })) => {
                    let chunks = st.fmt.delta(i, text, logprobs);
                    st.pending.extend(chunks.iter().map(event));
                }
                Some((i, GenEvent::Finished { reason, completion_tokens, cached_tokens })) => {
                    st.completion_tokens += completion_tokens;
                    st.cached_tokens += cached_tokens;
                    let chunks = st.fmt.finish(i, reason);
                    st.pending.extend(chunks.iter().map(event));
                }
                Some((_, GenEvent::Failed(e))) => {
                    // In-stream failure: an error event, then the end marker; never a
                    // chunk that looks like a normal finish.
                    let err = ApiError::from_engine(e, "messages", 1);
                    st.pending.push_back(event(&err.body()));
                    st.pending.push_back(Event::default().data("[DONE]"));
                    st.done = true;
                }
                None => {
                    let usage = Usage::new(st.prompt_tokens, st.completion_tokens).with_cached(st.cached_tokens);
                    if let Some(f) = st.on_done.take() {
                        f(usage);
                    }
                    if st.include_usage {
                        st.pending.push_back(event(&st.fmt.usage(usage)));
                    }
                    st.pending.push_back(Event::default().data("[DONE]"));
                    st.done = true;
                }
            }
        }
    });
    let mut resp = Sse::new(body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    resp
}

/// A response id: `prefix` + 24 random alphanumerics (e.g. `chatcmpl-…`).
pub(crate) fn new_id(prefix: &str) -> String {
    use rand::distr::{Alphanumeric, SampleString};
    format!("{prefix}{}", Alphanumeric.sample_string(&mut rand::rng(), 24))
}

/// Current Unix time in seconds (OpenAI `created`).
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Chat-shaped log-probabilities of tokens (`logprobs.content[]`).
pub(crate) fn chat_logprobs(lps: &[TokenLogprob]) -> Value {
    let content: Vec<Value> = lps
        .iter()
        .map(|lp| {
            let top: Vec<Value> = lp.top.iter().map(|(t, b, l)| serde_json::json!({"token": t, "logprob": l, "bytes": b})).collect();
            serde_json::json!({"token": lp.token, "logprob": lp.logprob, "bytes": lp.bytes, "top_logprobs": top})
        })
        .collect();
    serde_json::json!({"content": content, "refusal": null})
}

/// One streamed chunk of `object` (`chat.completion.chunk` or `text_completion`) with a
/// single choice; `usage: null` is present exactly when the client asked for usage.
pub(crate) fn chunk_envelope(id: &str, object: &str, created: u64, model: &str, choice: Value, include_usage: bool) -> Value {
    let mut c = serde_json::json!({
        "id": id, "object": object, "created": created, "model": model,
        "system_fingerprint": super::fingerprint(), "choices": [choice],
    });
    if include_usage {
        c["usage"] = Value::Null;
    }
    c
}
