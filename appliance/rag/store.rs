//! The sled store: the only file that knows sled (DESIGN.md: sled types stay here).
//!
//! Trees and keys (`\0` separates ids, which never contain it; `idx` is a big-endian u32):
//! - `meta`: `schema_version` → u32 BE ([`SCHEMA_VERSION`]).
//! - `collections`: collection id → JSON [`Collection`] (counts, model, dims included);
//!   `names`: name → collection id.
//! - `files`: file id → JSON [`StoredFile`]; `blobs`: file id → bytes;
//!   `file_docs`: `file\0collection` → empty (which collections hold a file).
//! - `documents`: `collection\0file` → JSON [`Document`];
//!   `sources`: `collection\0source name` → file id.
//! - `chunks`: `collection\0file\0idx` → chunk text (UTF-8);
//!   `terms`: same key → the chunk's postings (analyzer terms with frequencies and the word
//!   count, see [`encode_terms`]); `vectors`: same key → f32 little-endian vector.
//!
//! Every document write (add, replace, remove) is ONE multi-tree sled transaction, so a
//! reader or a restart after SIGKILL sees either the old or the new document, never a mix.

use sled::transaction::{ConflictableTransactionError as Cte, TransactionError, TransactionalTree};
use sled::Transactional as _;

use super::analyze::Terms;
use super::{Collection, Document, RagError, StoredFile};

/// Version of the layout above; a store of another version is refused.
pub const SCHEMA_VERSION: u32 = 1;

/// A chunk's raw (text, postings, vector) records, each None when missing.
pub(crate) type RawChunk = (Option<Vec<u8>>, Option<Vec<u8>>, Option<Vec<u8>>);

/// One chunk ready to be written.
#[derive(Debug, Clone)]
pub(crate) struct ChunkData {
    pub text: String,
    pub terms: Terms,
    pub vector: Vec<f32>,
}

/// A document write: the document, optionally its (new) file and blob, its chunks, and the
/// model that made the vectors (`id`, `sha256`, dimension).
pub(crate) struct DocWrite<'a> {
    pub doc: &'a Document,
    pub file: Option<(&'a StoredFile, &'a [u8])>,
    pub chunks: &'a [ChunkData],
    pub model: (&'a str, &'a str, u32),
}

pub(crate) struct Store {
    db: sled::Db,
    meta: sled::Tree,
    collections: sled::Tree,
    names: sled::Tree,
    files: sled::Tree,
    blobs: sled::Tree,
    file_docs: sled::Tree,
    documents: sled::Tree,
    sources: sled::Tree,
    chunks: sled::Tree,
    terms: sled::Tree,
    vectors: sled::Tree,
}

fn se(e: sled::Error) -> RagError {
    RagError::Store(e.to_string())
}
fn je(e: serde_json::Error) -> RagError {
    RagError::Store(format!("corrupt record: {e}"))
}
fn tx_err(e: TransactionError<RagError>) -> RagError {
    match e {
        TransactionError::Abort(e) => e,
        TransactionError::Storage(e) => se(e),
    }
}
fn abort<T>(e: RagError) -> Result<T, Cte<RagError>> {
    Err(Cte::Abort(e))
}

pub(crate) fn key2(a: &str, b: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(a.len() + b.len() + 1);
    k.extend_from_slice(a.as_bytes());
    k.push(0);
    k.extend_from_slice(b.as_bytes());
    k
}
fn prefix(a: &str) -> Vec<u8> {
    let mut k = a.as_bytes().to_vec();
    k.push(0);
    k
}
pub(crate) fn chunk_key(coll: &str, file: &str, idx: u32) -> Vec<u8> {
    let mut k = key2(coll, file);
    k.push(0);
    k.extend_from_slice(&idx.to_be_bytes());
    k
}
/// Splits a chunk key into (collection, file, idx).
pub(crate) fn split_chunk_key(k: &[u8]) -> Option<(String, String, u32)> {
    if k.len() < 6 {
        return None;
    }
    let (head, idx) = k.split_at(k.len() - 4);
    let head = head.strip_suffix(&[0])?;
    let mut parts = head.splitn(2, |b| *b == 0);
    let coll = std::str::from_utf8(parts.next()?).ok()?.to_string();
    let file = std::str::from_utf8(parts.next()?).ok()?.to_string();
    Some((coll, file, u32::from_be_bytes(idx.try_into().ok()?)))
}

