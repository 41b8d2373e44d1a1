//! Embeddings: the [`Embedder`] handle and its worker thread (mean-pooled, L2-normalised
//! sequence embeddings from a context created with `embeddings = true`).

use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;

use llama_cpp_2::context::params::{LlamaContextParams, LlamaPoolingType};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use tokio::sync::oneshot;

use super::{EngineError, ModelInfo, ModelStats};
use crate::config::ModelConfig;

type Reply = oneshot::Sender<Result<Vec<Vec<f32>>, EngineError>>;

/// Handle to an embedding model; cheap to clone.
#[derive(Clone)]
pub struct Embedder {
    inner: Arc<Inner>,
}

struct Inner {
    info: ModelInfo,
    model: Arc<LlamaModel>,
    jobs: Sender<(Vec<Vec<LlamaToken>>, Reply)>,
    stats: Arc<ModelStats>,
    queue_depth: usize,
}

impl Embedder {
    /// Loads the model and starts its worker thread.
    pub(crate) fn start(cfg: &ModelConfig, queue_depth: usize) -> Result<Embedder, EngineError> {
        let (model, info) = super::load::load_model(cfg)?;
        let threads = i32::try_from(cfg.threads.unwrap_or_else(super::default_threads)).unwrap_or(1);
        let per_seq = info.context_per_sequence;
        // Pooled embeddings need a whole sequence in one micro-batch.
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(cfg.context_size))
            .with_n_batch(per_seq)
            .with_n_ubatch(per_seq)
            .with_n_seq_max(cfg.parallel)
            .with_n_threads(threads)
            .with_n_threads_batch(threads)
            .with_embeddings(true)
            .with_pooling_type(LlamaPoolingType::Mean);
        let stats = Arc::new(ModelStats::default());
        let (jobs, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::sync_channel(1);
        let (m, s, n_seq) = (model.clone(), stats.clone(), cfg.parallel as usize);
        let id = cfg.id.clone();
        std::thread::Builder::new()
            .name(format!("emb-{id}"))
            .spawn(move || worker(m, s, params, n_seq, per_seq as usize, rx, ready_tx))
            .map_err(|e| EngineError::Load { id: id.clone(), reason: format!("cannot start worker thread: {e}") })?;
        ready_rx.recv().map_err(|_| EngineError::Load { id: id.clone(), reason: "worker thread died".into() })??;
        log::info!("embedding model {id} loaded: {} dimensions", info.n_embd);
        Ok(Embedder { inner: Arc::new(Inner { info, model, jobs, stats, queue_depth }) })
    }

    /// The model's public description.
    pub fn info(&self) -> &ModelInfo {
        &self.inner.info
    }

    /// The model's counters.
    pub fn stats(&self) -> &Arc<ModelStats> {
        &self.inner.stats
    }

    /// Tokenizes one input (adds BOS/EOS as the model wants; no control-token parsing).
    pub fn tokenize(&self, text: &str) -> Vec<LlamaToken> {
        self.inner.model.vocab().tokenize(text.as_bytes(), true, false)
    }

    /// Checks that token ids exist in the vocabulary.
    ///
    /// # Errors
    /// The first out-of-range id.
    pub fn check_tokens(&self, ids: &[i64]) -> Result<Vec<LlamaToken>, i64> {
        let n = i64::from(self.inner.model.n_vocab());
        ids.iter().map(|&t| if (0..n).contains(&t) { Ok(LlamaToken(t as i32)) } else { Err(t) }).collect()
    }

