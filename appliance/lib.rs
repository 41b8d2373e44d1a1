//! zonegate: the green-zone AI appliance of a city's three-zone setup.
//!
//! One binary serves llama.cpp GGUF models through an OpenAI-compatible API over mutual
//! TLS. See `DESIGN.md` for the vocabulary (zone, data class, decision, identity) and the
//! module boundaries; each module's own doc comment says what it owns and must not do.
//!
//! Data flow of one request: TLS handshake ([`tls`], identity) → [`api`] parses and
//! validates → [`engine`] generates → the answer streams back.

pub mod accounting;
pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod console;
pub mod engine;
pub mod lifecycle;
pub mod logging;
pub mod policy;
pub mod rag;
pub mod relay;
pub mod tls;

/// Crate version (Cargo.toml).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Git revision of the build, or `unknown`.
pub const GIT_REVISION: &str = env!("ZONEGATE_GIT_REVISION");
/// Enabled build features, comma-separated (`cpu` when none).
pub const FEATURES: &str = env!("ZONEGATE_FEATURES");
