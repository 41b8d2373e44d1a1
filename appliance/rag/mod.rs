//! RAG: the offline knowledge store of the box — collections ("vector stores") of documents,
//! searchable from every zone within the documents' data class.
//!
//! Owns: uploaded files (blobs), document ingest (extraction of PDF, DOCX, ODT, HTML,
//! Markdown and plain text; structure-following token-bounded chunking; batched embeddings
//! through the [`crate::engine`]), the sled store (one transaction per document write), the
//! German-aware BM25 index, exact cosine vector search, reciprocal-rank fusion, attribute
//! filters, access control and `zonegate rag …`.
//! Must not: expose sled types outside `rag/store`, log document text or queries, or let a
//! caller see anything (chunk, document, file, count) of a collection it may not read: the
//! ACL is checked here, inside the store's facade, not by the HTTP layer.
//!
//! Scoring: BM25 (Robertson & Zaragoza 2009, k1 = 1.2, b = 0.75) and cosine similarity are
//! fused with reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009, k = 60).

mod acl;
mod cache;
pub mod analyze;
pub mod bm25;
pub mod chunk;
mod cli;
mod embed;
pub mod extract;
mod files;
mod filter;
pub mod fuse;
mod index;
mod ingest;
mod jobs;
mod search;
mod store;
mod verify;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

pub use acl::{Access, Caller};
pub use cli::{engine_embedder, run_rag, settings, IngestArgs, RagCommand, SearchArgs};
pub use embed::{EmbedFuture, EmbedModel, EngineEmbedder};
pub use filter::Filter;
pub use jobs::FileBatch;
pub use verify::VerifyReport;

pub(crate) use files::valid_filename;

use crate::policy::DataClass;

/// Errors of the RAG store. Messages name ids, source names and limits, never document text.
///
/// The API maps `NotFound` to 404, `Invalid`, `Unreadable` and `ModelMismatch` to 400, the
/// others to 500.
#[derive(Debug, Clone, thiserror::Error)]
pub enum RagError {
    /// No such collection, file or document — or the caller may not read it (no existence leak).
    #[error("{0} not found")]
    NotFound(String),
    /// Bad input (names, classes, limits, filters); the message names the parameter.
    #[error("{0}")]
    Invalid(String),
    /// The document cannot be read (format, encoding, size); nothing of it was stored.
    #[error("cannot read {source_name}: {reason}")]
    Unreadable {
        /// The document's source name (file name).
        source_name: String,
        /// Why, e.g. "not valid UTF-8 text" or "PDF has no text layer".
        reason: String,
    },
    /// The collection's vectors were made by another embedding model than the configured one.
    #[error("{0}")]
    ModelMismatch(String),
    /// The embedding model failed or is not configured.
    #[error("embedding failed: {0}")]
    Embedding(String),
    /// The store failed (I/O, corruption, schema); details for the log, not for clients.
    #[error("RAG store error: {0}")]
    Store(String),
}

/// Settings of the store (from the `[rag]` config section).
#[derive(Debug, Clone)]
pub struct RagSettings {
    /// Directory of the sled database.
    pub dir: PathBuf,
    /// Largest chunk in embedding-model tokens (including its heading line).
    pub chunk_tokens: usize,
    /// Tokens of the previous chunk repeated at the start of the next one when a section is
    /// split for size (not across headings).
    pub chunk_overlap_tokens: usize,
    /// Largest accepted document in bytes; larger ones are [`RagError::Unreadable`].
    pub max_file_bytes: u64,
    /// Chunks per embedding call.
    pub embed_batch: usize,
    /// Weight of the vector list in hybrid search's weighted RRF (the BM25 list weighs 1):
    /// 1 is plain RRF; below 1 vectors break BM25's ties more than they outvote it.
    pub vector_weight: f32,
    /// How long an API add of a file waits for its ingest before answering `in_progress`
    /// (the ingest goes on; see [`Rag::add_file_within`]).
    pub add_wait: std::time::Duration,
}

impl RagSettings {
    /// Defaults (256-token chunks, 32 overlap, 32 MiB files, batches of 16, plain RRF, 30 s
    /// add wait) for a directory.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into(), chunk_tokens: 256, chunk_overlap_tokens: 32, max_file_bytes: 32 << 20, embed_batch: 16, vector_weight: 1.0, add_wait: std::time::Duration::from_secs(30) }
    }
}

/// What `create_collection` needs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewCollection {
    /// Unique name (1..=128 characters, no control characters).
    pub name: String,
    /// The collection's data class; documents are at least this class.
    pub class: DataClass,
    /// Department that owns (writes) the collection; readers are also its members.
    pub owner_department: String,
    /// Who else may read.
    pub read: Access,
    /// Free attributes (OpenAI `metadata`).
    pub attributes: BTreeMap<String, serde_json::Value>,
}

