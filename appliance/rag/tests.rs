//! Unit tests of the store facade: ingest, replace, unchanged, ACL, filters, search modes,
//! model mismatch, verify — with a small deterministic embedding model (below) instead of
//! llama.cpp, so they run in milliseconds.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;

/// A bag-of-words embedding: each analyzer stem hashed into 64 dimensions, L2-normalised.
/// Texts sharing stems are similar, which is all these tests need.
pub(crate) struct BagModel {
    pub id: String,
}

impl EmbedModel for BagModel {
    fn id(&self) -> &str {
        &self.id
    }
    fn sha256(&self) -> &str {
        "0000000000000000000000000000000000000000000000000000000000000000"
    }
    fn count_tokens(&self, text: &str) -> usize {
        text.split_whitespace().count() + 1
    }
    fn max_tokens(&self) -> usize {
        512
    }
    fn embed<'a>(&'a self, texts: &'a [String]) -> EmbedFuture<'a> {
        Box::pin(async move {
            let a = analyze::Analyzer::default();
            Ok(texts
                .iter()
                .map(|t| {
                    let mut v = vec![0f32; 64];
                    for w in analyze::words(t) {
                        if let Some(s) = a.stem(w) {
                            let h = s.bytes().fold(1469598103934665603u64, |h, b| (h ^ u64::from(b)).wrapping_mul(1099511628211));
                            v[(h % 64) as usize] += 1.0;
                        }
                    }
                    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                    if n > 0.0 {
                        v.iter_mut().for_each(|x| *x /= n);
                    } else {
                        v[0] = 1.0;
                    }
                    v
                })
                .collect())
        })
    }
}

pub(crate) fn open_with(dir: &std::path::Path, model: &str) -> Rag {
    let mut s = RagSettings::new(dir);
    s.chunk_tokens = 64;
    s.chunk_overlap_tokens = 8;
    s.max_file_bytes = 64 * 1024;
    Rag::open(s, Some(Arc::new(BagModel { id: model.into() }))).expect("store opens")
}

fn who(user: &str, dep: &str) -> Caller {
    Caller { user: user.into(), department: dep.into(), admin: false }
}

fn new_coll(rag: &Rag, name: &str, dep: &str, read: Access, class: DataClass) -> Collection {
    rag.create_collection(&Caller::system(), NewCollection { name: name.into(), class, owner_department: dep.into(), read, attributes: BTreeMap::new() }).expect("collection")
}

fn req(ids: &[&str], q: &str, mode: SearchMode) -> SearchRequest {
    SearchRequest { collection_ids: ids.iter().map(|s| s.to_string()).collect(), query: q.into(), max_results: 5, filter: None, score_threshold: None, mode }
}

const HUND: &str = "# Hundesteuer\n\nDie Hundesteuer beträgt 90 Euro im Jahr. Blindenhunde sind von der Steuer befreit.\n\n## Anmeldung\n\nHunde werden binnen zwei Wochen beim Steueramt angemeldet.";
const PARK: &str = "# Bewohnerparken\n\nDen Bewohnerparkausweis beantragen Sie im Bürgerbüro. Er kostet 30 Euro und gilt ein Jahr.";
const VPN: &str = "IT-Hinweis\n\nDas VPN-Passwort wird alle 90 Tage im Self-Service-Portal geändert. Bei Sperrung hilft der IT-Service unter Durchwahl 4711.";

