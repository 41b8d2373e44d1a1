//! The official `openai` Python SDK (installed into a venv by `make test`) against the
//! server over mutual TLS: chat, streamed chat and embeddings.

use serde_json::Value;

use crate::harness::{shared, CHAT, EMBED};

#[tokio::test]
async fn official_python_sdk_chats_streams_and_embeds_over_mtls() {
    let Some(python) = std::env::var_os("ZONEGATE_TEST_PYTHON") else {
        eprintln!("SKIP official_python_sdk…: ZONEGATE_TEST_PYTHON is not set (make test sets it to a venv with openai)");
        return;
    };
    let s = shared();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/openai_check.py");
    let out = tokio::process::Command::new(python)
        .arg(script)
        .arg(s.url("/v1"))
        .arg(&s.pki.ca_cert)
        .arg(&s.pki.client.cert)
        .arg(&s.pki.client.key)
        .arg(CHAT)
        .arg(EMBED)
        .output()
        .await
        .expect("python runs");
    assert!(out.status.success(), "SDK check failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON from the script");
    assert!(!v["chat"]["content"].as_str().unwrap().is_empty());
    assert!(v["chat"]["prompt_tokens"].as_u64().unwrap() > 0);
    assert!(!v["stream"]["content"].as_str().unwrap().is_empty());
    assert_eq!(v["stream"]["finishes"].as_array().unwrap().len(), 1);
    assert!(v["stream"]["completion_tokens"].as_u64().unwrap() > 0);
    assert_eq!(v["embeddings"]["count"], 2);
    assert!(v["embeddings"]["dims"].as_u64().unwrap() > 0);
    assert_eq!(v["not_found"], "model_not_found");
}
