//! `zonegate rag ingest | search | list | delete | verify`: the local operator's commands
//! (they act as [`Caller::system`], which sees everything). They open the store of the
//! `[rag]` section directly, so they cannot run while `zonegate serve` holds it.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};

use super::{Access, Caller, EngineEmbedder, Filter, IngestStatus, NewCollection, Rag, RagError, RagSettings, SearchMode, SearchRequest};
use crate::config::{Config, RagConfig};
use crate::policy::DataClass;

/// `zonegate rag …`.
#[derive(Debug, Subcommand)]
pub enum RagCommand {
    /// Ingest every file under DIR (recursively, hidden files skipped) into a collection,
    /// creating it when absent. Prints one line per document once it is durably stored:
    /// `added|replaced|unchanged<TAB>SOURCE<TAB>CHUNKS`; unreadable files go to stderr and
    /// make the exit status 1 (the others are still ingested).
    Ingest(IngestArgs),
    /// Search collections; prints rank, score, source#chunk and the chunk text.
    Search(SearchArgs),
    /// Without --collection: the collections. With it: its documents as
    /// `SOURCE<TAB>FILE_ID<TAB>CLASS<TAB>CHUNKS<TAB>SHA256`.
    List {
        /// Collection name or id.
        #[arg(long)]
        collection: Option<String>,
    },
    /// Delete a document (--document SOURCE) or a whole collection.
    Delete {
        /// Collection name or id.
        #[arg(long)]
        collection: String,
        /// Source name of the document to delete; without it the collection goes.
        #[arg(long)]
        document: Option<String>,
    },
    /// Check the store; lists problems and exits 1 when there are any.
    Verify,
}

/// `zonegate rag ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Directory (or single file) to ingest.
    pub dir: PathBuf,
    /// Collection name (created when absent).
    #[arg(long)]
    pub collection: String,
    /// Data class of the collection: public, internal, personal, confidential, social.
    #[arg(long)]
    pub class: DataClass,
    /// Owner department (needed when the collection is created).
    #[arg(long)]
    pub department: Option<String>,
    /// Read access when created: everyone, owner, departments:A,B or users:u1,u2.
    #[arg(long, default_value = "owner")]
    pub read: String,
    /// Document attribute KEY=VALUE for every file (numbers and true/false are typed).
    #[arg(long = "attr")]
    pub attrs: Vec<String>,
}

/// `zonegate rag search`.
#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Collection names or ids (repeatable).
    #[arg(long, required = true)]
    pub collection: Vec<String>,
    /// hybrid, lexical or vector.
    #[arg(long, default_value = "hybrid")]
    pub mode: String,
    /// Results, 1..=50.
    #[arg(short = 'n', long, default_value_t = 5)]
    pub max_results: usize,
    /// Attribute filter as OpenAI file-search JSON.
    #[arg(long)]
    pub filter: Option<String>,
    /// The query.
    pub query: String,
}

/// Settings of a `[rag]` section.
pub fn settings(r: &RagConfig, state_dir: &Path) -> RagSettings {
    RagSettings {
        dir: r.dir(state_dir),
        chunk_tokens: r.chunk_tokens as usize,
        chunk_overlap_tokens: r.chunk_overlap_tokens as usize,
        max_file_bytes: r.max_file_bytes,
        embed_batch: r.embed_batch as usize,
        vector_weight: r.vector_weight,
        add_wait: std::time::Duration::from_secs(u64::from(r.add_file_wait_secs)),
    }
}

