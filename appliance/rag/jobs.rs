//! Background ingest of uploaded files: OpenAI's vector-store files are `in_progress` until
//! they are indexed, and clients poll (`create_and_poll`). An add waits up to
//! [`RagSettings::add_wait`](super::RagSettings) for the ingest and answers `completed` (or
//! the error) when it finished by then; otherwise it answers `in_progress`, and the ingest
//! goes on in the background and ends as a stored document or a `failed` entry with the
//! reason. So a batch of large files never overruns a client's timeout, and small files
//! still come back indexed in one call.
//!
//! Files added together form a batch (OpenAI's `vector_store.files_batch`): its status and
//! counts are those of its files, and cancelling it stops the ingests still running (a
//! stopped ingest has written nothing: the store write is one transaction at the very end).
//!
//! Pending, failed and cancelled entries and batches live in memory only (at most
//! [`KEEP_FINISHED`] finished entries and [`KEEP_BATCHES`] batches, oldest dropped first): the store itself
//! never holds a half document (one transaction per document), so after a restart an
//! interrupted ingest is simply absent and the file must be added again.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{Caller, Document, Rag, RagError};
use crate::policy::DataClass;

/// Background ingests running at once (each embeds through the engine's queue).
pub(super) const CONCURRENT_INGESTS: usize = 2;

/// Status of a document whose ingest runs.
pub(super) const IN_PROGRESS: &str = "in_progress";
/// Status of a document whose background ingest failed.
pub(super) const FAILED: &str = "failed";
/// Status of a document whose background ingest was cancelled (nothing stored).
pub(super) const CANCELLED: &str = "cancelled";

/// A background ingest: the document as the API shows it meanwhile, and its stop switch.
pub(super) struct Job {
    doc: Document,
    cancel: CancellationToken,
    /// Which ingest this entry belongs to: a cancelled ingest that ends after the file was
    /// added again must not touch the new ingest's entry.
    serial: u64,
}

