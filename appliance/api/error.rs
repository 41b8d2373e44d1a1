//! The one mapping of errors to HTTP: OpenAI's envelope
//! `{"error":{"message","type","param","code"}}` for responses, and the same object as an
//! SSE `data:` event once a stream has started. Internal details (paths, llama.cpp errors)
//! never reach the client; they go to the log.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::engine::EngineError;
use crate::relay::RelayError;

/// An API error as OpenAI shapes it.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Human-readable message (safe for clients: no paths, no prompt text).
    pub message: String,
    /// OpenAI `type`, e.g. `invalid_request_error`, `server_error`.
    pub kind: &'static str,
    /// The request parameter at fault, e.g. `temperature` or `messages[0].content`.
    pub param: Option<String>,
    /// Machine-readable code, e.g. `model_not_found`, `context_length_exceeded`.
    pub code: Option<&'static str>,
    /// Seconds for a `Retry-After` header (429/503).
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// 400 `invalid_request_error` naming `param`.
    pub fn invalid(param: impl Into<String>, message: impl Into<String>) -> Self {
        Self { status: StatusCode::BAD_REQUEST, message: message.into(), kind: "invalid_request_error", param: Some(param.into()), code: None, retry_after: None }
    }

    /// Sets the machine-readable code.
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = Some(code);
        self
    }

    /// 404 for an unknown route.
    pub fn not_found_route(path: &str) -> Self {
        Self { status: StatusCode::NOT_FOUND, message: format!("unknown URL {path}"), kind: "invalid_request_error", param: None, code: Some("unknown_url"), retry_after: None }
    }

    /// 500 without details (the cause is logged by the caller).
    pub fn internal() -> Self {
        Self { status: StatusCode::INTERNAL_SERVER_ERROR, message: "internal server error".into(), kind: "server_error", param: None, code: None, retry_after: None }
    }

    /// The envelope as JSON.
    pub fn body(&self) -> serde_json::Value {
        json!({"error": {"message": self.message, "type": self.kind, "param": self.param, "code": self.code}})
    }

    /// Maps an engine error; `prompt_param` names the field holding the prompt
    /// (`messages`, `prompt` or `input`) for context-length errors.
    pub fn from_engine(e: EngineError, prompt_param: &str, retry_after: u64) -> Self {
        match e {
            EngineError::ModelNotFound(id) => Self {
                status: StatusCode::NOT_FOUND,
                message: format!("The model `{id}` does not exist or you do not have access to it."),
                kind: "invalid_request_error",
                param: Some("model".into()),
                code: Some("model_not_found"),
                retry_after: None,
            },
            e @ EngineError::WrongRole { .. } => Self::invalid("model", e.to_string()).with_code("model_not_supported"),
            e @ EngineError::ContextLengthExceeded { .. } => Self::invalid(prompt_param, format!("{e}. Please reduce the length of the input.")).with_code("context_length_exceeded"),
            e @ EngineError::QueueFull(_) => Self {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: e.to_string(),
                kind: "requests",
                param: None,
                code: Some("rate_limit_exceeded"),
                retry_after: Some(retry_after),
            },
            e @ EngineError::Grammar(_) => Self::invalid("response_format", e.to_string()).with_code("invalid_grammar"),
            e @ EngineError::Template(_) => Self::invalid(prompt_param, e.to_string()),
            EngineError::WorkerGone => {
                log::error!("model worker is gone");
                Self { status: StatusCode::SERVICE_UNAVAILABLE, message: "the model is not available".into(), kind: "server_error", param: None, code: None, retry_after: Some(retry_after) }
            }
            e @ (EngineError::Load { .. } | EngineError::Decode(_)) => {
                log::error!("inference error: {e}");
                Self::internal()
            }
        }
    }
}

impl ApiError {
    /// 429 `insufficient_quota`: a department's monthly budget for a zone is used up.
    pub fn from_budget(e: &crate::accounting::BudgetExceeded) -> Self {
        Self { status: StatusCode::TOO_MANY_REQUESTS, message: e.to_string(), kind: "insufficient_quota", param: None, code: Some("insufficient_quota"), retry_after: None }
    }

