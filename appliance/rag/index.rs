//! The in-memory search index of one collection, built from the store's `terms` and
//! `vectors` trees on the first search and then kept up to date by every write (see
//! `Rag::commit`): an inverted index (term → chunk ordinals with frequencies) for BM25 and a
//! flat row-major matrix of unit vectors for exact cosine similarity. Removed chunks become
//! tombstones that every scorer skips — BM25's N, df and average length count live chunks
//! only, so scores equal those of a fresh build — and are compacted away once they are a
//! quarter of the index.

use std::collections::HashMap;
use std::sync::Arc;

use super::analyze::Terms;
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
    /// Tombstones: `dead[ord]` for a removed chunk.
    dead: Vec<bool>,
    /// Tombstones in `dead`.
    n_dead: usize,
    /// Words of the live chunks.
    live_words: u64,
    pub postings: HashMap<String, Vec<(u32, u32)>>,
    pub dims: usize,
    /// `chunks.len() × dims` floats.
    pub vectors: Vec<f32>,
    /// Ordinals of each file's live chunks.
    by_file: HashMap<Arc<str>, Vec<u32>>,
}

/// A document's vectors do not fit the index (another dimension): the caller drops the
/// index, and the next search rebuilds it (and reports the store's problem).
#[derive(Debug)]
pub(crate) struct DimsMismatch;

impl CollIndex {
    /// Builds the index by visiting every chunk (see `Store::for_each_chunk`).
    pub fn build(visit: impl FnOnce(&mut dyn FnMut(&str, u32, Terms, Vec<f32>)) -> Result<(), super::RagError>) -> Result<CollIndex, super::RagError> {
        let mut ix = CollIndex::default();
        let mut files: HashMap<String, Arc<str>> = HashMap::new();
        let mut bad_dims = false;
        visit(&mut |file, idx, terms, vector| {
            let file = files.entry(file.to_string()).or_insert_with(|| Arc::from(file)).clone();
            bad_dims |= ix.push(&file, idx, &terms, &vector).is_err();
        })?;
        if bad_dims {
            return Err(super::RagError::Store("vectors of different dimensions in one collection (run `zonegate rag verify`)".into()));
        }
        Ok(ix)
    }

    /// Appends one chunk.
    fn push(&mut self, file: &Arc<str>, idx: u32, terms: &Terms, vector: &[f32]) -> Result<(), DimsMismatch> {
        if self.dims == 0 {
            self.dims = vector.len();
        }
        let ord = self.chunks.len() as u32;
        self.chunks.push(ChunkRef { file: file.clone(), idx });
        self.lens.push(terms.words);
        self.dead.push(false);
        self.live_words += u64::from(terms.words);
        for (t, tf) in &terms.tf {
            self.postings.entry(t.clone()).or_default().push((ord, *tf));
        }
        self.by_file.entry(file.clone()).or_default().push(ord);
        if vector.len() == self.dims {
            self.vectors.extend_from_slice(vector);
            Ok(())
        } else {
            self.vectors.extend(std::iter::repeat_n(0.0, self.dims));
            Err(DimsMismatch)
        }
    }

    /// Live chunks.
    pub fn live(&self) -> usize {
        self.chunks.len() - self.n_dead
    }

    /// Average words of the live chunks (BM25's avgdl).
    pub fn avg_len(&self) -> f32 {
        if self.live() == 0 {
            0.0
        } else {
            self.live_words as f32 / self.live() as f32
        }
    }

    /// Adds the chunks of one document (after [`CollIndex::remove_file`] for a replacement).
    ///
    /// # Errors
    /// [`DimsMismatch`] when a vector has another dimension than the index's.
    pub fn add_file(&mut self, file: &str, chunks: &[(&Terms, &[f32])]) -> Result<(), DimsMismatch> {
        let file: Arc<str> = Arc::from(file);
        let mut r = Ok(());
        for (idx, (terms, vector)) in chunks.iter().enumerate() {
            if self.push(&file, idx as u32, terms, vector).is_err() {
                r = Err(DimsMismatch);
            }
        }
        r
    }

    /// Tombstones every chunk of `file`; compacts when a quarter of the index is dead.
    /// Returns the chunks removed.
    pub fn remove_file(&mut self, file: &str) -> usize {
        let Some(ords) = self.by_file.remove(file) else { return 0 };
        for &o in &ords {
            self.dead[o as usize] = true;
            self.live_words -= u64::from(self.lens[o as usize]);
        }
        self.n_dead += ords.len();
        if self.n_dead * 4 >= self.chunks.len() {
            self.compact();
        }
        ords.len()
    }

