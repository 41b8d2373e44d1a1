//! The admin web console and its admin API, on a listener of its own (`[console] listen`,
//! the management address).
//!
//! Owns: the console's routes and server-rendered pages (maud; German by default, English
//! via `?lang=en`), its embedded assets, CSRF protection of its forms, security headers, the
//! one-time download of issued client bundles, and the admin records of what is done here.
//! Pages: status, zones and policy (with a classification test box), usage, audit,
//! certificates, knowledge.
//!
//! Must not: bypass the admin role — the listener's TLS configuration
//! ([`crate::tls::ServerTls::load_admin`]) refuses other certificates at the handshake and
//! [`require_admin`] refuses them again per request; log or store the text pasted into the
//! test box; keep an issued PKCS#12 bundle after its one download; write anything to the
//! ledger but facts (who, what, on what, outcome).

mod audit;
mod certs;
mod chart;
pub mod csrf;
pub mod i18n;
mod knowledge;
mod layout;
mod status;
#[cfg(test)]
mod tests;
mod usage;
mod zones;

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use crate::api::AppState;
use crate::config::{AccountingConfig, ConsoleConfig, TlsConfig};
use crate::tls::pki::Authority;
use crate::tls::{PeerIdentity, ServerTls};

pub use i18n::{Lang, K};
pub use layout::Ctx;

/// Everything the console's handlers share; cheap to clone.
#[derive(Clone)]
pub struct ConsoleState {
    /// The API's state: engine, relay, detector, policy, accounting.
    pub app: AppState,
    /// Report rules (small groups folded into `other`).
    pub accounting_cfg: AccountingConfig,
    /// The local CA as the console uses it (listing always; issuing and revoking only with
    /// `can_issue`).
    pub authority: Authority,
    /// Whether a CA key was configured (`[console] ca_key` or `ca_key_credential`).
    pub can_issue: bool,
    /// Days of validity of certificates issued here.
    pub client_cert_days: u32,
    /// The TLS files of both listeners, re-read after a revocation.
    pub tls_cfg: TlsConfig,
    /// The listeners to reload after a revocation (API and console).
    pub listeners: Vec<ServerTls>,
    /// CSRF key of this process.
    pub csrf: csrf::CsrfKey,
    /// Issued bundles waiting for their one download.
    pub bundles: Arc<Mutex<HashMap<String, certs::Pending>>>,
    /// Throughput samples: (Unix seconds, completion tokens since start), newest last.
    pub samples: Arc<Mutex<VecDeque<(u64, u64)>>>,
    /// Unix seconds at start.
    pub started: u64,
}

impl ConsoleState {
    /// The console's state for `cfg`; `state_dir` gives the default PKI directory. Issuing
    /// is off (with a log line saying why) when no CA key is configured or the configured
    /// credential cannot be found (`$CREDENTIALS_DIRECTORY` unset: not started by systemd).
    ///
    /// # Errors
    /// None today; the `Result` leaves room for start-up checks.
    pub fn new(app: AppState, cfg: &ConsoleConfig, state_dir: &std::path::Path, accounting_cfg: AccountingConfig, tls_cfg: TlsConfig, listeners: Vec<ServerTls>) -> Result<ConsoleState, String> {
        let pki_dir: PathBuf = cfg.pki_dir.clone().unwrap_or_else(|| state_dir.join("pki"));
        let key = cfg.ca_key_path().unwrap_or_else(|e| {
            log::warn!("console: {e}; certificates can be listed, not issued or revoked");
            None
        });
        if key.is_none() {
            log::info!("console: no CA key ([console] ca_key or ca_key_credential): certificates can be listed, not issued or revoked");
        }
        Ok(ConsoleState {
            app,
            accounting_cfg,
            authority: Authority::new(&pki_dir, key.as_deref()),
            can_issue: key.is_some(),
            client_cert_days: cfg.client_cert_days,
            tls_cfg,
            listeners,
            csrf: csrf::CsrfKey::random(),
            bundles: Arc::default(),
            samples: Arc::default(),
            started: crate::accounting::unix_now(),
        })
    }

    /// Re-reads certificates and CRLs for every listener (after a revocation).
    ///
    /// # Errors
    /// The first listener's reload error (the others are still tried).
    pub fn reload_listeners(&self) -> Result<(), crate::tls::TlsError> {
        let mut first = Ok(());
        for l in &self.listeners {
            if let Err(e) = l.reload(&self.tls_cfg) {
                log::error!("console: reload after revocation failed: {e}");
                if first.is_ok() {
                    first = Err(e);
                }
            }
        }
        first
    }
}

