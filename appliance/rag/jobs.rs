//! Background ingest of uploaded files: OpenAI's vector-store files are `in_progress` until
//! they are indexed, and clients poll (`create_and_poll`). An add waits up to
//! [`RagSettings::add_wait`](super::RagSettings) for the ingest and answers `completed` (or
//! the error) when it finished by then; otherwise it answers `in_progress`, and the ingest
//! goes on in the background and ends as a stored document or a `failed` entry with the
//! reason. So a batch of large files never overruns a client's timeout, and small files
//! still come back indexed in one call.
//!
//! Pending and failed entries live in memory only: the store itself never holds a half
//! document (one transaction per document), so after a restart an interrupted ingest is
//! simply absent and the file must be added again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::{Caller, Document, Rag, RagError};
use crate::policy::DataClass;

/// Background ingests running at once (each embeds through the engine's queue).
pub(super) const CONCURRENT_INGESTS: usize = 2;

/// Status of a document whose ingest runs.
pub(super) const IN_PROGRESS: &str = "in_progress";
/// Status of a document whose background ingest failed.
pub(super) const FAILED: &str = "failed";

impl Rag {
    /// Adds an uploaded file to a collection like [`Rag::add_file`], waiting at most `wait`.
    /// Returns the stored document (`completed`) when the ingest finished in time, the
    /// pending document (`in_progress`, no chunks) otherwise — always with a zero `wait`;
    /// adding a file whose ingest is already pending returns that pending document.
    ///
    /// # Errors
    /// Checked before anything starts: [`RagError::NotFound`] (collection or file, also when
    /// the caller may not read them), [`RagError::Invalid`] (no write access, class,
    /// attributes). Within `wait`: everything [`Rag::add_file`] returns; after it, the error
    /// is kept as the document's `last_error` with status `failed`.
    pub async fn add_file_within(
        self: &Arc<Self>,
        caller: &Caller,
        collection_id: &str,
        file_id: &str,
        class: Option<DataClass>,
        attributes: BTreeMap<String, serde_json::Value>,
        wait: Duration,
    ) -> Result<Document, RagError> {
        let c = self.writable_collection(caller, collection_id)?;
        let class = Self::doc_class(&c, class)?;
        Self::check_attributes(&attributes)?;
        let f = self.get_file(caller, file_id)?;
        let key = (c.id.clone(), f.id.clone());
        let now = super::now();
        let pending = Document {
            collection_id: c.id.clone(),
            file_id: f.id.clone(),
            source_name: f.filename.clone(),
            sha256: f.sha256.clone(),
            class,
            created_at: now,
            updated_at: now,
            chunk_count: 0,
            status: IN_PROGRESS.into(),
            last_error: None,
            attributes: attributes.clone(),
        };
        {
            let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(d) = jobs.get(&key).filter(|d| d.status == IN_PROGRESS) {
                return Ok(d.clone());
            }
            jobs.insert(key.clone(), pending.clone());
        }
        let (this, caller) = (Arc::clone(self), caller.clone());
        let task = tokio::spawn(async move {
            // The ingest in a task of its own, so that a panic (say, in a PDF parser) ends as
            // a failed entry instead of a forever pending one.
            let inner = {
                let this = Arc::clone(&this);
                let key = key.clone();
                tokio::spawn(async move {
                    let _permit = this.ingest_permits.acquire().await.map_err(|e| RagError::Store(e.to_string()))?;
                    this.add_file(&caller, &key.0, &key.1, Some(class), attributes).await
                })
            };
            let r = inner.await.unwrap_or_else(|e| Err(RagError::Store(format!("ingest task failed: {e}"))));
            let mut jobs = this.jobs.lock().unwrap_or_else(|e| e.into_inner());
            match &r {
                Ok(_) => {
                    jobs.remove(&key);
                }
                Err(e) => {
                    if let Some(d) = jobs.get_mut(&key) {
                        d.status = FAILED.into();
                        d.last_error = Some(e.to_string());
                        d.updated_at = super::now();
                    }
                }
            }
            r
        });
        if wait.is_zero() {
            // No wait: always the pending answer, never a race with a fast ingest.
            return Ok(pending);
        }
        match tokio::time::timeout(wait, task).await {
            Ok(Ok(Ok(doc))) => Ok(doc),
            // Failed in time: the caller gets the error now, so no failed entry stays.
            Ok(Ok(Err(e))) => {
                self.forget_job(&c.id, &f.id);
                Err(e)
            }
            Ok(Err(e)) => Err(RagError::Store(format!("ingest task failed: {e}"))),
            Err(_) => Ok(pending),
        }
    }

    /// Pending and failed documents of a collection (no ACL check: callers checked it).
    pub(super) fn jobs_of(&self, collection_id: &str) -> Vec<Document> {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.iter().filter(|((c, _), _)| c == collection_id).map(|(_, d)| d.clone()).collect()
    }

    /// The job of a file in a collection, if any.
    pub(super) fn job(&self, collection_id: &str, file_id: &str) -> Option<Document> {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.get(&(collection_id.to_string(), file_id.to_string())).cloned()
    }

    /// Drops the entry of a file (failed, or the collection is gone).
    pub(super) fn forget_job(&self, collection_id: &str, file_id: &str) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.remove(&(collection_id.to_string(), file_id.to_string()));
    }

    /// Drops every entry of a collection (deleted).
    pub(super) fn forget_jobs_of(&self, collection_id: &str) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.retain(|(c, _), _| c != collection_id);
    }
}
