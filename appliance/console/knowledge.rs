//! Knowledge: the RAG store's collections (OpenAI "vector stores") — list, create with class,
//! owner department and read access, delete; per collection its documents, upload with a
//! data class (never looser than the collection's), delete, and a test search (hybrid,
//! lexical or vector) that shows what a chat retrieval would find.
//!
//! The console acts as [`crate::rag::Caller`] of the signed-in admin, so the store's own
//! rules apply (admins read and write every collection). Creating and deleting collections,
//! uploading and removing documents are admin actions in the ledger, named by ids only (no
//! file names, no text). Search queries travel in POST bodies, never in URLs, and are
//! neither logged nor stored.

use std::collections::BTreeMap;

use axum::extract::{Form, Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::i18n::K;
use super::layout::{error_page, page, Ctx, Nav};
use super::{record_admin, refuse_forged, ConsoleState};
use crate::accounting::AdminAction;
use crate::policy::DataClass;
use crate::rag::{Access, Caller, Collection, Hit, IngestStatus, NewCollection, Rag, RagError, SearchMode, SearchRequest};

/// Largest test query, in bytes.
pub const MAX_QUERY_BYTES: usize = 4096;
/// Characters of a hit's text shown in the test search.
const EXCERPT_CHARS: usize = 400;

fn caller(ctx: &Ctx) -> Caller {
    Caller::from_identity(&ctx.who)
}

/// The message shown for a store error: the store's own wording for what the admin can fix
/// (names, classes, unreadable files), a generic one for internal failures (logged).
fn message(ctx: &Ctx, e: &RagError) -> String {
    match e {
        RagError::Store(_) | RagError::Embedding(_) => {
            log::error!("console: knowledge store: {e}");
            format!("{}: {e}", ctx.t(K::Error))
        }
        other => other.to_string(),
    }
}

fn status_of(e: &RagError) -> StatusCode {
    match e {
        RagError::NotFound(_) => StatusCode::NOT_FOUND,
        RagError::Invalid(_) | RagError::Unreadable { .. } | RagError::ModelMismatch(_) => StatusCode::BAD_REQUEST,
        RagError::Embedding(_) | RagError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `?c=` selects a collection; `done=` shows what the last form did.
#[derive(Debug, Deserialize, Default)]
pub struct Select {
    c: Option<String>,
    done: Option<String>,
}

/// What a form post leaves for the page: per-file upload outcomes or search hits.
enum Outcome {
    Nothing,
    /// Per file: its outcome, `Ok(None)` while it is still being ingested in the background.
    Uploaded(Vec<(String, Result<Option<IngestStatus>, String>)>),
    Searched { query: String, mode: SearchMode, hits: Result<Vec<Hit>, String> },
}

/// `GET /knowledge`.
pub async fn show(ctx: Ctx, State(st): State<ConsoleState>, Query(sel): Query<Select>) -> Response {
    let Some(rag) = st.app.rag.clone() else {
        let body = html! { p.status.muted id="knowledge-off" { (ctx.t(K::KnowledgeOff)) } };
        return page(&ctx, Nav::Knowledge, ctx.t(K::NavKnowledge), body).into_response();
    };
    let flash = match sel.done.as_deref() {
        Some("created") => Some(K::CollectionCreatedFlash),
        Some("deleted") => Some(K::CollectionDeletedFlash),
        Some("removed") => Some(K::DocumentRemovedFlash),
        _ => None,
    };
    render(&ctx, &st, &rag, sel.c.as_deref(), flash, Outcome::Nothing)
}

fn access_text(ctx: &Ctx, a: &Access) -> String {
    match a {
        Access::Everyone => ctx.t(K::ReadEveryone).to_string(),
        Access::Departments(d) if d.is_empty() => ctx.t(K::ReadOwner).to_string(),
        Access::Departments(d) => format!("{}: {}", ctx.t(K::ReadDepartments), d.join(", ")),
        Access::Users(u) => format!("{}: {}", ctx.t(K::ReadUsers), u.join(", ")),
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / f64::from(1u32 << 20)),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

fn date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix).map_or_else(|_| "–".into(), |t| format!("{} {:02}:{:02}", t.date(), t.hour(), t.minute()))
}

fn excerpt(text: &str) -> String {
    let mut s: String = text.chars().take(EXCERPT_CHARS).collect();
    if text.chars().count() > EXCERPT_CHARS {
        s.push('…');
    }
    s
}

fn class_select(ctx: &Ctx, id: &str, min: DataClass, selected: DataClass) -> Markup {
    html! {
        select id=(id) name="class" {
            @for c in DataClass::ALL.into_iter().filter(|c| *c >= min) { option value=(c.as_str()) selected[c == selected] { (ctx.lang.class(c)) } }
        }
    }
}

fn render(ctx: &Ctx, st: &ConsoleState, rag: &Rag, selected: Option<&str>, flash: Option<K>, outcome: Outcome) -> Response {
    let who = caller(ctx);
    let colls = match rag.list_collections(&who) {
        Ok(c) => c,
        Err(e) => return error_page(ctx, status_of(&e), &message(ctx, &e)),
    };
    let current: Option<&Collection> = selected.and_then(|s| colls.iter().find(|c| c.id == s || c.name == s));
    if selected.is_some() && current.is_none() {
        return error_page(ctx, StatusCode::NOT_FOUND, ctx.t(K::NoSuchCollection));
    }
    let docs = match current.map(|c| rag.list_documents(&who, &c.id)).transpose() {
        Ok(d) => d.unwrap_or_default(),
        Err(e) => return error_page(ctx, status_of(&e), &message(ctx, &e)),
    };
    let body = html! {
        @if let Some(k) = flash { p.status.ok role="status" id="flash" { (ctx.t(k)) } }
        section id="collections" {
            h2 { (ctx.t(K::Collections)) }
            p.small { (ctx.t(K::EmbeddingModel)) ": " code { (rag.embedding_model().unwrap_or("–")) } }
            @if colls.is_empty() {
                p.muted id="no-collections" { (ctx.t(K::NoCollections)) }
            } @else {
                table.dense id="collection-list" {
                    thead { tr { th { (ctx.t(K::Name)) } th { (ctx.t(K::DataClassLabel)) } th { (ctx.t(K::OwnerDepartment)) } th { (ctx.t(K::ReadAccess)) } th.num { (ctx.t(K::Documents)) } th.num { (ctx.t(K::Chunks)) } th.num { (ctx.t(K::Size)) } th { (ctx.t(K::Created)) } th { (ctx.t(K::Delete)) } } }
                    tbody {
                        @for c in &colls {
                            tr data-collection=(c.id) data-class=(c.class.as_str()) {
                                td { a href=(format!("/knowledge?c={}", c.id)) { (c.name) } br; code.small { (c.id) } }
                                td { (ctx.lang.class(c.class)) }
                                td { (c.owner_department) }
                                td { (access_text(ctx, &c.read)) }
                                td.num { (c.document_count) } td.num { (c.chunk_count) } td.num.nowrap { (size(c.bytes)) }
                                td.nowrap { (date(c.created_at)) }
                                td {
                                    form method="post" action="/knowledge/collections/delete" data-confirm=(ctx.t(K::ConfirmDeleteCollection)) {
                                        input type="hidden" name="csrf" value=(ctx.csrf);
                                        input type="hidden" name="collection" value=(c.id);
                                        button.danger type="submit" { (ctx.t(K::Delete)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(c) = current {
            (collection_view(ctx, c, &docs, &outcome))
        }
        section id="create" {
            h2 { (ctx.t(K::NewCollection)) }
            form.issue method="post" action="/knowledge/collections" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                label { (ctx.t(K::Name)) input type="text" name="name" required maxlength="128" autocomplete="off"; }
                label { (ctx.t(K::DataClassLabel)) (class_select(ctx, "new-class", DataClass::Public, st.app.policy.default_class)) }
                label { (ctx.t(K::OwnerDepartment)) input type="text" name="owner_department" required maxlength="64" autocomplete="off"; }
                label { (ctx.t(K::ReadAccess))
                    select name="read" {
                        option value="owner" { (ctx.t(K::ReadOwner)) }
                        option value="departments" { (ctx.t(K::ReadDepartments)) }
                        option value="users" { (ctx.t(K::ReadUsers)) }
                        option value="everyone" { (ctx.t(K::ReadEveryone)) }
                    }
                }
                label { (ctx.t(K::ReadNames)) input type="text" name="read_names" maxlength="1024" autocomplete="off"; }
                button type="submit" { (ctx.t(K::Create)) }
            }
        }
    };
    let title = current.map_or_else(|| ctx.t(K::NavKnowledge).to_string(), |c| format!("{} – {}", ctx.t(K::NavKnowledge), c.name));
    let status = match &outcome {
        Outcome::Uploaded(v) if !v.is_empty() && v.iter().all(|(_, r)| r.is_err()) => StatusCode::BAD_REQUEST,
        Outcome::Searched { hits: Err(_), .. } => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    (status, page(ctx, Nav::Knowledge, &title, body)).into_response()
}

fn collection_view(ctx: &Ctx, c: &Collection, docs: &[crate::rag::Document], outcome: &Outcome) -> Markup {
    let (query, mode) = match outcome {
        Outcome::Searched { query, mode, .. } => (query.as_str(), *mode),
        _ => ("", SearchMode::Hybrid),
    };
    html! {
        section id="collection" data-collection=(c.id) {
            h2 { (ctx.t(K::Collection)) ": " (c.name) }
            dl.facts {
                dt { "Id" } dd { code { (c.id) } }
                dt { (ctx.t(K::DataClassLabel)) } dd { (ctx.lang.class(c.class)) }
                dt { (ctx.t(K::EmbeddingModel)) } dd { code { (c.embedding_model.as_deref().unwrap_or("–")) } @if c.dims > 0 { " (" (c.dims) " dim)" } }
            }
            @if let Outcome::Uploaded(results) = outcome {
                ul.result id="upload-result" {
                    @for (name, r) in results {
                        @match r {
                            Ok(Some(s)) => li.ok data-status=(status_name(*s)) { (name) ": " (ctx.t(match s { IngestStatus::Added => K::Added, IngestStatus::Replaced => K::Replaced, IngestStatus::Unchanged => K::Unchanged })) },
                            Ok(None) => li.pending data-status="in_progress" { (name) ": " (ctx.t(K::InBackground)) },
                            Err(e) => li.error role="alert" data-status="failed" { (name) ": " (e) },
                        }
                    }
                }
            }
            h3 { (ctx.t(K::Documents)) }
            @if docs.is_empty() {
                p.muted id="no-documents" { (ctx.t(K::NoDocuments)) }
            } @else {
                table.dense id="documents" {
                    thead { tr { th { (ctx.t(K::SourceName)) } th { (ctx.t(K::DataClassLabel)) } th.num { (ctx.t(K::Chunks)) } th { (ctx.t(K::Updated)) } th { (ctx.t(K::Delete)) } } }
                    tbody {
                        @for d in docs {
                            tr data-file=(d.file_id) {
                                td { (d.source_name) br; code.small { (d.file_id) } }
                                td { (ctx.lang.class(d.class)) }
                                td.num { (d.chunk_count) }
                                td.nowrap { (date(d.updated_at)) }
                                td {
                                    form method="post" action="/knowledge/documents/delete" data-confirm=(ctx.t(K::ConfirmDeleteDocument)) {
                                        input type="hidden" name="csrf" value=(ctx.csrf);
                                        input type="hidden" name="collection" value=(c.id);
                                        input type="hidden" name="file" value=(d.file_id);
                                        button.danger type="submit" { (ctx.t(K::Delete)) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h3 { (ctx.t(K::Upload)) }
            form.issue method="post" action="/knowledge/upload" enctype="multipart/form-data" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                input type="hidden" name="collection" value=(c.id);
                label { (ctx.t(K::Files)) input type="file" name="file" multiple required accept=".pdf,.docx,.odt,.html,.htm,.md,.markdown,.txt,.text"; }
                label { (ctx.t(K::DataClassLabel)) (class_select(ctx, "upload-class", c.class, c.class)) }
                button type="submit" { (ctx.t(K::Upload)) }
            }
            p.small { (ctx.t(K::UploadHelp)) }
            h3 { (ctx.t(K::TestSearch)) }
            form method="post" action="/knowledge/search" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                input type="hidden" name="collection" value=(c.id);
                div.row {
                    label for="query" { (ctx.t(K::Query)) }
                    input type="search" id="query" name="query" value=(query) required maxlength=(MAX_QUERY_BYTES) autocomplete="off";
                    select name="mode" aria-label=(ctx.t(K::SearchModeLabel)) {
                        @for (m, v, k) in MODES { option value=(v) selected[m == mode] { (ctx.t(k)) } }
                    }
                    button type="submit" { (ctx.t(K::Search)) }
                }
            }
            @if let Outcome::Searched { hits, .. } = outcome {
                @match hits {
                    Err(e) => p.error role="alert" { (e) },
                    Ok(h) if h.is_empty() => p.muted id="no-hits" { (ctx.t(K::NoHits)) },
                    Ok(h) => ol.hits id="hits" {
                        @for hit in h {
                            li data-file=(hit.file_id) data-chunk=(hit.chunk_index) {
                                strong { (hit.source_name) } " · " (ctx.t(K::Chunk)) " " (hit.chunk_index) " · " (ctx.lang.class(hit.class)) " · " span.score { (format!("{:.3}", hit.score)) }
                                blockquote { (excerpt(&hit.text)) }
                            }
                        }
                    },
                }
            }
        }
    }
}

/// `file-` and 24 hex digits: what may be written to the ledger as a file.
fn is_file_id(s: &str) -> bool {
    s.strip_prefix("file-").is_some_and(|h| h.len() == 24 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn status_name(s: IngestStatus) -> &'static str {
    match s {
        IngestStatus::Added => "added",
        IngestStatus::Replaced => "replaced",
        IngestStatus::Unchanged => "unchanged",
    }
}

const MODES: [(SearchMode, &str, K); 3] = [(SearchMode::Hybrid, "hybrid", K::ModeHybrid), (SearchMode::Lexical, "lexical", K::ModeLexical), (SearchMode::Vector, "vector", K::ModeVector)];

/// 409 for a form posted to a console without a store.
fn not_set_up(ctx: &Ctx) -> Response {
    error_page(ctx, StatusCode::CONFLICT, ctx.t(K::KnowledgeOff))
}

/// The create form.
#[derive(Debug, Deserialize)]
pub struct CreateForm {
    csrf: String,
    name: String,
    class: String,
    owner_department: String,
    read: String,
    #[serde(default)]
    read_names: String,
}

/// The read access of a create form: `owner`, `everyone`, `departments` or `users` with a
/// comma-separated list.
fn parse_access(read: &str, names: &str) -> Result<Access, String> {
    let list: Vec<String> = names.split(',').map(str::trim).filter(|x| !x.is_empty()).map(String::from).collect();
    match read {
        "owner" => Ok(Access::Departments(Vec::new())),
        "everyone" => Ok(Access::Everyone),
        "departments" | "users" if list.is_empty() => Err(format!("read_names: name at least one entry for read access {read:?} (comma-separated)")),
        "departments" => Ok(Access::Departments(list)),
        "users" => Ok(Access::Users(list)),
        other => Err(format!("read: {other:?} is not one of owner, everyone, departments, users")),
    }
}

fn parse_class(s: &str) -> Result<DataClass, String> {
    DataClass::ALL.into_iter().find(|c| c.as_str() == s).ok_or_else(|| format!("class: {s:?} is not a data class"))
}

/// `POST /knowledge/collections`.
pub async fn create(ctx: Ctx, State(st): State<ConsoleState>, headers: HeaderMap, uri: Uri, Form(f): Form<CreateForm>) -> Response {
    if let Some(r) = refuse_forged(&ctx, &st, &f.csrf, &headers, &uri) {
        return r;
    }
    let Some(rag) = st.app.rag.clone() else { return not_set_up(&ctx) };
    let spec = match (parse_class(&f.class), parse_access(&f.read, &f.read_names)) {
        (Ok(class), Ok(read)) => NewCollection { name: f.name.trim().to_string(), class, owner_department: f.owner_department.trim().to_string(), read, attributes: BTreeMap::new() },
        (Err(e), _) | (_, Err(e)) => return error_page(&ctx, StatusCode::BAD_REQUEST, &e),
    };
    if spec.owner_department.is_empty() {
        return error_page(&ctx, StatusCode::BAD_REQUEST, "owner_department: name the department that owns the collection");
    }
    match rag.create_collection(&caller(&ctx), spec) {
        Ok(c) => {
            record_admin(&st, &ctx, AdminAction::CollectionCreated, format!("collection {} class {}", c.id, c.class), true);
            Redirect::to(&format!("/knowledge?c={}&done=created", c.id)).into_response()
        }
        Err(e) => {
            record_admin(&st, &ctx, AdminAction::CollectionCreated, "collection (not created)".into(), false);
            error_page(&ctx, status_of(&e), &message(&ctx, &e))
        }
    }
}

/// The id of the collection a form names (by id or name). When there is none, the failed
/// `action` is recorded without the form's text (the ledger holds ids only) and the error
/// page comes back.
fn collection_id(st: &ConsoleState, ctx: &Ctx, rag: &Rag, action: AdminAction, named: &str) -> Result<String, Box<Response>> {
    rag.get_collection(&caller(ctx), named).map(|c| c.id).map_err(|e| {
        record_admin(st, ctx, action, "collection (not found)".into(), false);
        Box::new(error_page(ctx, status_of(&e), &message(ctx, &e)))
    })
}

/// A form naming a collection (and for documents, a file).
#[derive(Debug, Deserialize)]
pub struct TargetForm {
    csrf: String,
    collection: String,
    file: Option<String>,
}

/// `POST /knowledge/collections/delete`: the collection with all its documents; files that
/// no other collection holds are deleted too.
pub async fn delete_collection(ctx: Ctx, State(st): State<ConsoleState>, headers: HeaderMap, uri: Uri, Form(f): Form<TargetForm>) -> Response {
    if let Some(r) = refuse_forged(&ctx, &st, &f.csrf, &headers, &uri) {
        return r;
    }
    let Some(rag) = st.app.rag.clone() else { return not_set_up(&ctx) };
    let who = caller(&ctx);
    // The ledger names collections by id only, never by what the form said.
    let id = match collection_id(&st, &ctx, &rag, AdminAction::CollectionDeleted, &f.collection) {
        Ok(id) => id,
        Err(page) => return *page,
    };
    let files: Vec<String> = rag.list_documents(&who, &id).map(|d| d.into_iter().map(|d| d.file_id).collect()).unwrap_or_default();
    match rag.delete_collection(&who, &id) {
        Ok(()) => {
            for file in &files {
                if let Err(e) = rag.purge_orphan_file(&who, file) {
                    log::warn!("console: collection {id} deleted, its file {file} kept: {e}");
                }
            }
            record_admin(&st, &ctx, AdminAction::CollectionDeleted, format!("collection {id}"), true);
            Redirect::to("/knowledge?done=deleted").into_response()
        }
        Err(e) => {
            record_admin(&st, &ctx, AdminAction::CollectionDeleted, format!("collection {id}"), false);
            error_page(&ctx, status_of(&e), &message(&ctx, &e))
        }
    }
}

/// `POST /knowledge/documents/delete`: removes the document from the collection and deletes
/// its file when no other collection holds it.
pub async fn delete_document(ctx: Ctx, State(st): State<ConsoleState>, headers: HeaderMap, uri: Uri, Form(f): Form<TargetForm>) -> Response {
    if let Some(r) = refuse_forged(&ctx, &st, &f.csrf, &headers, &uri) {
        return r;
    }
    let Some(rag) = st.app.rag.clone() else { return not_set_up(&ctx) };
    let Some(file) = f.file.as_deref() else {
        return error_page(&ctx, StatusCode::BAD_REQUEST, "file: missing");
    };
    let who = caller(&ctx);
    let id = match collection_id(&st, &ctx, &rag, AdminAction::DocumentRemoved, &f.collection) {
        Ok(id) => id,
        Err(page) => return *page,
    };
    let target = format!("collection {id} file {}", if is_file_id(file) { file } else { "(not a file id)" });
    match rag.remove_file(&who, &id, file) {
        Ok(()) => {
            if let Err(e) = rag.purge_orphan_file(&who, file) {
                log::warn!("console: document removed, its file {file} kept: {e}");
            }
            record_admin(&st, &ctx, AdminAction::DocumentRemoved, target, true);
            Redirect::to(&format!("/knowledge?c={id}&done=removed")).into_response()
        }
        Err(e) => {
            record_admin(&st, &ctx, AdminAction::DocumentRemoved, target, false);
            error_page(&ctx, status_of(&e), &message(&ctx, &e))
        }
    }
}

/// `POST /knowledge/upload` (`multipart/form-data`): fields `csrf`, `collection`, `class` and
/// one or more `file` parts. Each file is ingested on its own: an unreadable one is reported
/// with its reason and stores nothing, the others are kept; files not done within
/// `[rag] add_file_wait_secs` are reported as being ingested in the background. The request body is
/// limited to the API's upload limit (`[rag] max_file_bytes` plus framing).
pub async fn upload(ctx: Ctx, State(st): State<ConsoleState>, headers: HeaderMap, uri: Uri, mut form: Multipart) -> Response {
    let (mut csrf, mut collection, mut class, mut files) = (None, None, None, Vec::new());
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return error_page(&ctx, e.status(), &format!("{}: {}", ctx.t(K::Upload), e.body_text())),
        };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().map(str::to_string);
        let data = match field.bytes().await {
            Ok(d) => d,
            Err(e) => return error_page(&ctx, e.status(), &format!("{}: {}", ctx.t(K::Upload), e.body_text())),
        };
        match name.as_str() {
            "csrf" => csrf = Some(String::from_utf8_lossy(&data).into_owned()),
            "collection" => collection = Some(String::from_utf8_lossy(&data).into_owned()),
            "class" => class = Some(String::from_utf8_lossy(&data).into_owned()),
            "file" => {
                // Browsers send the bare name; anything path-like is cut to its last part.
                if let Some(n) = file_name.filter(|n| !n.is_empty()) {
                    match crate::rag::valid_filename(&n) {
                        Ok(n) => files.push((n, data)),
                        Err(e) => return error_page(&ctx, StatusCode::BAD_REQUEST, &e.to_string()),
                    }
                }
            }
            _ => {}
        }
    }
    if let Some(r) = refuse_forged(&ctx, &st, csrf.as_deref().unwrap_or_default(), &headers, &uri) {
        return r;
    }
    let Some(rag) = st.app.rag.clone() else { return not_set_up(&ctx) };
    let Some(collection) = collection else {
        return error_page(&ctx, StatusCode::BAD_REQUEST, "collection: missing");
    };
    let class = match class.as_deref().map(parse_class).transpose() {
        Ok(c) => c,
        Err(e) => return error_page(&ctx, StatusCode::BAD_REQUEST, &e),
    };
    if files.is_empty() {
        return error_page(&ctx, StatusCode::BAD_REQUEST, ctx.t(K::NoFileChosen));
    }
    let collection = match collection_id(&st, &ctx, &rag, AdminAction::DocumentUploaded, &collection) {
        Ok(id) => id,
        Err(page) => return *page,
    };
    // Ingest in a task of its own: a closed browser tab does not stop it, and what takes
    // longer than the add wait goes on in the background (its admin record follows when done).
    let names: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    {
        let (rag, st, ctx, collection) = (rag.clone(), st.clone(), ctx.clone(), collection.clone());
        tokio::spawn(async move {
            let who = caller(&ctx);
            for (i, (name, data)) in files.into_iter().enumerate() {
                let done = rag.ingest_bytes(&who, &collection, &name, &data, class, BTreeMap::new()).await;
                match &done {
                    Ok((doc, status)) => record_admin(&st, &ctx, AdminAction::DocumentUploaded, format!("collection {} file {} {}", doc.collection_id, doc.file_id, status_name(*status)), true),
                    Err(_) => record_admin(&st, &ctx, AdminAction::DocumentUploaded, format!("collection {collection} (failed)"), false),
                }
                // The page may have answered already; the record above is what counts then.
                let _ = tx.send((i, done.map(|(_, s)| s)));
            }
        });
    }
    let mut results: Vec<(String, Result<Option<IngestStatus>, String>)> = names.into_iter().map(|n| (n, Ok(None))).collect();
    let wait = rag.add_wait();
    let deadline = tokio::time::Instant::now() + wait;
    // No wait at all: answer at once (a zero deadline would still race the timer's tick).
    while !wait.is_zero() {
        let Ok(Some((i, r))) = tokio::time::timeout_at(deadline, rx.recv()).await else { break };
        results[i].1 = match r {
            Err(RagError::NotFound(_)) => return error_page(&ctx, StatusCode::NOT_FOUND, ctx.t(K::NoSuchCollection)),
            Ok(s) => Ok(Some(s)),
            Err(e) => Err(message(&ctx, &e)),
        };
    }
    render(&ctx, &st, &rag, Some(&collection), None, Outcome::Uploaded(results))
}

/// The test-search form.
#[derive(Debug, Deserialize)]
pub struct SearchForm {
    csrf: String,
    collection: String,
    query: String,
    mode: Option<String>,
}

/// `POST /knowledge/search`: the ten best chunks, as a chat retrieval would find them.
pub async fn search(ctx: Ctx, State(st): State<ConsoleState>, headers: HeaderMap, uri: Uri, Form(f): Form<SearchForm>) -> Response {
    if let Some(r) = refuse_forged(&ctx, &st, &f.csrf, &headers, &uri) {
        return r;
    }
    let Some(rag) = st.app.rag.clone() else { return not_set_up(&ctx) };
    if f.query.len() > MAX_QUERY_BYTES {
        return error_page(&ctx, StatusCode::PAYLOAD_TOO_LARGE, &format!("query: more than {MAX_QUERY_BYTES} bytes"));
    }
    let mode = MODES.iter().find(|(_, v, _)| Some(*v) == f.mode.as_deref()).map_or(SearchMode::Hybrid, |(m, _, _)| *m);
    let req = SearchRequest { collection_ids: vec![f.collection.clone()], query: f.query.clone(), max_results: 10, filter: None, score_threshold: None, mode };
    let hits = match rag.search(&caller(&ctx), &req).await {
        Err(RagError::NotFound(_)) => return error_page(&ctx, StatusCode::NOT_FOUND, ctx.t(K::NoSuchCollection)),
        r => r.map_err(|e| message(&ctx, &e)),
    };
    render(&ctx, &st, &rag, Some(&f.collection), None, Outcome::Searched { query: f.query, mode, hits })
}