#[tokio::test]
async fn ingest_is_idempotent_and_replaces_atomically() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rag = open_with(dir.path(), "bag");
    let sys = Caller::system();
    let c = new_coll(&rag, "wissen", "IT", Access::Everyone, DataClass::Internal);
    let (d, s) = rag.ingest_bytes(&sys, &c.id, "hund.md", HUND.as_bytes(), None, BTreeMap::new()).await.expect("ingest");
    assert_eq!(s, IngestStatus::Added);
    assert_eq!(d.class, DataClass::Internal);
    assert!(d.chunk_count >= 2, "two sections, two chunks: {}", d.chunk_count);
    let (_, s) = rag.ingest_bytes(&sys, &c.id, "hund.md", HUND.as_bytes(), None, BTreeMap::new()).await.expect("again");
    assert_eq!(s, IngestStatus::Unchanged);
    let changed = HUND.replace("90 Euro", "120 Euro");
    let (d2, s) = rag.ingest_bytes(&sys, &c.id, "hund.md", changed.as_bytes(), None, BTreeMap::new()).await.expect("replace");
    assert_eq!(s, IngestStatus::Replaced);
    assert_eq!(d2.file_id, d.file_id, "a replaced document keeps its id");
    let docs = rag.list_documents(&sys, &c.id).expect("list");
    assert_eq!(docs.len(), 1);
    let hits = rag.search(&sys, &req(&[&c.id], "Hundesteuer Euro", SearchMode::Lexical)).await.expect("search");
    assert!(hits.iter().any(|h| h.text.contains("120 Euro")) && !hits.iter().any(|h| h.text.contains("90 Euro")), "old chunks are gone");
    let cc = rag.get_collection(&sys, "wissen").expect("by name");
    assert_eq!((cc.document_count, cc.chunk_count, cc.bytes), (1, u64::from(d2.chunk_count), changed.len() as u64));
    assert_eq!(cc.embedding_model.as_deref(), Some("bag"));
    let r = rag.verify().expect("verify");
    assert!(r.ok(), "{:?}", r.problems);
    rag.remove_file(&sys, &c.id, &d.file_id).expect("remove");
    assert!(rag.list_documents(&sys, &c.id).expect("list").is_empty());
    let r = rag.verify().expect("verify");
    assert!(r.ok() && r.chunks == 0, "{r:?}");
}

#[tokio::test]
async fn unreadable_documents_store_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rag = open_with(dir.path(), "bag");
    let sys = Caller::system();
    let c = new_coll(&rag, "w", "IT", Access::Everyone, DataClass::Internal);
    for (name, data) in [("x.txt", &b"\x00\x01\x02binary"[..]), ("x.pdf", b"%PDF-1.4 garbage"), ("x.docx", b"PK\x03\x04 broken"), ("big.txt", &vec![b'a'; 70 * 1024][..])] {
        match rag.ingest_bytes(&sys, &c.id, name, data, None, BTreeMap::new()).await {
            Err(RagError::Unreadable { source_name, reason }) => assert!(source_name == name && !reason.is_empty()),
            other => panic!("{name}: expected Unreadable, got {other:?}"),
        }
    }
    // Nothing to index at all: refused, and the collection keeps working.
    for (name, data) in [("leer.md", &b"   \n\n"[..]), ("leer.txt", b"")] {
        assert!(matches!(rag.ingest_bytes(&sys, &c.id, name, data, None, BTreeMap::new()).await, Err(RagError::Unreadable { .. })), "{name}");
    }
    assert!(rag.list_documents(&sys, &c.id).expect("list").is_empty());
    assert!(rag.verify().expect("verify").ok());
    assert!(rag.list_files(&sys).expect("files").is_empty(), "no blob of a failed ingest");
    // Headings only (or one short line): one chunk, findable; the next document still fits.
    for (name, text) in [("titel.md", "# Nur eine Überschrift"), ("zeile.txt", "Pfadtest Inhalt eins")] {
        let (d, _) = rag.ingest_bytes(&sys, &c.id, name, text.as_bytes(), None, BTreeMap::new()).await.expect(name);
        assert_eq!(d.chunk_count, 1, "{name}");
    }
    rag.ingest_bytes(&sys, &c.id, "hund.md", HUND.as_bytes(), None, BTreeMap::new()).await.expect("a normal document after them");
    assert!(!rag.search(&sys, &req(&[&c.id], "Überschrift", SearchMode::Lexical)).await.expect("search").is_empty());
}

