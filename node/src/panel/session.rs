//! Panel sessions: a login with the admin token gets a signed cookie, `HttpOnly; Secure;
//! SameSite=Strict`, valid for [`LIFETIME_SECS`]. The cookie is
//! `<expires>.<nonce>.<mac>` with an HMAC-SHA256 over the expiry and the nonce, keyed by a key
//! derived from the admin token: sessions need no server-side table, survive a master restart
//! (so a live page reconnects by itself) and all die if the admin token changes. A logout
//! revokes its nonce until the session would have expired anyway.
//!
//! The session's CSRF token is another MAC of its nonce: the page carries it (a `<meta>` tag)
//! and sends it as `X-CSRF-Token` with every state-changing request; a request authenticated by
//! the cookie alone cannot change anything.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// The session cookie's name.
pub const COOKIE: &str = "capstan_session";
/// The header carrying the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Why a cookie-authenticated change is refused without its CSRF token.
pub const CSRF_REFUSED: &str = "the CSRF token is missing or does not match the session";
/// How long a session lasts (8 hours, a working day).
pub const LIFETIME_SECS: u64 = 8 * 3600;
/// Most revoked sessions remembered (older entries expire on their own).
const MAX_REVOKED: usize = 10_000;
/// The longest cookie value accepted.
const MAX_COOKIE: usize = 256;

type HmacSha256 = Hmac<Sha256>;

/// A valid session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    nonce: String,
    /// Seconds since the Unix epoch when it ends.
    pub expires: u64,
}

/// Issues and checks sessions.
pub struct Sessions {
    key: [u8; 32],
    revoked: Mutex<HashMap<String, u64>>,
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Compares in time independent of where the inputs differ.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Sessions {
    /// Sessions keyed by (a hash of) the admin token.
    pub fn new(admin_token: &str) -> Sessions {
        let mut h = Sha256::new();
        h.update(b"capstan panel sessions v1\0");
        h.update(admin_token.as_bytes());
        Sessions {
            key: h.finalize().into(),
            revoked: Mutex::new(HashMap::new()),
        }
    }

    fn mac(&self, parts: &[&[u8]]) -> Vec<u8> {
        let Ok(mut m) = HmacSha256::new_from_slice(&self.key) else {
            return Vec::new(); // HMAC takes keys of any length: not reached
        };
        for p in parts {
            m.update(p);
            m.update(b"|");
        }
        m.finalize().into_bytes().to_vec()
    }

    /// A new session from `now`, and its cookie value.
    pub fn issue(&self, now: u64) -> (Session, String) {
        let nonce = URL_SAFE_NO_PAD.encode(rand::random::<[u8; 18]>());
        let expires = now + LIFETIME_SECS;
        let mac = self.mac(&[b"session", expires.to_string().as_bytes(), nonce.as_bytes()]);
        let value = format!("{expires}.{nonce}.{}", URL_SAFE_NO_PAD.encode(mac));
        (Session { nonce, expires }, value)
    }

    /// The session a cookie value stands for, if it is genuine, unexpired and not revoked.
    pub fn verify(&self, value: &str, now: u64) -> Option<Session> {
        if value.len() > MAX_COOKIE {
            return None;
        }
        let mut parts = value.splitn(3, '.');
        let (expires, nonce, mac) = (parts.next()?, parts.next()?, parts.next()?);
        let given = URL_SAFE_NO_PAD.decode(mac).ok()?;
        let want = self.mac(&[b"session", expires.as_bytes(), nonce.as_bytes()]);
        if !same(&given, &want) {
            return None;
        }
        let expires: u64 = expires.parse().ok()?;
        if expires <= now || self.is_revoked(nonce) {
            return None;
        }
        Some(Session {
            nonce: nonce.to_string(),
            expires,
        })
    }

    /// The session's CSRF token.
    pub fn csrf(&self, s: &Session) -> String {
        URL_SAFE_NO_PAD.encode(self.mac(&[b"csrf", s.nonce.as_bytes()]))
    }

    /// Whether `given` is the session's CSRF token.
    pub fn csrf_matches(&self, s: &Session, given: &str) -> bool {
        same(given.trim().as_bytes(), self.csrf(s).as_bytes())
    }

    /// Ends the session (logout).
    pub fn revoke(&self, s: &Session, now: u64) {
        let mut revoked = self.revoked.lock().unwrap_or_else(|e| e.into_inner());
        revoked.retain(|_, until| *until > now);
        if revoked.len() < MAX_REVOKED {
            revoked.insert(s.nonce.clone(), s.expires);
        }
    }

    fn is_revoked(&self, nonce: &str) -> bool {
        self.revoked
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(nonce)
    }

    /// The valid session of a request's headers, if any.
    pub fn from_headers(&self, headers: &actix_web::http::header::HeaderMap) -> Option<Session> {
        let cookie = headers
            .get(actix_web::http::header::COOKIE)
            .and_then(|v| v.to_str().ok());
        self.from_cookie_header(cookie, unix_now())
    }

    /// Whether the request's `X-CSRF-Token` header is the session's CSRF token.
    pub fn csrf_header_matches(
        &self,
        s: &Session,
        headers: &actix_web::http::header::HeaderMap,
    ) -> bool {
        headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| self.csrf_matches(s, t))
    }

