//! The appliance's local certificate authority (rcgen, no OpenSSL).
//!
//! Owns: the CA directory (`ca.key`, `ca.crt`, `ca.crl`, `index.json`), issuing server and
//! client certificates (PEM + PKCS#12), revocation and CRL signing, the `zonegate pki`
//! subcommands ([`PkiCommand`], [`run_pki`]) and the test fixture [`DevPki`].
//! Must not: overwrite an existing CA, write a private key other than atomically with mode
//! 0600, or log or print key material (a generated PKCS#12 password is printed once, on
//! stdout, by the CLI only).
//!
//! Keys are ECDSA P-256 (RFC 5480) signed with SHA-256. Serial numbers are 128 random bits,
//! positive and at most 17 DER octets (RFC 5280 §4.1.2.2). The CA is constrained to
//! `pathLenConstraint = 0` (it signs end entities only).

mod authority;
mod cli;
mod dev;
mod store;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType, SerialNumber,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub use authority::{Authority, IssuedBundle};
pub use cli::{generate_password, run_pki, PkiCommand};
pub use dev::{ClientBundle, DevPki};

use super::identity::{is_clean_name, serial_hex};
use super::{Role, TlsError, ROLE_OID};
use store::{rfc3339, write_atomic, PUBLIC_MODE, SECRET_MODE};

/// Default PKI directory on the appliance (`<state_dir>/pki`).
pub const DEFAULT_DIR: &str = "/var/lib/zonegate/pki";
/// CA private key file name (PKCS#8 PEM, mode 0600).
pub const CA_KEY: &str = "ca.key";
/// CA certificate file name (PEM); configure it as `tls.client_ca`.
pub const CA_CERT: &str = "ca.crt";
/// CRL file name (PEM, RFC 5280 §5); configure it as `tls.crl`.
pub const CA_CRL: &str = "ca.crl";
/// Index of issued certificates (JSON, mode 0600).
pub const INDEX: &str = "index.json";
/// Days from a CRL's thisUpdate to its nextUpdate unless changed with [`refresh_crl`].
pub const DEFAULT_CRL_DAYS: u32 = 30;
/// How far `not_before` is back-dated by [`Validity::days_from_now`], for clock skew.
pub const BACKDATE: time::Duration = time::Duration::minutes(5);

/// Validity period of a certificate (RFC 5280 §4.1.2.5), UTC, whole seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// First instant the certificate is valid.
    pub not_before: OffsetDateTime,
    /// Last instant the certificate is valid.
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// From [`BACKDATE`] ago until `days` days from now.
    pub fn days_from_now(days: u32) -> Validity {
        let now = now_utc();
        Validity { not_before: now - BACKDATE, not_after: now + time::Duration::days(i64::from(days)) }
    }
}

/// What a certificate is for. JSON: `"server"`, `"client"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CertKind {
    /// TLS server (EKU serverAuth, SANs).
    Server,
    /// TLS client (EKU clientAuth), one employee.
    Client,
}

/// Revocation reason (RFC 5280 §5.3.1). CLI and JSON spelling: kebab-case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum RevocationReason {
    /// No reason given (the CRL entry then carries no reason code).
    Unspecified,
    /// The private key was (or may have been) disclosed.
    KeyCompromise,
    /// The CA key was compromised.
    CaCompromise,
    /// The holder changed department or left.
    AffiliationChanged,
    /// Replaced by a new certificate.
    Superseded,
    /// No longer needed.
    CessationOfOperation,
    /// Rights (e.g. admin) withdrawn.
    PrivilegeWithdrawn,
}

impl From<RevocationReason> for rcgen::RevocationReason {
    fn from(r: RevocationReason) -> Self {
        use rcgen::RevocationReason as R;
        match r {
            RevocationReason::Unspecified => R::Unspecified,
            RevocationReason::KeyCompromise => R::KeyCompromise,
            RevocationReason::CaCompromise => R::CaCompromise,
            RevocationReason::AffiliationChanged => R::AffiliationChanged,
            RevocationReason::Superseded => R::Superseded,
            RevocationReason::CessationOfOperation => R::CessationOfOperation,
            RevocationReason::PrivilegeWithdrawn => R::PrivilegeWithdrawn,
        }
    }
}

