//! Real handshakes through `serve` on 127.0.0.1 with a tokio-rustls client.

use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use rustls::AlertDescription;
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::{assert_alert, dev_pki, echo_router, get_n, refusal, whoami, Proto, TestServer, GUARD};
use crate::config::TlsConfig;
use crate::tls::pki::{self, ClientBundle, DevPki, RevocationReason, Validity};
use crate::tls::{serve, serve_plain, Role, ServerTls, TlsError};

const LONG: Duration = Duration::from_secs(60);

/// Guards the happy path: a valid client certificate is accepted and its identity reaches
/// the handler over HTTP/1.1 and h2, on every request of a connection.
#[tokio::test]
async fn valid_client_accepted_over_http1_and_h2() {
    let (_tmp, pki) = dev_pki();
    let server = TestServer::start(&pki, LONG, echo_router()).await;

    let (id, version) = whoami(&pki, Some(&pki.client), Proto::Http1, server.addr).await.unwrap();
    assert_eq!(version, "HTTP/1.1");
    assert_eq!((id.user.as_str(), id.department.as_str(), id.role), ("dev-user", "dev", Role::User));
    assert_eq!(id.serial, pki.client.serial);

    let (id, version) = whoami(&pki, Some(&pki.client), Proto::H2, server.addr).await.unwrap();
    assert_eq!(version, "HTTP/2.0");
    assert_eq!(id.user, "dev-user");

    let admin = pki.issue_client("root-admin", "IT", true, Validity::days_from_now(1)).unwrap();
    for proto in [Proto::Http1, Proto::H2] {
        let stream = super::connect(&pki, Some(&admin), proto, server.addr).await.unwrap();
        let answers = get_n(stream, proto, "/whoami", 3).await.unwrap();
        assert_eq!(answers.len(), 3);
        for (status, body) in answers {
            assert_eq!(status, 200);
            assert_eq!(body["identity"]["user"], "root-admin", "{proto:?}");
            assert_eq!(body["identity"]["role"], "admin");
        }
    }
    server.stop().await;
}

/// Guards DESIGN rule 5: the API listener never serves a client without a certificate.
#[tokio::test]
async fn client_without_certificate_is_refused() {
    let (_tmp, pki) = dev_pki();
    let server = TestServer::start(&pki, LONG, echo_router()).await;
    assert_alert(&refusal(&pki, None, server.addr).await, AlertDescription::CertificateRequired);
    assert!(whoami(&pki, None, Proto::H2, server.addr).await.is_err());
    server.stop().await;
}

/// Guards trust: a certificate from another CA is refused, also when that CA copies the
/// name of the configured one (then the signature check fails).
#[tokio::test]
async fn certificate_from_another_ca_is_refused() {
    let (_tmp, pki) = dev_pki();
    let (_tmp2, other) = dev_pki();
    let server = TestServer::start(&pki, LONG, echo_router()).await;
    assert_alert(&refusal(&pki, Some(&other.client), server.addr).await, AlertDescription::UnknownCA);

    let forged_dir = tempfile::tempdir().unwrap();
    let ca_org = x509_org(&pki.ca_cert);
    pki::init(forged_dir.path(), &ca_org, 30).unwrap();
    let issued = pki::issue_client(
        forged_dir.path(),
        "dev-user",
        "dev",
        true,
        Validity::days_from_now(1),
        forged_dir.path(),
        "pw",
    )
    .unwrap();
    let forged = ClientBundle {
        user: "dev-user".into(),
        serial: issued.entry.serial,
        cert: issued.files[0].clone(),
        key: issued.files[1].clone(),
        p12: issued.files[2].clone(),
    };
    assert_eq!(x509_org(&forged.cert), ca_org, "same issuer name as the real CA");
    assert_alert(&refusal(&pki, Some(&forged), server.addr).await, AlertDescription::DecryptError);
    server.stop().await;
}

/// Subject O of the first certificate in a PEM file.
fn x509_org(path: &std::path::Path) -> String {
    use rustls::pki_types::pem::PemObject;
    use x509_parser::prelude::FromDer;
    let der = rustls::pki_types::CertificateDer::from_pem_file(path).unwrap();
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(&der).unwrap();
    let org = cert.subject().iter_organization().next().unwrap().as_str().unwrap().to_owned();
    org
}

