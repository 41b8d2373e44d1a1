//! Retrieval in chat: a request names vector stores with a `tools` entry
//! `{"type": "file_search", "vector_store_ids": [...], "max_num_results": N, "filters": {...},
//! "ranking_options": {"score_threshold": s}}` (as in OpenAI's Responses API) or with
//! `metadata.vector_store_ids` (a JSON array or a comma-separated string). zonegate searches
//! the stores as the caller (the store's access control applies), puts the chunks into the
//! system message as a numbered source list, removes the `file_search` entries and the
//! metadata key (no model and no upstream ever sees them), and returns [`Grounded`]: the new
//! body and its [`Sources`]. The sources' highest class goes to the policy gate with the body
//! (DESIGN.md: effective class = max(declared, detected, classes of retrieved sources)).
//!
//! Citations come back as OpenAI-style `annotations` on the assistant message (on the last
//! chunk's `delta` in streams), one per source given to the model:
//! `{"type": "file_citation", "index": I, "file_id", "filename", "vector_store_id",
//! "chunk_index", "source": n, "score"}` where `n` is the source's number in the list
//! (`[n]`) and `I` the character offset of the first `[n]` in the answer (the answer's
//! length when the model did not write the marker).

use serde::Deserialize;
use serde_json::{json, Value};

use super::error::ApiError;
use super::vector_stores::search_request;
use super::AppState;
use crate::policy::DataClass;
use crate::rag::{Filter, Hit};
use crate::tls::PeerIdentity;

/// Chunks retrieved for chat when the request names no `max_num_results`.
pub const DEFAULT_CHAT_RESULTS: usize = 5;
/// Longest source text put into a prompt for a relayed model, in characters; lower-ranked
/// chunks beyond it are left out (not cited, and their class does not count).
pub const MAX_SOURCE_CHARS: usize = 12_000;
/// For a green model, the sources may fill at most this share of one sequence's context
/// (`context_size / parallel`), counted in the model's tokens, leaving room for the
/// conversation and the answer.
pub const GREEN_SOURCE_SHARE: f32 = 0.5;

/// One source given to the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Citation {
    /// Its number in the source list (`[n]`), from 1.
    pub source: usize,
    /// The vector store (collection) it came from.
    pub vector_store_id: String,
    /// The uploaded file (`file-…`).
    pub file_id: String,
    /// The file's name as uploaded.
    pub filename: String,
    /// The chunk's position in its document, from 0.
    pub chunk_index: u32,
    /// Search score, 0..1.
    pub score: f32,
}

/// What retrieval put into a request: the sources and their highest class. Only this module
/// builds one with sources; [`Sources::none`] is the value of requests without retrieval.
#[derive(Debug, Clone)]
pub struct Sources {
    requested: bool,
    class: DataClass,
    citations: Vec<Citation>,
}

impl Sources {
    /// No retrieval (the request named no vector store).
    pub(crate) fn none() -> Sources {
        Sources { requested: false, class: DataClass::Public, citations: Vec::new() }
    }

    /// Whether the request asked for retrieval (then answers carry `annotations`, maybe empty).
    pub fn requested(&self) -> bool {
        self.requested
    }

    /// The highest class of the chunks put into the prompt (`public` when none).
    pub fn class(&self) -> DataClass {
        self.class
    }

    /// The sources given to the model, in list order.
    pub fn citations(&self) -> &[Citation] {
        &self.citations
    }

    /// The `annotations` array for an answer `text`, `None` without retrieval.
    pub fn annotations(&self, text: &str) -> Option<Value> {
        if !self.requested {
            return None;
        }
        let chars = text.chars().count();
        let list = self
            .citations
            .iter()
            .map(|c| {
                let index = text.find(&format!("[{}]", c.source)).map_or(chars, |b| text[..b].chars().count());
                json!({"type": "file_citation", "index": index, "file_id": c.file_id, "filename": c.filename,
                       "vector_store_id": c.vector_store_id, "chunk_index": c.chunk_index, "source": c.source, "score": c.score})
            })
            .collect();
        Some(Value::Array(list))
    }
}

