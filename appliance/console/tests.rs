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
    fixture_with(false)
}

/// With `rag`, a knowledge store (the RAG tests' bag-of-words embedder) in the temp dir.
fn fixture_with(rag: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let rag = rag.then(|| Arc::new(crate::rag::tests::open_with(&dir.path().join("rag"), "bag")));
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
        rag,
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
    for (path, marker) in [("/", "Geladene Modelle"), ("/zones", "Zonen-Matrix"), ("/usage", "Keine Anfragen in diesem Monat"), ("/audit", "Hash-Kette intakt"), ("/certificates", "dev-user"), ("/knowledge", "nicht eingerichtet")] {
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

fn multipart(path: &str, id: PeerIdentity, fields: &[(&str, Option<&str>, &str)]) -> Request<Body> {
    let mut body = String::new();
    for (name, file, value) in fields {
        body.push_str("--XyZ\r\n");
        match file {
            Some(f) => body.push_str(&format!("Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n")),
            None => body.push_str(&format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n")),
        }
        body.push_str(value);
        body.push_str("\r\n");
    }
    body.push_str("--XyZ--\r\n");
    let mut r = Request::post(path).header("host", "console.test").header("content-type", "multipart/form-data; boundary=XyZ").body(Body::from(body)).unwrap();
    r.extensions_mut().insert(id);
    r
}

fn admin_actions(st: &ConsoleState) -> Vec<String> {
    let ledger = std::fs::read_to_string(st.app.accounting.ledger_path().unwrap()).unwrap_or_default();
    ledger.lines().filter_map(|l| Some(l.split("\"action\":\"").nth(1)?.split('"').next()?.to_string())).collect()
}

/// The knowledge page end to end on the router: create a collection, upload two documents
/// (one unreadable: reported, nothing stored), a class looser than the collection's is
/// refused, test search finds the right chunk, delete a document and the collection; every
/// change is an admin record naming ids only, never file names or text.
#[tokio::test]
async fn knowledge_create_upload_search_delete_and_record() {
    let f = fixture_with(true);
    let token = f.state.csrf.token("0abc");
    let admin = || who(Role::Admin);
    let (status, _, body) = send(&f.state, get("/knowledge", Some(admin()))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("id=\"no-collections\""), "{body}");
    // Bad input: a clear error, nothing created.
    let (status, _, body) = send(&f.state, post("/knowledge/collections", admin(), &format!("csrf={token}&name=X&class=internal&owner_department=Bauamt&read=departments&read_names="), None)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("read_names"), "{body}");
    let (status, _, _) = send(&f.state, post("/knowledge/collections", admin(), "csrf=bad&name=X&class=internal&owner_department=Bauamt&read=owner", None)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, h, body) = send(&f.state, post("/knowledge/collections", admin(), &format!("csrf={token}&name={}&class=personal&owner_department=Bauamt&read=departments&read_names={}", enc("Dienstanweisungen Bau"), enc("Ordnungsamt, Hauptamt")), None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let loc = h["location"].to_str().unwrap().to_string();
    let id = loc.split("c=").nth(1).unwrap().split('&').next().unwrap().to_string();
    let (status, _, body) = send(&f.state, get(&loc, Some(admin()))).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Sammlung angelegt") && body.contains("Ordnungsamt, Hauptamt") && body.contains("id=\"no-documents\""), "{body}");
    // The upload offers no class looser than the collection's.
    let upload_form = body.split("action=\"/knowledge/upload\"").nth(1).unwrap().split("</form>").next().unwrap();
    assert!(!upload_form.contains("value=\"internal\"") && upload_form.contains("value=\"personal\""), "{upload_form}");
    let doc = "# Baustellenabsicherung\n\nBaustellen im Straßenraum werden mit Baken und Warnleuchten gesichert. Die Verkehrsbehörde genehmigt den Plan.";
    let (status, _, body) = send(&f.state, multipart("/knowledge/upload", admin(), &[("csrf", None, &token), ("collection", None, &id), ("class", None, "confidential"), ("file", Some("baustelle.md"), doc), ("file", Some("kaputt.pdf"), "%PDF-1.4 kein echtes PDF")])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("data-status=\"added\""), "{body}");
    assert!(body.contains("data-status=\"failed\"") && body.contains("kaputt.pdf"), "the unreadable file is reported: {body}");
    let caller = crate::rag::Caller::system();
    let rag = f.state.app.rag.clone().unwrap();
    let docs = rag.list_documents(&caller, &id).unwrap();
    assert_eq!(docs.len(), 1, "nothing of the unreadable file is stored");
    assert_eq!(docs[0].class, crate::policy::DataClass::Confidential);
    let (status, _, body) = send(&f.state, multipart("/knowledge/upload", admin(), &[("csrf", None, &token), ("collection", None, &id), ("class", None, "internal"), ("file", Some("b.md"), doc)])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "looser than the collection: {body}");
    let (status, _, _) = send(&f.state, multipart("/knowledge/upload", admin(), &[("csrf", None, "bad"), ("collection", None, &id), ("file", Some("c.md"), doc)])).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(rag.list_documents(&caller, &id).unwrap().len(), 1);
    // Test search.
    let (status, _, body) = send(&f.state, post("/knowledge/search", admin(), &format!("csrf={token}&collection={id}&query={}&mode=hybrid", enc("Wer genehmigt die Absicherung von Baustellen?")), None)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("id=\"hits\"") && body.contains(&format!("data-file=\"{}\" data-chunk=\"0\"", docs[0].file_id)), "{body}");
    let (status, _, _) = send(&f.state, post("/knowledge/search", admin(), &format!("csrf={token}&collection=vs_000000000000000000000000&query=x"), None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Delete the document (its file goes too: no other collection holds it), then the collection.
    let (status, _, _) = send(&f.state, post("/knowledge/documents/delete", admin(), &format!("csrf={token}&collection={id}&file={}", docs[0].file_id), None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(rag.list_documents(&caller, &id).unwrap().is_empty());
    assert!(rag.get_file(&caller, &docs[0].file_id).is_err(), "the orphaned file is deleted");
    // Free text in a form field never reaches the ledger: unknown collections are recorded
    // as such, known ones by id even when named.
    let (status, _, _) = send(&f.state, post("/knowledge/collections/delete", admin(), &format!("csrf={token}&collection={}", enc("Akte Probe Person")), None)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = send(&f.state, post("/knowledge/collections/delete", admin(), &format!("csrf={token}&collection={}", enc("Dienstanweisungen Bau")), None)).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(rag.list_collections(&caller).unwrap().is_empty());
    let (status, _, _) = send(&f.state, get(&loc, Some(admin()))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(admin_actions(&f.state), ["collection_created", "document_uploaded", "document_uploaded", "document_uploaded", "document_removed", "collection_deleted", "collection_deleted"]);
    let ledger = std::fs::read_to_string(f.state.app.accounting.ledger_path().unwrap()).unwrap();
    assert!(!ledger.contains("baustelle") && !ledger.contains("kaputt") && !ledger.contains("Baustellen"), "ids only in the ledger");
    assert!(!ledger.contains("Akte") && !ledger.contains("Dienstanweisungen") && ledger.contains(&format!("collection {id}")), "{ledger}");
    assert!(crate::accounting::ledger::verify(f.state.app.accounting.ledger_path().unwrap()).unwrap().first_broken.is_none());
}

/// An upload that takes longer than the add wait (here 0 s) answers "in the background";
/// the ingest goes on without the page, the document is listed once stored and its admin
/// record follows.
#[tokio::test]
async fn slow_uploads_go_on_in_the_background() {
    let mut f = fixture_with(false);
    let mut settings = crate::rag::RagSettings::new(f._dir.path().join("rag0"));
    settings.add_wait = std::time::Duration::ZERO;
    let rag = Arc::new(crate::rag::Rag::open(settings, Some(Arc::new(crate::rag::tests::BagModel { id: "bag".into() }))).unwrap());
    f.state.app.rag = Some(rag.clone());
    let token = f.state.csrf.token("0abc");
    let sys = crate::rag::Caller::system();
    let c = rag.create_collection(&sys, crate::rag::NewCollection { name: "IT".into(), class: crate::policy::DataClass::Internal, owner_department: "IT".into(), read: crate::rag::Access::Everyone, attributes: Default::default() }).unwrap();
    let doc = "# Druckerwartung\n\nToner für die Etagendrucker bestellt die Hausverwaltung.";
    let (status, _, body) = send(&f.state, multipart("/knowledge/upload", who(Role::Admin), &[("csrf", None, &token), ("collection", None, &c.id), ("file", Some("drucker.md"), doc)])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("data-status=\"in_progress\""), "{body}");
    for _ in 0..100 {
        if !rag.list_documents(&sys, &c.id).unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(rag.list_documents(&sys, &c.id).unwrap().len(), 1, "stored in the background");
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    assert_eq!(admin_actions(&f.state), ["document_uploaded"]);
}
