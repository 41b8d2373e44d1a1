//! The RAG HTTP API (issue 4): `/v1/files` and `/v1/vector_stores` over real mutual TLS
//! with the real SmolLM2 embedding model, small synthetic fixtures in six formats
//! (tests/fixtures/ragapi, made by its make_fixtures.py), and search through HTTP.

use serde_json::{json, Value};

use crate::harness::{post, Opts, TestServer, DEV_VECTOR_WEIGHT, EMBED};

/// The fixture directory.
pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/tests/fixtures/ragapi/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// One fixture per format, with a question only it answers.
pub const DOCS: &[(&str, &str)] = &[
    ("passwortrichtlinie.md", "Wie viele Zeichen muss ein Passwort für Dienstkonten mindestens haben?"),
    ("urlaubsregelung.txt", "Wann verfällt der Resturlaub aus dem Vorjahr?"),
    ("parkraum.html", "Was kostet der Tiefgaragenstellplatz im Rathaus für Beschäftigte?"),
    ("homeoffice.docx", "An wie vielen Tagen pro Woche darf man mobil arbeiten?"),
    ("druckerwartung.odt", "Wer bestellt Tonerkartuschen für die Etagendrucker?"),
    ("bauantrag.pdf", "Wie schnell wird ein Bauantrag für ein Gartenhaus beschieden?"),
];

/// The `[rag]` section the RAG tests add to the server config (the dev config's settings).
pub fn rag_toml() -> String {
    format!("\n[rag]\nembedding_model = \"{EMBED}\"\nembed_tokens = 64\nvector_weight = {DEV_VECTOR_WEIGHT}\n")
}

/// A server with the RAG store enabled (and `extra` TOML, e.g. upstreams and policy).
pub async fn rag_server(extra: &str) -> TestServer {
    rag_server_with(Opts::default(), extra).await
}

/// [`rag_server`] with other server options.
pub async fn rag_server_with(o: Opts, extra: &str) -> TestServer {
    TestServer::start(Opts { extra: format!("{}{extra}", rag_toml()), ..o }).await
}

