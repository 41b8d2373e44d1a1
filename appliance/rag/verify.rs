//! `zonegate rag verify`: consistency checks of the whole store.
//!
//! Checks: the schema version; every document's collection and file exist and the file's
//! content matches the document's SHA-256; every chunk 0..chunk_count of every document has
//! its text, postings and vector; the postings equal the analyzer's terms of the chunk text
//! (so an index written by another analyzer version is found too); vectors have the
//! collection's dimension and unit length; no chunk, posting or vector belongs to no
//! document; the collections' counts equal their documents'; the name, source and
//! file→collection indexes point at what exists. Problems name ids and source names, never
//! document text.

use std::collections::{BTreeMap, BTreeSet};

use super::analyze::Analyzer;
use super::store::{self, Store, SCHEMA_VERSION};
use super::RagError;

/// The outcome of [`super::Rag::verify`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Collections checked.
    pub collections: u64,
    /// Documents checked.
    pub documents: u64,
    /// Chunks checked.
    pub chunks: u64,
    /// Files (blobs) present.
    pub files: u64,
    /// What is wrong, one line each; empty when the store is consistent.
    pub problems: Vec<String>,
}

impl VerifyReport {
    /// Whether no problem was found.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

pub(crate) fn verify(s: &Store) -> Result<VerifyReport, RagError> {
    let mut r = VerifyReport::default();
    let mut bad = |m: String| r.problems.push(m);
    match s.schema_version()? {
        Some(SCHEMA_VERSION) => {}
        other => bad(format!("schema version is {other:?}, expected {SCHEMA_VERSION}")),
    }
    let colls: BTreeMap<String, super::Collection> = s.collections()?.into_iter().map(|c| (c.id.clone(), c)).collect();
    let files: BTreeMap<String, super::StoredFile> = s.files()?.into_iter().map(|f| (f.id.clone(), f)).collect();
    let analyzer = Analyzer::default();
    let mut expected_chunks: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut sums: BTreeMap<String, (u64, u64, u64, u64)> = BTreeMap::new(); // docs, chunks, bytes, words
    let docs = s.all_documents()?;
    let mut doc_keys = BTreeSet::new();
    let mut n_chunks = 0u64;
    for d in &docs {
        doc_keys.insert((d.collection_id.clone(), d.file_id.clone()));
        let name = format!("document {:?} ({}) of {}", d.source_name, d.file_id, d.collection_id);
        let Some(c) = colls.get(&d.collection_id) else {
            bad(format!("{name}: its collection does not exist"));
            continue;
        };
        if d.class < c.class {
            bad(format!("{name}: class {} is looser than the collection's {}", d.class, c.class));
        }
        let sum = sums.entry(c.id.clone()).or_default();
        sum.0 += 1;
        sum.1 += u64::from(d.chunk_count);
        match (files.get(&d.file_id), s.blob(&d.file_id)?) {
            (Some(f), Some(blob)) => {
                sum.2 += f.bytes;
                let h = super::sha256_hex(&blob);
                if h != d.sha256 || h != f.sha256 || blob.len() as u64 != f.bytes {
                    bad(format!("{name}: content hash or size does not match the stored file"));
                }
            }
            _ => bad(format!("{name}: its file or blob is missing")),
        }
        for i in 0..d.chunk_count {
            let k = store::chunk_key(&d.collection_id, &d.file_id, i);
            expected_chunks.insert(k.clone());
            n_chunks += 1;
            let (text, terms, vector) = s.chunk_raw(&k)?;
            let (Some(text), Some(terms), Some(vector)) = (text, terms, vector) else {
                bad(format!("{name}: chunk {i} lacks its text, postings or vector"));
                continue;
            };
            let text = String::from_utf8_lossy(&text);
            match store::decode_terms(&terms) {
                Some(t) => {
                    sum.3 += u64::from(t.words);
                    if t != analyzer.index_terms(&text) {
                        bad(format!("{name}: chunk {i}: postings differ from the chunk text's terms"));
                    }
                }
                None => bad(format!("{name}: chunk {i}: postings are malformed")),
            }
            match store::decode_vector(&vector) {
                Some(v) if v.len() == c.dims as usize => {
                    let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                    if !(norm.is_finite() && ((norm - 1.0).abs() < 1e-3 || norm == 0.0)) {
                        bad(format!("{name}: chunk {i}: vector is not unit length ({norm})"));
                    }
                }
                Some(v) => bad(format!("{name}: chunk {i}: vector has {} dimensions, the collection {}", v.len(), c.dims)),
                None => bad(format!("{name}: chunk {i}: vector is malformed")),
            }
        }
    }
    let mut orphans = BTreeMap::<&str, u64>::new();
    for k in s.chunk_keys() {
        let (tree, k) = k?;
        if !expected_chunks.contains(&k) {
            *orphans.entry(tree).or_default() += 1;
        }
    }
    for (tree, n) in orphans {
        bad(format!("{n} entries in {tree} belong to no document"));
    }
    for c in colls.values() {
        let (docs, chunks, bytes, words) = sums.get(&c.id).copied().unwrap_or_default();
        if (c.document_count, c.chunk_count, c.bytes, c.total_words) != (docs, chunks, bytes, words) {
            bad(format!(
                "collection {:?} ({}): counts (documents, chunks, bytes, words) are {:?}, its documents add up to {:?}",
                c.name,
                c.id,
                (c.document_count, c.chunk_count, c.bytes, c.total_words),
                (docs, chunks, bytes, words)
            ));
        }
    }
    let (sources, file_docs, names) = s.indexes()?;
    for (c, src, f) in &sources {
        if !docs.iter().any(|d| &d.collection_id == c && &d.file_id == f && &d.source_name == src) {
            bad(format!("source index entry {src:?} of {c} points at no document"));
        }
    }
    if sources.len() != docs.len() {
        bad(format!("{} source index entries for {} documents", sources.len(), docs.len()));
    }
    let fd: BTreeSet<(String, String)> = file_docs.into_iter().map(|(f, c)| (c, f)).collect();
    if fd != doc_keys {
        bad(format!("the file→collection index has {} entries, {} match the {} documents", fd.len(), fd.intersection(&doc_keys).count(), doc_keys.len()));
    }
    for (n, id) in &names {
        if colls.get(id).is_none_or(|c| &c.name != n) {
            bad(format!("name index entry {n:?} points at no collection of that name"));
        }
    }
    if names.len() != colls.len() {
        bad(format!("{} name index entries for {} collections", names.len(), colls.len()));
    }
    r.collections = colls.len() as u64;
    r.documents = docs.len() as u64;
    r.chunks = n_chunks;
    r.files = files.len() as u64;
    Ok(r)
}