/// A request body after retrieval: sources in the system message, retrieval keys removed.
/// The relay takes nothing else ([`super::relayed::forward`]).
#[derive(Debug)]
pub(crate) struct Grounded {
    /// The body to validate and serve (or hand to the policy gate).
    pub body: Value,
    /// What was retrieved.
    pub sources: Sources,
}

impl Grounded {
    /// A body of an endpoint without retrieval (completions, embeddings).
    pub(crate) fn plain(body: Value) -> Grounded {
        Grounded { body, sources: Sources::none() }
    }
}

/// The retrieval options of a request.
#[derive(Debug, Default)]
struct Spec {
    store_ids: Vec<String>,
    max_num_results: Option<i64>,
    filters: Option<Filter>,
    ranker: Option<String>,
    score_threshold: Option<f64>,
}

/// A `file_search` tool entry.
#[derive(Debug, Deserialize)]
struct FileSearchTool {
    vector_store_ids: Vec<String>,
    #[serde(default)]
    max_num_results: Option<i64>,
    #[serde(default)]
    filters: Option<Filter>,
    #[serde(default)]
    ranking_options: Option<Ranking>,
}

#[derive(Debug, Deserialize)]
struct Ranking {
    #[serde(default)]
    ranker: Option<String>,
    #[serde(default)]
    score_threshold: Option<f64>,
}

/// Takes the retrieval options out of `body` (removing them); `None` when it names no store.
fn take_spec(body: &mut Value) -> Result<Option<Spec>, ApiError> {
    let mut spec = Spec::default();
    let mut found = false;
    if let Some(tools) = body.get_mut("tools").and_then(Value::as_array_mut) {
        let mut kept = Vec::with_capacity(tools.len());
        for (i, t) in std::mem::take(tools).into_iter().enumerate() {
            if t.get("type").and_then(Value::as_str) != Some("file_search") {
                kept.push(t);
                continue;
            }
            let fs: FileSearchTool = serde_path_to_error::deserialize(&t).map_err(|e| ApiError::invalid(format!("tools[{i}].{}", e.path()), format!("invalid file_search tool: {}", e.into_inner())))?;
            if fs.vector_store_ids.is_empty() {
                return Err(ApiError::invalid(format!("tools[{i}].vector_store_ids"), "a file_search tool needs at least one vector store id"));
            }
            if !found {
                spec.max_num_results = fs.max_num_results;
                spec.filters = fs.filters;
                (spec.ranker, spec.score_threshold) = fs.ranking_options.map_or((None, None), |r| (r.ranker, r.score_threshold));
            }
            found = true;
            spec.store_ids.extend(fs.vector_store_ids);
        }
        *tools = kept;
    }
    if found && body.get("tools").and_then(Value::as_array).is_some_and(Vec::is_empty) {
        if let Some(o) = body.as_object_mut() {
            o.remove("tools");
            o.remove("tool_choice");
        }
    }
    if body.pointer("/tool_choice/type").and_then(Value::as_str) == Some("file_search") {
        if let Some(o) = body.as_object_mut() {
            o.remove("tool_choice");
        }
    }
    if let Some(ids) = body.get_mut("metadata").and_then(Value::as_object_mut).and_then(|m| m.remove("vector_store_ids")) {
        let ids: Vec<String> = match ids {
            Value::String(s) => s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect(),
            Value::Array(a) => a.into_iter().map(|v| v.as_str().map(str::to_string)).collect::<Option<_>>().ok_or_else(|| ApiError::invalid("metadata.vector_store_ids", "expected vector store ids as strings"))?,
            _ => return Err(ApiError::invalid("metadata.vector_store_ids", "expected a list of vector store ids or a comma-separated string")),
        };
        found |= !ids.is_empty();
        spec.store_ids.extend(ids);
    }
    let mut seen = std::collections::HashSet::new();
    spec.store_ids.retain(|id| seen.insert(id.clone()));
    Ok(found.then_some(spec))
}

