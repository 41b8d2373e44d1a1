//! Certificates: list what the local CA issued, issue a client bundle for a user and
//! department (the PKCS#12 file is offered for exactly one download, its password shown
//! once), and revoke (the CRL is re-signed and both listeners reload it). Issuing and
//! revoking need the CA key (`[console] ca_key_credential`); both are admin actions in the
//! ledger.

use std::time::{Duration, Instant};

use axum::extract::{Form, Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

use super::i18n::K;
use super::layout::{error_page, page, Ctx, Nav};
use super::{record_admin, refuse_forged, ConsoleState};
use crate::accounting::AdminAction;
use crate::tls::pki::{self, CertKind, RevocationReason, Validity};

/// How long an issued bundle waits for its download.
pub const BUNDLE_TTL: Duration = Duration::from_secs(15 * 60);

/// An issued bundle waiting for its one download.
pub struct Pending {
    file_name: String,
    p12: Vec<u8>,
    issued_by: String,
    expires: Instant,
}

const REASONS: [(RevocationReason, &str, K); 6] = [
    (RevocationReason::Unspecified, "unspecified", K::ReasonUnspecified),
    (RevocationReason::KeyCompromise, "key-compromise", K::ReasonKeyCompromise),
    (RevocationReason::AffiliationChanged, "affiliation-changed", K::ReasonAffiliationChanged),
    (RevocationReason::Superseded, "superseded", K::ReasonSuperseded),
    (RevocationReason::CessationOfOperation, "cessation-of-operation", K::ReasonCessation),
    (RevocationReason::PrivilegeWithdrawn, "privilege-withdrawn", K::ReasonPrivilegeWithdrawn),
];

fn issuing(st: &ConsoleState) -> bool {
    st.can_issue && st.authority.can_sign()
}

/// `?revoked=SERIAL` after a revocation.
#[derive(Debug, Deserialize, Default)]
pub struct Flash {
    revoked: Option<String>,
}

/// `GET /certificates`.
pub async fn show(ctx: Ctx, State(st): State<ConsoleState>, Query(flash): Query<Flash>) -> Response {
    let now = time::OffsetDateTime::now_utc();
    let list = pki::list(st.authority.dir());
    let can = issuing(&st);
    let body = html! {
        @if let Some(s) = &flash.revoked { p.status.ok role="status" id="flash" { (ctx.t(K::Revoked)) " (" code { (s) } ")" } }
        section id="issue" {
            h2 { (ctx.t(K::IssueTitle)) }
            @if can {
                form.issue method="post" action="/certificates/issue" {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    label { (ctx.t(K::UserId)) input type="text" name="user" required maxlength="64" pattern=r"[A-Za-z0-9_@][A-Za-z0-9._@\-]{0,63}" autocomplete="off"; }
                    label { (ctx.t(K::Department)) input type="text" name="department" required maxlength="64" autocomplete="off"; }
                    label.check { input type="checkbox" name="admin" value="on"; " " (ctx.t(K::AdminRole)) }
                    button type="submit" { (ctx.t(K::Issue)) }
                }
                p.small { (ctx.t(K::ValidUntil)) ": +" (st.client_cert_days) " d" }
            } @else {
                p.muted id="issuing-off" { (ctx.t(K::IssuingOff)) }
            }
        }
        section {
            h2 { (ctx.t(K::IssuedList)) }
            @match &list {
                Err(e) => p.error { (ctx.t(K::NoPki)) ": " (e) },
                Ok(entries) => table.dense id="certs" {
                    thead { tr { th { (ctx.t(K::Serial)) } th { (ctx.t(K::Kind)) } th { (ctx.t(K::Status)) } th { (ctx.t(K::User)) } th { (ctx.t(K::Department)) } th { (ctx.t(K::Role)) } th { (ctx.t(K::ValidUntil)) } th { (ctx.t(K::Revoke)) } } }
                    tbody {
                        @for e in entries.iter().rev() {
                            @let status = e.status(now);
                            tr data-serial=(e.serial) data-status=(status) {
                                td { code.serial { (e.serial) } }
                                td { (match e.kind { CertKind::Server => "server", CertKind::Client => "client" }) }
                                td class=(format!("cert {status}")) { (match status { "valid" => ctx.t(K::Valid), "revoked" => ctx.t(K::RevokedStatus), "expired" => ctx.t(K::Expired), s => s }) }
                                td { (e.user) } td { (e.department.as_deref().unwrap_or("–")) } td { (e.role.map_or("–".to_string(), |r| r.to_string())) }
                                td.nowrap { (e.not_after.date()) }
                                td {
                                    @if can && status == "valid" {
                                        form.revoke method="post" action="/certificates/revoke" data-confirm=(ctx.t(K::ConfirmRevoke)) {
                                            input type="hidden" name="csrf" value=(ctx.csrf);
                                            input type="hidden" name="serial" value=(e.serial);
                                            select name="reason" aria-label=(ctx.t(K::Reason)) { @for (_, v, k) in REASONS { option value=(v) { (ctx.t(k)) } } }
                                            button.danger type="submit" { (ctx.t(K::Revoke)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                },
            }
        }
    };
    page(&ctx, Nav::Certs, ctx.t(K::NavCerts), body).into_response()
}

/// The issue form.
#[derive(Debug, Deserialize)]
pub struct IssueForm {
    csrf: String,
    user: String,
    department: String,
    admin: Option<String>,
}

/// `POST /certificates/issue`.
pub async fn issue(ctx: Ctx, State(st): State<ConsoleState>, headers: HeaderMap, uri: Uri, Form(f): Form<IssueForm>) -> Response {
    if let Some(r) = refuse_forged(&ctx, &st, &f.csrf, &headers, &uri) {
        return r;
    }
    if !issuing(&st) {
        return error_page(&ctx, StatusCode::CONFLICT, ctx.t(K::IssuingOff));
    }
    let (user, department, admin) = (f.user.trim().to_string(), f.department.trim().to_string(), f.admin.is_some());
    let password = pki::generate_password();
    let authority = st.authority.clone();
    let (u, d, p, days) = (user.clone(), department.clone(), password.clone(), st.client_cert_days);
    let issued = tokio::task::spawn_blocking(move || authority.issue_client_p12(&u, &d, admin, Validity::days_from_now(days), &p)).await;
    let bundle = match issued {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            record_admin(&st, &ctx, AdminAction::CertificateIssued, format!("user {user} department {department}"), false);
            return error_page(&ctx, StatusCode::BAD_REQUEST, &e.to_string());
        }
        Err(_) => return error_page(&ctx, StatusCode::INTERNAL_SERVER_ERROR, ctx.t(K::Error)),
    };
    let e = &bundle.entry;
    let role = if admin { "admin" } else { "user" };
    record_admin(&st, &ctx, AdminAction::CertificateIssued, format!("serial {} user {} department {} role {role}", e.serial, e.user, department), true);
    let token = hex::encode(rand::random::<[u8; 32]>());
    {
        let mut b = st.bundles.lock().unwrap_or_else(|e| e.into_inner());
        b.retain(|_, p| p.expires > Instant::now());
        b.insert(token.clone(), Pending { file_name: format!("{}.p12", e.user), p12: bundle.p12, issued_by: ctx.who.serial.clone(), expires: Instant::now() + BUNDLE_TTL });
    }
    let body = html! {
        section.result id="issued" {
            dl.facts {
                dt { (ctx.t(K::Serial)) } dd { code id="issued-serial" { (e.serial) } }
                dt { (ctx.t(K::UserId)) } dd { (e.user) }
                dt { (ctx.t(K::Department)) } dd { (department) }
                dt { (ctx.t(K::Role)) } dd { (role) }
                dt { (ctx.t(K::ValidUntil)) } dd { (e.not_after.date()) }
                dt { (ctx.t(K::Password)) } dd { code.password id="p12-password" { (password) } }
            }
            p.status.warn { (ctx.t(K::BundleOnce)) }
            p { a.button id="bundle-download" href=(format!("/certificates/bundle/{token}")) download=(format!("{}.p12", e.user)) { (ctx.t(K::Download)) " (" (e.user) ".p12)" } }
            p { a href="/certificates" { (ctx.t(K::Back)) } }
        }
    };
    page(&ctx, Nav::Certs, ctx.t(K::Issued), body).into_response()
}

/// `GET /certificates/bundle/{token}`: the bundle, once; then 410.
pub async fn download(ctx: Ctx, State(st): State<ConsoleState>, Path(token): Path<String>) -> Response {
    let pending = {
        let mut b = st.bundles.lock().unwrap_or_else(|e| e.into_inner());
        b.retain(|_, p| p.expires > Instant::now());
        // Only the administrator who issued it may fetch it.
        match b.get(&token) {
            Some(p) if p.issued_by == ctx.who.serial => b.remove(&token),
            _ => None,
        }
    };
    match pending {
        Some(p) => (
            [(header::CONTENT_TYPE, "application/x-pkcs12".to_string()), (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{}\"", p.file_name))],
            p.p12,
        )
            .into_response(),
        None => error_page(&ctx, StatusCode::GONE, ctx.t(K::BundleGone)),
    }
}

/// The revoke form.
#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    csrf: String,
    serial: String,
    reason: String,
}

/// `POST /certificates/revoke`.
pub async fn revoke(ctx: Ctx, State(st): State<ConsoleState>, headers: HeaderMap, uri: Uri, Form(f): Form<RevokeForm>) -> Response {
    if let Some(r) = refuse_forged(&ctx, &st, &f.csrf, &headers, &uri) {
        return r;
    }
    if !issuing(&st) {
        return error_page(&ctx, StatusCode::CONFLICT, ctx.t(K::IssuingOff));
    }
    let Some((reason, _, _)) = REASONS.iter().find(|(_, v, _)| *v == f.reason) else {
        return error_page(&ctx, StatusCode::BAD_REQUEST, &format!("reason {:?}", f.reason));
    };
    let (authority, serial, reason) = (st.authority.clone(), f.serial.clone(), *reason);
    let done = tokio::task::spawn_blocking(move || authority.revoke(&serial, reason)).await;
    match done {
        Ok(Ok(entry)) => {
            let reloaded = st.reload_listeners();
            record_admin(&st, &ctx, AdminAction::CertificateRevoked, format!("serial {}", entry.serial), true);
            if let Err(e) = reloaded {
                return error_page(&ctx, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
            }
            Redirect::to(&format!("/certificates?revoked={}", entry.serial)).into_response()
        }
        Ok(Err(e)) => {
            record_admin(&st, &ctx, AdminAction::CertificateRevoked, format!("serial {}", f.serial.trim()), false);
            error_page(&ctx, StatusCode::BAD_REQUEST, &e.to_string())
        }
        Err(_) => error_page(&ctx, StatusCode::INTERNAL_SERVER_ERROR, ctx.t(K::Error)),
    }
}