/// Postings of one chunk: `words` (u32 LE), then per term: length (u16 LE), UTF-8 bytes,
/// frequency (u32 LE).
pub(crate) fn encode_terms(t: &Terms) -> Vec<u8> {
    let mut v = Vec::with_capacity(4 + t.tf.len() * 12);
    v.extend_from_slice(&t.words.to_le_bytes());
    for (term, tf) in &t.tf {
        let b = &term.as_bytes()[..term.len().min(u16::MAX as usize)];
        v.extend_from_slice(&(b.len() as u16).to_le_bytes());
        v.extend_from_slice(b);
        v.extend_from_slice(&tf.to_le_bytes());
    }
    v
}

/// Inverse of [`encode_terms`]; None when malformed.
pub(crate) fn decode_terms(b: &[u8]) -> Option<Terms> {
    let words = u32::from_le_bytes(b.get(..4)?.try_into().ok()?);
    let mut tf = Vec::new();
    let mut i = 4;
    while i < b.len() {
        let n = u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?) as usize;
        let term = std::str::from_utf8(b.get(i + 2..i + 2 + n)?).ok()?.to_string();
        let f = u32::from_le_bytes(b.get(i + 2 + n..i + 6 + n)?.try_into().ok()?);
        tf.push((term, f));
        i += 6 + n;
    }
    Some(Terms { tf, words })
}

pub(crate) fn encode_vector(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
pub(crate) fn decode_vector(b: &[u8]) -> Option<Vec<f32>> {
    (b.len() % 4 == 0).then(|| b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
}

/// The transactional view of the document trees.
struct Tx<'a> {
    collections: &'a TransactionalTree,
    files: &'a TransactionalTree,
    blobs: &'a TransactionalTree,
    file_docs: &'a TransactionalTree,
    documents: &'a TransactionalTree,
    sources: &'a TransactionalTree,
    chunks: &'a TransactionalTree,
    terms: &'a TransactionalTree,
    vectors: &'a TransactionalTree,
}

type TxResult<T> = Result<T, Cte<RagError>>;

impl Tx<'_> {
    fn json<T: serde::de::DeserializeOwned>(v: Option<sled::IVec>) -> TxResult<Option<T>> {
        match v {
            None => Ok(None),
            Some(b) => serde_json::from_slice(&b).map(Some).or_else(|e| abort(je(e))),
        }
    }
    fn put_json<T: serde::Serialize>(t: &TransactionalTree, k: &[u8], v: &T) -> TxResult<()> {
        let b = serde_json::to_vec(v).or_else(|e| abort(je(e)))?;
        t.insert(k, b)?;
        Ok(())
    }
    /// Removes a document with its chunks and indexes, and takes it out of `c`'s counts.
    fn remove_doc(&self, c: &mut Collection, old: &Document) -> TxResult<()> {
        let (coll, file) = (&old.collection_id, &old.file_id);
        for i in 0..old.chunk_count {
            let k = chunk_key(coll, file, i);
            if let Some(t) = self.terms.remove(k.as_slice())? {
                c.total_words = c.total_words.saturating_sub(decode_terms(&t).map_or(0, |t| u64::from(t.words)));
            }
            self.chunks.remove(k.as_slice())?;
            self.vectors.remove(k.as_slice())?;
        }
        self.documents.remove(key2(coll, file))?;
        self.sources.remove(key2(coll, &old.source_name))?;
        self.file_docs.remove(key2(file, coll))?;
        let bytes = Self::json::<StoredFile>(self.files.get(file.as_bytes())?)?.map_or(0, |f| f.bytes);
        c.document_count = c.document_count.saturating_sub(1);
        c.chunk_count = c.chunk_count.saturating_sub(u64::from(old.chunk_count));
        c.bytes = c.bytes.saturating_sub(bytes);
        Ok(())
    }
}

