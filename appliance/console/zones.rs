//! Zones and policy: the active matrix (zone × maximum class × on_violation), the upstreams,
//! and a test box that classifies pasted text with the same [`crate::policy::check`] the
//! relay uses and shows the decision per zone. The text is never logged or stored.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;

use super::i18n::{Lang, K};
use super::layout::{error_page, page, Ctx, Nav};
use super::{refuse_forged, ConsoleState};
use crate::config::OnViolation;
use crate::policy::{self, Category, DataClass, Decision, Outcome, Zone};

/// Largest text the test box accepts, in bytes (the detector's own limit applies too).
pub const MAX_TEST_BYTES: usize = 256 * 1024;

/// The test box's result: classes, categories with counts, and per zone the decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestResult {
    /// Declared class used.
    pub declared: DataClass,
    /// Detected class.
    pub detected: DataClass,
    /// Effective class.
    pub effective: DataClass,
    /// Categories with counts (no values).
    pub categories: Vec<(Category, usize)>,
    /// (zone, decision, reroute model) for green, yellow, red.
    pub zones: Vec<(Zone, Decision, Option<String>)>,
}

/// Classifies `text` as a chat message of a caller from `department` would be classified
/// (an SGB body's personal data is Sozialdaten) and decides for every zone.
///
/// # Errors
/// The detector's error (callers show "fail closed").
pub fn test_text(st: &ConsoleState, text: &str, declared: DataClass, department: &str) -> Result<TestResult, policy::PolicyError> {
    let body = serde_json::json!({"messages": [{"role": "user", "content": text}]});
    let mut zones = Vec::new();
    let mut facts = None;
    for zone in Zone::ALL {
        let verdict = match policy::check(&st.app.detector, &st.app.policy, zone, declared, policy::DataClass::Public, department, body.clone())? {
            Outcome::Forward(_, _, v) | Outcome::Stop(v) => v,
        };
        zones.push((zone, verdict.decision, verdict.reroute_model.clone()));
        facts.get_or_insert((verdict.detected, verdict.effective, verdict.categories));
    }
    let (detected, effective, categories) = facts.unwrap_or((DataClass::Public, declared, Vec::new()));
    Ok(TestResult { declared, detected, effective, categories, zones })
}

fn violation(lang: Lang, v: OnViolation) -> &'static str {
    lang.decision(match v {
        OnViolation::Block => Decision::Block,
        OnViolation::Reroute => Decision::Reroute,
        OnViolation::Pseudonymize => Decision::Pseudonymize,
    })
}

/// `GET /zones`.
pub async fn show(ctx: Ctx, State(st): State<ConsoleState>) -> Markup {
    render(&ctx, &st, "", "", None, None)
}

/// Form of the test box.
#[derive(Debug, Deserialize)]
pub struct ClassifyForm {
    csrf: String,
    text: String,
    declared: Option<String>,
    #[serde(default)]
    department: String,
}

/// `POST /zones/classify`: a read (nothing is recorded), but still a form with a token.
pub async fn classify(ctx: Ctx, State(st): State<ConsoleState>, headers: HeaderMap, uri: Uri, Form(f): Form<ClassifyForm>) -> Response {
    if let Some(r) = refuse_forged(&ctx, &st, &f.csrf, &headers, &uri) {
        return r;
    }
    if f.text.len() > MAX_TEST_BYTES {
        return error_page(&ctx, StatusCode::PAYLOAD_TOO_LARGE, &format!("> {MAX_TEST_BYTES} bytes"));
    }
    let declared = f.declared.as_deref().and_then(|d| DataClass::ALL.into_iter().find(|c| c.as_str() == d)).unwrap_or(st.app.policy.default_class);
    let department = f.department.trim();
    let result = test_text(&st, &f.text, declared, department);
    render(&ctx, &st, &f.text, department, Some(declared), Some(result)).into_response()
}

