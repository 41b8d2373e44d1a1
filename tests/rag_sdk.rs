//! The official `openai` Python SDK against the RAG API over mutual TLS (tests/sdk/rag_check.py):
//! `files.create`, `vector_stores.create`, `vector_stores.files.create`/`create_and_poll`,
//! `vector_stores.file_batches.upload_and_poll`/`list_files`/`retrieve`,
//! lists, `vector_stores.search` (with a filter), chat with a `file_search` tool, deletes.

use serde_json::{json, Value};

use crate::harness::CHAT;
use crate::rag_api::rag_server;

#[tokio::test]
async fn official_python_sdk_uploads_indexes_and_searches() {
    let Some(python) = std::env::var_os("ZONEGATE_TEST_PYTHON") else {
        eprintln!("SKIP official_python_sdk_uploads…: ZONEGATE_TEST_PYTHON is not set (make test sets it to a venv with openai)");
        return;
    };
    let s = rag_server("").await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/rag_check.py");
    let out = tokio::process::Command::new(python)
        .arg(script)
        .arg(s.url("/v1"))
        .arg(&s.pki.ca_cert)
        .arg(&s.pki.client.cert)
        .arg(&s.pki.client.key)
        .arg(CHAT)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/ragapi"))
        .output()
        .await
        .expect("python runs");
    assert!(out.status.success(), "SDK check failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON from the script");
    assert!(v["uploaded"].as_object().unwrap().values().all(|b| b == true), "{v}");
    assert_eq!(v["files_listed"], json!(["bauantrag.pdf", "homeoffice.docx", "parkraum.html", "passwortrichtlinie.md"]));
    assert_eq!(v["retrieved"], "bauantrag.pdf");
    assert_eq!(v["store"]["object"], "vector_store");
    assert_eq!(v["store"]["status"], "completed");
    assert_eq!(v["store"]["completed"], 1);
    assert_eq!(v["store"]["metadata"]["projekt"], "sdk");
    assert_eq!(v["store"]["metadata"]["data_class"], "internal");
    assert_eq!(v["added"], json!(["completed", "completed", "completed"]));
    assert_eq!((v["store_files"].as_u64(), v["total"].as_u64()), (Some(4), Some(4)));
    assert_eq!(v["stores"], json!([true]));
    assert_eq!(v["search"]["first"], "homeoffice.docx", "{v}");
    assert_eq!(v["search"]["first_file"], true);
    assert!(v["search"]["text"].as_str().unwrap().contains("zwei Tagen"), "{v}");
    assert_eq!(v["filtered"], json!(["parkraum.html"]));
    assert!(!v["chat"]["content"].as_str().unwrap_or("").is_empty());
    assert_eq!(v["chat"]["citations"][0], "passwortrichtlinie.md", "{v}");
    assert_eq!(v["batch"], json!({"object": "vector_store.files_batch", "status": "completed", "id": true, "completed": 2, "total": 2}), "{v}");
    assert_eq!(v["batch_files"], json!(["completed", "completed"]));
    assert_eq!(v["batch_again"], "completed");
    assert_eq!((v["file_deleted"].as_bool(), v["store_deleted"].as_bool()), (Some(true), Some(true)));
    assert_eq!(v["after_delete"], "not_found");
}
