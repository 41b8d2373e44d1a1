//! `POST /v1/chat/completions`: validation into [`ValidChatRequest`], the green-model path
//! through the engine, and the chat chunk format (OpenAI `chat.completion(.chunk)`).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::error::ApiError;
use super::json::ApiJson;
use super::stream::{self, ChunkFormat};
use super::tools::{self, ToolMode};
use super::types::{ChatCompletionRequest, Content, Usage};
use super::relayed::{self, Relayed};
use super::{params, AppState};
use crate::relay::Endpoint;
use crate::engine::{ChatTurn, FinishReason, SamplingParams, TokenLogprob, JSON_OBJECT_GRAMMAR};
use crate::tls::PeerIdentity;

/// A chat request that passed validation; only this module can build one.
#[derive(Debug)]
pub struct ValidChatRequest {
    /// Public model id.
    pub model: String,
    /// Flattened messages (content parts joined, tools described in the system turn).
    pub turns: Vec<ChatTurn>,
    /// Sampling parameters (grammar set from `response_format` or forced tools).
    pub params: SamplingParams,
    /// Choices to generate.
    pub n: u32,
    /// Stream as SSE.
    pub stream: bool,
    /// Send the usage chunk.
    pub include_usage: bool,
    /// How tools are used.
    pub(crate) tool_mode: ToolMode,
    _private: (),
}

/// Joins a message's content into one string (all text parts count, in order).
fn flatten(content: &Option<Content>, i: usize) -> Result<String, ApiError> {
    Ok(match content {
        None => String::new(),
        Some(Content::Text(s)) => s.clone(),
        Some(Content::Parts(parts)) => {
            let mut out = Vec::with_capacity(parts.len());
            for (j, p) in parts.iter().enumerate() {
                match (p.kind.as_str(), &p.text) {
                    ("text" | "input_text", Some(t)) => out.push(t.as_str()),
                    ("text" | "input_text", None) => return Err(ApiError::invalid(format!("messages[{i}].content[{j}].text"), "a text part needs 'text'")),
                    (other, _) => {
                        return Err(ApiError::invalid(format!("messages[{i}].content[{j}].type"), format!("content part type {other:?} is not supported by this model; use \"text\"")))
                    }
                }
            }
            out.join("\n")
        }
    })
}

/// Validates a chat request against the API reference and this server's limits.
///
/// # Errors
/// A 400 [`ApiError`] naming the first invalid parameter.
pub fn validate(req: ChatCompletionRequest, cap: u32) -> Result<ValidChatRequest, ApiError> {
    if req.messages.is_empty() {
        return Err(ApiError::invalid("messages", "'messages' must contain at least one message"));
    }
    let (tool_mode, tool_prompt, tool_schema) = tools::prepare(req.tools.as_deref(), req.tool_choice.as_ref())?;
    let mut turns = Vec::with_capacity(req.messages.len() + 1);
    for (i, m) in req.messages.iter().enumerate() {
        if !matches!(m.role.as_str(), "system" | "developer" | "user" | "assistant" | "tool") {
            return Err(ApiError::invalid(format!("messages[{i}].role"), format!("unknown role {:?}; expected system, developer, user, assistant or tool", m.role)));
        }
        let mut content = flatten(&m.content, i)?;
        if let Some(calls) = m.tool_calls.as_deref().filter(|c| !c.is_empty()) {
            if !content.is_empty() {
                content.push('\n');
            }
            content.push_str(&tools::render_calls(calls));
        }
        turns.push(ChatTurn { role: m.role.clone(), content });
    }
    if let Some(tp) = tool_prompt {
        match turns.first_mut() {
            Some(t) if t.role == "system" || t.role == "developer" => t.content = format!("{}\n\n{tp}", t.content),
            _ => turns.insert(0, ChatTurn { role: "system".into(), content: tp }),
        }
    }
    let (mut params, n) = params::validate(&sampling_fields(&req), cap, cap)?;
    params.logprobs = match (req.logprobs.unwrap_or(false), req.top_logprobs) {
        (false, None) => None,
        (false, Some(_)) => return Err(ApiError::invalid("top_logprobs", "'top_logprobs' requires 'logprobs' to be true")),
        (true, None) => Some(0),
        (true, Some(k)) if (0..=20).contains(&k) => Some(k as u8),
        (true, Some(k)) => return Err(ApiError::invalid("top_logprobs", format!("{k} is not a valid value for 'top_logprobs': expected 0 to 20"))),
    };
    params.ignore_eos = req.ignore_eos.unwrap_or(false);
    params.grammar = response_format_grammar(req.response_format.as_ref())?;
    if let Some(schema) = tool_schema {
        params.grammar = Some(crate::engine::json_schema_grammar(&schema).map_err(|e| ApiError::invalid("tools", format!("the tools' parameter schemas cannot be enforced: {e}")))?);
    }
    let stream = req.stream.unwrap_or(false);
    if req.stream_options.is_some() && !stream {
        return Err(ApiError::invalid("stream_options", "'stream_options' is only allowed when 'stream' is true"));
    }
    let include_usage = req.stream_options.as_ref().is_some_and(|o| o.include_usage);
    Ok(ValidChatRequest { model: req.model, turns, params, n, stream, include_usage, tool_mode, _private: () })
}

