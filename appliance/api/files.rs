//! `/v1/files` as in OpenAI's Files API reference: upload (`multipart/form-data` with
//! `purpose` and `file`), list, retrieve, delete and content. The bytes are kept by the RAG
//! store ([`crate::rag::Rag::put_file`]) and owned by the uploader; which caller may read a
//! file is the store's decision: one that may not gets 404, as for a file that does not
//! exist, and never sees it in lists.

use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::error::ApiError;
use super::AppState;
use crate::rag::StoredFile;
use crate::tls::PeerIdentity;

/// Purposes OpenAI's Files API knows. Any of them is accepted (the store keeps the string);
/// only `assistants` and `user_data` make sense for file search.
pub(crate) const PURPOSES: &[&str] = &["assistants", "batch", "fine-tune", "vision", "user_data", "evals"];

/// The OpenAI `file` object of a stored file.
pub(crate) fn file_object(f: &StoredFile) -> Value {
    json!({
        "id": f.id, "object": "file", "bytes": f.bytes, "created_at": f.created_at,
        "filename": f.filename, "purpose": f.purpose,
        "status": "processed", "status_details": null, "expires_at": null,
    })
}

/// `POST /v1/files`: multipart fields `purpose` (required) and `file` (required, with a file
/// name); other fields (e.g. `expires_after[...]`) are accepted and ignored. The body limit
/// is `[rag] max_file_bytes` plus room for the multipart framing (413 beyond).
pub(crate) async fn upload(State(st): State<AppState>, who: PeerIdentity, mut form: Multipart) -> Result<Response, ApiError> {
    let rag = super::rag_store(&st)?;
    let (mut purpose, mut file): (Option<String>, Option<(String, bytes::Bytes)>) = (None, None);
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(multipart_error(&e)),
        };
        match field.name() {
            Some("purpose") => purpose = Some(field.text().await.map_err(|e| multipart_error(&e))?),
            Some("file") => {
                let name = field.file_name().map(str::to_string).filter(|n| !n.trim().is_empty()).ok_or_else(|| ApiError::invalid("file", "the 'file' part needs a file name (Content-Disposition filename=...)"))?;
                let data = field.bytes().await.map_err(|e| multipart_error(&e))?;
                file = Some((name, data));
            }
            _ => {}
        }
    }
    let purpose = purpose.ok_or_else(|| ApiError::invalid("purpose", "'purpose' is required, e.g. \"assistants\" or \"user_data\""))?;
    if !PURPOSES.contains(&purpose.as_str()) {
        return Err(ApiError::invalid("purpose", format!("unknown purpose {purpose:?}; expected one of {}", PURPOSES.join(", "))));
    }
    let (name, data) = file.ok_or_else(|| ApiError::invalid("file", "'file' is required: send the document as a multipart file part"))?;
    if data.is_empty() {
        return Err(ApiError::invalid("file", "the uploaded file is empty"));
    }
    let caller = super::rag_caller(&who);
    let f = super::blocking(move || rag.put_file(&caller, &name, &purpose, &data)).await?;
    Ok(axum::Json(file_object(&f)).into_response())
}

fn multipart_error(e: &axum::extract::multipart::MultipartError) -> ApiError {
    let mut err = ApiError::invalid("file", format!("the multipart/form-data body could not be read: {}", e.body_text()));
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        err.status = e.status();
        err.code = Some("request_too_large");
        err.message = "the uploaded file is larger than this box accepts ([rag] max_file_bytes)".into();
    }
    err
}

/// `GET /v1/files`: the caller's readable files, newest first by default; query `purpose`,
/// `limit` (1..=10000, default 10000), `order` (`asc`/`desc`), `after`.
pub(crate) async fn list(State(st): State<AppState>, who: PeerIdentity, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let rag = super::rag_store(&st)?;
    let q = super::page::ListQuery::parse(q.as_deref(), 10_000, 10_000)?;
    let purpose = q.extra("purpose").map(str::to_string);
    let caller = super::rag_caller(&who);
    let files = super::blocking(move || rag.list_files(&caller)).await?;
    let items = files.iter().filter(|f| purpose.as_deref().is_none_or(|p| f.purpose == p)).map(|f| (f.id.clone(), f.created_at, file_object(f))).collect();
    Ok(axum::Json(q.page(items)?).into_response())
}

/// `GET /v1/files/{file_id}`.
pub(crate) async fn retrieve(State(st): State<AppState>, who: PeerIdentity, Path(id): Path<String>) -> Result<Response, ApiError> {
    let rag = super::rag_store(&st)?;
    let caller = super::rag_caller(&who);
    let f = super::blocking(move || rag.get_file(&caller, &id)).await?;
    Ok(axum::Json(file_object(&f)).into_response())
}

/// `DELETE /v1/files/{file_id}`: also removes the file's documents from every vector store.
pub(crate) async fn delete(State(st): State<AppState>, who: PeerIdentity, Path(id): Path<String>) -> Result<Response, ApiError> {
    let rag = super::rag_store(&st)?;
    let caller = super::rag_caller(&who);
    let fid = id.clone();
    super::blocking(move || rag.delete_file(&caller, &fid)).await?;
    Ok(axum::Json(json!({"id": id, "object": "file", "deleted": true})).into_response())
}

/// `GET /v1/files/{file_id}/content`: the bytes as uploaded (`application/octet-stream`).
pub(crate) async fn content(State(st): State<AppState>, who: PeerIdentity, Path(id): Path<String>) -> Result<Response, ApiError> {
    let rag = super::rag_store(&st)?;
    let caller = super::rag_caller(&who);
    let data = super::blocking(move || rag.file_content(&caller, &id)).await?;
    let mut resp = data.into_response();
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    Ok(resp)
}
