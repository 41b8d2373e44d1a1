//! The audit ledger: an append-only JSON Lines file in which every record carries the
//! SHA-256 of its predecessor, so that an edited, removed or reordered record is detected.
//!
//! Line format (byte-exact, so verification needs no JSON canonicalisation):
//! `{"hash":"<64 hex>",<body>` where `<body>` is the rest of a JSON object that contains
//! `"seq"` (1, 2, …) and `"prev"` (the previous record's hash; 64 zeros for the first), and
//! `hash = SHA-256(prev_hex || "{" || body)`. Records are written and flushed before the
//! response completes; a process killed between requests loses nothing already answered.
//!
//! Retention ([`Ledger::prune`]): a record older than the retention of its data class is
//! replaced by a *pruned* record that keeps the stated hash, `seq`, `prev` and the
//! non-identifying fields of [`KEPT_WHEN_PRUNED`] (billing and budgets still add up), drops
//! the rest (the user id above all) and carries `"pruned":true`. The links of the chain stay
//! checkable; the content of a pruned record no longer can be, so every pruning appends a
//! `"kind":"retention"` record, and [`verify`] reports a pruned record that no later
//! retention record covers.
//!
//! Must not: contain prompt text, completions or detected values (the callers' record types
//! have no such fields).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Fields a pruned record keeps: what billing, budgets and the data-protection overview
/// need, nothing that identifies a person (no `user`, no admin action target).
pub const KEPT_WHEN_PRUNED: &[&str] = &[
    "seq", "prev", "time", "kind", "department", "model", "zone", "declared_class", "detected_class", "effective_class", "categories", "decision",
    "upstream_status", "prompt_tokens", "completion_tokens", "cached_tokens", "cost_eur", "latency_ms", "action", "outcome",
];

/// Hash of the (non-existent) record before the first.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
const PREFIX: &str = "{\"hash\":\"";

/// Errors of the ledger; messages name the file and line, never record contents.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Reading or writing the file failed.
    #[error("audit ledger {path}: {source}")]
    Io {
        /// The ledger file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Another process holds the ledger (a running `zonegate serve`).
    #[error("audit ledger {path} is in use by another zonegate process (a running server prunes by itself once a day); stop it first")]
    Busy {
        /// The ledger file.
        path: PathBuf,
    },
    /// The file's last record cannot be continued (it is damaged); run `zonegate audit verify`.
    #[error("audit ledger {path}: line {line} is damaged; run `zonegate audit verify`")]
    Damaged {
        /// The ledger file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
    },
}

/// Result of [`verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Records read.
    pub records: u64,
    /// Of these, records pruned by retention (links checked, content no longer checkable).
    pub pruned: u64,
    /// The first record (1-based line) whose hash or link does not hold, and why.
    pub first_broken: Option<(u64, &'static str)>,
}

struct Tail {
    file: File,
    seq: u64,
    hash: String,
}

/// An open ledger, appended to under a lock. One process at a time: [`Ledger::open`] takes
/// an exclusive `flock(2)` on `<ledger>.lock` for the lifetime of the value.
pub struct Ledger {
    path: PathBuf,
    tail: Mutex<Tail>,
    _lock: nix::fcntl::Flock<File>,
}

/// Retention in days per data class (`[accounting.retention_days]`); a class without an
/// entry is kept for ever.
pub type Retention = std::collections::BTreeMap<crate::policy::DataClass, u32>;

/// Result of [`Ledger::prune`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PruneReport {
    /// Records pruned by this run.
    pub pruned: u64,
    /// Records (of any kind) in the ledger after the run, the new retention record included.
    pub records: u64,
}

/// The data class a record is retained under: its effective class, else its declared
/// class, else `default`.
fn class_of(v: &Value, default: crate::policy::DataClass) -> crate::policy::DataClass {
    ["effective_class", "declared_class"].iter().find_map(|k| v[*k].as_str().and_then(|s| s.parse().ok())).unwrap_or(default)
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Ledger({})", self.path.display())
    }
}

fn hash_of(prev: &str, body: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"{");
    h.update(body.as_bytes());
    hex::encode(h.finalize())
}

/// Splits a line into (stated hash, body after the hash field).
fn split(line: &str) -> Option<(&str, &str)> {
    let rest = line.strip_prefix(PREFIX)?;
    let hash = rest.get(..64)?;
    let body = rest.get(64..)?.strip_prefix("\",")?;
    Some((hash, body))
}