macro_rules! with_tx {
    ($s:expr, |$tx:ident| $body:expr) => {
        (&$s.collections, &$s.files, &$s.blobs, &$s.file_docs, &$s.documents, &$s.sources, &$s.chunks, &$s.terms, &$s.vectors)
            .transaction(|(collections, files, blobs, file_docs, documents, sources, chunks, terms, vectors)| {
                let $tx = Tx { collections, files, blobs, file_docs, documents, sources, chunks, terms, vectors };
                $body
            })
            .map_err(tx_err)
    };
}

impl Store {
    /// Opens or creates the store; checks the schema version; finishes interrupted
    /// collection deletions.
    pub fn open(dir: &std::path::Path) -> Result<Store, RagError> {
        std::fs::create_dir_all(dir).map_err(|e| RagError::Store(format!("cannot create {}: {e}", dir.display())))?;
        let db = sled::Config::new().path(dir).open().map_err(|e| match e {
            sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("lock") => {
                RagError::Store(format!("the RAG store {} is in use by another process (is `zonegate serve` running?): {io}", dir.display()))
            }
            e => RagError::Store(format!("cannot open the RAG store {}: {e}", dir.display())),
        })?;
        let t = |n: &str| db.open_tree(n).map_err(se);
        let s = Store {
            meta: t("meta")?,
            collections: t("collections")?,
            names: t("names")?,
            files: t("files")?,
            blobs: t("blobs")?,
            file_docs: t("file_docs")?,
            documents: t("documents")?,
            sources: t("sources")?,
            chunks: t("chunks")?,
            terms: t("terms")?,
            vectors: t("vectors")?,
            db,
        };
        match s.schema_version()? {
            None => {
                s.meta.insert("schema_version", &SCHEMA_VERSION.to_be_bytes()).map_err(se)?;
                s.db.flush().map_err(se)?;
            }
            Some(SCHEMA_VERSION) => {}
            Some(v) => return Err(RagError::Store(format!("{} holds RAG schema version {v}; this zonegate reads version {SCHEMA_VERSION}", dir.display()))),
        }
        s.sweep_deleted_collections()?;
        Ok(s)
    }

    pub fn schema_version(&self) -> Result<Option<u32>, RagError> {
        Ok(self.meta.get("schema_version").map_err(se)?.and_then(|v| v.as_ref().try_into().ok().map(u32::from_be_bytes)))
    }

    pub fn flush(&self) -> Result<(), RagError> {
        self.db.flush().map(|_| ()).map_err(se)
    }

    fn get_json<T: serde::de::DeserializeOwned>(tree: &sled::Tree, k: &[u8]) -> Result<Option<T>, RagError> {
        tree.get(k).map_err(se)?.map(|b| serde_json::from_slice(&b).map_err(je)).transpose()
    }
    fn all_json<T: serde::de::DeserializeOwned>(it: sled::Iter) -> Result<Vec<T>, RagError> {
        it.map(|r| r.map_err(se).and_then(|(_, v)| serde_json::from_slice(&v).map_err(je))).collect()
    }

    // ---- collections ----

    /// Inserts a new collection; false when the name is taken.
    pub fn create_collection(&self, c: &Collection) -> Result<bool, RagError> {
        let body = serde_json::to_vec(c).map_err(je)?;
        (&self.collections, &self.names)
            .transaction(|(cs, ns)| {
                if ns.get(c.name.as_bytes())?.is_some() {
                    return Ok(false);
                }
                ns.insert(c.name.as_bytes(), c.id.as_bytes())?;
                cs.insert(c.id.as_bytes(), body.clone())?;
                Ok(true)
            })
            .map_err(|e: TransactionError<RagError>| tx_err(e))
    }

