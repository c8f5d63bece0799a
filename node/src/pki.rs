//! The cluster's PKI: a CA created on first start and kept in `<data_dir>/pki`, the API
//! server's serving certificate signed by it, and the admin bearer token.

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::path::{Path, PathBuf};

/// The cluster CA.
pub struct ClusterCa {
    key: KeyPair,
    params: CertificateParams,
    /// The CA certificate in PEM.
    pub cert_pem: String,
    /// The CA certificate in DER.
    pub cert_der: Vec<u8>,
}

/// A certificate and its private key.
pub struct Issued {
    /// PEM of the certificate.
    pub cert_pem: String,
    /// DER of the certificate.
    pub cert_der: CertificateDer<'static>,
    /// The private key.
    pub key: PrivateKeyDer<'static>,
}

fn ca_params() -> Result<CertificateParams> {
    let mut p = CertificateParams::new(Vec::<String>::new())?;
    p.distinguished_name.push(DnType::CommonName, "capstan-ca");
    p.distinguished_name
        .push(DnType::OrganizationName, "capstan");
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = rcgen::date_time_ymd(2025, 1, 1);
    p.not_after = rcgen::date_time_ymd(2045, 1, 1);
    Ok(p)
}

/// Writes `contents` to `path` with mode 0600, atomically (temp file + rename).
pub fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .with_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(contents)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

impl ClusterCa {
    /// A 32-byte secret for `purpose`, derived from the CA's private key: the same across
    /// restarts, unknown to anyone without the key.
    pub fn derive_secret(&self, purpose: &str) -> [u8; 32] {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"capstan derived secret v1\0");
        h.update(purpose.as_bytes());
        h.update(b"\0");
        h.update(self.key.serialize_der());
        h.finalize().into()
    }

    /// Loads the CA from `dir`, or creates it there on first start.
    pub fn load_or_create(dir: &Path) -> Result<ClusterCa> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let (cert_path, key_path) = (dir.join("ca.crt"), dir.join("ca.key"));
        let params = ca_params()?;
        if cert_path.exists() && key_path.exists() {
            let key_pem = std::fs::read_to_string(&key_path)?;
            let key = KeyPair::from_pem(&key_pem).context("pki/ca.key is not a valid key")?;
            let cert_pem = std::fs::read_to_string(&cert_path)?;
            let cert_der =
                pem_to_der(&cert_pem).context("pki/ca.crt is not a valid certificate")?;
            return Ok(ClusterCa {
                key,
                params,
                cert_pem,
                cert_der,
            });
        }
        let key = KeyPair::generate()?;
        let cert = params.self_signed(&key)?;
        write_private(&key_path, key.serialize_pem().as_bytes())?;
        write_private(&cert_path, cert.pem().as_bytes())?;
        Ok(ClusterCa {
            cert_pem: cert.pem(),
            cert_der: cert.der().to_vec(),
            key,
            params,
        })
    }

    /// Issues a serving certificate for `hosts` (DNS names or IPs).
    pub fn issue_server(&self, hosts: &[String]) -> Result<Issued> {
        let mut p = CertificateParams::new(Vec::<String>::new())?;
        p.distinguished_name
            .push(DnType::CommonName, "capstan-apiserver");
        for h in hosts {
            p.subject_alt_names
                .push(match h.parse::<std::net::IpAddr>() {
                    Ok(ip) => SanType::IpAddress(ip),
                    Err(_) => SanType::DnsName(h.clone().try_into()?),
                });
        }
        p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(p)
    }

    /// Issues a client certificate for node `node` (CN = node name) over the public key
    /// `spki_der` (SubjectPublicKeyInfo DER). The private key stays with the worker.
    pub fn issue_node_client(&self, node: &str, spki_der: &[u8]) -> Result<String> {
        let public = P256PublicKey::from_spki(spki_der)?;
        let mut p = CertificateParams::new(Vec::<String>::new())?;
        p.distinguished_name.push(DnType::CommonName, node);
        p.distinguished_name
            .push(DnType::OrganizationName, "capstan:nodes");
        p.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ClientAuth];
        p.not_before = rcgen::date_time_ymd(2025, 1, 1);
        p.not_after = rcgen::date_time_ymd(2045, 1, 1);
        let issuer = Issuer::from_params(&self.params, &self.key);
        Ok(p.signed_by(&public, &issuer)?.pem())
    }

    fn issue(&self, mut p: CertificateParams) -> Result<Issued> {
        p.not_before = rcgen::date_time_ymd(2025, 1, 1);
        p.not_after = rcgen::date_time_ymd(2045, 1, 1);
        let key = KeyPair::generate()?;
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = p.signed_by(&key, &issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        })
    }
}

/// A worker's public key: ECDSA P-256, which is what workers generate.
struct P256PublicKey(Vec<u8>);

/// The DER SubjectPublicKeyInfo header of an uncompressed P-256 key (id-ecPublicKey, prime256v1).
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

impl P256PublicKey {
    fn from_spki(der: &[u8]) -> Result<P256PublicKey> {
        match der.strip_prefix(&P256_SPKI_PREFIX[..]) {
            Some(point) if point.len() == 65 && point[0] == 0x04 => {
                Ok(P256PublicKey(point.to_vec()))
            }
            _ => {
                anyhow::bail!("the worker's public key is not an ECDSA P-256 SubjectPublicKeyInfo")
            }
        }
    }
}

impl rcgen::PublicKeyData for P256PublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

fn pem_to_der(pem: &str) -> Result<Vec<u8>> {
    use rustls_pki_types::pem::PemObject;
    Ok(CertificateDer::from_pem_slice(pem.as_bytes())?.to_vec())
}

/// The admin token at `path`, created (32 random bytes, hex) on first start.
pub fn load_or_create_token(path: &Path) -> Result<String> {
    if let Ok(t) = std::fs::read_to_string(path) {
        let t = t.trim().to_string();
        if t.len() >= 32 {
            return Ok(t);
        }
    }
    let bytes: [u8; 32] = rand::random();
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(path, token.as_bytes())?;
    Ok(token)
}

/// This machine's host name, if it can be read.
pub fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Files of the PKI under a data_dir.
pub fn pki_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("pki")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_is_reused_and_token_is_stable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = ClusterCa::load_or_create(dir.path()).expect("create");
        let b = ClusterCa::load_or_create(dir.path()).expect("reload");
        assert_eq!(a.cert_der, b.cert_der, "the CA survives a restart");
        let issued = b
            .issue_server(&["127.0.0.1".into(), "localhost".into()])
            .expect("issue");
        assert!(issued.cert_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let t1 = load_or_create_token(&dir.path().join("token")).expect("token");
        let t2 = load_or_create_token(&dir.path().join("token")).expect("token again");
        assert_eq!(t1, t2);
        assert_eq!(t1.len(), 64);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("ca.key"))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "the CA key is private");
        let worker_key = KeyPair::generate().expect("key");
        use rcgen::PublicKeyData;
        let pem = b
            .issue_node_client("w1", &worker_key.subject_public_key_info())
            .expect("client cert");
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(b.issue_node_client("w1", b"not a key").is_err());
    }
}