/// Uploads `data` as `name` with a hand-made multipart/form-data body (RFC 7578).
pub async fn upload(c: &reqwest::Client, s: &TestServer, name: &str, data: &[u8]) -> (u16, Value) {
    let boundary = "zonegate-test-boundary-7f3a";
    let mut body = format!("--{boundary}\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n").into_bytes();
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
    body.extend_from_slice(data);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = c.post(s.url("/v1/files")).header("content-type", format!("multipart/form-data; boundary={boundary}")).body(body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Uploads a fixture and returns its file id.
pub async fn upload_fixture(c: &reqwest::Client, s: &TestServer, name: &str) -> String {
    let (st, f) = upload(c, s, name, &fixture(name)).await;
    assert_eq!(st, 200, "{f}");
    f["id"].as_str().unwrap().to_string()
}

/// GETs JSON.
pub async fn get(c: &reqwest::Client, url: &str) -> (u16, Value) {
    let r = c.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// DELETEs; returns status and body.
pub async fn delete(c: &reqwest::Client, url: &str) -> (u16, Value) {
    let r = c.delete(url).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// Creates a vector store with `metadata` and `file_ids`; panics unless 200.
pub async fn create_store(c: &reqwest::Client, s: &TestServer, name: &str, metadata: Value, file_ids: &[String]) -> Value {
    let (st, _, v) = post(c, &s.url("/v1/vector_stores"), &json!({"name": name, "metadata": metadata, "file_ids": file_ids})).await;
    assert_eq!(st, 200, "{v}");
    v
}

/// File names of a search page, in rank order.
pub fn names(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(|h| h["filename"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn six_formats_upload_index_and_answer_search_over_mtls() {
    let s = rag_server("").await;
    let c = s.client();
    let mut ids = Vec::new();
    for (name, _) in DOCS {
        let (st, f) = upload(&c, &s, name, &fixture(name)).await;
        assert_eq!(st, 200, "{f}");
        assert_eq!((f["object"].as_str(), f["filename"].as_str(), f["purpose"].as_str()), (Some("file"), Some(*name), Some("assistants")));
        assert_eq!(f["bytes"].as_u64(), Some(fixture(name).len() as u64));
        assert!(f["id"].as_str().unwrap().starts_with("file-"));
        ids.push(f["id"].as_str().unwrap().to_string());
    }
    // Files: list, retrieve, content as uploaded.
    let (st, list) = get(&c, &s.url("/v1/files")).await;
    assert_eq!(st, 200);
    assert_eq!(list["object"], "list");
    assert_eq!(list["data"].as_array().unwrap().len(), DOCS.len());
    assert_eq!(list["has_more"], false);
    let (st, one) = get(&c, &s.url(&format!("/v1/files/{}", ids[5]))).await;
    assert_eq!((st, one["filename"].as_str()), (200, Some("bauantrag.pdf")));
    let bytes = c.get(s.url(&format!("/v1/files/{}/content", ids[5]))).send().await.unwrap().bytes().await.unwrap();
    assert_eq!(bytes.as_ref(), fixture("bauantrag.pdf").as_slice());
    // Pagination as the SDKs use it.
    let (_, p1) = get(&c, &s.url("/v1/files?limit=4&order=asc")).await;
    assert_eq!((p1["data"].as_array().unwrap().len(), p1["has_more"].as_bool()), (4, Some(true)));
    let (_, p2) = get(&c, &s.url(&format!("/v1/files?limit=4&order=asc&after={}", p1["last_id"].as_str().unwrap()))).await;
    assert_eq!((p2["data"].as_array().unwrap().len(), p2["has_more"].as_bool()), (2, Some(false)));

    // A vector store with all six; the counts and bytes add up.
    let vs = create_store(&c, &s, "Dienstanweisungen", json!({"data_class": "internal", "thema": "Verwaltung"}), &ids).await;
    assert_eq!(vs["object"], "vector_store");
    assert_eq!(vs["status"], "completed");
    assert_eq!(vs["file_counts"], json!({"in_progress": 0, "completed": 6, "failed": 0, "cancelled": 0, "total": 6}));
    assert!(vs["usage_bytes"].as_u64().unwrap() > 0);
    assert_eq!((vs["metadata"]["data_class"].as_str(), vs["metadata"]["thema"].as_str(), vs["metadata"]["owner_department"].as_str()), (Some("internal"), Some("Verwaltung"), Some("dev")));
    let vid = vs["id"].as_str().unwrap().to_string();
    let (_, vfiles) = get(&c, &s.url(&format!("/v1/vector_stores/{vid}/files"))).await;
    assert_eq!(vfiles["data"].as_array().unwrap().len(), 6);
    assert!(vfiles["data"].as_array().unwrap().iter().all(|f| f["object"] == "vector_store.file" && f["status"] == "completed" && f["vector_store_id"] == vid.as_str()));

    // Each question finds its document among the first three (hybrid), and first with the
    // lexical half alone (the tiny test embedder is a weak judge of meaning).
    for (name, q) in DOCS {
        let (st, _, page) = post(&c, &s.url(&format!("/v1/vector_stores/{vid}/search")), &json!({"query": q, "max_num_results": 3, "rewrite_query": false})).await;
        assert_eq!(st, 200, "{page}");
        assert_eq!(page["object"], "vector_store.search_results.page");
        assert_eq!(page["search_query"], json!([q]));
        assert!(names(&page).contains(&name.to_string()), "{q}: {page}");
        let (_, _, lexical) = post(&c, &s.url(&format!("/v1/vector_stores/{vid}/search")), &json!({"query": q, "ranking_options": {"ranker": "lexical"}})).await;
        assert_eq!(names(&lexical).first().map(String::as_str), Some(*name), "{q}: {lexical}");
        let hit = &page["data"][0];
        assert_eq!(hit["content"][0]["type"], "text");
        assert!(hit["score"].as_f64().unwrap() > 0.0 && hit["score"].as_f64().unwrap() <= 1.0);
        assert!(page["data"].as_array().unwrap().len() <= 3);
    }
    // max_num_results, score_threshold and bad values.
    let url = s.url(&format!("/v1/vector_stores/{vid}/search"));
    let (_, _, one) = post(&c, &url, &json!({"query": DOCS[0].1, "max_num_results": 1})).await;
    assert_eq!(one["data"].as_array().unwrap().len(), 1);
    let (_, _, strict) = post(&c, &url, &json!({"query": DOCS[0].1, "ranking_options": {"score_threshold": 0.999}})).await;
    assert!(strict["data"].as_array().unwrap().iter().all(|h| h["score"].as_f64().unwrap() >= 0.999), "{strict}");
    let (st, _, e) = post(&c, &url, &json!({"query": "x", "max_num_results": 0})).await;
    assert_eq!((st, e["error"]["param"].as_str()), (400, Some("max_num_results")));

    // Removing a document from the store: no longer found; the upload itself stays.
    let (st, d) = delete(&c, &s.url(&format!("/v1/vector_stores/{vid}/files/{}", ids[2]))).await;
    assert_eq!((st, d["object"].as_str(), d["deleted"].as_bool()), (200, Some("vector_store.file.deleted"), Some(true)));
    let (_, _, page) = post(&c, &url, &json!({"query": DOCS[2].1})).await;
    assert!(!names(&page).contains(&"parkraum.html".to_string()), "{page}");
    assert_eq!(get(&c, &s.url(&format!("/v1/files/{}", ids[2]))).await.0, 200);
    // Deleting an uploaded file removes its document everywhere.
    let (st, d) = delete(&c, &s.url(&format!("/v1/files/{}", ids[1]))).await;
    assert_eq!((st, d["deleted"].as_bool()), (200, Some(true)));
    assert_eq!(get(&c, &s.url(&format!("/v1/files/{}", ids[1]))).await.0, 404);
    let (_, vs) = get(&c, &s.url(&format!("/v1/vector_stores/{vid}"))).await;
    assert_eq!(vs["file_counts"]["total"], 4, "{vs}");
    // The store itself.
    let (st, d) = delete(&c, &s.url(&format!("/v1/vector_stores/{vid}"))).await;
    assert_eq!((st, d["object"].as_str()), (200, Some("vector_store.deleted")));
    assert_eq!(get(&c, &s.url(&format!("/v1/vector_stores/{vid}"))).await.0, 404);
}

#[tokio::test]
async fn unreadable_files_attributes_filters_and_errors() {
    let s = rag_server("").await;
    let c = s.client();
    let md = upload_fixture(&c, &s, "passwortrichtlinie.md").await;
    let txt = upload_fixture(&c, &s, "urlaubsregelung.txt").await;
    let broken = upload_fixture(&c, &s, "kaputt.pdf").await;
    let vs = create_store(&c, &s, "IT", json!({}), &[]).await;
    let vid = vs["id"].as_str().unwrap();
    let add = |file_id: String, attributes: Value| {
        let (c, url) = (c.clone(), s.url(&format!("/v1/vector_stores/{vid}/files")));
        async move { post(&c, &url, &json!({"file_id": file_id, "attributes": attributes})).await }
    };
    let (st, _, f) = add(md.clone(), json!({"abteilung": "IT", "jahr": 2024})).await;
    assert_eq!((st, f["status"].as_str(), f["id"].as_str()), (200, Some("completed"), Some(md.as_str())), "{f}");
    assert_eq!(f["attributes"]["jahr"], 2024);
    let (st, _, _) = add(txt.clone(), json!({"abteilung": "Personal", "jahr": 2023})).await;
    assert_eq!(st, 200);
    // The broken PDF: a clear 400 naming the file, nothing stored, the store unchanged.
    let (st, _, e) = add(broken.clone(), json!({})).await;
    assert_eq!((st, e["error"]["code"].as_str()), (400, Some("invalid_file")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("kaputt.pdf"), "{e}");
    let (_, v) = get(&c, &s.url(&format!("/v1/vector_stores/{vid}"))).await;
    assert_eq!(v["file_counts"]["total"], 2, "{v}");
    // A create naming it among good files: the same 400 naming its index, and no store left.
    let (st, _, e) = post(&c, &s.url("/v1/vector_stores"), &json!({"name": "halb", "file_ids": [md, broken]})).await;
    assert_eq!((st, e["error"]["code"].as_str(), e["error"]["param"].as_str()), (400, Some("invalid_file"), Some("file_ids[1]")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("kaputt.pdf"), "{e}");
    assert_eq!(get(&c, &s.url("/v1/vector_stores/halb")).await.0, 404, "nothing half-made stays");
    assert_eq!(get(&c, &s.url(&format!("/v1/vector_stores/{vid}/files/{broken}"))).await.0, 404);
    // create_and_poll's GET of one file.
    let (st, one) = get(&c, &s.url(&format!("/v1/vector_stores/{vid}/files/{md}"))).await;
    assert_eq!((st, one["status"].as_str()), (200, Some("completed")));

    // Attribute filters (OpenAI's comparison and compound shapes).
    let url = s.url(&format!("/v1/vector_stores/{vid}/search"));
    let q = "Passwort Urlaub Resturlaub Zeichen";
    let (_, _, all) = post(&c, &url, &json!({"query": q})).await;
    assert_eq!(names(&all).iter().collect::<std::collections::BTreeSet<_>>().len(), 2, "{all}");
    let (st, _, it) = post(&c, &url, &json!({"query": q, "filters": {"type": "eq", "key": "abteilung", "value": "IT"}})).await;
    assert_eq!(st, 200, "{it}");
    assert!(!names(&it).is_empty() && names(&it).iter().all(|n| n == "passwortrichtlinie.md"), "{it}");
    let (_, _, old) = post(&c, &url, &json!({"query": q, "filters": {"type": "and", "filters": [{"type": "lt", "key": "jahr", "value": 2024}, {"type": "ne", "key": "abteilung", "value": "IT"}]}})).await;
    assert!(!names(&old).is_empty() && names(&old).iter().all(|n| n == "urlaubsregelung.txt"), "{old}");
    let (st, _, e) = post(&c, &url, &json!({"query": q, "filters": {"type": "like", "key": "a", "value": 1}})).await;
    assert_eq!(st, 400, "{e}");

    // Errors in the OpenAI envelope.
    let (st, _, e) = post(&c, &s.url("/v1/vector_stores"), &json!({"metadata": {"data_class": "streng geheim"}})).await;
    assert_eq!((st, e["error"]["param"].as_str()), (400, Some("metadata.data_class")), "{e}");
    let (st, _, e) = post(&c, &s.url("/v1/vector_stores/vs_000000000000000000000000/search"), &json!({"query": "x"})).await;
    assert_eq!((st, e["error"]["type"].as_str()), (404, Some("invalid_request_error")), "{e}");
    let (st, e) = upload(&c, &s, "leer.txt", b"").await;
    assert_eq!((st, e["error"]["param"].as_str()), (400, Some("file")), "{e}");
    let r = c.post(s.url("/v1/files")).header("content-type", "multipart/form-data; boundary=x").body("--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\n\r\nHallo\r\n--x--\r\n").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["param"], "purpose");
}

/// Polls a vector-store file until its status is not `in_progress` (at most 120 s).
async fn poll_file(c: &reqwest::Client, s: &TestServer, vid: &str, fid: &str) -> Value {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let (st, f) = get(c, &s.url(&format!("/v1/vector_stores/{vid}/files/{fid}"))).await;
        assert_eq!(st, 200, "{f}");
        if f["status"] != "in_progress" || std::time::Instant::now() > deadline {
            return f;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// With `add_file_wait_secs = 0` every add answers `in_progress` at once, as OpenAI does, and
/// the ingest goes on: polling ends in `completed` (then searchable) or `failed` with the
/// reason (nothing stored); the store's `file_counts` follow; a create with `file_ids`
/// answers `in_progress`; a pending file cannot be removed, a failed one can.
#[tokio::test]
async fn adds_answer_in_progress_and_clients_poll_to_completed_or_failed() {
    let s = rag_server("add_file_wait_secs = 0\n").await;
    let c = s.client();
    let md = upload_fixture(&c, &s, "passwortrichtlinie.md").await;
    let pdf = upload_fixture(&c, &s, "bauantrag.pdf").await;
    let broken = upload_fixture(&c, &s, "kaputt.pdf").await;
    let vs = create_store(&c, &s, "Hintergrund", json!({}), std::slice::from_ref(&md)).await;
    let vid = vs["id"].as_str().unwrap().to_string();
    assert_eq!((vs["status"].as_str(), vs["file_counts"]["in_progress"].as_u64()), (Some("in_progress"), Some(1)), "{vs}");
    let url = s.url(&format!("/v1/vector_stores/{vid}/files"));
    let (st, _, f) = post(&c, &url, &json!({"file_id": pdf})).await;
    assert_eq!((st, f["status"].as_str(), f["object"].as_str()), (200, Some("in_progress"), Some("vector_store.file")), "{f}");
    // Adding it again while pending returns the same pending file.
    let (st, _, again) = post(&c, &url, &json!({"file_id": pdf})).await;
    assert_eq!((st, again["status"].as_str()), (200, Some("in_progress")), "{again}");
    let (st, _, f) = post(&c, &url, &json!({"file_id": broken})).await;
    assert_eq!((st, f["status"].as_str()), (200, Some("in_progress")), "{f}");
    for id in [&md, &pdf] {
        let f = poll_file(&c, &s, &vid, id).await;
        assert_eq!(f["status"], "completed", "{f}");
    }
    let f = poll_file(&c, &s, &vid, &broken).await;
    assert_eq!((f["status"].as_str(), f["last_error"]["code"].as_str()), (Some("failed"), Some("invalid_file")), "{f}");
    assert!(f["last_error"]["message"].as_str().unwrap().contains("kaputt.pdf"), "{f}");
    let (_, v) = get(&c, &s.url(&format!("/v1/vector_stores/{vid}"))).await;
    assert_eq!(v["file_counts"], json!({"in_progress": 0, "completed": 2, "failed": 1, "cancelled": 0, "total": 3}), "{v}");
    assert_eq!(v["status"], "completed");
    let (_, failed) = get(&c, &s.url(&format!("/v1/vector_stores/{vid}/files?filter=failed"))).await;
    assert_eq!(failed["data"].as_array().unwrap().len(), 1, "{failed}");
    // Completed files are searchable.
    let (st, _, page) = post(&c, &s.url(&format!("/v1/vector_stores/{vid}/search")), &json!({"query": "Wie schnell wird ein Bauantrag für ein Gartenhaus beschieden?"})).await;
    assert_eq!(st, 200, "{page}");
    assert!(names(&page).contains(&"bauantrag.pdf".to_string()), "{page}");
    // The failed entry can be removed; then the file is gone from the store's list.
    let (st, d) = delete(&c, &s.url(&format!("/v1/vector_stores/{vid}/files/{broken}"))).await;
    assert_eq!((st, d["deleted"].as_bool()), (200, Some(true)), "{d}");
    assert_eq!(get(&c, &s.url(&format!("/v1/vector_stores/{vid}/files/{broken}"))).await.0, 404);
    // A pending file cannot be removed yet: a clear 400, and it still completes.
    let big = {
        let text: String = (0..400).map(|i| format!("Abschnitt {i}: Die Dienstanweisung regelt die Ablage von Akten im Archiv der Verwaltung.\n\n")).collect();
        let (st, f) = upload(&c, &s, "ablage.txt", text.as_bytes()).await;
        assert_eq!(st, 200, "{f}");
        f["id"].as_str().unwrap().to_string()
    };
    let (st, _, f) = post(&c, &url, &json!({"file_id": big})).await;
    assert_eq!((st, f["status"].as_str()), (200, Some("in_progress")), "{f}");
    let (st, e) = delete(&c, &s.url(&format!("/v1/vector_stores/{vid}/files/{big}"))).await;
    assert_eq!((st, e["error"]["type"].as_str()), (400, Some("invalid_request_error")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("in_progress"), "{e}");
    assert_eq!(poll_file(&c, &s, &vid, &big).await["status"], "completed");

    // A file batch: in_progress at once, cancelled while its file runs; nothing stored.
    let big2 = {
        let text: String = (0..400).map(|i| format!("Absatz {i}: Die Dienstvereinbarung regelt die Arbeitszeit im Bürgerbüro.\n\n")).collect();
        upload(&c, &s, "arbeitszeit.txt", text.as_bytes()).await.1["id"].as_str().unwrap().to_string()
    };
    let burl = s.url(&format!("/v1/vector_stores/{vid}/file_batches"));
    let (st, _, b) = post(&c, &burl, &json!({"file_ids": [big2], "attributes": {"quelle": "stapel"}})).await;
    assert_eq!((st, b["object"].as_str(), b["status"].as_str()), (200, Some("vector_store.files_batch"), Some("in_progress")), "{b}");
    let bid = b["id"].as_str().unwrap().to_string();
    let (st, _, b) = post(&c, &format!("{burl}/{bid}/cancel"), &json!({})).await;
    assert_eq!((st, b["status"].as_str(), b["file_counts"]["cancelled"].as_u64()), (200, Some("cancelled"), Some(1)), "{b}");
    let (st, files) = get(&c, &format!("{burl}/{bid}/files?filter=cancelled")).await;
    assert_eq!((st, files["data"][0]["id"].as_str()), (200, Some(big2.as_str())), "{files}");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let (_, b) = get(&c, &format!("{burl}/{bid}")).await;
    assert_eq!(b["file_counts"]["completed"], 0, "a cancelled ingest stores nothing: {b}");
    // Bad batches: both lists, an unknown file (nothing started), an unknown batch.
    let (st, _, e) = post(&c, &burl, &json!({"file_ids": [md], "files": [{"file_id": md}]})).await;
    assert_eq!((st, e["error"]["param"].as_str()), (400, Some("files")), "{e}");
    let (st, _, e) = post(&c, &burl, &json!({"files": [{"file_id": md}, {"file_id": "file-000000000000000000000000"}]})).await;
    assert_eq!((st, e["error"]["param"].as_str()), (404, Some("files[1].file_id")), "{e}");
    assert_eq!(get(&c, &format!("{burl}/vsfb_000000000000000000000000")).await.0, 404);

    // Every change, search and cancel above is an audit record naming ids only.
    let path = s.cfg.server.state_dir.join("audit/ledger.jsonl");
    let ledger = std::fs::read_to_string(&path).unwrap();
    let records: Vec<Value> = ledger.lines().map(|l| serde_json::from_str(&format!("{{{}", l.split_once(",").unwrap().1)).unwrap()).filter(|v: &Value| v["kind"] == "knowledge").collect();
    let actions: std::collections::BTreeSet<&str> = records.iter().map(|v| v["action"].as_str().unwrap()).collect();
    for a in ["file_uploaded", "vector_store_created", "file_added", "file_removed", "vector_store_searched", "file_batch_created", "file_batch_cancelled"] {
        assert!(actions.contains(a), "{a} missing: {actions:?}");
    }
    assert!(records.iter().any(|v| v["action"] == "file_added" && v["target"] == format!("{vid} {pdf}")), "{records:?}");
    assert!(records.iter().any(|v| v["action"] == "file_removed" && v["outcome"] == "failed" && v["http_status"] == 400), "the refused removal");
    for secret in ["passwortrichtlinie", "arbeitszeit", "ablage", "Gartenhaus", "Hintergrund", "stapel"] {
        assert!(!ledger.contains(secret), "{secret} in the ledger");
    }
    assert_eq!(zonegate::accounting::ledger::verify(&path).unwrap().first_broken, None);
}
