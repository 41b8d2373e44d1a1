//! The audit ledger: an append-only JSON Lines file in which every record carries the
//! SHA-256 of its predecessor, so that an edited, removed or reordered record is detected.
//!
//! Line format (byte-exact, so verification needs no JSON canonicalisation):
//! `{"hash":"<64 hex>",<body>` where `<body>` is the rest of a JSON object that contains
//! `"seq"` (1, 2, …) and `"prev"` (the previous record's hash; 64 zeros for the first), and
//! `hash = SHA-256(prev_hex || "{" || body)`. Records are written and flushed before the
//! response completes; a process killed between requests loses nothing already answered.
//!
//! Must not: contain prompt text, completions or detected values (the callers' record types
//! have no such fields).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

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
    /// The first record (1-based line) whose hash or link does not hold, and why.
    pub first_broken: Option<(u64, &'static str)>,
}

struct Tail {
    file: File,
    seq: u64,
    hash: String,
}

/// An open ledger, appended to under a lock.
pub struct Ledger {
    path: PathBuf,
    tail: Mutex<Tail>,
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
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(io)?;
        Ok(Ledger { path: path.to_path_buf(), tail: Mutex::new(Tail { file, seq, hash }) })
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
    let mut n = 0u64;
    for line in BufReader::new(f).lines() {
        let line = line.map_err(|source| LedgerError::Io { path: path.to_path_buf(), source })?;
        n += 1;
        let broken = |why| Ok(VerifyReport { records: n, first_broken: Some((n, why)) });
        let Some((stated, body)) = split(&line) else { return broken("not a ledger record") };
        let Ok(v) = serde_json::from_str::<Value>(&format!("{{{body}")) else { return broken("not valid JSON") };
        if v["prev"].as_str() != Some(prev.as_str()) {
            return broken("does not link to the previous record (removed, reordered or edited before)");
        }
        if v["seq"].as_u64() != Some(n) {
            return broken("sequence number out of order");
        }
        if hash_of(&prev, body) != stated {
            return broken("content does not match its hash (edited)");
        }
        prev = stated.to_string();
    }
    Ok(VerifyReport { records: n, first_broken: None })
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
        assert_eq!(verify(&p).unwrap(), VerifyReport { records: 4, first_broken: None });
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
