//! The relay (issue 3): yellow/red requests go through the policy gate to a recording
//! upstream. Blocked data never reaches it, pseudonymized values never reach it and come back
//! restored, allowed requests pass unchanged, streams are not buffered.

use std::time::Instant;

use futures::StreamExt;
use serde_json::{json, Value};

use crate::harness::{chunks, post, post_sse, sse_data, Opts, TestServer, CHAT};
use crate::upstream::{Upstream, CUT_STREAM, GAP};

const RED: &str = "red/gpt-test";
const YELLOW: &str = "yellow/open-test";
/// Synthetic: a named person with a date of birth, a diagnosis and a social benefit.
const SENSITIVE: &str = "Frau Erika Beispielfrau (geb. 12.03.1961) leidet an Diabetes mellitus Typ 2 und bezieht Bürgergeld.";
const SECRET_VALUES: &[&str] = &["Erika Beispielfrau", "12.03.1961", "Diabetes", "Bürgergeld"];
const PERSONAL: &str = "Schreibe eine Mail an jonas.feldkamp@example.org wegen des Termins.";

/// A server with a red upstream (block) and a yellow one (pseudonymize).
async fn setup(red_policy: &str) -> (TestServer, Upstream, Upstream, tempfile::TempDir) {
    let keys = tempfile::tempdir().unwrap();
    let red = Upstream::start().await;
    let yellow = Upstream::start().await;
    let extra = format!(
        "{}{}\n[policy]\ndefault_class = \"internal\"\n[policy.yellow]\non_violation = \"pseudonymize\"\n[policy.red]\n{red_policy}\n",
        red.config("red-cloud", "red", RED, &keys.path().join("red.key")),
        yellow.config("yellow-cloud", "yellow", YELLOW, &keys.path().join("yellow.key")),
    );
    let s = TestServer::start(Opts { extra, ..Opts::default() }).await;
    (s, red, yellow, keys)
}

fn chat(model: &str, text: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": text}]})
}

fn received_text(up: &Upstream) -> String {
    serde_json::to_string(&up.received()).unwrap()
}