    /// Maps an upstream failure. The upstream's body never reaches the client; only its
    /// status class and, for well-known codes, the code.
    pub fn from_relay(e: &RelayError) -> Self {
        let gateway = |status: StatusCode, message: &str, code: &'static str| Self { status, message: message.into(), kind: "server_error", param: None, code: Some(code), retry_after: None };
        match e {
            RelayError::Setup { .. } => {
                log::error!("relay setup: {e}");
                Self::internal()
            }
            RelayError::Connect => gateway(StatusCode::BAD_GATEWAY, "the upstream model could not be reached", "upstream_unavailable"),
            RelayError::Timeout => gateway(StatusCode::GATEWAY_TIMEOUT, "the upstream model did not answer in time", "upstream_timeout"),
            RelayError::Protocol => gateway(StatusCode::BAD_GATEWAY, "the upstream model sent an invalid response", "upstream_protocol_error"),
            RelayError::Status { status: 429, retry_after, .. } => Self {
                status: StatusCode::TOO_MANY_REQUESTS,
                message: "the upstream model is rate-limited; retry later".into(),
                kind: "requests",
                param: None,
                code: Some("rate_limit_exceeded"),
                retry_after: Some(retry_after.unwrap_or(5)),
            },
            RelayError::Status { status: 401 | 403, .. } => gateway(StatusCode::BAD_GATEWAY, "the upstream refused zonegate's credentials", "upstream_auth_failed"),
            RelayError::Status { status, code, .. } if (400..500).contains(status) => {
                let known = ["context_length_exceeded", "invalid_value", "model_not_found", "content_filter", "invalid_request_error"];
                let code = code.as_deref().and_then(|c| known.iter().find(|k| **k == c).copied());
                Self { status: StatusCode::BAD_REQUEST, message: format!("the upstream model rejected the request (HTTP {status})"), kind: "invalid_request_error", param: None, code, retry_after: None }
            }
            RelayError::Status { status, .. } => gateway(StatusCode::BAD_GATEWAY, &format!("the upstream model failed (HTTP {status})"), "upstream_error"),
        }
    }
}

impl ApiError {
    /// Maps a RAG store error: `NotFound` → 404 (also for what the caller may not read: no
    /// existence leak), `Invalid`/`Unreadable`/`ModelMismatch` → 400, the rest → 500 (logged,
    /// no details to the client).
    pub fn from_rag(e: crate::rag::RagError) -> Self {
        use crate::rag::RagError;
        let message = e.to_string();
        match e {
            RagError::NotFound(_) => Self { status: StatusCode::NOT_FOUND, message, kind: "invalid_request_error", param: None, code: Some("not_found"), retry_after: None },
            RagError::Invalid(_) => {
                // The store's messages start with the parameter ("file: …", "name: …").
                let param = message.split_once(": ").map(|(p, _)| p).filter(|p| !p.is_empty() && !p.contains(' ')).unwrap_or("body").to_string();
                Self::invalid(param, message)
            }
            RagError::Unreadable { .. } => Self::invalid("file", message).with_code("invalid_file"),
            RagError::ModelMismatch(_) => Self::invalid("body", message).with_code("embedding_model_mismatch"),
            e => {
                log::error!("rag store: {e}");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut resp = (self.status, axum::Json(self.body())).into_response();
        if let Some(s) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&s.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_has_all_four_keys_even_when_null() {
        let b = ApiError::internal().body();
        let e = &b["error"];
        for k in ["message", "type", "param", "code"] {
            assert!(e.get(k).is_some(), "missing {k}");
        }
    }

    #[test]
    fn queue_full_is_429_with_retry_after() {
        let r = ApiError::from_engine(EngineError::QueueFull("m".into()), "messages", 3).into_response();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(r.headers()[header::RETRY_AFTER], "3");
    }

    #[test]
    fn context_overflow_names_the_prompt_param() {
        let e = ApiError::from_engine(EngineError::ContextLengthExceeded { limit: 10, requested: 20 }, "prompt", 1);
        assert_eq!((e.status, e.code, e.param.as_deref()), (StatusCode::BAD_REQUEST, Some("context_length_exceeded"), Some("prompt")));
    }
}
