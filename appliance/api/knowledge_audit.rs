//! Audit records of the knowledge store's API: every change through `/v1/files` and
//! `/v1/vector_stores` (upload, delete, create, add, remove, batches), every search and
//! every download of a file's content becomes a `kind: "knowledge"` record in the audit
//! ledger, in the same hash chain as the requests: time, user, department, certificate
//! serial, `action`, `target` and `outcome` with the HTTP status.
//!
//! Must not: record names, queries, attributes or text. `target` holds only ids
//! (`file-…`, `vs_…`, `vsfb_…` with 24 hex digits) from the path and, for creates, from the
//! response; anything else in a path (a store addressed by name) is written as `(name)`.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use crate::tls::PeerIdentity;

/// Largest response body read back for a create's new id (JSON objects are far smaller).
const MAX_READ_BACK: usize = 1 << 20;

/// The action of a route, and whether the new object's id is in the response body.
fn action(method: &Method, route: &str) -> Option<(&'static str, bool)> {
    Some(match (method.as_str(), route) {
        ("POST", "/v1/files") => ("file_uploaded", true),
        ("DELETE", "/v1/files/{id}") => ("file_deleted", false),
        ("GET", "/v1/files/{id}/content") => ("file_content_read", false),
        ("POST", "/v1/vector_stores") => ("vector_store_created", true),
        ("DELETE", "/v1/vector_stores/{id}") => ("vector_store_deleted", false),
        ("POST", "/v1/vector_stores/{id}/files") => ("file_added", true),
        ("DELETE", "/v1/vector_stores/{id}/files/{file_id}") => ("file_removed", false),
        ("POST", "/v1/vector_stores/{id}/search") => ("vector_store_searched", false),
        ("POST", "/v1/vector_stores/{id}/file_batches") => ("file_batch_created", true),
        ("POST", "/v1/vector_stores/{id}/file_batches/{batch_id}/cancel") => ("file_batch_cancelled", false),
        _ => return None,
    })
}

/// `s` when it is an id of the store (`file-`, `vs_` or `vsfb_` and 24 hex digits).
fn id_only(s: &str) -> Option<&str> {
    let hex = ["file-", "vs_", "vsfb_"].iter().find_map(|p| s.strip_prefix(p))?;
    (hex.len() == 24 && hex.bytes().all(|b| b.is_ascii_hexdigit())).then_some(s)
}

/// The ids in a request path, in order; non-ids (names) as `(name)`.
fn path_ids(path: &str) -> Vec<String> {
    let mut parts = path.trim_start_matches('/').split('/').skip(1); // "v1"
    let mut out = Vec::new();
    while let Some(p) = parts.next() {
        if matches!(p, "files" | "vector_stores" | "file_batches") {
            // Ids need no percent-decoding; anything encoded is a name.
            if let Some(v) = parts.next() {
                out.push(id_only(v).map_or_else(|| "(name)".to_string(), str::to_string));
            }
        }
    }
    out
}

/// Middleware on the API router: records the knowledge routes' calls after they answered.
pub(crate) async fn record(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let Some((action, id_in_body)) = route.as_deref().and_then(|r| action(req.method(), r)) else {
        return next.run(req).await;
    };
    let who = req.extensions().get::<PeerIdentity>().cloned();
    let mut target = path_ids(req.uri().path());
    let resp = next.run(req).await.into_response();
    let status = resp.status();
    let resp = if id_in_body && status == StatusCode::OK {
        let (parts, body) = resp.into_parts();
        match axum::body::to_bytes(body, MAX_READ_BACK).await {
            Ok(bytes) => {
                if let Some(id) = serde_json::from_slice::<serde_json::Value>(&bytes).ok().and_then(|v| v["id"].as_str().and_then(id_only).map(str::to_string)) {
                    target.push(id);
                }
                Response::from_parts(parts, axum::body::Body::from(bytes))
            }
            Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        }
    } else {
        resp
    };
    if let Some(who) = who {
        let r = crate::accounting::KnowledgeRecord {
            time: crate::accounting::unix_now(),
            user: who.user,
            department: who.department,
            serial: who.serial,
            action,
            target: target.join(" "),
            status: status.as_u16(),
        };
        // A failed append is counted and logged by accounting; the answer already stands.
        let _ = st.accounting.record_knowledge(&r);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ids_reach_the_target() {
        assert_eq!(path_ids("/v1/vector_stores/vs_0123456789abcdef01234567/files/file-0123456789abcdef01234567"), ["vs_0123456789abcdef01234567", "file-0123456789abcdef01234567"]);
        assert_eq!(path_ids("/v1/vector_stores/Akte%20Probe/search"), ["(name)"]);
        assert_eq!(path_ids("/v1/vector_stores/vs_0123456789abcdef01234567/file_batches/vsfb_0123456789abcdef01234567/cancel").len(), 2);
        assert!(id_only("vs_xyz").is_none() && id_only("file-0123456789abcdef0123456g").is_none());
        assert_eq!(action(&Method::GET, "/v1/vector_stores"), None, "lists are not recorded");
        assert_eq!(action(&Method::POST, "/v1/vector_stores/{id}/search"), Some(("vector_store_searched", false)));
    }
}
