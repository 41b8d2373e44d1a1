//! Retrieval in chat (issue 4): a `file_search` tool or `metadata.vector_store_ids` puts the
//! found chunks into the prompt and returns `file_citation` annotations; the class of the
//! chunks raises the request's effective class, so a yellow/red request carrying a chunk
//! above its zone's class is blocked or rerouted before anything leaves the box.

use serde_json::{json, Value};

use crate::harness::{chunks, post, post_sse, TestServer, CHAT};
use crate::rag_api::{create_store, rag_server, upload_fixture, DOCS};
use crate::upstream::Upstream;

const RED: &str = "red/gpt-rag";
const YELLOW: &str = "yellow/open-rag";
const PARK_Q: &str = "Was kostet der Tiefgaragenstellplatz im Rathaus für Beschäftigte?";
const URLAUB_Q: &str = "Wann verfällt der Resturlaub aus dem Vorjahr?";

fn file_search(store: &str, n: u32) -> Value {
    json!([{"type": "file_search", "vector_store_ids": [store], "max_num_results": n}])
}

/// The audit ledger's records.
fn ledger(s: &TestServer) -> Vec<Value> {
    let text = std::fs::read_to_string(s._dir.path().join("state/audit/ledger.jsonl")).unwrap_or_default();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn annotations(message: &Value) -> Vec<Value> {
    message["annotations"].as_array().cloned().unwrap_or_else(|| panic!("no annotations: {message}"))
}

#[tokio::test]
async fn green_chat_with_file_search_cites_the_right_document() {
    let s = rag_server("").await;
    let c = s.client();
    let mut ids = Vec::new();
    for (name, _) in DOCS {
        ids.push(upload_fixture(&c, &s, name).await);
    }
    let park = ids[2].clone();
    let vs = create_store(&c, &s, "Hausordnung", json!({"data_class": "confidential"}), &ids).await;
    let vid = vs["id"].as_str().unwrap().to_string();

    // Non-streamed, file_search tool.
    let body = json!({"model": CHAT, "max_tokens": 24, "tools": file_search(&vid, 2), "messages": [{"role": "user", "content": PARK_Q}]});
    let (st, _, r) = post(&c, &s.url("/v1/chat/completions"), &body).await;
    assert_eq!(st, 200, "{r}");
    let msg = &r["choices"][0]["message"];
    assert!(!msg["content"].as_str().unwrap().is_empty());
    let ann = annotations(msg);
    assert!(!ann.is_empty() && ann.len() <= 2, "{ann:?}");
    assert_eq!(ann[0]["type"], "file_citation");
    assert_eq!(ann[0]["file_id"], park.as_str(), "the best source is the parking document: {ann:?}");
    assert_eq!(ann[0]["filename"], "parkraum.html");
    assert_eq!(ann[0]["vector_store_id"], vid.as_str());
    assert_eq!(ann[0]["source"], 1);
    assert!(ann[0]["chunk_index"].is_u64());
    // The model saw the source: the prompt is longer than the question alone.
    let (_, _, plain) = post(&c, &s.url("/v1/chat/completions"), &json!({"model": CHAT, "max_tokens": 1, "messages": [{"role": "user", "content": PARK_Q}]})).await;
    assert!(r["usage"]["prompt_tokens"].as_u64().unwrap() > plain["usage"]["prompt_tokens"].as_u64().unwrap() + 20, "{r} vs {plain}");
    assert!(plain["choices"][0]["message"].get("annotations").is_none(), "no retrieval, no annotations");

    // metadata.vector_store_ids, streamed: the citations ride on the last chunk.
    let body = json!({"model": CHAT, "max_tokens": 16, "stream": true, "metadata": {"vector_store_ids": vid, "ticket": "T-1"},
        "messages": [{"role": "system", "content": "Antworte knapp."}, {"role": "user", "content": URLAUB_Q}]});
    let (st, data) = post_sse(&c, &s.url("/v1/chat/completions"), &body).await;
    assert_eq!(st, 200);
    let ch = chunks(&data);
    let last = ch.iter().rfind(|c| !c["choices"].as_array().unwrap().is_empty()).unwrap();
    assert!(last["choices"][0]["finish_reason"].is_string());
    let ann = annotations(&last["choices"][0]["delta"]);
    assert_eq!(ann[0]["filename"], "urlaubsregelung.txt", "{ann:?}");
    assert_eq!(ann[0]["file_id"], ids[1].as_str());

    // The ledger carries the effective class: the store's class raised the default.
    let recs = ledger(&s);
    let rag_recs: Vec<&Value> = recs.iter().filter(|r| r["kind"] == "request" && r["effective_class"] == "confidential").collect();
    assert_eq!(rag_recs.len(), 2, "{recs:?}");
    assert!(rag_recs.iter().all(|r| r["zone"] == "green" && r["declared_class"] == "internal"));

    // Bad retrieval options are 400/404 in the envelope, before any generation.
    let bad = json!({"model": CHAT, "tools": [{"type": "file_search", "vector_store_ids": []}], "messages": [{"role": "user", "content": "x"}]});
    let (st, _, e) = post(&c, &s.url("/v1/chat/completions"), &bad).await;
    assert_eq!((st, e["error"]["param"].as_str()), (400, Some("tools[0].vector_store_ids")), "{e}");
    let missing = json!({"model": CHAT, "tools": file_search("vs_000000000000000000000000", 2), "messages": [{"role": "user", "content": "x"}]});
    assert_eq!(post(&c, &s.url("/v1/chat/completions"), &missing).await.0, 404);
}

/// A server with a red upstream (`red_policy`) and a yellow one (pseudonymize), RAG on,
/// a confidential store with the leave rules and an internal one with the parking rules.
async fn relay_setup(red_policy: &str) -> (TestServer, Upstream, Upstream, String, String, tempfile::TempDir) {
    let keys = tempfile::tempdir().unwrap();
    let (red, yellow) = (Upstream::start().await, Upstream::start().await);
    let extra = format!(
        "{}{}\n[policy]\ndefault_class = \"internal\"\n[policy.yellow]\non_violation = \"pseudonymize\"\n[policy.red]\n{red_policy}\n",
        red.config("red-cloud", "red", RED, &keys.path().join("red.key")),
        yellow.config("yellow-cloud", "yellow", YELLOW, &keys.path().join("yellow.key")),
    );
    let s = rag_server(&extra).await;
    let c = s.client();
    let urlaub = upload_fixture(&c, &s, "urlaubsregelung.txt").await;
    let park = upload_fixture(&c, &s, "parkraum.html").await;
    let conf = create_store(&c, &s, "Personalrat", json!({"data_class": "confidential"}), &[urlaub]).await;
    let int = create_store(&c, &s, "Hausverwaltung", json!({"data_class": "internal"}), &[park]).await;
    (s, red, yellow, conf["id"].as_str().unwrap().to_string(), int["id"].as_str().unwrap().to_string(), keys)
}

/// Words of the confidential document that must never reach an upstream.
const CONF_WORDS: &[&str] = &["Resturlaub", "31. Mai", "Personalportal"];

fn assert_nothing_of(up: &Upstream) {
    let seen = serde_json::to_string(&up.received()).unwrap();
    for w in CONF_WORDS {
        assert!(!seen.contains(w), "the upstream received {w:?}: {seen}");
    }
}

#[tokio::test]
async fn a_chunk_above_the_zone_class_is_blocked_and_never_leaves() {
    let (s, red, yellow, conf, int, _k) = relay_setup("on_violation = \"block\"").await;
    let c = s.client();
    for (model, stream) in [(RED, false), (RED, true), (YELLOW, false)] {
        let body = json!({"model": model, "stream": stream, "tools": file_search(&conf, 3), "messages": [{"role": "user", "content": URLAUB_Q}]});
        let (st, _, e) = post(&c, &s.url("/v1/chat/completions"), &body).await;
        assert_eq!(st, 403, "{model}: {e}");
        assert_eq!(e["error"]["code"], "data_class_not_allowed");
        let msg = e["error"]["message"].as_str().unwrap();
        assert!(msg.contains("confidential"), "{msg}");
        assert!(!CONF_WORDS.iter().any(|w| msg.contains(w)), "{msg}");
    }
    assert!(red.received().is_empty() && yellow.received().is_empty(), "red: {:?} yellow: {:?}", red.received(), yellow.received());
    let blocked: Vec<Value> = ledger(&s).into_iter().filter(|r| r["decision"] == "block").collect();
    assert_eq!(blocked.len(), 3);
    assert!(blocked.iter().all(|r| r["effective_class"] == "confidential" && r["declared_class"] == "internal"), "{blocked:?}");

    // An internal chunk may go to red: it arrives in the system message, without the
    // file_search tool or the store ids, and the answer carries the citation.
    let body = json!({"model": RED, "tools": file_search(&int, 2), "metadata": {"ticket": "T-9"}, "messages": [{"role": "user", "content": PARK_Q}]});
    let (st, _, r) = post(&c, &s.url("/v1/chat/completions"), &body).await;
    assert_eq!(st, 200, "{r}");
    let got = red.received();
    assert_eq!(got.len(), 1);
    let sent = &got[0];
    assert!(sent["messages"][0]["role"] == "system" && sent["messages"][0]["content"].as_str().unwrap().contains("23 Euro"), "{sent}");
    assert!(sent.get("tools").is_none(), "{sent}");
    assert_eq!(sent["metadata"], json!({"ticket": "T-9"}));
    assert!(!serde_json::to_string(sent).unwrap().contains(&int), "the store id stays in the box");
    assert_eq!(annotations(&r["choices"][0]["message"])[0]["filename"], "parkraum.html");
    // Streamed through the relay: annotations on the last chunk.
    let mut body = body;
    body["stream"] = json!(true);
    let (st, data) = post_sse(&c, &s.url("/v1/chat/completions"), &body).await;
    assert_eq!(st, 200);
    let ch = chunks(&data);
    let last = ch.iter().rfind(|c| c["choices"][0]["finish_reason"].is_string()).unwrap();
    assert_eq!(annotations(&last["choices"][0]["delta"])[0]["filename"], "parkraum.html");
    assert_nothing_of(&red);
}

#[tokio::test]
async fn a_chunk_above_the_zone_class_is_rerouted_to_green() {
    let (s, red, _yellow, conf, _int, _k) = relay_setup(&format!("on_violation = \"reroute\"\nreroute_model = \"{CHAT}\"")).await;
    let c = s.client();
    let body = json!({"model": RED, "max_tokens": 12, "tools": file_search(&conf, 2), "messages": [{"role": "user", "content": URLAUB_Q}]});
    let (st, h, r) = post(&c, &s.url("/v1/chat/completions"), &body).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(h.get("x-zonegate-rerouted-to").and_then(|v| v.to_str().ok()), Some(CHAT));
    assert_eq!(r["model"], CHAT);
    assert_eq!(annotations(&r["choices"][0]["message"])[0]["filename"], "urlaubsregelung.txt");
    assert!(red.received().is_empty(), "{:?}", red.received());
    assert_nothing_of(&red);
    let rec = ledger(&s).into_iter().find(|r| r["decision"] == "reroute").unwrap();
    assert_eq!(rec["effective_class"], "confidential");
}
