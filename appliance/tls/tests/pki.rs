//! The local CA: files, modes, certificate contents, revocation and the CRL.

use std::net::{IpAddr, Ipv4Addr};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

use crate::tls::pki::{self, CertKind, RevocationReason, Validity};
use crate::tls::{Role, TlsError};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn pem_der(path: &Path) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_file(path).unwrap().to_vec()
}

fn crl_serials(dir: &Path) -> (Vec<String>, u64, Option<i64>) {
    use rustls::pki_types::pem::PemObject;
    let der = rustls::pki_types::CertificateRevocationListDer::from_pem_file(dir.join(pki::CA_CRL)).unwrap();
    let (_, crl) = x509_parser::parse_x509_crl(&der).unwrap();
    let serials = crl.iter_revoked_certificates().map(|r| crate::tls::identity::serial_hex(r.raw_serial())).collect();
    let number = crl.crl_number().map(|n| u64::try_from(n.clone()).unwrap()).unwrap();
    let next = crl.next_update().map(|t| t.timestamp() - crl.last_update().timestamp());
    (serials, number, next)
}

/// Guards the whole CA life cycle: init → issue server and client → revoke → the CRL lists
/// exactly the revoked serial, with key files 0600 throughout.
#[test]
fn pki_roundtrip_init_issue_revoke() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    let files = pki::init(&dir, "Stadt Musterstadt", 3650).unwrap();
    assert_eq!(files.len(), 4);
    assert_eq!(mode(&dir), 0o700, "PKI dir");
    assert_eq!(mode(&dir.join(pki::CA_KEY)), 0o600, "ca.key");
    assert_eq!(mode(&dir.join(pki::INDEX)), 0o600, "index.json names employees");
    assert_eq!(mode(&dir.join(pki::CA_CERT)), 0o644);
    let (serials, number, next) = crl_serials(&dir);
    assert!(serials.is_empty(), "fresh CRL is empty");
    assert_eq!(number, 1);
    assert_eq!(next, Some(i64::from(pki::DEFAULT_CRL_DAYS) * 86_400));

    let out = tmp.path().join("out");
    let server =
        pki::issue_server(&dir, &["zonegate.example".into()], &[IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5))], 90, &out)
            .unwrap();
    assert_eq!(server.files, vec![out.join("server.crt"), out.join("server.key")]);
    assert_eq!(mode(&out.join("server.key")), 0o600, "server.key");
    let chain = std::fs::read_to_string(out.join("server.crt")).unwrap();
    assert_eq!(chain.matches("BEGIN CERTIFICATE").count(), 2, "server.crt is leaf + CA");

    let alice =
        pki::issue_client(&dir, "alice", "Sozialamt", true, Validity::days_from_now(30), &out, "pw-alice").unwrap();
    let bob = pki::issue_client(&dir, "bob", "Kämmerei", false, Validity::days_from_now(30), &out, "pw-bob").unwrap();
    for user in ["alice", "bob"] {
        assert_eq!(mode(&out.join(format!("{user}.key"))), 0o600, "{user}.key");
        assert_eq!(mode(&out.join(format!("{user}.p12"))), 0o600, "{user}.p12 holds the key");
        assert_eq!(mode(&out.join(format!("{user}.crt"))), 0o644);
    }
    // No temporary files left behind by the atomic writes.
    let leftovers: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    let listed = pki::list(&dir).unwrap();
    assert_eq!(listed.len(), 3);
    assert_eq!(listed[0].kind, CertKind::Server);
    assert_eq!(listed[0].names, vec!["zonegate.example".to_owned(), "10.0.0.5".to_owned()]);
    assert_eq!(listed[1], alice.entry);
    assert_eq!(listed[1].role, Some(Role::Admin));
    assert_eq!(listed[2].department.as_deref(), Some("Kämmerei"));

    // Accept the serial in another spelling: upper case with colons.
    let spelled = alice
        .entry
        .serial
        .to_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(":");
    let revoked = pki::revoke(&dir, &spelled, RevocationReason::KeyCompromise).unwrap();
    assert_eq!(revoked.serial, alice.entry.serial);
    assert!(revoked.revoked_at.is_some());
    let (serials, number, _) = crl_serials(&dir);
    assert_eq!(serials, vec![alice.entry.serial.clone()], "CRL lists exactly the revoked serial");
    assert_eq!(number, 2, "CRL number incremented");
    let listed = pki::list(&dir).unwrap();
    assert_eq!(listed[1].reason, Some(RevocationReason::KeyCompromise));
    assert_eq!(listed[1].status(time::OffsetDateTime::now_utc()), "revoked");
    assert_eq!(listed[2].status(time::OffsetDateTime::now_utc()), "valid");

    assert!(matches!(
        pki::revoke(&dir, &alice.entry.serial, RevocationReason::Superseded),
        Err(TlsError::AlreadyRevoked { .. })
    ));
    assert!(matches!(pki::revoke(&dir, "abcdef", RevocationReason::Unspecified), Err(TlsError::UnknownSerial { .. })));
    assert!(matches!(pki::revoke(&dir, "xyz", RevocationReason::Unspecified), Err(TlsError::InvalidArgument { .. })));

    pki::revoke(&dir, &bob.entry.serial, RevocationReason::AffiliationChanged).unwrap();
    let (mut serials, number, _) = crl_serials(&dir);
    serials.sort();
    let mut expected = vec![alice.entry.serial, bob.entry.serial];
    expected.sort();
    assert_eq!(serials, expected, "the CRL keeps earlier revocations");
    assert_eq!(number, 3);

    pki::refresh_crl(&dir, Some(7)).unwrap();
    let (serials, number, next) = crl_serials(&dir);
    assert_eq!(
        (serials.len(), number, next),
        (2, 4, Some(7 * 86_400)),
        "refresh keeps entries, bumps number, new period"
    );
}

