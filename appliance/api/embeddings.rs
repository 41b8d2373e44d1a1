//! `POST /v1/embeddings`: float arrays or base64 (little-endian IEEE-754 f32, as OpenAI's
//! `encoding_format: "base64"` and the Node SDK's default expect).

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde_json::{json, Value};

use super::error::ApiError;
use super::json::ApiJson;
use super::types::{EmbeddingInput, EmbeddingRequest};
use super::relayed::{self, Relayed};
use super::AppState;
use crate::relay::Endpoint;
use crate::tls::PeerIdentity;

/// Most inputs per request (OpenAI allows 2048).
const MAX_INPUTS: usize = 2048;

/// Encodes a vector as base64 of its little-endian f32 bytes.
pub fn encode_base64(v: &[f32]) -> String {
    let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The handler: relayed models through the policy gate (a violation blocks: there is no
/// green reroute for embeddings), green ones to the engine.
pub(crate) async fn embeddings(State(st): State<AppState>, who: PeerIdentity, start: super::RequestStart, headers: HeaderMap, ApiJson(raw): ApiJson<Value>) -> Result<Response, ApiError> {
    let req: EmbeddingRequest = super::json::from_value(&raw)?;
    let relayed_model = st.relay.model(&req.model);
    super::check_budget(&st, &who, relayed_model.as_ref().map_or(crate::policy::Zone::Green, |m| m.zone))?;
    let Some(m) = relayed_model else {
        return green_embeddings(&st, &who, start, req).await.map(IntoResponse::into_response);
    };
    match relayed::forward(&st, &who, start, &headers, Endpoint::Embeddings, m, raw).await? {
        Relayed::Done(r) => Ok(r),
        Relayed::Reroute(_) => Err(ApiError {
            status: axum::http::StatusCode::FORBIDDEN,
            message: "this input may not be sent to the model's zone, and embeddings are not rerouted".into(),
            kind: "invalid_request_error",
            param: None,
            code: Some("data_class_not_allowed"),
            retry_after: None,
        }),
    }
}

/// Embeds on a green model.
async fn green_embeddings(st: &AppState, who: &PeerIdentity, start: super::RequestStart, req: EmbeddingRequest) -> Result<Json<Value>, ApiError> {
    let retry = st.limits.retry_after;
    let base64 = match req.encoding_format.as_deref() {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => return Err(ApiError::invalid("encoding_format", format!("unknown encoding_format {other:?}; expected \"float\" or \"base64\""))),
    };
    let emb = st.engine.embedder(&req.model).map_err(|e| ApiError::from_engine(e, "input", retry))?;
    let bad_token = |i: usize| move |t: i64| ApiError::invalid(format!("input[{i}]"), format!("token id {t} is not in the vocabulary"));
    let inputs = match &req.input {
        EmbeddingInput::Text(s) => vec![emb.tokenize(s)],
        EmbeddingInput::Texts(v) => v.iter().map(|s| emb.tokenize(s)).collect(),
        EmbeddingInput::Tokens(t) => vec![emb.check_tokens(t).map_err(bad_token(0))?],
        EmbeddingInput::TokenLists(v) => v.iter().enumerate().map(|(i, t)| emb.check_tokens(t).map_err(bad_token(i))).collect::<Result<_, _>>()?,
    };
    if inputs.is_empty() || inputs.len() > MAX_INPUTS {
        return Err(ApiError::invalid("input", format!("'input' must hold 1 to {MAX_INPUTS} items")));
    }
    if let Some(i) = inputs.iter().position(Vec::is_empty) {
        return Err(ApiError::invalid(format!("input[{i}]"), "an input must not be empty"));
    }
    let width = emb.info().n_embd as i64;
    let dims = match req.dimensions {
        None => None,
        Some(d) if (1..=width).contains(&d) => Some(d as usize),
        Some(d) => return Err(ApiError::invalid("dimensions", format!("{d} is not valid: this model has {width} dimensions"))),
    };
    let prompt_tokens: usize = inputs.iter().map(Vec::len).sum();
    let vectors = emb.embed(inputs).await.map_err(|e| ApiError::from_engine(e, "input", retry))?;
    super::record_green(st, who, start, &req.model, super::types::Usage::new(prompt_tokens as u32, 0));
    let data: Vec<Value> = vectors
        .into_iter()
        .enumerate()
        .map(|(i, mut v)| {
            if let Some(d) = dims {
                v.truncate(d);
                let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                if n > 0.0 {
                    v.iter_mut().for_each(|x| *x /= n);
                }
            }
            let embedding = if base64 { json!(encode_base64(&v)) } else { json!(v) };
            json!({"object": "embedding", "index": i, "embedding": embedding})
        })
        .collect();
    Ok(Json(json!({
        "object": "list", "data": data, "model": req.model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    })))
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_is_little_endian_f32() {
        // 1.0f32 = 0x3f800000 → bytes 00 00 80 3f
        assert_eq!(super::encode_base64(&[1.0]), "AACAPw==");
    }
}