/// One issued certificate as recorded in `index.json` (timestamps RFC 3339, UTC).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexEntry {
    /// Serial number, lowercase hex without leading zero octets (as in [`crate::tls::PeerIdentity`]).
    pub serial: String,
    /// `server` or `client`.
    pub kind: CertKind,
    /// Subject CN: the user id (client) or the first SAN (server).
    pub user: String,
    /// Subject OU (client certificates only).
    pub department: Option<String>,
    /// `user` or `admin` (client certificates only).
    pub role: Option<Role>,
    /// DNS names and IP addresses (server certificates only).
    #[serde(default)]
    pub names: Vec<String>,
    /// Start of validity.
    #[serde(with = "rfc3339")]
    pub not_before: OffsetDateTime,
    /// End of validity.
    #[serde(with = "rfc3339")]
    pub not_after: OffsetDateTime,
    /// When it was revoked, if it was.
    #[serde(default, with = "rfc3339::option")]
    pub revoked_at: Option<OffsetDateTime>,
    /// Why it was revoked.
    #[serde(default)]
    pub reason: Option<RevocationReason>,
}

impl IndexEntry {
    /// The entry of a newly issued client certificate (not revoked).
    pub fn client(serial: String, user: &str, department: &str, admin: bool, validity: Validity) -> IndexEntry {
        IndexEntry {
            serial,
            kind: CertKind::Client,
            user: user.into(),
            department: Some(department.into()),
            role: Some(if admin { Role::Admin } else { Role::User }),
            names: Vec::new(),
            not_before: validity.not_before,
            not_after: validity.not_after,
            revoked_at: None,
            reason: None,
        }
    }

    /// `revoked`, `expired`, `not-yet-valid` or `valid` at `now`.
    pub fn status(&self, now: OffsetDateTime) -> &'static str {
        if self.revoked_at.is_some() {
            "revoked"
        } else if now > self.not_after {
            "expired"
        } else if now < self.not_before {
            "not-yet-valid"
        } else {
            "valid"
        }
    }
}

/// What an `issue_*` call produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    /// The index entry written for the certificate.
    pub entry: IndexEntry,
    /// Files written, in order (certificate, key, then PKCS#12 for clients).
    pub files: Vec<PathBuf>,
}

/// Creates a new CA in `dir` (created with mode 0700 if missing): `ca.key` (0600),
/// `ca.crt` (self-signed, CN "`<organisation>` zonegate CA", O = `organisation`, valid
/// `days` days, keyCertSign + cRLSign, pathLen 0), an empty signed `ca.crl` (CRL number 1,
/// nextUpdate in [`DEFAULT_CRL_DAYS`]) and `index.json`. Returns the files written.
///
/// # Errors
/// [`TlsError::CaExists`] if `ca.key`, `ca.crt` or `index.json` already exists (nothing is
/// overwritten); [`TlsError::InvalidArgument`] for an empty/overlong organisation or
/// `days == 0`; I/O and generation errors.
pub fn init(dir: &Path, organisation: &str, days: u32) -> Result<Vec<PathBuf>, TlsError> {
    check_name("organisation", organisation)?;
    check_days(days)?;
    store::ensure_dir(dir, 0o700)?;
    let _lock = store::lock(dir)?;
    for name in [CA_KEY, CA_CERT, INDEX] {
        let path = dir.join(name);
        if path.exists() {
            return Err(TlsError::CaExists { path });
        }
    }
    let validity = Validity::days_from_now(days);
    let mut params = base_params(validity);
    params.distinguished_name = dn(organisation, None, &format!("{organisation} zonegate CA"), false);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let key = KeyPair::generate().map_err(|source| TlsError::Generate { what: "CA key", source })?;
    let cert = params.self_signed(&key).map_err(|source| TlsError::Generate { what: "CA certificate", source })?;

    let (key_path, cert_path) = (dir.join(CA_KEY), dir.join(CA_CERT));
    write_atomic(&key_path, key.serialize_pem().as_bytes(), SECRET_MODE, false)?;
    write_atomic(&cert_path, cert.pem().as_bytes(), PUBLIC_MODE, false)?;
    let ca = store::load_ca(dir)?;
    let mut index = store::Index::new(organisation, DEFAULT_CRL_DAYS);
    let crl_path = store::sign_crl(dir, &ca, &mut index)?;
    store::save_index(dir, &index)?;
    Ok(vec![key_path, cert_path, crl_path, dir.join(INDEX)])
}