/// Guards against destroying a CA: a second init in the same directory fails and leaves
/// the key untouched.
#[test]
fn pki_init_refuses_existing_ca() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pki::init(dir, "Stadt", 365).unwrap();
    let key_before = std::fs::read(dir.join(pki::CA_KEY)).unwrap();
    let err = pki::init(dir, "Other", 365).unwrap_err();
    assert!(matches!(err, TlsError::CaExists { .. }), "{err}");
    assert!(err.to_string().contains("refusing to overwrite"), "{err}");
    assert_eq!(std::fs::read(dir.join(pki::CA_KEY)).unwrap(), key_before);
    // Even with only the key present (half-finished earlier init), nothing is overwritten.
    std::fs::remove_file(dir.join(pki::INDEX)).unwrap();
    std::fs::remove_file(dir.join(pki::CA_CERT)).unwrap();
    assert!(matches!(pki::init(dir, "Other", 365), Err(TlsError::CaExists { .. })));
    assert_eq!(std::fs::read(dir.join(pki::CA_KEY)).unwrap(), key_before);
}

/// Guards the certificate profiles the listener relies on: EKUs, SANs, subject layout, the
/// role attribute, positive ≤ 20-octet serials, CA constraints.
#[test]
fn pki_certificate_profiles() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pki::init(dir, "Stadt Musterstadt", 365).unwrap();
    pki::issue_server(dir, &["localhost".into()], &[IpAddr::V4(Ipv4Addr::LOCALHOST)], 30, dir).unwrap();
    let alice = pki::issue_client(dir, "alice", "Sozialamt", true, Validity::days_from_now(30), dir, "pw").unwrap();

    let ca_der = pem_der(&dir.join(pki::CA_CERT));
    let (_, ca) = x509_parser::certificate::X509Certificate::from_der(&ca_der).unwrap();
    let bc = ca.basic_constraints().unwrap().unwrap().value;
    assert!(bc.ca && bc.path_len_constraint == Some(0), "CA signs end entities only");
    assert!(ca.key_usage().unwrap().unwrap().value.crl_sign());

    let server_der = pem_der(&dir.join("server.crt"));
    let (_, server) = x509_parser::certificate::X509Certificate::from_der(&server_der).unwrap();
    assert!(server.extended_key_usage().unwrap().unwrap().value.server_auth);
    assert!(!server.is_ca());
    let sans = &server.subject_alternative_name().unwrap().unwrap().value.general_names;
    assert!(sans.contains(&GeneralName::DNSName("localhost")));
    assert!(sans.iter().any(|n| matches!(n, GeneralName::IPAddress(ip) if *ip == [127, 0, 0, 1])));

    let client_der = pem_der(&dir.join("alice.crt"));
    let (_, client) = x509_parser::certificate::X509Certificate::from_der(&client_der).unwrap();
    let eku = client.extended_key_usage().unwrap().unwrap().value;
    assert!(eku.client_auth && !eku.server_auth);
    assert_eq!(client.subject().iter_common_name().next().unwrap().as_str().unwrap(), "alice");
    assert_eq!(client.subject().iter_organizational_unit().next().unwrap().as_str().unwrap(), "Sozialamt");
    assert_eq!(client.subject().iter_organization().next().unwrap().as_str().unwrap(), "Stadt Musterstadt");
    assert_eq!(client.issuer().as_raw(), ca.subject().as_raw(), "issuer DN byte-identical to the CA subject");
    let has_aki =
        client.extensions().iter().any(|e| matches!(e.parsed_extension(), ParsedExtension::AuthorityKeyIdentifier(_)));
    assert!(has_aki);

    let raw = client.raw_serial();
    assert!(raw.len() <= 20 && raw[0] & 0x80 == 0, "positive, at most 20 octets: {raw:02x?}");
    assert_eq!(crate::tls::identity::serial_hex(raw), alice.entry.serial);
    assert!(alice.entry.serial.len() <= 32 && alice.entry.serial.len() >= 2);
}

