//! The request-body extractor: reads at most `server.max_body_bytes` (413 beyond), parses
//! JSON whatever the Content-Type says (clients and SDKs send odd ones), and reports
//! malformed JSON or wrong types as 400 in the OpenAI envelope with the failing field's path
//! as `param` — never a framework's plain-text rejection.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::AppState;

/// A JSON request body of type `T`.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let limit = state.limits.max_body_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit).await.map_err(|e| {
            let too_large = std::error::Error::source(&e).is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if too_large {
                ApiError {
                    status: StatusCode::PAYLOAD_TOO_LARGE,
                    message: format!("request body is larger than {limit} bytes"),
                    kind: "invalid_request_error",
                    param: None,
                    code: Some("request_too_large"),
                    retry_after: None,
                }
            } else {
                ApiError::invalid("body", "the request body could not be read")
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Converts a parsed body into `T`, naming the failing path in the error.
pub(crate) fn from_value<T: DeserializeOwned>(v: &serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let param = if path == "." { "body".to_string() } else { path };
        ApiError::invalid(param, format!("invalid value: {}", e.into_inner()))
    })
}

/// Parses `bytes` as `T`, naming the failing path in the error.
pub(crate) fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::invalid("body", "the request body is empty; send a JSON object"));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let what = if inner.is_syntax() || inner.is_eof() { "malformed JSON" } else { "invalid value" };
        let param = if path == "." { "body".to_string() } else { path };
        ApiError::invalid(param, format!("{what}: {inner}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct T {
        #[allow(dead_code)]
        a: Vec<u8>,
    }

    #[test]
    fn malformed_json_is_400_in_the_envelope() {
        let e = parse::<T>(b"{\"a\": [1,").unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
        assert!(e.message.starts_with("malformed JSON"));
    }

    #[test]
    fn wrong_type_names_the_path() {
        let e = parse::<T>(b"{\"a\": [1, \"x\"]}").unwrap_err();
        assert_eq!(e.param.as_deref(), Some("a[1]"));
    }
}
