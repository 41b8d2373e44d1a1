//! `/v1/vector_stores` as in OpenAI's Vector Stores API reference: create, list, retrieve,
//! delete; files add, list, retrieve, delete; search. A vector store is a RAG collection.
//!
//! zonegate extensions, all optional, in the create request's `metadata` (string values, as
//! OpenAI's metadata requires):
//! - `data_class`: `public` … `social`, the collection's class (the `X-Data-Class` header
//!   wins; default `policy.default_class`). Documents are never looser than it.
//! - `read_everyone: "true"`, or `read_departments: "Bauamt, Hauptamt"`, or
//!   `read_users: "u1, u2"` (at most one of them): who may read besides the owner department
//!   (the creator's department). Without any, only the owner department reads.
//!
//! Other metadata keys become the collection's attributes. Responses echo `data_class`,
//! `owner_department` and the read key in `metadata`.
//!
//! Files are indexed in the background, as with OpenAI: `POST …/files` waits up to
//! `[rag] add_file_wait_secs` (default 30) and answers `status: "completed"` when the
//! document was extracted, chunked, embedded and indexed by then — or a 400 naming the
//! reason when it cannot be read, with nothing of it stored — and otherwise
//! `status: "in_progress"`; clients poll `GET …/files/{file_id}` (the SDKs'
//! `create_and_poll`) until `completed` or `failed` (with `last_error`). A create with
//! `file_ids` shares one such wait among its files; file batches are in `file_batches.rs`.
//! A caller who may not read a vector store
//! gets 404 for it and everything in it, and never sees it in lists.

use std::collections::BTreeMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::error::ApiError;
use super::json::ApiJson;
use super::page::ListQuery;
use super::AppState;
use crate::policy::DataClass;
use crate::rag::{Access, Collection, Document, Filter, Hit, NewCollection, SearchMode, SearchRequest};
use crate::tls::PeerIdentity;

/// Metadata keys with a meaning to zonegate (see the module docs).
const KEY_CLASS: &str = "data_class";
const KEY_OWNER: &str = "owner_department";
const KEY_EVERYONE: &str = "read_everyone";
const KEY_DEPARTMENTS: &str = "read_departments";
const KEY_USERS: &str = "read_users";
/// OpenAI's metadata limits: 16 pairs, keys up to 64 and values up to 512 characters.
const MAX_METADATA: usize = 16;

/// `POST /v1/vector_stores` body.
#[derive(Debug, Deserialize)]
pub(crate) struct CreateRequest {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    metadata: Option<Map<String, Value>>,
    #[serde(default)]
    file_ids: Vec<String>,
}

/// `POST /v1/vector_stores/{id}/files` body (`chunking_strategy` is accepted and ignored:
/// the store chunks by structure with `[rag] chunk_tokens`).
#[derive(Debug, Deserialize)]
pub(crate) struct AddFileRequest {
    file_id: String,
    #[serde(default)]
    attributes: Option<Map<String, Value>>,
}

/// `POST /v1/vector_stores/{id}/search` body.
#[derive(Debug, Deserialize)]
pub(crate) struct SearchBody {
    query: Query,
    #[serde(default)]
    max_num_results: Option<i64>,
    #[serde(default)]
    filters: Option<Filter>,
    #[serde(default)]
    ranking_options: Option<RankingOptions>,
    /// Accepted and ignored: zonegate does not rewrite queries.
    #[serde(default)]
    #[allow(dead_code)]
    rewrite_query: Option<bool>,
}

/// `query`: one string or several (joined with a space).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Query {
    One(String),
    Many(Vec<String>),
}

/// `ranking_options`: `ranker` `auto`/`default-2024-11-15`/`hybrid` (both halves fused),
/// or the zonegate extensions `lexical` (BM25 only) and `vector` (embeddings only);
/// `score_threshold` 0..=1.
#[derive(Debug, Deserialize)]
struct RankingOptions {
    #[serde(default)]
    ranker: Option<String>,
    #[serde(default)]
    score_threshold: Option<f64>,
}

