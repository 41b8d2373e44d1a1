//! `[console]`: the admin web console's listener and the CA key it issues certificates with.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::Deserialize;

/// `[console]`: absent = no console.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleConfig {
    /// Address of the console's mutual-TLS listener, on the management network (e.g.
    /// `127.0.0.1:8444` or the management interface's address). Only client certificates
    /// with the admin role complete the handshake.
    pub listen: SocketAddr,
    /// The local CA directory (`ca.crt`, `index.json`, `ca.crl`) the certificates page lists
    /// and writes to. Default: `<server.state_dir>/pki`.
    pub pki_dir: Option<PathBuf>,
    /// The CA's signing key for issuing and revoking from the console. Without it (and
    /// without `ca_key_credential`) the certificates page only lists.
    pub ca_key: Option<PathBuf>,
    /// Name of a systemd credential (`LoadCredential=`) holding the CA key, read from
    /// `$CREDENTIALS_DIRECTORY/<name>` (the image's unit hands over `ca.key`).
    pub ca_key_credential: Option<String>,
    /// Validity of client certificates issued from the console, in days.
    #[serde(default = "default_days")]
    pub client_cert_days: u32,
}

fn default_days() -> u32 {
    365
}

impl ConsoleConfig {
    /// Where the CA key is read from, if issuing is configured.
    ///
    /// # Errors
    /// `ca_key_credential` is set but `$CREDENTIALS_DIRECTORY` is not (not started by
    /// systemd with `LoadCredential=`).
    pub fn ca_key_path(&self) -> Result<Option<PathBuf>, String> {
        match (&self.ca_key, &self.ca_key_credential) {
            (Some(p), _) => Ok(Some(p.clone())),
            (None, Some(name)) => Ok(Some(
                super::credentials_dir().ok_or("console.ca_key_credential needs $CREDENTIALS_DIRECTORY (systemd LoadCredential=)")?.join(name),
            )),
            (None, None) => Ok(None),
        }
    }
}
