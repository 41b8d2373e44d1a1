//! Start-up and lifecycle: load config and models, bind the listeners, serve until a
//! signal, drain. The only place that wires modules together.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::api::{self, AppState, Limits, Metrics};
use crate::config::Config;
use crate::console::{self, ConsoleState};
use crate::accounting::{Accounting, Ledger, Meter};
use crate::engine::Engine;
use crate::policy::Detector;
use crate::rag::Rag;
use crate::relay::Relay;
use crate::tls::ServerTls;

/// A started server (listeners bound, models loaded).
pub struct Running {
    /// The shared state of the handlers (models, relay, accounting).
    pub state: AppState,
    /// Address of the mutual-TLS API listener.
    pub api_addr: SocketAddr,
    /// Address of the plain-HTTP health listener, when configured.
    pub health_addr: Option<SocketAddr>,
    /// Address of the admin console's listener, when `[console]` is configured.
    pub console_addr: Option<SocketAddr>,
    /// The TLS configuration, for reloads (SIGHUP).
    pub tls: ServerTls,
    /// The console listener's TLS configuration (admin certificates only), when configured.
    pub console_tls: Option<ServerTls>,
    /// Cancel to stop accepting and drain.
    pub shutdown: CancellationToken,
    tasks: Vec<JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// Re-reads certificates and CRLs of every TLS listener (SIGHUP). On error the listener
    /// that failed keeps its previous configuration.
    ///
    /// # Errors
    /// The first [`crate::tls::TlsError`].
    pub fn reload_tls(&self, cfg: &crate::config::TlsConfig) -> Result<(), crate::tls::TlsError> {
        self.tls.reload(cfg)?;
        if let Some(c) = &self.console_tls {
            c.reload(cfg)?;
        }
        Ok(())
    }

    /// Stops accepting, lets open requests finish for up to `grace`, then returns.
    pub async fn stop(self, grace: Duration) {
        self.shutdown.cancel();
        let all = futures::future::join_all(self.tasks);
        if tokio::time::timeout(grace, all).await.is_err() {
            log::warn!("shutdown grace of {}s passed; cancelling open streams", grace.as_secs());
        }
    }
}

/// The audit ledger of a configuration: `<server.state_dir>/audit/ledger.jsonl`.
pub fn ledger_path(cfg: &Config) -> std::path::PathBuf {
    cfg.server.state_dir.join("audit").join("ledger.jsonl")
}

/// Loads the models and binds the listeners of `cfg`.
///
/// # Errors
/// Model loading, TLS material or binding failures, with context.
pub async fn start(cfg: Config) -> anyhow::Result<Running> {
    let tls = ServerTls::load(&cfg.tls).context("loading TLS material")?;
    let models = cfg.models.clone();
    let depth = cfg.server.queue_depth;
    let engine = tokio::task::spawn_blocking(move || Engine::load(&models, depth)).await.context("model loader panicked")??;
    let relay = Relay::new(&cfg.upstreams).context("setting up upstreams")?;
    let rag = match &cfg.rag {
        None => None,
        Some(r) => {
            let (c, e, s) = (cfg.clone(), engine.clone(), crate::rag::settings(r, &cfg.server.state_dir));
            let rag = tokio::task::spawn_blocking(move || -> anyhow::Result<Rag> {
                let embed = crate::rag::engine_embedder(&c, &e)?;
                Ok(Rag::open(s, Some(embed))?)
            })
            .await
            .context("RAG store opener panicked")?
            .context("opening the RAG store ([rag])")?;
            let rag = Arc::new(rag);
            // Build the search indexes now, not on the first searches (8 s at 100k chunks).
            let warm = rag.clone();
            tokio::spawn(async move {
                let t = std::time::Instant::now();
                match warm.warm_up().await {
                    Ok(n) => log::info!("rag: search indexes of {n} collection(s) built in {:.1} s", t.elapsed().as_secs_f64()),
                    Err(e) => log::warn!("rag: building the search indexes at start failed ({e}); searches build them on demand"),
                }
            });
            Some(rag)
        }
    };
    let detector = Detector::new(&cfg.policy.detect).context("building the detectors from [policy.detect]")?;
    let state = AppState {
        engine,
        limits: Limits {
            max_body_bytes: cfg.server.max_body_bytes,
            max_tokens_cap: cfg.server.max_tokens_cap,
            retry_after: cfg.server.retry_after_secs,
            max_upload_bytes: cfg.rag.as_ref().map_or(cfg.server.max_body_bytes, |r| usize::try_from(r.max_file_bytes).unwrap_or(usize::MAX).saturating_add(64 << 10)),
        },
        metrics: Arc::new(Metrics::default()),
        relay: Arc::new(relay),
        detector: Arc::new(detector),
        policy: Arc::new(cfg.policy.clone()),
        accounting: Arc::new(
            Accounting::new(Ledger::open(&ledger_path(&cfg)).context("opening the audit ledger")?, Meter::new(&cfg.prices, &cfg.budgets), crate::accounting::unix_now())
                .context("reading the audit ledger")?
                .with_retention(cfg.accounting.retention_days.clone(), cfg.policy.default_class),
        ),
        rag,
    };
    let shutdown = CancellationToken::new();
    let listener = TcpListener::bind(cfg.server.listen).await.with_context(|| format!("binding server.listen {}", cfg.server.listen))?;
    let api_addr = listener.local_addr()?;
    let handshake = Duration::from_millis(cfg.server.handshake_timeout_ms);
    let mut tasks = vec![tokio::spawn(crate::tls::serve(listener, tls.clone(), handshake, api::router(state.clone()), shutdown.clone()))];
    tasks.push(tokio::spawn(prune_daily(state.accounting.clone(), shutdown.clone())));
    let mut health_addr = None;
    if let Some(addr) = cfg.server.health_listen {
        let l = TcpListener::bind(addr).await.with_context(|| format!("binding server.health_listen {addr}"))?;
        health_addr = Some(l.local_addr()?);
        tasks.push(tokio::spawn(crate::tls::serve_plain(l, api::health_router(state.clone()), shutdown.clone())));
    }
    let (mut console_addr, mut console_tls) = (None, None);
    if let Some(cc) = &cfg.console {
        let ctls = ServerTls::load_admin(&cfg.tls).context("loading TLS material for the console")?;
        let cstate = ConsoleState::new(state.clone(), cc, &cfg.server.state_dir, cfg.accounting.clone(), cfg.tls.clone(), vec![tls.clone(), ctls.clone()])
            .map_err(|e| anyhow::anyhow!("[console]: {e}"))?;
        let l = TcpListener::bind(cc.listen).await.with_context(|| format!("binding console.listen {}", cc.listen))?;
        console_addr = Some(l.local_addr()?);
        tasks.push(console::spawn_sampler(&cstate, shutdown.clone()));
        tasks.push(tokio::spawn(crate::tls::serve(l, ctls.clone(), handshake, console::router(cstate), shutdown.clone())));
        console_tls = Some(ctls);
    }
    log::info!(
        "listening on https://{api_addr} (mutual TLS){}{}",
        health_addr.map(|a| format!(", health on http://{a}")).unwrap_or_default(),
        console_addr.map(|a| format!(", admin console on https://{a} (admin certificates only)")).unwrap_or_default()
    );
    Ok(Running { state, api_addr, health_addr, console_addr, tls, console_tls, shutdown, tasks })
}

