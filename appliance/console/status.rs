//! Status page: build, uptime, memory, throughput, models with their queues, upstream health.

use std::sync::atomic::Ordering::Relaxed;

use axum::extract::State;
use maud::{html, Markup};

use super::chart::{self, Series};
use super::i18n::K;
use super::layout::{datetime, number, page, Ctx, Nav};
use super::ConsoleState;
use crate::config::ModelRole;
use crate::engine::Engine;

/// Seconds between throughput samples.
pub const SAMPLE_SECS: u64 = 5;
/// Samples kept (ten minutes).
pub const SAMPLES: usize = 121;

/// Completion tokens of all models since start.
pub fn completion_total(engine: &Engine) -> u64 {
    engine.models().map(|m| m.stats().completion_tokens.load(Relaxed)).sum()
}

/// Resident set size of this process in bytes (`VmRSS` of `/proc/self/status`, proc(5)).
pub fn rss_bytes() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = s.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()?;
    Some(kb * 1024)
}

/// Tokens per second between consecutive samples.
pub fn rates(samples: &[(u64, u64)]) -> Vec<f64> {
    samples.windows(2).map(|w| if w[1].0 > w[0].0 { w[1].1.saturating_sub(w[0].1) as f64 / (w[1].0 - w[0].0) as f64 } else { 0.0 }).collect()
}

fn duration(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    if d > 0 {
        format!("{d} d {h} h {m} min")
    } else if h > 0 {
        format!("{h} h {m} min")
    } else {
        format!("{m} min {} s", secs % 60)
    }
}

/// `GET /`.
pub async fn show(ctx: Ctx, State(st): State<ConsoleState>) -> Markup {
    render(&ctx, &st)
}

fn render(ctx: &Ctx, st: &ConsoleState) -> Markup {
    let now = crate::accounting::unix_now();
    let samples: Vec<(u64, u64)> = st.samples.lock().unwrap_or_else(|e| e.into_inner()).iter().copied().collect();
    // Last minute: compare with the newest sample at least 60 s old, or the oldest we have.
    let total = completion_total(&st.app.engine);
    let base = samples.iter().rev().find(|(t, _)| now.saturating_sub(*t) >= 60).or(samples.first()).copied();
    let per_sec = base.filter(|(t, _)| now > *t).map_or(0.0, |(t, n)| total.saturating_sub(n) as f64 / (now - t) as f64);
    let mut all = samples.clone();
    all.push((now, total));
    let r = rates(&all);
    let labels: Vec<String> = all.iter().skip(1).map(|(t, _)| datetime(*t)[11..16].to_string()).collect();
    let series = vec![Series { name: ctx.t(K::TokensPerSecond).into(), values: r, color: chart::PALETTE[0].into() }];
    let health = st.app.relay.health();
    let body = html! {
        section.cards {
            div.card { h2 { (ctx.t(K::Build)) } p.big { (crate::VERSION) } p.small { (ctx.t(K::Revision)) ": " code { (crate::GIT_REVISION) } br; (ctx.t(K::Features)) ": " code { (crate::FEATURES) } } }
            div.card { h2 { (ctx.t(K::Uptime)) } p.big { (duration(now.saturating_sub(st.started))) } p.small { (datetime(st.started)) " UTC" } }
            div.card { h2 { (ctx.t(K::Memory)) } p.big { (rss_bytes().map_or("?".to_string(), |b| format!("{:.1} MiB", b as f64 / 1_048_576.0))) } }
            div.card { h2 { (ctx.t(K::Throughput)) } p.big id="throughput" { (format!("{per_sec:.1}")) } p.small { (ctx.t(K::TokensPerSecond)) } }
        }
        section {
            h2 { (ctx.t(K::ThroughputChart)) }
            (chart::lines(ctx.t(K::ThroughputChart), &labels, &series, 12))
        }
        section {
            h2 { (ctx.t(K::Models)) }
            table {
                thead { tr { th { (ctx.t(K::Model)) } th { (ctx.t(K::Role)) } th.num { (ctx.t(K::Parallel)) } th.num { (ctx.t(K::ContextPerSeq)) } th.num { (ctx.t(K::Queued)) } th.num { (ctx.t(K::Active)) } th.num { (ctx.t(K::PromptTokens)) } th.num { (ctx.t(K::CompletionTokens)) } } }
                tbody {
                    @for m in st.app.engine.models() {
                        @let (i, s) = (m.info(), m.stats());
                        tr {
                            td { code { (i.id) } } td { (if i.role == ModelRole::Chat { "chat" } else { "embedding" }) }
                            td.num { (i.parallel) } td.num { (number(ctx.lang, u64::from(i.context_per_sequence))) }
                            td.num { (s.queued.load(Relaxed)) } td.num { (s.active.load(Relaxed)) }
                            td.num { (number(ctx.lang, s.prompt_tokens.load(Relaxed))) } td.num { (number(ctx.lang, s.completion_tokens.load(Relaxed))) }
                        }
                    }
                }
            }
        }
        section {
            h2 { (ctx.t(K::Upstreams)) }
            @if health.is_empty() {
                p.muted { (ctx.t(K::NoUpstreams)) }
            } @else {
                table {
                    thead { tr { th { "Id" } th { (ctx.t(K::Zone)) } th { (ctx.t(K::Address)) } th { (ctx.t(K::Models2)) } th.num { (ctx.t(K::Answered)) } th.num { (ctx.t(K::Failed)) } th { (ctx.t(K::LastOutcome)) } } }
                    tbody {
                        @for h in &health {
                            tr {
                                td { code { (h.id) } } td { span class=(format!("zone {}", h.zone.as_str())) { (ctx.lang.zone(h.zone)) } } td { code { (h.origin) } }
                                td { (h.models.join(", ")) } td.num { (h.ok) } td.num { (h.failed) }
                                td {
                                    @match &h.last {
                                        None => span.muted { (ctx.t(K::Never)) },
                                        Some(Ok(())) => span.ok { (ctx.t(K::Healthy)) },
                                        Some(Err(e)) => span.bad { (e) },
                                    }
                                    @if let Some(t) = h.last_at { br; span.small { (datetime(t)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
        p.small { (ctx.t(K::LedgerFailures)) ": " (st.app.accounting.ledger_failures()) }
    };
    page(ctx, Nav::Status, ctx.t(K::NavStatus), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_memory() {
        assert_eq!(rates(&[(0, 0), (5, 50), (10, 50), (10, 60)]), vec![10.0, 0.0, 0.0]);
        assert!(rss_bytes().is_some_and(|b| b > 1_000_000), "this test process has an RSS");
        assert_eq!(duration(3_725), "1 h 2 min");
        assert_eq!(duration(42), "0 min 42 s");
    }
}
