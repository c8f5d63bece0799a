//! Test PKI (rcgen) and helpers shared by the integration tests.
#![allow(dead_code)]

use std::{future::Future, net::SocketAddr, time::Duration};

use capstan_transport::{
    client_crypto, server_crypto, sha256_hex, Client, Connection, Identity, Server, TransportConfig,
};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A throw-away cluster CA.
pub struct TestCa {
    pub cert: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl TestCa {
    pub fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params
            .self_signed(&key)
            .expect("self-signed CA")
            .der()
            .clone();
        TestCa {
            cert,
            issuer: Issuer::new(params, key),
        }
    }

    pub fn sha256(&self) -> String {
        sha256_hex(&self.cert)
    }

    fn leaf(
        &self,
        cn: &str,
        sans: Vec<String>,
        usage: ExtendedKeyUsagePurpose,
    ) -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
        let key = KeyPair::generate().expect("leaf key");
        let mut params = CertificateParams::new(sans).expect("leaf params");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![usage];
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("sign leaf")
            .der()
            .clone();
        (
            cert,
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
    }

    /// Server identity for 127.0.0.1 / localhost; chain = [leaf, CA].
    pub fn server_identity(&self) -> Identity {
        let sans = vec!["127.0.0.1".to_string(), "localhost".to_string()];
        let (leaf, key) = self.leaf("capstan-master", sans, ExtendedKeyUsagePurpose::ServerAuth);
        Identity {
            cert_chain: vec![leaf, self.cert.clone()],
            key,
        }
    }

    /// Client identity whose CN is the node name.
    pub fn client_identity(&self, node: &str) -> Identity {
        let (leaf, key) = self.leaf(node, Vec::new(), ExtendedKeyUsagePurpose::ClientAuth);
        Identity {
            cert_chain: vec![leaf],
            key,
        }
    }
}

/// Generous limits: tests check correctness, not speed.
pub fn cfg() -> TransportConfig {
    TransportConfig {
        handshake_timeout: Duration::from_secs(10),
        request_timeout: Duration::from_secs(20),
        idle_timeout: Duration::from_secs(30),
        ..TransportConfig::default()
    }
}

pub fn localhost() -> SocketAddr {
    "127.0.0.1:0".parse().expect("addr")
}

pub fn server(ca: &TestCa, cfg: TransportConfig) -> Server {
    let crypto = server_crypto(ca.server_identity(), &ca.cert).expect("server crypto");
    Server::bind(localhost(), crypto, cfg).expect("bind")
}

pub fn client(ca: &TestCa, node: Option<&str>, cfg: TransportConfig) -> Client {
    let identity = node.map(|n| ca.client_identity(n));
    Client::new(
        client_crypto(&ca.cert, identity).expect("client crypto"),
        cfg,
    )
    .expect("client")
}

/// Awaits `fut`, failing the test with `what` if it takes over `secs` seconds.
pub async fn within<F: Future>(secs: u64, what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(Duration::from_secs(secs), fut).await {
        Ok(out) => out,
        Err(_) => panic!("{what}: not done within {secs} s"),
    }
}

/// A connected pair over mutual TLS: (server, client side, server side).
pub async fn pair(ca: &TestCa, node: &str) -> (Server, Client, Connection, Connection) {
    let server = server(ca, cfg());
    let client = client(ca, Some(node), cfg());
    let addr = server.local_addr();
    let client_conn = within(30, "connect", client.connect(addr, "127.0.0.1"))
        .await
        .expect("connect");
    let server_conn = within(30, "accept", server.accept())
        .await
        .expect("accepted connection");
    (server, client, client_conn, server_conn)
}
