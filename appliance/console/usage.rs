//! Usage: tokens per day by department, zone and model (from the ledger via
//! [`crate::accounting::report`], with its small-group rule), the month's totals, budget
//! fill levels, and the CSV download of `zonegate usage report`.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde::Deserialize;

use super::chart::{self, Series};
use super::i18n::{Lang, K};
use super::layout::{error_page, number, page, Ctx, Nav};
use super::ConsoleState;
use crate::accounting::budget::month_of;
use crate::accounting::report::{self, Dim, Row};

/// `?month=YYYY-MM&by=department,zone,model`.
#[derive(Debug, Deserialize, Default)]
pub struct UsageQuery {
    month: Option<String>,
    by: Option<String>,
}

/// Parses `YYYY-MM`.
pub fn parse_month(s: &str) -> Option<(i32, u8)> {
    let (y, m) = s.trim().split_once('-')?;
    let (y, m) = (y.parse::<i32>().ok()?, m.parse::<u8>().ok()?);
    ((1970..=9999).contains(&y) && (1..=12).contains(&m)).then_some((y, m))
}

fn days_in((y, m): (i32, u8)) -> u8 {
    time::Month::try_from(m).map_or(31, |mm| time::util::days_in_month(mm, y))
}

/// Tokens per day of the month per value of the second key, from rows keyed `[day, x]`.
pub fn per_day(rows: &[Row], month: (i32, u8)) -> BTreeMap<String, Vec<f64>> {
    let n = usize::from(days_in(month));
    let mut out: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for r in rows {
        let (Some(day), Some(x)) = (r.key.first(), r.key.get(1)) else { continue };
        let Some(d) = day.get(8..10).and_then(|d| d.parse::<usize>().ok()).filter(|d| (1..=n).contains(d)) else { continue };
        out.entry(x.clone()).or_insert_with(|| vec![0.0; n])[d - 1] += (r.prompt_tokens + r.completion_tokens) as f64;
    }
    out
}

fn zone_color(name: &str) -> Option<&'static str> {
    match name {
        "green" => Some("#2e8b57"),
        "yellow" => Some("#d4a017"),
        "red" => Some("#c0392b"),
        _ => None,
    }
}

fn label(lang: Lang, dim: Dim, v: &str) -> String {
    match (dim, v) {
        (Dim::Zone, "green") => lang.zone(crate::policy::Zone::Green).into(),
        (Dim::Zone, "yellow") => lang.zone(crate::policy::Zone::Yellow).into(),
        (Dim::Zone, "red") => lang.zone(crate::policy::Zone::Red).into(),
        _ => v.into(),
    }
}