    pub fn collection(&self, id: &str) -> Result<Option<Collection>, RagError> {
        Self::get_json(&self.collections, id.as_bytes())
    }

    pub fn collection_by_name(&self, name: &str) -> Result<Option<Collection>, RagError> {
        match self.names.get(name.as_bytes()).map_err(se)? {
            Some(id) => self.collection(&String::from_utf8_lossy(&id)),
            None => Ok(None),
        }
    }

    pub fn collections(&self) -> Result<Vec<Collection>, RagError> {
        Self::all_json(self.collections.iter())
    }

    /// Removes the collection record (one transaction: it disappears at once), then its
    /// documents, chunks and indexes.
    pub fn delete_collection(&self, id: &str) -> Result<(), RagError> {
        let Some(c) = self.collection(id)? else { return Ok(()) };
        (&self.collections, &self.names)
            .transaction(|(cs, ns)| {
                cs.remove(id.as_bytes())?;
                ns.remove(c.name.as_bytes())?;
                Ok(())
            })
            .map_err(|e: TransactionError<RagError>| tx_err(e))?;
        self.sweep_collection(id)
    }

    /// Test hook: a delete of collection `id` killed after its record and its documents
    /// went, before the chunk trees (what a SIGKILL during `DELETE` can leave).
    #[cfg(test)]
    pub(crate) fn delete_collection_killed_midway(&self, id: &str) -> Result<(), RagError> {
        let Some(c) = self.collection(id)? else { return Ok(()) };
        self.collections.remove(id.as_bytes()).map_err(se)?;
        self.names.remove(c.name.as_bytes()).map_err(se)?;
        let mut batch = sled::Batch::default();
        for r in self.documents.scan_prefix(prefix(id)).keys() {
            batch.remove(r.map_err(se)?);
        }
        self.documents.apply_batch(batch).map_err(se)?;
        self.db.flush().map_err(se)?;
        Ok(())
    }

    /// Deletes everything keyed under a collection that no longer exists.
    fn sweep_collection(&self, id: &str) -> Result<(), RagError> {
        let p = prefix(id);
        for r in self.documents.scan_prefix(&p) {
            let (_, v) = r.map_err(se)?;
            if let Ok(d) = serde_json::from_slice::<Document>(&v) {
                self.file_docs.remove(key2(&d.file_id, id)).map_err(se)?;
            }
        }
        for tree in [&self.documents, &self.sources, &self.chunks, &self.terms, &self.vectors] {
            let mut batch = sled::Batch::default();
            for r in tree.scan_prefix(&p).keys() {
                batch.remove(r.map_err(se)?);
            }
            tree.apply_batch(batch).map_err(se)?;
        }
        Ok(())
    }

    /// Finishes deletions that a crash interrupted: anything keyed under a collection that
    /// is gone, in every collection-keyed tree (a kill can land between the trees of
    /// [`Store::sweep_collection`]), and `file_docs` links to such collections. Visits one
    /// key per collection prefix per tree, plus the `file_docs` keys.
    fn sweep_deleted_collections(&self) -> Result<(), RagError> {
        let mut gone = std::collections::BTreeSet::new();
        for tree in [&self.documents, &self.sources, &self.chunks, &self.terms, &self.vectors] {
            let mut from: Vec<u8> = Vec::new();
            while let Some(r) = tree.range(from.clone()..).next() {
                let (k, _) = r.map_err(se)?;
                let coll = k.split(|b| *b == 0).next().unwrap_or_default().to_vec();
                if !self.collections.contains_key(&coll).map_err(se)? {
                    gone.insert(String::from_utf8_lossy(&coll).into_owned());
                }
                // The first key after every `coll\0…` key.
                from = coll;
                from.push(1);
            }
        }
        for c in &gone {
            log::warn!("RAG store: finishing the deletion of collection {c}");
            self.sweep_collection(c)?;
        }
        let mut stale = sled::Batch::default();
        let mut n = 0;
        for r in self.file_docs.iter().keys() {
            let k = r.map_err(se)?;
            let coll = k.splitn(2, |b| *b == 0).nth(1).unwrap_or_default();
            if !self.collections.contains_key(coll).map_err(se)? {
                stale.remove(k);
                n += 1;
            }
        }
        if n > 0 {
            log::warn!("RAG store: removing {n} file links to deleted collections");
            self.file_docs.apply_batch(stale).map_err(se)?;
        }
        Ok(())
    }

