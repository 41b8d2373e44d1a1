//! The in-memory search index of one collection, built from the store's `terms` and
//! `vectors` trees on the first search after a write: an inverted index (term → chunk
//! ordinals with frequencies) for BM25 and a flat row-major matrix of unit vectors for exact
//! cosine similarity.

use std::collections::HashMap;
use std::sync::Arc;

use super::bm25;

/// A chunk's address within its collection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ChunkRef {
    pub file: Arc<str>,
    pub idx: u32,
}

/// The index of one collection.
#[derive(Debug, Default)]
pub(crate) struct CollIndex {
    pub chunks: Vec<ChunkRef>,
    /// Words per chunk (BM25 length).
    pub lens: Vec<u32>,
    pub avg_len: f32,
    pub postings: HashMap<String, Vec<(u32, u32)>>,
    pub dims: usize,
    /// `chunks.len() × dims` floats.
    pub vectors: Vec<f32>,
}

impl CollIndex {
    /// Builds the index by visiting every chunk (see `Store::for_each_chunk`).
    pub fn build(visit: impl FnOnce(&mut dyn FnMut(&str, u32, super::analyze::Terms, Vec<f32>)) -> Result<(), super::RagError>) -> Result<CollIndex, super::RagError> {
        let mut ix = CollIndex::default();
        let mut files: HashMap<String, Arc<str>> = HashMap::new();
        let mut total = 0u64;
        let mut bad_dims = false;
        visit(&mut |file, idx, terms, vector| {
            let ord = ix.chunks.len() as u32;
            let file = files.entry(file.to_string()).or_insert_with(|| Arc::from(file)).clone();
            ix.chunks.push(ChunkRef { file, idx });
            ix.lens.push(terms.words);
            total += u64::from(terms.words);
            for (t, tf) in terms.tf {
                ix.postings.entry(t).or_default().push((ord, tf));
            }
            if ix.dims == 0 {
                ix.dims = vector.len();
            }
            if vector.len() == ix.dims {
                ix.vectors.extend_from_slice(&vector);
            } else {
                bad_dims = true;
                ix.vectors.extend(std::iter::repeat_n(0.0, ix.dims));
            }
        })?;
        if bad_dims {
            return Err(super::RagError::Store("vectors of different dimensions in one collection (run `zonegate rag verify`)".into()));
        }
        ix.avg_len = if ix.chunks.is_empty() { 0.0 } else { total as f32 / ix.chunks.len() as f32 };
        Ok(ix)
    }

    /// BM25 of every chunk that has at least one query term: (ordinal, score), unsorted.
    pub fn bm25(&self, query: &[(String, f32)]) -> Vec<(u32, f32)> {
        let n = self.chunks.len();
        let mut acc: HashMap<u32, f32> = HashMap::new();
        for (term, w) in query {
            let Some(list) = self.postings.get(term) else { continue };
            let idf = bm25::idf(list.len(), n);
            for &(ord, tf) in list {
                *acc.entry(ord).or_insert(0.0) += w * bm25::term_score(idf, tf, self.lens[ord as usize], self.avg_len);
            }
        }
        acc.into_iter().collect()
    }

    /// Cosine similarity of every chunk with the unit vector `q` (dot products; the stored
    /// vectors are unit length): (ordinal, similarity), unsorted. Empty on a dimension mismatch.
    pub fn cosine(&self, q: &[f32]) -> Vec<(u32, f32)> {
        if q.len() != self.dims || self.dims == 0 {
            return Vec::new();
        }
        self.vectors.chunks_exact(self.dims).enumerate().map(|(i, v)| (i as u32, v.iter().zip(q).map(|(a, b)| a * b).sum())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::analyze::Terms;
    use super::*;

    fn ix() -> CollIndex {
        CollIndex::build(|f| {
            f("file-a", 0, Terms { tf: vec![("hund".into(), 2), ("steu".into(), 1)], words: 3 }, vec![1.0, 0.0]);
            f("file-a", 1, Terms { tf: vec![("katz".into(), 1)], words: 1 }, vec![0.0, 1.0]);
            f("file-b", 0, Terms { tf: vec![("hund".into(), 1), ("park".into(), 1), ("platz".into(), 1)], words: 3 }, vec![0.6, 0.8]);
            Ok(())
        })
        .expect("builds")
    }

    #[test]
    fn bm25_ranks_by_frequency_and_rarity() {
        let ix = ix();
        assert!((ix.avg_len - 7.0 / 3.0).abs() < 1e-6);
        let mut r = ix.bm25(&[("hund".into(), 1.0)]);
        r.sort_by(|a, b| b.1.total_cmp(&a.1));
        assert_eq!(r.iter().map(|x| x.0).collect::<Vec<_>>(), vec![0, 2], "tf 2 beats tf 1, chunk 1 has no match");
        let r = ix.bm25(&[("katz".into(), 1.0), ("hund".into(), 1.0)]);
        let katz = r.iter().find(|x| x.0 == 1).map(|x| x.1).unwrap_or(0.0);
        let hund_b = r.iter().find(|x| x.0 == 2).map(|x| x.1).unwrap_or(0.0);
        assert!(katz > hund_b, "rare term in a short chunk wins: {r:?}");
    }

    #[test]
    fn cosine_is_the_dot_product_of_unit_vectors() {
        let ix = ix();
        let mut r = ix.cosine(&[0.0, 1.0]);
        r.sort_by(|a, b| b.1.total_cmp(&a.1));
        assert_eq!(r[0].0, 1);
        assert!((r[1].1 - 0.8).abs() < 1e-6);
        assert!(ix.cosine(&[1.0, 0.0, 0.0]).is_empty());
    }
}
