//! Test harness: a development PKI in a temp dir, servers on port 0 over real mutual TLS,
//! reqwest clients that carry the client certificate, and SSE helpers.
//!
//! The model is the real SmolLM2-135M file (`ZONEGATE_TEST_MODEL`, set by `make test`, or
//! the `make model` cache location).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use zonegate::config::Config;
use zonegate::tls::pki::DevPki;

pub const CHAT: &str = "smollm2-135m";
pub const EMBED: &str = "smollm2-135m-embed";
/// `[rag] vector_weight` for SmolLM2 as embedder, as in the dev config the Makefile writes
/// (chosen by the retrieval-quality test's sweep; see README "RAG").
pub const DEV_VECTOR_WEIGHT: f32 = 0.15;

/// The GGUF file the tests run on; panics with the fix when it is missing.
pub fn model_path() -> PathBuf {
    let p = std::env::var_os("ZONEGATE_TEST_MODEL").map(PathBuf::from).unwrap_or_else(|| {
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
        home.join(".cache/zonegate/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    });
    assert!(p.is_file(), "test model {} not found: run `make model` (or `make test`, which fetches it)", p.display());
    p
}

/// Server options the tests vary.
#[derive(Clone)]
pub struct Opts {
    pub parallel: u32,
    pub context_size: u32,
    pub queue_depth: usize,
    pub max_body_bytes: usize,
    pub max_tokens_cap: u32,
    pub handshake_timeout_ms: u64,
    /// TOML appended to the generated config (upstreams, policy).
    pub extra: String,
    /// `prefix_cache` of the chat model. Off by default here: several tests compare two
    /// greedy generations token for token, and a reused prefix evaluates the last prompt
    /// token in a batch of one, which may sum floats in another order.
    pub prefix_cache: &'static str,
}

impl Default for Opts {
    fn default() -> Self {
        Self { parallel: 4, context_size: 4096, queue_depth: 32, max_body_bytes: 1 << 20, max_tokens_cap: 512, handshake_timeout_ms: 5000, extra: String::new(), prefix_cache: "off" }
    }
}

/// Writes the config TOML for a server in `dir` with the PKI `pki`.
pub fn config_text(pki: &DevPki, o: &Opts) -> String {
    let model = model_path();
    format!(
        r#"[server]
listen = "127.0.0.1:0"
max_body_bytes = {body}
max_tokens_cap = {cap}
queue_depth = {depth}
handshake_timeout_ms = {hs}
retry_after_secs = 1
shutdown_grace_secs = 2
state_dir = "state"

[tls]
cert = "{cert}"
key = "{key}"
client_ca = ["{ca}"]
crl = ["{crl}"]

[[models]]
id = "{CHAT}"
path = "{model}"
context_size = {ctx}
parallel = {par}
threads = 2
prefix_cache = "{pc}"

[[models]]
id = "{EMBED}"
role = "embedding"
path = "{model}"
context_size = 2048
parallel = 2
threads = 2
"#,
        body = o.max_body_bytes,
        cap = o.max_tokens_cap,
        depth = o.queue_depth,
        hs = o.handshake_timeout_ms,
        cert = pki.server_cert.display(),
        key = pki.server_key.display(),
        ca = pki.ca_cert.display(),
        crl = pki.crl.display(),
        model = model.display(),
        ctx = o.context_size,
        par = o.parallel,
        pc = o.prefix_cache,
    ) + &o.extra
}

/// A server running in the current test's runtime.
pub struct TestServer {
    pub addr: SocketAddr,
    pub pki: DevPki,
    pub cfg: Config,
    pub running: zonegate::app::Running,
    pub _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start(o: Opts) -> TestServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let pki = DevPki::create(dir.path()).expect("dev pki");
        let text = config_text(&pki, &o);
        let cfg = Config::parse(&text, dir.path()).expect("valid test config");
        let running = zonegate::app::start(cfg.clone()).await.expect("server starts");
        TestServer { addr: running.api_addr, pki, cfg, running, _dir: dir }
    }

    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{}", self.addr.port(), path)
    }

    pub fn client(&self) -> reqwest::Client {
        client_with(&self.pki.ca_cert, Some((&self.pki.client.cert, &self.pki.client.key)))
    }
}

/// One server shared by the tests that do not need their own, on its own thread and runtime.
pub struct Shared {
    pub addr: SocketAddr,
    pub pki: DevPki,
}

impl Shared {
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{}", self.addr.port(), path)
    }
    pub fn client(&self) -> reqwest::Client {
        client_with(&self.pki.ca_cert, Some((&self.pki.client.cert, &self.pki.client.key)))
    }
}

pub fn shared() -> &'static Shared {
    static S: OnceLock<Shared> = OnceLock::new();
    S.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
            rt.block_on(async move {
                let s = TestServer::start(Opts::default()).await;
                tx.send(Shared { addr: s.addr, pki: s.pki.clone() }).expect("send");
                // Keep the server (and its temp dir) alive for the whole test binary.
                std::future::pending::<()>().await;
                drop(s);
            });
        });
        rx.recv().expect("shared server started")
    })
}

/// A client trusting `ca`, presenting `(cert, key)` when given.
pub fn client_with(ca: &Path, identity: Option<(&PathBuf, &PathBuf)>) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(ca).expect("ca")).expect("ca pem");
    let mut b = reqwest::Client::builder().add_root_certificate(ca).timeout(Duration::from_secs(300)).use_rustls_tls();
    if let Some((c, k)) = identity {
        let mut pem = std::fs::read(c).expect("cert");
        pem.extend(std::fs::read(k).expect("key"));
        b = b.identity(reqwest::Identity::from_pem(&pem).expect("identity"));
    }
    b.build().expect("client")
}

/// POSTs JSON; returns status, headers and the parsed body (Null when not JSON).
pub async fn post(c: &reqwest::Client, url: &str, body: &Value) -> (u16, reqwest::header::HeaderMap, Value) {
    let r = c.post(url).json(body).send().await.expect("request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let text = r.text().await.expect("body");
    (status, headers, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// POSTs and reads a whole SSE stream; returns status and the `data:` payloads in order.
pub async fn post_sse(c: &reqwest::Client, url: &str, body: &Value) -> (u16, Vec<String>) {
    let r = c.post(url).json(body).send().await.expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, sse_data(&text))
}

/// The `data:` payloads of an SSE body.
pub fn sse_data(text: &str) -> Vec<String> {
    text.split("\n\n")
        .filter_map(|ev| {
            let lines: Vec<&str> = ev.lines().filter_map(|l| l.strip_prefix("data:")).map(|l| l.strip_prefix(' ').unwrap_or(l)).collect();
            (!lines.is_empty()).then(|| lines.join("\n"))
        })
        .collect()
}

/// Parses SSE payloads up to `[DONE]` (asserted to be last) as JSON chunks.
pub fn chunks(data: &[String]) -> Vec<Value> {
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"), "stream must end with [DONE]: {data:?}");
    data[..data.len() - 1].iter().map(|d| serde_json::from_str(d).unwrap_or_else(|e| panic!("chunk is not JSON ({e}): {d}"))).collect()
}