impl Ledger {
    /// Opens (or creates, with its directory) the ledger at `path` and reads its last record.
    ///
    /// # Errors
    /// [`LedgerError::Io`], or [`LedgerError::Damaged`] when the last line is not a record.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        let io = |source| LedgerError::Io { path: path.to_path_buf(), source };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let (mut seq, mut hash) = (0u64, GENESIS.to_string());
        if path.exists() {
            let f = File::open(path).map_err(io)?;
            for (i, line) in BufReader::new(f).lines().enumerate() {
                let line = line.map_err(io)?;
                let line_no = i as u64 + 1;
                if line.is_empty() {
                    continue;
                }
                let (h, body) = split(&line).ok_or(LedgerError::Damaged { path: path.to_path_buf(), line: line_no })?;
                let v: Value = serde_json::from_str(&format!("{{{body}")).map_err(|_| LedgerError::Damaged { path: path.to_path_buf(), line: line_no })?;
                seq = v["seq"].as_u64().unwrap_or(seq);
                hash = h.to_string();
            }
        }
        let mut lock_path = path.as_os_str().to_owned();
        lock_path.push(".lock");
        let lock_file = OpenOptions::new().create(true).truncate(false).write(true).open(&lock_path).map_err(io)?;
        let lock = nix::fcntl::Flock::lock(lock_file, nix::fcntl::FlockArg::LockExclusiveNonblock).map_err(|_| LedgerError::Busy { path: path.to_path_buf() })?;
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(io)?;
        Ok(Ledger { path: path.to_path_buf(), tail: Mutex::new(Tail { file, seq, hash }), _lock: lock })
    }

    /// Prunes every record whose retention has run out at `now` (Unix seconds): a record of
    /// class `c` (see the module docs; `default` for records without a class) older than
    /// `retention[c]` days. Rewrites the file atomically (temporary file, `fsync`, rename)
    /// under the append lock, then appends a retention record `{"kind":"retention",
    /// "pruned":n,"through_seq":s,"retention_days":{…}}`. Does nothing when no record is due.
    ///
    /// # Errors
    /// [`LedgerError::Io`]; [`LedgerError::Damaged`] for a line that is not a record (the
    /// file is left as it was).
    pub fn prune(&self, now: u64, retention: &Retention, default: crate::policy::DataClass) -> Result<PruneReport, LedgerError> {
        let io = |source| LedgerError::Io { path: self.path.clone(), source };
        let mut t = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        let text = std::fs::read_to_string(&self.path).map_err(io)?;
        let (mut out, mut pruned, mut records) = (String::with_capacity(text.len()), 0u64, 0u64);
        for (i, line) in text.lines().enumerate() {
            if line.is_empty() {
                continue;
            }
            records += 1;
            let damaged = || LedgerError::Damaged { path: self.path.clone(), line: i as u64 + 1 };
            let (hash, body) = split(line).ok_or_else(damaged)?;
            let v: Value = serde_json::from_str(&format!("{{{body}")).map_err(|_| damaged())?;
            let due = v["pruned"] != Value::Bool(true)
                && v["kind"] != "retention"
                && retention.get(&class_of(&v, default)).is_some_and(|days| v["time"].as_u64().unwrap_or(0).saturating_add(u64::from(*days) * 86_400) <= now);
            if !due {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            let mut stub = Map::new();
            for k in KEPT_WHEN_PRUNED {
                if let Some(x) = v.get(*k) {
                    stub.insert((*k).to_string(), x.clone());
                }
            }
            stub.insert("pruned".into(), Value::Bool(true));
            let json = Value::Object(stub).to_string();
            out.push_str(&format!("{PREFIX}{hash}\",{}\n", &json[1..]));
            pruned += 1;
        }
        if pruned == 0 {
            return Ok(PruneReport { pruned, records });
        }
        let mut tmp = self.path.as_os_str().to_owned();
        tmp.push(".prune");
        let tmp = PathBuf::from(tmp);
        let mut f = File::create(&tmp).map_err(io)?;
        f.write_all(out.as_bytes()).and_then(|()| f.sync_all()).map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        if let Some(dir) = self.path.parent() {
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        t.file = OpenOptions::new().append(true).open(&self.path).map_err(io)?;
        let through = t.seq;
        drop(t);
        let mut rec = Map::new();
        rec.insert("time".into(), Value::from(now));
        rec.insert("kind".into(), Value::from("retention"));
        rec.insert("pruned".into(), Value::from(pruned));
        rec.insert("through_seq".into(), Value::from(through));
        rec.insert("retention_days".into(), retention.iter().map(|(c, d)| (c.as_str().to_string(), Value::from(*d))).collect::<Map<_, _>>().into());
        self.append(rec)?;
        Ok(PruneReport { pruned, records: records + 1 })
    }

    /// Appends one record (`fields` must be a JSON object; `seq`, `prev` and `hash` are
    /// added) and flushes it to the operating system. Returns the record's sequence number.
    ///
    /// # Errors
    /// [`LedgerError::Io`].
    pub fn append(&self, fields: Map<String, Value>) -> Result<u64, LedgerError> {
        let mut t = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        let seq = t.seq + 1;
        let mut obj = Map::new();
        obj.insert("seq".into(), Value::from(seq));
        obj.insert("prev".into(), Value::String(t.hash.clone()));
        obj.extend(fields);
        let json = Value::Object(obj).to_string();
        let body = &json[1..];
        let hash = hash_of(&t.hash, body);
        let line = format!("{PREFIX}{hash}\",{body}\n");
        t.file.write_all(line.as_bytes()).and_then(|()| t.file.flush()).map_err(|source| LedgerError::Io { path: self.path.clone(), source })?;
        t.seq = seq;
        t.hash = hash;
        Ok(seq)
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Checks every record's hash and its link to the previous record.
///
/// # Errors
/// [`LedgerError::Io`] when the file cannot be read.
pub fn verify(path: &Path) -> Result<VerifyReport, LedgerError> {
    let f = File::open(path).map_err(|source| LedgerError::Io { path: path.to_path_buf(), source })?;
    let mut prev = GENESIS.to_string();
    let (mut n, mut pruned) = (0u64, 0u64);
    // The first pruned record not yet covered by a later retention record.
    let mut uncovered: Option<u64> = None;
    for line in BufReader::new(f).lines() {
        let line = line.map_err(|source| LedgerError::Io { path: path.to_path_buf(), source })?;
        n += 1;
        let broken = |why| Ok(VerifyReport { records: n, pruned, first_broken: Some((n, why)) });
        let Some((stated, body)) = split(&line) else { return broken("not a ledger record") };
        let Ok(v) = serde_json::from_str::<Value>(&format!("{{{body}")) else { return broken("not valid JSON") };
        if v["prev"].as_str() != Some(prev.as_str()) {
            return broken("does not link to the previous record (removed, reordered or edited before)");
        }
        if v["seq"].as_u64() != Some(n) {
            return broken("sequence number out of order");
        }
        if v["pruned"] == Value::Bool(true) {
            pruned += 1;
            uncovered.get_or_insert(n);
        } else if hash_of(&prev, body) != stated {
            return broken("content does not match its hash (edited)");
        } else if v["kind"] == "retention" && v["through_seq"].as_u64().is_some_and(|s| uncovered.is_some_and(|u| u <= s)) {
            uncovered = None;
        }
        prev = stated.to_string();
    }
    if let Some(u) = uncovered {
        return Ok(VerifyReport { records: n, pruned, first_broken: Some((u, "marked as pruned, but no later retention record covers it")) });
    }
    Ok(VerifyReport { records: n, pruned, first_broken: None })
}

/// Calls `f` with every readable record of the ledger at `path` (none if it does not exist).
///
/// # Errors
/// [`LedgerError::Io`].
pub fn for_each(path: &Path, mut f: impl FnMut(&Value)) -> Result<(), LedgerError> {
    if !path.exists() {
        return Ok(());
    }
    let io = |source| LedgerError::Io { path: path.to_path_buf(), source };
    for line in BufReader::new(File::open(path).map_err(io)?).lines() {
        let line = line.map_err(io)?;
        if let Some((_, body)) = split(&line) {
            if let Ok(v) = serde_json::from_str::<Value>(&format!("{{{body}")) {
                f(&v);
            }
        }
    }
    Ok(())
}

/// Writes the records with `from <= time < to` (Unix seconds) as JSON Lines, unchanged.
///
/// # Errors
/// [`LedgerError::Io`].
pub fn export(path: &Path, from: u64, to: u64, out: &mut dyn Write) -> Result<u64, LedgerError> {
    let io = |source| LedgerError::Io { path: path.to_path_buf(), source };
    let f = File::open(path).map_err(io)?;
    let mut n = 0;
    for line in BufReader::new(f).lines() {
        let line = line.map_err(io)?;
        let Some((_, body)) = split(&line) else { continue };
        let Ok(v) = serde_json::from_str::<Value>(&format!("{{{body}")) else { continue };
        let t = v["time"].as_u64().unwrap_or(0);
        if (from..to).contains(&t) {
            writeln!(out, "{line}").map_err(io)?;
            n += 1;
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(i: u64) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("time".into(), Value::from(1_700_000_000 + i));
        m.insert("kind".into(), Value::from("request"));
        m.insert("completion_tokens".into(), Value::from(i * 10));
        m
    }

    #[test]
    fn chain_verifies_and_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("audit/ledger.jsonl");
        let l = Ledger::open(&p).unwrap();
        for i in 0..3 {
            l.append(rec(i)).unwrap();
        }
        drop(l);
        let l = Ledger::open(&p).unwrap();
        assert_eq!(l.append(rec(3)).unwrap(), 4);
        assert_eq!(verify(&p).unwrap(), VerifyReport { records: 4, pruned: 0, first_broken: None });
    }

    #[test]
    fn an_edited_record_is_reported_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ledger.jsonl");
        let l = Ledger::open(&p).unwrap();
        for i in 0..5 {
            l.append(rec(i)).unwrap();
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let edited = text.replacen("\"completion_tokens\":20", "\"completion_tokens\":2", 1);
        assert_ne!(text, edited);
        std::fs::write(&p, edited).unwrap();
        assert_eq!(verify(&p).unwrap().first_broken.map(|b| b.0), Some(3));
    }

    #[test]
    fn a_removed_record_breaks_the_next_link() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ledger.jsonl");
        let l = Ledger::open(&p).unwrap();
        for i in 0..4 {
            l.append(rec(i)).unwrap();
        }
        let lines: Vec<String> = std::fs::read_to_string(&p).unwrap().lines().map(str::to_string).collect();
        std::fs::write(&p, format!("{}\n{}\n{}\n", lines[0], lines[2], lines[3])).unwrap();
        assert_eq!(verify(&p).unwrap().first_broken.map(|b| b.0), Some(2));
    }

    fn classed(i: u64, class: &str, user: &str) -> Map<String, Value> {
        let mut m = rec(i);
        m.insert("effective_class".into(), Value::from(class));
        m.insert("user".into(), Value::from(user));
        m.insert("department".into(), Value::from("Sozialamt"));
        m
    }

    #[test]
    fn retention_prunes_by_class_and_age_and_the_chain_still_verifies() {
        use crate::policy::DataClass;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ledger.jsonl");
        let l = Ledger::open(&p).unwrap();
        l.append(classed(0, "social", "erika.beispiel")).unwrap(); // old, social: due
        l.append(classed(1, "internal", "max.muster")).unwrap(); // old, internal: no retention set
        l.append(classed(2 * 86_400, "social", "erika.beispiel")).unwrap(); // social, but young
        let retention = Retention::from([(DataClass::Social, 1)]);
        let now = 1_700_000_000 + 86_400 + 10;
        assert_eq!(l.prune(now, &retention, DataClass::Internal).unwrap(), PruneReport { pruned: 1, records: 4 });
        let text = std::fs::read_to_string(&p).unwrap();
        let first = text.lines().next().unwrap();
        assert!(!first.contains("erika.beispiel") && first.contains("\"pruned\":true") && first.contains("\"completion_tokens\":0"), "{first}");
        assert_eq!(text.matches("erika.beispiel").count(), 1, "the young social record keeps its user");
        assert_eq!(verify(&p).unwrap(), VerifyReport { records: 4, pruned: 1, first_broken: None });
        // Appending continues the chain; a second run has nothing to do.
        l.append(rec(9)).unwrap();
        assert_eq!(l.prune(now, &retention, DataClass::Internal).unwrap().pruned, 0);
        assert_eq!(verify(&p).unwrap().first_broken, None);
    }

    #[test]
    fn a_record_marked_pruned_without_a_retention_record_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ledger.jsonl");
        let l = Ledger::open(&p).unwrap();
        for i in 0..3 {
            l.append(classed(i, "personal", "max.muster")).unwrap();
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let forged = text.replacen(",\"user\":\"max.muster\"", ",\"pruned\":true", 2);
        std::fs::write(&p, forged).unwrap();
        assert_eq!(verify(&p).unwrap().first_broken, Some((1, "marked as pruned, but no later retention record covers it")));
    }

    #[test]
    fn a_second_process_cannot_open_the_ledger() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ledger.jsonl");
        let _l = Ledger::open(&p).unwrap();
        assert!(matches!(Ledger::open(&p), Err(LedgerError::Busy { .. })));
    }

    #[test]
    fn export_selects_by_time() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ledger.jsonl");
        let l = Ledger::open(&p).unwrap();
        for i in 0..5 {
            l.append(rec(i)).unwrap();
        }
        let mut out = Vec::new();
        assert_eq!(export(&p, 1_700_000_001, 1_700_000_003, &mut out).unwrap(), 2);
    }
}