/// Re-ingesting a source name replaces in place only the caller's own file held by this
/// collection alone; another user's upload (here also in a second store) stays untouched.
#[tokio::test]
async fn a_name_clash_never_overwrites_someone_elses_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rag = open_with(dir.path(), "bag");
    let (alice, admin) = (who("alice", "Bauamt"), Caller { user: "admin".into(), department: "IT".into(), admin: true });
    let c1 = new_coll(&rag, "share-1", "Bauamt", Access::Everyone, DataClass::Internal);
    let c2 = new_coll(&rag, "share-2", "Bauamt", Access::Everyone, DataClass::Internal);
    let f = rag.put_file(&alice, "gemeinsam.md", "assistants", HUND.as_bytes()).expect("upload");
    for c in [&c1, &c2] {
        rag.add_file(&alice, &c.id, &f.id, None, BTreeMap::new()).await.expect("add");
    }
    let (d, status) = rag.ingest_bytes(&admin, &c1.id, "gemeinsam.md", PARK.as_bytes(), None, BTreeMap::new()).await.expect("ingest");
    assert_eq!(status, IngestStatus::Added);
    assert_ne!(d.file_id, f.id);
    assert!(d.source_name.starts_with("gemeinsam.md (file-"), "{}", d.source_name);
    assert_eq!(rag.file_content(&alice, &f.id).expect("content"), HUND.as_bytes(), "alice's file is untouched");
    assert_eq!(rag.get_file(&alice, &f.id).expect("file").owner_user, "alice");
    assert_eq!(rag.list_documents(&admin, &c1.id).expect("list").len(), 2);
    assert!(rag.verify().expect("verify").ok(), "{:?}", rag.verify().expect("verify").problems);
    // The admin's own document of that name, in one collection: replaced in place.
    let (d2, status) = rag.ingest_bytes(&admin, &c1.id, &d.source_name, VPN.as_bytes(), None, BTreeMap::new()).await.expect("ingest");
    assert_eq!((status, d2.file_id.as_str()), (IngestStatus::Replaced, d.file_id.as_str()));
}

#[tokio::test]
async fn acl_hides_everything_of_unreadable_collections() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rag = open_with(dir.path(), "bag");
    let sys = Caller::system();
    let open = new_coll(&rag, "offen", "Bauamt", Access::Everyone, DataClass::Public);
    let closed = new_coll(&rag, "sozial", "Sozialamt", Access::Departments(vec!["Jugendamt".into()]), DataClass::Social);
    rag.ingest_bytes(&sys, &open.id, "park.md", PARK.as_bytes(), None, BTreeMap::new()).await.expect("ingest");
    let (secret, _) = rag.ingest_bytes(&sys, &closed.id, "hund.md", HUND.as_bytes(), None, BTreeMap::new()).await.expect("ingest");
    let outsider = who("max", "Ordnungsamt");
    let reader = who("eva", "Jugendamt");
    let owner = who("olga", "Sozialamt");
    // Listing and counts.
    let names: Vec<String> = rag.list_collections(&outsider).expect("list").into_iter().map(|c| c.name).collect();
    assert_eq!(names, vec!["offen"]);
    assert_eq!(rag.list_collections(&reader).expect("list").len(), 2);
    // By id and by name: NotFound, the same as a collection that does not exist.
    for id in [closed.id.as_str(), "sozial"] {
        assert!(matches!(rag.get_collection(&outsider, id), Err(RagError::NotFound(_))));
        assert!(matches!(rag.list_documents(&outsider, id), Err(RagError::NotFound(_))));
        assert!(matches!(rag.search(&outsider, &req(&[id], "Hundesteuer", SearchMode::Lexical)).await, Err(RagError::NotFound(_))));
    }
    // Search over both: the outsider may not name the closed one at all.
    assert!(matches!(rag.search(&outsider, &req(&[&open.id, &closed.id], "Hundesteuer", SearchMode::Hybrid)).await, Err(RagError::NotFound(_))));
    let hits = rag.search(&outsider, &req(&[&open.id], "Hundesteuer Steueramt", SearchMode::Hybrid)).await.expect("search");
    assert!(hits.iter().all(|h| h.collection_id == open.id));
    // Files: by id, content, list.
    assert!(matches!(rag.get_file(&outsider, &secret.file_id), Err(RagError::NotFound(_))));
    assert!(matches!(rag.file_content(&outsider, &secret.file_id), Err(RagError::NotFound(_))));
    assert!(rag.list_files(&outsider).expect("files").iter().all(|f| f.id != secret.file_id));
    assert!(rag.get_file(&reader, &secret.file_id).is_ok(), "a reader of the collection may read its files");
    assert!(matches!(rag.delete_file(&outsider, &secret.file_id), Err(RagError::NotFound(_))));
    // Readers find it; only the owner department writes.
    let hits = rag.search(&reader, &req(&[&closed.id], "Hundesteuer", SearchMode::Lexical)).await.expect("search");
    assert!(!hits.is_empty() && hits.iter().all(|h| h.class == DataClass::Social));
    assert!(matches!(rag.remove_file(&reader, &closed.id, &secret.file_id), Err(RagError::Invalid(_))));
    assert!(matches!(rag.delete_collection(&reader, &closed.id), Err(RagError::Invalid(_))));
    assert!(matches!(
        rag.create_collection(&reader, NewCollection { name: "x".into(), class: DataClass::Public, owner_department: "Sozialamt".into(), read: Access::Everyone, attributes: BTreeMap::new() }),
        Err(RagError::Invalid(_))
    ));
    rag.delete_collection(&owner, &closed.id).expect("owner deletes");
    assert!(rag.verify().expect("verify").ok());
}

