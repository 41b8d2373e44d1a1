//! [`Authority`]: the local CA as the admin console uses it, with the CA key read from a
//! path of its own (a systemd credential) and client bundles produced in memory.
//!
//! Owns: issuing a client certificate whose PKCS#12 bundle never touches the disk, and
//! revocation with the same key path. Bookkeeping (`index.json`, `ca.crl`, the directory
//! lock) is shared with `zonegate pki`, so the CLI and the console see one list.
//! Must not: write the bundle or the generated key to a file, or put key bytes into errors.

use std::path::{Path, PathBuf};

use rcgen::{ExtendedKeyUsagePurpose, KeyUsagePurpose};

use super::store;
use super::{
    base_params, check_name, check_user, dn, invalid, normalise_serial, now_utc, pkcs12, sign_leaf,
    IndexEntry, RevocationReason, Validity, CA_KEY,
};
use crate::tls::TlsError;

/// A client certificate issued by [`Authority::issue_client_p12`].
#[derive(Clone)]
pub struct IssuedBundle {
    /// The index entry written for it.
    pub entry: IndexEntry,
    /// PKCS#12 (RFC 7292) with key, certificate and CA certificate, encrypted like the
    /// CLI's bundles (PBES2 AES-256-CBC, PBKDF2-HMAC-SHA256, HMAC-SHA256 MAC).
    pub p12: Vec<u8>,
}

impl std::fmt::Debug for IssuedBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedBundle").field("entry", &self.entry).field("p12", &format_args!("{} bytes", self.p12.len())).finish()
    }
}

/// The CA directory plus where its signing key is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    dir: PathBuf,
    key: PathBuf,
}

impl Authority {
    /// The CA in `dir` (`ca.crt`, `index.json`, `ca.crl`), signing with the key at `key`
    /// (default `dir/ca.key`). Nothing is read until a method is called.
    pub fn new(dir: &Path, key: Option<&Path>) -> Authority {
        Authority { dir: dir.to_owned(), key: key.map_or_else(|| dir.join(CA_KEY), Path::to_owned) }
    }

    /// The CA directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the signing key file exists and can be opened (issuing and revoking need it).
    pub fn can_sign(&self) -> bool {
        std::fs::File::open(&self.key).is_ok() && self.dir.join(super::CA_CERT).is_file()
    }

    /// Issues a client certificate as [`super::issue_client`] does (O = the CA's
    /// organisation, OU = `department`, CN = `user`, role attribute when `admin`, EKU
    /// clientAuth) and records it in `index.json`, but returns the PKCS#12 bundle under
    /// `p12_password` instead of writing any file.
    ///
    /// # Errors
    /// As [`super::issue_client`]: [`TlsError::InvalidArgument`] for a bad user id,
    /// department, validity or empty password; [`TlsError::NoCa`] when the key or `ca.crt`
    /// is missing; I/O, generation and PKCS#12 errors.
    pub fn issue_client_p12(&self, user: &str, department: &str, admin: bool, validity: Validity, p12_password: &str) -> Result<IssuedBundle, TlsError> {
        check_user(user)?;
        check_name("department", department)?;
        if validity.not_after <= validity.not_before {
            return Err(invalid("validity", "not_after must lie after not_before"));
        }
        if p12_password.is_empty() {
            return Err(invalid("p12 password", "must not be empty"));
        }
        let _lock = store::lock(&self.dir)?;
        let ca = store::load_ca_with_key(&self.dir, &self.key)?;
        let mut index = store::load_index(&self.dir)?;
        let mut validity = validity;
        validity.not_after = validity.not_after.min(ca.not_after);
        let mut params = base_params(validity);
        params.distinguished_name = dn(&index.organisation, Some(department), user, admin);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let (serial, key, cert) = sign_leaf(params, &ca, "client certificate")?;
        let p12 = pkcs12(user, &key, cert.der(), &ca.cert_der, p12_password)
            .map_err(|problem| TlsError::Pkcs12 { path: PathBuf::from(format!("{user}.p12 (in memory)")), problem })?;
        let entry = IndexEntry::client(serial, user, department, admin, validity);
        index.certs.push(entry.clone());
        store::save_index(&self.dir, &index)?;
        Ok(IssuedBundle { entry, p12 })
    }

    /// Revokes as [`super::revoke`] does, signing the new CRL with this authority's key.
    ///
    /// # Errors
    /// As [`super::revoke`].
    pub fn revoke(&self, serial_hex: &str, reason: RevocationReason) -> Result<IndexEntry, TlsError> {
        let serial = normalise_serial(serial_hex)?;
        let _lock = store::lock(&self.dir)?;
        let ca = store::load_ca_with_key(&self.dir, &self.key)?;
        let mut index = store::load_index(&self.dir)?;
        let entry = index
            .certs
            .iter_mut()
            .find(|e| e.serial == serial)
            .ok_or_else(|| TlsError::UnknownSerial { serial: serial.clone() })?;
        if let Some(at) = entry.revoked_at {
            return Err(TlsError::AlreadyRevoked { serial, revoked_at: at.to_string() });
        }
        entry.revoked_at = Some(now_utc());
        entry.reason = Some(reason);
        let updated = entry.clone();
        // CRL first: if saving the index then fails, the certificate is revoked but not
        // marked, which is the safe way round.
        store::sign_crl(&self.dir, &ca, &mut index)?;
        store::save_index(&self.dir, &index)?;
        Ok(updated)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn issues_in_memory_with_a_separate_key_and_revokes() {
        let dir = tempfile::tempdir().unwrap();
        super::super::init(dir.path(), "Stadt Testhausen", 30).unwrap();
        // The key moved elsewhere, as with a systemd credential.
        let cred = tempfile::tempdir().unwrap();
        let key = cred.path().join("ca.key");
        std::fs::rename(dir.path().join(CA_KEY), &key).unwrap();
        assert!(!Authority::new(dir.path(), None).can_sign());
        let a = Authority::new(dir.path(), Some(&key));
        assert!(a.can_sign());
        let b = a.issue_client_p12("erika.test", "Ordnungsamt", false, Validity::days_from_now(10), "pw-test").unwrap();
        assert!(b.p12.len() > 500);
        let files: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert!(!files.iter().any(|f| f.ends_with(".p12") || f == "clients"), "nothing but bookkeeping on disk: {files:?}");
        let listed = super::super::list(dir.path()).unwrap();
        assert!(listed.iter().any(|e| e.serial == b.entry.serial && e.department.as_deref() == Some("Ordnungsamt")));
        let r = a.revoke(&b.entry.serial, RevocationReason::AffiliationChanged).unwrap();
        assert!(r.revoked_at.is_some());
        assert!(matches!(a.revoke(&b.entry.serial, RevocationReason::Unspecified), Err(TlsError::AlreadyRevoked { .. })));
        assert!(matches!(a.issue_client_p12("../evil", "X", false, Validity::days_from_now(1), "p"), Err(TlsError::InvalidArgument { .. })));
    }
}
