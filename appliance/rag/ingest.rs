//! Ingest: extract → chunk → analyze → embed (batched) → one store transaction.

use std::collections::BTreeMap;

use super::analyze::Analyzer;
use super::store::{ChunkData, DocWrite};
use super::{Caller, Collection, Document, IngestStatus, Rag, RagError, StoredFile};
use crate::policy::DataClass;

impl Rag {
    /// Extracts, chunks and embeds a document. Nothing is written.
    async fn prepare(&self, source_name: &str, data: &[u8]) -> Result<Vec<ChunkData>, RagError> {
        let unreadable = |reason: String| RagError::Unreadable { source_name: source_name.to_string(), reason };
        if data.len() as u64 > self.settings.max_file_bytes {
            return Err(unreadable(format!("{} bytes is over the limit of {} bytes ([rag] max_file_bytes)", data.len(), self.settings.max_file_bytes)));
        }
        let embed = self.embedder()?.clone();
        let (name, bytes) = (source_name.to_string(), data.to_vec());
        let (max, overlap) = (self.settings.chunk_tokens.min(embed.max_tokens()), self.settings.chunk_overlap_tokens);
        let counter = embed.clone();
        // Extraction and analysis are CPU work: off the async workers.
        let chunks = tokio::task::spawn_blocking(move || -> Result<Vec<(String, super::analyze::Terms)>, String> {
            let blocks = super::extract::extract(&name, &bytes)?;
            let texts = super::chunk::chunk(&blocks, max, overlap, &|s| counter.count_tokens(s));
            let a = Analyzer::default();
            Ok(texts.into_iter().map(|t| {
                let terms = a.index_terms(&t);
                (t, terms)
            }).collect())
        })
        .await
        .map_err(|e| RagError::Store(format!("extraction task failed: {e}")))?
        .map_err(unreadable)?;
        // A document without a chunk could never be found, and would make the collection's
        // vector dimension 0.
        if chunks.is_empty() {
            return Err(unreadable("no text to index (empty, or headings only)".into()));
        }
        let mut out = Vec::with_capacity(chunks.len());
        for batch in chunks.chunks(self.settings.embed_batch.max(1)) {
            let texts: Vec<String> = batch.iter().map(|(t, _)| t.clone()).collect();
            let vectors = embed.embed(&texts).await?;
            if vectors.len() != texts.len() {
                return Err(RagError::Embedding(format!("{} vectors for {} chunks", vectors.len(), texts.len())));
            }
            for ((text, terms), vector) in batch.iter().cloned().zip(vectors) {
                out.push(ChunkData { text, terms, vector });
            }
        }
        if let Some(d) = out.first().map(|c| c.vector.len()) {
            if d == 0 || out.iter().any(|c| c.vector.len() != d) {
                return Err(RagError::Embedding("the model returned vectors of different or zero dimension".into()));
            }
        }
        Ok(out)
    }

    /// The effective class of a document: the collection's, or a stricter one asked for.
    pub(super) fn doc_class(c: &Collection, class: Option<DataClass>) -> Result<DataClass, RagError> {
        match class {
            Some(k) if k < c.class => {
                Err(RagError::Invalid(format!("class: {k} is looser than the vector store's class {}; use {} or stricter", c.class, c.class)))
            }
            Some(k) => Ok(k),
            None => Ok(c.class),
        }
    }

    pub(super) fn check_attributes(attrs: &BTreeMap<String, serde_json::Value>) -> Result<(), RagError> {
        if attrs.len() > 16 {
            return Err(RagError::Invalid("attributes: at most 16 keys".into()));
        }
        for (k, v) in attrs {
            if k.is_empty() || k.len() > 64 {
                return Err(RagError::Invalid("attributes: keys have 1 to 64 characters".into()));
            }
            let ok = matches!(v, serde_json::Value::Bool(_) | serde_json::Value::Number(_)) || v.as_str().is_some_and(|s| s.len() <= 512);
            if !ok {
                return Err(RagError::Invalid(format!("attributes.{k}: use a string (up to 512 characters), number or boolean")));
            }
        }
        Ok(())
    }

    async fn write(&self, c: &Collection, doc: Document, file: Option<(&StoredFile, &[u8])>, chunks: &[ChunkData]) -> Result<Document, RagError> {
        let embed = self.embedder()?;
        let dims = chunks.first().map_or(0, |c| c.vector.len() as u32);
        let dims = if dims == 0 { c.dims } else { dims };
        let w = DocWrite { doc: &doc, file, chunks, model: (embed.id(), embed.sha256(), dims) };
        self.commit(|k| {
            self.store.write_document(&w)?;
            k.update(&c.id, |ix| {
                ix.remove_file(&doc.file_id);
                let refs: Vec<(&super::analyze::Terms, &[f32])> = chunks.iter().map(|c| (&c.terms, c.vector.as_slice())).collect();
                ix.add_file(&doc.file_id, &refs)
            });
            Ok(())
        })?;
        Ok(doc)
    }