/// The text of the last user message (string content or its text parts).
fn last_user_text(body: &Value) -> Option<String> {
    let m = body.get("messages")?.as_array()?.iter().rev().find(|m| m.get("role").and_then(Value::as_str) == Some("user"))?;
    let text = match m.get("content")? {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts.iter().filter_map(|p| p.get("text").and_then(Value::as_str)).collect::<Vec<_>>().join("\n"),
        _ => return None,
    };
    (!text.trim().is_empty()).then_some(text)
}

/// The source list for the system message.
fn source_block(hits: &[Hit]) -> String {
    let mut s = String::from(
        "Beantworte die Frage mit den folgenden nummerierten Quellen und nenne sie als [1], [2] usw. \
         Answer from the numbered sources below and cite them as [1], [2], etc. \
         If they do not contain the answer, say so.\n\nQuellen / Sources:",
    );
    for (i, h) in hits.iter().enumerate() {
        s.push_str(&format!("\n\n[{}] {} (Abschnitt/chunk {})\n{}", i + 1, h.source_name, h.chunk_index, h.text.trim()));
    }
    s
}

/// Puts `block` into the first system/developer message, or a new system message first.
fn insert_system(body: &mut Value, block: String) {
    let Some(msgs) = body.get_mut("messages").and_then(Value::as_array_mut) else { return };
    if let Some(first) = msgs.first_mut().filter(|m| matches!(m.get("role").and_then(Value::as_str), Some("system" | "developer"))) {
        match first.get_mut("content") {
            Some(Value::String(s)) => {
                s.push_str("\n\n");
                s.push_str(&block);
            }
            Some(Value::Array(parts)) => parts.push(json!({"type": "text", "text": block})),
            _ => first["content"] = Value::String(block),
        }
        return;
    }
    msgs.insert(0, json!({"role": "system", "content": block}));
}

/// Runs retrieval for a chat body as `who`: search, source list, removal of the retrieval
/// keys. A body that names no vector store comes back unchanged with [`Sources::none`].
///
/// # Errors
/// 400 for malformed retrieval options or a request without user text; 404 for a vector
/// store that does not exist or that the caller may not read (the same answer); 404
/// `rag_not_configured` when the box has no `[rag]`; store failures as [`ApiError::from_rag`].
pub(crate) async fn ground(st: &AppState, who: &PeerIdentity, mut body: Value) -> Result<Grounded, ApiError> {
    let Some(spec) = take_spec(&mut body)? else { return Ok(Grounded { body, sources: Sources::none() }) };
    let rag = super::rag_store(st)?;
    let query = last_user_text(&body).ok_or_else(|| ApiError::invalid("messages", "retrieval (file_search) needs a user message with text to search for"))?;
    let req = search_request(spec.store_ids, query, spec.max_num_results, DEFAULT_CHAT_RESULTS, spec.filters, spec.ranker.as_deref(), spec.score_threshold)?;
    let hits = rag.search(&super::rag_caller(who), &req).await.map_err(ApiError::from_rag)?;
    // Budget: the green model's tokens, else characters; the best chunk always goes in.
    let model = body.get("model").and_then(Value::as_str).unwrap_or_default();
    let green = st.engine.generator(model).ok();
    let budget = green.map_or(MAX_SOURCE_CHARS, |g| (g.info().context_per_sequence as f32 * GREEN_SOURCE_SHARE) as usize);
    let mut used = Vec::new();
    let mut spent = 0;
    for h in hits {
        // The list line ("[n] name (chunk i)") costs about 16 tokens on top of the text.
        spent += green.map_or_else(|| h.text.chars().count(), |g| g.tokenize(&h.text, false).len() + 16);
        if spent > budget && !used.is_empty() {
            break;
        }
        used.push(h);
    }
    let class = used.iter().map(|h| h.class).max().unwrap_or(DataClass::Public);
    let citations = used
        .iter()
        .enumerate()
        .map(|(i, h)| Citation { source: i + 1, vector_store_id: h.collection_id.clone(), file_id: h.file_id.clone(), filename: h.source_name.clone(), chunk_index: h.chunk_index, score: h.score })
        .collect();
    if !used.is_empty() {
        insert_system(&mut body, source_block(&used));
    }
    Ok(Grounded { body, sources: Sources { requested: true, class, citations } })
}