/// The grammar for `response_format` (`text`: none; `json_object`; `json_schema`).
fn response_format_grammar(rf: Option<&Value>) -> Result<Option<String>, ApiError> {
    let Some(rf) = rf else { return Ok(None) };
    match rf.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(JSON_OBJECT_GRAMMAR.to_string())),
        Some("json_schema") => {
            let schema = rf.pointer("/json_schema/schema").ok_or_else(|| ApiError::invalid("response_format.json_schema.schema", "'json_schema' needs a 'schema' object"))?;
            crate::engine::json_schema_grammar(schema).map(Some).map_err(|e| ApiError::invalid("response_format.json_schema.schema", format!("this JSON Schema cannot be enforced: {e}")))
        }
        Some(other) => Err(ApiError::invalid("response_format", format!("unknown response_format type {other:?}; expected \"text\", \"json_object\" or \"json_schema\""))),
        None => Err(ApiError::invalid("response_format", "'response_format' needs a 'type'")),
    }
}

/// The handler: relayed models go through the policy gate, green ones to the engine.
pub(crate) async fn chat_completions(State(st): State<AppState>, who: PeerIdentity, start: super::RequestStart, headers: HeaderMap, ApiJson(raw): ApiJson<Value>) -> Result<Response, ApiError> {
    let req: ChatCompletionRequest = super::json::from_value(&raw)?;
    let cap = st.limits.max_tokens_cap;
    let relayed_model = st.relay.model(&req.model);
    super::check_budget(&st, &who, relayed_model.as_ref().map_or(crate::policy::Zone::Green, |m| m.zone))?;
    if let Some(m) = relayed_model {
        validate_relayed(&req, cap)?;
        return match relayed::forward(&st, &who, start, &headers, Endpoint::ChatCompletions, m, raw).await? {
            Relayed::Done(r) => Ok(r),
            Relayed::Reroute(green) => {
                let mut req = req;
                req.model = green.clone();
                let mut resp = green_chat(&st, &who, start, validate(req, cap)?).await?;
                if let Ok(v) = HeaderValue::from_str(&green) {
                    resp.headers_mut().insert(relayed::REROUTED_HEADER, v);
                }
                Ok(resp)
            }
        };
    }
    green_chat(&st, &who, start, validate(req, cap)?).await
}

/// The parameter checks that also apply to relayed requests (400 before anything is sent).
fn validate_relayed(req: &ChatCompletionRequest, cap: u32) -> Result<(), ApiError> {
    if req.messages.is_empty() {
        return Err(ApiError::invalid("messages", "'messages' must contain at least one message"));
    }
    let mut raw = sampling_fields(req);
    // Token limits are the upstream's business; this box's cap is for green models.
    raw.max_tokens.clear();
    params::validate(&raw, cap, cap).map(|_| ())
}

/// The sampling fields of a chat request, for [`params::validate`].
fn sampling_fields(req: &ChatCompletionRequest) -> params::Raw<'_> {
    let mut max_tokens = Vec::new();
    if let Some(v) = req.max_tokens {
        max_tokens.push(("max_tokens", v));
    }
    if let Some(v) = req.max_completion_tokens {
        max_tokens.push(("max_completion_tokens", v));
    }
    params::Raw {
        temperature: req.temperature,
        top_p: req.top_p,
        top_k: req.top_k,
        min_p: req.min_p,
        seed: req.seed,
        stop: req.stop.as_ref(),
        presence_penalty: req.presence_penalty,
        frequency_penalty: req.frequency_penalty,
        n: req.n,
        max_tokens,
    }
}

/// Serves a validated chat request on a green model.
async fn green_chat(st: &AppState, who: &PeerIdentity, start: super::RequestStart, valid: ValidChatRequest) -> Result<Response, ApiError> {
    let generator = st.engine.generator(&valid.model).map_err(|e| ApiError::from_engine(e, "messages", st.limits.retry_after))?;
    let prompt = generator.chat_prompt(&valid.turns).map_err(|e| ApiError::from_engine(e, "messages", st.limits.retry_after))?;
    let tokens = generator.tokenize(&prompt, true);
    let mut gens = Vec::with_capacity(valid.n as usize);
    for i in 0..valid.n {
        let mut p = valid.params.clone();
        p.seed = p.seed.map(|s| s.wrapping_add(i));
        p.cache_scope = super::cache_scope(who, generator.info().prefix_cache, i);
        gens.push(generator.submit(tokens.clone(), p).map_err(|e| ApiError::from_engine(e, "messages", st.limits.retry_after))?);
    }
    let prompt_tokens = gens.first().map(|g| g.prompt_tokens).unwrap_or(0);
    let fmt = ChatFormat::new(&valid);
    if valid.stream {
        return Ok(stream::sse(gens, prompt_tokens, valid.include_usage, fmt, super::on_done_green(st, who, start, &valid.model)));
    }
    let done = stream::collect(gens).await?;
    let completion_tokens = done.iter().map(|c| c.completion_tokens).sum();
    let usage = Usage::new(prompt_tokens, completion_tokens).with_cached(done.iter().map(|c| c.cached_tokens).sum());
    super::record_green(st, who, start, &valid.model, usage);
    let choices: Vec<Value> = done
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let lp = valid.params.logprobs.map(|_| stream::chat_logprobs(&c.logprobs));
            let reason = c.reason.unwrap_or(FinishReason::Stop);
            match tools::parse_calls(&valid.tool_mode, &c.text) {
                Some(calls) => json!({"index": i, "message": {"role": "assistant", "content": null, "tool_calls": calls, "refusal": null}, "logprobs": lp, "finish_reason": "tool_calls"}),
                None => json!({"index": i, "message": {"role": "assistant", "content": c.text, "refusal": null}, "logprobs": lp, "finish_reason": finish_str(reason)}),
            }
        })
        .collect();
    let body = json!({
        "id": fmt.id, "object": "chat.completion", "created": fmt.created, "model": fmt.model,
        "system_fingerprint": super::fingerprint(),
        "choices": choices, "usage": usage,
    });
    Ok(axum::Json(body).into_response())
}