    // ---- files ----

    pub fn put_file(&self, f: &StoredFile, data: &[u8]) -> Result<(), RagError> {
        let body = serde_json::to_vec(f).map_err(je)?;
        (&self.files, &self.blobs)
            .transaction(|(fs, bs)| {
                bs.insert(f.id.as_bytes(), data)?;
                fs.insert(f.id.as_bytes(), body.clone())?;
                Ok(())
            })
            .map_err(|e: TransactionError<RagError>| tx_err(e))
    }

    pub fn file(&self, id: &str) -> Result<Option<StoredFile>, RagError> {
        Self::get_json(&self.files, id.as_bytes())
    }

    pub fn files(&self) -> Result<Vec<StoredFile>, RagError> {
        Self::all_json(self.files.iter())
    }

    pub fn blob(&self, id: &str) -> Result<Option<Vec<u8>>, RagError> {
        Ok(self.blobs.get(id.as_bytes()).map_err(se)?.map(|v| v.to_vec()))
    }

    /// Ids of the collections that hold the file as a document.
    pub fn collections_of_file(&self, file: &str) -> Result<Vec<String>, RagError> {
        let p = prefix(file);
        self.file_docs
            .scan_prefix(&p)
            .keys()
            .map(|r| r.map_err(se).map(|k| String::from_utf8_lossy(&k[p.len()..]).into_owned()))
            .collect()
    }

    /// Removes the file's documents from every collection and then the file, all in one
    /// transaction.
    pub fn delete_file(&self, file: &str) -> Result<(), RagError> {
        let colls = self.collections_of_file(file)?;
        with_tx!(self, |tx| {
            for cid in &colls {
                let Some(mut c) = Tx::json::<Collection>(tx.collections.get(cid.as_bytes())?)? else { continue };
                if let Some(old) = Tx::json::<Document>(tx.documents.get(key2(cid, file))?)? {
                    tx.remove_doc(&mut c, &old)?;
                    Tx::put_json(tx.collections, cid.as_bytes(), &c)?;
                }
            }
            tx.files.remove(file.as_bytes())?;
            tx.blobs.remove(file.as_bytes())?;
            Ok(())
        })
    }

    // ---- documents ----

    pub fn document(&self, coll: &str, file: &str) -> Result<Option<Document>, RagError> {
        Self::get_json(&self.documents, &key2(coll, file))
    }

    pub fn document_by_source(&self, coll: &str, source: &str) -> Result<Option<Document>, RagError> {
        match self.sources.get(key2(coll, source)).map_err(se)? {
            Some(f) => self.document(coll, &String::from_utf8_lossy(&f)),
            None => Ok(None),
        }
    }

    pub fn documents(&self, coll: &str) -> Result<Vec<Document>, RagError> {
        Self::all_json(self.documents.scan_prefix(prefix(coll)))
    }

