//! The hollow runtime, for load benchmarks (kubemark's idea): everything of a worker runs —
//! the agent, one `PodActor` per pod, one `ContainerActor` per container, the real protocol —
//! but no process is started. A container "starts" after a configurable delay and runs until
//! it is signalled; it uses no resources.

use super::{
    ContainerSample, ContainerSpec, Exit, LaunchFuture, Launched, Recovered, Runtime, RuntimeError,
    Stats, StopSignal,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;

/// See the module docs. Cheap to share between all the hollow nodes of a process.
pub struct HollowRuntime {
    start_delay: Duration,
    next_pid: AtomicU32,
    running: Arc<Mutex<HashMap<u32, oneshot::Sender<Exit>>>>,
}

impl HollowRuntime {
    /// Containers start `start_delay` after their launch.
    pub fn new(start_delay: Duration) -> HollowRuntime {
        HollowRuntime {
            start_delay,
            next_pid: AtomicU32::new(1_000_000),
            running: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Containers running now.
    pub fn running(&self) -> usize {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl Runtime for HollowRuntime {
    fn launch(&self, _spec: &ContainerSpec) -> LaunchFuture {
        let pid = self.next_pid.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let delay = self.start_delay;
        let running = self.running.clone();
        Box::pin(async move {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            running
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(pid, tx);
            Ok(Launched {
                pid,
                started_at: crate::store::now(),
                exit: rx,
            })
        })
    }

    fn signal(&self, pid: u32, sig: StopSignal) -> Result<(), RuntimeError> {
        let tx = self
            .running
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&pid);
        if let Some(tx) = tx {
            let signal = match sig {
                StopSignal::Term => 15,
                StopSignal::Kill => 9,
            };
            let _ = tx.send(Exit {
                exit_code: 128 + signal,
                signal: Some(signal),
                oom_killed: false,
                finished_at: crate::store::now(),
            });
        }
        Ok(())
    }

    fn stats(&self, _pid: u32) -> Option<Stats> {
        None
    }

    fn usage(&self) -> Vec<ContainerSample> {
        Vec::new()
    }

    fn recover(&self) -> Vec<Recovered> {
        Vec::new()
    }

    fn forget_pod(&self, _pod_uid: &str) {}

    fn name(&self) -> &'static str {
        "hollow"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn containers_run_until_signalled() {
        let rt = HollowRuntime::new(Duration::from_millis(10));
        let launched = rt.launch(&ContainerSpec::default()).await.expect("launch");
        assert_eq!(rt.running(), 1);
        let mut exit = launched.exit;
        assert!(exit.try_recv().is_err(), "still running");
        rt.signal(launched.pid, StopSignal::Term).expect("signal");
        let e = exit.await.expect("exit");
        assert_eq!((e.exit_code, e.signal), (143, Some(15)));
        assert_eq!(rt.running(), 0);
        rt.signal(launched.pid, StopSignal::Kill)
            .expect("again: nothing to do");
    }
}