#[tokio::test]
async fn classes_filters_modes_and_thresholds() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rag = open_with(dir.path(), "bag");
    let sys = Caller::system();
    let c = new_coll(&rag, "w", "IT", Access::Everyone, DataClass::Internal);
    let attrs = |amt: &str, jahr: i64| serde_json::from_value::<BTreeMap<String, serde_json::Value>>(serde_json::json!({"amt": amt, "jahr": jahr})).unwrap_or_default();
    assert!(matches!(rag.ingest_bytes(&sys, &c.id, "p.md", PARK.as_bytes(), Some(DataClass::Public), attrs("Bauamt", 2022)).await, Err(RagError::Invalid(_))), "looser than the collection");
    rag.ingest_bytes(&sys, &c.id, "p.md", PARK.as_bytes(), Some(DataClass::Personal), attrs("Bauamt", 2022)).await.expect("stricter is fine");
    rag.ingest_bytes(&sys, &c.id, "h.md", HUND.as_bytes(), None, attrs("Steueramt", 2024)).await.expect("ingest");
    rag.ingest_bytes(&sys, &c.id, "v.txt", VPN.as_bytes(), None, attrs("IT", 2024)).await.expect("ingest");
    for mode in [SearchMode::Hybrid, SearchMode::Lexical, SearchMode::Vector] {
        let hits = rag.search(&sys, &req(&[&c.id], "Wie melde ich meinen Hund beim Steueramt an?", mode)).await.expect("search");
        assert_eq!(hits[0].source_name, "h.md", "{mode:?}: {hits:?}");
        assert!(hits.iter().all(|h| (0.0..=1.0).contains(&h.score)), "{mode:?}");
        assert!(hits.windows(2).all(|w| w[0].score >= w[1].score), "{mode:?}: best first");
    }
    let mut r = req(&[&c.id], "Euro Jahr", SearchMode::Hybrid);
    r.filter = Some(serde_json::from_value(serde_json::json!({"type": "and", "filters": [{"type": "gte", "key": "jahr", "value": 2023}, {"type": "ne", "key": "amt", "value": "IT"}]})).expect("filter"));
    let hits = rag.search(&sys, &r).await.expect("search");
    assert!(!hits.is_empty() && hits.iter().all(|h| h.source_name == "h.md"), "{hits:?}");
    let p = rag.search(&sys, &req(&[&c.id], "Bewohnerparkausweis", SearchMode::Lexical)).await.expect("search");
    assert_eq!(p[0].class, DataClass::Personal);
    assert!(p[0].score > 0.6, "every query term present (a longer than average chunk): {}", p[0].score);
    // Lexical scores are absolute: a query the store barely matches scores low, so a
    // threshold can drop it.
    let weak = rag.search(&sys, &req(&[&c.id], "Kantine Öffnungszeiten xyzzy", SearchMode::Lexical)).await.expect("search");
    assert!(weak.iter().all(|h| h.score < 0.3), "{weak:?}");
    r.filter = None;
    r.score_threshold = Some(0.995); // (1st, 2nd) scores 0.9919
    assert!(rag.search(&sys, &r).await.expect("search").len() <= 1, "only a hit first in both lists reaches 1.0");
    r.max_results = 0;
    assert!(matches!(rag.search(&sys, &r).await, Err(RagError::Invalid(_))));
}

