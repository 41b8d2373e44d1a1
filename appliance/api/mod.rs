//! The OpenAI-compatible HTTP API: wire types, routes and handlers, SSE, and the single
//! error → HTTP/SSE mapping ([`error`]).
//!
//! Owns: request parsing and validation (typed results such as [`chat::ValidChatRequest`]),
//! response shapes, `/health`, `/metrics`.
//! Must not: contain engine or policy logic, parse certificates (identity arrives as
//! [`crate::tls::PeerIdentity`]), or log request or response content.

pub mod chat;
mod completions;
mod embeddings;
pub mod error;
mod files;
mod json;
mod metrics;
mod models;
mod page;
mod params;
pub mod relayed;
pub mod retrieval;
mod stream;
mod tools;
pub mod types;
mod file_batches;
mod knowledge_audit;
mod vector_stores;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

pub use embeddings::encode_base64;
pub use error::ApiError;
pub use metrics::Metrics;

use crate::accounting::Accounting;
use crate::config::PolicyConfig;
use crate::engine::Engine;
use crate::policy::Detector;
use crate::relay::Relay;

/// Request limits of the API (from `[server]`).
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest body in bytes (413 beyond).
    pub max_body_bytes: usize,
    /// Largest `max_tokens` per request; also the default for chat.
    pub max_tokens_cap: u32,
    /// `Retry-After` seconds for 429/503.
    pub retry_after: u64,
    /// Largest `POST /v1/files` body in bytes (`[rag] max_file_bytes` plus multipart framing).
    pub max_upload_bytes: usize,
}

/// Shared state of all handlers.
#[derive(Clone)]
pub struct AppState {
    /// The loaded models.
    pub engine: Engine,
    /// Request limits.
    pub limits: Limits,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Upstreams of the yellow and red zones.
    pub relay: Arc<Relay>,
    /// The personal-data detectors.
    pub detector: Arc<Detector>,
    /// Zone limits and decisions.
    pub policy: Arc<PolicyConfig>,
    /// Where every request's facts go.
    pub accounting: Arc<Accounting>,
    /// The offline RAG store; None when `[rag]` is not configured.
    pub rag: Option<Arc<crate::rag::Rag>>,
}

/// `system_fingerprint`: identifies the build serving the request.
pub(crate) fn fingerprint() -> String {
    format!("fp_zonegate_{}_{}", crate::VERSION, crate::GIT_REVISION)
}

/// The API router for the mutual-TLS listener.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/models", get(models::list))
        .route("/v1/models/{*id}", get(models::retrieve))
        .route("/v1/chat/completions", post(chat::chat_completions))
        .route("/v1/completions", post(completions::completions))
        .route("/v1/embeddings", post(embeddings::embeddings))
        .route("/v1/zonegate/classify", post(relayed::classify))
        .route("/v1/files", post(files::upload).layer(DefaultBodyLimit::max(state.limits.max_upload_bytes)).get(files::list))
        .route("/v1/files/{id}", get(files::retrieve).delete(files::delete))
        .route("/v1/files/{id}/content", get(files::content))
        .route("/v1/vector_stores", post(vector_stores::create).get(vector_stores::list))
        .route("/v1/vector_stores/{id}", get(vector_stores::retrieve).delete(vector_stores::delete))
        .route("/v1/vector_stores/{id}/files", post(vector_stores::add_file).get(vector_stores::list_files))
        .route("/v1/vector_stores/{id}/files/{file_id}", get(vector_stores::retrieve_file).delete(vector_stores::delete_file))
        .route("/v1/vector_stores/{id}/search", post(vector_stores::search))
        .route("/v1/vector_stores/{id}/file_batches", post(file_batches::create))
        .route("/v1/vector_stores/{id}/file_batches/{batch_id}", get(file_batches::retrieve))
        .route("/v1/vector_stores/{id}/file_batches/{batch_id}/cancel", post(file_batches::cancel))
        .route("/v1/vector_stores/{id}/file_batches/{batch_id}/files", get(file_batches::list_files))
        .route("/health", get(models::health))
        .route("/metrics", get(models::metrics))
        .fallback(|req: Request| async move { ApiError::not_found_route(req.uri().path()) })
        .method_not_allowed_fallback(|req: Request| async move {
            let mut e = ApiError::not_found_route(req.uri().path());
            e.status = axum::http::StatusCode::METHOD_NOT_ALLOWED;
            e.message = format!("method {} is not allowed on {}", req.method(), req.uri().path());
            e.code = Some("method_not_allowed");
            e
        })
        .layer(axum::middleware::from_fn_with_state(state.clone(), knowledge_audit::record))
        .layer(axum::middleware::from_fn_with_state(state.clone(), count_requests))
        .with_state(state)
}