/// Guards the identity rule at the handshake: a certificate the CA did sign, but without a
/// subject CN, is refused inside the handshake (alert access_denied).
#[tokio::test]
async fn certificate_without_cn_is_refused_at_handshake() {
    use rcgen::{CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, Issuer, KeyPair};
    let (tmp, pki) = dev_pki();
    let ca_key = KeyPair::from_pem(&std::fs::read_to_string(pki.dir.join(pki::CA_KEY)).unwrap()).unwrap();
    let issuer = Issuer::from_ca_cert_pem(&std::fs::read_to_string(&pki.ca_cert).unwrap(), ca_key).unwrap();
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationalUnitName, "dev");
    params.distinguished_name = dn;
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    let nameless = ClientBundle {
        user: String::new(),
        serial: String::new(),
        cert: tmp.path().join("nameless.crt"),
        key: tmp.path().join("nameless.key"),
        p12: tmp.path().join("unused.p12"),
    };
    std::fs::write(&nameless.cert, cert.pem()).unwrap();
    std::fs::write(&nameless.key, key.serialize_pem()).unwrap();

    let server = TestServer::start(&pki, LONG, echo_router()).await;
    assert_alert(&refusal(&pki, Some(&nameless), server.addr).await, AlertDescription::AccessDenied);
    server.stop().await;
}

/// Guards the console listener ([`ServerTls::load_admin`]): a valid user certificate and a
/// missing certificate are refused inside the handshake (no HTTP status is ever sent), an
/// admin certificate gets through; the rule survives a reload.
#[tokio::test]
async fn admin_listener_refuses_user_certificates_at_the_handshake() {
    let (_tmp, pki) = dev_pki();
    let admin = pki.issue_client("admin.test", "IT", true, Validity::days_from_now(5)).unwrap();
    let tls = ServerTls::load_admin(&pki.tls_config()).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(serve(listener, tls.clone(), LONG, echo_router(), shutdown.clone()));
    assert_alert(&refusal(&pki, Some(&pki.client), addr).await, AlertDescription::AccessDenied);
    assert_alert(&refusal(&pki, None, addr).await, AlertDescription::CertificateRequired);
    let (who, _) = whoami(&pki, Some(&admin), Proto::H2, addr).await.unwrap();
    assert_eq!((who.user.as_str(), who.role), ("admin.test", Role::Admin));
    tls.reload(&pki.tls_config()).unwrap();
    assert_alert(&refusal(&pki, Some(&pki.client), addr).await, AlertDescription::AccessDenied);
    // The same user certificate is fine on an ordinary (API) listener.
    let api = TestServer::start(&pki, LONG, echo_router()).await;
    assert_eq!(whoami(&pki, Some(&pki.client), Proto::Http1, api.addr).await.unwrap().0.role, Role::User);
    api.stop().await;
    shutdown.cancel();
    tokio::time::timeout(GUARD, task).await.unwrap().unwrap().unwrap();
}

/// Guards validity checking: an expired client certificate is refused.
#[tokio::test]
async fn expired_certificate_is_refused() {
    let (_tmp, pki) = dev_pki();
    let now = time::OffsetDateTime::now_utc();
    let validity = Validity { not_before: now - time::Duration::days(10), not_after: now - time::Duration::days(1) };
    let old = pki.issue_client("former", "dev", false, validity).unwrap();
    let server = TestServer::start(&pki, LONG, echo_router()).await;
    assert_alert(&refusal(&pki, Some(&old), server.addr).await, AlertDescription::CertificateExpired);
    server.stop().await;
}

/// Guards revocation with SIGHUP semantics: after `pki revoke` and `reload`, the revoked
/// certificate is refused on new connections while other clients keep working.
#[tokio::test]
async fn revoked_certificate_is_refused_after_reload() {
    let (_tmp, pki) = dev_pki();
    let bob = pki.issue_client("bob", "dev", false, Validity::days_from_now(1)).unwrap();
    let server = TestServer::start(&pki, LONG, echo_router()).await;
    assert_eq!(whoami(&pki, Some(&bob), Proto::Http1, server.addr).await.unwrap().0.user, "bob");

    // A connection opened before the reload survives it.
    let early = super::connect(&pki, Some(&pki.client), Proto::H2, server.addr).await.unwrap();

    pki::revoke(&pki.dir, &bob.serial, RevocationReason::KeyCompromise).unwrap();
    server.tls.reload(&pki.tls_config()).unwrap();
    assert_alert(&refusal(&pki, Some(&bob), server.addr).await, AlertDescription::CertificateRevoked);
    assert_eq!(whoami(&pki, Some(&pki.client), Proto::H2, server.addr).await.unwrap().0.user, "dev-user");
    let answers = get_n(early, Proto::H2, "/whoami", 1).await.unwrap();
    assert_eq!(answers[0].0, 200, "open connections are not dropped by reload");
    server.stop().await;
}

