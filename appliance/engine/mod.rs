//! Engine: llama.cpp models on dedicated threads, continuous batching, sampling, chat
//! templates, grammars, embeddings and tokenization.
//!
//! Owns: loading GGUF files (SHA-256 checked), one OS thread per model context that owns
//! the `llama_context` and is driven by commands over channels (DESIGN.md rule 4), the
//! batching plan ([`scheduler`]), stop sequences and UTF-8-safe text deltas ([`text`]).
//! Must not: know about HTTP, TLS or policy. Callers get typed events; dropping the event
//! receiver cancels the work and frees the sequence at the next step.

mod backend;
mod embed;
mod generate;
mod load;
mod sampling;
mod scheduler;
mod template;
mod text;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

pub use embed::Embedder;
pub use generate::{Generation, Generator};
pub use template::{ChatTurn, JSON_OBJECT_GRAMMAR};

use crate::config::{ModelConfig, ModelRole};

/// Errors of the engine. Messages name the model and the limit, never prompt text.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    /// No model with this public id is loaded.
    #[error("model {0:?} does not exist")]
    ModelNotFound(String),
    /// The model exists but is loaded for another role (chat vs. embedding).
    #[error("model {id:?} does not support {wanted}")]
    WrongRole {
        /// Public model id.
        id: String,
        /// What the caller wanted (`chat completions`, `embeddings`).
        wanted: &'static str,
    },
    /// The prompt does not fit into one sequence's share of the context.
    #[error("this model's maximum context length is {limit} tokens, but the request has {requested} tokens")]
    ContextLengthExceeded {
        /// Tokens one sequence may hold (`context_size / parallel`).
        limit: u32,
        /// Tokens the request needs.
        requested: u32,
    },
    /// The model's queue is full; retry later.
    #[error("the model {0:?} is busy; retry later")]
    QueueFull(String),
    /// A grammar (from `response_format` or tools) could not be built.
    #[error("invalid grammar: {0}")]
    Grammar(String),
    /// The chat template could not be applied to the messages.
    #[error("the chat template could not be applied: {0}")]
    Template(String),
    /// Loading a model failed (file, checksum, llama.cpp).
    #[error("cannot load model {id:?}: {reason}")]
    Load {
        /// Public model id.
        id: String,
        /// What went wrong (path and cause; for logs and `check-config`, not for API clients).
        reason: String,
    },
    /// llama.cpp failed during decoding (e.g. no KV-cache slot).
    #[error("inference failed: {0}")]
    Decode(String),
    /// The model's worker thread is gone (shut down or crashed).
    #[error("the model worker has stopped")]
    WorkerGone,
}

/// Why generation ended (OpenAI `finish_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// End-of-generation token or a stop sequence.
    Stop,
    /// `max_tokens` or the sequence's context share was reached.
    Length,
}

/// Log-probability of one generated token (natural log, over the model's full distribution).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenLogprob {
    /// The token's text (lossy UTF-8 of `bytes`).
    pub token: String,
    /// The token's raw bytes (a token may hold part of a UTF-8 character).
    pub bytes: Vec<u8>,
    /// ln p(token).
    pub logprob: f32,
    /// The most likely alternatives at this position, most likely first.
    pub top: Vec<(String, Vec<u8>, f32)>,
}

/// An event of one generation, in order: any number of `Delta`, then `Finished` or `Failed`.
#[derive(Debug, Clone)]
pub enum GenEvent {
    /// New text (complete UTF-8, stop-sequence safe) and the tokens' log-probabilities.
    Delta {
        /// Text to append.
        text: String,
        /// Log-probabilities, when requested, of the tokens that make up `text`.
        logprobs: Vec<TokenLogprob>,
    },
    /// Generation ended normally.
    Finished {
        /// Why it ended.
        reason: FinishReason,
        /// Tokens generated (sampled), including a stop sequence's tokens.
        completion_tokens: u32,
        /// Prompt tokens reused from the sequence's KV cache instead of evaluated
        /// (OpenAI `usage.prompt_tokens_details.cached_tokens`).
        cached_tokens: u32,
    },
    /// Generation failed; no more events follow.
    Failed(EngineError),
}

/// Sampling parameters of one sequence (llama.cpp sampler chain; OpenAI names where they exist).
#[derive(Debug, Clone)]
pub struct SamplingParams {
    /// Softmax temperature; 0 means greedy.
    pub temperature: f32,
    /// Nucleus sampling mass in (0, 1].
    pub top_p: f32,
    /// Keep the k most likely tokens; 0 disables.
    pub top_k: i32,
    /// Minimum probability relative to the most likely token; 0 disables.
    pub min_p: f32,
    /// RNG seed; `None` draws one.
    pub seed: Option<u32>,
    /// OpenAI `presence_penalty` in [-2, 2].
    pub presence_penalty: f32,
    /// OpenAI `frequency_penalty` in [-2, 2].
    pub frequency_penalty: f32,
    /// Maximum tokens to generate.
    pub max_tokens: u32,
    /// Stop sequences; generation ends before the first match, which is not returned.
    pub stop: Vec<String>,
    /// `Some(n)`: return log-probabilities with the `n` (0..=20) most likely alternatives.
    pub logprobs: Option<u8>,
    /// GBNF grammar (llama.cpp grammar format) the output must match; root rule `root`.
    pub grammar: Option<String>,
    /// Keep generating past end-of-generation tokens (llama.cpp `ignore_eos`; benchmarks).
    pub ignore_eos: bool,
    /// Who may share KV-cached prompt prefixes with this sequence (an opaque key such as
    /// the user or department); `None` neither reuses nor leaves a prefix.
    pub cache_scope: Option<String>,
}

