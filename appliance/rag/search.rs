//! Hybrid search: BM25 and exact cosine per collection, attribute filters applied before
//! ranking, reciprocal rank fusion, ACL checked before anything is read.

use std::collections::HashMap;
use std::sync::Arc;

use super::analyze::Analyzer;
use super::fuse;
use super::index::ChunkRef;
use super::{Caller, Collection, Document, Hit, Rag, RagError, SearchMode, SearchRequest};

/// Candidates taken from each list before fusion.
const CANDIDATES: usize = 100;

type Key = (usize, ChunkRef); // (collection position, chunk)

/// The `n` best (ordinal, score) pairs, best first; ties by chunk address (file id, chunk
/// number), so that the order does not depend on where a chunk sits in the index (an index
/// updated in place orders its chunks otherwise than a fresh build).
fn top(mut s: Vec<(u32, f32)>, n: usize, chunks: &[ChunkRef]) -> Vec<(u32, f32)> {
    let addr = |o: u32| {
        let c = &chunks[o as usize];
        (&c.file, c.idx)
    };
    let cmp = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then_with(|| addr(a.0).cmp(&addr(b.0)));
    if n > 0 && n < s.len() {
        s.select_nth_unstable_by(n - 1, cmp);
        s.truncate(n);
    }
    s.sort_by(cmp);
    s
}