/// Issues a TLS server certificate: EKU serverAuth, SANs `dns` + `ips` (CN = the first of
/// them), valid `days` days (cut at the CA's own expiry), and writes `out_dir/server.crt`
/// (leaf then CA, PEM, 0644) and `out_dir/server.key` (PKCS#8 PEM, 0600), replacing older
/// ones atomically (renewal; reload the listener afterwards).
///
/// # Errors
/// [`TlsError::InvalidArgument`] if no name is given, a DNS name is not a valid DNS name
/// (RFC 1035/5890 syntax) or `days == 0`; [`TlsError::NoCa`]; I/O and generation errors.
pub fn issue_server(dir: &Path, dns: &[String], ips: &[IpAddr], days: u32, out_dir: &Path) -> Result<Issued, TlsError> {
    check_days(days)?;
    if dns.is_empty() && ips.is_empty() {
        return Err(invalid("names", "give at least one --dns name or --ip address"));
    }
    let mut sans = Vec::new();
    for name in dns {
        rustls_pki_types::DnsName::try_from(name.as_str())
            .map_err(|_| invalid("dns", format!("{name:?} is not a valid DNS name")))?;
        let ia5 = name.as_str().try_into().map_err(|_| invalid("dns", format!("{name:?} is not ASCII")))?;
        sans.push(SanType::DnsName(ia5));
    }
    sans.extend(ips.iter().map(|ip| SanType::IpAddress(*ip)));
    let names: Vec<String> = dns.iter().cloned().chain(ips.iter().map(IpAddr::to_string)).collect();

    let _lock = store::lock(dir)?;
    let ca = store::load_ca(dir)?;
    let mut index = store::load_index(dir)?;
    let mut validity = Validity::days_from_now(days);
    validity.not_after = validity.not_after.min(ca.not_after);
    let mut params = base_params(validity);
    params.distinguished_name = dn(&index.organisation, None, &names[0], false);
    params.subject_alt_names = sans;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let (serial, key, cert) = sign_leaf(params, &ca, "server certificate")?;

    store::ensure_dir(out_dir, 0o755)?;
    let (cert_path, key_path) = (out_dir.join("server.crt"), out_dir.join("server.key"));
    write_atomic(&key_path, key.serialize_pem().as_bytes(), SECRET_MODE, true)?;
    write_atomic(&cert_path, format!("{}{}", cert.pem(), ca.cert_pem).as_bytes(), PUBLIC_MODE, true)?;
    let entry = IndexEntry {
        serial,
        kind: CertKind::Server,
        user: names[0].clone(),
        department: None,
        role: None,
        names,
        not_before: validity.not_before,
        not_after: validity.not_after,
        revoked_at: None,
        reason: None,
    };
    index.certs.push(entry.clone());
    store::save_index(dir, &index)?;
    Ok(Issued { entry, files: vec![cert_path, key_path] })
}

