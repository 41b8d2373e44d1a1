//! Console tests without a model or a network: the router with an empty engine, requests
//! carrying a [`PeerIdentity`] as the TLS layer would insert it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::*;
use crate::accounting::{Accounting, Ledger, Meter};
use crate::api::{AppState, Limits, Metrics};
use crate::config::PolicyConfig;
use crate::policy::{Detector, PolicyDetectConfig};
use crate::relay::Relay;
use crate::tls::pki::{self, DevPki};
use crate::tls::Role;

struct Fixture {
    _dir: tempfile::TempDir,
    pki: DevPki,
    state: ConsoleState,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let pki = DevPki::create(&dir.path().join("pki")).unwrap();
    let ledger = Ledger::open(&dir.path().join("audit/ledger.jsonl")).unwrap();
    let app = AppState {
        engine: crate::engine::Engine::default(),
        limits: Limits { max_body_bytes: 1 << 20, max_upload_bytes: 1 << 20, max_tokens_cap: 16, retry_after: 1 },
        metrics: Arc::new(Metrics::default()),
        relay: Arc::new(Relay::default()),
        detector: Arc::new(Detector::new(&PolicyDetectConfig::default()).unwrap()),
        policy: Arc::new(PolicyConfig::default()),
        accounting: Arc::new(Accounting::new(ledger, Meter::default(), crate::accounting::unix_now()).unwrap()),
        rag: None,
    };
    let cfg: ConsoleConfig = toml::from_str(&format!("listen = \"127.0.0.1:0\"\nca_key = \"{}\"", pki.dir.join("ca.key").display())).unwrap();
    let state = ConsoleState::new(app, &cfg, dir.path(), AccountingConfig::default(), pki.tls_config(), Vec::new()).unwrap();
    Fixture { _dir: dir, pki, state }
}

fn who(role: Role) -> PeerIdentity {
    PeerIdentity { user: "anna.admin".into(), department: "IT".into(), role, serial: "0abc".into() }
}