/// A collection (OpenAI "vector store").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collection {
    /// `vs_` followed by 24 hex digits.
    pub id: String,
    /// Unique name.
    pub name: String,
    /// Data class; every document is at least this class.
    pub class: DataClass,
    /// Owning department.
    pub owner_department: String,
    /// Read access beyond the owner department and admins.
    pub read: Access,
    /// Unix seconds.
    pub created_at: i64,
    /// Documents in the collection.
    pub document_count: u64,
    /// Chunks of all documents.
    pub chunk_count: u64,
    /// Bytes of the documents' original files.
    pub bytes: u64,
    /// Id of the embedding model that made every vector (None while empty).
    pub embedding_model: Option<String>,
    /// SHA-256 of that model's GGUF file (64 hex digits), when known.
    #[serde(default)]
    pub embedding_sha256: Option<String>,
    /// Vector dimension (0 while empty).
    #[serde(default)]
    pub dims: u32,
    /// Sum of the chunks' lengths in analyzer words (for BM25's average length).
    #[serde(default)]
    pub total_words: u64,
    /// Free attributes.
    pub attributes: BTreeMap<String, serde_json::Value>,
}

/// A raw uploaded file (OpenAI `/v1/files`), stored as a blob and owned by its uploader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredFile {
    /// `file-` followed by 24 hex digits.
    pub id: String,
    /// The name given at upload (no directories).
    pub filename: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Unix seconds.
    pub created_at: i64,
    /// OpenAI purpose (`assistants`, …).
    pub purpose: String,
    /// Uploader's user id.
    pub owner_user: String,
    /// Uploader's department.
    pub owner_department: String,
    /// SHA-256 of the content, 64 lowercase hex digits.
    pub sha256: String,
}

/// Outcome of an ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IngestStatus {
    /// A new document.
    Added,
    /// A document of the same source name with other content was replaced atomically.
    Replaced,
    /// Same source name and content: nothing was written.
    Unchanged,
}

/// A document of a collection: one file, extracted, chunked and indexed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    /// The collection.
    pub collection_id: String,
    /// The stored file it came from.
    pub file_id: String,
    /// Source name (file name, or path relative to the ingested directory).
    pub source_name: String,
    /// SHA-256 of the content, 64 lowercase hex digits.
    pub sha256: String,
    /// Data class: never looser than the collection's.
    pub class: DataClass,
    /// Unix seconds of the first ingest.
    pub created_at: i64,
    /// Unix seconds of the last replacement.
    pub updated_at: i64,
    /// Chunks.
    pub chunk_count: u32,
    /// `completed` for a stored document; `in_progress`, `failed` or `cancelled` for a
    /// background ingest of the API (`rag/jobs.rs`; never stored: a failed or cancelled
    /// ingest stores nothing).
    pub status: String,
    /// Why it failed, for `failed`.
    pub last_error: Option<String>,
    /// Attributes for filters (OpenAI `attributes`: string, number or boolean values).
    pub attributes: BTreeMap<String, serde_json::Value>,
}

/// Which half of the hybrid search to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchMode {
    /// BM25 and vectors fused by reciprocal rank.
    Hybrid,
    /// BM25 only.
    Lexical,
    /// Cosine similarity only.
    Vector,
}

/// A search.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    /// Collections to search (ids or names); each must be readable by the caller.
    pub collection_ids: Vec<String>,
    /// The query text.
    pub query: String,
    /// Results wanted, 1..=50.
    pub max_results: usize,
    /// Attribute filter.
    pub filter: Option<Filter>,
    /// Drop hits whose score is below this (0..1).
    pub score_threshold: Option<f32>,
    /// Hybrid, lexical or vector.
    pub mode: SearchMode,
}

/// One search result: a chunk with its source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    /// The collection.
    pub collection_id: String,
    /// The document's file.
    pub file_id: String,
    /// The document's source name.
    pub source_name: String,
    /// Chunk number within the document, from 0.
    pub chunk_index: u32,
    /// In 0..=1, higher is better. Lexical: BM25 divided by what a chunk of average length
    /// holding every query term once scores (capped at 1), so comparable across queries and
    /// collections; vector: cosine similarity clamped to 0..1; hybrid: the weighted RRF score
    /// divided by its maximum (first in both the BM25 and the vector list) — agreement of
    /// the two rankings, not absolute relevance (RRF uses ranks only).
    pub score: f32,
    /// The chunk's text (its heading path first).
    pub text: String,
    /// The document's data class.
    pub class: DataClass,
    /// The document's attributes.
    pub attributes: BTreeMap<String, serde_json::Value>,
}

