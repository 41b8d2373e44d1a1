//! TLS and PKI. (Being written: see the tls helper's branch.)
