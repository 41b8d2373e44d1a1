//! zonegate: the green-zone AI appliance of a city's three-zone setup.
//!
//! One binary serves llama.cpp GGUF models through an OpenAI-compatible API over mutual
//! TLS. See `DESIGN.md` for the vocabulary (zone, data class, decision, identity) and the
//! module boundaries; each module's own doc comment says what it owns and must not do.

pub mod config;
pub mod policy;
pub mod tls;