/// Guards the PKCS#12 bundle: it opens with the password, holds the key and the chain
/// (leaf, CA), and does not open without it.
#[test]
fn pki_pkcs12_bundle_opens_with_password() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    pki::init(dir, "Stadt", 365).unwrap();
    pki::issue_client(dir, "carol", "IT", false, Validity::days_from_now(30), dir, "s3cret-pw").unwrap();
    let bytes = std::fs::read(dir.join("carol.p12")).unwrap();
    assert!(p12_keystore::KeyStore::from_pkcs12(&bytes, "wrong").is_err());
    let store = p12_keystore::KeyStore::from_pkcs12(&bytes, "s3cret-pw").unwrap();
    let (alias, chain) = store.private_key_chain().unwrap();
    assert_eq!(alias, "carol");
    assert_eq!(chain.chain().len(), 2);
    assert_eq!(chain.chain()[0].as_der(), pem_der(&dir.join("carol.crt")).as_slice());
    assert_eq!(chain.chain()[1].as_der(), pem_der(&dir.join(pki::CA_CERT)).as_slice());
    let key_pem = std::fs::read_to_string(dir.join("carol.key")).unwrap();
    let key = rcgen::KeyPair::from_pem(&key_pem).unwrap();
    assert_eq!(chain.key(), key.serialize_der().as_slice());
}

/// Guards input validation: unsafe user ids (they become file names), empty departments,
/// no server names, inverted validity, empty PKCS#12 password, missing CA.
#[test]
fn pki_rejects_bad_arguments() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let v = Validity::days_from_now(1);
    assert!(matches!(pki::issue_client(dir, "alice", "IT", false, v, dir, "pw"), Err(TlsError::NoCa { .. })));
    pki::init(dir, "Stadt", 365).unwrap();
    for user in ["", "../etc/passwd", ".hidden", "-rf", "a b", "ümlaut", &"x".repeat(65)] {
        let err = pki::issue_client(dir, user, "IT", false, v, dir, "pw").unwrap_err();
        assert!(matches!(err, TlsError::InvalidArgument { field: "user", .. }), "{user:?}: {err}");
    }
    assert!(matches!(
        pki::issue_client(dir, "a", " ", false, v, dir, "pw"),
        Err(TlsError::InvalidArgument { field: "department", .. })
    ));
    assert!(matches!(
        pki::issue_client(dir, "a", "IT\n", false, v, dir, "pw"),
        Err(TlsError::InvalidArgument { field: "department", .. })
    ));
    let inverted = Validity { not_before: v.not_after, not_after: v.not_before };
    assert!(matches!(
        pki::issue_client(dir, "a", "IT", false, inverted, dir, "pw"),
        Err(TlsError::InvalidArgument { field: "validity", .. })
    ));
    assert!(matches!(pki::issue_client(dir, "a", "IT", false, v, dir, ""), Err(TlsError::InvalidArgument { .. })));
    assert!(matches!(pki::issue_server(dir, &[], &[], 30, dir), Err(TlsError::InvalidArgument { .. })));
    assert!(matches!(
        pki::issue_server(dir, &["bad name".into()], &[], 30, dir),
        Err(TlsError::InvalidArgument { field: "dns", .. })
    ));
    assert!(matches!(
        pki::issue_server(dir, &["ok.example".into()], &[], 0, dir),
        Err(TlsError::InvalidArgument { field: "days", .. })
    ));
    assert_eq!(pki::list(dir).unwrap().len(), 0, "nothing was recorded");
}