/// Parses the zonegate keys out of create metadata: (class, read access, other attributes).
fn split_metadata(meta: Map<String, Value>, headers: &HeaderMap, default: DataClass) -> Result<(DataClass, Access, BTreeMap<String, Value>), ApiError> {
    if meta.len() > MAX_METADATA {
        return Err(ApiError::invalid("metadata", format!("'metadata' has {} keys; at most {MAX_METADATA} are allowed", meta.len())));
    }
    let mut strings = BTreeMap::new();
    for (k, v) in meta {
        let Value::String(s) = v else { return Err(ApiError::invalid(format!("metadata.{k}"), "metadata values must be strings")) };
        if k.chars().count() > 64 || s.chars().count() > 512 {
            return Err(ApiError::invalid(format!("metadata.{k}"), "metadata keys are at most 64 and values at most 512 characters"));
        }
        strings.insert(k, s);
    }
    let class = match super::relayed::header_class(headers)? {
        Some(c) => c,
        None => match strings.remove(KEY_CLASS) {
            Some(s) => s.trim().parse().map_err(|_| ApiError::invalid("metadata.data_class", format!("unknown data class {s:?}; expected public, internal, personal, confidential or social")))?,
            None => default,
        },
    };
    strings.remove(KEY_CLASS);
    if strings.remove(KEY_OWNER).is_some() {
        return Err(ApiError::invalid("metadata.owner_department", "the owner department is the creator's department (from the client certificate) and cannot be set"));
    }
    let list = |s: String| -> Vec<String> { s.split(',').map(str::trim).filter(|x| !x.is_empty()).map(str::to_string).collect() };
    let everyone = strings.remove(KEY_EVERYONE);
    let departments = strings.remove(KEY_DEPARTMENTS);
    let users = strings.remove(KEY_USERS);
    let access = match (everyone, departments, users) {
        (None, None, None) => Access::Departments(Vec::new()),
        (Some(e), None, None) => match e.trim() {
            "true" => Access::Everyone,
            "false" => Access::Departments(Vec::new()),
            _ => return Err(ApiError::invalid("metadata.read_everyone", "expected \"true\" or \"false\"")),
        },
        (None, Some(d), None) => Access::Departments(list(d)),
        (None, None, Some(u)) => Access::Users(list(u)),
        _ => return Err(ApiError::invalid("metadata", "give at most one of read_everyone, read_departments and read_users")),
    };
    let attributes = strings.into_iter().map(|(k, v)| (k, Value::String(v))).collect();
    Ok((class, access, attributes))
}

/// The `metadata` a vector store shows: its attributes plus the zonegate keys.
fn metadata_of(c: &Collection) -> Value {
    let mut m: Map<String, Value> = c.attributes.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    m.insert(KEY_CLASS.into(), json!(c.class.as_str()));
    m.insert(KEY_OWNER.into(), json!(c.owner_department));
    match &c.read {
        Access::Everyone => {
            m.insert(KEY_EVERYONE.into(), json!("true"));
        }
        Access::Departments(d) if !d.is_empty() => {
            m.insert(KEY_DEPARTMENTS.into(), json!(d.join(",")));
        }
        Access::Users(u) => {
            m.insert(KEY_USERS.into(), json!(u.join(",")));
        }
        Access::Departments(_) => {}
    }
    Value::Object(m)
}

/// The OpenAI `vector_store` object; `docs` are the collection's documents (for the counts).
fn store_object(c: &Collection, docs: &[Document]) -> Value {
    let count = |s: &str| docs.iter().filter(|d| d.status == s).count();
    let (failed, in_progress, cancelled) = (count("failed"), count("in_progress"), count("cancelled"));
    let completed = docs.len() - failed - in_progress - cancelled;
    json!({
        "id": c.id, "object": "vector_store", "created_at": c.created_at, "name": c.name,
        "usage_bytes": c.bytes,
        "file_counts": {"in_progress": in_progress, "completed": completed, "failed": failed, "cancelled": cancelled, "total": docs.len()},
        "status": if in_progress > 0 { "in_progress" } else { "completed" }, "expires_after": null, "expires_at": null,
        "last_active_at": docs.iter().map(|d| d.updated_at).max().unwrap_or(c.created_at).max(c.created_at),
        "metadata": metadata_of(c),
    })
}