impl Rag {
    /// Searches the collections of `req` the caller may read.
    ///
    /// # Errors
    /// [`RagError::NotFound`] for a collection that does not exist or the caller may not read
    /// (the same answer for both), [`RagError::Invalid`] for `max_results` outside 1..=50, an
    /// empty query or a bad filter, [`RagError::ModelMismatch`] when a collection's vectors
    /// come from another model, [`RagError::Embedding`], [`RagError::Store`].
    pub async fn search(&self, caller: &Caller, req: &SearchRequest) -> Result<Vec<Hit>, RagError> {
        if !(1..=50).contains(&req.max_results) {
            return Err(RagError::Invalid("max_num_results: use 1 to 50".into()));
        }
        if req.query.trim().is_empty() {
            return Err(RagError::Invalid("query: must not be empty".into()));
        }
        if req.collection_ids.is_empty() {
            return Err(RagError::Invalid("vector_store_ids: name at least one vector store".into()));
        }
        if let Some(f) = &req.filter {
            f.validate().map_err(RagError::Invalid)?;
        }
        let mut colls: Vec<Collection> = Vec::new();
        for id in &req.collection_ids {
            let c = self.get_collection(caller, id)?;
            if !colls.iter().any(|x| x.id == c.id) {
                colls.push(c);
            }
        }
        let want_vec = req.mode != SearchMode::Lexical;
        let want_lex = req.mode != SearchMode::Vector;
        let qvec = if want_vec && colls.iter().any(|c| c.chunk_count > 0) {
            let e = self.embedder()?;
            for c in &colls {
                if c.chunk_count > 0 && (c.embedding_model.as_deref() != Some(e.id()) || c.embedding_sha256.as_deref().is_some_and(|s| s != e.sha256())) {
                    return Err(RagError::ModelMismatch(format!(
                        "vector store {:?} was embedded with {:?}, the configured model is {:?}",
                        c.name,
                        c.embedding_model.as_deref().unwrap_or("?"),
                        e.id()
                    )));
                }
            }
            let v = e.embed(std::slice::from_ref(&req.query)).await?;
            v.into_iter().next()
        } else {
            None
        };
        let qterms = if want_lex { Analyzer::default().query_terms(&req.query) } else { Vec::new() };

        // Documents (for filters, classes and hit fields), loaded once per document.
        let mut docs: HashMap<(usize, Arc<str>), Option<Document>> = HashMap::new();
        let mut lex: Vec<(Key, f32)> = Vec::new();
        let mut vec: Vec<(Key, f32)> = Vec::new();
        // Without a filter every candidate is kept, so a partial selection suffices.
        let limit = if req.filter.is_some() { usize::MAX } else { CANDIDATES };
        for (ci, c) in colls.iter().enumerate() {
            if c.chunk_count == 0 {
                continue;
            }
            let ix = self.index(c).await?;
            // Scores and chunk addresses under the read lock; the store is read after it.
            let (lex_scored, vec_scored) = {
                let ix = ix.read().map_err(|_| RagError::Store("search index lock poisoned".into()))?;
                let with_refs = |v: Vec<(u32, f32)>| v.into_iter().map(|(o, s)| (ix.chunks[o as usize].clone(), s)).collect::<Vec<_>>();
                // BM25 over its bound for this query and collection (comparable across both).
                let lex = if want_lex {
                    let bound = ix.bm25_bound(&qterms).max(f32::MIN_POSITIVE);
                    with_refs(top(ix.bm25(&qterms), limit, &ix.chunks)).into_iter().map(|(r, s)| (r, (s / bound).min(1.0))).collect()
                } else {
                    Vec::new()
                };
                let vec = match &qvec {
                    Some(q) => with_refs(top(ix.cosine(q), limit, &ix.chunks)),
                    None => Vec::new(),
                };
                (lex, vec)
            };
            let mut keep = |r: ChunkRef| -> Result<Option<Key>, RagError> {
                let d = match docs.get(&(ci, r.file.clone())) {
                    Some(d) => d.clone(),
                    None => {
                        let d = self.store.document(&c.id, &r.file)?;
                        docs.insert((ci, r.file.clone()), d.clone());
                        d
                    }
                };
                let ok = d.is_some_and(|d| req.filter.as_ref().is_none_or(|f| f.matches(&d.attributes)));
                Ok(ok.then_some((ci, r)))
            };
            for (scored, out) in [(lex_scored, &mut lex), (vec_scored, &mut vec)] {
                let mut n = 0;
                for (r, score) in scored {
                    if n >= CANDIDATES {
                        break;
                    }
                    if let Some(k) = keep(r)? {
                        out.push((k, score));
                        n += 1;
                    }
                }
            }
        }
        let by_score = |v: &mut Vec<(Key, f32)>| v.sort_by(|a, b| b.1.total_cmp(&a.1));
        by_score(&mut lex);
        by_score(&mut vec);
        lex.truncate(CANDIDATES);
        vec.truncate(CANDIDATES);
        let ranked: Vec<(Key, f32)> = match req.mode {
            SearchMode::Lexical => lex,
            SearchMode::Vector => vec.into_iter().map(|(k, s)| (k, s.clamp(0.0, 1.0))).collect(),
            SearchMode::Hybrid => {
                // Ranks only (weighted RRF): BM25 and cosine scales never meet. 1.0 is first in
                // both lists; the best possible counts every list searched, also an empty one,
                // so a hit only the vectors found stays at w / (1 + w).
                let keys = |l: Vec<(Key, f32)>| l.into_iter().map(|x| x.0).collect::<Vec<Key>>();
                let (lex, vec) = (keys(lex), keys(vec));
                let vw = if qvec.is_some() { self.settings.vector_weight } else { 0.0 };
                let best = (1.0 + vw) / (fuse::K + 1.0);
                let lists: Vec<(&[Key], f32)> = [(&lex[..], 1.0), (&vec[..], vw)].into_iter().filter(|(l, _)| !l.is_empty()).collect();
                fuse::rrf(&lists, fuse::K).into_iter().map(|(k, s)| (k, s / best)).collect()
            }
        };
        let mut hits = Vec::new();
        for ((ci, r), score) in ranked {
            if hits.len() >= req.max_results {
                break;
            }
            if req.score_threshold.is_some_and(|t| score < t) {
                continue;
            }
            let c = &colls[ci];
            let Some(Some(d)) = docs.get(&(ci, r.file.clone())) else { continue };
            // A chunk replaced since the index was built is skipped, not shown stale.
            let Some(text) = self.store.chunk_text(&c.id, &r.file, r.idx)? else { continue };
            hits.push(Hit {
                collection_id: c.id.clone(),
                file_id: d.file_id.clone(),
                source_name: d.source_name.clone(),
                chunk_index: r.idx,
                score,
                text,
                class: d.class,
                attributes: d.attributes.clone(),
            });
        }
        Ok(hits)
    }
}
