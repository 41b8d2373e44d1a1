//! The embedding model behind the store: a trait so the store can be tested and benchmarked
//! without llama.cpp, and its implementation over the engine's [`Embedder`].

use std::future::Future;
use std::pin::Pin;

use super::RagError;
use crate::engine::Embedder;

/// The future of one embedding call.
pub type EmbedFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<Vec<f32>>, RagError>> + Send + 'a>>;

/// A sentence-embedding model as the store needs it.
pub trait EmbedModel: Send + Sync {
    /// Model id recorded with every collection's vectors (a `[[models]]` id).
    fn id(&self) -> &str;
    /// SHA-256 of the model file (64 hex digits), recorded with the id; models with the same
    /// id but another file are not mixed either.
    fn sha256(&self) -> &str;
    /// Tokens of `text` in the model's own tokenizer (used to bound chunk sizes).
    fn count_tokens(&self, text: &str) -> usize;
    /// Most tokens one input may have.
    fn max_tokens(&self) -> usize;
    /// One unit-length vector per text, in order, all of the same dimension.
    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a>;
}

/// [`EmbedModel`] over an engine embedding model (`[[models]]` with `role = "embedding"`).
pub struct EngineEmbedder {
    embedder: Embedder,
    sha256: String,
    /// Tokens of each input that are embedded (the rest is cut); 0 = the model's limit.
    input_tokens: usize,
}

impl EngineEmbedder {
    /// Wraps a loaded embedding model; `sha256` is its GGUF file's digest.
    pub fn new(embedder: Embedder, sha256: String) -> Self {
        Self { embedder, sha256, input_tokens: 0 }
    }

    /// Embeds only the first `tokens` tokens of each input (0: up to the model's limit).
    /// Embedding cost grows with the tokens (about 0.27 GFLOP per token for a 135M model, so
    /// some 100 tokens/s per CPU core); a prefix of each chunk — its heading path and first
    /// sentences — keeps CPU-only ingest affordable. BM25 still indexes the whole chunk.
    pub fn with_input_tokens(mut self, tokens: usize) -> Self {
        self.input_tokens = tokens;
        self
    }
}

impl EmbedModel for EngineEmbedder {
    fn id(&self) -> &str {
        &self.embedder.info().id
    }
    fn sha256(&self) -> &str {
        &self.sha256
    }
    fn count_tokens(&self, text: &str) -> usize {
        self.embedder.tokenize(text).len()
    }
    fn max_tokens(&self) -> usize {
        self.embedder.info().context_per_sequence as usize
    }
    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move {
            let max = if self.input_tokens > 0 { self.input_tokens.min(self.max_tokens()) } else { self.max_tokens() };
            let tokens = texts
                .iter()
                .map(|t| {
                    let mut v = self.embedder.tokenize(t);
                    // The chunker bounds chunks well below this; a heading-only chunk of odd
                    // text could still tokenize longer, and truncation beats failing the file.
                    v.truncate(max);
                    v
                })
                .collect();
            self.embedder.embed(tokens).await.map_err(|e| RagError::Embedding(e.to_string()))
        })
    }
}
