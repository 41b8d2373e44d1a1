//! Charts as server-rendered inline SVG (no JavaScript): multi-series line charts over a
//! category axis, and horizontal fill bars. Colours are presentation attributes, so the
//! console's CSP (no inline styles) holds.

use maud::{html, Markup};

/// Series colours, chosen to stay distinguishable in greyscale print too.
pub const PALETTE: [&str; 8] = ["#1f5fa8", "#d9822b", "#2e8b57", "#8e44ad", "#c0392b", "#16a2b8", "#7f8c8d", "#b8860b"];

/// One line of a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub name: String,
    /// One value per x label.
    pub values: Vec<f64>,
    /// Stroke colour (CSS colour).
    pub color: String,
}

const W: f64 = 720.0;
const H: f64 = 260.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// A "nice" upper bound ≥ `max` (1, 2, 4 or 8 times a power of ten: quarters stay short).
pub fn nice_max(max: f64) -> f64 {
    if !(max.is_finite() && max > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(max.log10().floor());
    [1.0, 2.0, 4.0, 8.0, 10.0].iter().map(|m| m * p).find(|v| *v >= max).unwrap_or(10.0 * p)
}

/// Short axis numbers: 1.5k, 2M.
pub fn short(v: f64) -> String {
    if v >= 1e6 {
        format!("{}M", trim(v / 1e6))
    } else if v >= 1e3 {
        format!("{}k", trim(v / 1e3))
    } else {
        trim(v)
    }
}

fn trim(v: f64) -> String {
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// A line chart: `labels` along x (every `label_every`-th shown), one polyline and legend
/// entry per series, y from 0 to a nice maximum with four grid lines. `title` becomes the
/// SVG's accessible name.
pub fn lines(title: &str, labels: &[String], series: &[Series], label_every: usize) -> Markup {
    let max = nice_max(series.iter().flat_map(|s| s.values.iter().copied()).fold(0.0, f64::max));
    let n = labels.len().max(1);
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |i: usize| if n == 1 { LEFT + plot_w / 2.0 } else { LEFT + plot_w * i as f64 / (n - 1) as f64 };
    let y = |v: f64| TOP + plot_h * (1.0 - v / max);
    let every = label_every.max(1);
    html! {
        figure.chart {
            svg xmlns="http://www.w3.org/2000/svg" viewBox=(format!("0 0 {W} {H}")) role="img" aria-label=(title) {
                title { (title) }
                @for g in 0..=4 {
                    @let v = max * f64::from(g) / 4.0;
                    line x1=(LEFT) x2=(W - RIGHT) y1=(fmt(y(v))) y2=(fmt(y(v))) stroke="#d8dde3" stroke-width="1" {}
                    text x=(LEFT - 6.0) y=(fmt(y(v) + 4.0)) text-anchor="end" font-size="11" fill="#4a5563" { (short(v)) }
                }
                @for (i, l) in labels.iter().enumerate() {
                    @if i % every == 0 || i + 1 == n {
                        @let anchor = if n > 1 && i == 0 { "start" } else if n > 1 && i + 1 == n { "end" } else { "middle" };
                        text x=(fmt(x(i))) y=(H - 8.0) text-anchor=(anchor) font-size="11" fill="#4a5563" { (l) }
                    }
                }
                @for s in series {
                    @let pts = s.values.iter().enumerate().map(|(i, v)| format!("{},{}", fmt(x(i)), fmt(y(*v)))).collect::<Vec<_>>().join(" ");
                    polyline points=(pts) fill="none" stroke=(s.color) stroke-width="2.2" stroke-linejoin="round" {}
                    @for (i, v) in s.values.iter().enumerate() {
                        @if *v > 0.0 {
                            circle cx=(fmt(x(i))) cy=(fmt(y(*v))) r="2.6" fill=(s.color) { title { (s.name) " · " (labels.get(i).map_or("", String::as_str)) ": " (trim(*v)) } }
                        }
                    }
                }
            }
            figcaption.legend {
                @for s in series {
                    span.key { svg width="12" height="12" viewBox="0 0 12 12" aria-hidden="true" { rect width="12" height="12" rx="2" fill=(s.color) {} } " " (s.name) }
                }
            }
        }
    }
}

/// A horizontal bar showing `fraction` (0..1, clamped to 1.2 for overruns) with a warning
/// mark at `warn` (0..1).
pub fn fill_bar(fraction: f64, warn: f64) -> Markup {
    let f = if fraction.is_finite() { fraction.clamp(0.0, 1.2) } else { 0.0 };
    let (w, h) = (240.0, 16.0);
    let color = if f >= 1.0 { "#c0392b" } else if f >= warn { "#d9822b" } else { "#2e8b57" };
    html! {
        svg.bar width=(w) height=(h) viewBox=(format!("0 0 {w} {h}")) role="img" aria-label=(format!("{:.0} %", f * 100.0)) {
            rect width=(w) height=(h) rx="3" fill="#e8ecf0" {}
            rect width=(fmt(w * f.min(1.0))) height=(h) rx="3" fill=(color) {}
            line x1=(fmt(w * warn)) x2=(fmt(w * warn)) y1="0" y2=(h) stroke="#4a5563" stroke-width="1.5" stroke-dasharray="3 2" {}
        }
    }
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_bounds_and_short_numbers() {
        assert_eq!(nice_max(0.0), 1.0);
        assert_eq!(nice_max(7.0), 8.0);
        assert_eq!(nice_max(1200.0), 2000.0);
        assert_eq!(nice_max(2400.0), 4000.0);
        assert_eq!(short(1.25), "1.25");
        assert_eq!(short(2500.0), "2.5k");
        assert_eq!(short(3_000_000.0), "3M");
        assert_eq!(short(12.0), "12");
    }

    #[test]
    fn chart_has_one_line_per_series_and_no_inline_style() {
        let labels: Vec<String> = (1..=5).map(|d| format!("{d:02}")).collect();
        let s = vec![
            Series { name: "Bauamt".into(), values: vec![0.0, 10.0, 5.0, 0.0, 20.0], color: PALETTE[0].into() },
            Series { name: "<Kämmerei>".into(), values: vec![1.0; 5], color: PALETTE[1].into() },
        ];
        let svg = lines("Tokens", &labels, &s, 2).into_string();
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("&lt;Kämmerei&gt;"), "labels are escaped");
        assert!(!svg.contains("style="), "CSP forbids inline styles");
        // The highest point (20) sits at the top of the plot (nice max 20).
        assert!(svg.contains(&format!("{},{}", fmt(W - RIGHT), fmt(TOP))), "{svg}");
        let bar = fill_bar(0.5, 0.8).into_string();
        assert!(bar.contains("width=\"120.0\"") && bar.contains("#2e8b57"));
        assert!(fill_bar(1.5, 0.8).into_string().contains("#c0392b"));
    }
}