/// The embedding model of `[rag]` from a loaded engine, with its file's SHA-256 (from the
/// config when pinned, else computed; blocking).
///
/// # Errors
/// The model is missing from the engine, or its file cannot be read.
pub fn engine_embedder(cfg: &Config, engine: &crate::engine::Engine) -> Result<Arc<EngineEmbedder>, RagError> {
    let r = cfg.rag.as_ref().ok_or_else(|| RagError::Invalid("no [rag] section".into()))?;
    let m = cfg.models.iter().find(|m| m.id == r.embedding_model).ok_or_else(|| RagError::Invalid(format!("rag.embedding_model {:?} is not a model", r.embedding_model)))?;
    let e = engine.embedder(&m.id).map_err(|e| RagError::Embedding(e.to_string()))?.clone();
    let sha = match &m.sha256 {
        Some(s) => s.to_ascii_lowercase(),
        None => crate::engine::sha256_file(&m.path).map_err(|e| RagError::Embedding(format!("{}: {e}", m.path.display())))?,
    };
    Ok(Arc::new(EngineEmbedder::new(e, sha).with_input_tokens(r.embed_tokens as usize)))
}

fn open(cfg: &Config, with_model: bool) -> anyhow::Result<Rag> {
    let r = cfg.rag.as_ref().ok_or_else(|| anyhow::anyhow!("{}: no [rag] section; add one with embedding_model = \"<an embedding [[models]] id>\"", "config"))?;
    let embed: Option<Arc<dyn super::EmbedModel>> = if with_model {
        let m = cfg.models.iter().find(|m| m.id == r.embedding_model).cloned().ok_or_else(|| anyhow::anyhow!("rag.embedding_model is not a model"))?;
        let engine = crate::engine::Engine::load(&[m], 64)?;
        Some(engine_embedder(cfg, &engine)?)
    } else {
        None
    };
    Ok(Rag::open(settings(r, &cfg.server.state_dir), embed)?)
}

fn parse_attr(s: &str) -> anyhow::Result<(String, serde_json::Value)> {
    let (k, v) = s.split_once('=').ok_or_else(|| anyhow::anyhow!("--attr {s:?}: use KEY=VALUE"))?;
    let value = match serde_json::from_str::<serde_json::Value>(v) {
        Ok(j @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => j,
        _ => serde_json::Value::String(v.to_string()),
    };
    Ok((k.to_string(), value))
}

/// Regular files under `dir`, sorted by relative path, hidden entries skipped.
fn walk(dir: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    if dir.is_file() {
        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        return Ok(vec![(name, dir.to_path_buf())]);
    }
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)? {
            let e = e?;
            if e.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let p = e.path();
            if e.file_type()?.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                let rel = p.strip_prefix(dir).unwrap_or(&p).to_string_lossy().into_owned();
                out.push((rel, p));
            }
        }
    }
    out.sort();
    Ok(out)
}