async fn send(st: &ConsoleState, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, String) {
    let resp = router(st.clone()).oneshot(req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (parts.status, parts.headers, String::from_utf8_lossy(&body.collect().await.unwrap().to_bytes()).into_owned())
}

fn get(path: &str, id: Option<PeerIdentity>) -> Request<Body> {
    let mut r = Request::get(path).header("host", "console.test").body(Body::empty()).unwrap();
    if let Some(id) = id {
        r.extensions_mut().insert(id);
    }
    r
}

fn post(path: &str, id: PeerIdentity, form: &str, origin: Option<&str>) -> Request<Body> {
    let mut b = Request::post(path).header("host", "console.test").header("content-type", "application/x-www-form-urlencoded");
    if let Some(o) = origin {
        b = b.header("origin", o);
    }
    let mut r = b.body(Body::from(form.to_owned())).unwrap();
    r.extensions_mut().insert(id);
    r
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The second guard: whatever reaches the router without an admin identity gets 403 and no
/// page, on every route.
#[tokio::test]
async fn handlers_refuse_requests_without_the_admin_role() {
    let f = fixture();
    for path in ["/", "/zones", "/usage", "/audit", "/certificates", "/knowledge", "/assets/console.css", "/nope"] {
        for id in [None, Some(who(Role::User))] {
            let (status, _, body) = send(&f.state, get(path, id.clone())).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{path} as {id:?}");
            assert!(!body.contains("<html"), "no page leaks: {body}");
        }
    }
    let token = f.state.csrf.token("0abc");
    let (status, _, _) = send(&f.state, post("/certificates/issue", who(Role::User), &format!("csrf={token}&user=x&department=y"), None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(pki::list(&f.pki.dir).unwrap().iter().all(|e| e.user != "x"), "nothing issued");
}

#[tokio::test]
async fn every_page_renders_for_an_admin_with_security_headers() {
    let f = fixture();
    for (path, marker) in [("/", "Geladene Modelle"), ("/zones", "Zonen-Matrix"), ("/usage", "Keine Anfragen in diesem Monat"), ("/audit", "Hash-Kette intakt"), ("/certificates", "dev-user"), ("/knowledge", "nicht konfiguriert")] {
        let (status, h, body) = send(&f.state, get(path, Some(who(Role::Admin)))).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        assert!(body.contains(marker), "{path} lacks {marker:?}");
        assert_eq!(h["content-security-policy"], CSP);
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["cache-control"], "no-store");
        assert!(!body.contains(" style=\"") && !body.contains("<script>"), "{path}: nothing inline that the CSP would block");
    }
    let (status, h, _) = send(&f.state, get("/assets/console.css", Some(who(Role::Admin)))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/css"));
    let (status, h, body) = send(&f.state, get("/usage?lang=en", Some(who(Role::Admin)))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("<html lang=\"en\">") && body.contains("No requests this month"));
    let cookie = h["set-cookie"].to_str().unwrap();
    assert!(cookie.starts_with("zg_lang=en") && cookie.contains("Secure") && cookie.contains("HttpOnly"), "{cookie}");
    let (status, _, body) = send(&f.state, get("/usage?month=2026-13", Some(who(Role::Admin)))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

#[tokio::test]
async fn the_test_box_decides_per_zone_and_needs_the_form_token() {
    let f = fixture();
    let text = "Frau Marta Gündoğdu, geb. 20.08.1947, beantragt Grundsicherung im Alter.";
    let token = f.state.csrf.token("0abc");
    let form = format!("csrf={token}&declared=internal&text={}", enc(text));
    let (status, _, body) = send(&f.state, post("/zones/classify", who(Role::Admin), &format!("csrf=bad&text={}", enc(text)), None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, _, _) = send(&f.state, post("/zones/classify", who(Role::Admin), &form, Some("https://evil.test"))).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "cross-origin");
    let (status, _, body) = send(&f.state, post("/zones/classify", who(Role::Admin), &form, Some("https://console.test"))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("data-zone=\"green\" data-decision=\"allow\""), "{body}");
    assert!(body.contains("data-zone=\"red\" data-decision=\"block\""));
    assert!(body.contains("Sozialdaten"), "social data detected (German label): {body}");
    let r = zones::test_text(&f.state, "Bitte die Tagesordnung des Bauausschusses kürzen.", crate::policy::DataClass::Internal, "Bauamt").unwrap();
    assert!(r.zones.iter().all(|(_, d, _)| *d == crate::policy::Decision::Allow), "internal text may go everywhere: {r:?}");
}

#[tokio::test]
async fn issue_download_once_revoke_and_record() {
    let f = fixture();
    let token = f.state.csrf.token("0abc");
    let (status, _, body) = send(&f.state, post("/certificates/issue", who(Role::Admin), &format!("csrf={token}&user=lena.test&department={}&admin=on", enc("Bürgeramt")), None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let link = body.split("href=\"/certificates/bundle/").nth(1).unwrap().split('"').next().unwrap().to_string();
    // Another admin certificate cannot fetch it.
    let mut other = who(Role::Admin);
    other.serial = "0def".into();
    let (status, _, _) = send(&f.state, get(&format!("/certificates/bundle/{link}"), Some(other))).await;
    assert_eq!(status, StatusCode::GONE);
    let (status, h, _) = send(&f.state, get(&format!("/certificates/bundle/{link}"), Some(who(Role::Admin)))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h["content-type"], "application/x-pkcs12");
    let (status, _, _) = send(&f.state, get(&format!("/certificates/bundle/{link}"), Some(who(Role::Admin)))).await;
    assert_eq!(status, StatusCode::GONE, "once");
    let entry = pki::list(&f.pki.dir).unwrap().into_iter().find(|e| e.user == "lena.test").unwrap();
    assert_eq!(entry.role, Some(Role::Admin));
    let (status, h, body) = send(&f.state, post("/certificates/revoke", who(Role::Admin), &format!("csrf={token}&serial={}&reason=superseded", entry.serial), None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    assert!(h["location"].to_str().unwrap().contains(&entry.serial));
    assert!(pki::list(&f.pki.dir).unwrap().iter().any(|e| e.serial == entry.serial && e.revoked_at.is_some()));
    let ledger = std::fs::read_to_string(f.state.app.accounting.ledger_path().unwrap()).unwrap();
    let kinds: Vec<&str> = ledger.lines().filter_map(|l| l.split("\"action\":\"").nth(1)?.split('"').next()).collect();
    assert_eq!(kinds, ["certificate_issued", "certificate_revoked"]);
    assert!(crate::accounting::ledger::verify(f.state.app.accounting.ledger_path().unwrap()).unwrap().first_broken.is_none());
    // Bad input: a clear error, nothing issued, the failure recorded.
    let (status, _, body) = send(&f.state, post("/certificates/issue", who(Role::Admin), &format!("csrf={token}&user=..%2Fx&department=IT"), None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("user"), "{body}");
}
