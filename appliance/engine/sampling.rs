//! The llama.cpp sampler chain for one sequence, and chat-shaped log-probabilities.

use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;

use super::{EngineError, SamplingParams, TokenLogprob};

/// How many recent tokens the presence/frequency penalties look at (llama.cpp's default).
const PENALTY_LAST_N: i32 = 64;

/// Builds the chain: grammar → penalties → top-k → top-p → min-p → temperature → draw,
/// or greedy selection when `temperature == 0`. The grammar comes first so that every
/// later stage sees only tokens the grammar allows.
pub(crate) fn build_sampler(model: &LlamaModel, p: &SamplingParams) -> Result<LlamaSampler, EngineError> {
    let mut chain = Vec::new();
    if let Some(g) = &p.grammar {
        chain.push(LlamaSampler::grammar(model, g, "root").map_err(|e| EngineError::Grammar(e.to_string()))?);
    }
    if p.presence_penalty != 0.0 || p.frequency_penalty != 0.0 {
        chain.push(LlamaSampler::penalties(model.n_vocab(), PENALTY_LAST_N, 1.0, p.frequency_penalty, p.presence_penalty));
    }
    if p.temperature <= 0.0 {
        chain.push(LlamaSampler::greedy());
    } else {
        if p.top_k > 0 {
            chain.push(LlamaSampler::top_k(p.top_k));
        }
        if p.top_p < 1.0 {
            chain.push(LlamaSampler::top_p(p.top_p, 1));
        }
        if p.min_p > 0.0 {
            chain.push(LlamaSampler::min_p(p.min_p, 1));
        }
        chain.push(LlamaSampler::temp(p.temperature));
        chain.push(LlamaSampler::dist(p.seed.unwrap_or_else(rand::random)));
    }
    Ok(LlamaSampler::chain_simple(chain))
}

/// The bytes of a token's text (control tokens render as nothing).
pub(crate) fn piece(model: &LlamaModel, token: LlamaToken) -> Vec<u8> {
    model.vocab().token_to_piece(token, false, None)
}

/// Log-probability of `chosen` and the `top_n` most likely tokens, from the raw logits of
/// batch position `idx` (log-softmax over the whole vocabulary, before sampling transforms,
/// as OpenAI reports them).
pub(crate) fn logprobs(ctx: &LlamaContext<'_>, model: &LlamaModel, idx: i32, chosen: LlamaToken, top_n: u8) -> TokenLogprob {
    let logits = ctx.get_logits_ith(idx);
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let lse = max + logits.iter().map(|&l| (l - max).exp()).sum::<f32>().ln();
    let lp = |t: usize| logits.get(t).map(|l| l - lse).unwrap_or(f32::NEG_INFINITY);
    let entry = |t: LlamaToken| {
        let bytes = piece(model, t);
        (String::from_utf8_lossy(&bytes).into_owned(), bytes)
    };
    let mut top = Vec::new();
    if top_n > 0 {
        let mut idxs: Vec<usize> = (0..logits.len()).collect();
        let k = usize::from(top_n).min(idxs.len());
        idxs.select_nth_unstable_by(k.saturating_sub(1), |a, b| logits[*b].total_cmp(&logits[*a]));
        idxs.truncate(k);
        idxs.sort_by(|a, b| logits[*b].total_cmp(&logits[*a]));
        for i in idxs {
            let (s, b) = entry(LlamaToken(i32::try_from(i).unwrap_or(0)));
            top.push((s, b, lp(i)));
        }
    }
    let (token, bytes) = entry(chosen);
    TokenLogprob { token, bytes, logprob: lp(usize::try_from(chosen.0).unwrap_or(usize::MAX)), top }
}