/// The OpenAI `vector_store.file` object of a document (`usage_bytes`: the stored file's size).
pub(crate) fn file_object(d: &Document, usage_bytes: u64) -> Value {
    let last_error = d.last_error.as_ref().map(|m| json!({"code": "invalid_file", "message": m}));
    json!({
        "id": d.file_id, "object": "vector_store.file", "usage_bytes": usage_bytes, "created_at": d.created_at,
        "vector_store_id": d.collection_id, "status": d.status, "last_error": last_error,
        "attributes": d.attributes, "chunking_strategy": {"type": "other"},
    })
}

async fn store_json(st: &AppState, who: &PeerIdentity, c: Collection) -> Result<Value, ApiError> {
    let (rag, caller) = (super::rag_store(st)?, super::rag_caller(who));
    let id = c.id.clone();
    let docs = super::blocking(move || rag.list_documents(&caller, &id)).await?;
    Ok(store_object(&c, &docs))
}

/// `POST /v1/vector_stores`: creates the store (owned by the caller's department) and adds
/// `file_ids` as one file batch ([`crate::rag::Rag::create_file_batch`]: all checked first,
/// 404 naming `file_ids[i]`; one add wait for all). If a file fails within the wait, the
/// new store is removed again and the error returned (nothing half-made stays); files
/// still running then go on in the background (`file_counts`).
pub(crate) async fn create(State(st): State<AppState>, who: PeerIdentity, headers: HeaderMap, ApiJson(req): ApiJson<CreateRequest>) -> Result<Response, ApiError> {
    let rag = super::rag_store(&st)?;
    let caller = super::rag_caller(&who);
    let (class, read, attributes) = split_metadata(req.metadata.unwrap_or_default(), &headers, st.policy.default_class)?;
    // OpenAI's name is optional; the store wants a unique one.
    let name = req.name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| super::stream::new_id("vector-store-"));
    let spec = NewCollection { name, class, owner_department: who.department.clone(), read, attributes };
    let c = {
        let (rag, caller) = (rag.clone(), caller.clone());
        super::blocking(move || rag.create_collection(&caller, spec)).await?
    };
    if !req.file_ids.is_empty() {
        // The files as one batch: all checked, then ingested side by side within one wait.
        let files = req.file_ids.iter().map(|f| (f.clone(), BTreeMap::new())).collect();
        let failed = match rag.create_file_batch(&caller, &c.id, files, rag.add_wait()).await {
            Err((i, e)) => Some((i, ApiError::from_rag(e))),
            Ok((_, docs)) => docs.iter().find(|d| d.status == "failed").map(|d| {
                let i = req.file_ids.iter().position(|f| *f == d.file_id);
                (i, ApiError::invalid("file", d.last_error.clone().unwrap_or_default()).with_code("invalid_file"))
            }),
        };
        if let Some((i, mut e)) = failed {
            if let Err(undo) = rag.delete_collection(&caller, &c.id) {
                log::error!("removing vector store {} after a failed create: {undo}", c.id);
            }
            if let Some(i) = i {
                e.param = Some(format!("file_ids[{i}]"));
            }
            return Err(e);
        }
    }
    let c = {
        let (rag, caller, id) = (rag.clone(), caller.clone(), c.id.clone());
        super::blocking(move || rag.get_collection(&caller, &id)).await?
    };
    Ok(axum::Json(store_json(&st, &who, c).await?).into_response())
}

/// `GET /v1/vector_stores`: the stores the caller may read (`limit` 1..=100, default 20).
pub(crate) async fn list(State(st): State<AppState>, who: PeerIdentity, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let (rag, caller) = (super::rag_store(&st)?, super::rag_caller(&who));
    let q = ListQuery::parse(q.as_deref(), 20, 100)?;
    let stores = super::blocking(move || {
        let mut out = Vec::new();
        for c in rag.list_collections(&caller)? {
            let docs = rag.list_documents(&caller, &c.id)?;
            out.push((c.id.clone(), c.created_at, store_object(&c, &docs)));
        }
        Ok(out)
    })
    .await?;
    Ok(axum::Json(q.page(stores)?).into_response())
}