    /// Writes (adds or replaces) one document in one transaction. Refuses, with
    /// [`RagError::ModelMismatch`], vectors of another model than the collection's.
    pub fn write_document(&self, w: &DocWrite<'_>) -> Result<Collection, RagError> {
        let (coll, file) = (&w.doc.collection_id, &w.doc.file_id);
        let file_body = w.file.map(|(f, _)| serde_json::to_vec(f)).transpose().map_err(je)?;
        let encoded: Vec<(Vec<u8>, Vec<u8>)> = w.chunks.iter().map(|c| (encode_terms(&c.terms), encode_vector(&c.vector))).collect();
        let (model, sha, dims) = w.model;
        with_tx!(self, |tx| {
            let Some(mut c) = Tx::json::<Collection>(tx.collections.get(coll.as_bytes())?)? else {
                return abort(RagError::NotFound(format!("vector store {coll:?}")));
            };
            if let Some(old) = Tx::json::<Document>(tx.documents.get(key2(coll, file))?)? {
                tx.remove_doc(&mut c, &old)?;
            }
            if c.document_count == 0 || c.embedding_model.is_none() {
                c.embedding_model = Some(model.to_string());
                c.embedding_sha256 = Some(sha.to_string());
                c.dims = dims;
            } else if c.embedding_model.as_deref() != Some(model) || c.embedding_sha256.as_deref().is_some_and(|s| s != sha) || c.dims != dims {
                return abort(RagError::ModelMismatch(format!(
                    "vector store {:?} holds vectors of the embedding model {:?}; the configured model is {model:?} (SHA-256 {sha}); re-ingest into a new collection",
                    c.name,
                    c.embedding_model.as_deref().unwrap_or("?")
                )));
            }
            if let (Some((f, data)), Some(body)) = (w.file, &file_body) {
                tx.blobs.insert(f.id.as_bytes(), data)?;
                tx.files.insert(f.id.as_bytes(), body.clone())?;
            }
            let bytes = Tx::json::<StoredFile>(tx.files.get(file.as_bytes())?)?.map_or(0, |f| f.bytes);
            for (i, (ch, (terms, vector))) in w.chunks.iter().zip(&encoded).enumerate() {
                let k = chunk_key(coll, file, i as u32);
                tx.chunks.insert(k.as_slice(), ch.text.as_bytes())?;
                tx.terms.insert(k.as_slice(), terms.as_slice())?;
                tx.vectors.insert(k.as_slice(), vector.as_slice())?;
                c.total_words += u64::from(ch.terms.words);
            }
            Tx::put_json(tx.documents, &key2(coll, file), w.doc)?;
            tx.sources.insert(key2(coll, &w.doc.source_name), file.as_bytes())?;
            tx.file_docs.insert(key2(file, coll), &[])?;
            c.document_count += 1;
            c.chunk_count += w.chunks.len() as u64;
            c.bytes += bytes;
            Tx::put_json(tx.collections, coll.as_bytes(), &c)?;
            Ok(c.clone())
        })
    }

    /// Removes one document in one transaction; false when there is none.
    pub fn remove_document(&self, coll: &str, file: &str) -> Result<bool, RagError> {
        with_tx!(self, |tx| {
            let Some(mut c) = Tx::json::<Collection>(tx.collections.get(coll.as_bytes())?)? else { return Ok(false) };
            let Some(old) = Tx::json::<Document>(tx.documents.get(key2(coll, file))?)? else { return Ok(false) };
            tx.remove_doc(&mut c, &old)?;
            Tx::put_json(tx.collections, coll.as_bytes(), &c)?;
            Ok(true)
        })
    }

    // ---- reading chunks ----

