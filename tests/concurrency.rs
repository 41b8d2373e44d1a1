//! Continuous batching, disconnects and the bounded queue (compat 17 and 18).

use std::time::Duration;

use futures::future::join_all;
use serde_json::{json, Value};

use crate::harness::{chunks, post, sse_data, Opts, TestServer, CHAT};

/// A request whose grammar forces at least 300 array items: it cannot end early by itself.
fn forced_long(stream: bool) -> Value {
    json!({"model": CHAT, "stream": stream, "max_tokens": 1000,
        "response_format": {"type": "json_schema", "json_schema": {"name": "n", "schema": {"type": "array", "items": {"type": "integer"}, "minItems": 300}}},
        "messages": [{"role": "user", "content": "List numbers."}]})
}

async fn metric(s: &TestServer, name: &str) -> u64 {
    let m = s.client().get(s.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let prefix = format!("{name}{{model=\"{CHAT}\"}} ");
    m.lines().find_map(|l| l.strip_prefix(&prefix)).map(|v| v.trim().parse::<f64>().unwrap() as u64).unwrap_or(0)
}

async fn health_model(s: &TestServer) -> Value {
    let h: Value = s.client().get(s.url("/health")).send().await.unwrap().json().await.unwrap();
    h["models"].as_array().unwrap().iter().find(|m| m["id"] == CHAT).cloned().unwrap()
}

/// Waits (bounded) until the chat model has no active or queued work.
async fn wait_idle(s: &TestServer) {
    for _ in 0..200 {
        let m = health_model(s).await;
        if m["active"] == 0 && m["queued"] == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("model did not become idle");
}

/// Four concurrent streams each get their own answer, decoded together in shared batches.
#[tokio::test]
async fn four_concurrent_streams_each_get_their_own_answer() {
    let s = TestServer::start(Opts::default()).await;
    let c = s.client();
    let topics = ["Hamburg", "Bicycles", "Winter", "Libraries"];
    let body = |t: &str, stream: bool| json!({"model": CHAT, "stream": stream, "temperature": 0, "max_tokens": 24,
        "messages": [{"role": "user", "content": format!("Write one sentence about {t}.")}]});
    // Each answer alone first.
    let mut alone = Vec::new();
    for t in topics {
        let (_, _, b) = post(&c, &s.url("/v1/chat/completions"), &body(t, false)).await;
        alone.push(b["choices"][0]["message"]["content"].as_str().unwrap().to_string());
    }
    let decodes0 = metric(&s, "zonegate_decode_calls_total").await;
    let tokens0 = metric(&s, "zonegate_completion_tokens_total").await;
    let streams = join_all(topics.iter().map(|t| {
        let c = c.clone();
        let url = s.url("/v1/chat/completions");
        let b = body(t, true);
        async move {
            let text = c.post(url).json(&b).send().await.unwrap().text().await.unwrap();
            let ch = chunks(&sse_data(&text));
            ch.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect::<String>()
        }
    }))
    .await;
    let decodes = metric(&s, "zonegate_decode_calls_total").await - decodes0;
    let tokens = metric(&s, "zonegate_completion_tokens_total").await - tokens0;
    for (i, got) in streams.iter().enumerate() {
        // Batched float sums may flip a near-tie late in a greedy answer; the start must agree.
        let a: String = alone[i].chars().take(12).collect();
        assert!(got.starts_with(&a), "stream {i} got {got:?}, alone it was {:?}", alone[i]);
    }
    assert!(decodes < tokens, "{decodes} decode calls for {tokens} tokens: the streams were not batched together");
}

/// Compat 17: a client that disconnects mid-stream, or while queued, frees its slot at once.
#[tokio::test]
async fn disconnect_frees_the_sequence_at_once() {
    let s = TestServer::start(Opts { parallel: 1, context_size: 2048, max_tokens_cap: 1000, ..Opts::default() }).await;
    let c = s.client();
    let tokens0 = metric(&s, "zonegate_completion_tokens_total").await;
    // A: running, forced to be long. Read its first chunk, then hang up.
    let mut a = c.post(s.url("/v1/chat/completions")).json(&forced_long(true)).send().await.unwrap();
    assert_eq!(a.status(), 200);
    let first = a.chunk().await.unwrap().expect("first chunk");
    assert!(!first.is_empty());
    // C: queued behind A, abandoned before it starts.
    let c2 = c.clone();
    let url = s.url("/v1/chat/completions");
    let queued = tokio::spawn(async move { c2.post(url).json(&forced_long(false)).send().await });
    for _ in 0..100 {
        if health_model(&s).await["queued"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(health_model(&s).await["queued"], 1, "C waits in the queue");
    queued.abort();
    drop(a);
    wait_idle(&s).await;
    // B runs now; neither A (≥ 600 tokens if it ran on) nor C generated on.
    let (st, _, b) = post(&c, &s.url("/v1/chat/completions"), &json!({"model": CHAT, "max_tokens": 4, "messages": [{"role": "user", "content": "Hi"}]})).await;
    assert_eq!(st, 200, "{b}");
    let generated = metric(&s, "zonegate_completion_tokens_total").await - tokens0;
    assert!(generated < 300, "{generated} tokens generated: abandoned work went on");
}

/// Compat 18: when the queue is full, 429 in the envelope with Retry-After.
#[tokio::test]
async fn full_queue_answers_429_with_retry_after() {
    let s = TestServer::start(Opts { parallel: 1, queue_depth: 1, context_size: 2048, max_tokens_cap: 1000, ..Opts::default() }).await;
    let c = s.client();
    let mut running = c.post(s.url("/v1/chat/completions")).json(&forced_long(true)).send().await.unwrap();
    let _ = running.chunk().await.unwrap();
    let c2 = c.clone();
    let url = s.url("/v1/chat/completions");
    let waiting = tokio::spawn(async move { c2.post(url).json(&forced_long(false)).send().await });
    for _ in 0..100 {
        if health_model(&s).await["queued"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (st, h, b) = post(&c, &s.url("/v1/chat/completions"), &json!({"model": CHAT, "max_tokens": 2, "messages": [{"role": "user", "content": "Hi"}]})).await;
    assert_eq!(st, 429, "{b}");
    assert_eq!(h["retry-after"], "1");
    assert_eq!(b["error"]["code"], "rate_limit_exceeded");
    waiting.abort();
    drop(running);
    wait_idle(&s).await;
}