/// `GET /v1/vector_stores/{id}`.
pub(crate) async fn retrieve(State(st): State<AppState>, who: PeerIdentity, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (rag, caller) = (super::rag_store(&st)?, super::rag_caller(&who));
    let c = super::blocking(move || rag.get_collection(&caller, &id)).await?;
    Ok(axum::Json(store_json(&st, &who, c).await?).into_response())
}

/// `DELETE /v1/vector_stores/{id}`: the store and its index; uploaded files stay in `/v1/files`.
pub(crate) async fn delete(State(st): State<AppState>, who: PeerIdentity, Path(id): Path<String>) -> Result<Response, ApiError> {
    let (rag, caller) = (super::rag_store(&st)?, super::rag_caller(&who));
    let vid = id.clone();
    super::blocking(move || rag.delete_collection(&caller, &vid)).await?;
    Ok(axum::Json(json!({"id": id, "object": "vector_store.deleted", "deleted": true})).into_response())
}

/// Attribute values as OpenAI allows them: strings, numbers or booleans; at most 16.
pub(crate) fn check_attributes(attrs: Option<Map<String, Value>>) -> Result<BTreeMap<String, Value>, ApiError> {
    let attrs = attrs.unwrap_or_default();
    if attrs.len() > MAX_METADATA {
        return Err(ApiError::invalid("attributes", format!("'attributes' has {} keys; at most {MAX_METADATA} are allowed", attrs.len())));
    }
    for (k, v) in &attrs {
        if !(v.is_string() || v.is_number() || v.is_boolean()) || k.chars().count() > 64 || v.as_str().is_some_and(|s| s.chars().count() > 512) {
            return Err(ApiError::invalid(format!("attributes.{k}"), "attribute values are strings (up to 512 characters), numbers or booleans; keys up to 64 characters"));
        }
    }
    Ok(attrs.into_iter().collect())
}

/// `POST /v1/vector_stores/{id}/files`: extracts, chunks, embeds and indexes an uploaded
/// file; `completed` when done within the add wait, else `in_progress` (see the module docs).
pub(crate) async fn add_file(State(st): State<AppState>, who: PeerIdentity, Path(id): Path<String>, ApiJson(req): ApiJson<AddFileRequest>) -> Result<Response, ApiError> {
    let (rag, caller) = (super::rag_store(&st)?, super::rag_caller(&who));
    let attributes = check_attributes(req.attributes)?;
    let doc = rag.add_file_within(&caller, &id, &req.file_id, None, attributes, rag.add_wait()).await.map_err(ApiError::from_rag)?;
    let bytes = usage_bytes(&st, &who, &doc.file_id).await;
    Ok(axum::Json(file_object(&doc, bytes)).into_response())
}

/// The stored file's size, 0 when the caller may not read the raw file.
async fn usage_bytes(st: &AppState, who: &PeerIdentity, file_id: &str) -> u64 {
    let Ok(rag) = super::rag_store(st) else { return 0 };
    let (caller, fid) = (super::rag_caller(who), file_id.to_string());
    super::blocking(move || rag.get_file(&caller, &fid)).await.map_or(0, |f| f.bytes)
}

/// `GET /v1/vector_stores/{id}/files`: query `filter` (`in_progress`, `completed`, `failed`,
/// `cancelled`) and the list parameters.
pub(crate) async fn list_files(State(st): State<AppState>, who: PeerIdentity, Path(id): Path<String>, RawQuery(q): RawQuery) -> Result<Response, ApiError> {
    let (rag, caller) = (super::rag_store(&st)?, super::rag_caller(&who));
    let q = ListQuery::parse(q.as_deref(), 20, 100)?;
    let filter = status_filter(&q)?;
    let docs = {
        let rag = rag.clone();
        let caller = caller.clone();
        super::blocking(move || rag.list_documents(&caller, &id)).await?
    };
    let files = super::blocking(move || Ok(rag.list_files(&caller).unwrap_or_default())).await?;
    let size = |fid: &str| files.iter().find(|f| f.id == fid).map_or(0, |f| f.bytes);
    let items = docs.iter().filter(|d| filter.as_deref().is_none_or(|f| d.status == f)).map(|d| (d.file_id.clone(), d.created_at, file_object(d, size(&d.file_id)))).collect();
    Ok(axum::Json(q.page(items)?).into_response())
}

