//! `/v1/vector_stores/{id}/file_batches` as in OpenAI's Vector Store File Batches API
//! reference: create (`file_ids` with one `attributes` for all, or `files` with attributes
//! each), retrieve, cancel, and list the batch's files. What the SDKs' `create_and_poll` and
//! `upload_and_poll` use.
//!
//! A create checks every file first (404 naming `file_ids[i]` / `files[i].file_id`, nothing
//! started), then indexes them in the background and waits up to `[rag] add_file_wait_secs`
//! for them: a small batch comes back `completed`, a large one `in_progress` and clients
//! poll. Unlike a single add, a file that cannot be read does not fail the request: it ends
//! `failed` with `last_error`, and the batch's `file_counts` say so. Batches are kept in
//! memory (a restart forgets them; their finished documents stay in the store).

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::error::ApiError;
use super::json::ApiJson;
use super::page::ListQuery;
use super::AppState;
use crate::rag::{Document, FileBatch};
use crate::tls::PeerIdentity;

/// Most files in one batch (OpenAI's limit).
pub const MAX_BATCH_FILES: usize = 2000;

/// One entry of `files`.
#[derive(Debug, Deserialize)]
pub(crate) struct BatchFile {
    file_id: String,
    #[serde(default)]
    attributes: Option<Map<String, Value>>,
}

/// `POST /v1/vector_stores/{id}/file_batches` body (`chunking_strategy` is accepted and
/// ignored, as for single files).
#[derive(Debug, Deserialize)]
pub(crate) struct CreateBatch {
    #[serde(default)]
    file_ids: Option<Vec<String>>,
    #[serde(default)]
    files: Option<Vec<BatchFile>>,
    #[serde(default)]
    attributes: Option<Map<String, Value>>,
}

/// The OpenAI `vector_store.files_batch` object: status `in_progress` while a file is,
/// then `cancelled` (if cancelled), `failed` (if every file failed) or `completed`.
fn batch_object(b: &FileBatch, docs: &[Document]) -> Value {
    let count = |s: &str| docs.iter().filter(|d| d.status == s).count();
    let (in_progress, failed, cancelled, completed) = (count("in_progress"), count("failed"), count("cancelled"), count("completed"));
    let status = if in_progress > 0 {
        "in_progress"
    } else if b.cancelled {
        "cancelled"
    } else if !docs.is_empty() && failed == docs.len() {
        "failed"
    } else {
        "completed"
    };
    json!({
        "id": b.id, "object": "vector_store.files_batch", "created_at": b.created_at, "vector_store_id": b.collection_id,
        "status": status,
        "file_counts": {"in_progress": in_progress, "completed": completed, "failed": failed, "cancelled": cancelled, "total": docs.len()},
    })
}

/// The files of a create request, each with its attributes.
type Requested = Vec<(String, Option<Map<String, Value>>)>;

/// `POST /v1/vector_stores/{id}/file_batches`.
pub(crate) async fn create(State(st): State<AppState>, who: PeerIdentity, Path(id): Path<String>, ApiJson(req): ApiJson<CreateBatch>) -> Result<Response, ApiError> {
    let (rag, caller) = (super::rag_store(&st)?, super::rag_caller(&who));
    let (files, param): (Requested, fn(usize) -> String) = match (req.file_ids, req.files) {
        (Some(_), Some(_)) => return Err(ApiError::invalid("files", "give either 'file_ids' or 'files', not both")),
        (Some(ids), None) => (ids.into_iter().map(|f| (f, req.attributes.clone())).collect(), |i| format!("file_ids[{i}]")),
        (None, Some(fs)) => (fs.into_iter().map(|f| (f.file_id, f.attributes)).collect(), |i| format!("files[{i}].file_id")),
        (None, None) => return Err(ApiError::invalid("file_ids", "'file_ids' (or 'files') is required: name the uploaded files to add")),
    };
    if files.is_empty() || files.len() > MAX_BATCH_FILES {
        return Err(ApiError::invalid("file_ids", format!("name 1 to {MAX_BATCH_FILES} files")));
    }
    let mut checked = Vec::with_capacity(files.len());
    for (i, (fid, attrs)) in files.into_iter().enumerate() {
        let attrs = super::vector_stores::check_attributes(attrs).map_err(|mut e| {
            e.param = Some(format!("{}.attributes", param(i)));
            e
        })?;
        checked.push((fid, attrs.into_iter().collect::<BTreeMap<_, _>>()));
    }
    let (batch, docs) = rag.create_file_batch(&caller, &id, checked, rag.add_wait()).await.map_err(|(i, e)| {
        let mut e = ApiError::from_rag(e);
        if let Some(i) = i {
            e.param = Some(param(i));
        }
        e
    })?;
    Ok(axum::Json(batch_object(&batch, &docs)).into_response())
}

/// `GET /v1/vector_stores/{id}/file_batches/{batch_id}` (what `create_and_poll` polls).
pub(crate) async fn retrieve(State(st): State<AppState>, who: PeerIdentity, Path((id, batch_id)): Path<(String, String)>) -> Result<Response, ApiError> {
    let (rag, caller) = (super::rag_store(&st)?, super::rag_caller(&who));
    let (b, docs) = super::blocking(move || rag.file_batch(&caller, &id, &batch_id)).await?;
    Ok(axum::Json(batch_object(&b, &docs)).into_response())
}

/// `POST /v1/vector_stores/{id}/file_batches/{batch_id}/cancel`.
pub(crate) async fn cancel(State(st): State<AppState>, who: PeerIdentity, Path((id, batch_id)): Path<(String, String)>) -> Result<Response, ApiError> {
    let (rag, caller) = (super::rag_store(&st)?, super::rag_caller(&who));
    let (b, docs) = super::blocking(move || rag.cancel_file_batch(&caller, &id, &batch_id)).await?;
    Ok(axum::Json(batch_object(&b, &docs)).into_response())
}

/// `GET /v1/vector_stores/{id}/file_batches/{batch_id}/files`: query `filter` (`in_progress`,
/// `completed`, `failed`, `cancelled`) and the list parameters.
pub(crate) async fn list_files(State(st): State<AppState>, who: PeerIdentity, Path((id, batch_id)): Path<(String, String)>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let (rag, caller) = (super::rag_store(&st)?, super::rag_caller(&who));
    let q = ListQuery::parse(q.as_deref(), 20, 100)?;
    let filter = super::vector_stores::status_filter(&q)?;
    let (_, docs) = {
        let (rag, caller) = (rag.clone(), caller.clone());
        super::blocking(move || rag.file_batch(&caller, &id, &batch_id)).await?
    };
    let files = super::blocking(move || Ok(rag.list_files(&caller).unwrap_or_default())).await?;
    let size = |fid: &str| files.iter().find(|f| f.id == fid).map_or(0, |f| f.bytes);
    let items = docs.iter().filter(|d| filter.as_deref().is_none_or(|f| d.status == f)).map(|d| (d.file_id.clone(), d.created_at, super::vector_stores::file_object(d, size(&d.file_id)))).collect();
    Ok(axum::Json(q.page(items)?).into_response())
}