    /// Drops the tombstones: live chunks get new ordinals in their old order.
    fn compact(&mut self) {
        let mut map = vec![u32::MAX; self.chunks.len()];
        let mut next = 0u32;
        for (o, dead) in self.dead.iter().enumerate() {
            if !dead {
                map[o] = next;
                next += 1;
            }
        }
        let keep = |o: usize| !self.dead[o];
        let chunks: Vec<ChunkRef> = self.chunks.iter().enumerate().filter(|(o, _)| keep(*o)).map(|(_, c)| c.clone()).collect();
        let lens: Vec<u32> = self.lens.iter().enumerate().filter(|(o, _)| keep(*o)).map(|(_, l)| *l).collect();
        let mut vectors = Vec::with_capacity(chunks.len() * self.dims);
        if self.dims > 0 {
            for (o, v) in self.vectors.chunks_exact(self.dims).enumerate() {
                if keep(o) {
                    vectors.extend_from_slice(v);
                }
            }
        }
        for list in self.postings.values_mut() {
            list.retain(|(o, _)| map[*o as usize] != u32::MAX);
            list.iter_mut().for_each(|(o, _)| *o = map[*o as usize]);
        }
        self.postings.retain(|_, l| !l.is_empty());
        for ords in self.by_file.values_mut() {
            ords.iter_mut().for_each(|o| *o = map[*o as usize]);
        }
        self.dead = vec![false; chunks.len()];
        self.n_dead = 0;
        (self.chunks, self.lens, self.vectors) = (chunks, lens, vectors);
    }

    /// BM25 of every chunk that has at least one query term: (ordinal, score), unsorted.
    pub fn bm25(&self, query: &[(String, f32)]) -> Vec<(u32, f32)> {
        let (n, avg) = (self.live(), self.avg_len());
        let mut acc: HashMap<u32, f32> = HashMap::new();
        for (term, w) in query {
            let Some(list) = self.postings.get(term) else { continue };
            let df = if self.n_dead == 0 { list.len() } else { list.iter().filter(|(o, _)| !self.dead[*o as usize]).count() };
            if df == 0 {
                continue;
            }
            let idf = bm25::idf(df, n);
            for &(ord, tf) in list {
                if !self.dead[ord as usize] {
                    *acc.entry(ord).or_insert(0.0) += w * bm25::term_score(idf, tf, self.lens[ord as usize], avg);
                }
            }
        }
        acc.into_iter().collect()
    }

    /// The BM25 a live chunk of average length scores when it holds every query term once:
    /// `Σ w · idf(df)` over the query terms (a term the collection lacks counts with
    /// df = 0). Dividing by it makes scores comparable across queries and collections:
    /// 1 means "every term present", a match on a few compound grams of one word stays
    /// small. 0 for an empty query or collection.
    pub fn bm25_bound(&self, query: &[(String, f32)]) -> f32 {
        let n = self.live();
        if n == 0 {
            return 0.0;
        }
        query
            .iter()
            .map(|(term, w)| {
                let df = self.postings.get(term).map_or(0, |list| if self.n_dead == 0 { list.len() } else { list.iter().filter(|(o, _)| !self.dead[*o as usize]).count() });
                w * bm25::idf(df, n)
            })
            .sum()
    }

    /// Cosine similarity of every chunk with the unit vector `q` (dot products; the stored
    /// vectors are unit length): (ordinal, similarity), unsorted. Empty on a dimension mismatch.
    pub fn cosine(&self, q: &[f32]) -> Vec<(u32, f32)> {
        if q.len() != self.dims || self.dims == 0 {
            return Vec::new();
        }
        self.vectors.chunks_exact(self.dims).enumerate().filter(|(i, _)| !self.dead[*i]).map(|(i, v)| (i as u32, v.iter().zip(q).map(|(a, b)| a * b).sum())).collect()
    }
}

#[cfg(test)]
mod tests {
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
        assert!((ix.avg_len() - 7.0 / 3.0).abs() < 1e-6);
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