/// The RAG store: Send + Sync, shared as `Arc<Rag>`.
pub struct Rag {
    store: store::Store,
    settings: RagSettings,
    embed: Option<Arc<dyn EmbedModel>>,
    /// Serialises document writes (check-then-write of ingest, deletes).
    write: tokio::sync::Mutex<()>,
    /// In-memory search indexes per collection id, built on first search and then updated
    /// by every commit.
    cache: Mutex<HashMap<String, Arc<std::sync::RwLock<index::CollIndex>>>>,
    /// Held across a store write and its index update (and a built index's insertion), so
    /// that cached indexes change in the store's commit order.
    commit_lock: Mutex<()>,
    /// Bumped per collection on every write; a build started before a write is discarded.
    generation: Mutex<HashMap<String, u64>>,
    /// Pending, failed and cancelled background ingests by (collection id, file id)
    /// (`rag/jobs.rs`).
    jobs: Mutex<HashMap<(String, String), jobs::Job>>,
    /// File batches by id (`rag/jobs.rs`).
    batches: Mutex<HashMap<String, FileBatch>>,
    /// Bounds the background ingests running at once.
    ingest_permits: tokio::sync::Semaphore,
}

impl std::fmt::Debug for Rag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rag").field("dir", &self.settings.dir).finish_non_exhaustive()
    }
}

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// `prefix` followed by 24 random hex digits.
pub(crate) fn new_id(prefix: &str) -> String {
    let bytes: [u8; 12] = rand::random();
    format!("{prefix}{}", hex::encode(bytes))
}

/// SHA-256 as 64 lowercase hex digits.
pub(crate) fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(data))
}

impl Rag {
    /// Opens (or creates) the store in `settings.dir`. `embed` is the embedding model; without
    /// one, ingest and vector search fail with [`RagError::Embedding`] (listing, lexical search,
    /// delete and verify work).
    ///
    /// # Errors
    /// [`RagError::Store`] when the directory cannot be opened (e.g. locked by a running
    /// `zonegate serve`) or holds another schema version.
    pub fn open(settings: RagSettings, embed: Option<Arc<dyn EmbedModel>>) -> Result<Rag, RagError> {
        let store = store::Store::open(&settings.dir)?;
        Ok(Rag {
            store,
            settings,
            embed,
            write: tokio::sync::Mutex::new(()),
            cache: Mutex::new(HashMap::new()),
            commit_lock: Mutex::new(()),
            generation: Mutex::new(HashMap::new()),
            jobs: Mutex::new(HashMap::new()),
            batches: Mutex::new(HashMap::new()),
            ingest_permits: tokio::sync::Semaphore::new(jobs::CONCURRENT_INGESTS),
        })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.settings.dir
    }

    /// How long an API add waits for its ingest ([`RagSettings::add_wait`]).
    pub fn add_wait(&self) -> std::time::Duration {
        self.settings.add_wait
    }

    /// The embedding model's id, when one is configured.
    pub fn embedding_model(&self) -> Option<&str> {
        self.embed.as_deref().map(|e| e.id())
    }

    /// Writes everything to disk (sled flush); returns when it is durable.
    ///
    /// # Errors
    /// [`RagError::Store`].
    pub fn flush(&self) -> Result<(), RagError> {
        self.store.flush()
    }

    fn embedder(&self) -> Result<&Arc<dyn EmbedModel>, RagError> {
        self.embed.as_ref().ok_or_else(|| RagError::Embedding("no embedding model is configured ([rag] embedding_model)".into()))
    }

    // ---- collections ----

    /// Creates a collection. Non-admins may only create collections of their own department.
    ///
    /// # Errors
    /// [`RagError::Invalid`] for a bad or taken name or a foreign owner department.
    pub fn create_collection(&self, caller: &Caller, spec: NewCollection) -> Result<Collection, RagError> {
        let name = spec.name.trim();
        if name.is_empty() || name.chars().count() > 128 || name.chars().any(char::is_control) {
            return Err(RagError::Invalid("name: use 1 to 128 characters without control characters".into()));
        }
        let name_ok = |n: &str| !n.trim().is_empty() && n.chars().count() <= 64 && !n.chars().any(char::is_control);
        if !name_ok(&spec.owner_department) {
            return Err(RagError::Invalid("owner_department: use 1 to 64 characters without control characters".into()));
        }
        let readers = match &spec.read {
            Access::Everyone => &[][..],
            Access::Departments(d) | Access::Users(d) => &d[..],
        };
        if readers.len() > 100 || !readers.iter().all(|n| name_ok(n)) {
            return Err(RagError::Invalid("read: name at most 100 departments or users, each 1 to 64 characters without control characters".into()));
        }
        if !caller.admin && spec.owner_department != caller.department {
            return Err(RagError::Invalid(format!("owner_department: you may only create collections of your department {:?}", caller.department)));
        }
        let c = Collection {
            id: new_id("vs_"),
            name: name.to_string(),
            class: spec.class,
            owner_department: spec.owner_department,
            read: spec.read,
            created_at: now(),
            document_count: 0,
            chunk_count: 0,
            bytes: 0,
            embedding_model: None,
            embedding_sha256: None,
            dims: 0,
            total_words: 0,
            attributes: spec.attributes,
        };
        if !self.store.create_collection(&c)? {
            return Err(RagError::Invalid(format!("name: a collection named {name:?} exists already")));
        }
        Ok(c)
    }