async fn ingest(rag: &Rag, a: IngestArgs) -> anyhow::Result<i32> {
    let sys = Caller::system();
    let attrs: BTreeMap<String, serde_json::Value> = a.attrs.iter().map(|s| parse_attr(s)).collect::<anyhow::Result<_>>()?;
    let c = match rag.get_collection(&sys, &a.collection) {
        Ok(c) if c.class != a.class => anyhow::bail!("collection {:?} has class {}; --class {} differs (documents may be stricter, collections do not change class)", c.name, c.class, a.class),
        Ok(c) => c,
        Err(RagError::NotFound(_)) => {
            let dep = a.department.clone().ok_or_else(|| anyhow::anyhow!("collection {:?} does not exist; pass --department to create it", a.collection))?;
            let read = Access::parse(&a.read).map_err(anyhow::Error::msg)?;
            rag.create_collection(&sys, NewCollection { name: a.collection.clone(), class: a.class, owner_department: dep, read, attributes: BTreeMap::new() })?
        }
        Err(e) => return Err(e.into()),
    };
    let files = walk(&a.dir).map_err(|e| anyhow::anyhow!("{}: {e}", a.dir.display()))?;
    let mut failed = 0;
    let mut out = std::io::stdout().lock();
    for (rel, path) in files {
        let data = match std::fs::read(&path) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("unreadable\t{rel}\t{e}");
                failed += 1;
                continue;
            }
        };
        match rag.ingest_bytes(&sys, &c.id, &rel, &data, None, attrs.clone()).await {
            Ok((d, status)) => {
                // Durable before it is reported: the report is the promise.
                rag.flush()?;
                let s = match status {
                    IngestStatus::Added => "added",
                    IngestStatus::Replaced => "replaced",
                    IngestStatus::Unchanged => "unchanged",
                };
                writeln!(out, "{s}\t{rel}\t{}", d.chunk_count)?;
                out.flush()?;
            }
            Err(RagError::Unreadable { reason, .. }) => {
                eprintln!("unreadable\t{rel}\t{reason}");
                failed += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(i32::from(failed > 0))
}

/// Runs `zonegate rag …`; returns the exit code.
///
/// # Errors
/// Config, store or model failures, for `main` to print.
pub fn run_rag(config: &Path, cmd: RagCommand) -> anyhow::Result<i32> {
    let cfg = Config::load(config)?;
    crate::logging::init("warn");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let sys = Caller::system();
    match cmd {
        RagCommand::Ingest(a) => {
            let rag = open(&cfg, true)?;
            rt.block_on(ingest(&rag, a))
        }
        RagCommand::Search(a) => {
            let mode = match a.mode.as_str() {
                "hybrid" => SearchMode::Hybrid,
                "lexical" => SearchMode::Lexical,
                "vector" => SearchMode::Vector,
                m => anyhow::bail!("--mode {m:?}: use hybrid, lexical or vector"),
            };
            let filter = a.filter.as_deref().map(serde_json::from_str::<Filter>).transpose().map_err(|e| anyhow::anyhow!("--filter: {e}"))?;
            let rag = open(&cfg, mode != SearchMode::Lexical)?;
            let req = SearchRequest { collection_ids: a.collection, query: a.query, max_results: a.max_results, filter, score_threshold: None, mode };
            let hits = rt.block_on(rag.search(&sys, &req))?;
            for (i, h) in hits.iter().enumerate() {
                println!("{}\t{:.3}\t{}#{}\t{}", i + 1, h.score, h.source_name, h.chunk_index, h.text.replace('\n', " "));
            }
            Ok(0)
        }
        RagCommand::List { collection } => {
            let rag = open(&cfg, false)?;
            match collection {
                None => {
                    for c in rag.list_collections(&sys)? {
                        let read = match &c.read {
                            Access::Everyone => "everyone".to_string(),
                            Access::Departments(d) if d.is_empty() => "owner".to_string(),
                            Access::Departments(d) => format!("departments:{}", d.join(",")),
                            Access::Users(u) => format!("users:{}", u.join(",")),
                        };
                        println!("{}\t{}\t{}\t{}\t{read}\t{} documents\t{} chunks\t{}", c.name, c.id, c.class, c.owner_department, c.document_count, c.chunk_count, c.embedding_model.as_deref().unwrap_or("-"));
                    }
                }
                Some(name) => {
                    for d in rag.list_documents(&sys, &name)? {
                        println!("{}\t{}\t{}\t{}\t{}", d.source_name, d.file_id, d.class, d.chunk_count, d.sha256);
                    }
                }
            }
            Ok(0)
        }
        RagCommand::Delete { collection, document } => {
            let rag = open(&cfg, false)?;
            let c = rag.get_collection(&sys, &collection)?;
            match document {
                None => rag.delete_collection(&sys, &c.id)?,
                Some(src) => {
                    let d = rag.list_documents(&sys, &c.id)?.into_iter().find(|d| d.source_name == src).ok_or_else(|| anyhow::anyhow!("no document {src:?} in {:?}", c.name))?;
                    rag.remove_file(&sys, &c.id, &d.file_id)?;
                }
            }
            rag.flush()?;
            Ok(0)
        }
        RagCommand::Verify => {
            let rag = open(&cfg, false)?;
            let r = rag.verify()?;
            for p in &r.problems {
                println!("problem: {p}");
            }
            println!(
                "{}: {} collections, {} documents, {} chunks, {} files: {}",
                rag.dir().display(),
                r.collections,
                r.documents,
                r.chunks,
                r.files,
                if r.ok() { "consistent".to_string() } else { format!("{} problem(s)", r.problems.len()) }
            );
            Ok(i32::from(!r.ok()))
        }
    }
}