#[tokio::test]
async fn models_are_never_mixed_in_one_collection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sys = Caller::system();
    let id = {
        let rag = open_with(dir.path(), "bag-a");
        let c = new_coll(&rag, "w", "IT", Access::Everyone, DataClass::Internal);
        rag.ingest_bytes(&sys, &c.id, "v.txt", VPN.as_bytes(), None, BTreeMap::new()).await.expect("ingest");
        rag.flush().expect("flush");
        c.id
    };
    let rag = open_with(dir.path(), "bag-b");
    assert!(matches!(rag.ingest_bytes(&sys, &id, "h.md", HUND.as_bytes(), None, BTreeMap::new()).await, Err(RagError::ModelMismatch(_))));
    assert!(matches!(rag.search(&sys, &req(&[&id], "VPN", SearchMode::Vector)).await, Err(RagError::ModelMismatch(_))));
    assert!(!rag.search(&sys, &req(&[&id], "VPN Passwort", SearchMode::Lexical)).await.expect("lexical needs no model").is_empty());
    assert_eq!(rag.list_documents(&sys, &id).expect("list").len(), 1, "the refused document left nothing");
}

#[tokio::test]
async fn uploaded_files_are_added_and_deleted_everywhere() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rag = open_with(dir.path(), "bag");
    let me = who("jdoe", "IT");
    let c1 = rag.create_collection(&me, NewCollection { name: "a".into(), class: DataClass::Internal, owner_department: "IT".into(), read: Access::Everyone, attributes: BTreeMap::new() }).expect("c1");
    let c2 = rag.create_collection(&me, NewCollection { name: "b".into(), class: DataClass::Internal, owner_department: "IT".into(), read: Access::Everyone, attributes: BTreeMap::new() }).expect("c2");
    let f = rag.put_file(&me, "../etc/vpn.txt", "assistants", VPN.as_bytes()).expect("upload");
    assert_eq!(f.filename, "vpn.txt", "directories are dropped");
    assert_eq!(rag.file_content(&me, &f.id).expect("content"), VPN.as_bytes());
    for c in [&c1, &c2] {
        let d = rag.add_file(&me, &c.id, &f.id, None, BTreeMap::new()).await.expect("add");
        assert_eq!((d.file_id.as_str(), d.source_name.as_str()), (f.id.as_str(), "vpn.txt"));
    }
    assert!(!rag.search(&me, &req(&[&c1.id, &c2.id], "VPN-Passwort ändern", SearchMode::Hybrid)).await.expect("search").is_empty());
    rag.delete_file(&me, &f.id).expect("delete");
    assert!(rag.list_documents(&me, &c1.id).expect("l").is_empty() && rag.list_documents(&me, &c2.id).expect("l").is_empty());
    assert!(rag.search(&me, &req(&[&c1.id], "VPN", SearchMode::Lexical)).await.expect("search").is_empty());
    assert!(rag.verify().expect("verify").ok());
}