    /// Collections the caller may read, by name.
    ///
    /// # Errors
    /// [`RagError::Store`].
    pub fn list_collections(&self, caller: &Caller) -> Result<Vec<Collection>, RagError> {
        let mut v: Vec<Collection> = self.store.collections()?.into_iter().filter(|c| caller.may_read(c)).collect();
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    /// A collection by id (`vs_…`) or name.
    ///
    /// # Errors
    /// [`RagError::NotFound`] when it does not exist or the caller may not read it.
    pub fn get_collection(&self, caller: &Caller, id_or_name: &str) -> Result<Collection, RagError> {
        let c = match self.store.collection(id_or_name)? {
            Some(c) => Some(c),
            None => self.store.collection_by_name(id_or_name)?,
        };
        match c {
            Some(c) if caller.may_read(&c) => Ok(c),
            _ => Err(RagError::NotFound(format!("vector store {id_or_name:?}"))),
        }
    }

    /// A collection the caller may write (admin or owner department).
    fn writable_collection(&self, caller: &Caller, id_or_name: &str) -> Result<Collection, RagError> {
        let c = self.get_collection(caller, id_or_name)?;
        if !caller.may_write(&c) {
            return Err(RagError::Invalid(format!("vector store {id_or_name:?}: only its owner department {:?} or an admin may change it", c.owner_department)));
        }
        Ok(c)
    }

    /// Deletes a collection with all its documents (their files stay).
    ///
    /// # Errors
    /// [`RagError::NotFound`], [`RagError::Invalid`] for readers outside the owner department.
    pub fn delete_collection(&self, caller: &Caller, id: &str) -> Result<(), RagError> {
        let c = self.writable_collection(caller, id)?;
        self.commit(|k| {
            self.store.delete_collection(&c.id)?;
            k.drop_index(&c.id);
            Ok(())
        })?;
        self.forget_jobs_of(&c.id);
        Ok(())
    }

    // ---- documents ----

    /// Documents of a collection, by source name.
    ///
    /// # Errors
    /// [`RagError::NotFound`] when the caller may not read the collection.
    pub fn list_documents(&self, caller: &Caller, collection_id: &str) -> Result<Vec<Document>, RagError> {
        let c = self.get_collection(caller, collection_id)?;
        let mut v = self.store.documents(&c.id)?;
        // A pending or failed re-add shows instead of the stored document of the same file.
        for j in self.jobs_of(&c.id) {
            v.retain(|d| d.file_id != j.file_id);
            v.push(j);
        }
        v.sort_by(|a, b| a.source_name.cmp(&b.source_name));
        Ok(v)
    }

    /// Removes one document (by its file id) from a collection; the file stays.
    ///
    /// # Errors
    /// [`RagError::NotFound`], [`RagError::Invalid`] for readers outside the owner department.
    pub fn remove_file(&self, caller: &Caller, collection_id: &str, file_id: &str) -> Result<(), RagError> {
        let c = self.writable_collection(caller, collection_id)?;
        let job = self.job(&c.id, file_id);
        if job.as_ref().is_some_and(|j| j.status == jobs::IN_PROGRESS) {
            return Err(RagError::Invalid(format!("file {file_id:?} is still being ingested (status in_progress); remove it once it has completed or failed")));
        }
        if job.is_some() {
            self.forget_job(&c.id, file_id);
        }
        let removed = self.commit(|k| {
            let removed = self.store.remove_document(&c.id, file_id)?;
            if removed {
                k.update(&c.id, |ix| {
                    ix.remove_file(file_id);
                    Ok(())
                });
            }
            Ok(removed)
        })?;
        if !removed && job.is_none() {
            return Err(RagError::NotFound(format!("file {file_id:?} in vector store {collection_id:?}")));
        }
        Ok(())
    }

    /// Checks the whole store; see [`VerifyReport`].
    ///
    /// # Errors
    /// [`RagError::Store`] when the store cannot be read at all.
    pub fn verify(&self) -> Result<VerifyReport, RagError> {
        verify::verify(&self.store)
    }
}

#[cfg(test)]
pub(crate) mod tests;