    /// Ingests a document from bytes (CLI): creates or replaces the document with this
    /// `source_name` in the collection, storing the bytes as a file owned by the caller.
    /// Unchanged content returns [`IngestStatus::Unchanged`] without writing.
    ///
    /// # Errors
    /// [`RagError::NotFound`] (collection), [`RagError::Invalid`] (no write access, class
    /// looser than the collection's, attributes), [`RagError::Unreadable`] (nothing is
    /// stored), [`RagError::ModelMismatch`], [`RagError::Embedding`], [`RagError::Store`].
    pub async fn ingest_bytes(
        &self,
        caller: &Caller,
        collection_id: &str,
        source_name: &str,
        data: &[u8],
        class: Option<DataClass>,
        attributes: BTreeMap<String, serde_json::Value>,
    ) -> Result<(Document, IngestStatus), RagError> {
        let c = self.writable_collection(caller, collection_id)?;
        let class = Self::doc_class(&c, class)?;
        Self::check_attributes(&attributes)?;
        if source_name.is_empty() || source_name.chars().count() > 1024 || source_name.chars().any(char::is_control) {
            return Err(RagError::Invalid("source name: use 1 to 1024 characters without control characters".into()));
        }
        let sha = super::sha256_hex(data);
        if let Some(d) = self.store.document_by_source(&c.id, source_name)? {
            if d.sha256 == sha && d.class == class && d.attributes == attributes {
                return Ok((d, IngestStatus::Unchanged));
            }
        }
        let chunks = self.prepare(source_name, data).await?;
        let _w = self.write.lock().await;
        let c = self.writable_collection(caller, collection_id)?;
        let now = super::now();
        let existing = self.store.document_by_source(&c.id, source_name)?;
        if let Some(d) = &existing {
            if d.sha256 == sha && d.class == class && d.attributes == attributes {
                return Ok((d.clone(), IngestStatus::Unchanged));
            }
        }
        // A document of the same source name is replaced in place only when its file is the
        // caller's own and this collection's alone; someone else's upload, or one also held
        // by another collection, is left as it is, and the new content becomes a document of
        // its own (named like the API does for a clash).
        let shared = match &existing {
            Some(d) => {
                self.store.collections_of_file(&d.file_id)?.iter().any(|x| *x != c.id)
                    || self.store.file(&d.file_id)?.is_none_or(|f| f.owner_user != caller.user)
            }
            None => false,
        };
        let orig = source_name;
        let (file_id, created_at, status, source_name) = match &existing {
            Some(d) if !shared => (d.file_id.clone(), d.created_at, IngestStatus::Replaced, source_name.to_string()),
            Some(_) => {
                let id = super::new_id("file-");
                let name = format!("{source_name} ({id})");
                (id, now, IngestStatus::Added, name)
            }
            None => (super::new_id("file-"), now, IngestStatus::Added, source_name.to_string()),
        };
        let source_name = source_name.as_str();
        let file = StoredFile {
            id: file_id.clone(),
            filename: orig.rsplit('/').next().unwrap_or(orig).to_string(),
            bytes: data.len() as u64,
            created_at: now,
            purpose: "assistants".into(),
            owner_user: caller.user.clone(),
            owner_department: if caller.department.is_empty() { c.owner_department.clone() } else { caller.department.clone() },
            sha256: sha.clone(),
        };
        let doc = Document {
            collection_id: c.id.clone(),
            file_id,
            source_name: source_name.to_string(),
            sha256: sha,
            class,
            created_at,
            updated_at: now,
            chunk_count: chunks.len() as u32,
            status: "completed".into(),
            last_error: None,
            attributes,
        };
        let doc = self.write(&c, doc, Some((&file, data)), &chunks).await?;
        Ok((doc, status))
    }

    /// Adds an uploaded file to a collection (API): the document's source name is the
    /// file name; adding the same file again replaces its document.
    ///
    /// # Errors
    /// [`RagError::NotFound`] (collection or file, also when the caller may not read them),
    /// otherwise as [`Rag::ingest_bytes`].
    pub async fn add_file(
        &self,
        caller: &Caller,
        collection_id: &str,
        file_id: &str,
        class: Option<DataClass>,
        attributes: BTreeMap<String, serde_json::Value>,
    ) -> Result<Document, RagError> {
        let c = self.writable_collection(caller, collection_id)?;
        let class = Self::doc_class(&c, class)?;
        Self::check_attributes(&attributes)?;
        let f = self.get_file(caller, file_id)?;
        let data = self.file_content(caller, file_id)?;
        if let Some(d) = self.store.document(&c.id, &f.id)? {
            if d.sha256 == f.sha256 && d.class == class && d.attributes == attributes {
                return Ok(d);
            }
        }
        let chunks = self.prepare(&f.filename, &data).await?;
        let _w = self.write.lock().await;
        let c = self.writable_collection(caller, collection_id)?;
        if self.store.file(&f.id)?.is_none() {
            return Err(RagError::NotFound(format!("file {file_id:?}")));
        }
        let now = super::now();
        let created_at = self.store.document(&c.id, &f.id)?.map_or(now, |d| d.created_at);
        // Another document of this collection with the same source name keeps its own
        // file: source names are unique per collection, so this one gets the file id appended.
        let mut source_name = f.filename.clone();
        if self.store.document_by_source(&c.id, &source_name)?.is_some_and(|d| d.file_id != f.id) {
            source_name = format!("{} ({})", f.filename, f.id);
        }
        let doc = Document {
            collection_id: c.id.clone(),
            file_id: f.id.clone(),
            source_name,
            sha256: f.sha256.clone(),
            class,
            created_at,
            updated_at: now,
            chunk_count: chunks.len() as u32,
            status: "completed".into(),
            last_error: None,
            attributes,
        };
        self.write(&c, doc, None, &chunks).await
    }
}
