//! Audit: the hash chain's verification status and a paged search of the ledger by time
//! range, department, zone and decision (newest first). Shows facts only — the ledger has
//! no content to show.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;
use serde_json::Value;

use super::i18n::K;
use super::layout::{datetime, error_page, number, page, Ctx, Nav};
use super::ConsoleState;
use crate::accounting::ledger;
use crate::policy::{Decision, Zone};

/// Records per page.
pub const PAGE: usize = 50;

/// The search form (`GET /audit?from=YYYY-MM-DD&to=…&department=…&zone=…&decision=…&page=N`).
#[derive(Debug, Deserialize, Default, Clone)]
pub struct Filter {
    /// First day, inclusive (UTC).
    #[serde(default)]
    pub from: String,
    /// Last day, inclusive (UTC).
    #[serde(default)]
    pub to: String,
    /// Exact department.
    #[serde(default)]
    pub department: String,
    /// `green`, `yellow`, `red` or empty.
    #[serde(default)]
    pub zone: String,
    /// `allow`, `block`, `reroute`, `pseudonymize`, `admin` (admin actions) or empty.
    #[serde(default)]
    pub decision: String,
    /// 1-based page.
    pub page: Option<usize>,
}

fn day_start(s: &str) -> Result<Option<u64>, String> {
    if s.trim().is_empty() {
        return Ok(None);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(s.trim(), &fmt).map_err(|_| format!("{s:?} ≠ YYYY-MM-DD"))?;
    Ok(Some(u64::try_from(d.midnight().assume_utc().unix_timestamp()).unwrap_or(0)))
}

impl Filter {
    /// The time window `[from, to + 1 day)` in Unix seconds.
    ///
    /// # Errors
    /// A date that is not `YYYY-MM-DD`.
    pub fn window(&self) -> Result<(u64, u64), String> {
        Ok((day_start(&self.from)?.unwrap_or(0), day_start(&self.to)?.map_or(u64::MAX, |t| t + 86_400)))
    }

    /// Whether record `v` matches (time window `w`).
    pub fn matches(&self, v: &Value, w: (u64, u64)) -> bool {
        let t = v["time"].as_u64().unwrap_or(0);
        let eq = |field: &str, want: &str| want.is_empty() || v[field].as_str() == Some(want);
        (w.0..w.1).contains(&t)
            && eq("department", self.department.trim())
            && eq("zone", &self.zone)
            && match self.decision.as_str() {
                "" => true,
                "admin" => v["kind"] == "admin",
                "knowledge" => v["kind"] == "knowledge",
                d => v["kind"] == "request" && v["decision"].as_str() == Some(d),
            }
    }

    fn query(&self, page: usize) -> String {
        let mut s = url::form_urlencoded::Serializer::new(String::new());
        s.append_pair("from", &self.from).append_pair("to", &self.to).append_pair("department", &self.department).append_pair("zone", &self.zone).append_pair("decision", &self.decision).append_pair("page", &page.to_string());
        s.finish()
    }
}

/// `GET /audit`.
pub async fn show(ctx: Ctx, State(st): State<ConsoleState>, Query(f): Query<Filter>) -> Response {
    let window = match f.window() {
        Ok(w) => w,
        Err(e) => return error_page(&ctx, StatusCode::BAD_REQUEST, &e),
    };
    let Some(path) = st.app.accounting.ledger_path() else {
        return error_page(&ctx, StatusCode::SERVICE_UNAVAILABLE, ctx.t(K::NoLedger));
    };
    // Both read the whole file: off the async workers, so a large ledger does not stall the
    // listener's other connections.
    let (path, f2) = (path.to_path_buf(), f.clone());
    let scanned = tokio::task::spawn_blocking(move || {
        let verified = ledger::verify(&path);
        let mut hits = Vec::new();
        ledger::for_each(&path, |v| {
            if f2.matches(v, window) {
                hits.push(v.clone());
            }
        })
        .map(|()| (verified, hits))
    })
    .await;
    let (verified, mut hits) = match scanned {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            log::error!("console: audit search: {e}");
            return error_page(&ctx, StatusCode::INTERNAL_SERVER_ERROR, ctx.t(K::NoLedger));
        }
        Err(_) => return error_page(&ctx, StatusCode::INTERNAL_SERVER_ERROR, ctx.t(K::Error)),
    };
    hits.reverse();
    let pages = hits.len().div_ceil(PAGE).max(1);
    let page_no = f.page.unwrap_or(1).clamp(1, pages);
    let shown = &hits[(page_no - 1) * PAGE..(page_no * PAGE).min(hits.len())];
    let classes = |v: &Value| ["declared_class", "detected_class", "effective_class"].iter().map(|k| v[*k].as_str().map_or("–".to_string(), |c| c.parse_class(ctx.lang))).collect::<Vec<_>>().join(" / ");
    let body = html! {
        @match &verified {
            Ok(r) if r.first_broken.is_none() => p.status.ok id="chain" { "✓ " (ctx.t(K::ChainOk)) ": " (number(ctx.lang, r.records)) " " (ctx.t(K::Records)) @if r.pruned > 0 { " (" (number(ctx.lang, r.pruned)) " " (ctx.t(K::Pruned)) ")" } },
            Ok(r) => p.status.bad id="chain" role="alert" { @if let Some((n, why)) = r.first_broken { "✗ " (ctx.t(K::ChainBroken)) " " (n) ": " (why) } },
            Err(_) => p.status.muted id="chain" { (ctx.t(K::NoLedger)) },
        }
        form.filters method="get" action="/audit" {
            label { (ctx.t(K::From)) input type="date" name="from" value=(f.from); }
            label { (ctx.t(K::To)) input type="date" name="to" value=(f.to); }
            label { (ctx.t(K::Department)) input type="text" name="department" value=(f.department) maxlength="64"; }
            label { (ctx.t(K::Zone))
                select name="zone" {
                    option value="" { (ctx.t(K::Any)) }
                    @for z in Zone::ALL { option value=(z.as_str()) selected[f.zone == z.as_str()] { (ctx.lang.zone(z)) } }
                }
            }
            label { (ctx.t(K::Decision))
                select name="decision" {
                    option value="" { (ctx.t(K::Any)) }
                    @for d in [Decision::Allow, Decision::Block, Decision::Reroute, Decision::Pseudonymize] { option value=(d.as_str()) selected[f.decision == d.as_str()] { (ctx.lang.decision(d)) } }
                    option value="admin" selected[f.decision == "admin"] { (ctx.t(K::KindAdmin)) }
                    option value="knowledge" selected[f.decision == "knowledge"] { (ctx.t(K::KindKnowledge)) }
                }
            }
            button type="submit" { (ctx.t(K::Search)) }
        }
        p.small { (number(ctx.lang, hits.len() as u64)) " " (ctx.t(K::Matching)) " · " (ctx.t(K::Page)) " " (page_no) " / " (pages) }
        @if shown.is_empty() {
            p.muted { (ctx.t(K::NoRecords)) }
        } @else {
            table.dense id="audit" {
                thead { tr { th.num { "#" } th { (ctx.t(K::Time)) " (UTC)" } th { (ctx.t(K::Kind)) } th { (ctx.t(K::User)) } th { (ctx.t(K::Department)) } th { (ctx.t(K::Model)) " / " (ctx.t(K::Action)) } th { (ctx.t(K::Zone)) } th { (ctx.t(K::Classes)) } th { (ctx.t(K::Categories)) } th { (ctx.t(K::Decision)) } th.num { (ctx.t(K::Tokens)) } th.num { "EUR" } } }
                tbody {
                    @for v in shown {
                        @let admin = v["kind"] == "admin" || v["kind"] == "knowledge";
                        @let retention = v["kind"] == "retention";
                        tr class=[(admin || retention).then_some("admin")] {
                            td.num { (v["seq"].as_u64().unwrap_or(0)) }
                            td.nowrap { (datetime(v["time"].as_u64().unwrap_or(0))) }
                            td { (if v["kind"] == "knowledge" { ctx.t(K::KindKnowledge) } else if admin { ctx.t(K::KindAdmin) } else if retention { ctx.t(K::KindRetention) } else { ctx.t(K::KindRequest) }) }
                            td { @if v["pruned"] == Value::Bool(true) { span.muted title=(ctx.t(K::PrunedHint)) { "(" (ctx.t(K::Pruned)) ")" } } @else { (v["user"].as_str().unwrap_or("")) } }
                            td { (v["department"].as_str().unwrap_or("")) }
                            @if retention {
                                td colspan="8" { (v["pruned"].as_u64().unwrap_or(0)) " " (ctx.t(K::Pruned)) " · ≤ #" (v["through_seq"].as_u64().unwrap_or(0)) }
                            } @else if admin {
                                td colspan="4" { code { (v["action"].as_str().unwrap_or("")) } " " (v["target"].as_str().unwrap_or("")) }
                                td { (v["outcome"].as_str().unwrap_or("")) }
                                td.num {} td.num {}
                            } @else {
                                td { code { (v["model"].as_str().unwrap_or("")) } }
                                td { @if let Some(z) = v["zone"].as_str() { span class=(format!("zone {z}")) { (z.parse_zone(ctx.lang)) } } }
                                td { (classes(v)) }
                                td { @if let Some(o) = v["categories"].as_object() { @for (c, n) in o { span.tag { (c) " × " (n) } " " } } }
                                td class=(format!("decision {}", v["decision"].as_str().unwrap_or(""))) { (ctx.lang.decision_str(v["decision"].as_str().unwrap_or(""))) @if let Some(s) = v["upstream_status"].as_u64() { " · HTTP " (s) } }
                                td.num { (number(ctx.lang, v["prompt_tokens"].as_u64().unwrap_or(0) + v["completion_tokens"].as_u64().unwrap_or(0))) }
                                td.num { (format!("{:.4}", v["cost_eur"].as_f64().unwrap_or(0.0))) }
                            }
                        }
                    }
                }
            }
        }
        nav.pager {
            @if page_no > 1 { a href=(format!("/audit?{}", f.query(page_no - 1))) rel="prev" { (ctx.t(K::Newer)) } }
            @if page_no < pages { a href=(format!("/audit?{}", f.query(page_no + 1))) rel="next" { (ctx.t(K::Older)) } }
        }
    };
    page(&ctx, Nav::Audit, ctx.t(K::NavAudit), body).into_response()
}

