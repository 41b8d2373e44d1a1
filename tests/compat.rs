//! The local-model items of shared/compat-cases.md, each as a test (numbers in the names).

use serde_json::{json, Value};

use crate::harness::{chunks, post, post_sse, shared, CHAT};

fn url(p: &str) -> String {
    shared().url(p)
}

/// Compat 2 and 5: a token limit ends with `length`, both names honoured.
#[tokio::test]
async fn c02_c05_token_limits_give_finish_reason_length() {
    let c = shared().client();
    for key in ["max_tokens", "max_completion_tokens"] {
        let mut body = json!({"model": CHAT, "temperature": 0, "messages": [{"role": "user", "content": "Write a long story about a dragon and a city council."}]});
        body[key] = json!(3);
        let (st, _, b) = post(&c, &url("/v1/chat/completions"), &body).await;
        assert_eq!(st, 200, "{b}");
        assert_eq!(b["choices"][0]["finish_reason"], "length", "{key}");
        assert_eq!(b["usage"]["completion_tokens"], 3, "{key}");
        body["stream"] = json!(true);
        let (_, data) = post_sse(&c, &url("/v1/chat/completions"), &body).await;
        assert_eq!(chunks(&data).last().unwrap()["choices"][0]["finish_reason"], "length");
    }
}

/// Compat 2: a stop sequence ends with `stop` and is not part of the text.
#[tokio::test]
async fn c02_stop_sequence_ends_with_stop_and_is_cut() {
    let c = shared().client();
    let base = json!({"model": CHAT, "temperature": 0, "max_tokens": 40, "messages": [{"role": "user", "content": "Count from 1 to 20, separated by commas."}]});
    let (_, _, free) = post(&c, &url("/v1/chat/completions"), &base).await;
    let text = free["choices"][0]["message"]["content"].as_str().unwrap().to_string();
    // Stop at the second character that occurs later in the free answer.
    let stop: String = text.chars().skip(3).take(2).collect();
    assert!(!stop.trim().is_empty(), "answer too short: {text:?}");
    let mut body = base.clone();
    body["stop"] = json!([stop.clone()]);
    let (_, _, b) = post(&c, &url("/v1/chat/completions"), &body).await;
    let cut = b["choices"][0]["message"]["content"].as_str().unwrap();
    assert_eq!(b["choices"][0]["finish_reason"], "stop");
    assert!(!cut.contains(&stop), "{cut:?} contains the stop {stop:?}");
    assert!(text.starts_with(cut), "{cut:?} is a prefix of {text:?}");
}

/// Compat 7: parameter errors are a 400 JSON before any stream starts.
#[tokio::test]
async fn c07_parameter_errors_are_400_before_the_stream() {
    let c = shared().client();
    for (k, v) in [("temperature", json!(3.5)), ("top_p", json!(2)), ("n", json!(0)), ("presence_penalty", json!(9))] {
        let mut body = json!({"model": CHAT, "stream": true, "messages": [{"role": "user", "content": "Hi"}]});
        body[k] = v;
        let (st, h, b) = post(&c, &url("/v1/chat/completions"), &body).await;
        assert_eq!(st, 400, "{k}");
        assert!(h["content-type"].to_str().unwrap().starts_with("application/json"));
        assert_eq!(b["error"]["param"], k);
        assert_eq!(b["error"]["type"], "invalid_request_error");
    }
}

/// Compat 8: a prompt longer than the context is 400 context_length_exceeded, streaming too.
#[tokio::test]
async fn c08_context_overflow_is_400_not_500() {
    let c = shared().client();
    let long = "Verwaltung ".repeat(3000);
    for stream in [false, true] {
        let (st, _, b) = post(&c, &url("/v1/chat/completions"), &json!({"model": CHAT, "stream": stream, "messages": [{"role": "user", "content": long}]})).await;
        assert_eq!(st, 400, "{b}");
        assert_eq!(b["error"]["code"], "context_length_exceeded");
        assert_eq!(b["error"]["type"], "invalid_request_error");
    }
    let (st, _, b) = post(&c, &url("/v1/completions"), &json!({"model": CHAT, "prompt": long})).await;
    assert_eq!((st, b["error"]["code"].clone()), (400, json!("context_length_exceeded")));
}

