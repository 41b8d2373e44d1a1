//! Legacy completions, embeddings, models, health, metrics and request limits.

use base64::Engine as _;
use serde_json::{json, Value};

use crate::harness::{chunks, post, post_sse, shared, Opts, TestServer, CHAT, EMBED};

#[tokio::test]
async fn legacy_completions_streamed_and_not() {
    let s = shared();
    let c = s.client();
    let body = json!({"model": CHAT, "prompt": "The city council of Musterstadt decided", "max_tokens": 12, "temperature": 0});
    let (st, _, b) = post(&c, &s.url("/v1/completions"), &body).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["object"], "text_completion");
    assert!(b["id"].as_str().unwrap().starts_with("cmpl-"));
    let text = b["choices"][0]["text"].as_str().unwrap();
    assert!(b["usage"]["completion_tokens"].as_u64().unwrap() <= 12);
    let mut sb = body.clone();
    sb["stream"] = json!(true);
    let (st, data) = post_sse(&c, &s.url("/v1/completions"), &sb).await;
    assert_eq!(st, 200);
    let ch = chunks(&data);
    assert!(ch.iter().all(|c| c["object"] == "text_completion"));
    let joined: String = ch.iter().filter_map(|c| c["choices"][0]["text"].as_str()).collect();
    assert_eq!(joined, text);
    // Several prompts as token arrays: one choice each.
    let (st, _, b) = post(&c, &s.url("/v1/completions"), &json!({"model": CHAT, "prompt": [[504, 3458], [504, 1345]], "max_tokens": 2})).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["choices"].as_array().unwrap().len(), 2);
    let (st, _, b) = post(&c, &s.url("/v1/completions"), &json!({"model": CHAT, "prompt": [99999999], "max_tokens": 2})).await;
    assert_eq!((st, b["error"]["param"].clone()), (400, json!("prompt")));
}

/// Compat 16: base64 embeddings are little-endian f32 equal to the float response.
#[tokio::test]
async fn embeddings_float_and_base64_agree_and_are_normalised() {
    let s = shared();
    let c = s.client();
    let input = json!(["Der Antrag auf Wohngeld wurde bewilligt.", "Die Müllabfuhr kommt dienstags."]);
    let (st, _, f) = post(&c, &s.url("/v1/embeddings"), &json!({"model": EMBED, "input": input})).await;
    assert_eq!(st, 200, "{f}");
    assert_eq!(f["object"], "list");
    let (st, _, b) = post(&c, &s.url("/v1/embeddings"), &json!({"model": EMBED, "input": input, "encoding_format": "base64"})).await;
    assert_eq!(st, 200);
    for i in 0..2 {
        let floats: Vec<f32> = f["data"][i]["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        let bytes = base64::engine::general_purpose::STANDARD.decode(b["data"][i]["embedding"].as_str().unwrap()).unwrap();
        let decoded: Vec<f32> = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        assert_eq!(floats, decoded);
        let norm: f32 = floats.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "unit length, got {norm}");
        assert_eq!(f["data"][i]["index"], i);
    }
    let a: Vec<f64> = f["data"][0]["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    let b2: Vec<f64> = f["data"][1]["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect();
    assert_ne!(a, b2, "different texts embed differently");
    assert!(f["usage"]["prompt_tokens"].as_u64().unwrap() > 4);
    // Token-array input and a single string.
    let (st, _, t) = post(&c, &s.url("/v1/embeddings"), &json!({"model": EMBED, "input": [504, 3458, 28]})).await;
    assert_eq!(st, 200, "{t}");
    // Chat model for embeddings: 400 naming model; unknown encoding: 400.
    let (st, _, e) = post(&c, &s.url("/v1/embeddings"), &json!({"model": CHAT, "input": "x"})).await;
    assert_eq!((st, e["error"]["param"].clone()), (400, json!("model")));
    let (st, _, e) = post(&c, &s.url("/v1/embeddings"), &json!({"model": EMBED, "input": "x", "encoding_format": "hex"})).await;
    assert_eq!((st, e["error"]["param"].clone()), (400, json!("encoding_format")));
}

#[tokio::test]
async fn models_list_and_retrieve_carry_the_zone() {
    let s = shared();
    let c = s.client();
    let list: Value = c.get(s.url("/v1/models")).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["object"], "list");
    let ids: Vec<&str> = list["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&CHAT) && ids.contains(&EMBED));
    for m in list["data"].as_array().unwrap() {
        assert_eq!(m["object"], "model");
        assert_eq!(m["zone"], "green");
        assert!(m["created"].is_u64() && m["owned_by"].is_string());
    }
    let one: Value = c.get(s.url(&format!("/v1/models/{CHAT}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(one["id"], CHAT);
    let r = c.get(s.url("/v1/models/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "model_not_found");
}

#[tokio::test]
async fn health_and_metrics() {
    let s = shared();
    let c = s.client();
    let h: Value = c.get(s.url("/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(h["status"], "ok");
    let _ = post(&c, &s.url("/v1/chat/completions"), &json!({"model": CHAT, "max_tokens": 2, "messages": [{"role": "user", "content": "Hi"}]})).await;
    let m = c.get(s.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(m.contains(&format!("features=\"{}\"", zonegate::FEATURES)), "build_info names the features and linking: {m}");
    assert!(m.contains("zonegate_build_info{"), "{m}");
    assert!(m.contains(&format!("zonegate_completion_tokens_total{{model=\"{CHAT}\"}}")), "{m}");
    assert!(m.contains("zonegate_http_requests_total{route=\"/v1/chat/completions\",status=\"200\"}"), "{m}");
    assert!(m.trim_end().ends_with("# EOF"));
}

#[tokio::test]
async fn oversized_body_is_413_and_over_cap_max_tokens_is_400() {
    let s = TestServer::start(Opts { max_body_bytes: 4096, max_tokens_cap: 64, ..Opts::default() }).await;
    let c = s.client();
    let big = "x".repeat(10_000);
    let (st, _, b) = post(&c, &s.url("/v1/chat/completions"), &json!({"model": CHAT, "messages": [{"role": "user", "content": big}]})).await;
    assert_eq!(st, 413);
    assert!(b["error"]["message"].is_string());
    let (st, _, b) = post(&c, &s.url("/v1/chat/completions"), &json!({"model": CHAT, "max_tokens": 65, "messages": [{"role": "user", "content": "Hi"}]})).await;
    assert_eq!((st, b["error"]["param"].clone()), (400, json!("max_tokens")));
}
