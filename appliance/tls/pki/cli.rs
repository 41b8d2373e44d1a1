//! `zonegate pki …`: the local CA on the command line.
//!
//! Owns: [`PkiCommand`] (clap) and [`run_pki`], which calls the `pki` functions and prints
//! what was written.
//! Must not: print or log key material; the only secret it ever prints is a PKCS#12
//! password it generated itself, once, on stdout.

use std::net::IpAddr;
use std::path::PathBuf;

use anyhow::Context as _;

use super::{
    init, issue_client, issue_server, list, refresh_crl, revoke, RevocationReason, Validity, CA_CERT, CA_CRL,
    DEFAULT_DIR,
};

/// Characters of generated PKCS#12 passwords: lowercase letters and digits without the
/// look-alikes `i l o 0 1`, easy to read out over the phone.
const PASSWORD_ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";

/// `zonegate pki <command>`: manage the appliance's local CA (directory default
/// [`DEFAULT_DIR`]). Every command takes `--dir`.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum PkiCommand {
    /// Create a new CA: ca.key (0600), ca.crt, an empty signed ca.crl and index.json.
    /// Refuses to overwrite an existing CA.
    Init {
        /// PKI directory (created with mode 0700 if missing).
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
        /// Organisation written as subject O into the CA and every certificate it issues.
        #[arg(long)]
        organisation: String,
        /// CA validity in days.
        #[arg(long, default_value_t = 3650)]
        days: u32,
    },
    /// Issue the API listener's certificate: <out>/server.crt (leaf + CA) and server.key (0600).
    IssueServer {
        /// PKI directory.
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
        /// DNS name for the subjectAltName (repeatable); the first name is also the CN.
        #[arg(long = "dns", value_name = "NAME")]
        dns: Vec<String>,
        /// IP address for the subjectAltName (repeatable).
        #[arg(long = "ip", value_name = "ADDR")]
        ip: Vec<IpAddr>,
        /// Validity in days (cut at the CA's expiry).
        #[arg(long, default_value_t = 825)]
        days: u32,
        /// Output directory [default: the PKI directory].
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Issue an employee's client certificate: <out>/<user>.crt, <user>.key (0600) and a
    /// password-protected <user>.p12 for browsers and curl.
    IssueClient {
        /// PKI directory.
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
        /// User id (subject CN): 1–64 of A-Z a-z 0-9 . _ @ -
        #[arg(long)]
        user: String,
        /// Department (subject OU), used for metering.
        #[arg(long)]
        department: String,
        /// Grant the admin role (X.520 role attribute = admin).
        #[arg(long)]
        admin: bool,
        /// Validity in days.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Output directory [default: <dir>/clients].
        #[arg(long)]
        out: Option<PathBuf>,
        /// PKCS#12 password. Visible in the process list and shell history: prefer
        /// --p12-password-file, or omit both to have a random one generated and printed once.
        #[arg(long, conflicts_with = "p12_password_file")]
        p12_password: Option<String>,
        /// File whose first line is the PKCS#12 password.
        #[arg(long, value_name = "FILE")]
        p12_password_file: Option<PathBuf>,
    },
    /// Revoke a certificate by serial and re-sign ca.crl; then reload zonegate (SIGHUP).
    Revoke {
        /// PKI directory.
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
        /// Serial number in hex, as printed by `pki list`.
        serial: String,
        /// Reason code (RFC 5280 §5.3.1).
        #[arg(long, value_enum, default_value_t = RevocationReason::Unspecified)]
        reason: RevocationReason,
    },
    /// Re-sign ca.crl with a fresh nextUpdate (run regularly, e.g. from a timer).
    Crl {
        /// PKI directory.
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
        /// New CRL period in days (kept for later runs) [default: the current one, initially 30].
        #[arg(long)]
        days: Option<u32>,
    },
    /// List issued certificates.
    List {
        /// PKI directory.
        #[arg(long, default_value = DEFAULT_DIR)]
        dir: PathBuf,
        /// Print the index entries as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs one `zonegate pki` command and prints, on stdout, the files written (and, for
/// `issue-client` without a given password, the generated PKCS#12 password, once).
///
/// # Errors
/// The command's [`crate::tls::TlsError`] with context, or a failure to read the password
/// file.
pub fn run_pki(cmd: PkiCommand) -> anyhow::Result<()> {
    match cmd {
        PkiCommand::Init { dir, organisation, days } => {
            let files = init(&dir, &organisation, days).context("pki init")?;
            print_files(&files);
            println!("next: zonegate pki issue-server --dir {} --dns <hostname> --ip <address>", dir.display());
            println!("configure tls.client_ca = {:?} and tls.crl = {:?}", dir.join(CA_CERT), dir.join(CA_CRL));
        }
        PkiCommand::IssueServer { dir, dns, ip, days, out } => {
            let out = out.unwrap_or_else(|| dir.clone());
            let issued = issue_server(&dir, &dns, &ip, days, &out).context("pki issue-server")?;
            print_files(&issued.files);
            println!("serial {}, valid until {}", issued.entry.serial, issued.entry.not_after);
        }
        PkiCommand::IssueClient { dir, user, department, admin, days, out, p12_password, p12_password_file } => {
            let out = out.unwrap_or_else(|| dir.join("clients"));
            let (password, generated) = match (p12_password, p12_password_file) {
                (Some(p), _) => (p, false),
                (None, Some(file)) => (read_password(&file)?, false),
                (None, None) => (generate_password(), true),
            };
            let issued = issue_client(&dir, &user, &department, admin, Validity::days_from_now(days), &out, &password)
                .context("pki issue-client")?;
            print_files(&issued.files);
            println!("serial {}, valid until {}", issued.entry.serial, issued.entry.not_after);
            println!("hand out {} together with the bundle, to verify the server", dir.join(CA_CERT).display());
            if generated {
                println!("PKCS#12 password (shown once, not stored): {password}");
            }
        }
        PkiCommand::Revoke { dir, serial, reason } => {
            let entry = revoke(&dir, &serial, reason).context("pki revoke")?;
            println!("revoked {} ({}); wrote {}", entry.serial, entry.user, dir.join(CA_CRL).display());
            println!("reload zonegate (systemctl reload zonegate) to refuse it on new connections");
        }
        PkiCommand::Crl { dir, days } => {
            let path = refresh_crl(&dir, days).context("pki crl")?;
            println!("wrote {}", path.display());
        }
        PkiCommand::List { dir, json } => {
            let entries = list(&dir).context("pki list")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&entries)?);
            } else {
                let now = time::OffsetDateTime::now_utc();
                println!(
                    "{:<34} {:<6} {:<13} {:<24} {:<20} {:<6} NOT AFTER",
                    "SERIAL", "KIND", "STATUS", "USER", "DEPARTMENT", "ROLE"
                );
                for e in entries {
                    println!(
                        "{:<34} {:<6} {:<13} {:<24} {:<20} {:<6} {}",
                        e.serial,
                        serde_plain(&e.kind),
                        e.status(now),
                        e.user,
                        e.department.as_deref().unwrap_or("-"),
                        e.role.map_or_else(|| "-".to_owned(), |r| r.to_string()),
                        e.not_after.date(),
                    );
                }
            }
        }
    }
    Ok(())
}

fn print_files(files: &[PathBuf]) {
    for f in files {
        println!("wrote {}", f.display());
    }
}

fn serde_plain(kind: &super::CertKind) -> &'static str {
    match kind {
        super::CertKind::Server => "server",
        super::CertKind::Client => "client",
    }
}

fn read_password(path: &std::path::Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

/// A PKCS#12 password: 20 characters of lowercase letters and digits without the look-alikes
/// `i l o 0 1`, in groups of five (about 99 bits), easy to read out over the phone.
pub fn generate_password() -> String {
    let mut out = String::with_capacity(23);
    for i in 0..20 {
        if i > 0 && i % 5 == 0 {
            out.push('-');
        }
        out.push(char::from(PASSWORD_ALPHABET[rand::random_range(0..PASSWORD_ALPHABET.len())]));
    }
    out
}