/// Background adds: `in_progress` at once with no wait, listed as such (and not searchable),
/// then `completed`; an unreadable file ends `failed` with its reason and stores nothing; a
/// pending file cannot be removed, a failed entry can; an error within the wait is returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn background_adds_go_from_in_progress_to_completed_or_failed() {
    use std::time::Duration;
    let dir = tempfile::tempdir().expect("tempdir");
    let rag = Arc::new(open_with(dir.path(), "bag"));
    let me = who("jdoe", "IT");
    let c = new_coll(&rag, "it", "IT", Access::Everyone, DataClass::Internal);
    let ok = rag.put_file(&me, "vpn.md", "assistants", VPN.as_bytes()).expect("upload");
    let bad = rag.put_file(&me, "kaputt.pdf", "assistants", b"%PDF-1.4 kein PDF").expect("upload");
    let wait_done = |file: String| {
        let rag = rag.clone();
        let (me, c) = (me.clone(), c.id.clone());
        async move {
            for _ in 0..200 {
                let d = rag.list_documents(&me, &c).expect("list").into_iter().find(|d| d.file_id == file).expect("listed");
                if d.status != "in_progress" {
                    return d;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            panic!("still in progress after 4 s");
        }
    };
    // Holding the store's write lock keeps the good file's ingest from finishing.
    let hold = rag.write.lock().await;
    let d = rag.add_file_within(&me, &c.id, &ok.id, None, BTreeMap::new(), Duration::ZERO).await.expect("add");
    assert_eq!((d.status.as_str(), d.chunk_count), ("in_progress", 0));
    let again = rag.add_file_within(&me, &c.id, &ok.id, None, BTreeMap::new(), Duration::ZERO).await.expect("add again");
    assert_eq!(again, d, "adding a pending file again returns it");
    let d = rag.add_file_within(&me, &c.id, &bad.id, None, BTreeMap::new(), Duration::ZERO).await.expect("add");
    assert_eq!(d.status, "in_progress");
    assert!(matches!(rag.remove_file(&me, &c.id, &ok.id), Err(RagError::Invalid(m)) if m.contains("in_progress")));
    assert!(rag.search(&me, &req(&[&c.id], "VPN-Passwort ändern", SearchMode::Lexical)).await.expect("search").is_empty(), "pending is not searchable");
    drop(hold);
    let done = wait_done(ok.id.clone()).await;
    assert_eq!(done.status, "completed");
    assert!(done.chunk_count > 0);
    assert!(!rag.search(&me, &req(&[&c.id], "VPN-Passwort ändern", SearchMode::Lexical)).await.expect("search").is_empty());
    let failed = wait_done(bad.id.clone()).await;
    assert_eq!(failed.status, "failed");
    assert!(failed.last_error.as_deref().is_some_and(|e| e.contains("kaputt.pdf")), "{failed:?}");
    assert!(rag.store.document(&c.id, &bad.id).expect("doc").is_none(), "nothing of it stored");
    rag.remove_file(&me, &c.id, &bad.id).expect("a failed entry can be removed");
    assert_eq!(rag.list_documents(&me, &c.id).expect("list").len(), 1);
    // Within the wait, the error itself comes back and no entry stays.
    let e = rag.add_file_within(&me, &c.id, &bad.id, None, BTreeMap::new(), Duration::from_secs(30)).await.expect_err("unreadable");
    assert!(matches!(e, RagError::Unreadable { .. }), "{e:?}");
    assert!(rag.job(&c.id, &bad.id).is_none());
    // Checks before anything starts: unknown file, foreign department.
    assert!(matches!(rag.add_file_within(&me, &c.id, "file-000000000000000000000000", None, BTreeMap::new(), Duration::ZERO).await, Err(RagError::NotFound(_))));
    assert!(matches!(rag.add_file_within(&who("eva", "Bauamt"), &c.id, &ok.id, None, BTreeMap::new(), Duration::ZERO).await, Err(RagError::NotFound(_) | RagError::Invalid(_))));
    assert!(rag.verify().expect("verify").ok());
}

/// The cached index is updated by every write instead of being rebuilt: after adds, a
/// replacement, a removal and a file deletion on a warm index, every mode returns exactly
/// what a freshly built index returns (same chunks, same scores), and nothing removed.
#[tokio::test]
async fn a_warm_index_follows_writes_like_a_fresh_build() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rag = open_with(dir.path(), "bag");
    let sys = Caller::system();
    let c = new_coll(&rag, "wissen", "IT", Access::Everyone, DataClass::Internal);
    let ingest = |name: &'static str, text: String| {
        let (rag, sys, c) = (&rag, sys.clone(), c.id.clone());
        async move { rag.ingest_bytes(&sys, &c, name, text.as_bytes(), None, BTreeMap::new()).await.expect("ingest").0 }
    };
    let hund = ingest("hund.md", HUND.into()).await;
    let queries = ["Hundesteuer Euro Jahr", "Bewohnerparkausweis beantragen", "VPN-Passwort ändern Portal", "Euro"];
    let run = |fresh: bool| {
        let rag = &rag;
        let sys = sys.clone();
        let c = c.id.clone();
        async move {
            if fresh {
                rag.cache.lock().expect("cache").clear();
            }
            let mut out = Vec::new();
            for q in queries {
                for mode in [SearchMode::Hybrid, SearchMode::Lexical, SearchMode::Vector] {
                    let hits = rag.search(&sys, &SearchRequest { max_results: 10, ..req(&[&c], q, mode) }).await.expect("search");
                    out.push(hits.into_iter().map(|h| (h.file_id, h.chunk_index, h.score)).collect::<Vec<_>>());
                }
            }
            out
        }
    };
    let _ = run(false).await; // builds the index
    let park = ingest("park.md", PARK.into()).await;
    let _vpn = ingest("vpn.txt", VPN.into()).await;
    ingest("hund.md", HUND.replace("90 Euro", "120 Euro")).await;
    rag.remove_file(&sys, &c.id, &park.file_id).expect("remove");
    assert_eq!(rag.cache.lock().expect("cache").len(), 1, "the index stayed cached through the writes");
    let warm = run(false).await;
    assert_eq!(warm, run(true).await, "updated in place = built afresh");
    assert!(warm.iter().flatten().all(|(f, _, _)| *f != park.file_id), "nothing of a removed document");
    let hits = rag.search(&sys, &req(&[&c.id], "Hundesteuer Euro", SearchMode::Lexical)).await.expect("search");
    assert!(hits.iter().any(|h| h.text.contains("120 Euro")) && !hits.iter().any(|h| h.text.contains("90 Euro")));
    // Deleting the file removes its chunks from the warm index too.
    rag.delete_file(&sys, &hund.file_id).expect("delete");
    let after = run(false).await;
    assert!(after.iter().flatten().all(|(f, _, _)| *f != hund.file_id));
    assert_eq!(after, run(true).await);
}

