//! Files of the local CA directory: atomic writes with exact modes, the directory lock,
//! `index.json`, loading the CA, signing `ca.crl`.
//!
//! Owns: how and with which permissions anything under the PKI directory (and issued
//! bundles) reaches the disk.
//! Must not: write a private key non-atomically or with a mode other than 0600, overwrite an
//! existing CA, or put key bytes into an error.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};
use rcgen::{CertificateRevocationListParams, Issuer, KeyIdMethod, KeyPair, RevokedCertParams, SerialNumber};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;

use super::{IndexEntry, CA_CERT, CA_CRL, CA_KEY, INDEX};
use crate::tls::TlsError;

/// Mode of private keys and PKCS#12 bundles.
pub(super) const SECRET_MODE: u32 = 0o600;
/// Mode of certificates and CRLs.
pub(super) const PUBLIC_MODE: u32 = 0o644;
const LOCK_FILE: &str = ".lock";
const INDEX_VERSION: u32 = 1;

/// `index.json`: the CA's bookkeeping.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Index {
    pub version: u32,
    /// Organisation (subject O) of the CA and everything it issues.
    pub organisation: String,
    /// Number of the last CRL signed (RFC 5280 §5.2.3); the next one gets `+ 1`.
    pub crl_number: u64,
    /// Days between a CRL's thisUpdate and nextUpdate.
    pub crl_days: u32,
    /// Every certificate issued, oldest first.
    pub certs: Vec<IndexEntry>,
}

impl Index {
    pub(super) fn new(organisation: &str, crl_days: u32) -> Index {
        Index { version: INDEX_VERSION, organisation: organisation.into(), crl_number: 0, crl_days, certs: Vec::new() }
    }
}

/// Writes `bytes` to `path` atomically: a temporary file in the same directory, created with
/// `mode` (set explicitly, independent of the umask), flushed to disk, then renamed over
/// `path` — or, when `overwrite` is false, hard-linked to `path`, which fails if it exists.
///
/// # Errors
/// [`TlsError::CaExists`] if `overwrite` is false and `path` exists; [`TlsError::Write`].
pub(super) fn write_atomic(path: &Path, bytes: &[u8], mode: u32, overwrite: bool) -> Result<(), TlsError> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
    let werr = |p: &Path| {
        let p = p.to_owned();
        move |source| TlsError::Write { path: p, source }
    };
    let written = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).mode(mode).open(&tmp)?;
        file.set_permissions(Permissions::from_mode(mode))?;
        // Root replacing a file keeps its owner: `zonegate pki revoke` run as root must not
        // take index.json or ca.crl away from the service that the console runs in.
        if overwrite && nix::unistd::geteuid().is_root() {
            if let Ok(old) = fs::metadata(path) {
                use std::os::unix::fs::MetadataExt as _;
                std::os::unix::fs::fchown(&file, Some(old.uid()), Some(old.gid()))?;
            }
        }
        file.write_all(bytes)?;
        file.sync_all()
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(werr(&tmp)(e));
    }
    let placed = if overwrite {
        fs::rename(&tmp, path)
    } else {
        let linked = fs::hard_link(&tmp, path);
        let _ = fs::remove_file(&tmp);
        linked
    };
    match placed {
        Ok(()) => {}
        Err(e) if !overwrite && e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(TlsError::CaExists { path: path.to_owned() });
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(werr(path)(e));
        }
    }
    // Make the rename itself durable; a failure here is not worth failing the command.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Creates `dir` (and parents) if missing; a directory created here gets mode `mode`.
pub(super) fn ensure_dir(dir: &Path, mode: u32) -> Result<(), TlsError> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(dir)
        .map_err(|source| TlsError::Write { path: dir.to_owned(), source })
}

/// Takes the PKI directory's exclusive lock (released on drop), so two `zonegate pki` runs
/// cannot interleave their index and CRL updates.
pub(super) fn lock(dir: &Path) -> Result<Flock<File>, TlsError> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(SECRET_MODE)
        .open(&path)
        .map_err(|source| TlsError::Write { path: path.clone(), source })?;
    Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, source)| TlsError::Lock { path, source })
}

pub(super) fn load_index(dir: &Path) -> Result<Index, TlsError> {
    let path = dir.join(INDEX);
    if !path.exists() {
        return Err(TlsError::NoCa { dir: dir.to_owned(), missing: INDEX });
    }
    let text = fs::read_to_string(&path).map_err(|source| TlsError::Read { path: path.clone(), source })?;
    let index: Index =
        serde_json::from_str(&text).map_err(|e| TlsError::Index { path: path.clone(), problem: e.to_string() })?;
    if index.version != INDEX_VERSION {
        return Err(TlsError::Index { path, problem: format!("unsupported index version {}", index.version) });
    }
    Ok(index)
}

pub(super) fn save_index(dir: &Path, index: &Index) -> Result<(), TlsError> {
    let path = dir.join(INDEX);
    let mut text = serde_json::to_string_pretty(index)
        .map_err(|e| TlsError::Index { path: path.clone(), problem: e.to_string() })?;
    text.push('\n');
    // The index names employees: not world-readable.
    write_atomic(&path, text.as_bytes(), SECRET_MODE, true)
}