/// OpenAI's `finish_reason` string.
pub(crate) fn finish_str(r: FinishReason) -> &'static str {
    match r {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
    }
}

/// Per-choice streaming state: text is held back while it may still become a tool call.
#[derive(Default)]
struct ChoiceBuf {
    held: String,
    held_lp: Vec<TokenLogprob>,
    passthrough: bool,
}

pub(crate) struct ChatFormat {
    id: String,
    created: u64,
    model: String,
    include_usage: bool,
    logprobs: bool,
    tool_mode: ToolMode,
    bufs: Vec<ChoiceBuf>,
}

impl ChatFormat {
    fn new(v: &ValidChatRequest) -> Self {
        Self {
            id: stream::new_id("chatcmpl-"),
            created: stream::unix_now(),
            model: v.model.clone(),
            include_usage: v.include_usage,
            logprobs: v.params.logprobs.is_some(),
            tool_mode: v.tool_mode.clone(),
            bufs: (0..v.n).map(|_| ChoiceBuf { passthrough: v.tool_mode == ToolMode::Off, ..ChoiceBuf::default() }).collect(),
        }
    }

    fn chunk(&self, index: u32, delta: Value, logprobs: Option<&[TokenLogprob]>, finish: Option<&str>) -> Value {
        let lp = if self.logprobs { logprobs.map(stream::chat_logprobs) } else { None };
        let choice = json!({"index": index, "delta": delta, "logprobs": lp, "finish_reason": finish});
        stream::chunk_envelope(&self.id, "chat.completion.chunk", self.created, &self.model, choice, self.include_usage)
    }
}

impl ChunkFormat for ChatFormat {
    fn start(&mut self, index: u32) -> Vec<Value> {
        vec![self.chunk(index, json!({"role": "assistant", "content": ""}), None, None)]
    }

    fn delta(&mut self, index: u32, text: String, logprobs: Vec<TokenLogprob>) -> Vec<Value> {
        let b = &mut self.bufs[index as usize];
        if b.passthrough {
            return vec![self.chunk(index, json!({"content": text}), Some(&logprobs), None)];
        }
        b.held.push_str(&text);
        b.held_lp.extend(logprobs);
        if self.tool_mode == ToolMode::Forced || tools::may_be_call(&b.held) {
            return Vec::new();
        }
        b.passthrough = true;
        let (held, lp) = (std::mem::take(&mut b.held), std::mem::take(&mut b.held_lp));
        vec![self.chunk(index, json!({"content": held}), Some(&lp), None)]
    }

    fn finish(&mut self, index: u32, reason: FinishReason) -> Vec<Value> {
        let b = &mut self.bufs[index as usize];
        let (held, lp) = (std::mem::take(&mut b.held), std::mem::take(&mut b.held_lp));
        if !b.passthrough {
            if let Some(calls) = tools::parse_calls(&self.tool_mode, &held) {
                let mut out = Vec::new();
                for (k, c) in calls.iter().enumerate() {
                    out.push(self.chunk(index, json!({"tool_calls": [{"index": k, "id": c.id, "type": "function", "function": {"name": c.function.name, "arguments": ""}}]}), None, None));
                    out.push(self.chunk(index, json!({"tool_calls": [{"index": k, "function": {"arguments": c.function.arguments}}]}), None, None));
                }
                out.push(self.chunk(index, json!({}), None, Some("tool_calls")));
                return out;
            }
        }
        let mut out = Vec::new();
        if !held.is_empty() {
            out.push(self.chunk(index, json!({"content": held}), Some(&lp), None));
        }
        out.push(self.chunk(index, json!({}), None, Some(finish_str(reason))));
        out
    }

    fn usage(&self, usage: Usage) -> Value {
        json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
            "system_fingerprint": super::fingerprint(), "choices": [], "usage": usage,
        })
    }
}
