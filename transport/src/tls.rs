//! rustls configurations for both ends: mutual TLS against the cluster CA, and the first-contact
//! client that pins the CA by its SHA-256 (the k3s-style join token `K10<sha256>::<secret>`).
//!
//! All configurations are TLS 1.3 only (QUIC requires it), use the ring provider explicitly and
//! negotiate the ALPN protocol [`ALPN`].

use std::sync::{Arc, OnceLock};

use rustls::{
    client::{
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
        WebPkiServerVerifier,
    },
    crypto::CryptoProvider,
    pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime},
    server::WebPkiClientVerifier,
    CertificateError, DigitallySignedStruct, OtherError, RootCertStore, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use sha2::{Digest, Sha256};

use crate::TransportError;

/// The ALPN protocol both sides require.
pub const ALPN: &[u8] = b"capstan/1";

/// A certificate chain (leaf first) and its private key.
pub struct Identity {
    /// Leaf certificate first, then intermediates; a server should end it with the CA so that
    /// joining clients can pin it.
    pub cert_chain: Vec<CertificateDer<'static>>,
    /// The leaf's private key.
    pub key: PrivateKeyDer<'static>,
}

impl Identity {
    /// Reads a PEM certificate chain and a PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub fn from_pem(chain_pem: &[u8], key_pem: &[u8]) -> Result<Identity, TransportError> {
        let cert_chain = CertificateDer::pem_slice_iter(chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TransportError::Tls(format!("certificate PEM: {e}")))?;
        if cert_chain.is_empty() {
            return Err(TransportError::Tls(
                "certificate PEM holds no certificate".into(),
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem)
            .map_err(|e| TransportError::Tls(format!("private key PEM: {e}")))?;
        Ok(Identity { cert_chain, key })
    }
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Identity {
            cert_chain: self.cert_chain.clone(),
            key: self.key.clone_key(),
        }
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("certificates", &self.cert_chain.len())
            .field(
                "leaf_cn",
                &self.cert_chain.first().and_then(|c| common_name(c)),
            )
            .finish_non_exhaustive()
    }
}

/// Lowercase hex SHA-256 of `der` (the CA pin of a join token).
pub fn sha256_hex(der: &[u8]) -> String {
    use std::fmt::Write;
    let digest = Sha256::digest(der);
    let mut out = String::with_capacity(64);
    for byte in digest {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// Installs ring as the process-wide rustls provider, if no provider is installed yet. The
/// configurations below name ring explicitly anyway; this keeps other rustls users of the
/// process (which use the default provider) from failing at run time.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn provider() -> Arc<CryptoProvider> {
    install_crypto_provider();
    Arc::new(rustls::crypto::ring::default_provider())
}

fn tls_err(context: &str) -> impl Fn(rustls::Error) -> TransportError + '_ {
    move |e| TransportError::Tls(format!("{context}: {e}"))
}

fn roots_of(ca: &CertificateDer<'static>) -> Result<Arc<RootCertStore>, TransportError> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.clone()).map_err(tls_err("CA certificate"))?;
    Ok(Arc::new(roots))
}

/// Server configuration: presents `identity` (whose chain should end with the CA so joining
/// clients can pin it); verifies client certificates against `client_ca`, and also accepts
/// clients without a certificate — those are unauthenticated
/// ([`crate::Connection::peer_common_name`] is `None`) and meant only for joining.
pub fn server_crypto(
    identity: Identity,
    client_ca: &CertificateDer<'static>,
) -> Result<rustls::ServerConfig, TransportError> {
    let provider = provider();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(roots_of(client_ca)?, provider.clone())
            .allow_unauthenticated()
            .build()
            .map_err(|e| TransportError::Tls(format!("client verifier: {e}")))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err("protocol versions"))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(identity.cert_chain, identity.key)
        .map_err(tls_err("server certificate"))?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    Ok(config)
}

/// Client configuration trusting exactly `ca`; mutual TLS when `identity` is given.
pub fn client_crypto(
    ca: &CertificateDer<'static>,
    identity: Option<Identity>,
) -> Result<rustls::ClientConfig, TransportError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err("protocol versions"))?
        .with_root_certificates(roots_of(ca)?);
    let mut config = match identity {
        Some(id) => builder
            .with_client_auth_cert(id.cert_chain, id.key)
            .map_err(tls_err("client certificate"))?,
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![ALPN.to_vec()];
    Ok(config)
}

/// The CA pin of a first contact, and (after a successful handshake) the CA it matched.
#[derive(Clone, Debug)]
pub struct PinnedCa {
    pin: Arc<str>,
    found: Arc<OnceLock<CertificateDer<'static>>>,
}

impl PinnedCa {
    /// Pins the CA whose certificate's SHA-256 is `ca_sha256_hex` (case-insensitive).
    pub fn new(ca_sha256_hex: &str) -> PinnedCa {
        PinnedCa {
            pin: ca_sha256_hex.trim().to_ascii_lowercase().into(),
            found: Arc::new(OnceLock::new()),
        }
    }

    /// The CA certificate that matched the pin, once a server presented it.
    pub fn ca(&self) -> Option<CertificateDer<'static>> {
        self.found.get().cloned()
    }
}

/// First-contact client configuration: trusts a server whose chain contains a certificate
/// matching `pin` and whose leaf verifies against that certificate as CA. Sends no client
/// certificate. After the handshake, [`PinnedCa::ca`] yields the CA.
pub fn pinned_client_crypto(pin: &PinnedCa) -> Result<rustls::ClientConfig, TransportError> {
    let provider = provider();
    let verifier = PinnedVerifier {
        pin: pin.clone(),
        provider: provider.clone(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(tls_err("protocol versions"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN.to_vec()];
    Ok(config)
}

#[derive(Debug)]
struct PinnedVerifier {
    pin: PinnedCa,
    provider: Arc<CryptoProvider>,
}

struct PinMismatch(String);

impl std::fmt::Display for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "CA pin mismatch: no certificate in the server's chain has SHA-256 {}",
            self.0
        )
    }
}

// rustls prints `CertificateError::Other` with `{:?}`: make that the readable message.
impl std::fmt::Debug for PinMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for PinMismatch {}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let ca = intermediates
            .iter()
            .find(|c| sha256_hex(c) == *self.pin.pin)
            .map(|c| c.clone().into_owned())
            .ok_or_else(|| {
                rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(
                    PinMismatch(self.pin.pin.to_string()),
                ))))
            })?;
        let mut roots = RootCertStore::empty();
        roots.add(ca.clone())?;
        let webpki =
            WebPkiServerVerifier::builder_with_provider(Arc::new(roots), self.provider.clone())
                .build()
                .map_err(|e| rustls::Error::General(e.to_string()))?;
        let verified = webpki.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )?;
        let _ = self.pin.found.set(ca);
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The subject common name of a DER certificate, if it has one that is valid UTF-8.
pub(crate) fn common_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let cn = cert.subject().iter_common_name().next()?;
    cn.as_str().ok().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_hex_is_lowercase_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn pin_is_case_insensitive() {
        let pin = PinnedCa::new(" BA7816BF ");
        assert_eq!(&*pin.pin, "ba7816bf");
        assert!(pin.ca().is_none(), "no CA before a handshake");
    }

    #[test]
    fn common_name_of_garbage_is_none() {
        assert_eq!(common_name(b"not a certificate"), None);
    }
}
