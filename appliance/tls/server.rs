//! The mutual-TLS server configuration of the API listener and its SIGHUP reload.
//!
//! Owns: [`ServerTls`] (load, atomic swap on reload), the crypto policy (ring, TLS 1.3 and
//! 1.2, AEAD + ECDHE suites only, ALPN `h2` / `http/1.1`), the client-certificate verifier
//! (configured CAs, CRLs, identity check) and its revocation policy.
//! Must not: accept a client without a verified certificate, or drop open connections on
//! reload.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};

use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{ring, CryptoProvider};
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
};
use x509_parser::prelude::FromDer;

use super::{pem, PeerIdentity, TlsError};
use crate::config::TlsConfig;

/// ALPN protocol ids offered by the API listener, in preference order (RFC 7301; `h2` is
/// RFC 9113, `http/1.1` RFC 9112).
pub const ALPN_PROTOCOLS: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The API listener's TLS configuration: a rustls [`ServerConfig`] behind a lock, so that
/// [`ServerTls::reload`] can swap certificates, client CAs and CRLs while connections run.
///
/// Cloning is cheap and every clone sees reloads (they share the slot). Each handshake
/// takes the configuration current at its start; established connections keep theirs.
///
/// Policy, fixed here:
/// - crypto: rustls' ring provider; TLS 1.3 (RFC 8446) and TLS 1.2 (RFC 5246) with ECDHE
///   and AEAD suites only (AES-GCM, ChaCha20-Poly1305); server's suite order wins;
/// - ALPN: [`ALPN_PROTOCOLS`]; clients without ALPN get HTTP/1.1 or h2 by preface sniffing;
/// - clients MUST present a certificate chaining to one of `tls.client_ca` (RFC 5280 path
///   validation by webpki, EKU clientAuth when an EKU is present) whose subject yields a
///   [`PeerIdentity`] (a CN);
/// - revocation (RFC 5280 §5 CRLs from `tls.crl`): every certificate of the chain except
///   the trust anchor is checked. Unknown status (no CRL from its issuer) is refused — fail
///   closed — and [`ServerTls::load`] therefore rejects a configuration in which CRLs are
///   given but some client CA issued none of them ([`TlsError::CrlMissingForCa`]). A CRL
///   past its `nextUpdate` stays in force (revoked serials stay refused, everyone else is
///   admitted) and is logged as a warning on every load: an expired CRL must not lock the
///   whole city out. With no CRLs at all, revocation is not checked (warning at load);
/// - no session resumption (no stateful cache, no TLS 1.3 tickets), so every connection
///   runs the full certificate check against the current CAs and CRLs.
#[derive(Clone)]
pub struct ServerTls {
    current: Arc<RwLock<Arc<ServerConfig>>>,
    admin_only: bool,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls").finish_non_exhaustive()
    }
}

impl ServerTls {
    /// What this listener serves, for log lines: `admin console` or `API`.
    pub fn purpose(&self) -> &'static str {
        if self.admin_only {
            "admin console"
        } else {
            "API"
        }
    }

    /// Reads `cert`, `key`, every `client_ca` and every `crl` file and builds the server
    /// configuration described on [`ServerTls`].
    ///
    /// # Errors
    /// [`TlsError`] naming the first file that is unreadable or unfit (missing, not PEM, no
    /// certificate, key not matching the certificate, CRL not parsable, client CA without CRL
    /// while CRLs are configured, no client CA at all).
    pub fn load(cfg: &TlsConfig) -> Result<ServerTls, TlsError> {
        Ok(ServerTls { current: Arc::new(RwLock::new(build(cfg, false)?)), admin_only: false })
    }

    /// The admin console listener's configuration: the same server certificate, client CAs
    /// and CRLs as [`ServerTls::load`], but the handshake also refuses every client
    /// certificate whose subject lacks the admin role ([`crate::tls::Role::Admin`]), so a
    /// user certificate never gets as far as HTTP. Reloads keep that rule.
    ///
    /// # Errors
    /// As [`ServerTls::load`].
    pub fn load_admin(cfg: &TlsConfig) -> Result<ServerTls, TlsError> {
        Ok(ServerTls { current: Arc::new(RwLock::new(build(cfg, true)?)), admin_only: true })
    }

    /// Re-reads all files of `cfg` and, only if everything loads, makes the new configuration
    /// the one used by new handshakes (for SIGHUP). Established connections are not touched;
    /// on error the previous configuration stays in place.
    ///
    /// # Errors
    /// As [`ServerTls::load`].
    pub fn reload(&self, cfg: &TlsConfig) -> Result<(), TlsError> {
        let next = build(cfg, self.admin_only)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = next;
        log::info!("TLS configuration reloaded: new handshakes use the new certificates and CRLs");
        Ok(())
    }

    /// The configuration new handshakes use right now.
    pub fn config(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    pub(crate) fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.config())
    }
}

/// ring with the AEAD + ECDHE suites only (these are ring's complete list today; naming them
/// keeps a future addition from slipping in unreviewed).
pub(crate) fn crypto_provider() -> Arc<CryptoProvider> {
    use ring::cipher_suite as cs;
    Arc::new(CryptoProvider {
        cipher_suites: vec![
            cs::TLS13_AES_256_GCM_SHA384,
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS13_CHACHA20_POLY1305_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ],
        ..ring::default_provider()
    })
}