/// Wire names of classes and zones to labels.
trait Labels {
    fn parse_class(&self, lang: super::Lang) -> String;
    fn parse_zone(&self, lang: super::Lang) -> String;
}

impl Labels for str {
    fn parse_class(&self, lang: super::Lang) -> String {
        crate::policy::DataClass::ALL.into_iter().find(|c| c.as_str() == self).map_or_else(|| self.to_string(), |c| lang.class(c).to_string())
    }
    fn parse_zone(&self, lang: super::Lang) -> String {
        Zone::ALL.into_iter().find(|z| z.as_str() == self).map_or_else(|| self.to_string(), |z| lang.zone(z).to_string())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_by_window_department_zone_and_decision() {
        let f = Filter { from: "2026-11-02".into(), to: "2026-11-02".into(), department: "Bauamt".into(), zone: "red".into(), decision: "block".into(), page: None };
        let w = f.window().unwrap();
        let day = 1_793_577_600; // 2026-11-02 00:00 UTC
        assert_eq!(w, (day, day + 86_400));
        let rec = |t: u64, dep: &str, zone: &str, dec: &str| json!({"time": t, "kind": "request", "department": dep, "zone": zone, "decision": dec});
        assert!(f.matches(&rec(day + 5, "Bauamt", "red", "block"), w));
        assert!(!f.matches(&rec(day - 1, "Bauamt", "red", "block"), w), "day before");
        assert!(!f.matches(&rec(day + 86_400, "Bauamt", "red", "block"), w), "day after");
        assert!(!f.matches(&rec(day + 5, "Kämmerei", "red", "block"), w));
        assert!(!f.matches(&rec(day + 5, "Bauamt", "yellow", "block"), w));
        assert!(!f.matches(&rec(day + 5, "Bauamt", "red", "allow"), w));
        let admins = Filter { decision: "admin".into(), ..Filter::default() };
        assert!(admins.matches(&json!({"time": 1, "kind": "admin"}), admins.window().unwrap()));
        assert!(!admins.matches(&rec(1, "", "", "allow"), admins.window().unwrap()));
        assert!(Filter { from: "2.11.2026".into(), ..Filter::default() }.window().is_err());
        assert!(f.query(3).contains("department=Bauamt") && f.query(3).contains("page=3"));
    }
}
