//! Tests of the `tls` module: the local CA, identity extraction, and real handshakes
//! through [`crate::tls::serve`] on 127.0.0.1 port 0 with a tokio-rustls client.
//!
//! Owns: hermetic fixtures (temp dirs, [`DevPki`]) and the test client helpers.
//! Must not: use fixed sleeps for readiness (timeouts here only bound a failing test) or
//! reach beyond loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod handshake;
mod identity;
mod pki;

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::tls::pki::{ClientBundle, DevPki};
use crate::tls::{serve, PeerIdentity, ServerTls};

/// Upper bound for anything a passing test waits for; only reached when a test fails.
const GUARD: Duration = Duration::from_secs(10);

/// A fresh [`DevPki`] in its own temp dir (kept alive by the returned guard).
fn dev_pki() -> (tempfile::TempDir, DevPki) {
    let dir = tempfile::tempdir().unwrap();
    let pki = DevPki::create(&dir.path().join("pki")).unwrap();
    (dir, pki)
}

/// `GET /whoami` answers `{"identity": PeerIdentity, "version": "HTTP/1.1" | "HTTP/2.0"}`.
fn echo_router() -> Router {
    Router::new().route(
        "/whoami",
        get(|identity: PeerIdentity, request: axum::extract::Request| async move {
            Json(serde_json::json!({ "identity": identity, "version": format!("{:?}", request.version()) }))
        }),
    )
}

/// A running [`serve`] on 127.0.0.1:0.
struct TestServer {
    addr: SocketAddr,
    tls: ServerTls,
    shutdown: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl TestServer {
    async fn start(pki: &DevPki, handshake_timeout: Duration, app: Router) -> TestServer {
        let tls = ServerTls::load(&pki.tls_config()).unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(serve(listener, tls.clone(), handshake_timeout, app, shutdown.clone()));
        TestServer { addr, tls, shutdown, task }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(GUARD, self.task).await.expect("serve did not return").unwrap().unwrap();
    }
}

/// HTTP version the test client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Http1,
    H2,
}

impl Proto {
    fn alpn(self) -> &'static [u8] {
        match self {
            Proto::Http1 => b"http/1.1",
            Proto::H2 => b"h2",
        }
    }
}

/// TLS-connects to `addr` trusting `pki`'s CA, presenting `client` (if any), offering the
/// ALPN id of `proto`.
async fn connect(
    pki: &DevPki,
    client: Option<&ClientBundle>,
    proto: Proto,
    addr: SocketAddr,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let config = pki.client_config(client, &[proto.alpn()]).unwrap();
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").unwrap();
    tokio_rustls::TlsConnector::from(config).connect(name, tcp).await
}

/// Sends `GET path` `n` times over one connection; returns status and JSON body of each.
async fn get_n<S>(io: S, proto: Proto, path: &str, n: usize) -> Result<Vec<(u16, serde_json::Value)>, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let io = TokioIo::new(io);
    let mut out = Vec::new();
    macro_rules! run {
        ($sender:expr) => {{
            let mut sender = $sender;
            for _ in 0..n {
                let request = hyper::Request::get(format!("https://localhost{path}"))
                    .header(hyper::header::HOST, "localhost")
                    .body(Empty::<Bytes>::new())
                    .unwrap();
                let response = sender.send_request(request).await.map_err(|e| format!("request: {e}"))?;
                let status = response.status().as_u16();
                let body = response.into_body().collect().await.map_err(|e| format!("body: {e}"))?.to_bytes();
                let json = serde_json::from_slice(&body).map_err(|e| format!("json: {e}"))?;
                out.push((status, json));
            }
        }};
    }
    match proto {
        Proto::Http1 => {
            let (sender, conn) = hyper::client::conn::http1::handshake(io).await.map_err(|e| format!("h1: {e}"))?;
            tokio::spawn(conn);
            run!(sender);
        }
        Proto::H2 => {
            let (sender, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                .await
                .map_err(|e| format!("h2: {e}"))?;
            tokio::spawn(conn);
            run!(sender);
        }
    }
    Ok(out)
}

/// Full round trip: connect as `client`, `GET /whoami` over `proto`. Returns the identity
/// and HTTP version the server saw, or why it failed.
async fn whoami(
    pki: &DevPki,
    client: Option<&ClientBundle>,
    proto: Proto,
    addr: SocketAddr,
) -> Result<(PeerIdentity, String), String> {
    let run = async {
        let stream = connect(pki, client, proto, addr).await.map_err(|e| format!("connect: {e}"))?;
        let negotiated = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        assert_eq!(negotiated.as_deref(), Some(proto.alpn()), "ALPN");
        let mut answers = get_n(stream, proto, "/whoami", 1).await?;
        let (status, body) = answers.pop().ok_or("no answer")?;
        if status != 200 {
            return Err(format!("status {status}: {body}"));
        }
        let identity = serde_json::from_value(body["identity"].clone()).map_err(|e| e.to_string())?;
        Ok((identity, body["version"].as_str().unwrap_or_default().to_owned()))
    };
    tokio::time::timeout(GUARD, run).await.map_err(|_| "timed out".to_owned())?
}

/// Connects as `client` and returns the TLS error that refused it: from the handshake
/// itself (TLS 1.2, or client-side failures) or, with TLS 1.3, the alert the server sends
/// right after the client's Finished. Panics if the connection is not refused.
async fn refusal(pki: &DevPki, client: Option<&ClientBundle>, addr: SocketAddr) -> rustls::Error {
    use tokio::io::AsyncReadExt;
    let as_rustls = |e: std::io::Error| -> rustls::Error {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
            .cloned()
            .unwrap_or_else(|| panic!("not a TLS error: {e}"))
    };
    let mut stream = match connect(pki, client, Proto::Http1, addr).await {
        Err(e) => return as_rustls(e),
        Ok(stream) => stream,
    };
    let mut buf = [0u8; 64];
    match tokio::time::timeout(GUARD, stream.read(&mut buf)).await {
        Err(_) => panic!("connection was not refused (still open after {GUARD:?})"),
        Ok(Ok(n)) => panic!("connection was not refused with an alert (read {n} bytes)"),
        Ok(Err(e)) => as_rustls(e),
    }
}

fn assert_alert(err: &rustls::Error, expected: rustls::AlertDescription) {
    assert!(
        matches!(err, rustls::Error::AlertReceived(a) if *a == expected),
        "expected alert {expected:?}, got {err:?}"
    );
}
