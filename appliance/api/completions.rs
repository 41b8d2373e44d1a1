//! `POST /v1/completions` (legacy text completions, OpenAI `text_completion` objects).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::chat::finish_str;
use super::error::ApiError;
use super::json::ApiJson;
use super::stream::{self, ChunkFormat};
use super::types::{CompletionRequest, PromptInput, Usage};
use super::relayed::{self, Relayed};
use super::{params, AppState};
use crate::relay::Endpoint;
use crate::engine::{FinishReason, TokenLogprob};
use crate::tls::PeerIdentity;

/// OpenAI's default `max_tokens` for legacy completions.
const DEFAULT_MAX_TOKENS: u32 = 16;

/// The handler: relayed models through the policy gate, green ones to the engine.
pub(crate) async fn completions(State(st): State<AppState>, who: PeerIdentity, start: super::RequestStart, headers: HeaderMap, ApiJson(raw): ApiJson<Value>) -> Result<Response, ApiError> {
    let req: CompletionRequest = super::json::from_value(&raw)?;
    let relayed_model = st.relay.model(&req.model);
    super::check_budget(&st, &who, relayed_model.as_ref().map_or(crate::policy::Zone::Green, |m| m.zone))?;
    let Some(m) = relayed_model else {
        return green_completions(&st, &who, start, req).await;
    };
    sampling(&req, st.limits.max_tokens_cap)?;
    match relayed::forward(&st, &who, start, &headers, Endpoint::Completions, m, raw).await? {
        Relayed::Done(r) => Ok(r),
        Relayed::Reroute(green) => {
            let mut req = req;
            req.model = green.clone();
            let mut resp = green_completions(&st, &who, start, req).await?;
            if let Ok(v) = HeaderValue::from_str(&green) {
                resp.headers_mut().insert(relayed::REROUTED_HEADER, v);
            }
            Ok(resp)
        }
    }
}

/// Validates the sampling fields.
fn sampling(req: &CompletionRequest, cap: u32) -> Result<(crate::engine::SamplingParams, u32), ApiError> {
    let raw = params::Raw {
        temperature: req.temperature,
        top_p: req.top_p,
        top_k: req.top_k,
        min_p: req.min_p,
        seed: req.seed,
        stop: req.stop.as_ref(),
        presence_penalty: req.presence_penalty,
        frequency_penalty: req.frequency_penalty,
        n: req.n,
        max_tokens: req.max_tokens.map(|v| vec![("max_tokens", v)]).unwrap_or_default(),
    };
    let (mut params, n) = params::validate(&raw, cap, DEFAULT_MAX_TOKENS)?;
    params.logprobs = match req.logprobs {
        None => None,
        Some(k) if (0..=5).contains(&k) => Some(k as u8),
        Some(k) => return Err(ApiError::invalid("logprobs", format!("{k} is not a valid value for 'logprobs': expected 0 to 5"))),
    };
    params.ignore_eos = req.ignore_eos.unwrap_or(false);
    Ok((params, n))
}

