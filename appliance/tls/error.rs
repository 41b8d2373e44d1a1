//! The one error enum of the `tls` module.
//!
//! Owns: [`TlsError`], used by server-config loading, reloading, identity extraction and the
//! local CA (`tls::pki`).
//! Must not: carry key material, PEM bodies or passwords in any variant or message; a
//! message names the file and what is wrong with it, nothing more.

use std::path::PathBuf;

/// Everything that can go wrong in `tls`: loading the listener's certificates, keys, client
/// CAs and CRLs ([`crate::tls::ServerTls`]), checking a client certificate's identity, and
/// running the local CA ([`crate::tls::pki`]).
///
/// Each variant names the file (or serial) concerned and the problem; none of them contains
/// key material, so every message may be logged or printed as is.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read (missing, permissions, I/O).
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A file could not be written, renamed or given its permissions.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A PEM file is malformed or holds none of the expected sections.
    #[error("{path}: {problem}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What is wrong, e.g. "no CERTIFICATE section found".
        problem: String,
    },
    /// A key file holds no usable private key. The parser's detail is left out on purpose:
    /// it could quote parts of the key.
    #[error("{path}: no usable PEM private key (expected PKCS#8, SEC1 or PKCS#1)")]
    PrivateKey {
        /// The key file.
        path: PathBuf,
    },
    /// A certificate does not parse as X.509 (RFC 5280) or is unfit for its use.
    #[error("{path}: invalid certificate: {problem}")]
    Certificate {
        /// The file holding it.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A certificate revocation list does not parse (RFC 5280 §5) or is unfit.
    #[error("{path}: invalid CRL: {problem}")]
    Crl {
        /// The CRL file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// CRLs are configured, but none of them is issued by this client CA. Its certificates'
    /// revocation status could never be determined, and unknown status is refused, so every
    /// holder would be locked out; the configuration is rejected instead.
    #[error(
        "client CA {ca} ({subject}) has no CRL among tls.crl; add the CRL it issues \
         (for the local CA: <pki dir>/ca.crl)"
    )]
    CrlMissingForCa {
        /// The client CA file.
        ca: PathBuf,
        /// The CA's subject, for the operator.
        subject: String,
    },
    /// The server key does not belong to the server certificate.
    #[error("private key {key} does not match the certificate in {cert}")]
    KeyMismatch {
        /// The certificate chain file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// rustls refused to build a configuration from otherwise readable inputs.
    #[error("cannot build the TLS configuration ({what}): {problem}")]
    Config {
        /// The step that failed, e.g. "client certificate verifier".
        what: &'static str,
        /// rustls' message.
        problem: String,
    },
    /// A verified client certificate does not yield an identity (DESIGN.md: identity). The
    /// only personal value carried is the certificate serial.
    #[error("client certificate {serial}: {problem}")]
    PeerIdentity {
        /// Certificate serial number, lowercase hex.
        serial: String,
        /// What is missing or wrong, e.g. "subject has no CN".
        problem: &'static str,
    },
    /// `pki init` found an existing CA; it is never overwritten.
    #[error("{path} already exists: refusing to overwrite an existing CA (use another --dir, or remove the old CA deliberately)")]
    CaExists {
        /// The existing file.
        path: PathBuf,
    },
    /// The PKI directory holds no CA.
    #[error("no CA in {dir} (missing {missing}); create one with `zonegate pki init`")]
    NoCa {
        /// The PKI directory.
        dir: PathBuf,
        /// The missing file name.
        missing: &'static str,
    },
    /// The CA key and certificate in the PKI directory do not belong together.
    #[error("{dir}: ca.key does not match ca.crt")]
    CaKeyMismatch {
        /// The PKI directory.
        dir: PathBuf,
    },
    /// `index.json` is unreadable or inconsistent.
    #[error("{path}: {problem}")]
    Index {
        /// The index file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
    /// A command-line or API argument is invalid.
    #[error("invalid {field}: {problem}")]
    InvalidArgument {
        /// Which argument, e.g. "user".
        field: &'static str,
        /// Why, with the accepted form.
        problem: String,
    },
    /// No certificate with this serial was issued by the local CA.
    #[error("no certificate with serial {serial} in the index (see `zonegate pki list`)")]
    UnknownSerial {
        /// The serial as given, normalised to lowercase hex.
        serial: String,
    },
    /// The certificate is already revoked.
    #[error("certificate {serial} was already revoked at {revoked_at}")]
    AlreadyRevoked {
        /// Serial, lowercase hex.
        serial: String,
        /// When, RFC 3339.
        revoked_at: String,
    },
    /// rcgen failed to generate a key, certificate or CRL.
    #[error("cannot generate {what}: {source}")]
    Generate {
        /// What was being generated, e.g. "client certificate".
        what: &'static str,
        /// rcgen's error (never contains key material).
        source: rcgen::Error,
    },
    /// Writing the PKCS#12 bundle failed.
    #[error("cannot build the PKCS#12 bundle {path}: {problem}")]
    Pkcs12 {
        /// The bundle file.
        path: PathBuf,
        /// What failed.
        problem: String,
    },
    /// The PKI directory lock could not be taken.
    #[error("cannot lock {path}: {source}")]
    Lock {
        /// The lock file.
        path: PathBuf,
        /// The error.
        source: nix::errno::Errno,
    },
}
