//! CSRF protection of the console's POST forms (OWASP CSRF Prevention Cheat Sheet:
//! "synchronizer token" bound to the session, plus an origin check).
//!
//! The session is the TLS client certificate: the token is
//! `hex(HMAC-SHA256(key, "zonegate-console-csrf:" || serial))` with a key drawn at start,
//! so it is stable for one certificate while the process runs, differs per certificate and
//! cannot be computed by another site. A POST must carry it in the `csrf` field, and when
//! the browser sends `Origin` (RFC 6454) or `Sec-Fetch-Site` (Fetch Metadata) they must name
//! this console.

use axum::http::{HeaderMap, Uri};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The per-process CSRF key.
#[derive(Clone)]
pub struct CsrfKey([u8; 32]);

impl std::fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfKey(…)")
    }
}

impl CsrfKey {
    /// A fresh random key (tokens of earlier processes stop working: reload the page).
    pub fn random() -> CsrfKey {
        CsrfKey(rand::random())
    }

    /// The form token for the client certificate with serial `serial`.
    pub fn token(&self, serial: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(b"zonegate-console-csrf:");
        mac.update(serial.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether a POST with form token `token` from certificate `serial` may proceed: the
    /// token matches (constant time) and the request is not cross-origin.
    pub fn check(&self, serial: &str, token: &str, headers: &HeaderMap, uri: &Uri) -> bool {
        let want = self.token(serial);
        let token_ok = want.as_bytes().ct_eq(token.as_bytes()).into();
        token_ok && same_origin(headers, uri)
    }
}

/// `Origin`, when sent, must be `https://<host>` of this request; `Sec-Fetch-Site`, when
/// sent, must be `same-origin` or `none` (typed into the address bar).
pub fn same_origin(headers: &HeaderMap, uri: &Uri) -> bool {
    let host = headers
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.as_str().to_owned()));
    if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
        let Some(host) = host else { return false };
        if origin.to_str().ok() != Some(format!("https://{host}").as_str()) {
            return false;
        }
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.to_str().unwrap_or(""), "same-origin" | "none") {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn tokens_bind_to_the_certificate_and_the_key() {
        let k = CsrfKey::random();
        let t = k.token("0a1b");
        assert_eq!(t.len(), 64);
        assert_eq!(t, k.token("0a1b"));
        assert_ne!(t, k.token("0a1c"), "another certificate, another token");
        assert_ne!(t, CsrfKey::random().token("0a1b"), "another process, another token");
        let uri: Uri = "/certificates/issue".parse().unwrap();
        let h = headers(&[("host", "console.test:8444"), ("origin", "https://console.test:8444"), ("sec-fetch-site", "same-origin")]);
        assert!(k.check("0a1b", &t, &h, &uri));
        assert!(!k.check("0a1b", &k.token("ffff"), &h, &uri), "token of another certificate");
        assert!(!k.check("0a1b", "", &h, &uri), "missing token");
        assert!(!k.check("0a1b", &t[..63], &h, &uri), "truncated token");
    }

    #[test]
    fn cross_origin_posts_are_refused_even_with_a_token() {
        let k = CsrfKey::random();
        let t = k.token("01");
        let uri: Uri = "/x".parse().unwrap();
        assert!(!k.check("01", &t, &headers(&[("host", "console.test"), ("origin", "https://evil.test")]), &uri));
        assert!(!k.check("01", &t, &headers(&[("host", "console.test"), ("origin", "http://console.test")]), &uri), "scheme counts");
        assert!(!k.check("01", &t, &headers(&[("host", "console.test"), ("sec-fetch-site", "cross-site")]), &uri));
        assert!(!k.check("01", &t, &headers(&[("origin", "https://console.test")]), &uri), "origin without a host to compare");
        let h2: Uri = "https://console.test/x".parse().unwrap();
        assert!(k.check("01", &t, &headers(&[("origin", "https://console.test")]), &h2), "HTTP/2 :authority");
        assert!(k.check("01", &t, &HeaderMap::new(), &uri), "non-browser clients send neither");
    }
}