/// Compat 9: unknown model 404, malformed JSON 400, always the four-key envelope.
#[tokio::test]
async fn c09_error_envelopes() {
    let c = shared().client();
    let (st, _, b) = post(&c, &url("/v1/chat/completions"), &json!({"model": "no-such-model", "messages": [{"role": "user", "content": "Hi"}]})).await;
    assert_eq!(st, 404);
    assert_eq!(b["error"]["code"], "model_not_found");
    let r = c.post(url("/v1/chat/completions")).header("content-type", "application/json").body("{\"model\": ").send().await.unwrap();
    assert_eq!(r.status(), 400);
    let b: Value = r.json().await.unwrap();
    for k in ["message", "type", "param", "code"] {
        assert!(b["error"].get(k).is_some(), "envelope lacks {k}: {b}");
    }
    let r = c.get(url("/v1/nothing-here")).send().await.unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.json::<Value>().await.unwrap()["error"]["message"].is_string());
}

/// Compat 10: a wrong or missing Content-Type never yields a 5xx.
#[tokio::test]
async fn c10_content_type_is_lenient() {
    let c = shared().client();
    let body = json!({"model": CHAT, "max_tokens": 2, "messages": [{"role": "user", "content": "Hi"}]}).to_string();
    for ct in [None, Some("text/plain"), Some("application/x-www-form-urlencoded")] {
        let mut r = c.post(url("/v1/chat/completions")).body(body.clone());
        if let Some(ct) = ct {
            r = r.header("content-type", ct);
        }
        let st = r.send().await.unwrap().status();
        assert_eq!(st, 200, "content type {ct:?}");
    }
}

