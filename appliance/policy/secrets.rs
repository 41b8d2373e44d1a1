//! SECRET detector: credentials that must never leave the green zone — PEM private keys,
//! well-known API token formats (OpenAI, Anthropic, GitHub, GitLab, AWS, Google, Slack,
//! Stripe, Hugging Face, JWT) and labelled passwords/keys (`Passwort: …`, `api_key=…`).
//! Token shapes follow the vendors' published prefixes; no checksum is verified.
//!
//! Must not: report placeholders (`***`, `<key>`, `xxx`), keep values, or log.

use std::sync::LazyLock;

use regex::Regex;

use super::hits::{captures_bounded, find_bounded, no_alnum_after, no_alnum_before, rank, Hit};
use super::text::Text;
use super::types::Category;

macro_rules! re {
    ($name:ident, $pat:expr) => {
        #[allow(clippy::expect_used)] // constant pattern, covered by tests
        static $name: LazyLock<Regex> = LazyLock::new(|| Regex::new($pat).expect($pat));
    };
}

re!(
    PEM,
    r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"
);
re!(
    PEM_END,
    r"-----END (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----"
);
re!(
    TOKEN,
    r"sk-ant-[A-Za-z0-9_-]{20,}|sk-(?:proj-|svcacct-|live-|test-)?[A-Za-z0-9_-]{20,}|(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_-]{20}|(?:AKIA|ASIA)[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}|xox[baprs]-[A-Za-z0-9-]{10,}|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}|hf_[A-Za-z0-9]{30,}|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"
);
re!(
    LABELLED,
    r#"(?:passwort|password|kennwort|passwd|pwd|api[_-]?key|apikey|secret|client[_-]?secret|access[_-]?token|auth[_-]?token|bearer)["']?[ \t]*[:=][ \t]*["']?([^\s"']{6,})"#
);

fn placeholder(v: &str) -> bool {
    let l = v.to_ascii_lowercase();
    v.starts_with('<')
        || v.starts_with('{')
        || v.starts_with('$')
        || v.chars()
            .all(|c| c == '*' || c == 'x' || c == 'X' || c == '.' || c == '•')
        || [
            "xxx", "***", "...", "changeme", "password", "passwort", "geheim", "example",
            "beispiel", "your",
        ]
        .iter()
        .any(|p| l.contains(p))
}

/// Appends SECRET hits of `t` to `out`.
pub(crate) fn detect(t: &Text<'_>, out: &mut Vec<Hit>) {
    let s = t.s();
    for m in PEM.find_iter(s) {
        let end = PEM_END.find_at(s, m.end()).map_or(m.end(), |e| e.end());
        out.push(Hit::new(
            Category::Secret,
            m.start(),
            end,
            "secret.private_key",
            rank::VALIDATED,
        ));
    }
    for (a, b) in find_bounded(&TOKEN, s, |a, b| {
        no_alnum_before(t, a) && no_alnum_after(t, b)
    }) {
        out.push(Hit::new(
            Category::Secret,
            a,
            b,
            "secret.api_token",
            rank::VALIDATED,
        ));
    }
    // Labels are matched on the folded view (same offsets; the pattern is lower case).
    for c in captures_bounded(&LABELLED, &t.fold, |c| {
        c.get(0).is_some_and(|m| no_alnum_before(t, m.start()))
    }) {
        if let Some(v) = c.get(1) {
            if !placeholder(&s[v.start()..v.end()]) {
                out.push(Hit::new(
                    Category::Secret,
                    v.start(),
                    v.end(),
                    "secret.labelled",
                    rank::VALIDATED,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(s: &str) -> Vec<String> {
        let t = Text::new(s).unwrap_or_else(|_| panic!("text"));
        let mut out = Vec::new();
        detect(&t, &mut out);
        out.iter().map(|h| s[h.start..h.end].to_string()).collect()
    }

    #[test]
    fn secrets_found() {
        assert_eq!(
            run("key sk-proj-abcdefghijklmnopqrstuvwxyz012345 ok"),
            vec!["sk-proj-abcdefghijklmnopqrstuvwxyz012345"]
        );
        assert_eq!(run("Passwort: Sommer2024!xy"), vec!["Sommer2024!xy"]);
        assert_eq!(
            run("-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----").len(),
            1
        );
        assert!(run("Passwort: ******** und api_key=<your-key>").is_empty());
        assert!(run("Der Taskplan ist fertig").is_empty());
    }
}
