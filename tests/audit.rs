//! The audit ledger across a SIGKILL: every answered request has its record, the chain
//! verifies, an edited record is reported exactly, and no prompt text is in the ledger.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::json;
use zonegate::tls::pki::DevPki;

use crate::harness::{client_with, config_text, post, Opts, CHAT};

const BIN: &str = env!("CARGO_BIN_EXE_zonegate");

#[tokio::test]
async fn sigkill_loses_no_answered_record_and_edits_are_found() {
    let dir = tempfile::tempdir().unwrap();
    let pki = DevPki::create(&dir.path().join("pki")).unwrap();
    let cfg_path = dir.path().join("zonegate.toml");
    std::fs::write(&cfg_path, config_text(&pki, &Opts::default())).unwrap();
    let mut child = Command::new(BIN).arg("--config").arg(&cfg_path).arg("serve").stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    // Readiness: the log line that names the bound address.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(rest) = line.split("listening on https://").nth(1) {
                let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_string());
            }
        }
    });
    let addr = rx.recv_timeout(std::time::Duration::from_secs(120)).expect("server reports its address");
    let port = addr.rsplit(':').next().unwrap();
    let c = client_with(&pki.ca_cert, Some((&pki.client.cert, &pki.client.key)));
    let secret_prompt = "Vertraulich: Haushaltsentwurf Kapitel 7";
    for _ in 0..3 {
        let (st, _, b) = post(&c, &format!("https://localhost:{port}/v1/chat/completions"), &json!({"model": CHAT, "max_tokens": 2, "messages": [{"role": "user", "content": secret_prompt}]})).await;
        assert_eq!(st, 200, "{b}");
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let verify = || Command::new(BIN).arg("--config").arg(&cfg_path).args(["audit", "verify"]).output().unwrap();
    let out = verify();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("3 records"), "{text}");

    let ledger = dir.path().join("state/audit/ledger.jsonl");
    let content = std::fs::read_to_string(&ledger).unwrap();
    assert!(!content.contains("Haushaltsentwurf"), "no prompt text in the ledger");
    assert!(content.contains("\"user\":\"dev-user\""));
    // Edit record 2's token count.
    let lines: Vec<&str> = content.lines().collect();
    let edited = lines[1].replace("\"prompt_tokens\":", "\"prompt_tokens\":1");
    assert_ne!(edited, lines[1]);
    std::fs::write(&ledger, format!("{}\n{}\n{}\n", lines[0], edited, lines[2])).unwrap();
    let out = verify();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("record 2 is broken"), "{text}");
}
