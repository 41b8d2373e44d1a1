//! The in-memory search indexes of the collections and their upkeep: built once per
//! collection (on its first search, or by [`Rag::warm_up`] at start), then updated in place
//! by every store write through [`Rag::commit`], so that a search after a write costs a
//! search, not a rebuild. A per-collection generation, bumped by every commit, keeps a build
//! that overlapped a write out of the cache.

use std::sync::{Arc, RwLock};

use super::index::{self, CollIndex};
use super::{Collection, Rag, RagError};

impl Rag {
    /// The cached index of a collection; built on first use under the write lock (no ingest
    /// in between), then kept current by every commit (`Rag::commit`).
    pub(super) async fn index(&self, c: &Collection) -> Result<Arc<RwLock<CollIndex>>, RagError> {
        if let Some(ix) = self.cache.lock().ok().and_then(|m| m.get(&c.id).cloned()) {
            return Ok(ix);
        }
        // Removals (which do not take the async lock) bump the generation; a build that
        // overlapped one is used for this search only (its hits of removed documents are
        // dropped later) and not cached.
        let _w = self.write.lock().await;
        if let Some(ix) = self.cache.lock().ok().and_then(|m| m.get(&c.id).cloned()) {
            return Ok(ix);
        }
        let gen = self.generation(&c.id);
        let ix = Arc::new(RwLock::new(CollIndex::build(|f| self.store.for_each_chunk(&c.id, f))?));
        let _g = self.commit_lock.lock().unwrap_or_else(|e| e.into_inner());
        if let Ok(mut m) = self.cache.lock() {
            if self.generation(&c.id) == gen {
                m.insert(c.id.clone(), ix.clone());
            }
        }
        Ok(ix)
    }

    /// Builds the search index of every non-empty collection that has none yet (at start,
    /// so that the first searches do not pay for it); returns how many were built.
    /// Searches and ingests meanwhile wait only for the collection being built.
    ///
    /// # Errors
    /// [`RagError::Store`] for an unreadable store.
    pub async fn warm_up(&self) -> Result<usize, RagError> {
        let mut n = 0;
        for c in self.store.collections()? {
            if c.chunk_count > 0 && !self.cache.lock().is_ok_and(|m| m.contains_key(&c.id)) {
                self.index(&c).await?;
                n += 1;
            }
        }
        Ok(n)
    }

    pub(super) fn generation(&self, collection_id: &str) -> u64 {
        self.generation.lock().ok().and_then(|g| g.get(collection_id).copied()).unwrap_or(0)
    }

    /// Runs a store write and its index updates as one step under the commit lock: `f`
    /// writes to the store, then tells the [`Commit`] what changed per collection.
    pub(super) fn commit<T>(&self, f: impl FnOnce(&Commit<'_>) -> Result<T, RagError>) -> Result<T, RagError> {
        let _g = self.commit_lock.lock().unwrap_or_else(|e| e.into_inner());
        f(&Commit { rag: self })
    }
}

/// What a store write changed, told to the cached indexes (inside [`Rag::commit`]).
pub(super) struct Commit<'a> {
    rag: &'a Rag,
}

impl Commit<'_> {
    /// Bumps the collection's generation (an index build that overlapped this write is not
    /// cached) and applies `op` to its cached index, if any; an index `op` cannot update
    /// (vectors of another dimension) is dropped and rebuilt by the next search.
    pub(super) fn update(&self, collection_id: &str, op: impl FnOnce(&mut index::CollIndex) -> Result<(), index::DimsMismatch>) {
        self.bump(collection_id);
        let cached = self.rag.cache.lock().ok().and_then(|m| m.get(collection_id).cloned());
        if let Some(ix) = cached {
            let ok = ix.write().map(|mut w| op(&mut w).is_ok()).unwrap_or(false);
            if !ok {
                self.drop_index(collection_id);
            }
        }
    }

    /// Forgets the collection's index (deleted, or it cannot be updated).
    pub(super) fn drop_index(&self, collection_id: &str) {
        self.bump(collection_id);
        if let Ok(mut c) = self.rag.cache.lock() {
            c.remove(collection_id);
        }
    }

    fn bump(&self, collection_id: &str) {
        if let Ok(mut g) = self.rag.generation.lock() {
            *g.entry(collection_id.to_string()).or_insert(0) += 1;
        }
    }
}
