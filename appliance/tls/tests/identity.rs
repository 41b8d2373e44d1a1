//! Identity extraction from certificates and the axum extractor.

use axum::extract::FromRequestParts;
use axum::response::IntoResponse;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};

use crate::tls::pki::{self, Validity};
use crate::tls::{MissingIdentity, PeerIdentity, Role, TlsError};

/// A self-signed certificate with exactly the given subject attributes (OID arcs, value).
fn cert_with_subject(attrs: &[(DnType, &str)]) -> Vec<u8> {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    for (ty, value) in attrs {
        dn.push(ty.clone(), *value);
    }
    params.distinguished_name = dn;
    params.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x00, 0x9a, 0xbc]));
    let key = KeyPair::generate().unwrap();
    params.self_signed(&key).unwrap().der().to_vec()
}

fn role() -> DnType {
    DnType::CustomDnType(vec![2, 5, 4, 72])
}

/// Guards the subject → identity mapping on certificates the local CA issues.
#[test]
fn identity_from_issued_client_certificates() {
    use rustls::pki_types::pem::PemObject;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pki::init(dir, "Stadt Musterstadt", 365).unwrap();
    let alice = pki::issue_client(dir, "alice", "Sozialamt", true, Validity::days_from_now(1), dir, "pw").unwrap();
    let bob = pki::issue_client(dir, "bob.m@stadt", "Bürgeramt", false, Validity::days_from_now(1), dir, "pw").unwrap();

    let der = rustls::pki_types::CertificateDer::from_pem_file(dir.join("alice.crt")).unwrap();
    let id = PeerIdentity::from_certificate(&der).unwrap();
    assert_eq!(
        id,
        PeerIdentity {
            user: "alice".into(),
            department: "Sozialamt".into(),
            role: Role::Admin,
            serial: alice.entry.serial
        }
    );
    assert!(id.is_admin());

    let der = rustls::pki_types::CertificateDer::from_pem_file(dir.join("bob.m@stadt.crt")).unwrap();
    let id = PeerIdentity::from_certificate(&der).unwrap();
    assert_eq!((id.user.as_str(), id.department.as_str(), id.role), ("bob.m@stadt", "Bürgeramt", Role::User));
    assert_eq!(id.serial, bob.entry.serial);
    assert_eq!(serde_json::to_value(&id).unwrap()["role"], "user", "role serialises lowercase");
}

/// Guards the department fallback (OU, else O, else empty) and that only `role=admin`
/// grants admin.
#[test]
fn identity_department_fallback_and_role_values() {
    let id = PeerIdentity::from_certificate(&cert_with_subject(&[
        (DnType::OrganizationName, "Stadt"),
        (DnType::CommonName, "carol"),
    ]))
    .unwrap();
    assert_eq!((id.department.as_str(), id.role), ("Stadt", Role::User));
    assert_eq!(id.serial, "9abc", "serial without the leading zero octet");

    let id = PeerIdentity::from_certificate(&cert_with_subject(&[(DnType::CommonName, "dora")])).unwrap();
    assert_eq!(id.department, "");

    for (value, expected) in
        [("admin", Role::Admin), ("Admin", Role::User), ("auditor", Role::User), ("user", Role::User)]
    {
        let id = PeerIdentity::from_certificate(&cert_with_subject(&[(DnType::CommonName, "erik"), (role(), value)]))
            .unwrap();
        assert_eq!(id.role, expected, "role={value}");
    }
}

/// Guards the refusal of certificates without a usable CN, and that the error carries the
/// serial but none of the subject's personal values.
#[test]
fn identity_refuses_certificate_without_cn() {
    let der =
        cert_with_subject(&[(DnType::OrganizationName, "Stadt"), (DnType::OrganizationalUnitName, "Geheimabteilung")]);
    let err = PeerIdentity::from_certificate(&der).unwrap_err();
    assert!(matches!(&err, TlsError::PeerIdentity { serial, .. } if serial == "9abc"), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("no CN") && !msg.contains("Geheimabteilung") && !msg.contains("Stadt"), "{msg}");

    let err = PeerIdentity::from_certificate(&cert_with_subject(&[(DnType::CommonName, "evil\nuser")])).unwrap_err();
    assert!(matches!(err, TlsError::PeerIdentity { .. }), "control characters refused");
    assert!(PeerIdentity::from_certificate(b"not a certificate").is_err());
}

/// Guards the extractor: the identity put into the extensions comes out; without one the
/// answer is 401 with the OpenAI error envelope.
#[tokio::test]
async fn extractor_reads_extension_or_answers_401() {
    let identity =
        PeerIdentity { user: "alice".into(), department: "IT".into(), role: Role::User, serial: "01".into() };
    let mut request = axum::http::Request::new(());
    request.extensions_mut().insert(identity.clone());
    let (mut parts, ()) = request.into_parts();
    assert_eq!(PeerIdentity::from_request_parts(&mut parts, &()).await.unwrap(), identity);

    let (mut parts, ()) = axum::http::Request::new(()).into_parts();
    let rejection = PeerIdentity::from_request_parts(&mut parts, &()).await.unwrap_err();
    assert_eq!(rejection, MissingIdentity);
    let response = rejection.into_response();
    assert_eq!(response.status(), axum::http::StatusCode::UNAUTHORIZED);
    let body = axum::body::to_bytes(response.into_body(), 4096).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["error"]["type"], "authentication_error");
    assert_eq!(json["error"]["code"], "client_certificate_required");
    assert!(json["error"]["param"].is_null());
    assert!(json["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
}
