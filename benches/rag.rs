//! RAG benchmark (`make bench-rag`): ingest chunks/s and search latency p50/p95 at 10k and
//! 100k chunks on this machine.
//!
//! Two parts, because embedding 100k chunks through SmolLM2-135M on two cores takes hours:
//! 1. Real model (`ZONEGATE_TEST_MODEL`, skipped when absent): end-to-end ingest (extract,
//!    chunk, analyze, embed through the engine, one sled transaction per document) of a
//!    small synthetic corpus, in chunks/s, and the query-embedding latency.
//! 2. Store and index at 10k and 100k chunks with a stand-in model that returns
//!    pseudo-random unit vectors of SmolLM2's width (576), seeded by the text: ingest
//!    chunks/s without embedding cost, the first-search index build, and search p50/p95 of
//!    hybrid, lexical and vector queries (exact cosine over all vectors, BM25 over the German
//!    analyzer, RRF), and the search right after a write (the index is updated in place).
//!    A hybrid query with the real model costs the query-embedding latency of part 1 on top.
//!
//! Options: `--sizes 10000,100000`, `--queries 200`, `--real-docs 20`.

// A benchmark panics on setup failures: that is how it fails.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use rand::{Rng as _, SeedableRng as _};
use zonegate::rag::{Access, Caller, EmbedFuture, EmbedModel, NewCollection, Rag, RagSettings, SearchMode, SearchRequest};

const DIMS: usize = 576;

/// Pseudo-random unit vectors seeded by the text; tokens = words.
struct RandomModel;

impl EmbedModel for RandomModel {
    fn id(&self) -> &str {
        "random-576"
    }
    fn sha256(&self) -> &str {
        "0000000000000000000000000000000000000000000000000000000000000000"
    }
    fn count_tokens(&self, text: &str) -> usize {
        text.split_whitespace().count()
    }
    fn max_tokens(&self) -> usize {
        1024
    }
    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move {
            Ok(texts
                .iter()
                .map(|t| {
                    let seed = t.bytes().fold(1469598103934665603u64, |h, b| (h ^ u64::from(b)).wrapping_mul(1099511628211));
                    let mut r = rand::rngs::StdRng::seed_from_u64(seed);
                    let v: Vec<f32> = (0..DIMS).map(|_| r.random::<f32>() - 0.5).collect();
                    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                    v.into_iter().map(|x| x / n).collect()
                })
                .collect())
        })
    }
}

/// A vocabulary of 40 simple words and 1600 compounds, drawn Zipf-like (weight 1/rank).
struct Vocab {
    words: Vec<String>,
    cumulative: Vec<f64>,
}

impl Vocab {
    fn new() -> Vocab {
        let heads = [
            "Antrag", "Gebühr", "Bescheid", "Frist", "Verwaltung", "Plan", "Stelle", "Steuer", "Abfuhr", "Reinigung", "Genehmigung", "Ordnung", "Recht",
            "Schutz", "Zeit", "Wort", "Anlage", "Dienst", "Ausweis", "Behörde", "Fläche", "Platz", "Weg", "Haushalt", "Vergabe", "Akte", "Vertrag", "Konto",
            "Satzung", "Verfahren", "Meldung", "Prüfung", "Rat", "Amt", "Kasse", "Bau", "Park", "Netz", "Zugang", "Karte",
        ];
        let mods = [
            "Bürger", "Stadt", "Hunde", "Müll", "Straßen", "Bau", "Personal", "Daten", "Arbeits", "Gleit", "Pass", "Telefon", "Spiel", "Rad", "Lärm",
            "Grün", "Wasser", "Schul", "Sozial", "Jugend", "Kita", "Feuer", "Wahl", "Melde", "Kfz", "Park", "Gewerbe", "Umwelt", "Kultur", "Sport", "Friedhof",
            "Vergabe", "Dienst", "Reise", "Schlüssel", "Zutritt", "Drucker", "Software", "Netz", "Konto",
        ];
        let mut words: Vec<String> = heads.iter().map(|s| s.to_string()).collect();
        for m in mods {
            for h in heads {
                words.push(format!("{m}{}", h.to_lowercase()));
            }
        }
        let mut r = rand::rngs::StdRng::seed_from_u64(7);
        for i in (1..words.len()).rev() {
            let j = r.random_range(0..=i);
            words.swap(i, j);
        }
        let mut acc = 0.0;
        let cumulative = (1..=words.len()).map(|i| {
            acc += 1.0 / i as f64;
            acc
        }).collect();
        Vocab { words, cumulative }
    }
    fn word(&self, r: &mut impl rand::Rng) -> &str {
        let total = self.cumulative.last().copied().unwrap_or(1.0);
        let x = r.random::<f64>() * total;
        let i = self.cumulative.partition_point(|c| *c < x).min(self.words.len() - 1);
        &self.words[i]
    }
    fn text(&self, r: &mut impl rand::Rng, words: usize) -> String {
        let fill = ["die", "wird", "mit", "beim", "innerhalb", "von", "zwei", "Wochen", "geprüft", "und", "erteilt"];
        let mut out = Vec::with_capacity(words);
        for i in 0..words {
            out.push(if i % 3 == 2 { fill[r.random_range(0..fill.len())] } else { self.word(r) });
        }
        out.join(" ") + "."
    }
}

