//! Text generation: the [`Generator`] handle and the worker thread that owns the
//! `llama_context` and runs continuous batching over its sequences ("slots").
//!
//! Prompt-prefix reuse (as llama.cpp's `llama-server` does with its slots' prompt cache):
//! a finished sequence whose job carried a `cache_scope` leaves its tokens in the KV cache.
//! A new job with the same scope goes to the free slot sharing the longest common prefix
//! with its prompt; the KV cache is cut after that prefix (`llama_memory_seq_rm`) and only
//! the rest is evaluated. Scopes keep one user's (or department's) prefixes from speeding
//! up — and so revealing themselves to — anyone else.

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::{LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::scheduler::{self, SlotState};
use super::text::TextAssembler;
use super::{sampling, template, ChatTurn, EngineError, FinishReason, GenEvent, ModelInfo, ModelStats, SamplingParams};
use crate::config::ModelConfig;

/// A running generation. Receive its events; drop it to cancel (the sequence is freed at
/// the worker's next step, or the request leaves the queue if it had not started).
#[derive(Debug)]
pub struct Generation {
    /// Tokens of the prompt as evaluated (OpenAI `usage.prompt_tokens`).
    pub prompt_tokens: u32,
    /// Events in order; ends after `Finished` or `Failed`.
    pub events: UnboundedReceiver<GenEvent>,
}

/// Handle to a chat model; cheap to clone, usable from any thread.
#[derive(Clone)]
pub struct Generator {
    inner: Arc<Inner>,
}

struct Inner {
    info: ModelInfo,
    model: Arc<LlamaModel>,
    template: LlamaChatTemplate,
    jobs: Sender<Job>,
    stats: Arc<ModelStats>,
    queue_depth: usize,
}

struct Job {
    tokens: Vec<LlamaToken>,
    sampler: LlamaSampler,
    params: SamplingParams,
    tx: UnboundedSender<GenEvent>,
}

impl Generator {
    /// Loads the model and starts its worker thread.
    pub(crate) fn start(cfg: &ModelConfig, queue_depth: usize) -> Result<Generator, EngineError> {
        let (model, info) = super::load::load_model(cfg)?;
        let threads = cfg.threads.unwrap_or_else(super::default_threads);
        let per_seq = info.context_per_sequence;
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(cfg.context_size))
            .with_n_batch(cfg.batch_size)
            .with_n_ubatch(cfg.batch_size)
            .with_n_seq_max(cfg.parallel)
            .with_n_threads(i32::try_from(threads).unwrap_or(1))
            .with_n_threads_batch(i32::try_from(threads).unwrap_or(1));
        let stats = Arc::new(ModelStats::default());
        let (jobs, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let worker = Worker {
            model: model.clone(),
            stats: stats.clone(),
            n_slots: cfg.parallel as usize,
            n_batch: cfg.batch_size as usize,
            per_seq: per_seq as usize,
        };
        let id = cfg.id.clone();
        std::thread::Builder::new()
            .name(format!("gen-{}", cfg.id))
            .spawn(move || worker.run(params, rx, ready_tx))
            .map_err(|e| EngineError::Load { id: id.clone(), reason: format!("cannot start worker thread: {e}") })?;
        ready_rx.recv().map_err(|_| EngineError::Load { id: id.clone(), reason: "worker thread died".into() })??;
        log::info!("model {id} loaded: {threads} threads, {} sequences of {per_seq} tokens", cfg.parallel);
        let template = template::model_template(&model);
        Ok(Generator { inner: Arc::new(Inner { info, model, template, jobs, stats, queue_depth }) })
    }

    /// The model's public description.
    pub fn info(&self) -> &ModelInfo {
        &self.inner.info
    }

    /// The model's counters.
    pub fn stats(&self) -> &Arc<ModelStats> {
        &self.inner.stats
    }

    /// Renders chat messages with the model's template, ending with the assistant prefix.
    ///
    /// # Errors
    /// [`EngineError::Template`].
    pub fn chat_prompt(&self, turns: &[ChatTurn]) -> Result<String, EngineError> {
        template::apply(&self.inner.model, &self.inner.template, turns)
    }

    /// Tokenizes text. `parse_special` lets control tokens in the text (such as a template's
    /// `<|im_start|>`) become control tokens; use it only for template output.
    pub fn tokenize(&self, text: &str, parse_special: bool) -> Vec<LlamaToken> {
        self.inner.model.vocab().tokenize(text.as_bytes(), true, parse_special)
    }

    /// Checks that token ids exist in the vocabulary (for prompts given as token arrays).
    ///
    /// # Errors
    /// The first out-of-range id.
    pub fn check_tokens(&self, ids: &[i64]) -> Result<Vec<LlamaToken>, i64> {
        let n = i64::from(self.inner.model.n_vocab());
        ids.iter().map(|&t| if (0..n).contains(&t) { Ok(LlamaToken(t as i32)) } else { Err(t) }).collect()
    }

    /// Queues a generation for `prompt`.
    ///
    /// # Errors
    /// [`EngineError::ContextLengthExceeded`] when the prompt leaves no room to generate,
    /// [`EngineError::Grammar`] for a grammar llama.cpp rejects, [`EngineError::QueueFull`],
    /// [`EngineError::WorkerGone`].
    pub fn submit(&self, prompt: Vec<LlamaToken>, params: SamplingParams) -> Result<Generation, EngineError> {
        let limit = self.inner.info.context_per_sequence;
        let requested = u32::try_from(prompt.len()).unwrap_or(u32::MAX);
        if requested >= limit {
            return Err(EngineError::ContextLengthExceeded { limit, requested });
        }
        if prompt.is_empty() {
            return Err(EngineError::Template("the prompt is empty".into()));
        }
        let sampler = sampling::build_sampler(&self.inner.model, &params)?;
        let stats = &self.inner.stats;
        if stats.queued.fetch_add(1, Ordering::SeqCst) >= self.inner.queue_depth {
            stats.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(EngineError::QueueFull(self.inner.info.id.clone()));
        }
        let (tx, events) = unbounded_channel();
        self.inner.jobs.send(Job { tokens: prompt, sampler, params, tx }).map_err(|_| {
            stats.queued.fetch_sub(1, Ordering::SeqCst);
            EngineError::WorkerGone
        })?;
        Ok(Generation { prompt_tokens: requested, events })
    }
}

/// What a free slot's KV cache holds: the tokens a finished sequence left, and who may
/// reuse them.
#[derive(Default)]
struct Cached {
    scope: Option<String>,
    tokens: Vec<LlamaToken>,
    /// Worker step at which the slot was last released (least recently used goes first).
    released: u64,
}

/// Length of the common prefix of `a` and `b`.
fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Picks the free slot for a job with prompt `prompt` and scope `scope`: the slot of the same
/// scope with the longest common prefix (at least one token) or else the least recently
/// released one. Returns `(slot, reusable prefix length)`; the prefix leaves at least one
/// prompt token to evaluate (its logits start generation).
fn pick_slot(cache: &[Cached], free: &[usize], scope: Option<&str>, prompt: &[LlamaToken]) -> Option<(usize, usize)> {
    let best = scope.and_then(|s| {
        free.iter()
            .filter(|&&i| cache[i].scope.as_deref() == Some(s))
            .map(|&i| (i, common_prefix(&cache[i].tokens, prompt).min(prompt.len().saturating_sub(1))))
            .filter(|&(_, n)| n > 0)
            .max_by_key(|&(i, n)| (n, std::cmp::Reverse(i)))
    });
    best.or_else(|| free.iter().min_by_key(|&&i| (cache[i].released, i)).map(|&i| (i, 0)))
}

/// One occupied slot.
struct Seq {
    job: Job,
    /// Tokens in this sequence's KV cache, in order (prompt, then decoded generated tokens).
    kv: Vec<LlamaToken>,
    /// Prompt tokens taken from the cache instead of evaluated.
    cached: usize,
    /// Prompt tokens already in the KV cache.
    prompt_done: usize,
    /// Position of the next token (tokens in this sequence's KV cache).
    n_past: usize,
    /// The sampled token that still has to be decoded.
    next: Option<LlamaToken>,
    generated: u32,
    text: TextAssembler,
}

impl Seq {
    fn state(&self) -> SlotState {
        if self.next.is_some() {
            SlotState::Generate
        } else {
            SlotState::Prefill { remaining: self.job.tokens.len() - self.prompt_done }
        }
    }
}

struct Worker {
    model: Arc<LlamaModel>,
    stats: Arc<ModelStats>,
    n_slots: usize,
    n_batch: usize,
    per_seq: usize,
}

impl Worker {
    fn run(self, params: LlamaContextParams, rx: Receiver<Job>, ready: mpsc::SyncSender<Result<(), EngineError>>) {
        let model = self.model.clone();
        let Some(mut ctx) = super::backend::open_context(&model, params, &ready) else { return };
        self.serve(&mut ctx, &rx);
        log::debug!("generation worker stops");
    }

    fn serve(&self, ctx: &mut LlamaContext<'_>, rx: &Receiver<Job>) {
        let mut slots: Vec<Option<Seq>> = (0..self.n_slots).map(|_| None).collect();
        let mut cache: Vec<Cached> = (0..self.n_slots).map(|_| Cached::default()).collect();
        let mut step = 0u64;
        let mut queue: VecDeque<Job> = VecDeque::new();
        let mut batch = LlamaBatch::new(self.n_batch, 1);
        let mut rotate = 0usize;
        loop {
            if slots.iter().all(Option::is_none) && queue.is_empty() {
                match rx.recv() {
                    Ok(job) => queue.push_back(job),
                    Err(_) => return,
                }
            }
            while let Ok(job) = rx.try_recv() {
                queue.push_back(job);
            }
            self.drop_cancelled(ctx, &mut slots, &mut cache, &mut queue);
            step += 1;
            loop {
                let free: Vec<usize> = (0..self.n_slots).filter(|&i| slots[i].is_none()).collect();
                if free.is_empty() {
                    break;
                }
                let Some(job) = queue.pop_front() else { break };
                let Some((i, mut reuse)) = pick_slot(&cache, &free, job.params.cache_scope.as_deref(), &job.tokens) else { break };
                self.stats.queued.fetch_sub(1, Ordering::SeqCst);
                self.stats.active.fetch_add(1, Ordering::SeqCst);
                // Keep the common prefix, drop the rest; a backend that cannot cut a
                // sequence (recurrent memory) starts from scratch.
                if reuse > 0 && !matches!(ctx.clear_kv_cache_seq(u32::try_from(i).ok(), u32::try_from(reuse).ok(), None), Ok(true)) {
                    reuse = 0;
                }
                if reuse == 0 {
                    clear_seq(ctx, i);
                }
                cache[i] = Cached::default();
                ModelStats::add(&self.stats.cached_tokens, reuse as u64);
                let text = TextAssembler::new(&job.params.stop);
                let kv = job.tokens[..reuse].to_vec();
                slots[i] = Some(Seq { job, kv, cached: reuse, prompt_done: reuse, n_past: reuse, next: None, generated: 0, text });
            }
            let states: Vec<Option<SlotState>> = slots.iter().map(|s| s.as_ref().map(Seq::state)).collect();
            let plan = scheduler::plan(&states, self.n_batch, rotate);
            rotate = rotate.wrapping_add(1);
            if plan.is_empty() {
                continue;
            }
            batch.clear();
            let mut sample_at = Vec::new();
            let mut add_failed = false;
            for p in &plan {
                let Some(seq) = slots[p.slot].as_mut() else { continue };
                let tokens: Vec<LlamaToken> = match seq.next.take() {
                    Some(t) => vec![t],
                    None => {
                        let t = seq.job.tokens[seq.prompt_done..seq.prompt_done + p.count].to_vec();
                        seq.prompt_done += p.count;
                        ModelStats::add(&self.stats.prompt_tokens, p.count as u64);
                        t
                    }
                };
                for (k, t) in tokens.iter().enumerate() {
                    let logits = p.logits && k + 1 == tokens.len();
                    let pos = i32::try_from(seq.n_past + k).unwrap_or(i32::MAX);
                    add_failed |= batch.add(*t, pos, &[p.slot as i32], logits).is_err();
                }
                seq.n_past += tokens.len();
                seq.kv.extend_from_slice(&tokens);
                if p.logits {
                    sample_at.push((p.slot, batch.n_tokens() - 1));
                }
            }
            let decoded = if add_failed { Err("batch overflow".to_string()) } else { ctx.decode(&mut batch).map_err(|e| e.to_string()) };
            ModelStats::add(&self.stats.decode_calls, 1);
            if let Err(e) = decoded {
                log::error!("llama_decode failed: {e}");
                for p in &plan {
                    self.finish(ctx, &mut slots[p.slot], &mut cache[p.slot], p.slot, Err(EngineError::Decode(e.clone())), false);
                }
                continue;
            }
            for (slot, idx) in sample_at {
                self.sample(ctx, &mut slots[slot], &mut cache[slot], slot, idx);
                if slots[slot].is_none() {
                    cache[slot].released = step;
                }
            }
        }
    }

    /// Frees the slots and queue entries whose receiver is gone (client disconnected).
    fn drop_cancelled(&self, ctx: &mut LlamaContext<'_>, slots: &mut [Option<Seq>], cache: &mut [Cached], queue: &mut VecDeque<Job>) {
        let before = queue.len();
        queue.retain(|j| !j.tx.is_closed());
        self.stats.queued.fetch_sub(before - queue.len(), Ordering::SeqCst);
        for (i, slot) in slots.iter_mut().enumerate() {
            if slot.as_ref().is_some_and(|s| s.job.tx.is_closed()) {
                *slot = None;
                cache[i] = Cached::default();
                clear_seq(ctx, i);
                self.stats.active.fetch_sub(1, Ordering::SeqCst);
                log::debug!("sequence {i} cancelled by its client");
            }
        }
    }

    /// Samples the next token of the sequence in `slot` from batch position `idx`.
    fn sample(&self, ctx: &mut LlamaContext<'_>, slot_ref: &mut Option<Seq>, cache: &mut Cached, slot: usize, idx: i32) {
        let Some(seq) = slot_ref.as_mut() else { return };
        let token = seq.job.sampler.sample(ctx, idx);
        seq.generated += 1;
        ModelStats::add(&self.stats.completion_tokens, 1);
        if !seq.job.params.ignore_eos && self.model.vocab().is_eog(token) {
            return self.finish(ctx, slot_ref, cache, slot, Ok(FinishReason::Stop), true);
        }
        let lp = seq.job.params.logprobs.map(|n| sampling::logprobs(ctx, &self.model, idx, token, n));
        let out = seq.text.push(&sampling::piece(&self.model, token), lp);
        if !out.text.is_empty() || !out.logprobs.is_empty() {
            let _ = seq.job.tx.send(GenEvent::Delta { text: out.text, logprobs: out.logprobs });
        }
        if out.stopped {
            // Whatever followed the stop sequence is discarded.
            return self.finish(ctx, slot_ref, cache, slot, Ok(FinishReason::Stop), false);
        }
        if seq.generated >= seq.job.params.max_tokens || seq.n_past + 1 >= self.per_seq {
            return self.finish(ctx, slot_ref, cache, slot, Ok(FinishReason::Length), true);
        }
        seq.next = Some(token);
    }

    /// Ends the sequence in `slot`: flushes held-back text when `flush`, sends the final
    /// event, frees the slot. A sequence with a cache scope that ended normally leaves its
    /// tokens in the KV cache for the next job of its scope (`cache`); otherwise the
    /// sequence's cache is cleared.
    fn finish(&self, ctx: &mut LlamaContext<'_>, slot_ref: &mut Option<Seq>, cache: &mut Cached, slot: usize, result: Result<FinishReason, EngineError>, flush: bool) {
        let Some(mut seq) = slot_ref.take() else { return };
        let ok = result.is_ok();
        let event = match result {
            Ok(reason) => {
                let rest = seq.text.finish();
                if flush && (!rest.text.is_empty() || !rest.logprobs.is_empty()) {
                    let _ = seq.job.tx.send(GenEvent::Delta { text: rest.text, logprobs: rest.logprobs });
                }
                GenEvent::Finished { reason, completion_tokens: seq.generated, cached_tokens: u32::try_from(seq.cached).unwrap_or(u32::MAX) }
            }
            Err(e) => GenEvent::Failed(e),
        };
        let _ = seq.job.tx.send(event);
        match seq.job.params.cache_scope.take() {
            Some(scope) if ok => *cache = Cached { scope: Some(scope), tokens: std::mem::take(&mut seq.kv), released: cache.released },
            _ => {
                *cache = Cached::default();
                clear_seq(ctx, slot);
            }
        }
        self.stats.active.fetch_sub(1, Ordering::SeqCst);
    }
}

fn clear_seq(ctx: &mut LlamaContext<'_>, slot: usize) {
    let _ = ctx.clear_kv_cache_seq(u32::try_from(slot).ok(), None, None);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(v: &[i32]) -> Vec<LlamaToken> {
        v.iter().map(|&t| LlamaToken::new(t)).collect()
    }

    fn cached(scope: &str, t: &[i32], released: u64) -> Cached {
        Cached { scope: Some(scope.into()), tokens: toks(t), released }
    }

    #[test]
    fn the_longest_prefix_of_the_same_scope_wins() {
        let cache = vec![cached("a", &[1, 2, 9], 1), cached("a", &[1, 2, 3, 4, 7], 2), cached("b", &[1, 2, 3, 4, 5], 3)];
        assert_eq!(pick_slot(&cache, &[0, 1, 2], Some("a"), &toks(&[1, 2, 3, 4, 5, 6])), Some((1, 4)));
        // Scope b has the longest prefix overall, but only b may use it.
        assert_eq!(pick_slot(&cache, &[0, 1, 2], Some("b"), &toks(&[1, 2, 3, 4, 5, 6])), Some((2, 5)));
    }

    #[test]
    fn a_full_match_still_leaves_one_token_to_evaluate() {
        let cache = vec![cached("a", &[1, 2, 3, 4], 1)];
        assert_eq!(pick_slot(&cache, &[0], Some("a"), &toks(&[1, 2, 3])), Some((0, 2)));
    }

    #[test]
    fn without_a_match_or_a_scope_the_least_recently_released_slot_is_cleared() {
        let cache = vec![cached("a", &[1, 2], 5), Cached::default(), cached("b", &[1, 2], 3)];
        assert_eq!(pick_slot(&cache, &[0, 1, 2], Some("c"), &toks(&[1, 2, 3])), Some((1, 0)), "an empty slot first");
        assert_eq!(pick_slot(&cache, &[0, 2], None, &toks(&[1, 2, 3])), Some((2, 0)), "then the oldest");
        assert_eq!(pick_slot(&cache, &[0], Some("a"), &toks(&[9])), Some((0, 0)));
        assert_eq!(pick_slot(&cache, &[], Some("a"), &toks(&[1])), None);
    }
}