impl Default for SamplingParams {
    fn default() -> Self {
        Self {
            temperature: 1.0,
            top_p: 1.0,
            top_k: 0,
            min_p: 0.0,
            seed: None,
            presence_penalty: 0.0,
            frequency_penalty: 0.0,
            max_tokens: 256,
            stop: Vec::new(),
            logprobs: None,
            grammar: None,
            ignore_eos: false,
            cache_scope: None,
        }
    }
}

/// What clients may know about a loaded model.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    /// Public id.
    pub id: String,
    /// Chat or embedding.
    pub role: ModelRole,
    /// Unix seconds of the GGUF file's modification time (OpenAI `created`).
    pub created: u64,
    /// Tokens one sequence may hold (`context_size / parallel`).
    pub context_per_sequence: u32,
    /// Parallel sequences.
    pub parallel: u32,
    /// Training context of the model (GGUF metadata).
    pub n_ctx_train: u32,
    /// Embedding width (for embedding models the output dimension).
    pub n_embd: u32,
    /// Scope of prompt-prefix reuse (`[[models]] prefix_cache`).
    pub prefix_cache: crate::config::PrefixCache,
}

/// Counters of one model, read by `/metrics` and the console.
#[derive(Debug, Default)]
pub struct ModelStats {
    /// Requests waiting for a free sequence.
    pub queued: AtomicUsize,
    /// Sequences currently being processed.
    pub active: AtomicUsize,
    /// Prompt tokens evaluated since start.
    pub prompt_tokens: AtomicU64,
    /// Tokens generated since start.
    pub completion_tokens: AtomicU64,
    /// `llama_decode` calls since start.
    pub decode_calls: AtomicU64,
    /// Prompt tokens reused from sequences' KV caches since start (not in `prompt_tokens`).
    pub cached_tokens: AtomicU64,
}

impl ModelStats {
    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// A loaded model of either role.
#[derive(Clone)]
pub enum Model {
    /// Text generation.
    Chat(Generator),
    /// Embeddings.
    Embedding(Embedder),
}

impl Model {
    /// The model's public description.
    pub fn info(&self) -> &ModelInfo {
        match self {
            Model::Chat(g) => g.info(),
            Model::Embedding(e) => e.info(),
        }
    }
    /// The model's counters.
    pub fn stats(&self) -> &Arc<ModelStats> {
        match self {
            Model::Chat(g) => g.stats(),
            Model::Embedding(e) => e.stats(),
        }
    }
}

/// All loaded models; cheap to clone.
#[derive(Clone, Default)]
pub struct Engine {
    models: Arc<BTreeMap<String, Model>>,
}

impl Engine {
    /// Loads every configured model and starts its worker thread (blocking; seconds).
    ///
    /// `queue_depth` bounds the requests waiting per model (beyond it: [`EngineError::QueueFull`]).
    ///
    /// # Errors
    /// [`EngineError::Load`] for the first model that cannot be loaded.
    pub fn load(configs: &[ModelConfig], queue_depth: usize) -> Result<Engine, EngineError> {
        let mut models = BTreeMap::new();
        for cfg in configs {
            let model = match cfg.role {
                ModelRole::Chat => Model::Chat(Generator::start(cfg, queue_depth)?),
                ModelRole::Embedding => Model::Embedding(Embedder::start(cfg, queue_depth)?),
            };
            models.insert(cfg.id.clone(), model);
        }
        Ok(Engine { models: Arc::new(models) })
    }

    /// All models in id order.
    pub fn models(&self) -> impl Iterator<Item = &Model> {
        self.models.values()
    }

    /// The model with this public id.
    ///
    /// # Errors
    /// [`EngineError::ModelNotFound`].
    pub fn model(&self, id: &str) -> Result<&Model, EngineError> {
        self.models.get(id).ok_or_else(|| EngineError::ModelNotFound(id.to_string()))
    }

    /// The generator of a chat model.
    ///
    /// # Errors
    /// [`EngineError::ModelNotFound`], or [`EngineError::WrongRole`] for an embedding model.
    pub fn generator(&self, id: &str) -> Result<&Generator, EngineError> {
        match self.model(id)? {
            Model::Chat(g) => Ok(g),
            Model::Embedding(_) => Err(EngineError::WrongRole { id: id.into(), wanted: "chat completions" }),
        }
    }

    /// The embedder of an embedding model.
    ///
    /// # Errors
    /// [`EngineError::ModelNotFound`], or [`EngineError::WrongRole`] for a chat model.
    pub fn embedder(&self, id: &str) -> Result<&Embedder, EngineError> {
        match self.model(id)? {
            Model::Embedding(e) => Ok(e),
            Model::Chat(_) => Err(EngineError::WrongRole { id: id.into(), wanted: "embeddings" }),
        }
    }
}

/// Threads for llama.cpp: the physical cores available to this process.
///
/// llama.cpp's own default counts logical CPUs and oversubscribes small machines, which
/// runs up to two orders of magnitude slower.
pub fn default_threads() -> u32 {
    let physical = num_cpus::get_physical().max(1);
    let allowed = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(physical);
    u32::try_from(physical.min(allowed)).unwrap_or(1)
}

/// Converts a JSON Schema into a GBNF grammar with llama.cpp's converter
/// (`common/json-schema-to-grammar`), root rule `root`.
///
/// # Errors
/// [`EngineError::Grammar`] for schemas the converter rejects.
pub fn json_schema_grammar(schema: &serde_json::Value) -> Result<String, EngineError> {
    llama_cpp_2::json_schema_to_grammar(&schema.to_string()).map_err(|e| EngineError::Grammar(e.to_string()))
}
