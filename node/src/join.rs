//! k3s-style join tokens: `K10<sha256 hex of the cluster CA certificate (DER)>::<secret>`.
//! The hash lets a new worker pin the master's CA on first contact; the secret proves the
//! worker may join. The master keeps its token in `<data_dir>/node-token`.

use anyhow::{Context, Result};
use std::fmt;
use std::path::Path;

/// A parsed join token.
#[derive(Clone, PartialEq, Eq)]
pub struct JoinToken {
    /// Lowercase hex SHA-256 of the CA certificate's DER.
    pub ca_hash: String,
    /// The shared secret.
    pub secret: String,
}

impl fmt::Debug for JoinToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        write!(
            f,
            "JoinToken {{ ca_hash: {}, secret: <redacted> }}",
            self.ca_hash
        )
    }
}

impl fmt::Display for JoinToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "K10{}::{}", self.ca_hash, self.secret)
    }
}

impl JoinToken {
    /// Parses `K10<64 hex>::<secret>`; the error says which part is wrong.
    pub fn parse(s: &str) -> Result<JoinToken, String> {
        let s = s.trim();
        let rest = s
            .strip_prefix("K10")
            .ok_or("a join token starts with K10")?;
        let (hash, secret) = rest
            .split_once("::")
            .ok_or("a join token has the form K10<ca hash>::<secret>")?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("the CA hash of a join token is 64 hex digits".into());
        }
        if secret.len() < 16 || secret.len() > 256 || !secret.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err("the secret of a join token is 16 to 256 printable characters".into());
        }
        Ok(JoinToken {
            ca_hash: hash.to_ascii_lowercase(),
            secret: secret.to_string(),
        })
    }

    /// Whether `given` is this token's secret (constant time in the secret's length).
    pub fn secret_matches(&self, given: &str) -> bool {
        let (a, b) = (self.secret.as_bytes(), given.as_bytes());
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

/// The master's node token at `path`: the secret is created once and kept; the hash always
/// describes the current CA.
pub fn load_or_create(path: &Path, ca_der: &[u8]) -> Result<JoinToken> {
    let ca_hash = capstan_transport::sha256_hex(ca_der);
    if let Ok(text) = std::fs::read_to_string(path) {
        if let Ok(t) = JoinToken::parse(&text) {
            if t.ca_hash == ca_hash {
                return Ok(t);
            }
            let token = JoinToken {
                ca_hash,
                secret: t.secret,
            };
            crate::pki::write_private(path, token.to_string().as_bytes())?;
            return Ok(token);
        }
    }
    let bytes: [u8; 24] = rand::random();
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let token = JoinToken { ca_hash, secret };
    crate::pki::write_private(path, token.to_string().as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_and_render() {
        let good = format!("K10{}::{}", "ab".repeat(32), "s".repeat(20));
        let t = JoinToken::parse(&good).expect("valid");
        assert_eq!(t.to_string(), good);
        assert!(t.secret_matches(&"s".repeat(20)));
        assert!(!t.secret_matches(&"s".repeat(19)));
        assert!(
            !format!("{t:?}").contains("sss"),
            "Debug never shows the secret"
        );
        let cases = [
            ("", "starts with K10"),
            ("K10abc", "form K10"),
            ("K10abc::secretsecretsecret", "64 hex digits"),
            (&*format!("K10{}::short", "ab".repeat(32)), "16 to 256"),
            (
                &*format!("K10{}::{}", "zz".repeat(32), "s".repeat(20)),
                "64 hex digits",
            ),
        ];
        for (input, want) in cases {
            let err = JoinToken::parse(input).unwrap_err();
            assert!(err.contains(want), "{input:?}: {err}");
        }
    }

    #[test]
    fn node_token_is_stable_and_follows_the_ca() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path().join("node-token");
        let a = load_or_create(&p, b"ca-one").expect("create");
        let b = load_or_create(&p, b"ca-one").expect("reload");
        assert_eq!(a, b);
        let c = load_or_create(&p, b"ca-two").expect("new CA");
        assert_eq!(c.secret, a.secret);
        assert_ne!(c.ca_hash, a.ca_hash);
    }
}