/// The `filter` query parameter of file lists: a file status.
///
/// # Errors
/// 400 naming `filter` for anything but `in_progress`, `completed`, `failed`, `cancelled`.
pub(crate) fn status_filter(q: &ListQuery) -> Result<Option<String>, ApiError> {
    let filter = q.extra("filter").map(str::to_string);
    if let Some(f) = filter.as_deref().filter(|f| !["in_progress", "completed", "failed", "cancelled"].contains(f)) {
        return Err(ApiError::invalid("filter", format!("unknown filter {f:?}; expected in_progress, completed, failed or cancelled")));
    }
    Ok(filter)
}

/// `GET /v1/vector_stores/{id}/files/{file_id}` (what the SDKs' `create_and_poll` polls).
pub(crate) async fn retrieve_file(State(st): State<AppState>, who: PeerIdentity, Path((id, file_id)): Path<(String, String)>) -> Result<Response, ApiError> {
    let (rag, caller) = (super::rag_store(&st)?, super::rag_caller(&who));
    let fid = file_id.clone();
    let doc = super::blocking(move || {
        rag.list_documents(&caller, &id)?.into_iter().find(|d| d.file_id == fid).ok_or_else(|| crate::rag::RagError::NotFound(format!("no file {fid} in vector store {id}")))
    })
    .await?;
    let bytes = usage_bytes(&st, &who, &file_id).await;
    Ok(axum::Json(file_object(&doc, bytes)).into_response())
}

/// `DELETE /v1/vector_stores/{id}/files/{file_id}`: removes the document and its chunks; the
/// uploaded file stays in `/v1/files`.
pub(crate) async fn delete_file(State(st): State<AppState>, who: PeerIdentity, Path((id, file_id)): Path<(String, String)>) -> Result<Response, ApiError> {
    let (rag, caller) = (super::rag_store(&st)?, super::rag_caller(&who));
    let fid = file_id.clone();
    super::blocking(move || rag.remove_file(&caller, &id, &fid)).await?;
    Ok(axum::Json(json!({"id": file_id, "object": "vector_store.file.deleted", "deleted": true})).into_response())
}

/// Checks the search parameters shared by the search endpoint and chat retrieval.
///
/// # Errors
/// 400 naming `max_num_results` (1..=50) or `ranking_options.*`.
pub(crate) fn search_request(collection_ids: Vec<String>, query: String, max_num_results: Option<i64>, default_max: usize, filter: Option<Filter>, ranker: Option<&str>, score_threshold: Option<f64>) -> Result<SearchRequest, ApiError> {
    if query.trim().is_empty() {
        return Err(ApiError::invalid("query", "'query' must not be empty"));
    }
    let max_results = match max_num_results {
        None => default_max,
        Some(n) if (1..=50).contains(&n) => n as usize,
        Some(n) => return Err(ApiError::invalid("max_num_results", format!("{n} is not valid for 'max_num_results': expected 1 to 50"))),
    };
    let mode = match ranker {
        None | Some("auto" | "default-2024-11-15" | "hybrid") => SearchMode::Hybrid,
        Some("lexical") => SearchMode::Lexical,
        Some("vector") => SearchMode::Vector,
        Some(r) => return Err(ApiError::invalid("ranking_options.ranker", format!("unknown ranker {r:?}; expected auto, default-2024-11-15, hybrid, lexical or vector"))),
    };
    let score_threshold = match score_threshold {
        None => None,
        Some(t) if (0.0..=1.0).contains(&t) => Some(t as f32),
        Some(t) => return Err(ApiError::invalid("ranking_options.score_threshold", format!("{t} is not valid for 'score_threshold': expected 0 to 1"))),
    };
    Ok(SearchRequest { collection_ids, query, max_results, filter, score_threshold, mode })
}

