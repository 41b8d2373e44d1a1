//! Access control of the RAG API (issue 4): a user of another department finds nothing of a
//! restricted vector store — not by search, not by chat retrieval, not by file id, not in
//! lists or counts — and gets the same 404 as for a store that does not exist.

use serde_json::{json, Value};
use zonegate::tls::pki::Validity;

use crate::harness::{client_with, post, CHAT};
use crate::rag_api::{create_store, delete, get, names, rag_server, upload_fixture};

/// Text of the restricted document that must not show up for outsiders.
const SECRET: &[&str] = &["Zwirbelmann", "Glockenblume", "Personalrat"];

fn assert_no_secret(what: &str, v: &Value) {
    let s = v.to_string();
    for w in SECRET {
        assert!(!s.contains(w), "{what} shows {w:?}: {s}");
    }
}

fn ids(list: &Value) -> Vec<String> {
    list["data"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn other_departments_find_nothing_of_a_restricted_store() {
    let s = rag_server("").await;
    // The default client is dev-user of department "dev", the owner.
    let owner = s.client();
    let issue = |user: &str, dept: &str, admin: bool| {
        let b = s.pki.issue_client(user, dept, admin, Validity::days_from_now(2)).unwrap();
        client_with(&s.pki.ca_cert, Some((&b.cert, &b.key)))
    };
    let (bob, carla, dana, admin) = (issue("bob", "Sozialamt", false), issue("carla", "Bauamt", false), issue("dana", "dev", false), issue("root", "IT", true));

    let secret = upload_fixture(&owner, &s, "personalakte.txt").await;
    let park = upload_fixture(&owner, &s, "parkraum.html").await;
    let restricted = create_store(&owner, &s, "Personalrat intern", json!({"data_class": "confidential"}), std::slice::from_ref(&secret)).await;
    let shared = create_store(&owner, &s, "Hausverwaltung", json!({"read_departments": "Bauamt"}), std::slice::from_ref(&park)).await;
    let for_bob = create_store(&owner, &s, "Nur Bob", json!({"read_users": "bob"}), &[]).await;
    let (rid, sid, bid) = (restricted["id"].as_str().unwrap(), shared["id"].as_str().unwrap(), for_bob["id"].as_str().unwrap());
    let q = "Wann wird Frau Zwirbelmann umgesetzt und wie lautet das Kennwort?";

    // The owner department finds the document.
    for who in [&owner, &dana, &admin] {
        let (st, _, page) = post(who, &s.url(&format!("/v1/vector_stores/{rid}/search")), &json!({"query": q})).await;
        assert_eq!(st, 200, "{page}");
        assert_eq!(names(&page).first().map(String::as_str), Some("personalakte.txt"));
    }

    // Bob (Sozialamt): 404 everywhere, the same as for a store that does not exist.
    let (st, nothing) = get(&bob, &s.url("/v1/vector_stores/vs_000000000000000000000000")).await;
    assert_eq!(st, 404);
    for path in [format!("/v1/vector_stores/{rid}"), format!("/v1/vector_stores/{rid}/files"), format!("/v1/vector_stores/{rid}/files/{secret}"), format!("/v1/files/{secret}"), format!("/v1/files/{secret}/content"), format!("/v1/vector_stores/{sid}")] {
        let (st, e) = get(&bob, &s.url(&path)).await;
        assert_eq!(st, 404, "{path}: {e}");
        assert_eq!(e["error"]["type"], nothing["error"]["type"]);
        assert_no_secret(&path, &e);
    }
    let (st, _, e) = post(&bob, &s.url(&format!("/v1/vector_stores/{rid}/search")), &json!({"query": q})).await;
    assert_eq!(st, 404, "{e}");
    assert_no_secret("search", &e);
    // Chat retrieval as Bob: 404, no generation, nothing of the store.
    let body = json!({"model": CHAT, "max_tokens": 8, "tools": [{"type": "file_search", "vector_store_ids": [rid]}], "messages": [{"role": "user", "content": q}]});
    let (st, _, e) = post(&bob, &s.url("/v1/chat/completions"), &body).await;
    assert_eq!(st, 404, "{e}");
    assert_no_secret("chat", &e);
    let body = json!({"model": CHAT, "max_tokens": 8, "metadata": {"vector_store_ids": [bid, rid]}, "messages": [{"role": "user", "content": q}]});
    assert_eq!(post(&bob, &s.url("/v1/chat/completions"), &body).await.0, 404, "one unreadable store refuses the whole request");
    // Lists and counts: only what Bob may read.
    let (_, list) = get(&bob, &s.url("/v1/vector_stores")).await;
    assert_eq!(ids(&list), [bid.to_string()], "{list}");
    let (_, files) = get(&bob, &s.url("/v1/files")).await;
    assert!(files["data"].as_array().unwrap().is_empty(), "{files}");
    // Bob cannot delete or change what he cannot see; the owner still has it.
    assert_eq!(delete(&bob, &s.url(&format!("/v1/vector_stores/{rid}"))).await.0, 404);
    assert_eq!(delete(&bob, &s.url(&format!("/v1/files/{secret}"))).await.0, 404);
    let (st, _, _) = post(&bob, &s.url(&format!("/v1/vector_stores/{rid}/files")), &json!({"file_id": park})).await;
    assert_eq!(st, 404);
    let (st, v) = get(&owner, &s.url(&format!("/v1/vector_stores/{rid}"))).await;
    assert_eq!((st, v["file_counts"]["total"].as_u64()), (200, Some(1)));

    // Carla (Bauamt) reads the shared store but not the restricted one.
    let (st, _, page) = post(&carla, &s.url(&format!("/v1/vector_stores/{sid}/search")), &json!({"query": "Tiefgarage Stellplatz Kosten"})).await;
    assert_eq!(st, 200, "{page}");
    assert_eq!(names(&page).first().map(String::as_str), Some("parkraum.html"));
    let (_, list) = get(&carla, &s.url("/v1/vector_stores")).await;
    assert_eq!(ids(&list), [sid.to_string()]);
    let (st, _, e) = post(&carla, &s.url(&format!("/v1/vector_stores/{rid}/search")), &json!({"query": q})).await;
    assert_eq!(st, 404);
    assert_no_secret("search", &e);
    // Searching both at once as Carla: refused as a whole, nothing of the restricted one.
    let body = json!({"model": CHAT, "max_tokens": 8, "tools": [{"type": "file_search", "vector_store_ids": [sid, rid]}], "messages": [{"role": "user", "content": q}]});
    let (st, _, e) = post(&carla, &s.url("/v1/chat/completions"), &body).await;
    assert_eq!(st, 404);
    assert_no_secret("chat", &e);

    // The owner's list holds all three; the admin's too.
    for who in [&owner, &admin] {
        let (_, list) = get(who, &s.url("/v1/vector_stores")).await;
        let mut got = ids(&list);
        got.sort();
        let mut want = vec![rid.to_string(), sid.to_string(), bid.to_string()];
        want.sort();
        assert_eq!(got, want);
    }
}
