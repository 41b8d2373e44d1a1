//! Mutual TLS: the API listener refuses, at the handshake, clients without a certificate,
//! with one from another CA, an expired one, or a revoked one (after a reload), and a
//! stalled client does not block others.

use std::time::Duration;

use serde_json::json;
use time::OffsetDateTime;
use tokio::io::AsyncReadExt;
use zonegate::tls::pki::{self, DevPki, RevocationReason, Validity};

use crate::harness::{client_with, post, Opts, TestServer, CHAT};

async fn models_status(c: &reqwest::Client, s: &TestServer) -> Result<u16, reqwest::Error> {
    c.get(s.url("/v1/models")).send().await.map(|r| r.status().as_u16())
}

#[tokio::test]
async fn handshake_refuses_missing_foreign_expired_and_revoked_certificates() {
    let s = TestServer::start(Opts::default()).await;
    // The valid client works.
    assert_eq!(models_status(&s.client(), &s).await.expect("valid client"), 200);

    // No client certificate.
    let anon = client_with(&s.pki.ca_cert, None);
    assert!(models_status(&anon, &s).await.is_err(), "a client without certificate must be refused");

    // A certificate from another CA.
    let other_dir = tempfile::tempdir().unwrap();
    let other = DevPki::create(other_dir.path()).unwrap();
    let foreign = client_with(&s.pki.ca_cert, Some((&other.client.cert, &other.client.key)));
    assert!(models_status(&foreign, &s).await.is_err(), "a certificate of another CA must be refused");

    // An expired certificate of the right CA.
    let now = OffsetDateTime::now_utc();
    let expired = s.pki.issue_client("former", "Ordnungsamt", false, Validity { not_before: now - time::Duration::days(30), not_after: now - time::Duration::days(1) }).unwrap();
    let c = client_with(&s.pki.ca_cert, Some((&expired.cert, &expired.key)));
    assert!(models_status(&c, &s).await.is_err(), "an expired certificate must be refused");

    // A revoked certificate: accepted before, refused after revoke + reload (SIGHUP path).
    let soon = s.pki.issue_client("leaver", "Bauamt", false, Validity::days_from_now(5)).unwrap();
    let c = client_with(&s.pki.ca_cert, Some((&soon.cert, &soon.key)));
    assert_eq!(models_status(&c, &s).await.expect("not yet revoked"), 200);
    pki::revoke(&s.pki.dir, &soon.serial, RevocationReason::KeyCompromise).unwrap();
    s.running.tls.reload(&s.cfg.tls).unwrap();
    let fresh = client_with(&s.pki.ca_cert, Some((&soon.cert, &soon.key)));
    assert!(models_status(&fresh, &s).await.is_err(), "a revoked certificate must be refused after reload");
    // Other clients are unaffected by the reload.
    assert_eq!(models_status(&s.client(), &s).await.expect("valid client after reload"), 200);
}

#[tokio::test]
async fn a_stalled_handshake_does_not_block_other_clients() {
    let s = TestServer::start(Opts { handshake_timeout_ms: 1500, ..Opts::default() }).await;
    // Ten connections that never send a ClientHello.
    let mut stalled = Vec::new();
    for _ in 0..10 {
        stalled.push(tokio::net::TcpStream::connect(s.addr).await.unwrap());
    }
    let (st, _, _) = tokio::time::timeout(
        Duration::from_secs(60),
        post(&s.client(), &s.url("/v1/chat/completions"), &json!({"model": CHAT, "max_tokens": 2, "messages": [{"role": "user", "content": "Hi"}]})),
    )
    .await
    .expect("served while others stall");
    assert_eq!(st, 200);
    // The handshake timeout (1.5 s) closes the stalled connections: reads see EOF or a reset.
    let mut closed = 0;
    for mut c in stalled {
        let mut buf = [0u8; 1];
        if let Ok(Ok(0)) | Ok(Err(_)) = tokio::time::timeout(Duration::from_secs(15), c.read(&mut buf)).await {
            closed += 1;
        }
    }
    assert_eq!(closed, 10, "the handshake timeout closes stalled connections");
}