/// A Markdown document of `sections` sections of ~100 words (one chunk each at 128 tokens).
fn document(v: &Vocab, r: &mut impl rand::Rng, sections: usize) -> String {
    let mut d = String::new();
    for s in 0..sections {
        d.push_str(&format!("## Abschnitt {s} {}\n\n{}\n\n", v.word(r), v.text(r, 100)));
    }
    d
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn arg(name: &str, default: &str) -> String {
    let a: Vec<String> = std::env::args().collect();
    a.iter().position(|x| x == name).and_then(|i| a.get(i + 1).cloned()).unwrap_or_else(|| default.to_string())
}

async fn ingest_docs(rag: &Rag, coll: &str, docs: &[String]) -> (usize, f64) {
    let sys = Caller::system();
    let t = Instant::now();
    let mut chunks = 0usize;
    for (i, d) in docs.iter().enumerate() {
        let (doc, _) = rag.ingest_bytes(&sys, coll, &format!("doc-{i:06}.md"), d.as_bytes(), None, BTreeMap::new()).await.expect("ingest");
        chunks += doc.chunk_count as usize;
    }
    rag.flush().expect("flush");
    (chunks, t.elapsed().as_secs_f64())
}

fn collection(rag: &Rag, name: &str) -> String {
    rag.create_collection(&Caller::system(), NewCollection { name: name.into(), class: zonegate::policy::DataClass::Internal, owner_department: "IT".into(), read: Access::Everyone, attributes: BTreeMap::new() })
        .expect("collection")
        .id
}

async fn real_model(v: &Vocab, docs: usize) {
    let Some(path) = std::env::var_os("ZONEGATE_TEST_MODEL").map(std::path::PathBuf::from).filter(|p| p.is_file()) else {
        println!("real model: ZONEGATE_TEST_MODEL not set, skipped");
        return;
    };
    let cfg = zonegate::config::ModelConfig {
        id: "smollm2-135m-embed".into(),
        path: path.clone(),
        sha256: None,
        role: zonegate::config::ModelRole::Embedding,
        context_size: 2048,
        parallel: 8,
        gpu_layers: 0,
        threads: None,
        batch_size: 2048,
        prefix_cache: Default::default(),
    };
    let engine = zonegate::engine::Engine::load(&[cfg], 64).expect("model loads");
    let sha = zonegate::engine::sha256_file(&path).expect("sha");
    let model = Arc::new(zonegate::rag::EngineEmbedder::new(engine.embedder("smollm2-135m-embed").expect("embedder").clone(), sha));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = RagSettings::new(dir.path());
    s.chunk_tokens = 128;
    s.chunk_overlap_tokens = 16;
    let rag = Rag::open(s, Some(model.clone())).expect("store");
    let coll = collection(&rag, "real");
    let mut r = rand::rngs::StdRng::seed_from_u64(1);
    let texts: Vec<String> = (0..docs).map(|_| document(v, &mut r, 5)).collect();
    let (chunks, secs) = ingest_docs(&rag, &coll, &texts).await;
    println!("real model (SmolLM2-135M Q4_1, {} threads, 128-token chunks): ingested {chunks} chunks in {secs:.1} s = {:.1} chunks/s", zonegate::engine::default_threads(), chunks as f64 / secs);
    let mut lat = Vec::new();
    for i in 0..20 {
        let q = v.text(&mut r, 4 + i % 4);
        let t = Instant::now();
        model.embed(std::slice::from_ref(&q)).await.expect("embed");
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    lat.sort_by(f64::total_cmp);
    println!("real model: query embedding p50 {:.1} ms, p95 {:.1} ms", pct(&lat, 0.5), pct(&lat, 0.95));
}

async fn at_size(v: &Vocab, target: usize, queries: usize) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = RagSettings::new(dir.path());
    s.chunk_tokens = 128;
    s.chunk_overlap_tokens = 16;
    s.embed_batch = 64;
    let rag = Rag::open(s, Some(Arc::new(RandomModel))).expect("store");
    let coll = collection(&rag, "bench");
    let mut r = rand::rngs::StdRng::seed_from_u64(target as u64);
    let per_doc = 10;
    let texts: Vec<String> = (0..target.div_ceil(per_doc)).map(|_| document(v, &mut r, per_doc)).collect();
    let (chunks, secs) = ingest_docs(&rag, &coll, &texts).await;
    println!("{chunks} chunks: ingest without embedding cost {:.0} chunks/s ({secs:.1} s; extract, chunk, analyze, sled transaction per 10-chunk document)", chunks as f64 / secs);
    let sys = Caller::system();
    let t = Instant::now();
    let first = SearchRequest { collection_ids: vec![coll.clone()], query: v.text(&mut r, 4), max_results: 10, filter: None, score_threshold: None, mode: SearchMode::Hybrid };
    rag.search(&sys, &first).await.expect("search");
    println!("{chunks} chunks: first search (builds the in-memory index) {:.2} s", t.elapsed().as_secs_f64());
    for (name, mode) in [("hybrid", SearchMode::Hybrid), ("lexical", SearchMode::Lexical), ("vector", SearchMode::Vector)] {
        let mut lat = Vec::with_capacity(queries);
        for i in 0..queries {
            let req = SearchRequest { collection_ids: vec![coll.clone()], query: v.text(&mut r, 3 + i % 5), max_results: 10, filter: None, score_threshold: None, mode };
            let t = Instant::now();
            let hits = rag.search(&sys, &req).await.expect("search");
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            assert!(!hits.is_empty() || mode == SearchMode::Lexical);
        }
        lat.sort_by(f64::total_cmp);
        println!("{chunks} chunks: {name:<7} search p50 {:>7.2} ms  p95 {:>7.2} ms  ({queries} queries, top 10)", pct(&lat, 0.5), pct(&lat, 0.95));
    }
    // Writes while the index is warm: each ingest or replacement updates the cached index in
    // place, so the search right after it costs a search, not a rebuild.
    let rounds = 20;
    let (mut write_ms, mut search_ms) = (Vec::new(), Vec::new());
    for i in 0..rounds {
        let text = document(v, &mut r, per_doc);
        let name = if i % 2 == 0 { format!("new-{i:03}.md") } else { "doc-000000.md".to_string() };
        let t = Instant::now();
        rag.ingest_bytes(&sys, &coll, &name, text.as_bytes(), None, BTreeMap::new()).await.expect("ingest");
        write_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let req = SearchRequest { collection_ids: vec![coll.clone()], query: v.text(&mut r, 4), max_results: 10, filter: None, score_threshold: None, mode: SearchMode::Hybrid };
        let t = Instant::now();
        rag.search(&sys, &req).await.expect("search");
        search_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    write_ms.sort_by(f64::total_cmp);
    search_ms.sort_by(f64::total_cmp);
    println!(
        "{chunks} chunks: hybrid search right after a write (add or replace, {rounds} rounds) p50 {:.2} ms  p95 {:.2} ms; the write itself p50 {:.1} ms",
        pct(&search_ms, 0.5),
        pct(&search_ms, 0.95),
        pct(&write_ms, 0.5)
    );
}

fn main() {
    let sizes: Vec<usize> = arg("--sizes", "10000,100000").split(',').filter_map(|s| s.trim().parse().ok()).collect();
    let queries: usize = arg("--queries", "200").parse().unwrap_or(200);
    let real_docs: usize = arg("--real-docs", "20").parse().unwrap_or(20);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let v = Vocab::new();
    println!("zonegate RAG benchmark on {} CPUs", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    rt.block_on(async {
        real_model(&v, real_docs).await;
        for n in sizes {
            at_size(&v, n, queries).await;
        }
    });
}
