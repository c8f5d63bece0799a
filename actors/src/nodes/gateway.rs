//! NodeGateway: the master's QUIC listener. Connections with a verified client certificate
//! get a [`NodeSession`] for the certificate's node name (a newer connection of the same node
//! replaces the older one); connections without one may only join: prove the token's secret
//! and receive a certificate.

use super::lifecycle::Liveness;
use super::metrics::MetricsRegistry;
use super::pod_router::PodRouter;
use super::session::{NodeSession, Replace, SessionEnded, SessionPeers};
use crate::protocol::{channel, HelloAck, JoinRequest, JoinResponse};
use crate::store::StoreHandle;
use actix::prelude::*;
use capstan_transport::{Connection, Server};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// Who may join, and the certificates they get. Implemented by the binary, which owns the CA.
pub trait JoinAuthority: Send + Sync {
    /// Whether `secret` is the join token's secret.
    fn secret_matches(&self, secret: &str) -> bool;
    /// A client certificate (PEM) for `node` over the public key `spki_der`, and the CA (PEM).
    fn issue(&self, node: &str, spki_der: &[u8]) -> Result<(String, String), String>;
}

/// The QUIC listener actor.
pub struct NodeGateway {
    server: Arc<Server>,
    store: StoreHandle,
    liveness: Liveness,
    router: Addr<PodRouter>,
    authority: Arc<dyn JoinAuthority>,
    metrics: MetricsRegistry,
    sessions: HashMap<String, (u64, Addr<NodeSession>, Connection)>,
    next_id: u64,
}

impl NodeGateway {
    /// A gateway serving `server`. Its [`PodRouter`] starts at once, on the current arbiter.
    pub fn new(
        server: Server,
        store: StoreHandle,
        liveness: Liveness,
        authority: Arc<dyn JoinAuthority>,
    ) -> NodeGateway {
        let router = PodRouter::new(store.clone()).start();
        NodeGateway {
            server: Arc::new(server),
            store,
            liveness,
            router,
            authority,
            metrics: MetricsRegistry::new(),
            sessions: HashMap::new(),
            next_id: 0,
        }
    }

    /// Sessions record the usage their workers report into `metrics` (by default, into a
    /// registry of the gateway's own that nobody reads).
    pub fn with_metrics(mut self, metrics: MetricsRegistry) -> NodeGateway {
        self.metrics = metrics;
        self
    }
}

/// An established connection.
#[derive(Message)]
#[rtype(result = "()")]
struct Accepted(Connection);

impl Actor for NodeGateway {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        tracing::info!(listen = %self.server.local_addr(), "node gateway listening (QUIC)");
        let server = self.server.clone();
        ctx.add_stream(futures_util::stream::unfold(server, |s| async move {
            s.accept().await.map(|c| (Accepted(c), s))
        }));
    }

    fn stopped(&mut self, _: &mut Self::Context) {
        self.server.close();
    }
}

impl StreamHandler<Accepted> for NodeGateway {
    fn handle(&mut self, Accepted(conn): Accepted, ctx: &mut Self::Context) {
        match conn.peer_common_name() {
            Some(node) => {
                self.next_id += 1;
                let id = self.next_id;
                if let Some((_, old, _)) = self.sessions.remove(&node) {
                    old.do_send(Replace);
                }
                let peers = SessionPeers {
                    store: self.store.clone(),
                    liveness: self.liveness.clone(),
                    router: self.router.clone(),
                    gateway: ctx.address().recipient(),
                };
                let session = NodeSession::new(node.clone(), id, conn.clone(), peers)
                    .with_metrics(self.metrics.clone())
                    .start();
                self.sessions.insert(node, (id, session, conn));
            }
            None => {
                let authority = self.authority.clone();
                actix::spawn(serve_unauthenticated(conn, authority));
            }
        }
    }
}

/// The live connection to a node's worker, if it is connected.
#[derive(Debug, Message)]
#[rtype(result = "Option<Connection>")]
pub struct NodeConnection(pub String);

