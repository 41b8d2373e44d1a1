//! The page frame (header, navigation, language switch), the request context [`Ctx`] and
//! the error pages.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

use super::i18n::{Lang, K};
use super::ConsoleState;
use crate::tls::PeerIdentity;

/// Per request: the administrator, the language and the form token.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The verified admin identity.
    pub who: PeerIdentity,
    /// Page language: `?lang=`, else the `zg_lang` cookie, else German.
    pub lang: Lang,
    /// CSRF token for this certificate.
    pub csrf: String,
}

impl Ctx {
    /// Shorthand for `self.lang.t(k)`.
    pub fn t(&self, k: K) -> &'static str {
        self.lang.t(k)
    }
}

impl FromRequestParts<ConsoleState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, st: &ConsoleState) -> Result<Self, Self::Rejection> {
        let who = parts.extensions.get::<PeerIdentity>().filter(|w| w.is_admin()).cloned().ok_or_else(|| StatusCode::FORBIDDEN.into_response())?;
        Ok(Ctx { lang: lang_of(parts), csrf: st.csrf.token(&who.serial), who })
    }
}

/// The language of a request: `?lang=` wins over the `zg_lang` cookie; default German.
pub fn lang_of(parts: &Parts) -> Lang {
    let query = parts.uri.query().and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "lang")).and_then(|(_, v)| Lang::parse(&v));
    query
        .or_else(|| {
            parts.headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(cookie::Cookie::split_parse).filter_map(Result::ok).find(|c| c.name() == "zg_lang").and_then(|c| Lang::parse(c.value()))
        })
        .unwrap_or_default()
}

/// Which navigation entry is current.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// `/`
    Status,
    /// `/zones`
    Zones,
    /// `/usage`
    Usage,
    /// `/audit`
    Audit,
    /// `/certificates`
    Certs,
    /// `/knowledge`
    Knowledge,
    /// none (error pages)
    None,
}

/// A whole page: `title`, the navigation with `nav` marked, and `body`.
pub fn page(ctx: &Ctx, nav: Nav, title: &str, body: Markup) -> Markup {
    let items = [(Nav::Status, "/", K::NavStatus), (Nav::Zones, "/zones", K::NavZones), (Nav::Usage, "/usage", K::NavUsage), (Nav::Audit, "/audit", K::NavAudit), (Nav::Certs, "/certificates", K::NavCerts), (Nav::Knowledge, "/knowledge", K::NavKnowledge)];
    html! {
        (DOCTYPE)
        html lang=(ctx.lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="referrer" content="same-origin";
                title { (title) " · " (ctx.t(K::AppTitle)) }
                link rel="stylesheet" href="/assets/console.css";
                link rel="icon" href="data:,";
                script src="/assets/console.js" defer {}
            }
            body {
                header.top {
                    div.brand { span.logo { "zg" } (ctx.t(K::AppTitle)) }
                    nav {
                        @for (n, href, k) in items {
                            a href=(href) class=[(n == nav).then_some("current")] aria-current=[(n == nav).then_some("page")] { (ctx.t(k)) }
                        }
                    }
                    div.who {
                        span title=(format!("{} {}", ctx.t(K::Serial), ctx.who.serial)) { (ctx.t(K::SignedInAs)) " " strong { (ctx.who.user) } " (" (ctx.who.department) ")" }
                        span.lang {
                            a href="?lang=de" class=[(ctx.lang == Lang::De).then_some("current")] lang="de" { "DE" }
                            " | "
                            a href="?lang=en" class=[(ctx.lang == Lang::En).then_some("current")] lang="en" { "EN" }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
                footer { "zonegate " (crate::VERSION) " · " (crate::GIT_REVISION) }
            }
        }
    }
}

/// An error page with `status` and a message, inside the frame.
pub fn error_page(ctx: &Ctx, status: StatusCode, message: &str) -> Response {
    let body = html! { p.error role="alert" { (message) } p { a href="/" { (ctx.t(K::Back)) } } };
    (status, page(ctx, Nav::None, ctx.t(K::Error), body)).into_response()
}

/// 404 inside the frame.
pub async fn not_found(ctx: Ctx) -> Response {
    error_page(&ctx, StatusCode::NOT_FOUND, ctx.t(K::NotFound))
}

/// `YYYY-MM-DD HH:MM:SS` UTC of a Unix time.
pub fn datetime(unix: u64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(i64::try_from(unix).unwrap_or(0)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second())
}

/// Thousands separators by language (`12.345` / `12,345`).
pub fn number(lang: Lang, n: u64) -> String {
    let s = n.to_string();
    let sep = if lang == Lang::De { '.' } else { ',' };
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn ctx(lang: Lang) -> Ctx {
        Ctx { who: PeerIdentity { user: "admin<x>".into(), department: "IT".into(), role: crate::tls::Role::Admin, serial: "ab".into() }, lang, csrf: "t".into() }
    }

    #[test]
    fn frame_escapes_and_switches_language() {
        let de = page(&ctx(Lang::De), Nav::Usage, "Nutzung", html! { p { "<b>" } }).into_string();
        assert!(de.starts_with("<!DOCTYPE html>") && de.contains("<html lang=\"de\">"));
        assert!(de.contains("Prüfprotokoll") && de.contains("admin&lt;x&gt;") && de.contains("&lt;b&gt;"), "escaped: {de}");
        assert!(de.contains("href=\"/usage\" class=\"current\" aria-current=\"page\""));
        assert!(!de.contains("<script>"), "no inline script");
        let en = page(&ctx(Lang::En), Nav::Status, "Status", html! {}).into_string();
        assert!(en.contains("<html lang=\"en\">") && en.contains("Audit") && !en.contains("Prüfprotokoll"));
    }

    #[test]
    fn language_from_query_then_cookie() {
        let parts = |uri: &str, cookie: Option<&str>| {
            let mut b = axum::http::Request::builder().uri(uri);
            if let Some(c) = cookie {
                b = b.header("cookie", c);
            }
            b.body(()).unwrap().into_parts().0
        };
        assert_eq!(lang_of(&parts("/", None)), Lang::De);
        assert_eq!(lang_of(&parts("/?lang=en", None)), Lang::En);
        assert_eq!(lang_of(&parts("/", Some("a=b; zg_lang=en"))), Lang::En);
        assert_eq!(lang_of(&parts("/?lang=de", Some("zg_lang=en"))), Lang::De);
        assert_eq!(lang_of(&parts("/", Some("zg_lang=xx"))), Lang::De);
        assert_eq!(number(Lang::De, 1234567), "1.234.567");
        assert_eq!(number(Lang::En, 999), "999");
    }
}