/// Guards the CRL policy: an expired CRL stays in force for the serials it lists but does
/// not lock out everyone else.
#[tokio::test]
async fn expired_crl_keeps_revocations_without_locking_out() {
    use rcgen::{CertificateRevocationListParams, Issuer, KeyIdMethod, KeyPair, RevokedCertParams, SerialNumber};
    let (tmp, pki) = dev_pki();
    let bob = pki.issue_client("bob", "dev", false, Validity::days_from_now(1)).unwrap();
    let key = KeyPair::from_pem(&std::fs::read_to_string(pki.dir.join(pki::CA_KEY)).unwrap()).unwrap();
    let issuer = Issuer::from_ca_cert_pem(&std::fs::read_to_string(&pki.ca_cert).unwrap(), key).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let crl = CertificateRevocationListParams {
        this_update: now - time::Duration::days(40),
        next_update: now - time::Duration::days(10),
        crl_number: SerialNumber::from_slice(&[9]),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from_slice(&hex::decode(&bob.serial).unwrap()),
            revocation_time: now - time::Duration::days(20),
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .unwrap();
    let crl_path = tmp.path().join("expired.crl");
    std::fs::write(&crl_path, crl.der()).unwrap(); // DER on purpose: both encodings load
    let mut pki_expired = pki.clone();
    pki_expired.crl = crl_path;

    let server = TestServer::start(&pki_expired, LONG, echo_router()).await;
    assert_alert(&refusal(&pki, Some(&bob), server.addr).await, AlertDescription::CertificateRevoked);
    assert_eq!(whoami(&pki, Some(&pki.client), Proto::Http1, server.addr).await.unwrap().0.user, "dev-user");
    server.stop().await;
}

/// Guards DESIGN rule 5: clients that connect and never send a ClientHello do not delay
/// anyone else's handshake.
#[tokio::test]
async fn stalled_clients_do_not_block_other_handshakes() {
    let (_tmp, pki) = dev_pki();
    let server = TestServer::start(&pki, LONG, echo_router()).await;
    let mut stalled = Vec::new();
    for _ in 0..8 {
        stalled.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let started = Instant::now();
    let (id, _) = whoami(&pki, Some(&pki.client), Proto::H2, server.addr).await.unwrap();
    assert_eq!(id.user, "dev-user");
    assert!(started.elapsed() < LONG / 2, "served while {} clients stall", stalled.len());
    drop(stalled);
    server.stop().await;
}

/// Guards the handshake timeout: a client that sends nothing is disconnected after it.
#[tokio::test]
async fn handshake_timeout_closes_stalled_connection() {
    let (_tmp, pki) = dev_pki();
    let timeout = Duration::from_millis(300);
    let server = TestServer::start(&pki, timeout, echo_router()).await;
    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    let started = Instant::now();
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(GUARD, stalled.read(&mut buf)).await.expect("stalled client was not disconnected");
    assert!(matches!(read, Ok(0) | Err(_)), "expected EOF or reset, got {read:?}");
    assert!(started.elapsed() >= timeout - Duration::from_millis(50), "closed before the timeout");
    server.stop().await;
}

/// Guards graceful shutdown: cancelling stops the listener, lets the in-flight request
/// finish, then `serve` returns.
#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() {
    let (_tmp, pki) = dev_pki();
    let (entered_tx, mut entered_rx) = tokio::sync::mpsc::channel::<()>(1);
    let release = CancellationToken::new();
    let release_handler = release.clone();
    let app = Router::new().route(
        "/slow",
        get(move || {
            let (entered, release) = (entered_tx.clone(), release_handler.clone());
            async move {
                entered.send(()).await.unwrap();
                release.cancelled().await;
                axum::Json(serde_json::json!({"done": true}))
            }
        }),
    );
    let server = TestServer::start(&pki, LONG, app).await;
    let stream = super::connect(&pki, Some(&pki.client), Proto::Http1, server.addr).await.unwrap();
    let request = tokio::spawn(get_n(stream, Proto::Http1, "/slow", 1));
    tokio::time::timeout(GUARD, entered_rx.recv()).await.unwrap().unwrap();

    server.shutdown.cancel();
    // The listener goes away: once `serve` has noticed, new connections are refused. Poll
    // (bounded) instead of sleeping.
    let deadline = Instant::now() + GUARD;
    while TcpStream::connect(server.addr).await.is_ok() {
        assert!(Instant::now() < deadline, "listener still accepting after shutdown");
        tokio::task::yield_now().await;
    }
    assert!(!server.task.is_finished(), "serve returned while a request was in flight");

    release.cancel();
    let answers = tokio::time::timeout(GUARD, request).await.unwrap().unwrap().unwrap();
    assert_eq!(answers, vec![(200, serde_json::json!({"done": true}))]);
    tokio::time::timeout(GUARD, server.task).await.expect("serve did not return").unwrap().unwrap();
}

/// Guards the health listener: plain HTTP on loopback only, requests carry no identity.
#[tokio::test]
async fn plain_listener_is_loopback_only_and_anonymous() {
    let wide = TcpListener::bind("0.0.0.0:0").await.unwrap();
    let err = serve_plain(wide, echo_router(), CancellationToken::new()).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let app = echo_router().route("/health", get(|| async { axum::Json(serde_json::json!({"status": "ok"})) }));
    let task = tokio::spawn(serve_plain(listener, app, shutdown.clone()));
    let answers = get_n(TcpStream::connect(addr).await.unwrap(), Proto::Http1, "/health", 1).await.unwrap();
    assert_eq!(answers[0], (200, serde_json::json!({"status": "ok"})));
    let answers = get_n(TcpStream::connect(addr).await.unwrap(), Proto::Http1, "/whoami", 1).await.unwrap();
    assert_eq!(answers[0].0, 401);
    assert_eq!(answers[0].1["error"]["code"], "client_certificate_required");
    shutdown.cancel();
    tokio::time::timeout(GUARD, task).await.unwrap().unwrap().unwrap();
}

/// Guards load errors: each names the file and the problem, without key material, and a
/// failed reload keeps the previous configuration serving.
#[tokio::test]
async fn load_errors_name_the_file_and_reload_keeps_old_config() {
    let (_tmp, pki) = dev_pki();
    let (_tmp2, other) = dev_pki();
    let good = pki.tls_config();

    let missing = TlsConfig { cert: pki.dir.join("nope.crt"), ..good.clone() };
    let err = ServerTls::load(&missing).unwrap_err();
    assert!(matches!(err, TlsError::Read { .. }) && err.to_string().contains("nope.crt"), "{err}");

    let mismatched = TlsConfig { key: pki.client.key.clone(), ..good.clone() };
    assert!(matches!(ServerTls::load(&mismatched), Err(TlsError::KeyMismatch { .. })));

    let cert_as_key = TlsConfig { key: pki.server_cert.clone(), ..good.clone() };
    let err = ServerTls::load(&cert_as_key).unwrap_err();
    assert!(matches!(err, TlsError::PrivateKey { .. }), "{err}");

    let key_as_cert = TlsConfig { cert: pki.server_key.clone(), ..good.clone() };
    let err = ServerTls::load(&key_as_cert).unwrap_err();
    assert!(!err.to_string().contains("PRIVATE KEY"), "no key material in: {err}");

    let two_cas_one_crl = TlsConfig { client_ca: vec![pki.ca_cert.clone(), other.ca_cert.clone()], ..good.clone() };
    let err = ServerTls::load(&two_cas_one_crl).unwrap_err();
    assert!(matches!(&err, TlsError::CrlMissingForCa { ca, .. } if *ca == other.ca_cert), "{err}");

    let crl_as_ca = TlsConfig { crl: vec![pki.ca_cert.clone()], ..good.clone() };
    assert!(ServerTls::load(&crl_as_ca).is_err());
    let no_ca = TlsConfig { client_ca: vec![], ..good.clone() };
    assert!(matches!(ServerTls::load(&no_ca), Err(TlsError::Config { .. })));
    let no_crl = TlsConfig { crl: vec![], ..good.clone() };
    assert!(ServerTls::load(&no_crl).is_ok(), "CRLs are optional (with a warning)");

    let server = TestServer::start(&pki, LONG, echo_router()).await;
    assert!(server.tls.reload(&mismatched).is_err());
    assert_eq!(whoami(&pki, Some(&pki.client), Proto::Http1, server.addr).await.unwrap().0.user, "dev-user");
    server.stop().await;
}

/// Guards the fixture other test suites rely on.
#[test]
fn dev_pki_fixture_is_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let pki = DevPki::create(tmp.path()).unwrap();
    for path in
        [&pki.ca_cert, &pki.crl, &pki.server_cert, &pki.server_key, &pki.client.cert, &pki.client.key, &pki.client.p12]
    {
        assert!(path.is_file(), "{}", path.display());
    }
    assert!(ServerTls::load(&pki.tls_config()).is_ok());
    assert!(DevPki::create(tmp.path()).is_err(), "never overwrites a CA");
}