    /// Embeds each input; returns one unit-length vector of `n_embd` floats per input, in order.
    ///
    /// # Errors
    /// [`EngineError::ContextLengthExceeded`] for an input longer than one sequence's
    /// context (or an empty one), [`EngineError::QueueFull`], [`EngineError::Decode`],
    /// [`EngineError::WorkerGone`].
    pub async fn embed(&self, inputs: Vec<Vec<LlamaToken>>) -> Result<Vec<Vec<f32>>, EngineError> {
        let limit = self.inner.info.context_per_sequence;
        for i in &inputs {
            let requested = u32::try_from(i.len()).unwrap_or(u32::MAX);
            if requested > limit || i.is_empty() {
                return Err(EngineError::ContextLengthExceeded { limit, requested });
            }
        }
        let stats = &self.inner.stats;
        if stats.queued.fetch_add(1, Ordering::SeqCst) >= self.inner.queue_depth {
            stats.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(EngineError::QueueFull(self.inner.info.id.clone()));
        }
        let (tx, rx) = oneshot::channel();
        if self.inner.jobs.send((inputs, tx)).is_err() {
            stats.queued.fetch_sub(1, Ordering::SeqCst);
            return Err(EngineError::WorkerGone);
        }
        rx.await.map_err(|_| EngineError::WorkerGone)?
    }
}

fn worker(
    model: Arc<LlamaModel>,
    stats: Arc<ModelStats>,
    params: LlamaContextParams,
    n_seq: usize,
    n_batch: usize,
    rx: Receiver<(Vec<Vec<LlamaToken>>, Reply)>,
    ready: mpsc::SyncSender<Result<(), EngineError>>,
) {
    let Some(mut ctx) = super::backend::open_context(&model, params, &ready) else { return };
    let mut batch = LlamaBatch::new(n_batch, 1);
    while let Ok((inputs, reply)) = rx.recv() {
        stats.queued.fetch_sub(1, Ordering::SeqCst);
        if reply.is_closed() {
            continue;
        }
        stats.active.fetch_add(1, Ordering::SeqCst);
        let out = embed_all(&mut ctx, &mut batch, &stats, &inputs, n_seq, n_batch);
        stats.active.fetch_sub(1, Ordering::SeqCst);
        let _ = reply.send(out);
    }
}

/// Packs inputs into batches of at most `n_seq` sequences and `n_batch` tokens.
fn embed_all(
    ctx: &mut LlamaContext<'_>,
    batch: &mut LlamaBatch<'_>,
    stats: &ModelStats,
    inputs: &[Vec<LlamaToken>],
    n_seq: usize,
    n_batch: usize,
) -> Result<Vec<Vec<f32>>, EngineError> {
    let mut out = Vec::with_capacity(inputs.len());
    let mut start = 0;
    while start < inputs.len() {
        let mut end = start;
        let mut tokens = 0;
        while end < inputs.len() && end - start < n_seq && tokens + inputs[end].len() <= n_batch {
            tokens += inputs[end].len();
            end += 1;
        }
        batch.clear();
        for (seq, input) in inputs[start..end].iter().enumerate() {
            batch.add_sequence(input, seq as i32, true).map_err(|e| EngineError::Decode(e.to_string()))?;
        }
        ctx.clear_kv_cache();
        ctx.decode(batch).map_err(|e| EngineError::Decode(e.to_string()))?;
        ModelStats::add(&stats.decode_calls, 1);
        ModelStats::add(&stats.prompt_tokens, tokens as u64);
        for seq in 0..(end - start) {
            let v = ctx.embeddings_seq_ith(seq as i32).map_err(|_| EngineError::Decode("no pooled embedding".into()))?;
            out.push(normalize(v));
        }
        start = end;
    }
    ctx.clear_kv_cache();
    Ok(out)
}

/// Scales `v` to unit Euclidean length (a zero vector stays zero).
fn normalize(v: &[f32]) -> Vec<f32> {
    let norm = v.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt();
    if norm == 0.0 {
        return v.to_vec();
    }
    v.iter().map(|x| (f64::from(*x) / norm) as f32).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn normalize_gives_unit_length() {
        let v = super::normalize(&[3.0, 4.0]);
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
        assert_eq!(super::normalize(&[0.0, 0.0]), vec![0.0, 0.0]);
    }
}
