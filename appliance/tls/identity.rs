//! The caller's identity, taken once from the verified client certificate.
//!
//! Owns: [`PeerIdentity`] and [`Role`], the mapping subject → identity, the axum extractor
//! and its 401 rejection ([`MissingIdentity`]).
//! Must not: be built from anything but a certificate that rustls has already verified
//! against the configured client CAs and CRLs (the constructor is crate-private), or log
//! personal values of a refused certificate beyond its serial.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::TlsError;

/// X.520 `role` attribute type (OID 2.5.4.72, RFC 4519 §2.31 names it for LDAP). A subject
/// carrying it with the string value `admin` makes the caller an [`Role::Admin`].
pub const ROLE_OID: &str = "2.5.4.72";

/// The attribute value that grants [`Role::Admin`] (exact, case-sensitive).
pub const ADMIN_ROLE_VALUE: &str = "admin";

/// Longest accepted user id or department, in characters (X.520 `ub-common-name`, RFC 5280
/// Appendix A.1).
pub const MAX_NAME_CHARS: usize = 64;

/// What a caller may do (DESIGN.md: identity). Serialised lowercase: `"user"`, `"admin"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An ordinary employee: the OpenAI-compatible API.
    User,
    /// May also use the admin console and its API.
    Admin,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Role::User => "user",
            Role::Admin => "admin",
        })
    }
}

/// Who is calling, taken once per connection from the client certificate that rustls
/// verified during the handshake, and attached to every request of that connection.
///
/// Mapping from the certificate subject (RFC 5280 §4.1.2.6):
/// - `user`: the subject's single CN (a certificate without CN, or with several, is refused
///   at the handshake);
/// - `department`: the first OU; if there is none, the first O; empty if neither exists;
/// - `role`: [`Role::Admin`] iff the subject carries the X.520 `role` attribute
///   ([`ROLE_OID`]) with the string value `admin`, else [`Role::User`];
/// - `serial`: the certificate serial number as lowercase hex without leading zero octets
///   (the same form `zonegate pki list` prints).
///
/// Handlers take it as an axum extractor; a request that arrived without one (e.g. on the
/// plain health listener) is answered 401 by [`MissingIdentity`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerIdentity {
    /// User id: the subject CN, at most [`MAX_NAME_CHARS`] characters, no control characters.
    pub user: String,
    /// Department: subject OU, else O, else empty.
    pub department: String,
    /// `user` or `admin`.
    pub role: Role,
    /// Certificate serial number, lowercase hex.
    pub serial: String,
}

impl PeerIdentity {
    /// Whether the caller holds [`Role::Admin`].
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Reads the identity from a DER certificate (RFC 5280) that has already been verified.
    ///
    /// # Errors
    /// [`TlsError::PeerIdentity`] (serial only, no other subject values) when the subject has
    /// no CN, several CNs, or a CN that is not a printable string of at most
    /// [`MAX_NAME_CHARS`] characters; `serial` is `"unparsable"` if the DER does not parse.
    pub(crate) fn from_certificate(der: &[u8]) -> Result<PeerIdentity, TlsError> {
        let (_, cert) = X509Certificate::from_der(der).map_err(|_| TlsError::PeerIdentity {
            serial: "unparsable".into(),
            problem: "certificate does not parse as X.509",
        })?;
        let serial = serial_hex(cert.raw_serial());
        let refuse = |problem| TlsError::PeerIdentity { serial: serial.clone(), problem };
        let subject = cert.subject();

        let mut cns = subject.iter_common_name();
        let cn = cns.next().ok_or_else(|| refuse("subject has no CN (user id)"))?;
        if cns.next().is_some() {
            return Err(refuse("subject has more than one CN"));
        }
        let user = cn.as_str().map_err(|_| refuse("subject CN is not a UTF-8/printable string"))?;
        if !is_clean_name(user) {
            return Err(refuse("subject CN is empty, too long or has control characters"));
        }
        let department = (subject.iter_organizational_unit().find_map(|a| a.as_str().ok()))
            .or_else(|| subject.iter_organization().find_map(|a| a.as_str().ok()))
            .filter(|d| is_clean_name(d))
            .unwrap_or_default();
        let admin = subject
            .iter_attributes()
            .any(|a| a.attr_type().to_id_string() == ROLE_OID && a.as_str().is_ok_and(|v| v == ADMIN_ROLE_VALUE));
        Ok(PeerIdentity {
            user: user.to_owned(),
            department: department.to_owned(),
            role: if admin { Role::Admin } else { Role::User },
            serial,
        })
    }
}

/// Non-empty, at most [`MAX_NAME_CHARS`] characters, no control characters: safe for logs,
/// the ledger and file names derived elsewhere.
pub(crate) fn is_clean_name(s: &str) -> bool {
    !s.trim().is_empty() && s.chars().count() <= MAX_NAME_CHARS && !s.chars().any(char::is_control)
}

/// Canonical serial form: lowercase hex of the big-endian magnitude without leading zero
/// octets (RFC 5280 §4.1.2.2 serials are positive integers; DER may prefix a 0x00 sign octet).
/// Zero is `"00"`.
pub(crate) fn serial_hex(raw: &[u8]) -> String {
    let start = raw.iter().position(|b| *b != 0).unwrap_or(raw.len());
    if start == raw.len() {
        return "00".into();
    }
    hex::encode(&raw[start..])
}

/// Rejection of the [`PeerIdentity`] extractor: the request carries no verified identity.
///
/// Answers HTTP 401 with the OpenAI error envelope
/// `{"error":{"message":…,"type":"authentication_error","param":null,"code":"client_certificate_required"}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingIdentity;

impl MissingIdentity {
    /// The OpenAI error envelope this rejection answers with.
    pub fn body() -> serde_json::Value {
        serde_json::json!({
            "error": {
                "message": "a verified client certificate is required",
                "type": "authentication_error",
                "param": null,
                "code": "client_certificate_required",
            }
        })
    }
}

impl std::fmt::Display for MissingIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request has no verified client certificate identity")
    }
}

impl std::error::Error for MissingIdentity {}

impl IntoResponse for MissingIdentity {
    fn into_response(self) -> Response {
        (StatusCode::UNAUTHORIZED, axum::Json(Self::body())).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PeerIdentity {
    type Rejection = MissingIdentity;

    /// Clones the identity that [`crate::tls::serve`] put into the request's extensions.
    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<PeerIdentity>().cloned().ok_or(MissingIdentity)
    }
}
