//! Inference benchmark on the default model (SmolLM2-135M Q4_1), engine only (no HTTP):
//! prompt processing tokens/s, and decode tokens/s for 1 and 4 concurrent streams.
//! Each figure is the median of 5 runs (`ZONEGATE_BENCH_RUNS` to change), printed with min and
//! max. Run with `make bench`.

#![allow(clippy::expect_used)] // a benchmark that cannot set up should stop loudly

use std::time::{Duration, Instant};

use zonegate::config::Config;
use zonegate::engine::{Engine, GenEvent, Generator, SamplingParams};

fn model_path() -> String {
    std::env::var("ZONEGATE_TEST_MODEL").unwrap_or_else(|_| format!("{}/.cache/zonegate/models/SmolLM2-135M-Instruct.Q4_1.gguf", std::env::var("HOME").unwrap_or_default()))
}

/// Runs `streams` generations of `gen` tokens (EOS ignored) on a prompt of `prompt` tokens.
/// Returns (prefill seconds until every stream has its first token, decode seconds after that, tokens decoded).
async fn run(g: &Generator, prompt_tokens: usize, streams: usize, gen: u32) -> (f64, f64, u64) {
    let base = g.tokenize(&"Die Stadtverwaltung informiert über neue Öffnungszeiten. ".repeat(200), false);
    let prompt: Vec<_> = base.into_iter().take(prompt_tokens).collect();
    let t0 = Instant::now();
    let mut handles = Vec::new();
    for i in 0..streams {
        let p = SamplingParams { temperature: 0.0, max_tokens: gen, ignore_eos: true, seed: Some(i as u32), ..SamplingParams::default() };
        let mut gen = g.submit(prompt.clone(), p).expect("submit");
        handles.push(tokio::spawn(async move {
            let mut first = None;
            let mut n = 0u64;
            while let Some(ev) = gen.events.recv().await {
                match ev {
                    GenEvent::Delta { .. } => {
                        first.get_or_insert_with(Instant::now);
                    }
                    GenEvent::Finished { completion_tokens, .. } => n = u64::from(completion_tokens),
                    GenEvent::Failed(e) => panic!("{e}"),
                }
            }
            (first.unwrap_or_else(Instant::now), Instant::now(), n)
        }));
    }
    let mut firsts = Vec::new();
    let mut ends = Vec::new();
    let mut tokens = 0;
    for h in handles {
        let (f, e, n) = h.await.expect("join");
        firsts.push(f);
        ends.push(e);
        tokens += n - 1;
    }
    let first = *firsts.iter().max().expect("streams");
    let end = *ends.iter().max().expect("streams");
    (first.duration_since(t0).as_secs_f64(), end.duration_since(first).as_secs_f64().max(1e-9), tokens)
}

fn stats(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn main() {
    let model = model_path();
    let threads = zonegate::engine::default_threads();
    let runs: usize = std::env::var("ZONEGATE_BENCH_RUNS").ok().and_then(|v| v.parse().ok()).filter(|&n| n > 0).unwrap_or(5);
    let toml = format!(
        "[tls]\ncert = \"/dev/null\"\nkey = \"/dev/null\"\nclient_ca = [\"/dev/null\"]\n[[models]]\nid = \"bench\"\npath = \"{model}\"\ncontext_size = 8192\nparallel = 4\nthreads = {threads}\n"
    );
    // The TLS paths are not used by the engine; parse without validation of those files.
    let cfg: Config = toml::from_str(&toml).expect("bench config");
    let engine = Engine::load(&cfg.models, 16).expect("model loads");
    let g = engine.generator("bench").expect("chat model").clone();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    println!("zonegate inference benchmark: {model}\nthreads = {threads}, median of {runs} runs (min..max)\n");
    rt.block_on(async {
        run(&g, 32, 1, 8).await; // warm-up
        let mut pp = Vec::new();
        for _ in 0..runs {
            let (prefill, _, _) = run(&g, 512, 1, 2).await;
            pp.push(512.0 / prefill);
        }
        let (m, lo, hi) = stats(pp);
        println!("prompt processing (512-token prompt)   {m:8.1} tokens/s  ({lo:.1}..{hi:.1})");
        for streams in [1usize, 4] {
            let mut per = Vec::new();
            for _ in 0..runs {
                let (_, decode, tokens) = run(&g, 32, streams, 128).await;
                per.push(tokens as f64 / decode);
            }
            let (m, lo, hi) = stats(per);
            println!("decode, {streams} concurrent stream(s)          {m:8.1} tokens/s total ({lo:.1}..{hi:.1}), {:.1} per stream", m / streams as f64);
        }
    });
    std::thread::sleep(Duration::from_millis(10));
}
