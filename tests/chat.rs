//! Chat completions on a green model, streamed and not.

use serde_json::json;

use crate::harness::{chunks, post, post_sse, shared, CHAT};

#[tokio::test]
async fn chat_completion_non_streamed_has_openai_shape() {
    let s = shared();
    let (status, _, b) = post(&s.client(), &s.url("/v1/chat/completions"), &json!({
        "model": CHAT, "messages": [{"role": "user", "content": "What is the capital of France?"}], "max_tokens": 24, "temperature": 0
    }))
    .await;
    assert_eq!(status, 200, "{b}");
    assert_eq!(b["object"], "chat.completion");
    assert!(b["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert!(b["created"].is_u64());
    assert_eq!(b["model"], CHAT);
    let choice = &b["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["message"]["role"], "assistant");
    assert!(!choice["message"]["content"].as_str().unwrap().is_empty(), "the model answers something");
    assert!(matches!(choice["finish_reason"].as_str(), Some("stop" | "length")));
    let u = &b["usage"];
    assert!(u["prompt_tokens"].as_u64().unwrap() > 5);
    assert_eq!(u["total_tokens"].as_u64().unwrap(), u["prompt_tokens"].as_u64().unwrap() + u["completion_tokens"].as_u64().unwrap());
}

/// Compat cases 1, 3, 4: valid JSON chunks, one finish_reason per choice on its last chunk,
/// same id/created/model everywhere, joined deltas equal the non-streamed text.
#[tokio::test]
async fn streamed_deltas_join_to_the_non_streamed_text() {
    let s = shared();
    let c = s.client();
    let body = |stream: bool| {
        json!({"model": CHAT, "stream": stream, "temperature": 0, "max_tokens": 48,
               "messages": [{"role": "user", "content": "Schreibe drei Wörter mit Umlauten: Größe, Übermaß, Ärger. Dann ein Emoji 😀 und 日本語."}]})
    };
    let (st, _, whole) = post(&c, &s.url("/v1/chat/completions"), &body(false)).await;
    assert_eq!(st, 200);
    let (st, data) = post_sse(&c, &s.url("/v1/chat/completions"), &body(true)).await;
    assert_eq!(st, 200);
    let ch = chunks(&data);
    let id = ch[0]["id"].clone();
    let created = ch[0]["created"].clone();
    assert!(created.is_u64());
    let mut text = String::new();
    let mut finishes = 0;
    for (i, c) in ch.iter().enumerate() {
        assert_eq!(c["object"], "chat.completion.chunk");
        assert_eq!(c["id"], id);
        assert_eq!(c["created"], created);
        assert_eq!(c["model"], CHAT);
        assert!(c.get("usage").is_none(), "no usage key without include_usage");
        let choice = &c["choices"][0];
        assert!(choice.as_object().unwrap().contains_key("finish_reason"), "finish_reason key on every chunk");
        if !choice["finish_reason"].is_null() {
            finishes += 1;
            assert_eq!(i, ch.len() - 1, "the finishing chunk is the choice's last");
        }
        if let Some(t) = choice["delta"]["content"].as_str() {
            text.push_str(t);
        }
    }
    assert_eq!(finishes, 1);
    assert_eq!(ch[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(text, whole["choices"][0]["message"]["content"].as_str().unwrap());
    assert_eq!(ch.last().unwrap()["choices"][0]["finish_reason"], whole["choices"][0]["finish_reason"]);
}

/// Compat 6: include_usage adds exactly one usage chunk with `choices: []` before [DONE].
#[tokio::test]
async fn include_usage_sends_exactly_one_usage_chunk() {
    let s = shared();
    let (st, data) = post_sse(&s.client(), &s.url("/v1/chat/completions"), &json!({
        "model": CHAT, "stream": true, "stream_options": {"include_usage": true}, "max_tokens": 8,
        "messages": [{"role": "user", "content": "Hi"}]
    }))
    .await;
    assert_eq!(st, 200);
    let ch = chunks(&data);
    let usage: Vec<_> = ch.iter().filter(|c| !c["usage"].is_null()).collect();
    assert_eq!(usage.len(), 1);
    let last = ch.last().unwrap();
    assert_eq!(last["choices"], json!([]));
    assert!(last["usage"]["prompt_tokens"].as_u64().unwrap() > 0);
    let generated = last["usage"]["completion_tokens"].as_u64().unwrap();
    assert!((1..=8).contains(&generated));
    for c in &ch[..ch.len() - 1] {
        assert!(c["usage"].is_null() && c.get("usage").is_some(), "other chunks carry usage: null");
    }
}

/// Compat 11: content parts all count.
#[tokio::test]
async fn every_content_part_counts_toward_the_prompt() {
    let s = shared();
    let c = s.client();
    let ask = |parts: serde_json::Value| json!({"model": CHAT, "max_tokens": 1, "messages": [{"role": "user", "content": parts}]});
    let (_, _, one) = post(&c, &s.url("/v1/chat/completions"), &ask(json!([{"type": "text", "text": "Erster Teil über Abfallgebühren."}]))).await;
    let (_, _, two) = post(&c, &s.url("/v1/chat/completions"), &ask(json!([{"type": "text", "text": "Erster Teil über Abfallgebühren."}, {"type": "text", "text": "Zweiter Teil über Parkausweise."}]))).await;
    let (_, _, plain) = post(&c, &s.url("/v1/chat/completions"), &ask(json!("Erster Teil über Abfallgebühren."))).await;
    let p = |v: &serde_json::Value| v["usage"]["prompt_tokens"].as_u64().unwrap();
    assert!(p(&two) > p(&one), "{} vs {}", p(&two), p(&one));
    assert_eq!(p(&one), p(&plain));
}

/// Prompt-prefix reuse (`prefix_cache = "user"`): the same user's second request with a
/// shared prefix reuses the KV cache and says so in `usage.prompt_tokens_details`; the
/// ledger and metrics count the cached tokens; another user never gets a hit from it.
#[tokio::test]
async fn a_users_repeated_prefix_is_reused_and_counted_but_not_across_users() {
    use crate::harness::{client_with, Opts, TestServer};
    use zonegate::tls::pki::Validity;
    let s = TestServer::start(Opts { parallel: 2, prefix_cache: "user", ..Opts::default() }).await;
    let system = "Du bist der Auskunftsassistent der Stadtverwaltung Musterstadt. Antworte knapp und sachlich. ".repeat(6);
    let ask = |q: &str| json!({"model": CHAT, "max_tokens": 4, "temperature": 0, "messages": [{"role": "system", "content": system}, {"role": "user", "content": q}]});
    let a = s.client();
    let (st, _, first) = post(&a, &s.url("/v1/chat/completions"), &ask("Wann hat das Bürgerbüro geöffnet?")).await;
    assert_eq!(st, 200, "{first}");
    assert_eq!(first["usage"]["prompt_tokens_details"]["cached_tokens"], 0, "nothing cached yet");
    let (_, _, second) = post(&a, &s.url("/v1/chat/completions"), &ask("Wo beantrage ich einen Anwohnerparkausweis?")).await;
    let prompt = second["usage"]["prompt_tokens"].as_u64().unwrap();
    let cached = second["usage"]["prompt_tokens_details"]["cached_tokens"].as_u64().unwrap();
    assert!(cached > 60 && cached < prompt, "the shared system prompt is reused: {cached} of {prompt}");
    // Streamed, with usage: the same count arrives in the usage chunk.
    let mut streamed = ask("Wo beantrage ich einen Anwohnerparkausweis?");
    streamed["stream"] = json!(true);
    streamed["stream_options"] = json!({"include_usage": true});
    let (_, data) = post_sse(&a, &s.url("/v1/chat/completions"), &streamed).await;
    let usage = chunks(&data).into_iter().find(|c| !c["usage"].is_null()).unwrap();
    assert!(usage["usage"]["prompt_tokens_details"]["cached_tokens"].as_u64().unwrap() >= cached);
    // Another user of another department: no hit from the first user's prefix.
    let other = s.pki.issue_client("erika.beispiel", "Kämmerei", false, Validity::days_from_now(5)).unwrap();
    let b = client_with(&s.pki.ca_cert, Some((&other.cert, &other.key)));
    let (st, _, theirs) = post(&b, &s.url("/v1/chat/completions"), &ask("Wann hat das Bürgerbüro geöffnet?")).await;
    assert_eq!(st, 200, "{theirs}");
    assert_eq!(theirs["usage"]["prompt_tokens_details"]["cached_tokens"], 0, "prefixes are scoped per user");
    let rec = s.running.state.accounting.recent();
    assert_eq!(rec.iter().map(|r| r.cached_tokens).filter(|&c| c > 0).count(), 2, "the ledger records the cached tokens");
}