/// Applies the ledger's retention at start and then once a day, until `shutdown`.
async fn prune_daily(accounting: Arc<Accounting>, shutdown: CancellationToken) -> std::io::Result<()> {
    let mut every = tokio::time::interval(Duration::from_secs(86_400));
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            _ = every.tick() => {}
        }
        let acc = accounting.clone();
        match tokio::task::spawn_blocking(move || acc.prune(crate::accounting::unix_now())).await {
            Ok(Ok(Some(r))) if r.pruned > 0 => log::info!("audit ledger retention: pruned {} of {} records", r.pruned, r.records),
            Ok(Ok(_)) => {}
            Ok(Err(e)) => log::error!("audit ledger retention failed: {e}"),
            Err(e) => log::error!("audit ledger retention panicked: {e}"),
        }
    }
}

/// `zonegate serve`: runs until SIGTERM/SIGINT; SIGHUP reloads certificates and CRLs.
/// Reports READY/RELOADING/STOPPING and status to systemd when started by it.
///
/// # Errors
/// Start-up failures (see [`start`]).
pub async fn serve(cfg: Config) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let grace = Duration::from_secs(cfg.server.shutdown_grace_secs);
    let tls_cfg = cfg.tls.clone();
    // Pinged from the start: loading large models must not trip WatchdogSec (TimeoutStartSec
    // bounds the loading instead). A plain thread, not a task: the notify socket send blocks
    // when its reader stalls, and a blocked async worker would keep the runtime from shutting
    // down; the thread stops pinging once stopping begins and dies with the process.
    let stopping = Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let Some(every) = watchdog_interval() {
        let stopping = stopping.clone();
        let _ = std::thread::Builder::new().name("watchdog".into()).spawn(move || {
            while !stopping.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
                std::thread::sleep(every);
            }
        });
    }
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Status("checking the state directory")]);
    let state_dir = cfg.server.state_dir.clone();
    match crate::lifecycle::prepare_state(&state_dir).context("state directory (server.state_dir)")? {
        crate::lifecycle::StateOutcome::Migrated(from) => log::info!("state in {} migrated from schema {from}", state_dir.display()),
        outcome => log::debug!("state in {}: {outcome:?}", state_dir.display()),
    }
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Status("loading models")]);
    let running = start(cfg).await?;
    let status = format!("serving on https://{}", running.api_addr);
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready, sd_notify::NotifyState::Status(&status)]);
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut hup = signal(SignalKind::hangup())?;
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Reloading]);
                match running.reload_tls(&tls_cfg) {
                    Ok(()) => log::info!("reloaded certificates and CRLs"),
                    Err(e) => log::error!("reload failed, keeping the previous TLS configuration: {e}"),
                }
                let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);
            }
        }
    }
    log::info!("shutting down: draining for up to {}s", grace.as_secs());
    stopping.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping, sd_notify::NotifyState::Status("draining")]);
    running.stop(grace).await;
    Ok(())
}

/// Half the systemd watchdog interval (`WATCHDOG_USEC`), when the unit enables one.
fn watchdog_interval() -> Option<Duration> {
    let mut usec = 0;
    sd_notify::watchdog_enabled(false, &mut usec).then(|| Duration::from_micros(usec / 2))
}