/// The console's router: pages, forms, assets; every route behind [`require_admin`] and
/// [`security_headers`].
pub fn router(state: ConsoleState) -> Router {
    let upload_limit = state.app.limits.max_upload_bytes;
    Router::new()
        .route("/", get(status::show))
        .route("/zones", get(zones::show))
        .route("/zones/classify", post(zones::classify))
        .route("/usage", get(usage::show))
        .route("/usage.csv", get(usage::csv))
        .route("/audit", get(audit::show))
        .route("/certificates", get(certs::show))
        .route("/certificates/issue", post(certs::issue))
        .route("/certificates/revoke", post(certs::revoke))
        .route("/certificates/bundle/{token}", get(certs::download))
        .route("/knowledge", get(knowledge::show))
        .route("/knowledge/collections", post(knowledge::create))
        .route("/knowledge/collections/delete", post(knowledge::delete_collection))
        .route("/knowledge/documents/delete", post(knowledge::delete_document))
        .route("/knowledge/upload", post(knowledge::upload).layer(axum::extract::DefaultBodyLimit::max(upload_limit)))
        .route("/knowledge/search", post(knowledge::search))
        .route("/assets/console.css", get(|| async { asset("text/css; charset=utf-8", CSS) }))
        .route("/assets/console.js", get(|| async { asset("text/javascript; charset=utf-8", JS) }))
        .fallback(layout::not_found)
        .layer(axum::middleware::from_fn(security_headers))
        .layer(axum::middleware::from_fn(require_admin))
        .with_state(state)
}

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

fn asset(mime: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "private, max-age=3600")], body).into_response()
}

/// The first check of every form handler: a wrong or missing CSRF token, or a foreign
/// origin, gets the 403 page (returned); `None` when the post may go on.
pub fn refuse_forged(ctx: &Ctx, st: &ConsoleState, token: &str, headers: &axum::http::HeaderMap, uri: &axum::http::Uri) -> Option<Response> {
    (!st.csrf.check(&ctx.who.serial, token, headers, uri)).then(|| layout::error_page(ctx, StatusCode::FORBIDDEN, ctx.t(K::CsrfFailed)))
}

/// Appends an admin record for the signed-in administrator. A failed append is counted and
/// logged by accounting; the action itself already happened.
pub fn record_admin(st: &ConsoleState, ctx: &Ctx, action: crate::accounting::AdminAction, target: String, ok: bool) {
    let r = crate::accounting::AdminRecord { time: crate::accounting::unix_now(), user: ctx.who.user.clone(), department: ctx.who.department.clone(), serial: ctx.who.serial.clone(), action, target, ok };
    let _ = st.app.accounting.record_admin(&r);
}

/// Second guard behind the handshake: a request without a verified admin identity gets 403
/// and reaches no handler.
pub async fn require_admin(req: Request, next: Next) -> Response {
    match req.extensions().get::<PeerIdentity>() {
        Some(id) if id.is_admin() => next.run(req).await,
        Some(id) => {
            log::warn!("console: certificate {} without admin role refused", id.serial);
            (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "403: admin certificate required / nur mit Verwaltungszertifikat\n").into_response()
        }
        None => (StatusCode::FORBIDDEN, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], "403: admin certificate required / nur mit Verwaltungszertifikat\n").into_response(),
    }
}

/// Content-Security-Policy of every console response: own styles and scripts only, no
/// inline script or style, no framing, forms only to this origin.
pub const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Sets CSP, `X-Frame-Options: DENY`, `nosniff`, `Referrer-Policy: same-origin` (browsers then send `Origin` on form posts; with `no-referrer` it would be `null`), HSTS, and `no-store` on
/// everything that is not a static asset (pages may show bundles, passwords, audit data).
/// A `?lang=` switch is remembered in the `zg_lang` cookie.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let is_asset = req.uri().path().starts_with("/assets/");
    let lang = req.uri().query().and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "lang")).and_then(|(_, v)| Lang::parse(&v));
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    h.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static("max-age=31536000"));
    h.insert("cross-origin-opener-policy", HeaderValue::from_static("same-origin"));
    if !is_asset {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    }
    if let Some(lang) = lang {
        let c = cookie::Cookie::build(("zg_lang", lang.code())).path("/").secure(true).http_only(true).same_site(cookie::SameSite::Strict).max_age(cookie::time::Duration::days(365));
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            h.append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// Starts the throughput sampler: every 5 s the engine's completion-token total, the last
/// ten minutes kept, until `shutdown`.
pub fn spawn_sampler(state: &ConsoleState, shutdown: tokio_util::sync::CancellationToken) -> tokio::task::JoinHandle<std::io::Result<()>> {
    let (engine, samples) = (state.app.engine.clone(), state.samples.clone());
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(status::SAMPLE_SECS));
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                _ = tick.tick() => {
                    let total = status::completion_total(&engine);
                    let mut s = samples.lock().unwrap_or_else(|e| e.into_inner());
                    if s.len() == status::SAMPLES {
                        s.pop_front();
                    }
                    s.push_back((crate::accounting::unix_now(), total));
                }
            }
        }
    })
}