/// The plain-HTTP router of the loopback health listener: `GET /health` only.
pub fn health_router(state: AppState) -> Router {
    Router::new().route("/health", get(models::health)).with_state(state)
}

/// The RAG store, or 404 `rag_not_configured`.
pub(crate) fn rag_store(st: &AppState) -> Result<Arc<crate::rag::Rag>, ApiError> {
    st.rag.clone().ok_or_else(|| ApiError {
        status: axum::http::StatusCode::NOT_FOUND,
        message: "files and vector stores are not enabled on this box (no [rag] section in its configuration)".into(),
        kind: "invalid_request_error",
        param: None,
        code: Some("rag_not_configured"),
        retry_after: None,
    })
}

/// The store's view of the caller (admin role included).
pub(crate) fn rag_caller(who: &crate::tls::PeerIdentity) -> crate::rag::Caller {
    crate::rag::Caller::from_identity(who)
}

/// Runs a synchronous store call off the async workers and maps its error.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, crate::rag::RagError> + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|_| ApiError::internal())?.map_err(ApiError::from_rag)
}

/// The classes of a green request that used retrieval, for accounting.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GreenClasses {
    /// Declared (header, metadata or default).
    pub declared: crate::policy::DataClass,
    /// max(declared, classes of the retrieved sources).
    pub effective: crate::policy::DataClass,
}

/// Refuses the request when the caller's department has used up its budget for `zone`.
pub(crate) fn check_budget(st: &AppState, who: &crate::tls::PeerIdentity, zone: crate::policy::Zone) -> Result<(), ApiError> {
    st.accounting.check_budget(&who.department, zone).map_err(|e| ApiError::from_budget(&e))
}

/// When the API started on a request (set by the router's middleware; the extractor falls
/// back to "now" where the middleware did not run). Gives the records' `latency_ms`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RequestStart(pub std::time::Instant);

impl RequestStart {
    /// Milliseconds since the request was read.
    pub(crate) fn elapsed_ms(self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequestStart {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<RequestStart>().copied().unwrap_or(RequestStart(std::time::Instant::now())))
    }
}

/// Hands a green request's facts to accounting (green receives every class: `allow`).
/// `classes` is set when retrieval put sources into the request.
pub(crate) fn record_green(st: &AppState, who: &crate::tls::PeerIdentity, start: RequestStart, model: &str, usage: types::Usage, classes: Option<GreenClasses>) {
    st.accounting.record(crate::accounting::RequestRecord {
        time: stream::unix_now(),
        user: who.user.clone(),
        department: who.department.clone(),
        model: model.to_string(),
        zone: crate::policy::Zone::Green,
        declared: classes.map(|c| c.declared),
        detected: None,
        effective: classes.map(|c| c.effective),
        categories: Vec::new(),
        decision: crate::policy::Decision::Allow,
        upstream_status: None,
        prompt_tokens: u64::from(usage.prompt_tokens),
        completion_tokens: u64::from(usage.completion_tokens),
        cached_tokens: u64::from(usage.prompt_tokens_details.cached_tokens),
        latency_ms: start.elapsed_ms(),
    });
}

/// The prompt-cache scope of a generation for `who` under the model's `prefix_cache`
/// setting; only the first choice of a prompt gets one (so `cached_tokens` counts each
/// prompt once, like `prompt_tokens`).
pub(crate) fn cache_scope(who: &crate::tls::PeerIdentity, mode: crate::config::PrefixCache, choice: u32) -> Option<String> {
    use crate::config::PrefixCache;
    match mode {
        _ if choice > 0 => None,
        PrefixCache::Off => None,
        PrefixCache::User => Some(format!("user:{}/{}", who.department, who.user)),
        PrefixCache::Department => Some(format!("department:{}", who.department)),
    }
}

/// A callback for [`stream::sse`] that records the usage of a green stream.
pub(crate) fn on_done_green(st: &AppState, who: &crate::tls::PeerIdentity, start: RequestStart, model: &str, classes: Option<GreenClasses>) -> stream::OnDone {
    let (st, who, model) = (st.clone(), who.clone(), model.to_string());
    Box::new(move |u| record_green(&st, &who, start, &model, u, classes))
}

async fn count_requests(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    req.extensions_mut().insert(RequestStart(std::time::Instant::now()));
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "other".into());
    let resp = next.run(req).await.into_response();
    st.metrics.record_request(&route, resp.status().as_u16());
    resp
}