    /// The session of a request's `Cookie` header, if any is valid.
    pub fn from_cookie_header(&self, header: Option<&str>, now: u64) -> Option<Session> {
        header?
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .filter(|(name, _)| *name == COOKIE)
            .find_map(|(_, value)| self.verify(value, now))
    }
}

/// The `Set-Cookie` value for a new session.
pub fn set_cookie(value: &str) -> String {
    format!("{COOKIE}={value}; Path=/; Max-Age={LIFETIME_SECS}; HttpOnly; Secure; SameSite=Strict")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_valid_until_it_expires_or_is_revoked() {
        let s = Sessions::new("token-a");
        let (session, cookie) = s.issue(1_000);
        assert_eq!(session.expires, 1_000 + LIFETIME_SECS);
        assert_eq!(s.verify(&cookie, 1_001), Some(session.clone()));
        assert_eq!(s.verify(&cookie, 1_000 + LIFETIME_SECS), None, "expired");
        s.revoke(&session, 2_000);
        assert_eq!(s.verify(&cookie, 2_001), None, "logged out");
    }

    #[test]
    fn forged_or_foreign_cookies_are_refused() {
        let s = Sessions::new("token-a");
        let (_, cookie) = s.issue(1_000);
        assert!(
            Sessions::new("token-b").verify(&cookie, 1_001).is_none(),
            "another admin token"
        );
        let (_, rest) = cookie.split_once('.').unwrap();
        let extended = format!("{}.{rest}", 1_000 + 10 * LIFETIME_SECS);
        assert!(s.verify(&extended, 1_001).is_none(), "expiry changed");
        for bad in ["", "x", "1.2", "1.2.3", &"a".repeat(300)] {
            assert!(s.verify(bad, 1_001).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn csrf_tokens_belong_to_their_session() {
        let s = Sessions::new("token-a");
        let (one, _) = s.issue(1_000);
        let (two, _) = s.issue(1_000);
        let t = s.csrf(&one);
        assert!(s.csrf_matches(&one, &t));
        assert!(!s.csrf_matches(&two, &t));
        assert!(!s.csrf_matches(&one, ""));
    }

    #[test]
    fn the_cookie_header_is_searched_for_a_valid_session() {
        let s = Sessions::new("token-a");
        let (session, cookie) = s.issue(1_000);
        let header = format!("other=1; {COOKIE}=forged; {COOKIE}={cookie}");
        assert_eq!(s.from_cookie_header(Some(&header), 1_001), Some(session));
        assert_eq!(s.from_cookie_header(Some("other=1"), 1_001), None);
        assert_eq!(s.from_cookie_header(None, 1_001), None);
        assert!(set_cookie("v").contains("HttpOnly; Secure; SameSite=Strict"));
    }
}
