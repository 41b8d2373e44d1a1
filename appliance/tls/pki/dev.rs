//! Named PKI fixture for tests and local development (DESIGN.md rule 9).
//!
//! Owns: [`DevPki`], a CA with a `localhost` server certificate and one client bundle in a
//! directory of the caller's choosing, plus rustls client configurations for it.
//! Must not: be used for the appliance's real CA (fixed, public PKCS#12 password; short
//! validity).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;

use super::{issue_client, issue_server, Validity, CA_CERT, CA_CRL};
use crate::config::TlsConfig;
use crate::tls::{pem, TlsError};

/// Validity of everything [`DevPki`] issues, in days.
pub const DEV_DAYS: u32 = 30;

/// One issued client certificate and its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientBundle {
    /// User id (subject CN).
    pub user: String,
    /// Serial number, lowercase hex (as in `PeerIdentity::serial`).
    pub serial: String,
    /// Leaf certificate, PEM.
    pub cert: PathBuf,
    /// Private key, PKCS#8 PEM.
    pub key: PathBuf,
    /// PKCS#12 bundle (key, certificate, CA) under [`DevPki::P12_PASSWORD`].
    pub p12: PathBuf,
}

/// A complete throw-away PKI in one directory, for hermetic tests and local runs:
/// - a CA (organisation "zonegate dev <8 random hex digits>") with `ca.crt` and an empty
///   `ca.crl`;
/// - a server certificate for `localhost`, `127.0.0.1` and `::1` (`server.crt`/`server.key`);
/// - the client bundle `dev-user`, department `dev`, role user, under `clients/`.
///
/// Everything is valid for [`DEV_DAYS`] days. [`DevPki::tls_config`] is the matching `[tls]`
/// section; [`DevPki::client_config`] builds a rustls client that trusts the CA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevPki {
    /// The PKI directory (the `dir` passed to [`DevPki::create`]).
    pub dir: PathBuf,
    /// CA certificate (PEM): trust anchor for both sides.
    pub ca_cert: PathBuf,
    /// The CA's CRL (PEM).
    pub crl: PathBuf,
    /// Server chain (leaf + CA, PEM).
    pub server_cert: PathBuf,
    /// Server key (PKCS#8 PEM).
    pub server_key: PathBuf,
    /// The default client, `dev-user` of department `dev`.
    pub client: ClientBundle,
}

impl DevPki {
    /// Password of every PKCS#12 bundle the fixture writes.
    pub const P12_PASSWORD: &'static str = "zonegate-dev";

    /// Creates the fixture in `dir` (which must not hold a CA yet; a fresh temp dir is best).
    ///
    /// # Errors
    /// As [`super::init`], [`super::issue_server`], [`super::issue_client`].
    pub fn create(dir: &Path) -> Result<DevPki, TlsError> {
        // A distinct CA name per fixture: two fixtures in one test are two unrelated CAs,
        // not one name with two keys.
        super::init(dir, &format!("zonegate dev {:08x}", rand::random::<u32>()), DEV_DAYS)?;
        let ips = [IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)];
        let server = issue_server(dir, &["localhost".to_owned()], &ips, DEV_DAYS, dir)?;
        let mut pki = DevPki {
            dir: dir.to_owned(),
            ca_cert: dir.join(CA_CERT),
            crl: dir.join(CA_CRL),
            server_cert: server.files[0].clone(),
            server_key: server.files[1].clone(),
            client: ClientBundle {
                user: String::new(),
                serial: String::new(),
                cert: PathBuf::new(),
                key: PathBuf::new(),
                p12: PathBuf::new(),
            },
        };
        pki.client = pki.issue_client("dev-user", "dev", false, Validity::days_from_now(DEV_DAYS))?;
        Ok(pki)
    }

    /// Issues another client bundle into `<dir>/clients/` with [`DevPki::P12_PASSWORD`].
    /// `validity` may lie in the past (expired certificates for negative tests).
    ///
    /// # Errors
    /// As [`super::issue_client`].
    pub fn issue_client(
        &self,
        user: &str,
        department: &str,
        admin: bool,
        validity: Validity,
    ) -> Result<ClientBundle, TlsError> {
        let issued =
            issue_client(&self.dir, user, department, admin, validity, &self.dir.join("clients"), Self::P12_PASSWORD)?;
        Ok(ClientBundle {
            user: user.to_owned(),
            serial: issued.entry.serial,
            cert: issued.files[0].clone(),
            key: issued.files[1].clone(),
            p12: issued.files[2].clone(),
        })
    }

    /// The `[tls]` section for a listener using this fixture: server cert and key, the CA as
    /// client CA, and its CRL.
    pub fn tls_config(&self) -> TlsConfig {
        TlsConfig {
            cert: self.server_cert.clone(),
            key: self.server_key.clone(),
            client_ca: vec![self.ca_cert.clone()],
            crl: vec![self.crl.clone()],
        }
    }

    /// A rustls client configuration (ring, default protocol versions) that trusts this CA,
    /// presents `client`'s certificate if given (none: for negative tests), and offers the
    /// ALPN ids `alpn` (e.g. `&[b"h2"]`, `&[b"http/1.1"]`).
    ///
    /// # Errors
    /// [`TlsError`] if the fixture's files cannot be read or rustls refuses them.
    pub fn client_config(
        &self,
        client: Option<&ClientBundle>,
        alpn: &[&[u8]],
    ) -> Result<Arc<rustls::ClientConfig>, TlsError> {
        let mut roots = RootCertStore::empty();
        for cert in pem::certificates(&self.ca_cert)? {
            roots
                .add(cert)
                .map_err(|e| TlsError::Certificate { path: self.ca_cert.clone(), problem: e.to_string() })?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Config { what: "client protocol versions", problem: e.to_string() })?
            .with_root_certificates(roots);
        let mut config = match client {
            Some(c) => builder
                .with_client_auth_cert(pem::certificates(&c.cert)?, pem::private_key(&c.key)?)
                .map_err(|e| TlsError::Config { what: "client certificate", problem: e.to_string() })?,
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(Arc::new(config))
    }
}