/// Issues a client certificate for one employee: subject O = the CA's organisation,
/// OU = `department`, CN = `user`, plus the X.520 `role` attribute = `admin` if `admin`;
/// EKU clientAuth; the given validity (may lie in the past, e.g. for tests). Writes
/// `out_dir/<user>.crt` (leaf, PEM, 0644), `out_dir/<user>.key` (PKCS#8 PEM, 0600) and
/// `out_dir/<user>.p12` (0600: key, certificate and CA certificate, PBES2 AES-256-CBC with
/// PBKDF2-HMAC-SHA256 and an HMAC-SHA256 MAC under `p12_password`, RFC 7292/8018), replacing
/// older files of the same user atomically.
///
/// # Errors
/// [`TlsError::InvalidArgument`] if `user` is not 1–64 of `A-Z a-z 0-9 . _ @ -` (not
/// starting with `.` or `-`), `department` is empty, overlong or has control characters,
/// `validity` ends before it starts, or `p12_password` is empty; [`TlsError::NoCa`]; I/O,
/// generation and PKCS#12 errors.
pub fn issue_client(
    dir: &Path,
    user: &str,
    department: &str,
    admin: bool,
    validity: Validity,
    out_dir: &Path,
    p12_password: &str,
) -> Result<Issued, TlsError> {
    check_user(user)?;
    check_name("department", department)?;
    if validity.not_after <= validity.not_before {
        return Err(invalid("validity", "not_after must lie after not_before"));
    }
    if p12_password.is_empty() {
        return Err(invalid("p12 password", "must not be empty"));
    }
    let _lock = store::lock(dir)?;
    let ca = store::load_ca(dir)?;
    let mut index = store::load_index(dir)?;
    let mut params = base_params(validity);
    params.distinguished_name = dn(&index.organisation, Some(department), user, admin);
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let (serial, key, cert) = sign_leaf(params, &ca, "client certificate")?;

    store::ensure_dir(out_dir, 0o700)?;
    let cert_path = out_dir.join(format!("{user}.crt"));
    let key_path = out_dir.join(format!("{user}.key"));
    let p12_path = out_dir.join(format!("{user}.p12"));
    let p12 = pkcs12(user, &key, cert.der(), &ca.cert_der, p12_password)
        .map_err(|problem| TlsError::Pkcs12 { path: p12_path.clone(), problem })?;
    write_atomic(&key_path, key.serialize_pem().as_bytes(), SECRET_MODE, true)?;
    write_atomic(&cert_path, cert.pem().as_bytes(), PUBLIC_MODE, true)?;
    write_atomic(&p12_path, &p12, SECRET_MODE, true)?;
    let entry = IndexEntry::client(serial, user, department, admin, validity);
    index.certs.push(entry.clone());
    store::save_index(dir, &index)?;
    Ok(Issued { entry, files: vec![cert_path, key_path, p12_path] })
}

/// Revokes the certificate with serial `serial_hex` (any case, colons and a `0x` prefix
/// allowed): records `revoked_at` = now and `reason` in the index and re-signs `ca.crl` with
/// every revoked serial (RFC 5280 §5; thisUpdate now, nextUpdate + the index's CRL days, CRL
/// number + 1). Returns the updated entry. Reload the listener (SIGHUP) to apply it.
///
/// # Errors
/// [`TlsError::InvalidArgument`] (not hex), [`TlsError::UnknownSerial`],
/// [`TlsError::AlreadyRevoked`], [`TlsError::NoCa`], I/O and signing errors.
pub fn revoke(dir: &Path, serial_hex: &str, reason: RevocationReason) -> Result<IndexEntry, TlsError> {
    Authority::new(dir, None).revoke(serial_hex, reason)
}

/// Re-signs `ca.crl` unchanged except for thisUpdate/nextUpdate and the CRL number (run it
/// before nextUpdate, e.g. from a timer). `crl_days`, if given, becomes the new period.
/// Returns the CRL path.
///
/// # Errors
/// [`TlsError::InvalidArgument`] for `Some(0)`; [`TlsError::NoCa`]; I/O and signing errors.
pub fn refresh_crl(dir: &Path, crl_days: Option<u32>) -> Result<PathBuf, TlsError> {
    if let Some(days) = crl_days {
        check_days(days)?;
    }
    let _lock = store::lock(dir)?;
    let ca = store::load_ca(dir)?;
    let mut index = store::load_index(dir)?;
    if let Some(days) = crl_days {
        index.crl_days = days;
    }
    let path = store::sign_crl(dir, &ca, &mut index)?;
    store::save_index(dir, &index)?;
    Ok(path)
}

/// Every certificate the CA issued, oldest first.
///
/// # Errors
/// [`TlsError::NoCa`] if `dir` has no `index.json`; [`TlsError::Index`] if it is corrupt.
pub fn list(dir: &Path) -> Result<Vec<IndexEntry>, TlsError> {
    Ok(store::load_index(dir)?.certs)
}

/// Now, UTC, in whole seconds (what X.509 and CRL times can hold).
fn now_utc() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0).unwrap_or(now)
}

