//! Accept loops of the mutual-TLS API listener and the plain loopback health listener.
//!
//! Owns: accepting TCP connections, one task per connection (handshake under a timeout,
//! identity, HTTP/1.1 + HTTP/2 via hyper-util's auto builder), inserting the
//! [`PeerIdentity`] into every request, graceful shutdown.
//! Must not: run a handshake (or anything that waits on a client) in the accept loop
//! (DESIGN.md rule 5), serve a request on the API listener without an identity, or let one
//! failing `accept` end the loop.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{PeerIdentity, ServerTls};

/// Pause after an `accept` error that is not about one connection (EMFILE, ENFILE, ENOBUFS,
/// ENOMEM): gives the process time to close descriptors instead of spinning.
pub const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `app` over mutual TLS on `listener` until `shutdown` is cancelled.
///
/// The accept loop only accepts. Each TCP connection gets its own task which
/// 1. runs the TLS handshake under `handshake_timeout` (a client that sends nothing is
///    dropped when it elapses and never delays anyone else), using the configuration
///    current in `tls` at that moment (so [`ServerTls::reload`] applies to new handshakes);
/// 2. takes the [`PeerIdentity`] once from the verified client certificate;
/// 3. serves HTTP/1.1 and HTTP/2 (ALPN or preface sniffing) with hyper-util's auto builder,
///    inserting a clone of the identity into every request's extensions.
///
/// On `shutdown`: stops accepting and closes the listener, drops handshakes in progress,
/// asks every open connection to shut down gracefully (HTTP/1.1: close after the current
/// response; HTTP/2: GOAWAY, in-flight streams finish) and returns once all connection
/// tasks have ended. Wrap the call in a timeout to bound the grace period: dropping the
/// returned future aborts the remaining connection tasks.
///
/// # Errors
/// None in practice: `accept` errors are logged and retried after [`ACCEPT_BACKOFF`]. The
/// `io::Result` leaves room for start-up checks.
pub async fn serve(
    listener: TcpListener,
    tls: ServerTls,
    handshake_timeout: Duration,
    app: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    log::info!("mutual-TLS {} listener on {}", tls.purpose(), listener.local_addr()?);
    accept_loop(listener, shutdown, move |tcp, peer, shutdown| {
        tls_connection(tcp, peer, tls.clone(), handshake_timeout, app.clone(), shutdown)
    })
    .await
}

/// Serves `app` over plain HTTP/1.1 and h2c on `listener`, for the loopback-only health
/// listener (`server.health_listen`). Requests carry no [`PeerIdentity`], so any handler that
/// extracts one answers 401. Shutdown behaves as in [`serve`].
///
/// # Errors
/// `InvalidInput` if `listener` is not bound to a loopback address: plain HTTP must never be
/// reachable from the LAN.
pub async fn serve_plain(listener: TcpListener, app: Router, shutdown: CancellationToken) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    if !addr.ip().is_loopback() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("plain-HTTP listener {addr} is not on a loopback address"),
        ));
    }
    log::info!("plain-HTTP health listener on {addr}");
    accept_loop(listener, shutdown, move |tcp, _peer, shutdown| {
        serve_http(TokioIo::new(tcp), None, app.clone(), shutdown)
    })
    .await
}

async fn accept_loop<F, Fut>(
    listener: TcpListener,
    shutdown: CancellationToken,
    mut on_connection: F,
) -> std::io::Result<()>
where
    F: FnMut(TcpStream, SocketAddr, CancellationToken) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            Some(done) = tasks.join_next(), if !tasks.is_empty() => report_task_end(done),
            accepted = listener.accept() => match accepted {
                Ok((tcp, peer)) => {
                    if let Err(e) = tcp.set_nodelay(true) {
                        log::debug!("TCP_NODELAY on {peer}: {e}");
                    }
                    tasks.spawn(on_connection(tcp, peer, shutdown.clone()));
                }
                Err(e) if is_per_connection(&e) => log::debug!("accept: {e}"),
                Err(e) => {
                    log::warn!("accept failed: {e}; retrying in {ACCEPT_BACKOFF:?}");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                    }
                }
            },
        }
    }
    drop(listener);
    log::debug!("listener closed; waiting for {} connection(s) to finish", tasks.len());
    while let Some(done) = tasks.join_next().await {
        report_task_end(done);
    }
    Ok(())
}

/// Errors that concern only the connection being accepted; the next accept can follow at once.
fn is_per_connection(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(e.kind(), ConnectionAborted | ConnectionReset | Interrupted | WouldBlock)
}

fn report_task_end(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done {
        if e.is_panic() {
            log::error!("a connection task panicked: {e}");
        }
    }
}

async fn tls_connection(
    tcp: TcpStream,
    peer: SocketAddr,
    tls: ServerTls,
    handshake_timeout: Duration,
    app: Router,
    shutdown: CancellationToken,
) {
    let handshake = tokio::time::timeout(handshake_timeout, tls.acceptor().accept(tcp));
    let stream = tokio::select! {
        () = shutdown.cancelled() => return,
        outcome = handshake => match outcome {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => {
                log::info!("TLS handshake with {peer} failed: {e}");
                return;
            }
            Err(_) => {
                log::debug!("TLS handshake with {peer} timed out after {handshake_timeout:?}");
                return;
            }
        },
    };
    // The verifier already refused certificates without identity; this is the one place the
    // identity is taken for the connection.
    let identity = match stream.get_ref().1.peer_certificates().and_then(|c| c.first()) {
        Some(leaf) => match PeerIdentity::from_certificate(leaf) {
            Ok(identity) => identity,
            Err(e) => {
                log::warn!("closing connection: {e}");
                return;
            }
        },
        None => {
            log::warn!("closing connection from {peer}: no client certificate after the handshake");
            return;
        }
    };
    log::debug!("TLS connection from {peer}: certificate {}", identity.serial);
    serve_http(TokioIo::new(stream), Some(identity), app, shutdown).await;
}

async fn serve_http<I>(io: I, identity: Option<PeerIdentity>, app: Router, shutdown: CancellationToken)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let router = TowerToHyperService::new(app);
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        if let Some(identity) = &identity {
            request.extensions_mut().insert(identity.clone());
        }
        hyper::service::Service::call(&router, request)
    });
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // A timer enables hyper's HTTP/1 header read timeout (30 s): no slow-loris after the handshake.
    builder.http1().timer(TokioTimer::new());
    builder.http2().timer(TokioTimer::new());
    let connection = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(connection);
    tokio::select! {
        result = connection.as_mut() => {
            if let Err(e) = result {
                log::debug!("connection ended with an error: {e}");
            }
            return;
        }
        () = shutdown.cancelled() => connection.as_mut().graceful_shutdown(),
    }
    if let Err(e) = connection.await {
        log::debug!("connection ended with an error during shutdown: {e}");
    }
}
