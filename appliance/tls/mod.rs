//! TLS: the mutual-TLS API listener, client-certificate verification, CRLs, the caller's
//! identity, and the appliance's local CA.
//!
//! Owns:
//! - [`ServerTls`]: the rustls server configuration built from `[tls]` (certificate, key,
//!   client CAs, CRLs) and its atomic reload on SIGHUP;
//! - [`serve`] / [`serve_plain`]: accept loops that hand each connection to its own task
//!   (handshake with a timeout, then HTTP/1.1 and HTTP/2);
//! - [`PeerIdentity`]: who is calling, taken once from the verified client certificate and
//!   available to handlers as an axum extractor;
//! - [`pki`]: the local CA (keys, certificates, PKCS#12 bundles, CRL) and its `zonegate pki`
//!   subcommands;
//! - [`TlsError`]: this module's one error type.
//!
//! Must not: let handlers (or any other module) parse certificates — they get a
//! [`PeerIdentity`] or nothing; accept a client on the API listener without a verified
//! certificate; run a handshake in the accept loop; log key material, passwords, or a
//! refused certificate's subject (its serial is enough).

mod error;
mod identity;
mod pem;
pub mod pki;
mod serve;
mod server;

#[cfg(test)]
mod tests;

pub use error::TlsError;
pub use identity::{MissingIdentity, PeerIdentity, Role, ADMIN_ROLE_VALUE, MAX_NAME_CHARS, ROLE_OID};
pub use serve::{serve, serve_plain, ACCEPT_BACKOFF};
pub use server::{ServerTls, ALPN_PROTOCOLS};