/// Serials of [`Job`]s.
static JOB_SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Files added together to one collection (OpenAI `vector_store.files_batch`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileBatch {
    /// `vsfb_` followed by 24 hex digits.
    pub id: String,
    /// The collection.
    pub collection_id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The batch's files, in request order.
    pub file_ids: Vec<String>,
    /// Whether the batch was cancelled.
    pub cancelled: bool,
}

/// Finished (failed or cancelled) entries kept for clients to read; older ones are dropped
/// first when there are more (pending entries are never dropped).
#[cfg(not(test))]
pub(super) const KEEP_FINISHED: usize = 10_000;
#[cfg(test)]
pub(super) const KEEP_FINISHED: usize = 3;
/// Batches kept; the oldest go first when there are more.
pub(super) const KEEP_BATCHES: usize = 1_000;

/// How long a batch create waits between looks at its files.
const BATCH_POLL: Duration = Duration::from_millis(100);

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
        let cancel = CancellationToken::new();
        let serial = JOB_SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        {
            let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(j) = jobs.get(&key).filter(|j| j.doc.status == IN_PROGRESS) {
                return Ok(j.doc.clone());
            }
            jobs.insert(key.clone(), Job { doc: pending.clone(), cancel: cancel.clone(), serial });
            let finished = jobs.values().filter(|j| j.doc.status != IN_PROGRESS).count();
            if finished > KEEP_FINISHED {
                let mut old: Vec<(i64, u64)> = jobs.values().filter(|j| j.doc.status != IN_PROGRESS).map(|j| (j.doc.updated_at, j.serial)).collect();
                old.sort_unstable();
                let drop: std::collections::HashSet<u64> = old.iter().take(finished - KEEP_FINISHED).map(|(_, s)| *s).collect();
                jobs.retain(|_, j| !drop.contains(&j.serial));
            }
        }
        let (this, caller) = (Arc::clone(self), caller.clone());
        let task = tokio::spawn(async move {
            // The ingest in a task of its own, so that a panic (say, in a PDF parser) ends as
            // a failed entry instead of a forever pending one.
            let inner = {
                let this = Arc::clone(&this);
                let key = key.clone();
                tokio::spawn(async move {
                    // Cancelling drops the ingest at an await point; the store write at its end
                    // runs without one, so it is either wholly done or not begun.
                    tokio::select! {
                        // Cancellation first: a cancel that came before the store lock did wins.
                        biased;
                        () = cancel.cancelled() => Ok(None),
                        r = async {
                            let _permit = this.ingest_permits.acquire().await.map_err(|e| RagError::Store(e.to_string()))?;
                            this.add_file(&caller, &key.0, &key.1, Some(class), attributes).await
                        } => r.map(Some),
                    }
                })
            };
            let r = inner.await.unwrap_or_else(|e| Err(RagError::Store(format!("ingest task failed: {e}"))));
            let mut jobs = this.jobs.lock().unwrap_or_else(|e| e.into_inner());
            if jobs.get(&key).is_none_or(|j| j.serial != serial) {
                return r; // forgotten, or the file was added again since
            }
            let (status, error) = match &r {
                Ok(Some(_)) => {
                    jobs.remove(&key);
                    return r;
                }
                Ok(None) => (CANCELLED, None),
                Err(e) => (FAILED, Some(e.to_string())),
            };
            if let Some(j) = jobs.get_mut(&key) {
                j.doc.status = status.into();
                j.doc.last_error = error;
                j.doc.updated_at = super::now();
            }
            r
        });
        if wait.is_zero() {
            // No wait: always the pending answer, never a race with a fast ingest.
            return Ok(pending);
        }
        match tokio::time::timeout(wait, task).await {
            Ok(Ok(Ok(Some(doc)))) => Ok(doc),
            Ok(Ok(Ok(None))) => Ok(self.job(&c.id, &f.id).unwrap_or(pending)),
            // Failed in time: the caller gets the error now, so no failed entry stays.
            Ok(Ok(Err(e))) => {
                self.forget_job(&c.id, &f.id);
                Err(e)
            }
            Ok(Err(e)) => Err(RagError::Store(format!("ingest task failed: {e}"))),
            Err(_) => Ok(pending),
        }
    }

    /// Pending, failed and cancelled documents of a collection (no ACL check: callers
    /// checked it).
    pub(super) fn jobs_of(&self, collection_id: &str) -> Vec<Document> {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.iter().filter(|((c, _), _)| c == collection_id).map(|(_, j)| j.doc.clone()).collect()
    }

    /// The job of a file in a collection, if any.
    pub(super) fn job(&self, collection_id: &str, file_id: &str) -> Option<Document> {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.get(&(collection_id.to_string(), file_id.to_string())).map(|j| j.doc.clone())
    }

    /// Whether an ingest of this file is running in any collection.
    pub(super) fn file_being_ingested(&self, file_id: &str) -> bool {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.iter().any(|((_, f), j)| f == file_id && j.doc.status == IN_PROGRESS)
    }

    /// Adds files as one batch: all are checked first (write access, class, attributes,
    /// every file readable), then ingested in the background; waits up to `wait` for them
    /// and returns the batch with its files' documents (see [`Rag::file_batch`]).
    ///
    /// # Errors
    /// [`RagError::NotFound`] naming the first unreadable file (`(index, error)`), or the
    /// collection's error; nothing is started then.
    pub async fn create_file_batch(
        self: &Arc<Self>,
        caller: &Caller,
        collection_id: &str,
        files: Vec<(String, BTreeMap<String, serde_json::Value>)>,
        wait: Duration,
    ) -> Result<(FileBatch, Vec<Document>), (Option<usize>, RagError)> {
        let c = self.writable_collection(caller, collection_id).map_err(|e| (None, e))?;
        if files.is_empty() {
            return Err((None, RagError::Invalid("file_ids: name at least one file".into())));
        }
        let mut seen: std::collections::HashMap<&str, &BTreeMap<String, serde_json::Value>> = std::collections::HashMap::new();
        for (i, (fid, attrs)) in files.iter().enumerate() {
            Self::check_attributes(attrs).map_err(|e| (Some(i), e))?;
            self.get_file(caller, fid).map_err(|e| (Some(i), e))?;
            if seen.insert(fid, attrs).is_some_and(|a| a != attrs) {
                return Err((Some(i), RagError::Invalid(format!("file_ids: file {fid:?} is named twice with different attributes"))));
            }
        }
        // A file named twice is added once.
        let mut once = std::collections::HashSet::new();
        let files: Vec<(String, BTreeMap<String, serde_json::Value>)> = files.into_iter().filter(|(f, _)| once.insert(f.clone())).collect();
        let batch = FileBatch { id: super::new_id("vsfb_"), collection_id: c.id.clone(), created_at: super::now(), file_ids: files.iter().map(|(f, _)| f.clone()).collect(), cancelled: false };
        {
            let mut batches = self.batches.lock().unwrap_or_else(|e| e.into_inner());
            batches.insert(batch.id.clone(), batch.clone());
            if batches.len() > KEEP_BATCHES {
                let mut old: Vec<(i64, String)> = batches.values().map(|b| (b.created_at, b.id.clone())).collect();
                old.sort_unstable();
                for (_, id) in old.into_iter().take(batches.len() - KEEP_BATCHES) {
                    batches.remove(&id);
                }
            }
        }
        for (fid, attrs) in files {
            // Checked above; a file deleted meanwhile shows up as missing from the batch.
            if let Err(e) = self.add_file_within(caller, &c.id, &fid, None, attrs, Duration::ZERO).await {
                log::info!("batch {}: file {fid} not started: {e}", batch.id);
            }
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let state = self.file_batch(caller, &c.id, &batch.id).map_err(|e| (None, e))?;
            if !state.1.iter().any(|d| d.status == IN_PROGRESS) || tokio::time::Instant::now() >= deadline {
                return Ok(state);
            }
            tokio::time::sleep(BATCH_POLL.min(deadline.saturating_duration_since(tokio::time::Instant::now()))).await;
        }
    }

    /// A batch with the current documents of its files (stored ones `completed`, others
    /// `in_progress`, `failed` or `cancelled`; files whose document was removed since are
    /// left out).
    ///
    /// # Errors
    /// [`RagError::NotFound`] when the caller may not read the collection or the batch is
    /// not one of it (or is gone after a restart).
    pub fn file_batch(&self, caller: &Caller, collection_id: &str, batch_id: &str) -> Result<(FileBatch, Vec<Document>), RagError> {
        let c = self.get_collection(caller, collection_id)?;
        let batch = self.batches.lock().unwrap_or_else(|e| e.into_inner()).get(batch_id).filter(|b| b.collection_id == c.id).cloned();
        let batch = batch.ok_or_else(|| RagError::NotFound(format!("file batch {batch_id:?} in vector store {collection_id:?}")))?;
        let mut docs = Vec::with_capacity(batch.file_ids.len());
        for fid in &batch.file_ids {
            match self.job(&c.id, fid) {
                Some(d) => docs.push(d),
                None => docs.extend(self.store.document(&c.id, fid)?),
            }
        }
        Ok((batch, docs))
    }

    /// Cancels a batch: ingests of its files still running stop (nothing of them is
    /// stored) and show as `cancelled`; finished ones stay.
    ///
    /// # Errors
    /// As [`Rag::file_batch`], and [`RagError::Invalid`] for readers outside the owner
    /// department.
    pub fn cancel_file_batch(&self, caller: &Caller, collection_id: &str, batch_id: &str) -> Result<(FileBatch, Vec<Document>), RagError> {
        let c = self.writable_collection(caller, collection_id)?;
        let (batch, _) = self.file_batch(caller, &c.id, batch_id)?;
        let mut stopped = 0;
        {
            let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
            for fid in &batch.file_ids {
                if let Some(j) = jobs.get_mut(&(c.id.clone(), fid.clone())).filter(|j| j.doc.status == IN_PROGRESS) {
                    j.cancel.cancel();
                    j.doc.status = CANCELLED.into();
                    j.doc.updated_at = super::now();
                    stopped += 1;
                }
            }
        }
        // A batch that had finished stays as it was.
        if stopped > 0 {
            if let Some(b) = self.batches.lock().unwrap_or_else(|e| e.into_inner()).get_mut(&batch.id) {
                b.cancelled = true;
            }
        }
        self.file_batch(caller, &c.id, batch_id)
    }

    /// Drops the entry of a file (failed, or the collection is gone).
    pub(super) fn forget_job(&self, collection_id: &str, file_id: &str) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.remove(&(collection_id.to_string(), file_id.to_string()));
    }

    /// Drops every entry and batch of a collection (deleted); running ingests are stopped.
    pub(super) fn forget_jobs_of(&self, collection_id: &str) {
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.retain(|(c, _), j| {
            if c == collection_id {
                j.cancel.cancel();
            }
            c != collection_id
        });
        self.batches.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, b| b.collection_id != collection_id);
    }
}