/// Guards the CLI definition (clap's own consistency checks) and its defaults.
#[test]
fn pki_command_parses() {
    use clap::{CommandFactory, Parser};
    #[derive(clap::Parser)]
    struct Cli {
        #[command(subcommand)]
        pki: pki::PkiCommand,
    }
    Cli::command().debug_assert();
    let cli =
        Cli::try_parse_from(["zonegate", "issue-client", "--user", "alice", "--department", "IT", "--admin"]).unwrap();
    match cli.pki {
        pki::PkiCommand::IssueClient { dir, admin, days, p12_password, .. } => {
            assert_eq!(dir, Path::new(pki::DEFAULT_DIR));
            assert!(admin);
            assert_eq!(days, 365);
            assert_eq!(p12_password, None);
        }
        other => panic!("{other:?}"),
    }
    let cli = Cli::try_parse_from(["zonegate", "revoke", "ab:cd", "--reason", "key-compromise"]).unwrap();
    assert!(matches!(cli.pki, pki::PkiCommand::Revoke { reason: RevocationReason::KeyCompromise, .. }));
    let cli = Cli::try_parse_from([
        "zonegate",
        "issue-server",
        "--dns",
        "a.example",
        "--dns",
        "b.example",
        "--ip",
        "10.0.0.1",
    ])
    .unwrap();
    assert!(matches!(cli.pki, pki::PkiCommand::IssueServer { ref dns, ref ip, .. } if dns.len() == 2 && ip.len() == 1));
}

/// Guards `run_pki` end to end on a temp dir (what `zonegate pki …` does).
#[test]
fn pki_run_pki_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("pki");
    pki::run_pki(pki::PkiCommand::Init { dir: dir.clone(), organisation: "Stadt".into(), days: 365 }).unwrap();
    pki::run_pki(pki::PkiCommand::IssueServer {
        dir: dir.clone(),
        dns: vec!["localhost".into()],
        ip: vec![],
        days: 30,
        out: None,
    })
    .unwrap();
    assert!(dir.join("server.crt").exists());
    pki::run_pki(pki::PkiCommand::IssueClient {
        dir: dir.clone(),
        user: "dave".into(),
        department: "IT".into(),
        admin: false,
        days: 30,
        out: None,
        p12_password: None,
        p12_password_file: None,
    })
    .unwrap();
    assert!(dir.join("clients/dave.p12").exists());
    let serial = pki::list(&dir).unwrap()[1].serial.clone();
    pki::run_pki(pki::PkiCommand::Revoke { dir: dir.clone(), serial, reason: RevocationReason::Superseded }).unwrap();
    pki::run_pki(pki::PkiCommand::Crl { dir: dir.clone(), days: None }).unwrap();
    pki::run_pki(pki::PkiCommand::List { dir: dir.clone(), json: true }).unwrap();
    pki::run_pki(pki::PkiCommand::List { dir: dir.clone(), json: false }).unwrap();
    assert!(pki::run_pki(pki::PkiCommand::Init { dir, organisation: "Stadt".into(), days: 365 }).is_err());
}
