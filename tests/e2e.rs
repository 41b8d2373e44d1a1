//! End-to-end tests: the real server over real mutual TLS on port 0, the real SmolLM2 file.
//! One test binary (DESIGN.md): every file in tests/ is a module of it.

mod harness;

mod appliance;

mod chat;
mod compat;
mod concurrency;
mod endpoints;
mod openai_sdk;
mod tls_refusals;