/// Whether a body still carries retrieval keys: the relay refuses such a body (fail closed
/// when a path skipped [`ground`]).
pub(crate) fn has_retrieval_keys(body: &Value) -> bool {
    let tool = body.get("tools").and_then(Value::as_array).is_some_and(|t| t.iter().any(|t| t.get("type").and_then(Value::as_str) == Some("file_search")));
    tool || body.pointer("/metadata/vector_store_ids").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_search_entries_and_metadata_ids_are_taken_out() {
        let mut b = json!({"model": "m", "messages": [{"role": "user", "content": "Urlaub?"}],
            "tools": [{"type": "file_search", "vector_store_ids": ["vs_a"], "max_num_results": 3},
                      {"type": "function", "function": {"name": "f"}}],
            "metadata": {"vector_store_ids": "vs_b, vs_a", "data_class": "internal"}});
        let s = take_spec(&mut b).unwrap().unwrap();
        assert_eq!(s.store_ids, ["vs_a", "vs_b"]);
        assert_eq!(s.max_num_results, Some(3));
        assert_eq!(b["tools"].as_array().unwrap().len(), 1);
        assert_eq!(b["metadata"], json!({"data_class": "internal"}));
        assert!(!has_retrieval_keys(&b));
    }

    #[test]
    fn a_lone_file_search_tool_leaves_no_tools_or_tool_choice() {
        let mut b = json!({"messages": [], "tools": [{"type": "file_search", "vector_store_ids": ["vs_a"]}], "tool_choice": "auto"});
        assert!(has_retrieval_keys(&b));
        take_spec(&mut b).unwrap().unwrap();
        assert!(b.get("tools").is_none() && b.get("tool_choice").is_none());
        let mut plain = json!({"messages": [], "metadata": {"x": "y"}});
        assert!(take_spec(&mut plain).unwrap().is_none());
        let mut bad = json!({"tools": [{"type": "file_search", "vector_store_ids": []}]});
        assert_eq!(take_spec(&mut bad).unwrap_err().param.as_deref(), Some("tools[0].vector_store_ids"));
    }

    #[test]
    fn sources_go_into_the_first_system_message_or_a_new_one() {
        let mut b = json!({"messages": [{"role": "system", "content": "Sei knapp."}, {"role": "user", "content": "Frage"}]});
        insert_system(&mut b, "QUELLEN".into());
        assert_eq!(b["messages"][0]["content"], "Sei knapp.\n\nQUELLEN");
        let mut b = json!({"messages": [{"role": "user", "content": "Frage"}]});
        insert_system(&mut b, "QUELLEN".into());
        assert_eq!(b["messages"][0], json!({"role": "system", "content": "QUELLEN"}));
        assert_eq!(last_user_text(&b).as_deref(), Some("Frage"));
    }

    #[test]
    fn annotations_point_at_the_first_marker_or_the_end() {
        let c = |n| Citation { source: n, vector_store_id: "vs_1".into(), file_id: format!("file-{n}"), filename: "a.md".into(), chunk_index: 2, score: 0.5 };
        let s = Sources { requested: true, class: DataClass::Internal, citations: vec![c(1), c(2)] };
        let a = s.annotations("Größe laut [2].").unwrap();
        assert_eq!(a[0]["index"], 15);
        assert_eq!(a[1]["index"], 11);
        assert_eq!(a[1]["file_id"], "file-2");
        assert_eq!(a[1]["type"], "file_citation");
        assert!(Sources::none().annotations("x").is_none());
    }
}
