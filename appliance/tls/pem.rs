//! Reading certificates, private keys and CRLs from files.
//!
//! Owns: turning the PEM/DER files named in `[tls]` into rustls' DER types, with errors that
//! name the file.
//! Must not: put key bytes or parser details about key files into errors or logs.

use std::path::Path;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use x509_parser::prelude::FromDer;

use super::TlsError;

/// Reads a whole file.
pub(crate) fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read { path: path.to_owned(), source })
}

/// All `CERTIFICATE` sections of a PEM file, in file order; each must parse as X.509.
///
/// # Errors
/// [`TlsError::Read`], [`TlsError::Pem`] (malformed or no certificate),
/// [`TlsError::Certificate`] (a section is not X.509).
pub(crate) fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(path)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem { path: path.to_owned(), problem: e.to_string() })?;
    if certs.is_empty() {
        return Err(TlsError::Pem { path: path.to_owned(), problem: "no CERTIFICATE section found".into() });
    }
    for cert in &certs {
        x509_parser::certificate::X509Certificate::from_der(cert)
            .map_err(|e| TlsError::Certificate { path: path.to_owned(), problem: e.to_string() })?;
    }
    Ok(certs)
}

/// The first private key (PKCS#8, SEC1 or PKCS#1) of a PEM file.
///
/// # Errors
/// [`TlsError::Read`]; [`TlsError::PrivateKey`] without any parser detail.
pub(crate) fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read(path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|_| TlsError::PrivateKey { path: path.to_owned() })
}

/// The CRLs of a file: every `X509 CRL` section of a PEM file, or the file itself as one
/// DER CRL. Each must parse as an RFC 5280 CRL.
///
/// # Errors
/// [`TlsError::Read`], [`TlsError::Pem`], [`TlsError::Crl`].
pub(crate) fn crls(path: &Path) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsError> {
    let bytes = read(path)?;
    let is_pem = bytes.trim_ascii_start().starts_with(b"-----BEGIN");
    let crls = if is_pem {
        CertificateRevocationListDer::pem_slice_iter(&bytes)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsError::Pem { path: path.to_owned(), problem: e.to_string() })?
    } else {
        vec![CertificateRevocationListDer::from(bytes)]
    };
    if crls.is_empty() {
        return Err(TlsError::Pem { path: path.to_owned(), problem: "no X509 CRL section found".into() });
    }
    for crl in &crls {
        x509_parser::parse_x509_crl(crl)
            .map_err(|e| TlsError::Crl { path: path.to_owned(), problem: e.to_string() })?;
    }
    Ok(crls)
}