/// File batches: checked first (an unknown file starts nothing), then each file ends on its
/// own (a broken one `failed`, the others `completed`); cancelling stops what still runs —
/// nothing of it is stored, even once the store is free again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_batches_complete_fail_per_file_and_cancel() {
    use std::time::Duration;
    let dir = tempfile::tempdir().expect("tempdir");
    let rag = Arc::new(open_with(dir.path(), "bag"));
    let me = who("jdoe", "IT");
    let c = new_coll(&rag, "it", "IT", Access::Everyone, DataClass::Internal);
    let put = |name: &str, text: &[u8]| rag.put_file(&me, name, "assistants", text).expect("upload").id;
    let (vpn, bad, park, hund) = (put("vpn.md", VPN.as_bytes()), put("kaputt.pdf", b"%PDF-1.4 kein PDF"), put("park.md", PARK.as_bytes()), put("hund.md", HUND.as_bytes()));
    let e = rag.create_file_batch(&me, &c.id, vec![(vpn.clone(), BTreeMap::new()), ("file-000000000000000000000000".into(), BTreeMap::new())], Duration::from_secs(10)).await.expect_err("unknown file");
    assert!(matches!(e, (Some(1), RagError::NotFound(_))), "{e:?}");
    assert!(rag.list_documents(&me, &c.id).expect("list").is_empty(), "nothing started");
    let (b, docs) = rag.create_file_batch(&me, &c.id, vec![(vpn.clone(), BTreeMap::new()), (bad.clone(), BTreeMap::new())], Duration::from_secs(10)).await.expect("batch");
    assert!(b.id.starts_with("vsfb_") && !b.cancelled);
    let status = |docs: &[Document], f: &str| docs.iter().find(|d| d.file_id == f).map(|d| d.status.clone());
    assert_eq!((status(&docs, &vpn).as_deref(), status(&docs, &bad).as_deref()), (Some("completed"), Some("failed")), "{docs:?}");
    // Cancel while the store is held: both stay unstored, and stay so after release.
    let hold = rag.write.lock().await;
    let (b2, docs) = rag.create_file_batch(&me, &c.id, vec![(park.clone(), BTreeMap::new()), (hund.clone(), BTreeMap::new())], Duration::from_millis(200)).await.expect("batch");
    assert!(docs.iter().all(|d| d.status == "in_progress"), "{docs:?}");
    assert!(matches!(rag.cancel_file_batch(&who("eva", "Bauamt"), &c.id, &b2.id), Err(RagError::Invalid(_) | RagError::NotFound(_))), "readers cannot cancel");
    let (b2, docs) = rag.cancel_file_batch(&me, &c.id, &b2.id).expect("cancel");
    assert!(b2.cancelled && docs.iter().all(|d| d.status == "cancelled"), "{docs:?}");
    drop(hold);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, docs) = rag.file_batch(&me, &c.id, &b2.id).expect("batch");
    assert!(docs.iter().all(|d| d.status == "cancelled"), "{docs:?}");
    assert!(rag.store.document(&c.id, &park).expect("doc").is_none() && rag.store.document(&c.id, &hund).expect("doc").is_none(), "nothing stored");
    assert!(rag.file_batch(&me, &c.id, "vsfb_000000000000000000000000").is_err());
    // Deleting the collection forgets its batches.
    rag.delete_collection(&me, &c.id).expect("delete");
    assert!(rag.file_batch(&Caller::system(), &c.id, &b.id).is_err());
    assert!(rag.verify().expect("verify").ok());
}

