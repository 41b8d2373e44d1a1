//! `[rag]`: the offline RAG store.

use std::path::PathBuf;

use serde::Deserialize;

/// `[rag]` section; the store is off when the section is absent.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RagConfig {
    /// Directory of the store [default: `<server.state_dir>/rag`].
    pub dir: Option<PathBuf>,
    /// Id of the `[[models]]` entry with `role = "embedding"` that embeds chunks and queries.
    pub embedding_model: String,
    /// Largest chunk in the embedding model's tokens (heading line included).
    #[serde(default = "default_chunk")]
    pub chunk_tokens: u32,
    /// Tokens repeated from the previous chunk when a section is split for size.
    #[serde(default = "default_overlap")]
    pub chunk_overlap_tokens: u32,
    /// Largest document or upload in bytes.
    #[serde(default = "default_max_bytes")]
    pub max_file_bytes: u64,
    /// Chunks per embedding call.
    #[serde(default = "default_batch")]
    pub embed_batch: u32,
    /// Embed only the first N tokens of each chunk (0 = the whole chunk). For CPU-only boxes:
    /// embedding costs grow with the tokens; BM25 always indexes the whole chunk.
    #[serde(default)]
    pub embed_tokens: u32,
    /// Weight of the vector list in hybrid search (weighted reciprocal rank fusion; BM25
    /// weighs 1). 1.0 is plain RRF, right for a real sentence-embedding model; a generative
    /// model used as embedder (the dev model) gives weak vectors that should only break
    /// BM25's ties: `benches`/the retrieval-quality test measure it (README, "RAG").
    #[serde(default = "default_vector_weight")]
    pub vector_weight: f32,
    /// Seconds `POST /v1/vector_stores/{id}/files` (and a create with `file_ids`) waits for
    /// the ingest before answering `in_progress`; the ingest goes on and clients poll, as
    /// with OpenAI. 0 answers at once.
    #[serde(default = "default_add_wait")]
    pub add_file_wait_secs: u32,
}

fn default_add_wait() -> u32 {
    30
}

fn default_vector_weight() -> f32 {
    1.0
}

fn default_chunk() -> u32 {
    256
}
fn default_overlap() -> u32 {
    32
}
fn default_max_bytes() -> u64 {
    32 << 20
}
fn default_batch() -> u32 {
    16
}

impl RagConfig {
    /// The store directory, with the default under `state_dir`.
    pub fn dir(&self, state_dir: &std::path::Path) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| state_dir.join("rag"))
    }
}

/// Checks `[rag]` against the models; `add(key, message, hint)` per problem.
pub(crate) fn validate(cfg: &super::Config, add: &mut dyn FnMut(String, String, &str)) {
    let Some(r) = &cfg.rag else { return };
    match cfg.models.iter().find(|m| m.id == r.embedding_model) {
        None => add("rag.embedding_model".into(), format!("{:?} is not a [[models]] id", r.embedding_model), "name a [[models]] entry with role = \"embedding\""),
        Some(m) if m.role != super::ModelRole::Embedding => {
            add("rag.embedding_model".into(), format!("{:?} is a chat model", r.embedding_model), "name a [[models]] entry with role = \"embedding\"")
        }
        Some(m) => {
            let per_seq = m.context_size / m.parallel.max(1);
            if r.chunk_tokens > per_seq {
                add("rag.chunk_tokens".into(), format!("{} is over the {per_seq} tokens one sequence of {:?} holds", r.chunk_tokens, m.id), "lower it, or raise the model's context_size / parallel");
            }
        }
    }
    if !(0.0..=10.0).contains(&r.vector_weight) {
        add("rag.vector_weight".into(), format!("{} is out of range", r.vector_weight), "use 0 (BM25 only) to 10; 1 is plain reciprocal rank fusion");
    }
    if r.chunk_tokens < 32 {
        add("rag.chunk_tokens".into(), format!("{} is too small", r.chunk_tokens), "use at least 32 (default 256)");
    }
    if r.chunk_overlap_tokens * 2 > r.chunk_tokens {
        add("rag.chunk_overlap_tokens".into(), format!("{} is over half of chunk_tokens", r.chunk_overlap_tokens), "use at most chunk_tokens / 2 (default 32)");
    }
    if r.max_file_bytes < 1024 {
        add("rag.max_file_bytes".into(), format!("{} is too small", r.max_file_bytes), "use at least 1024 (default 33554432)");
    }
    if r.embed_tokens != 0 && r.embed_tokens < 16 {
        add("rag.embed_tokens".into(), format!("{} is too small", r.embed_tokens), "use 0 (the whole chunk) or at least 16");
    }
    if r.embed_batch == 0 || r.embed_batch > 256 {
        add("rag.embed_batch".into(), format!("{} is out of range", r.embed_batch), "use 1..=256 (default 16)");
    }
}

#[cfg(test)]
mod tests {
    fn problems(rag: &str) -> Vec<String> {
        let text = format!(
            "[tls]\ncert = \"c\"\nkey = \"k\"\nclient_ca = [\"a\"]\n[[models]]\nid = \"chat\"\npath = \"m\"\n[[models]]\nid = \"emb\"\nrole = \"embedding\"\npath = \"m\"\ncontext_size = 1024\nparallel = 4\n[rag]\n{rag}"
        );
        match crate::config::Config::parse(&text, std::path::Path::new("/nonexistent")) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems.into_iter().filter(|p| !p.key.starts_with("tls.") && !p.key.starts_with("models[")).map(|p| p.key).collect(),
        }
    }

    #[test]
    fn rag_errors_name_the_key() {
        assert!(problems("embedding_model = \"emb\"").is_empty());
        assert_eq!(problems("embedding_model = \"chat\""), vec!["rag.embedding_model"]);
        assert_eq!(problems("embedding_model = \"nope\""), vec!["rag.embedding_model"]);
        assert_eq!(problems("embedding_model = \"emb\"\nchunk_tokens = 512"), vec!["rag.chunk_tokens"], "over 1024/4 tokens per sequence");
        assert_eq!(problems("embedding_model = \"emb\"\nchunk_overlap_tokens = 200"), vec!["rag.chunk_overlap_tokens"]);
        assert_eq!(problems("embedding_model = \"emb\"\nmax_file_bytes = 10\nembed_batch = 0\nembed_tokens = 3"), vec!["rag.max_file_bytes", "rag.embed_tokens", "rag.embed_batch"]);
        assert_eq!(problems("embedding_model = \"emb\"\nvector_weight = -0.5"), vec!["rag.vector_weight"]);
        assert_eq!(problems("embedding_model = \"emb\"\nvector_weight = 0.1\nadd_file_wait_secs = 0"), Vec::<String>::new());
        let unknown = problems("embedding_model = \"emb\"\nchunk_size = 3");
        assert_eq!(unknown.len(), 1, "unknown keys are errors: {unknown:?}");
    }
}
