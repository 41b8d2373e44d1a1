//! `GET /v1/models`, `GET /v1/models/{id}`, `GET /health` and `GET /metrics`.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::error::ApiError;
use super::AppState;
use crate::config::ModelRole;
use crate::engine::Model;
use crate::tls::PeerIdentity;

fn model_object(m: &Model) -> Value {
    let i = m.info();
    json!({
        "id": i.id, "object": "model", "created": i.created, "owned_by": "zonegate",
        "zone": "green", "max_data_class": "social",
        "role": match i.role { ModelRole::Chat => "chat", ModelRole::Embedding => "embedding" },
        "context_length": i.context_per_sequence,
    })
}

fn relayed_object(st: &AppState, m: &crate::relay::RelayedModel) -> Value {
    json!({
        "id": m.id, "object": "model", "created": 0, "owned_by": "upstream",
        "zone": m.zone.as_str(), "max_data_class": st.policy.max_class(m.zone).as_str(),
    })
}

/// `GET /v1/models`: green models, then relayed ones, each with its zone and the highest
/// data class it may receive.
pub(crate) async fn list(State(st): State<AppState>, _who: PeerIdentity) -> Json<Value> {
    let mut data: Vec<Value> = st.engine.models().map(model_object).collect();
    data.extend(st.relay.models().iter().map(|m| relayed_object(&st, m)));
    Json(json!({"object": "list", "data": data}))
}

/// `GET /v1/models/{id}` (ids may contain `/`).
pub(crate) async fn retrieve(State(st): State<AppState>, _who: PeerIdentity, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    if let Some(m) = st.relay.model(&id) {
        return Ok(Json(relayed_object(&st, &m)));
    }
    st.engine.model(&id).map(|m| Json(model_object(m))).map_err(|e| ApiError::from_engine(e, "model", st.limits.retry_after))
}

/// `GET /health`: `{"status":"ok","version":...,"models":[{id, queued, active}]}`.
pub(crate) async fn health(State(st): State<AppState>) -> Json<Value> {
    use std::sync::atomic::Ordering::Relaxed;
    let models: Vec<Value> = st
        .engine
        .models()
        .map(|m| json!({"id": m.info().id, "queued": m.stats().queued.load(Relaxed), "active": m.stats().active.load(Relaxed)}))
        .collect();
    Json(json!({"status": "ok", "version": crate::VERSION, "revision": crate::GIT_REVISION, "models": models}))
}

/// `GET /metrics` in the Prometheus/OpenMetrics text format.
pub(crate) async fn metrics(State(st): State<AppState>) -> Response {
    match st.metrics.render(&st.engine, &st.accounting) {
        Ok(text) => ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text).into_response(),
        Err(e) => {
            log::error!("metrics encoding failed: {e}");
            ApiError::internal().into_response()
        }
    }
}