fn base_params(validity: Validity) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.not_before = validity.not_before;
    params.not_after = validity.not_after;
    params.use_authority_key_identifier_extension = true;
    params
}

fn dn(organisation: &str, department: Option<&str>, cn: &str, admin: bool) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, organisation);
    if let Some(department) = department {
        dn.push(DnType::OrganizationalUnitName, department);
    }
    dn.push(DnType::CommonName, cn);
    if admin {
        dn.push(DnType::CustomDnType(role_oid_arcs()), super::ADMIN_ROLE_VALUE);
    }
    dn
}

fn role_oid_arcs() -> Vec<u64> {
    ROLE_OID.split('.').filter_map(|arc| arc.parse().ok()).collect()
}

/// A fresh key and a certificate with a random 128-bit serial, signed by the CA.
fn sign_leaf(
    mut params: CertificateParams,
    ca: &store::Ca,
    what: &'static str,
) -> Result<(String, KeyPair, rcgen::Certificate), TlsError> {
    let serial = random_serial();
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    params.is_ca = IsCa::ExplicitNoCa;
    let key = KeyPair::generate().map_err(|source| TlsError::Generate { what, source })?;
    let cert = params.signed_by(&key, &ca.issuer).map_err(|source| TlsError::Generate { what, source })?;
    Ok((serial_hex(&serial), key, cert))
}

/// 128 random bits, never zero; DER adds a 0x00 sign octet when the top bit is set, so the
/// encoded serial is positive and at most 17 octets (RFC 5280 §4.1.2.2: ≤ 20).
fn random_serial() -> [u8; 16] {
    loop {
        let serial: [u8; 16] = rand::random();
        if serial.iter().any(|b| *b != 0) {
            return serial;
        }
    }
}

fn pkcs12(alias: &str, key: &KeyPair, cert: &[u8], ca: &[u8], password: &str) -> Result<Vec<u8>, String> {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKeyChain};
    use sha2::Digest;
    let leaf = Certificate::from_der(cert).map_err(|e| e.to_string())?;
    let ca = Certificate::from_der(ca).map_err(|e| e.to_string())?;
    let key_id = sha2::Sha256::digest(cert);
    let chain = PrivateKeyChain::new(key.serialize_der(), &key_id[..20], [leaf, ca]);
    let mut store = KeyStore::new();
    store.add_entry(alias, KeyStoreEntry::PrivateKeyChain(chain));
    store.writer(password).write().map_err(|e| e.to_string())
}

/// Accepts `0xAB:cd:01`, `abcd01`, `ABCD1` …; returns the canonical form of [`serial_hex`].
fn normalise_serial(input: &str) -> Result<String, TlsError> {
    let mut digits: String = input.trim().trim_start_matches("0x").chars().filter(|c| *c != ':').collect();
    digits.make_ascii_lowercase();
    if digits.len() % 2 == 1 {
        digits.insert(0, '0');
    }
    let bytes = hex::decode(&digits)
        .ok()
        .filter(|b| !b.is_empty() && b.len() <= 20)
        .ok_or_else(|| invalid("serial", format!("{input:?} is not a hex serial number of at most 20 octets")))?;
    Ok(serial_hex(&bytes))
}

fn invalid(field: &'static str, problem: impl Into<String>) -> TlsError {
    TlsError::InvalidArgument { field, problem: problem.into() }
}

fn check_days(days: u32) -> Result<(), TlsError> {
    if days == 0 || days > 36_500 {
        return Err(invalid("days", format!("{days} is not between 1 and 36500")));
    }
    Ok(())
}

fn check_name(field: &'static str, value: &str) -> Result<(), TlsError> {
    if !is_clean_name(value) {
        return Err(invalid(field, "must be 1 to 64 characters without control characters"));
    }
    Ok(())
}

/// User ids become file names and log values: a conservative character set.
fn check_user(user: &str) -> Result<(), TlsError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-');
    let ok = !user.is_empty()
        && user.len() <= super::MAX_NAME_CHARS
        && user.chars().all(ok_char)
        && !user.starts_with(['.', '-']);
    if !ok {
        return Err(invalid("user", format!("{user:?}: use 1 to 64 of A-Z a-z 0-9 . _ @ -, not starting with . or -")));
    }
    Ok(())
}