fn render(ctx: &Ctx, st: &ConsoleState, text: &str, department: &str, declared: Option<DataClass>, result: Option<Result<TestResult, policy::PolicyError>>) -> Markup {
    let pol = &st.app.policy;
    let declared = declared.unwrap_or(pol.default_class);
    let health = st.app.relay.health();
    let body = html! {
        section {
            h2 { (ctx.t(K::Matrix)) }
            table.matrix {
                thead { tr { th { (ctx.t(K::Zone)) } @for c in DataClass::ALL { th { (ctx.lang.class(c)) } } th { (ctx.t(K::MaxClass)) } th { (ctx.t(K::OnViolation)) } } }
                tbody {
                    @for z in Zone::ALL {
                        @let max = pol.max_class(z);
                        @let zp = pol.zone(z);
                        tr {
                            th { span class=(format!("zone {}", z.as_str())) { (ctx.lang.zone(z)) } }
                            @for c in DataClass::ALL {
                                @if c <= max {
                                    td.allow title=(ctx.t(K::Allowed)) { "✓ " (ctx.t(K::Allowed)) }
                                } @else {
                                    td.deny { "✗ " (zp.map_or("", |p| violation(ctx.lang, p.on_violation))) }
                                }
                            }
                            td { strong { (ctx.lang.class(max)) } }
                            td {
                                @match zp {
                                    None => "—",
                                    Some(p) => {
                                        (violation(ctx.lang, p.on_violation))
                                        @if let Some(m) = &p.reroute_model { " → " code { (m) } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p.small { (ctx.t(K::DefaultClass)) ": " strong { (ctx.lang.class(pol.default_class)) } }
        }
        section {
            h2 { (ctx.t(K::Upstreams)) }
            @if health.is_empty() {
                p.muted { (ctx.t(K::NoUpstreams)) }
            } @else {
                table {
                    thead { tr { th { "Id" } th { (ctx.t(K::Zone)) } th { (ctx.t(K::Address)) } th { (ctx.t(K::Models2)) } th { (ctx.t(K::Receives)) } } }
                    tbody {
                        @for h in &health {
                            tr { td { code { (h.id) } } td { span class=(format!("zone {}", h.zone.as_str())) { (ctx.lang.zone(h.zone)) } } td { code { (h.origin) } } td { (h.models.join(", ")) } td { "≤ " (ctx.lang.class(pol.max_class(h.zone))) } }
                        }
                    }
                }
            }
        }
        section id="classify" {
            h2 { (ctx.t(K::ClassifyTitle)) }
            p.small { (ctx.t(K::ClassifyHelp)) }
            form method="post" action="/zones/classify" {
                input type="hidden" name="csrf" value=(ctx.csrf);
                label for="text" { (ctx.t(K::Text)) }
                textarea id="text" name="text" rows="6" maxlength=(MAX_TEST_BYTES) required autocomplete="off" spellcheck="false" { (text) }
                div.row {
                    label for="declared" { (ctx.t(K::DeclaredClass)) }
                    select id="declared" name="declared" {
                        @for c in DataClass::ALL { option value=(c.as_str()) selected[c == declared] { (ctx.lang.class(c)) } }
                    }
                    label for="department" { (ctx.t(K::TestDepartment)) }
                    input type="text" id="department" name="department" value=(department) maxlength="64" autocomplete="off";
                    button type="submit" { (ctx.t(K::Check)) }
                }
            }
            @match result {
                None => {},
                Some(Err(_)) => p.error role="alert" { (ctx.t(K::ClassifyFailed)) },
                Some(Ok(r)) => (result_view(ctx, &r)),
            }
        }
    };
    page(ctx, Nav::Zones, ctx.t(K::NavZones), body)
}

fn result_view(ctx: &Ctx, r: &TestResult) -> Markup {
    html! {
        div.result id="classify-result" {
            dl.facts {
                dt { (ctx.t(K::DeclaredClass)) } dd { (ctx.lang.class(r.declared)) }
                dt { (ctx.t(K::DetectedClass)) } dd id="detected-class" { (ctx.lang.class(r.detected)) }
                dt { (ctx.t(K::EffectiveClass)) } dd id="effective-class" { strong { (ctx.lang.class(r.effective)) } }
                dt { (ctx.t(K::Findings)) }
                dd {
                    @if r.categories.is_empty() { (ctx.t(K::NoFindings)) }
                    @for (c, n) in &r.categories { span.tag { code { (c.as_str()) } " × " (n) } " " }
                }
            }
            h3 { (ctx.t(K::DecisionPerZone)) }
            table id="decisions" {
                thead { tr { th { (ctx.t(K::Zone)) } th { (ctx.t(K::Decision)) } } }
                tbody {
                    @for (z, d, m) in &r.zones {
                        tr data-zone=(z.as_str()) data-decision=(d.as_str()) {
                            td { span class=(format!("zone {}", z.as_str())) { (ctx.lang.zone(*z)) } }
                            td class=(format!("decision {}", d.as_str())) { (ctx.lang.decision(*d)) @if let Some(m) = m { " → " code { (m) } } }
                        }
                    }
                }
            }
        }
    }
}
