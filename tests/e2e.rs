//! End-to-end tests: the real server over real mutual TLS on port 0, the real SmolLM2 file.
//! One test binary (DESIGN.md): every file in tests/ is a module of it.

// Test support code panics on setup failures: that is how a test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod harness;

mod appliance;
mod audit;
mod chat;
mod compat;
mod console;
mod concurrency;
mod endpoints;
mod openai_sdk;
mod policy_quality;
mod rag_acl;
mod rag_api;
mod rag_chat;
mod rag_corpus;
mod rag_sdk;
mod rag_store;
mod relay;
mod tls_refusals;
mod upstream;
