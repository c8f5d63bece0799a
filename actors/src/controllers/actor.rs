//! The generic controller actor: an informer cache fed by list+watch, a deduplicating work queue,
//! a pure `reconcile` (from `capstan_core::controllers`) that returns actions, and an executor
//! that writes them through the store. Controllers never sleep-poll: keys are queued by changes,
//! by actions' `RequeueAfter`, and by expectations that time out.
//!
//! Expectations (`capstan_core::controllers::expectations`): after acting on a key, the
//! controller does not act on it again until as many changes of the objects it wrote have been
//! observed as it wrote (or a timeout passes), so that a stale cache never makes it create or
//! delete twice.

use super::cache::Cache;
use super::feed::{self, Changed, Listed};
use super::workqueue::WorkQueue;
use crate::store::{StoreError, StoreHandle, WriteOp};
use actix::prelude::*;
use capstan_core::controllers::expectations::Expectations;
use capstan_core::controllers::Action;
use capstan_core::kinds::{self, ResourceKind};
use capstan_core::time::Timestamp;
use capstan_core::write_rules::Subresource;
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long a key waits for the effects of its last actions before acting again anyway (ms).
const EXPECTATION_TIMEOUT_MS: u64 = 15_000;

/// How often delayed keys are looked at.
const TICK: Duration = Duration::from_millis(200);

/// Most keys reconciled per turn of the actor (between turns it takes its messages).
const KEYS_PER_TURN: usize = 64;

/// A controller: which kinds it watches, which keys a change concerns, and how a key is
/// reconciled.
pub trait Controller: Unpin + 'static {
    /// Its name, for logs.
    const NAME: &'static str;
    /// The kind whose objects are the keys (e.g. ReplicaSet).
    fn primary(&self) -> &'static str;
    /// Every kind it watches (the primary first).
    fn kinds(&self) -> Vec<&'static ResourceKind>;
    /// The keys to reconcile once everything is listed (by default every primary object).
    fn initial_keys(&self, cache: &Cache) -> Vec<String> {
        cache
            .all(self.primary())
            .map(|o| super::cache::key_of(o))
            .collect()
    }
    /// The keys (`namespace/name` of primary objects) to reconcile after `obj` changed.
    fn keys_for(&self, kind: &str, obj: &Value, cache: &Cache) -> Vec<String>;
    /// Whether a change of `obj` counts toward the expectations of `key` (an object it wrote).
    fn fulfils(&self, kind: &str, obj: &Value, key: &str) -> bool;
    /// The actions for `key`.
    fn reconcile(&self, key: &str, cache: &Cache, now: Timestamp) -> Vec<Action>;
    /// The Event to record once `action` (taken for `key`) has been written, if any. `{name}`
    /// in the message is replaced by the written object's name (for generated names).
    fn event(&self, _key: &str, _action: &Action, _cache: &Cache) -> Option<EventSpec> {
        None
    }
}

/// An Event a controller records about one of its actions.
#[derive(Debug, Clone)]
pub struct EventSpec {
    /// The object the event is about.
    pub involved: Value,
    /// `Normal` or `Warning`.
    pub type_: &'static str,
    /// The reason (`SuccessfulCreate`, `ScalingReplicaSet`…).
    pub reason: &'static str,
    /// The message; `{name}` becomes the written object's name.
    pub message: String,
    /// The reporting component (`replicaset-controller`…).
    pub component: &'static str,
}

/// The actor running one controller.
pub struct ControllerActor<C: Controller> {
    controller: C,
    store: StoreHandle,
    cache: Cache,
    queue: WorkQueue,
    expectations: Expectations,
    /// The expectations' clock starts here.
    epoch: Instant,
    synced: bool,
    working: bool,
}

impl<C: Controller> ControllerActor<C> {
    /// A controller actor writing through `store`.
    pub fn new(controller: C, store: StoreHandle) -> Self {
        ControllerActor {
            controller,
            store,
            cache: Cache::default(),
            queue: WorkQueue::default(),
            expectations: Expectations::new(EXPECTATION_TIMEOUT_MS),
            epoch: Instant::now(),
            synced: false,
            working: false,
        }
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn kick(&mut self, ctx: &mut Context<Self>) {
        if self.synced && !self.working && !self.queue.is_empty() {
            self.working = true;
            ctx.notify(Work);
        }
    }
}

#[derive(Message)]
#[rtype(result = "()")]
struct Work;

#[derive(Message)]
#[rtype(result = "()")]
struct Failed(String);

fn str_at<'a>(v: &'a Value, p: &str) -> &'a str {
    v.pointer(p).and_then(Value::as_str).unwrap_or_default()
}

fn resource_of(obj: &Value) -> Option<&'static ResourceKind> {
    kinds::by_kind(str_at(obj, "/apiVersion"), str_at(obj, "/kind"))
}

fn expected_revision(obj: &Value) -> Option<u64> {
    str_at(obj, "/metadata/resourceVersion").parse().ok()
}