/// `warm_up` (run at server start) builds the index of every non-empty collection once.
#[tokio::test]
async fn warm_up_builds_each_non_empty_index_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rag = open_with(dir.path(), "bag");
    let sys = Caller::system();
    for (name, text) in [("a", HUND), ("b", PARK)] {
        let c = new_coll(&rag, name, "IT", Access::Everyone, DataClass::Internal);
        rag.ingest_bytes(&sys, &c.id, "doc.md", text.as_bytes(), None, BTreeMap::new()).await.expect("ingest");
    }
    new_coll(&rag, "leer", "IT", Access::Everyone, DataClass::Internal);
    assert_eq!(rag.warm_up().await.expect("warm"), 2);
    assert_eq!(rag.cache.lock().expect("cache").len(), 2);
    assert_eq!(rag.warm_up().await.expect("warm"), 0, "nothing left to build");
}

/// A delete killed between its trees (collection and documents gone, chunks, terms,
/// vectors and file links still there) is finished when the store opens again: verify is
/// clean and the file is free.
#[tokio::test]
async fn a_delete_killed_midway_is_finished_on_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sys = Caller::system();
    let (cid, fid) = {
        let rag = open_with(dir.path(), "bag");
        let c = new_coll(&rag, "weg", "IT", Access::Everyone, DataClass::Internal);
        let (d, _) = rag.ingest_bytes(&sys, &c.id, "hund.md", HUND.as_bytes(), None, BTreeMap::new()).await.expect("ingest");
        rag.store.delete_collection_killed_midway(&c.id).expect("half delete");
        assert!(!rag.verify().expect("verify").ok(), "the half delete leaves orphans");
        (c.id, d.file_id)
    };
    let rag = open_with(dir.path(), "bag");
    let r = rag.verify().expect("verify");
    assert!(r.ok(), "{:?}", r.problems);
    assert!(rag.store.collections_of_file(&fid).expect("links").is_empty(), "no link to the deleted collection");
    assert!(rag.get_collection(&sys, &cid).is_err());
}

/// Finished entries are kept up to a bound (3 in tests), the oldest dropped first; pending
/// ones are never dropped.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_entries_are_bounded() {
    use std::time::Duration;
    let dir = tempfile::tempdir().expect("tempdir");
    let rag = Arc::new(open_with(dir.path(), "bag"));
    let me = who("jdoe", "IT");
    let c = new_coll(&rag, "it", "IT", Access::Everyone, DataClass::Internal);
    for i in 0..6 {
        let bad = rag.put_file(&me, &format!("kaputt-{i}.pdf"), "assistants", b"%PDF-1.4 kein PDF").expect("upload");
        rag.add_file_within(&me, &c.id, &bad.id, None, BTreeMap::new(), Duration::ZERO).await.expect("add");
        for _ in 0..200 {
            if rag.job(&c.id, &bad.id).is_some_and(|d| d.status == "failed") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    let kept = rag.jobs_of(&c.id);
    assert!(kept.len() <= jobs::KEEP_FINISHED + 1 && kept.len() >= jobs::KEEP_FINISHED, "{}", kept.len());
    assert!(kept.iter().all(|d| d.status == "failed"));
}