struct Anchor {
    path: PathBuf,
    subject_der: Vec<u8>,
    subject: String,
}

fn build(cfg: &TlsConfig, admin_only: bool) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = pem::certificates(&cfg.cert)?;
    let key = pem::private_key(&cfg.key)?;
    warn_if_expired(&cfg.cert, &chain[0]);

    if cfg.client_ca.is_empty() {
        return Err(TlsError::Config {
            what: "client CAs",
            problem: "tls.client_ca is empty; the API listener never accepts clients without a certificate".into(),
        });
    }
    let mut roots = RootCertStore::empty();
    let mut anchors = Vec::new();
    for path in &cfg.client_ca {
        for cert in pem::certificates(path)? {
            let (_, parsed) = x509_parser::certificate::X509Certificate::from_der(&cert)
                .map_err(|e| TlsError::Certificate { path: path.clone(), problem: e.to_string() })?;
            anchors.push(Anchor {
                path: path.clone(),
                subject_der: parsed.subject().as_raw().to_vec(),
                subject: parsed.subject().to_string(),
            });
            roots.add(cert.clone()).map_err(|e| TlsError::Certificate {
                path: path.clone(),
                problem: format!("not usable as a trust anchor: {e}"),
            })?;
        }
    }

    let mut crls = Vec::new();
    let mut crl_issuers = Vec::new();
    let now = time::OffsetDateTime::now_utc();
    for path in &cfg.crl {
        for crl in pem::crls(path)? {
            let (_, parsed) = x509_parser::parse_x509_crl(&crl)
                .map_err(|e| TlsError::Crl { path: path.clone(), problem: e.to_string() })?;
            if let Some(next) = parsed.next_update() {
                if next.to_datetime() < now {
                    log::warn!(
                        "CRL {} expired at {next} (nextUpdate); it stays in force, but renew it \
                         (`zonegate pki crl`) and reload",
                        path.display()
                    );
                }
            }
            crl_issuers.push(parsed.issuer().as_raw().to_vec());
            crls.push(crl);
        }
    }
    if crls.is_empty() {
        log::warn!("no tls.crl configured: revoked client certificates are NOT refused");
    } else if let Some(a) = anchors.iter().find(|a| !crl_issuers.contains(&a.subject_der)) {
        return Err(TlsError::CrlMissingForCa { ca: a.path.clone(), subject: a.subject.clone() });
    }
    let (n_anchors, n_crls) = (anchors.len(), crls.len());

    let provider = crypto_provider();
    let inner = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), Arc::clone(&provider))
        .with_crls(crls)
        .build()
        .map_err(|e| TlsError::Config { what: "client certificate verifier", problem: e.to_string() })?;
    let verifier: Arc<dyn ClientCertVerifier> = Arc::new(IdentityVerifier { inner, admin_only });

    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config { what: "protocol versions", problem: e.to_string() })?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => {
                TlsError::KeyMismatch { cert: cfg.cert.clone(), key: cfg.key.clone() }
            }
            other => TlsError::Config { what: "server certificate and key", problem: other.to_string() },
        })?;
    config.alpn_protocols = ALPN_PROTOCOLS.iter().map(|p| p.to_vec()).collect();
    config.ignore_client_order = true;
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    log::info!("TLS: {n_anchors} client CA certificate(s), {n_crls} CRL(s)");
    Ok(Arc::new(config))
}

fn warn_if_expired(path: &Path, leaf: &CertificateDer<'_>) {
    if let Ok((_, cert)) = x509_parser::certificate::X509Certificate::from_der(leaf) {
        let not_after = cert.validity().not_after;
        if not_after.to_datetime() < time::OffsetDateTime::now_utc() {
            log::warn!("server certificate {} expired at {not_after}; clients will refuse it", path.display());
        }
    }
}

/// webpki's verifier plus the identity rule: a chain that verifies but whose subject yields
/// no [`PeerIdentity`] (no CN) is refused inside the handshake, so the client gets a proper
/// alert instead of a silently closed connection. With `admin_only` (the console listener)
/// a certificate without the admin role is refused the same way, never with an HTTP answer.
#[derive(Debug)]
struct IdentityVerifier {
    inner: Arc<dyn ClientCertVerifier>,
    admin_only: bool,
}

impl ClientCertVerifier for IdentityVerifier {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        true
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let verified = self.inner.verify_client_cert(end_entity, intermediates, now)?;
        let refused = || rustls::Error::InvalidCertificate(CertificateError::ApplicationVerificationFailure);
        match PeerIdentity::from_certificate(end_entity) {
            Ok(identity) if self.admin_only && !identity.is_admin() => {
                // Only the serial is logged: the subject is personal data.
                log::warn!("console: refused certificate {} at the TLS handshake: no admin role", identity.serial);
                Err(refused())
            }
            Ok(_) => Ok(verified),
            Err(e) => {
                log::warn!("refused at the TLS handshake: {e}");
                Err(refused())
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
