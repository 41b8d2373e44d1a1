//! Prometheus metrics (OpenMetrics text via `prometheus-client`). Labels are low-cardinality
//! (route, status class, model): never user ids or content.

use std::sync::atomic::Ordering::Relaxed;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::engine::Engine;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabels {
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: String,
    revision: String,
    features: String,
}

/// Process-wide metrics; engine counters are read at scrape time.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Family<RouteLabels, Counter>,
}

impl Metrics {
    /// Counts one finished HTTP request by route template (`/v1/chat/completions`) and status.
    pub fn record_request(&self, route: &str, status: u16) {
        self.requests.get_or_create(&RouteLabels { route: route.to_string(), status }).inc();
    }

    /// Renders all metrics as OpenMetrics text.
    ///
    /// # Errors
    /// Formatting errors of the encoder.
    pub fn render(&self, engine: &Engine, accounting: &crate::accounting::Accounting) -> Result<String, std::fmt::Error> {
        let mut reg = Registry::with_prefix("zonegate");
        accounting.register_metrics(&mut reg, crate::accounting::unix_now());
        reg.register("http_requests", "HTTP requests by route and status", self.requests.clone());
        let build: Family<BuildLabels, Gauge> = Family::default();
        build.get_or_create(&BuildLabels { version: crate::VERSION.into(), revision: crate::GIT_REVISION.into(), features: crate::FEATURES.into() }).set(1);
        reg.register("build_info", "Version, git revision and build features", build);
        let prompt: Family<ModelLabels, Counter> = Family::default();
        let completion: Family<ModelLabels, Counter> = Family::default();
        let queued: Family<ModelLabels, Gauge> = Family::default();
        let active: Family<ModelLabels, Gauge> = Family::default();
        let decodes: Family<ModelLabels, Counter> = Family::default();
        for m in engine.models() {
            let l = ModelLabels { model: m.info().id.clone() };
            let s = m.stats();
            prompt.get_or_create(&l).inc_by(s.prompt_tokens.load(Relaxed));
            completion.get_or_create(&l).inc_by(s.completion_tokens.load(Relaxed));
            decodes.get_or_create(&l).inc_by(s.decode_calls.load(Relaxed));
            queued.get_or_create(&l).set(i64::try_from(s.queued.load(Relaxed)).unwrap_or(i64::MAX));
            active.get_or_create(&l).set(i64::try_from(s.active.load(Relaxed)).unwrap_or(i64::MAX));
        }
        reg.register("prompt_tokens", "Prompt tokens evaluated", prompt);
        reg.register("completion_tokens", "Tokens generated", completion);
        reg.register("decode_calls", "llama_decode calls (batches)", decodes);
        reg.register("queued_requests", "Requests waiting for a free sequence", queued);
        reg.register("active_sequences", "Sequences being processed", active);
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &reg)?;
        Ok(out)
    }
}