/// Compat 12 and 2: streamed tool calls have index, id, type, name; arguments parse; finish `tool_calls`.
#[tokio::test]
async fn c12_streamed_tool_calls_are_well_formed() {
    let c = shared().client();
    let tools = json!([{"type": "function", "function": {"name": "get_opening_hours", "description": "Opening hours of a city office",
        "parameters": {"type": "object", "properties": {"office": {"type": "string", "enum": ["Bürgeramt", "Standesamt"]}}, "required": ["office"]}}}]);
    let body = json!({"model": CHAT, "stream": true, "max_tokens": 60, "temperature": 0, "tools": tools, "tool_choice": "required",
        "messages": [{"role": "user", "content": "When is the Bürgeramt open?"}]});
    let (st, data) = post_sse(&c, &url("/v1/chat/completions"), &body).await;
    assert_eq!(st, 200);
    let ch = chunks(&data);
    let mut args = String::new();
    let mut first = None;
    for c in &ch {
        for tc in c["choices"][0]["delta"]["tool_calls"].as_array().into_iter().flatten() {
            assert!(tc["index"].is_u64(), "every fragment has an integer index");
            if first.is_none() {
                first = Some(tc.clone());
            }
            args.push_str(tc["function"]["arguments"].as_str().unwrap_or(""));
        }
    }
    let first = first.expect("a tool call was streamed");
    assert!(first["id"].is_string());
    assert_eq!(first["type"], "function");
    assert_eq!(first["function"]["name"], "get_opening_hours");
    let parsed: Value = serde_json::from_str(&args).expect("arguments parse as JSON");
    assert!(matches!(parsed["office"].as_str(), Some("Bürgeramt" | "Standesamt")));
    assert_eq!(ch.last().unwrap()["choices"][0]["finish_reason"], "tool_calls");
    // Not streamed: the same call in message.tool_calls.
    let mut b = body.clone();
    b["stream"] = json!(false);
    let (_, _, r) = post(&c, &url("/v1/chat/completions"), &b).await;
    assert_eq!(r["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(r["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "get_opening_hours");
}

/// Compat 13: json_object and json_schema constrain the output; unknown types are 400.
#[tokio::test]
async fn c13_response_format_constrains_output() {
    let c = shared().client();
    let schema = json!({"type": "object", "properties": {"stadt": {"type": "string", "maxLength": 20}, "einwohner": {"type": "integer"}}, "required": ["stadt", "einwohner"], "additionalProperties": false});
    for rf in [json!({"type": "json_object"}), json!({"type": "json_schema", "json_schema": {"name": "stadt", "schema": schema}})] {
        let (st, _, b) = post(&c, &url("/v1/chat/completions"), &json!({"model": CHAT, "temperature": 0, "max_tokens": 120, "response_format": rf,
            "messages": [{"role": "user", "content": "Give a JSON object describing a city with its name and population."}]})).await;
        assert_eq!(st, 200, "{b}");
        let text = b["choices"][0]["message"]["content"].as_str().unwrap();
        if b["choices"][0]["finish_reason"] == "stop" {
            let v: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
            assert!(v.is_object());
            if rf["type"] == "json_schema" {
                assert!(v["stadt"].is_string() && v["einwohner"].is_i64(), "{v}");
            }
        } else {
            assert!(text.trim_start().starts_with('{'), "constrained output starts as JSON: {text}");
        }
    }
    let (st, _, b) = post(&c, &url("/v1/chat/completions"), &json!({"model": CHAT, "response_format": {"type": "yaml"}, "messages": [{"role": "user", "content": "Hi"}]})).await;
    assert_eq!(st, 400);
    assert_eq!(b["error"]["param"], "response_format");
}

/// Compat 14: chat logprobs use the chat shape.
#[tokio::test]
async fn c14_chat_logprobs_have_the_chat_shape() {
    let c = shared().client();
    let (st, _, b) = post(&c, &url("/v1/chat/completions"), &json!({"model": CHAT, "max_tokens": 5, "logprobs": true, "top_logprobs": 3,
        "messages": [{"role": "user", "content": "Say hello"}]})).await;
    assert_eq!(st, 200, "{b}");
    let content = b["choices"][0]["logprobs"]["content"].as_array().expect("logprobs.content[]");
    assert!(!content.is_empty());
    for e in content {
        assert!(e["token"].is_string() && e["logprob"].as_f64().unwrap() <= 0.0 && e["bytes"].is_array());
        let top = e["top_logprobs"].as_array().unwrap();
        assert_eq!(top.len(), 3);
        assert!(top[0]["logprob"].as_f64() >= top[2]["logprob"].as_f64());
    }
    assert!(b["choices"][0]["logprobs"].get("tokens").is_none(), "never the legacy shape");
}

/// Compat 15: n > 1 returns n choices, indices 0..n-1; streamed too.
#[tokio::test]
async fn c15_n_choices() {
    let c = shared().client();
    let body = json!({"model": CHAT, "n": 3, "max_tokens": 6, "seed": 7, "messages": [{"role": "user", "content": "Name a colour."}]});
    let (st, _, b) = post(&c, &url("/v1/chat/completions"), &body).await;
    assert_eq!(st, 200, "{b}");
    let idx: Vec<u64> = b["choices"].as_array().unwrap().iter().map(|c| c["index"].as_u64().unwrap()).collect();
    assert_eq!(idx, vec![0, 1, 2]);
    let mut s = body.clone();
    s["stream"] = json!(true);
    let (_, data) = post_sse(&c, &url("/v1/chat/completions"), &s).await;
    let ch = chunks(&data);
    for i in 0..3 {
        let mine: Vec<_> = ch.iter().filter(|c| c["choices"][0]["index"] == i).collect();
        let fin: Vec<_> = mine.iter().enumerate().filter(|(_, c)| !c["choices"][0]["finish_reason"].is_null()).collect();
        assert_eq!(fin.len(), 1, "choice {i} finishes once");
        assert_eq!(fin[0].0, mine.len() - 1, "on its last chunk");
    }
    let mut big = body.clone();
    big["n"] = json!(100);
    let (st, _, b) = post(&c, &url("/v1/chat/completions"), &big).await;
    assert_eq!((st, b["error"]["param"].clone()), (400, json!("n")));
}