    fn sorted(v: Vec<(u32, f32)>, ix: &CollIndex) -> Vec<(String, u32, f32)> {
        let mut v: Vec<(String, u32, f32)> = v.into_iter().map(|(o, s)| (ix.chunks[o as usize].file.to_string(), ix.chunks[o as usize].idx, s)).collect();
        v.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
        v
    }

    /// A document's chunks: (terms, vector) each.
    type Doc = Vec<(Terms, Vec<f32>)>;

    /// Updating in place (replace, remove, add, with and without compaction) scores exactly
    /// like building afresh from what is left.
    #[test]
    fn updates_in_place_score_like_a_fresh_build() {
        let t = |pairs: &[(&str, u32)], words| Terms { tf: pairs.iter().map(|(s, n)| (s.to_string(), *n)).collect(), words };
        let docs: Vec<(&str, Doc)> = vec![
            ("file-a", vec![(t(&[("hund", 2), ("steu", 1)], 3), vec![1.0, 0.0]), (t(&[("katz", 1)], 1), vec![0.0, 1.0])]),
            ("file-b", vec![(t(&[("hund", 1), ("park", 1)], 2), vec![0.6, 0.8])]),
            ("file-c", vec![(t(&[("park", 3)], 5), vec![0.8, 0.6]), (t(&[("hund", 1)], 4), vec![0.0, 1.0])]),
        ];
        let fresh = |keep: &[(&str, &Doc)]| {
            CollIndex::build(|f| {
                for (file, chunks) in keep {
                    for (i, (terms, v)) in chunks.iter().enumerate() {
                        f(file, i as u32, terms.clone(), v.clone());
                    }
                }
                Ok(())
            })
            .expect("builds")
        };
        let add = |ix: &mut CollIndex, file: &str, chunks: &Doc| {
            let refs: Vec<(&Terms, &[f32])> = chunks.iter().map(|(t, v)| (t, v.as_slice())).collect();
            ix.add_file(file, &refs).expect("dims");
        };
        let mut ix = CollIndex::default();
        for (f, c) in &docs {
            add(&mut ix, f, c);
        }
        let q = [("hund".to_string(), 1.0), ("park".to_string(), 1.0)];
        let all: Vec<(&str, &Doc)> = docs.iter().map(|(f, c)| (*f, c)).collect();
        assert_eq!(sorted(ix.bm25(&q), &ix), sorted(fresh(&all).bm25(&q), &fresh(&all)));
        // Remove b (1 of 5 chunks dead: no compaction yet), then a (3 of 5: compaction).
        assert_eq!(ix.remove_file("file-b"), 1);
        assert_eq!((ix.live(), ix.n_dead), (4, 1));
        let left = [all[0], all[2]];
        assert_eq!(sorted(ix.bm25(&q), &ix), sorted(fresh(&left).bm25(&q), &fresh(&left)));
        assert_eq!(sorted(ix.cosine(&[0.0, 1.0]), &ix), sorted(fresh(&left).cosine(&[0.0, 1.0]), &fresh(&left)));
        assert_eq!(ix.remove_file("file-a"), 2);
        assert_eq!((ix.live(), ix.n_dead, ix.chunks.len()), (2, 0, 2), "compacted");
        let left = [all[2]];
        assert_eq!(sorted(ix.bm25(&q), &ix), sorted(fresh(&left).bm25(&q), &fresh(&left)));
        assert_eq!(sorted(ix.cosine(&[0.0, 1.0]), &ix), sorted(fresh(&left).cosine(&[0.0, 1.0]), &fresh(&left)));
        // Replace c with new content and bring a back.
        assert_eq!(ix.remove_file("file-c"), 2);
        let c2 = vec![(t(&[("katz", 2)], 2), vec![0.0, 1.0])];
        add(&mut ix, "file-c", &c2);
        add(&mut ix, "file-a", &docs[0].1);
        let now = [("file-c", &c2), all[0]];
        let q2 = [("katz".to_string(), 1.0), ("hund".to_string(), 0.5)];
        assert_eq!(sorted(ix.bm25(&q2), &ix), sorted(fresh(&now).bm25(&q2), &fresh(&now)));
        assert_eq!(ix.remove_file("file-x"), 0);
        let wrong = [(t(&[("x", 1)], 1), vec![1.0, 0.0, 0.0])];
        let refs: Vec<(&Terms, &[f32])> = wrong.iter().map(|(t, v)| (t, v.as_slice())).collect();
        assert!(ix.add_file("file-d", &refs).is_err(), "another dimension");
    }
}