#[tokio::test]
async fn blocked_data_never_reaches_the_upstream() {
    let (s, red, _, _k) = setup("on_violation = \"block\"").await;
    let c = s.client();
    for (body, stream) in [(chat(RED, PERSONAL), false), (chat(RED, SENSITIVE), true)] {
        let mut body = body;
        body["stream"] = json!(stream);
        let (st, _, b) = post(&c, &s.url("/v1/chat/completions"), &body).await;
        assert_eq!(st, 403, "{b}");
        assert_eq!(b["error"]["code"], "data_class_not_allowed");
        let msg = b["error"]["message"].as_str().unwrap();
        assert!(msg.contains("red") && msg.contains("rot"), "names the zone in both languages: {msg}");
        for v in SECRET_VALUES.iter().chain(["jonas.feldkamp@example.org"].iter()) {
            assert!(!msg.contains(v), "the message must not repeat the value {v}");
        }
    }
    // Personal data in a tool result and in a stop string count too.
    let body = json!({"model": RED, "stop": ["jonas.feldkamp@example.org"], "messages": [{"role": "user", "content": "Fasse zusammen."}]});
    assert_eq!(post(&c, &s.url("/v1/chat/completions"), &body).await.0, 403);
    let body = json!({"model": RED, "messages": [{"role": "user", "content": "Was ergab die Suche?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "suche", "arguments": "{\"q\": \"Akte\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "Treffer: Herr Tobias Quellmann, tobias.quellmann@example.net"}]});
    assert_eq!(post(&c, &s.url("/v1/chat/completions"), &body).await.0, 403);
    assert!(red.received().is_empty(), "the upstream received: {}", received_text(&red));
    // Declared class alone also blocks.
    let r = c.post(s.url("/v1/chat/completions")).header("X-Data-Class", "personal").json(&chat(RED, "Wie ist das Wetter?")).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert!(red.received().is_empty());
    let m = c.get(s.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(m.contains("zonegate_policy_decisions_total{zone=\"red\",decision=\"block\"} 5"), "{m}");
}

#[tokio::test]
async fn allowed_requests_pass_unchanged_both_ways() {
    let (s, red, _, _k) = setup("on_violation = \"block\"").await;
    let c = s.client();
    let body = json!({"model": RED, "seed": 42, "temperature": 0.3, "logprobs": true, "top_logprobs": 2, "user": "abteilung-7",
        "response_format": {"type": "json_object"}, "metadata": {"ticket": "T-17"}, "some_future_field": {"x": [1, 2]},
        "messages": [{"role": "system", "content": "Du bist hilfreich."}, {"role": "user", "content": [{"type": "text", "text": "Wie viele Einwohner hat die Stadt?"}]}]});
    let (st, _, b) = post(&c, &s.url("/v1/chat/completions"), &body).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["system_fingerprint"], "fp_upstream", "upstream fields pass through");
    assert_eq!(b["choices"][0]["message"]["content"], "ECHO: Wie viele Einwohner hat die Stadt?");
    let got = red.received();
    assert_eq!(got.len(), 1);
    let mut expected = body.clone();
    expected["model"] = json!("upstream-model");
    assert_eq!(got[0], expected, "only the model name is mapped");
}

#[tokio::test]
async fn pseudonymized_values_never_reach_the_upstream_and_come_back_restored() {
    let (s, _, yellow, _k) = setup("on_violation = \"block\"").await;
    let c = s.client();
    let (st, _, b) = post(&c, &s.url("/v1/chat/completions"), &chat(YELLOW, SENSITIVE)).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["choices"][0]["message"]["content"], format!("ECHO: {SENSITIVE}"), "placeholders restored");
    let mut body = chat(YELLOW, SENSITIVE);
    body["stream"] = json!(true);
    let (st, data) = post_sse(&c, &s.url("/v1/chat/completions"), &body).await;
    assert_eq!(st, 200);
    let text: String = chunks(&data).iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(text, format!("ECHO: {SENSITIVE}"), "restored in the stream although placeholders arrive split in 4-character pieces");
    let seen = received_text(&yellow);
    assert_eq!(yellow.received().len(), 2);
    for v in SECRET_VALUES {
        assert!(!seen.contains(v), "{v} reached the upstream: {seen}");
    }
    assert!(seen.contains("[PERSON_1]"), "{seen}");
}

#[tokio::test]
async fn relayed_streams_are_passed_on_as_they_arrive_with_usage_only_when_asked() {
    let (s, red, _, _k) = setup("on_violation = \"block\"").await;
    let c = s.client();
    let text = "Erkläre den Unterschied zwischen Satzung und Verordnung in zwei Sätzen.";
    let mut body = chat(RED, text);
    body["stream"] = json!(true);
    let start = Instant::now();
    let r = c.post(s.url("/v1/chat/completions")).json(&body).send().await.unwrap();
    assert_eq!(r.headers()["cache-control"], "no-cache");
    assert_eq!(r.headers()["x-accel-buffering"], "no");
    let mut arrivals = Vec::new();
    let mut raw = String::new();
    let mut bytes = r.bytes_stream();
    while let Some(b) = bytes.next().await {
        arrivals.push(start.elapsed());
        raw.push_str(std::str::from_utf8(&b.unwrap()).unwrap());
    }
    let ch = chunks(&sse_data(&raw));
    let n_events = ch.len() + 1;
    // The upstream spaces its events by GAP; a buffering relay would deliver them in one go.
    let spread = *arrivals.last().unwrap() - arrivals[0];
    assert!(arrivals.len() >= n_events / 2, "{} reads for {n_events} events", arrivals.len());
    assert!(spread >= GAP * (n_events as u32 - 2) / 2, "events arrived within {spread:?}");
    // No usage chunk and no usage key: the client did not ask; the relay still asked upstream.
    assert!(ch.iter().all(|c| c.get("usage").is_none()), "{ch:?}");
    assert_eq!(red.received()[0]["stream_options"]["include_usage"], true);
    let joined: String = ch.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(joined, format!("ECHO: {text}"));
    // Asked for: exactly one usage chunk with choices [] and the upstream's numbers.
    body["stream_options"] = json!({"include_usage": true});
    let (_, data) = post_sse(&c, &s.url("/v1/chat/completions"), &body).await;
    let ch = chunks(&data);
    let usage: Vec<_> = ch.iter().filter(|c| c["usage"].is_object()).collect();
    assert_eq!(usage.len(), 1);
    assert_eq!(usage[0]["choices"], json!([]));
    assert_eq!(usage[0]["usage"]["completion_tokens"], 7);
}

#[tokio::test]
async fn upstream_failing_mid_stream_yields_an_error_event() {
    let (s, _, _, _k) = setup("on_violation = \"block\"").await;
    let mut body = chat(RED, CUT_STREAM);
    body["stream"] = json!(true);
    let (st, data) = post_sse(&s.client(), &s.url("/v1/chat/completions"), &body).await;
    assert_eq!(st, 200);
    let ch = chunks(&data);
    assert!(ch.last().unwrap()["error"]["message"].is_string(), "an error event before [DONE]: {ch:?}");
    assert!(ch.iter().all(|c| c["choices"][0]["finish_reason"].is_null()), "never a normal-looking finish");
}

#[tokio::test]
async fn reroute_answers_on_green_and_says_so() {
    let (s, red, _, _k) = setup(&format!("on_violation = \"reroute\"\nreroute_model = \"{CHAT}\"")).await;
    let mut body = chat(RED, PERSONAL);
    body["max_tokens"] = json!(8);
    let r = s.client().post(s.url("/v1/chat/completions")).json(&body).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-zonegate-rerouted-to"], CHAT);
    let b: Value = r.json().await.unwrap();
    assert_eq!(b["model"], CHAT);
    assert!(red.received().is_empty());
}

#[tokio::test]
async fn parameter_errors_and_detector_failures_forward_nothing() {
    let keys = tempfile::tempdir().unwrap();
    let red = Upstream::start().await;
    let extra = format!("{}\n[policy.detect]\nmax_input_bytes = 2000\n", red.config("red-cloud", "red", RED, &keys.path().join("k")));
    let s = TestServer::start(Opts { extra, ..Opts::default() }).await;
    let c = s.client();
    let mut body = chat(RED, "Hallo");
    body["temperature"] = json!(3.5);
    let (st, _, b) = post(&c, &s.url("/v1/chat/completions"), &body).await;
    assert_eq!((st, b["error"]["param"].clone()), (400, json!("temperature")));
    // Input over the detector's limit: classification fails, the request fails closed.
    let (st, _, b) = post(&c, &s.url("/v1/chat/completions"), &chat(RED, &"Verwaltung ".repeat(500))).await;
    assert_eq!(st, 503, "{b}");
    assert_eq!(b["error"]["code"], "classification_failed");
    assert!(red.received().is_empty());
}

#[tokio::test]
async fn models_list_and_classify_endpoint() {
    let (s, _, _, _k) = setup("on_violation = \"block\"").await;
    let c = s.client();
    let list: Value = c.get(s.url("/v1/models")).send().await.unwrap().json().await.unwrap();
    let find = |id: &str| list["data"].as_array().unwrap().iter().find(|m| m["id"] == id).cloned().unwrap();
    assert_eq!(find(RED)["zone"], "red");
    assert_eq!(find(RED)["max_data_class"], "internal");
    assert_eq!(find(YELLOW)["max_data_class"], "personal");
    assert_eq!(find(CHAT)["zone"], "green");
    let (st, _, b) = post(&c, &s.url("/v1/zonegate/classify"), &json!({"input": PERSONAL})).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["effective_class"], "personal");
    assert_eq!(b["allowed_zones"], json!(["green", "yellow"]));
    let f = &b["findings"][0];
    assert_eq!(f["category"], "EMAIL");
    assert_eq!(&PERSONAL[f["start"].as_u64().unwrap() as usize..f["end"].as_u64().unwrap() as usize], "jonas.feldkamp@example.org");
}

#[tokio::test]
async fn relayed_completions_and_embeddings_pass_the_same_gate() {
    let (s, red, _, _k) = setup("on_violation = \"block\"").await;
    let c = s.client();
    let (st, _, b) = post(&c, &s.url("/v1/embeddings"), &json!({"model": RED, "input": ["Öffnungszeiten des Bürgeramts"]})).await;
    assert_eq!(st, 200, "{b}");
    assert_eq!(b["data"][0]["embedding"], json!([0.6, 0.8]));
    let (st, _, b) = post(&c, &s.url("/v1/embeddings"), &json!({"model": RED, "input": ["Öffnungszeiten", PERSONAL]})).await;
    assert_eq!((st, b["error"]["code"].clone()), (403, json!("data_class_not_allowed")));
    let (st, _, _) = post(&c, &s.url("/v1/completions"), &json!({"model": RED, "prompt": "Die Satzung regelt"})).await;
    assert_eq!(st, 200);
    let (st, _, _) = post(&c, &s.url("/v1/completions"), &json!({"model": RED, "prompt": PERSONAL})).await;
    assert_eq!(st, 403);
    let got = received_text(&red);
    assert_eq!(red.received().len(), 2, "{got}");
    assert!(!got.contains("jonas.feldkamp"));
}

/// Budgets (issue 6): a department's red budget blocks red at the boundary with
/// 429 insufficient_quota and never blocks another zone; accounted tokens equal the
/// upstream's usage, streamed or not.
#[tokio::test]
async fn red_budget_blocks_at_the_boundary_and_only_red() {
    let keys = tempfile::tempdir().unwrap();
    let red = Upstream::start().await;
    let extra = format!(
        "{}\n[[budgets]]\ndepartment = \"dev\"\nzone = \"red\"\nmonthly_tokens = 30\n[[prices]]\nmodel = \"{RED}\"\ninput_eur_per_million = 2.0\noutput_eur_per_million = 8.0\n",
        red.config("red-cloud", "red", RED, &keys.path().join("k"))
    );
    let s = TestServer::start(Opts { extra, ..Opts::default() }).await;
    let c = s.client();
    let ask = chat(RED, "Was regelt eine Satzung?");
    assert_eq!(post(&c, &s.url("/v1/chat/completions"), &ask).await.0, 200);
    let rec = s.running.state.accounting.recent();
    assert_eq!((rec[0].prompt_tokens, rec[0].completion_tokens, rec[0].cached_tokens), (11, 7, 4), "the upstream's usage is what is accounted");
    let mut streamed = ask.clone();
    streamed["stream"] = json!(true);
    let (st, _) = post_sse(&c, &s.url("/v1/chat/completions"), &streamed).await;
    assert_eq!(st, 200);
    let rec = s.running.state.accounting.recent();
    assert_eq!((rec[1].prompt_tokens, rec[1].completion_tokens, rec[1].cached_tokens), (11, 7, 4), "streamed: usage the relay asked for");
    // The stream's events come 150 ms apart: latency runs to the end of the stream.
    assert!(rec[1].latency_ms >= 150 && rec[1].latency_ms < 60_000, "latency {} ms", rec[1].latency_ms);
    // Prometheus: tokens by zone, model and type; the budget's fill level (36 of 30 tokens).
    let metrics = c.get(s.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let line = |prefix: &str| metrics.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix} in\n{metrics}")).to_string();
    assert!(line(&format!("zonegate_accounted_tokens_total{{zone=\"red\",model=\"{RED}\",type=\"cached\"}}")).ends_with(" 8"));
    assert!(line("zonegate_budget_fill_ratio{department=\"dev\",zone=\"red\"}").ends_with(" 1.2"));
    assert!(!metrics.contains("user="), "no user ids in metrics");
    // 36 of 30 tokens used: the next red request is refused, green still works.
    let (st, _, b) = post(&c, &s.url("/v1/chat/completions"), &ask).await;
    assert_eq!(st, 429, "{b}");
    assert_eq!(b["error"]["code"], "insufficient_quota");
    let msg = b["error"]["message"].as_str().unwrap();
    assert!(msg.contains("red budget of department dev") && msg.contains("resets on"), "{msg}");
    assert_eq!(red.received().len(), 2);
    let (st, _, _) = post(&c, &s.url("/v1/chat/completions"), &json!({"model": CHAT, "max_tokens": 2, "messages": [{"role": "user", "content": "Hi"}]})).await;
    assert_eq!(st, 200, "a red budget never blocks green");
}