    pub fn chunk_text(&self, coll: &str, file: &str, idx: u32) -> Result<Option<String>, RagError> {
        Ok(self.chunks.get(chunk_key(coll, file, idx)).map_err(se)?.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Calls `f(file, idx, terms, vector)` for every chunk of a collection, in key order.
    /// The caller must exclude concurrent writes (the store's write lock).
    pub fn for_each_chunk(&self, coll: &str, mut f: impl FnMut(&str, u32, Terms, Vec<f32>)) -> Result<(), RagError> {
        let p = prefix(coll);
        let mut vecs = self.vectors.scan_prefix(&p);
        for r in self.terms.scan_prefix(&p) {
            let (k, t) = r.map_err(se)?;
            let (vk, v) = vecs.next().ok_or_else(|| RagError::Store("a chunk has no vector (run `zonegate rag verify`)".into()))?.map_err(se)?;
            if k != vk {
                return Err(RagError::Store("postings and vectors disagree (run `zonegate rag verify`)".into()));
            }
            let (Some((_, file, idx)), Some(terms), Some(vector)) = (split_chunk_key(&k), decode_terms(&t), decode_vector(&v)) else {
                return Err(RagError::Store("malformed chunk record (run `zonegate rag verify`)".into()));
            };
            f(&file, idx, terms, vector);
        }
        Ok(())
    }

    /// Every key of the chunk-keyed trees, for verify: (tree name, key).
    pub fn chunk_keys(&self) -> impl Iterator<Item = Result<(&'static str, Vec<u8>), RagError>> + '_ {
        [("chunks", &self.chunks), ("terms", &self.terms), ("vectors", &self.vectors)]
            .into_iter()
            .flat_map(|(n, t)| t.iter().keys().map(move |r| r.map(|k| (n, k.to_vec())).map_err(se)))
    }

    /// Raw chunk record for verify: (text, terms, vector), each None when missing.
    pub fn chunk_raw(&self, key: &[u8]) -> Result<RawChunk, RagError> {
        let g = |t: &sled::Tree| t.get(key).map(|v| v.map(|v| v.to_vec())).map_err(se);
        Ok((g(&self.chunks)?, g(&self.terms)?, g(&self.vectors)?))
    }

    /// All documents of all collections, for verify.
    pub fn all_documents(&self) -> Result<Vec<Document>, RagError> {
        Self::all_json(self.documents.iter())
    }

    /// Index entries for verify: (`sources` pairs (collection, source, file), `file_docs` pairs (file, collection), name → id).
    #[allow(clippy::type_complexity)]
    pub fn indexes(&self) -> Result<(Vec<(String, String, String)>, Vec<(String, String)>, Vec<(String, String)>), RagError> {
        let split = |k: &[u8]| {
            let mut p = k.splitn(2, |b| *b == 0);
            let a = String::from_utf8_lossy(p.next().unwrap_or_default()).into_owned();
            let b = String::from_utf8_lossy(p.next().unwrap_or_default()).into_owned();
            (a, b)
        };
        let mut sources = Vec::new();
        for r in self.sources.iter() {
            let (k, v) = r.map_err(se)?;
            let (c, s) = split(&k);
            sources.push((c, s, String::from_utf8_lossy(&v).into_owned()));
        }
        let file_docs = self.file_docs.iter().keys().map(|r| r.map_err(se).map(|k| split(&k))).collect::<Result<_, _>>()?;
        let names = self
            .names
            .iter()
            .map(|r| r.map_err(se).map(|(k, v)| (String::from_utf8_lossy(&k).into_owned(), String::from_utf8_lossy(&v).into_owned())))
            .collect::<Result<_, _>>()?;
        Ok((sources, file_docs, names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_encodings_round_trip() {
        let k = chunk_key("vs_1", "file-2", 258);
        assert_eq!(split_chunk_key(&k), Some(("vs_1".into(), "file-2".into(), 258)));
        let t = Terms { tf: vec![("#park".into(), 2), ("strass".into(), 1)], words: 7 };
        assert_eq!(decode_terms(&encode_terms(&t)), Some(t));
        assert_eq!(decode_terms(&[1, 0]), None);
        let v = vec![0.5f32, -1.25, 3.0];
        assert_eq!(decode_vector(&encode_vector(&v)), Some(v));
    }
}