impl Handler<NodeConnection> for NodeGateway {
    type Result = Option<Connection>;

    fn handle(&mut self, msg: NodeConnection, _: &mut Self::Context) -> Option<Connection> {
        self.sessions.get(&msg.0).map(|(_, _, c)| c.clone())
    }
}

impl Handler<SessionEnded> for NodeGateway {
    type Result = ();

    fn handle(&mut self, msg: SessionEnded, _: &mut Self::Context) {
        if self
            .sessions
            .get(&msg.node)
            .is_some_and(|(id, _, _)| *id == msg.id)
        {
            self.sessions.remove(&msg.node);
        }
    }
}

/// A connection without a client certificate: one join request, then it is closed.
async fn serve_unauthenticated(conn: Connection, authority: Arc<dyn JoinAuthority>) {
    let stream = match tokio::time::timeout(Duration::from_secs(10), conn.accept_stream()).await {
        Ok(Ok(s)) => s,
        _ => {
            conn.close(2, "no request");
            return;
        }
    };
    match stream.channel {
        channel::JOIN => {
            let mut stream = stream;
            let reply = match stream.recv::<JoinRequest>().await {
                Ok(Some(req)) => join(&req, authority.as_ref()),
                _ => JoinResponse::Refused {
                    reason: "malformed join request".into(),
                },
            };
            if let JoinResponse::Refused { reason } = &reply {
                tracing::warn!(peer = %conn.remote_address(), %reason, "join refused");
            }
            let _ = stream.respond(&reply).await;
        }
        channel::HELLO => {
            let _ = stream
                .respond(&HelloAck::Refused {
                    reason: "no client certificate: join with a token first".into(),
                })
                .await;
        }
        other => {
            tracing::warn!(peer = %conn.remote_address(), channel = other, "unauthenticated stream refused")
        }
    }
    // Give the peer a moment to read the answer before closing.
    tokio::time::sleep(Duration::from_millis(200)).await;
    conn.close(0, "done");
}

fn join(req: &JoinRequest, authority: &dyn JoinAuthority) -> JoinResponse {
    if !authority.secret_matches(&req.secret) {
        return JoinResponse::Refused {
            reason: "wrong token secret".into(),
        };
    }
    if !valid_node_name(&req.node_name) {
        return JoinResponse::Refused {
            reason: format!("invalid node name {:?}", req.node_name),
        };
    }
    match authority.issue(&req.node_name, &req.public_key_der) {
        Ok((cert_pem, ca_pem)) => {
            tracing::info!(node = %req.node_name, "node joined: certificate issued");
            JoinResponse::Accepted { cert_pem, ca_pem }
        }
        Err(reason) => JoinResponse::Refused { reason },
    }
}

/// A lowercase DNS-1123 subdomain.
pub fn valid_node_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && capstan_core::validation::is_dns1123_subdomain(name).is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fixed;
    impl JoinAuthority for Fixed {
        fn secret_matches(&self, s: &str) -> bool {
            s == "right"
        }
        fn issue(&self, node: &str, _: &[u8]) -> Result<(String, String), String> {
            Ok((format!("cert-for-{node}"), "ca".into()))
        }
    }

    fn req(name: &str, secret: &str) -> JoinRequest {
        JoinRequest {
            node_name: name.into(),
            secret: secret.into(),
            public_key_der: vec![],
        }
    }

    #[test]
    fn join_checks_secret_then_name() {
        assert_eq!(
            join(&req("w1", "wrong"), &Fixed),
            JoinResponse::Refused {
                reason: "wrong token secret".into()
            }
        );
        assert!(matches!(
            join(&req("Bad_Name", "right"), &Fixed),
            JoinResponse::Refused { .. }
        ));
        assert_eq!(
            join(&req("w1", "right"), &Fixed),
            JoinResponse::Accepted {
                cert_pem: "cert-for-w1".into(),
                ca_pem: "ca".into()
            }
        );
    }
}