/// `GET /usage`.
pub async fn show(ctx: Ctx, State(st): State<ConsoleState>, Query(q): Query<UsageQuery>) -> Response {
    let now = crate::accounting::unix_now();
    let month = match q.month.as_deref().filter(|m| !m.is_empty()) {
        None => month_of(now),
        Some(m) => match parse_month(m) {
            Some(m) => m,
            None => return error_page(&ctx, StatusCode::BAD_REQUEST, &format!("month: {m:?} ≠ YYYY-MM")),
        },
    };
    let month_s = format!("{:04}-{:02}", month.0, month.1);
    let Some(path) = st.app.accounting.ledger_path() else {
        return error_page(&ctx, StatusCode::SERVICE_UNAVAILABLE, ctx.t(K::NoLedger));
    };
    let cfg = &st.accounting_cfg;
    let run = |dims: &[Dim]| report::report(path, month, dims, cfg);
    let (by_dep, by_zone, by_model, totals) = match (run(&[Dim::Day, Dim::Department]), run(&[Dim::Day, Dim::Zone]), run(&[Dim::Day, Dim::Model]), run(&[Dim::Department, Dim::Zone, Dim::Model])) {
        (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
        _ => return error_page(&ctx, StatusCode::INTERNAL_SERVER_ERROR, ctx.t(K::NoLedger)),
    };
    let labels: Vec<String> = (1..=days_in(month)).map(|d| format!("{d:02}.")).collect();
    let to_series = |rows: &[Row], dim: Dim| -> Vec<Series> {
        per_day(rows, month)
            .into_iter()
            .enumerate()
            .map(|(i, (name, values))| Series { color: zone_color(&name).map_or_else(|| chart::PALETTE[i % chart::PALETTE.len()].to_string(), str::to_string), name: label(ctx.lang, dim, &name), values })
            .collect()
    };
    let charts = [(K::ByDepartment, to_series(&by_dep, Dim::Department), "chart-department"), (K::ByZone, to_series(&by_zone, Dim::Zone), "chart-zone"), (K::ByModel, to_series(&by_model, Dim::Model), "chart-model")];
    let fills = st.app.accounting.meter().fill(now);
    let body = html! {
        form.inline method="get" action="/usage" {
            label for="month" { (ctx.t(K::Month)) }
            input type="month" id="month" name="month" value=(month_s) required;
            button type="submit" { (ctx.t(K::Show)) }
            a.button href=(format!("/usage.csv?month={month_s}&by=department,zone,model")) download { (ctx.t(K::DownloadCsv)) }
        }
        @if totals.is_empty() {
            p.muted id="no-usage" { (ctx.t(K::NoUsage)) }
        }
        div.charts {
            @for (k, series, id) in &charts {
                section id=(id) {
                    h2 { (ctx.t(K::TokensPerDay)) " " (ctx.t(*k)) }
                    (chart::lines(&format!("{} {} {month_s}", ctx.t(K::TokensPerDay), ctx.t(*k)), &labels, series, 5))
                }
            }
        }
        section {
            h2 { (ctx.t(K::Totals)) " " (month_s) }
            table id="totals" {
                thead { tr { th { (ctx.t(K::Department)) } th { (ctx.t(K::Zone)) } th { (ctx.t(K::Model)) } th.num { (ctx.t(K::Requests)) } th.num { (ctx.t(K::PromptTokens)) } th.num { (ctx.t(K::CompletionTokens)) } th.num { (ctx.t(K::CostEur)) } } }
                tbody {
                    @for r in &totals {
                        tr {
                            td { (r.key[0]) } td { (label(ctx.lang, Dim::Zone, &r.key[1])) } td { code { (r.key[2]) } }
                            td.num { (number(ctx.lang, r.requests)) } td.num { (number(ctx.lang, r.prompt_tokens)) } td.num { (number(ctx.lang, r.completion_tokens)) } td.num { (format!("{:.2}", r.cost_eur)) }
                        }
                    }
                }
            }
            @if !cfg.per_user_reports { p.small { (ctx.t(K::SmallGroupsNote)) } }
        }
        section id="budgets" {
            h2 { (ctx.t(K::Budgets)) }
            @if fills.is_empty() {
                p.muted { (ctx.t(K::NoBudgets)) }
            } @else {
                table {
                    thead { tr { th { (ctx.t(K::Department)) } th { (ctx.t(K::Zone)) } th { (ctx.t(K::Limit)) } th { (ctx.t(K::Fill)) } th.num { "%" } th.num { (ctx.t(K::Warning)) } } }
                    tbody {
                        @for (b, f) in &fills {
                            tr {
                                td { (b.department) } td { span class=(format!("zone {}", b.zone.as_str())) { (ctx.lang.zone(b.zone)) } }
                                td { @if let Some(t) = b.monthly_tokens { (number(ctx.lang, t)) " Tokens " } @if let Some(e) = b.monthly_eur { (format!("{e:.2} EUR")) } }
                                td { (chart::fill_bar(*f, b.warn_at)) }
                                td.num { (format!("{:.0}", f * 100.0)) } td.num { (format!("{:.0} %", b.warn_at * 100.0)) }
                            }
                        }
                    }
                }
            }
        }
    };
    page(&ctx, Nav::Usage, ctx.t(K::NavUsage), body).into_response()
}

/// `GET /usage.csv`: the CSV of `zonegate usage report --format csv` for the month.
pub async fn csv(ctx: Ctx, State(st): State<ConsoleState>, Query(q): Query<UsageQuery>) -> Response {
    let month = match q.month.as_deref() {
        None => month_of(crate::accounting::unix_now()),
        Some(m) => match parse_month(m) {
            Some(m) => m,
            None => return (StatusCode::BAD_REQUEST, "month must be YYYY-MM\n").into_response(),
        },
    };
    let dims = match report::parse_dims(q.by.as_deref().unwrap_or("department,zone,model"), &st.accounting_cfg) {
        Ok(d) => d,
        Err(e) => return (StatusCode::BAD_REQUEST, format!("{e}\n")).into_response(),
    };
    let Some(path) = st.app.accounting.ledger_path() else {
        return error_page(&ctx, StatusCode::SERVICE_UNAVAILABLE, ctx.t(K::NoLedger));
    };
    match report::report(path, month, &dims, &st.accounting_cfg) {
        Ok(rows) => {
            let name = format!("attachment; filename=\"zonegate-usage-{:04}-{:02}.csv\"", month.0, month.1);
            ([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()), (header::CONTENT_DISPOSITION, name)], report::to_csv(&dims, &rows)).into_response()
        }
        Err(e) => {
            log::error!("console: usage report: {e}");
            (StatusCode::INTERNAL_SERVER_ERROR, "the ledger could not be read\n").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_and_days() {
        assert_eq!(parse_month("2026-11"), Some((2026, 11)));
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_month("26-1x"), None);
        assert_eq!(days_in((2028, 2)), 29);
        let row = |d: &str, x: &str, p: u64| Row { key: vec![d.into(), x.into()], requests: 1, prompt_tokens: p, completion_tokens: 1, cached_tokens: 0, cost_eur: 0.0, latency_ms_sum: 0 };
        let m = per_day(&[row("2026-11-02", "red", 9), row("2026-11-02", "red", 0), row("2026-11-30", "green", 4)], (2026, 11));
        assert_eq!(m["red"].len(), 30);
        assert_eq!((m["red"][1], m["green"][29]), (11.0, 5.0));
    }
}