/// One search result item as OpenAI shapes it, plus the zonegate extension `chunk_index`.
fn hit_object(h: &Hit) -> Value {
    json!({
        "file_id": h.file_id, "filename": h.source_name, "score": h.score, "attributes": h.attributes,
        "content": [{"type": "text", "text": h.text}], "chunk_index": h.chunk_index,
    })
}

/// `POST /v1/vector_stores/{id}/search`: hybrid search within one store (as the caller).
pub(crate) async fn search(State(st): State<AppState>, who: PeerIdentity, Path(id): Path<String>, ApiJson(body): ApiJson<SearchBody>) -> Result<Response, ApiError> {
    let (rag, caller) = (super::rag_store(&st)?, super::rag_caller(&who));
    let queries = match body.query {
        Query::One(q) => vec![q],
        Query::Many(q) => q,
    };
    let ranking = body.ranking_options.unwrap_or(RankingOptions { ranker: None, score_threshold: None });
    let req = search_request(vec![id], queries.join(" "), body.max_num_results, 10, body.filters, ranking.ranker.as_deref(), ranking.score_threshold)?;
    let hits = rag.search(&caller, &req).await.map_err(ApiError::from_rag)?;
    let data: Vec<Value> = hits.iter().map(hit_object).collect();
    Ok(axum::Json(json!({"object": "vector_store.search_results.page", "search_query": queries, "data": data, "has_more": false, "next_page": null})).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn zonegate_keys_become_class_and_access_the_rest_attributes() {
        let (class, access, attrs) = split_metadata(meta(json!({"data_class": "confidential", "read_departments": "Bauamt, Hauptamt", "thema": "IT"})), &HeaderMap::new(), DataClass::Internal).unwrap();
        assert_eq!(class, DataClass::Confidential);
        assert!(matches!(access, Access::Departments(d) if d == ["Bauamt", "Hauptamt"]));
        assert_eq!(attrs.keys().collect::<Vec<_>>(), ["thema"]);
        let (class, access, _) = split_metadata(Map::new(), &HeaderMap::new(), DataClass::Internal).unwrap();
        assert_eq!(class, DataClass::Internal);
        assert!(matches!(access, Access::Departments(d) if d.is_empty()));
    }

    #[test]
    fn header_class_wins_and_bad_values_name_the_key() {
        let mut h = HeaderMap::new();
        h.insert("x-data-class", "social".parse().unwrap());
        assert_eq!(split_metadata(meta(json!({"data_class": "public"})), &h, DataClass::Internal).unwrap().0, DataClass::Social);
        let e = split_metadata(meta(json!({"data_class": "geheim"})), &HeaderMap::new(), DataClass::Internal).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("metadata.data_class"));
        let e = split_metadata(meta(json!({"read_everyone": "true", "read_users": "a"})), &HeaderMap::new(), DataClass::Internal).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("metadata"));
        let e = split_metadata(meta(json!({"n": 3})), &HeaderMap::new(), DataClass::Internal).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("metadata.n"));
    }

    #[test]
    fn search_parameters_are_checked() {
        let ok = search_request(vec!["vs_1".into()], "Urlaub".into(), None, 10, None, None, Some(0.2)).unwrap();
        assert_eq!((ok.max_results, ok.score_threshold), (10, Some(0.2)));
        assert!(matches!(search_request(vec![], "x".into(), None, 10, None, Some("lexical"), None).unwrap().mode, SearchMode::Lexical));
        assert_eq!(search_request(vec![], "x".into(), Some(51), 10, None, None, None).unwrap_err().param.as_deref(), Some("max_num_results"));
        assert_eq!(search_request(vec![], "x".into(), None, 10, None, None, Some(1.5)).unwrap_err().param.as_deref(), Some("ranking_options.score_threshold"));
        assert_eq!(search_request(vec![], " ".into(), None, 10, None, None, None).unwrap_err().param.as_deref(), Some("query"));
    }
}
