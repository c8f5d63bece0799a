//! ContainerActor: one run of one container. It launches the process through the runtime,
//! reports the start and the exit to its PodActor, and stops the process when told to. A
//! restart is a new ContainerActor: the PodActor decides (restart policy, backoff).

use super::pod::{ContainerExited, ContainerStarted, PodActor};
use super::runtime::{ContainerSpec, Runtime, StopSignal};
use actix::prelude::*;
use std::sync::Arc;
use std::time::Duration;

/// Stop the container (graceful: SIGTERM, then SIGKILL after `grace`).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct StopContainer {
    /// How long SIGTERM has before SIGKILL.
    pub grace: Duration,
}

/// One run of a container.
pub struct ContainerActor {
    spec: ContainerSpec,
    runtime: Arc<dyn Runtime>,
    pod: Addr<PodActor>,
    /// Which run of this container this is (the pod ignores reports of older runs).
    run: u64,
    init: bool,
    pid: Option<u32>,
}

impl ContainerActor {
    /// A run of `spec` reporting to `pod`.
    pub fn new(
        spec: ContainerSpec,
        runtime: Arc<dyn Runtime>,
        pod: Addr<PodActor>,
        run: u64,
        init: bool,
    ) -> ContainerActor {
        ContainerActor {
            spec,
            runtime,
            pod,
            run,
            init,
            pid: None,
        }
    }
}

impl Actor for ContainerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        match self.runtime.launch(&self.spec) {
            Ok(launched) => {
                self.pid = Some(launched.pid);
                tracing::info!(pod = %self.spec.pod_key, container = %self.spec.name, pid = launched.pid, "container started");
                self.pod.do_send(ContainerStarted {
                    name: self.spec.name.clone(),
                    init: self.init,
                    run: self.run,
                    at: launched.started_at,
                    container_id: format!(
                        "{}-{}-{}",
                        self.spec.pod_uid, self.spec.name, launched.pid
                    ),
                });
                let exit = launched.exit;
                let (name, init, run, pod) = (
                    self.spec.name.clone(),
                    self.init,
                    self.run,
                    self.pod.clone(),
                );
                ctx.spawn(async move { exit.await.ok() }.into_actor(self).map(
                    move |exit, _act, ctx| {
                        pod.do_send(ContainerExited {
                            name,
                            init,
                            run,
                            exit,
                            launch_error: None,
                        });
                        ctx.stop();
                    },
                ));
            }
            Err(e) => {
                tracing::warn!(pod = %self.spec.pod_key, container = %self.spec.name, error = %e, "container could not start");
                self.pod.do_send(ContainerExited {
                    name: self.spec.name.clone(),
                    init: self.init,
                    run: self.run,
                    exit: None,
                    launch_error: Some(e.to_string()),
                });
                ctx.stop();
            }
        }
    }
}

impl Handler<StopContainer> for ContainerActor {
    type Result = ();

    /// SIGTERM to the process group now, SIGKILL when `grace` runs out. The exit is reported by
    /// the wait started at launch, which also stops this actor (cancelling the SIGKILL).
    fn handle(&mut self, msg: StopContainer, ctx: &mut Self::Context) {
        let Some(pid) = self.pid else {
            ctx.stop();
            return;
        };
        if let Err(e) = self.runtime.signal(pid, StopSignal::Term) {
            tracing::debug!(pid, error = %e, "SIGTERM failed (already gone?)");
        }
        ctx.run_later(msg.grace, move |act, _| {
            tracing::info!(pod = %act.spec.pod_key, container = %act.spec.name, pid, "grace period over: SIGKILL");
            let _ = act.runtime.signal(pid, StopSignal::Kill);
        });
    }
}
