//! Knowledge: the RAG store's collections, upload with data class, delete and a test search.
//! The store (`crate::rag`) is not part of this build yet, so the page states that it is not
//! configured instead of showing anything.

use maud::{html, Markup};

use super::i18n::K;
use super::layout::{page, Ctx, Nav};

/// `GET /knowledge`.
pub async fn show(ctx: Ctx) -> Markup {
    let body = html! { p.status.muted id="knowledge-off" { (ctx.t(K::KnowledgeOff)) } };
    page(&ctx, Nav::Knowledge, ctx.t(K::NavKnowledge), body)
}