/// Turns an action into a store write (`None` for a requeue).
fn write_op(action: Action, cache: &Cache) -> Option<WriteOp> {
    match action {
        Action::Create { object } => Some(WriteOp::Create {
            resource: resource_of(&object)?,
            object,
        }),
        Action::Update { object } => Some(WriteOp::Update {
            resource: resource_of(&object)?,
            expected_revision: expected_revision(&object),
            object,
            subresource: Subresource::Main,
        }),
        Action::UpdateStatus { object } => Some(WriteOp::Update {
            resource: resource_of(&object)?,
            expected_revision: expected_revision(&object),
            object,
            subresource: Subresource::Status,
        }),
        Action::Delete {
            kind,
            namespace,
            name,
            uid,
        } => {
            let resource = kinds::RESOURCES.iter().find(|r| r.kind == kind)?;
            // A pod on a live node stops gracefully (its worker confirms); others go at once.
            let grace = cache
                .get(kind, &format!("{namespace}/{name}"))
                .filter(|p| kind == "Pod" && !str_at(p, "/spec/nodeName").is_empty())
                .filter(|p| {
                    cache
                        .get("Node", &format!("/{}", str_at(p, "/spec/nodeName")))
                        .is_none_or(|n| {
                            capstan_core::node_status::ready_status(n) != Some("Unknown")
                        })
                })
                .map(|p| {
                    p.pointer("/spec/terminationGracePeriodSeconds")
                        .and_then(Value::as_i64)
                        .unwrap_or(30)
                })
                .filter(|g| *g > 0);
            Some(WriteOp::Delete {
                resource,
                namespace,
                name,
                expected_uid: (!uid.is_empty()).then_some(uid),
                expected_revision: None,
                grace_seconds: grace,
            })
        }
        Action::RequeueAfter { .. } => None,
    }
}

impl<C: Controller> Actor for ControllerActor<C> {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        tracing::info!(controller = C::NAME, "controller started");
        actix::spawn(feed::run(
            ctx.address().recipient(),
            ctx.address().recipient(),
            self.store.clone(),
            self.controller.kinds(),
        ));
        ctx.run_interval(TICK, |act, ctx| {
            act.queue.promote(Instant::now());
            let now_ms = act.now_ms();
            for k in act.expectations.expire(now_ms) {
                act.queue.add(&k);
            }
            act.kick(ctx);
        });
    }
}

impl<C: Controller> Handler<Listed> for ControllerActor<C> {
    type Result = ();
    fn handle(&mut self, Listed(lists): Listed, ctx: &mut Self::Context) {
        for (kind, objects) in lists {
            self.cache.replace(kind, objects);
        }
        for k in self.controller.initial_keys(&self.cache) {
            self.queue.add(&k);
        }
        self.expectations.clear();
        self.synced = true;
        self.kick(ctx);
    }
}

impl<C: Controller> Handler<Changed> for ControllerActor<C> {
    type Result = ();
    fn handle(&mut self, Changed(events): Changed, ctx: &mut Self::Context) {
        for e in events {
            let old = self.cache.apply(&e);
            let kind = e.resource.kind;
            let mut keys = self.controller.keys_for(kind, &e.object, &self.cache);
            if let Some(old) = old {
                keys.extend(self.controller.keys_for(kind, &old, &self.cache));
            }
            keys.sort();
            keys.dedup();
            for k in keys {
                if self.expectations.waiting(&k) && self.controller.fulfils(kind, &e.object, &k) {
                    self.expectations.observed(&k);
                }
                self.queue.add(&k);
            }
        }
        self.kick(ctx);
    }
}

impl<C: Controller> Handler<Failed> for ControllerActor<C> {
    type Result = ();
    fn handle(&mut self, Failed(key): Failed, _: &mut Self::Context) {
        self.expectations.forget(&key);
        self.queue
            .add_at(&key, Instant::now() + Duration::from_secs(1));
    }
}

impl<C: Controller> Handler<Work> for ControllerActor<C> {
    type Result = ();
    fn handle(&mut self, _: Work, ctx: &mut Self::Context) {
        self.working = false;
        let now = crate::store::now();
        for _ in 0..KEYS_PER_TURN {
            let Some(key) = self.queue.pop() else {
                break;
            };
            if self.expectations.waiting(&key) {
                // Waiting for its last writes to show; the event that fulfils them re-queues it.
                continue;
            }
            let actions = self.controller.reconcile(&key, &self.cache, now);
            let mut writes: Vec<(WriteOp, Option<EventSpec>)> = Vec::new();
            let mut expected = 0;
            for a in actions {
                if let Action::RequeueAfter { millis } = a {
                    self.queue
                        .add_at(&key, Instant::now() + Duration::from_millis(millis));
                    continue;
                }
                if matches!(a, Action::Create { .. } | Action::Delete { .. }) {
                    expected += 1;
                }
                let event = self.controller.event(&key, &a, &self.cache);
                if let Some(op) = write_op(a, &self.cache) {
                    writes.push((op, event));
                }
            }
            let now_ms = self.now_ms();
            self.expectations.expect(&key, expected, now_ms);
            if writes.is_empty() {
                continue;
            }
            let store = self.store.clone();
            let me = ctx.address();
            actix::spawn(async move {
                let results =
                    futures_util::future::join_all(writes.into_iter().map(|(op, event)| {
                        let store = store.clone();
                        async move {
                            let r = store.write(op).await;
                            if let (Ok(written), Some(e)) = (&r, event) {
                                let name = written
                                    .object
                                    .pointer("/metadata/name")
                                    .and_then(Value::as_str)
                                    .unwrap_or_default();
                                let message = e.message.replace("{name}", name);
                                if let Err(err) = crate::events::record_event(
                                    &store,
                                    &e.involved,
                                    e.type_,
                                    e.reason,
                                    &message,
                                    e.component,
                                )
                                .await
                                {
                                    tracing::debug!(error = %err, "could not record an event");
                                }
                            }
                            r
                        }
                    }))
                    .await;
                let failed = results
                    .iter()
                    .any(|r| matches!(r, Err(e) if !matches!(e, StoreError::NotFound { .. })));
                for r in &results {
                    if let Err(e) = r {
                        tracing::debug!(controller = C::NAME, key = %key, error = %e, "write failed");
                    }
                }
                if failed {
                    me.do_send(Failed(key));
                }
            });
        }
        self.kick(ctx);
    }
}