/// Serves legacy completions on a green model: one choice per prompt and `n`, indexed
/// prompt-major as OpenAI does.
async fn green_completions(st: &AppState, who: &PeerIdentity, start: super::RequestStart, req: CompletionRequest) -> Result<Response, ApiError> {
    let retry = st.limits.retry_after;
    let (params, n) = sampling(&req, st.limits.max_tokens_cap)?;
    if req.suffix.is_some() {
        return Err(ApiError::invalid("suffix", "'suffix' (fill-in-the-middle) is not supported by this model"));
    }
    let stream_on = req.stream.unwrap_or(false);
    if req.stream_options.is_some() && !stream_on {
        return Err(ApiError::invalid("stream_options", "'stream_options' is only allowed when 'stream' is true"));
    }
    let generator = st.engine.generator(&req.model).map_err(|e| ApiError::from_engine(e, "prompt", retry))?;
    let prompts: Vec<(Vec<_>, String)> = match &req.prompt {
        PromptInput::Text(s) => vec![(generator.tokenize(s, false), s.clone())],
        PromptInput::Texts(v) if !v.is_empty() => v.iter().map(|s| (generator.tokenize(s, false), s.clone())).collect(),
        PromptInput::Tokens(t) => vec![(generator.check_tokens(t).map_err(|t| ApiError::invalid("prompt", format!("token id {t} is not in the vocabulary")))?, String::new())],
        PromptInput::TokenLists(v) if !v.is_empty() => v
            .iter()
            .enumerate()
            .map(|(i, t)| generator.check_tokens(t).map(|x| (x, String::new())).map_err(|t| ApiError::invalid(format!("prompt[{i}]"), format!("token id {t} is not in the vocabulary"))))
            .collect::<Result<_, _>>()?,
        _ => return Err(ApiError::invalid("prompt", "'prompt' must not be empty")),
    };
    if prompts.len() * n as usize > 16 {
        return Err(ApiError::invalid("n", "at most 16 choices (prompts × n) per request"));
    }
    let echo = req.echo.unwrap_or(false);
    let mut gens = Vec::new();
    let mut prompt_tokens = 0;
    let mut echoes = Vec::new();
    for (tokens, text) in prompts {
        for i in 0..n {
            let mut p = params.clone();
            p.seed = p.seed.map(|s| s.wrapping_add(i));
            p.cache_scope = super::cache_scope(who, generator.info().prefix_cache, i);
            let g = generator.submit(tokens.clone(), p).map_err(|e| ApiError::from_engine(e, "prompt", retry))?;
            if i == 0 {
                prompt_tokens += g.prompt_tokens;
            }
            gens.push(g);
            echoes.push(if echo { text.clone() } else { String::new() });
        }
    }
    let mut fmt = TextFormat { id: stream::new_id("cmpl-"), created: stream::unix_now(), model: req.model.clone(), include_usage: false, logprobs: params.logprobs.is_some(), echoes };
    if stream_on {
        fmt.include_usage = req.stream_options.as_ref().is_some_and(|o| o.include_usage);
        let inc = fmt.include_usage;
        return Ok(stream::sse(gens, prompt_tokens, inc, fmt, super::on_done_green(st, who, start, &req.model)));
    }
    let done = stream::collect(gens).await?;
    let completion_tokens = done.iter().map(|c| c.completion_tokens).sum();
    let usage = Usage::new(prompt_tokens, completion_tokens).with_cached(done.iter().map(|c| c.cached_tokens).sum());
    super::record_green(st, who, start, &req.model, usage);
    let choices: Vec<Value> = done
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let text = format!("{}{}", fmt.echoes[i], c.text);
            json!({"index": i, "text": text, "logprobs": fmt.legacy_logprobs(&c.logprobs), "finish_reason": finish_str(c.reason.unwrap_or(FinishReason::Stop))})
        })
        .collect();
    Ok(axum::Json(json!({
        "id": fmt.id, "object": "text_completion", "created": fmt.created, "model": fmt.model,
        "system_fingerprint": super::fingerprint(), "choices": choices, "usage": usage,
    }))
    .into_response())
}

struct TextFormat {
    id: String,
    created: u64,
    model: String,
    include_usage: bool,
    logprobs: bool,
    echoes: Vec<String>,
}

impl TextFormat {
    /// Legacy logprobs shape: `{tokens, token_logprobs, top_logprobs, text_offset}`.
    fn legacy_logprobs(&self, lps: &[TokenLogprob]) -> Value {
        if !self.logprobs {
            return Value::Null;
        }
        let mut offset = 0usize;
        let mut offsets = Vec::new();
        for lp in lps {
            offsets.push(offset);
            offset += lp.token.len();
        }
        let top: Vec<Value> = lps.iter().map(|lp| lp.top.iter().map(|(t, _, l)| (t.clone(), json!(l))).collect::<serde_json::Map<_, _>>().into()).collect();
        json!({
            "tokens": lps.iter().map(|l| l.token.clone()).collect::<Vec<_>>(),
            "token_logprobs": lps.iter().map(|l| l.logprob).collect::<Vec<_>>(),
            "top_logprobs": top, "text_offset": offsets,
        })
    }

    fn chunk(&self, index: u32, text: &str, lp: Value, finish: Option<&str>) -> Value {
        let choice = json!({"index": index, "text": text, "logprobs": lp, "finish_reason": finish});
        stream::chunk_envelope(&self.id, "text_completion", self.created, &self.model, choice, self.include_usage)
    }
}

impl ChunkFormat for TextFormat {
    fn start(&mut self, index: u32) -> Vec<Value> {
        let echo = std::mem::take(&mut self.echoes[index as usize]);
        if echo.is_empty() {
            Vec::new()
        } else {
            vec![self.chunk(index, &echo, Value::Null, None)]
        }
    }
    fn delta(&mut self, index: u32, text: String, logprobs: Vec<TokenLogprob>) -> Vec<Value> {
        let lp = self.legacy_logprobs(&logprobs);
        vec![self.chunk(index, &text, lp, None)]
    }
    fn finish(&mut self, index: u32, reason: FinishReason) -> Vec<Value> {
        vec![self.chunk(index, "", Value::Null, Some(finish_str(reason)))]
    }
    fn usage(&self, usage: Usage) -> Value {
        json!({"id": self.id, "object": "text_completion", "created": self.created, "model": self.model, "choices": [], "usage": usage})
    }
}