/// The CA as loaded from `ca.key` + `ca.crt`.
pub(super) struct Ca {
    pub issuer: Issuer<'static, KeyPair>,
    pub cert_der: CertificateDer<'static>,
    pub cert_pem: String,
    pub not_after: OffsetDateTime,
    /// How CRLs identify the CA key: the CA certificate's subjectKeyIdentifier.
    pub key_id: KeyIdMethod,
}

pub(super) fn load_ca(dir: &Path) -> Result<Ca, TlsError> {
    load_ca_with_key(dir, &dir.join(CA_KEY))
}

/// Like [`load_ca`], with the CA key read from `key_path` instead of `dir/ca.key` (the
/// console gets it as a systemd credential; see `[console] ca_key_credential`).
pub(super) fn load_ca_with_key(dir: &Path, key_path: &Path) -> Result<Ca, TlsError> {
    if !key_path.exists() {
        return Err(TlsError::NoCa { dir: dir.to_owned(), missing: CA_KEY });
    }
    if !dir.join(CA_CERT).exists() {
        return Err(TlsError::NoCa { dir: dir.to_owned(), missing: CA_CERT });
    }
    let key_path = key_path.to_owned();
    let key_pem = fs::read_to_string(&key_path).map_err(|source| TlsError::Read { path: key_path.clone(), source })?;
    let key = KeyPair::from_pem(&key_pem).map_err(|_| TlsError::PrivateKey { path: key_path })?;
    drop(key_pem);

    let cert_path = dir.join(CA_CERT);
    let cert_pem =
        fs::read_to_string(&cert_path).map_err(|source| TlsError::Read { path: cert_path.clone(), source })?;
    let cert_der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
        .map_err(|e| TlsError::Pem { path: cert_path.clone(), problem: e.to_string() })?;
    let (_, parsed) = x509_parser::certificate::X509Certificate::from_der(&cert_der)
        .map_err(|e| TlsError::Certificate { path: cert_path.clone(), problem: e.to_string() })?;
    if parsed.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
        return Err(TlsError::CaKeyMismatch { dir: dir.to_owned() });
    }
    let key_id = parsed
        .extensions()
        .iter()
        .find_map(|ext| match ext.parsed_extension() {
            ParsedExtension::SubjectKeyIdentifier(kid) => Some(KeyIdMethod::PreSpecified(kid.0.to_vec())),
            _ => None,
        })
        .unwrap_or(KeyIdMethod::Sha256);
    let not_after = parsed.validity().not_after.to_datetime();
    let issuer = Issuer::from_ca_cert_der(&cert_der, key)
        .map_err(|source| TlsError::Generate { what: "CA issuer from ca.crt", source })?;
    Ok(Ca { issuer, cert_der, cert_pem, not_after, key_id })
}

/// Signs a new `ca.crl` listing every revoked certificate of `index` (RFC 5280 §5: v2,
/// thisUpdate now, nextUpdate now + `crl_days`, CRL number incremented, reason codes) and
/// writes it atomically. Increments `index.crl_number`; the caller saves the index after.
pub(super) fn sign_crl(dir: &Path, ca: &Ca, index: &mut Index) -> Result<PathBuf, TlsError> {
    let now = OffsetDateTime::now_utc();
    let mut revoked_certs = Vec::new();
    for entry in &index.certs {
        let Some(revoked_at) = entry.revoked_at else { continue };
        let bytes = hex::decode(&entry.serial).map_err(|_| TlsError::Index {
            path: dir.join(INDEX),
            problem: format!("serial {:?} is not hex", entry.serial),
        })?;
        revoked_certs.push(RevokedCertParams {
            serial_number: SerialNumber::from_slice(&bytes),
            revocation_time: revoked_at,
            reason_code: entry.reason.map(Into::into),
            invalidity_date: None,
        });
    }
    let crl_number = index.crl_number + 1;
    let params = CertificateRevocationListParams {
        this_update: now,
        next_update: now + time::Duration::days(i64::from(index.crl_days.max(1))),
        crl_number: SerialNumber::from_slice(&crl_number.to_be_bytes()),
        issuing_distribution_point: None,
        revoked_certs,
        key_identifier_method: ca.key_id.clone(),
    };
    let crl = params.signed_by(&ca.issuer).map_err(|source| TlsError::Generate { what: "CRL", source })?;
    let pem = crl.pem().map_err(|source| TlsError::Generate { what: "CRL PEM", source })?;
    let path = dir.join(CA_CRL);
    write_atomic(&path, pem.as_bytes(), PUBLIC_MODE, true)?;
    index.crl_number = crl_number;
    Ok(path)
}

/// RFC 3339 (de)serialisation of timestamps in `index.json`.
pub(super) mod rfc3339 {
    use serde::{de::Error as _, ser::Error as _, Deserialize, Deserializer, Serializer};
    use time::format_description::well_known::Rfc3339;
    use time::OffsetDateTime;

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.format(&Rfc3339).map_err(S::Error::custom)?)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        OffsetDateTime::parse(&String::deserialize(d)?, &Rfc3339).map_err(D::Error::custom)
    }

    /// The same for `Option<OffsetDateTime>` (`null` when absent).
    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(t: &Option<OffsetDateTime>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<OffsetDateTime>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| OffsetDateTime::parse(&s, &Rfc3339).map_err(D::Error::custom))
                .transpose()
        }
    }
}
