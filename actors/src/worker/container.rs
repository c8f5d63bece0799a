//! ContainerActor: one run of one container. It launches the process through the runtime (or
//! adopts one an earlier worker launched), reports the start and the exit to its PodActor, and
//! stops the process when told to. A restart is a new ContainerActor: the PodActor decides
//! (restart policy, backoff).

use super::pod::{ContainerExited, ContainerStarted, PodActor};
use super::runtime::{ContainerSpec, Exit, Launched, Runtime, RuntimeError, StopSignal};
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

/// How a container run begins: launched now, or adopted from an earlier worker.
pub enum Start {
    /// Launch the spec through the runtime.
    Launch(Box<ContainerSpec>),
    /// A container already running (found by `Runtime::recover`).
    Adopt(Launched),
}

/// One run of a container.
pub struct ContainerActor {
    pod_key: String,
    pod_uid: String,
    name: String,
    start: Option<Start>,
    runtime: Arc<dyn Runtime>,
    pod: Addr<PodActor>,
    /// Which run of this container this is (the pod ignores reports of older runs).
    run: u64,
    init: bool,
    pid: Option<u32>,
}

impl ContainerActor {
    /// A run of container `name` of pod `pod_key` (uid `pod_uid`), reporting to `pod`.
    pub fn new(
        (pod_key, pod_uid, name): (String, String, String),
        start: Start,
        runtime: Arc<dyn Runtime>,
        pod: Addr<PodActor>,
        run: u64,
        init: bool,
    ) -> ContainerActor {
        ContainerActor {
            pod_key,
            pod_uid,
            name,
            start: Some(start),
            runtime,
            pod,
            run,
            init,
            pid: None,
        }
    }

    fn exited(&self, exit: Option<Exit>, launch_error: Option<String>) {
        self.pod.do_send(ContainerExited {
            name: self.name.clone(),
            init: self.init,
            run: self.run,
            exit,
            launch_error,
        });
    }

    fn on_launch(&mut self, result: Result<Launched, RuntimeError>, ctx: &mut Context<Self>) {
        match result {
            Ok(launched) => {
                self.pid = Some(launched.pid);
                self.pod.do_send(ContainerStarted {
                    name: self.name.clone(),
                    init: self.init,
                    run: self.run,
                    at: launched.started_at,
                    container_id: format!("{}-{}-{}", self.pod_uid, self.name, launched.pid),
                });
                let exit = launched.exit;
                ctx.spawn(
                    async move { exit.await.ok() }
                        .into_actor(self)
                        .map(|exit, act, ctx| {
                            act.exited(exit, None);
                            ctx.stop();
                        }),
                );
            }
            Err(e) => {
                tracing::warn!(pod = %self.pod_key, container = %self.name, error = %e, "container could not start");
                self.exited(None, Some(e.to_string()));
                ctx.stop();
            }
        }
    }
}

impl Actor for ContainerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        match self.start.take() {
            Some(Start::Launch(spec)) => {
                // Messages (a stop) wait until the launch has resolved and the pid is known.
                ctx.wait(
                    self.runtime
                        .launch(&spec)
                        .into_actor(self)
                        .map(|result, act, ctx| act.on_launch(result, ctx)),
                );
            }
            Some(Start::Adopt(launched)) => self.on_launch(Ok(launched), ctx),
            None => ctx.stop(),
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
            tracing::info!(pod = %act.pod_key, container = %act.name, pid, "grace period over: SIGKILL");
            let _ = act.runtime.signal(pid, StopSignal::Kill);
        });
    }
}
