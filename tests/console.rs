//! The admin console end to end: its listener refuses non-admin and anonymous clients at the
//! TLS handshake, answers admins with secured pages, refuses forms without the CSRF token,
//! issues a bundle for exactly one download and records admin actions in the ledger; and a
//! real headless Chromium (Debian's `chromium` driven by playwright-core, tests/console/)
//! goes through issuing, classifying, the usage chart and every page, saving screenshots.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{json, Value};
use zonegate::tls::pki::{self, DevPki, Validity};

use crate::harness::{client_with, post, Opts, TestServer, CHAT};

/// A server with the console on port 0, issuing with the fixture's CA key.
fn console_opts() -> Opts {
    Opts { extra: format!("\n[console]\nlisten = \"127.0.0.1:0\"\npki_dir = \".\"\nca_key = \"ca.key\"\n{}", crate::rag_api::rag_toml()), ..Opts::default() }
}

fn curl(s: &TestServer, path: &str) -> String {
    format!("https://localhost:{}{path}", s.running.console_addr.expect("console listener").port())
}

fn csrf_token(html: &str) -> String {
    let re = regex::Regex::new(r#"name="csrf" value="([0-9a-f]{64})""#).unwrap();
    re.captures(html).expect("page has a form token")[1].to_string()
}

fn ledger(s: &TestServer) -> String {
    std::fs::read_to_string(s.cfg.server.state_dir.join("audit/ledger.jsonl")).unwrap_or_default()
}

#[tokio::test]
async fn console_refuses_non_admins_at_the_handshake_and_guards_its_forms() {
    let s = TestServer::start(console_opts()).await;
    let admin = s.pki.issue_client("admin.test", "IT", true, Validity::days_from_now(5)).unwrap();
    let admin_c = client_with(&s.pki.ca_cert, Some((&admin.cert, &admin.key)));

    // A valid user certificate and no certificate: the TLS handshake fails, so there is no
    // HTTP status at all (the handler-level 403 is only the second guard).
    for (who, c) in [("user certificate", s.client()), ("no certificate", client_with(&s.pki.ca_cert, None))] {
        let e = c.get(curl(&s, "/")).send().await.expect_err(who);
        assert!(e.status().is_none() && (e.is_connect() || e.is_request()), "{who}: refused before HTTP: {e:?}");
    }
    // The same user certificate is fine on the API listener.
    assert_eq!(s.client().get(s.url("/v1/models")).send().await.unwrap().status(), 200);

    // An admin gets the German status page with the security headers.
    let r = admin_c.get(curl(&s, "/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let h = r.headers().clone();
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));
    assert_eq!(h["cache-control"], "no-store");
    let body = r.text().await.unwrap();
    assert!(body.contains("<html lang=\"de\">") && body.contains("Geladene Modelle") && body.contains(CHAT), "{body}");

    // CSRF: without the token, with a foreign token, and cross-origin with the right one.
    let token = csrf_token(&admin_c.get(curl(&s, "/zones")).send().await.unwrap().text().await.unwrap());
    let text = "Herr Jonas Beispielmann, geb. 03.04.1961, Rentenversicherungsnummer 12 030461 B 123.";
    let form = |t: &str| vec![("csrf", t.to_string()), ("text", text.to_string()), ("declared", "internal".to_string())];
    let st = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(st(admin_c.post(curl(&s, "/zones/classify")).form(&form("")).send().await.unwrap()), 403);
    assert_eq!(st(admin_c.post(curl(&s, "/zones/classify")).form(&form(&"0".repeat(64))).send().await.unwrap()), 403);
    assert_eq!(st(admin_c.post(curl(&s, "/zones/classify")).header("origin", "https://evil.example").form(&form(&token)).send().await.unwrap()), 403);
    let r = admin_c.post(curl(&s, "/zones/classify")).form(&form(&token)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("id=\"classify-result\"") && page.contains("data-zone=\"green\" data-decision=\"allow\""), "{page}");
    assert!(page.contains("data-zone=\"red\" data-decision=\"block\""), "personal data never goes red: {page}");
    assert!(!ledger(&s).contains("Beispielmann"), "the test box is a read: nothing recorded");

    // Issue a bundle through the form: downloadable once, recorded as an admin action.
    let token = csrf_token(&admin_c.get(curl(&s, "/certificates")).send().await.unwrap().text().await.unwrap());
    let r = admin_c.post(curl(&s, "/certificates/issue")).form(&[("csrf", token.as_str()), ("user", "max.probe"), ("department", "Bauamt")]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    let link = regex::Regex::new(r#"href="(/certificates/bundle/[0-9a-f]{64})""#).unwrap().captures(&page).expect("download link")[1].to_string();
    let password = regex::Regex::new(r#"id="p12-password">([a-z0-9-]+)<"#).unwrap().captures(&page).expect("password")[1].to_string();
    let serial = regex::Regex::new(r#"id="issued-serial">([0-9a-f]+)<"#).unwrap().captures(&page).expect("serial")[1].to_string();
    let p12 = admin_c.get(curl(&s, &link)).send().await.unwrap();
    assert_eq!(p12.headers()["content-type"], "application/x-pkcs12");
    let p12 = p12.bytes().await.unwrap();
    let store = p12_keystore::KeyStore::from_pkcs12(&p12, &password).expect("bundle opens with the shown password");
    assert_eq!(store.entries_count(), 1);
    assert_eq!(admin_c.get(curl(&s, &link)).send().await.unwrap().status(), 410, "downloadable once");
    assert!(pki::list(&s.pki.dir).unwrap().iter().any(|e| e.serial == serial && e.department.as_deref() == Some("Bauamt")));
    let l = ledger(&s);
    assert!(l.contains("\"action\":\"certificate_issued\"") && l.contains(&serial) && l.contains("\"user\":\"admin.test\""), "{l}");
    assert!(!l.contains(&password), "no secrets in the ledger");
}

/// Where screenshots go: `$ZONEGATE_TEST_OUT`, else `<target>/release/console-test-out`.
fn out_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("ZONEGATE_TEST_OUT") {
        return PathBuf::from(d).join("console");
    }
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(|deps| deps.parent()).map_or_else(std::env::temp_dir, PathBuf::from).join("console-test-out")
}

/// What is missing to run the browser test, if anything.
fn browser_missing(repo: &std::path::Path) -> Option<String> {
    let chromium = std::env::var_os("ZONEGATE_CHROMIUM").map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if !chromium.is_file() {
        return Some(format!("{} not found (Debian package `chromium`; `make test` installs it)", chromium.display()));
    }
    if std::process::Command::new("node").arg("--version").output().is_err() {
        return Some("node not found (Debian package `nodejs`)".into());
    }
    if !repo.join("tests/console/node_modules/playwright-core/package.json").is_file() {
        return Some("tests/console/node_modules/playwright-core missing (`make test` runs npm ci there)".into());
    }
    None
}

#[tokio::test]
async fn chromium_issues_a_bundle_classifies_and_reads_the_usage_chart() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if let Some(why) = browser_missing(&repo) {
        eprintln!("SKIP chromium_issues_a_bundle_classifies_and_reads_the_usage_chart: {why}");
        return;
    }
    let s = TestServer::start(console_opts()).await;
    // A few real requests, so the usage chart has something to show.
    let requests = 3;
    for i in 0..requests {
        let (st, _, b) = post(&s.client(), &s.url("/v1/chat/completions"), &json!({"model": CHAT, "max_tokens": 4, "messages": [{"role": "user", "content": format!("Nenne eine Farbe ({i}).")}]})).await;
        assert_eq!(st, 200, "{b}");
    }
    let admin = s.pki.issue_client("admin.test", "IT", true, Validity::days_from_now(5)).unwrap();
    let out = out_dir();
    let _ = std::fs::remove_dir_all(&out);
    std::fs::create_dir_all(&out).unwrap();
    let run = tokio::process::Command::new("node")
        .arg(repo.join("tests/console/drive.js"))
        .env("CONSOLE_URL", curl(&s, ""))
        .env("ADMIN_P12", &admin.p12)
        .env("ADMIN_P12_PASSWORD", DevPki::P12_PASSWORD)
        .env("NODE_EXTRA_CA_CERTS", &s.pki.ca_cert)
        .env("OUT_DIR", &out)
        .env("EXPECT_REQUESTS", requests.to_string())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(240), run).await.expect("browser run within 240 s").expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(output.status.success(), "drive.js failed (screenshots in {}):\n{stdout}\n{stderr}", out.display());
    let result: Value = serde_json::from_str(stdout.lines().find_map(|l| l.strip_prefix("RESULT ")).expect("RESULT line")).unwrap();
    assert_eq!(result["decisions"]["green"], "allow");
    assert_eq!(result["second_download_status"], 410);
    assert!(result["usage"]["requests"].as_u64().unwrap() >= requests);
    // The downloaded bundle is real and opens with the password the page showed.
    let p12 = std::fs::read(result["p12"].as_str().unwrap()).unwrap();
    assert!(p12_keystore::KeyStore::from_pkcs12(&p12, result["password"].as_str().unwrap()).is_ok());
    // Revoked from the browser: in the index, in the CRL the listeners reloaded, in the ledger.
    let serial = result["serial"].as_str().unwrap();
    assert!(pki::list(&s.pki.dir).unwrap().iter().any(|e| e.serial == serial && e.revoked_at.is_some()));
    let l = ledger(&s);
    for action in ["certificate_issued", "certificate_revoked"] {
        assert!(l.lines().any(|line| line.contains(action) && line.contains(serial) && line.contains("\"outcome\":\"ok\"")), "{action} in the ledger");
    }
    let verify = zonegate::accounting::ledger::verify(&s.cfg.server.state_dir.join("audit/ledger.jsonl")).unwrap();
    assert_eq!(verify.first_broken, None);
    let shots: Vec<&str> = stdout.lines().filter_map(|l| l.strip_prefix("screenshot ")).collect();
    assert!(shots.len() >= 9, "a screenshot of every page: {shots:?}");
    // Knowledge: the collection made in the browser holds the uploaded document, and the
    // test search found it; both are admin records naming ids, not file names.
    assert_eq!(result["knowledge"]["upload"], "added", "{result}");
    assert!(result["knowledge"]["hits"].as_u64().unwrap() >= 1, "{result}");
    for action in ["collection_created", "document_uploaded"] {
        assert!(l.lines().any(|line| line.contains(action) && line.contains("\"outcome\":\"ok\"")), "{action} in the ledger");
    }
    assert!(!l.contains("wlan-merkblatt"), "no file names in the ledger");
    println!("console screenshots ({}) in {}", shots.len(), out.display());
}
