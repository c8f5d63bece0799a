//! The redb database behind the store: objects by key, a change log by revision, and the
//! global revision counter, all updated in one transaction per batch of writes.
//!
//! Only the [`super::Store`] actor calls [`Db::apply_batch`]; anyone may read.

use super::error::StoreError;
use super::watch::{EventType, WatchEvent};
use capstan_core::kinds::{self, ResourceKind, RESOURCES};
use capstan_core::time::Timestamp;
use capstan_core::write_rules::{self, Subresource};
use rand::Rng;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;

const OBJECTS: TableDefinition<&str, &[u8]> = TableDefinition::new("objects");
const EVENTS: TableDefinition<u64, &[u8]> = TableDefinition::new("events");
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const REVISION: &str = "revision";
const COMPACTED: &str = "compacted";

/// The store key of an object: `pods/default/web`, `nodes//n1`, `deployments.apps/default/web`.
pub fn object_key(resource: &ResourceKind, namespace: &str, name: &str) -> String {
    let ns = if resource.namespaced { namespace } else { "" };
    format!("{}/{ns}/{name}", resource.qualified_plural())
}

fn prefix(resource: &ResourceKind, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) if resource.namespaced => format!("{}/{ns}/", resource.qualified_plural()),
        _ => format!("{}/", resource.qualified_plural()),
    }
}

fn resource_of_key(key: &str) -> Option<&'static ResourceKind> {
    let qp = key.split('/').next()?;
    RESOURCES.iter().find(|r| r.qualified_plural() == qp)
}

/// One write, as the API server asks for it.
#[derive(Debug, Clone)]
pub enum WriteOp {
    /// Create `object`; its name may be empty when `metadata.generateName` is set.
    Create {
        /// The object's resource.
        resource: &'static ResourceKind,
        /// The admitted object (defaulted, validated, namespace set).
        object: Value,
    },
    /// Replace the main resource or its status.
    Update {
        /// The object's resource.
        resource: &'static ResourceKind,
        /// The new object (namespace and name identify the stored one).
        object: Value,
        /// Which part is written.
        subresource: Subresource,
        /// Fail with Conflict unless the stored resourceVersion is this one.
        expected_revision: Option<u64>,
    },
    /// Delete, or mark for deletion when finalizers remain.
    Delete {
        /// The object's resource.
        resource: &'static ResourceKind,
        /// Its namespace (ignored for cluster-scoped kinds).
        namespace: String,
        /// Its name.
        name: String,
        /// Fail with Conflict unless the stored uid is this one.
        expected_uid: Option<String>,
        /// Fail with Conflict unless the stored resourceVersion is this one.
        expected_revision: Option<u64>,
        /// `Some(seconds > 0)`: graceful deletion — mark the object with a deletionTimestamp and
        /// this grace period and keep it until a later delete without grace (from whoever
        /// confirms it stopped, e.g. the pod's worker). `None` or 0: delete now.
        grace_seconds: Option<i64>,
    },
}

/// What a committed write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A new object exists.
    Created,
    /// The object changed.
    Updated,
    /// The write changed nothing; no revision was used.
    Unchanged,
    /// The object is gone.
    Deleted,
    /// The object has finalizers: it is marked with a deletionTimestamp and stays.
    MarkedForDeletion,
}

/// The result of one write: the object as stored (or as last stored, for deletions).
#[derive(Debug, Clone)]
pub struct WriteResult {
    /// The object after the write.
    pub object: Value,
    /// What happened.
    pub outcome: Outcome,
}

/// The database. Cheap to share behind an `Arc`; reads run concurrently with the writer.
pub struct Db {
    db: Database,
    history: u64,
}

/// Changes produced by one batch, in revision order, to be published after commit.
pub type Committed = Vec<WatchEvent>;

struct Txn<'a> {
    objects: redb::Table<'a, &'static str, &'static [u8]>,
    events: redb::Table<'a, u64, &'static [u8]>,
    revision: u64,
    now: Timestamp,
    committed: Committed,
}

/// The database's own page cache. redb's default (1 GiB) would make it most of the master's
/// memory on a large cluster; the operating system's page cache still holds the file.
const CACHE_BYTES: usize = 128 << 20;

impl Db {
    /// Opens (or creates) the database at `path`, keeping at least `history` revisions of
    /// change log for watchers, and makes sure the built-in namespaces exist.
    pub fn open(path: &Path, history: u64) -> Result<Arc<Db>, StoreError> {
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)?;
        {
            let w = db.begin_write()?;
            w.open_table(OBJECTS)?;
            w.open_table(EVENTS)?;
            w.open_table(META)?;
            w.commit()?;
        }
        let db = Arc::new(Db {
            db,
            history: history.max(1),
        });
        let ns = capstan_core::kinds::by_kind("v1", "Namespace")
            .ok_or_else(|| StoreError::Storage("Namespace kind missing".into()))?;
        let mut ops = Vec::new();
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
            if db.get(ns, "", name)?.is_none() {
                ops.push(WriteOp::Create {
                    resource: ns,
                    object: json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name},
                                   "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}),
                });
            }
        }
        if !ops.is_empty() {
            let (results, _) = db.apply_batch(ops, now())?;
            for r in results {
                r?;
            }
        }
        Ok(db)
    }

    /// The current global revision.
    pub fn revision(&self) -> Result<u64, StoreError> {
        let r = self.db.begin_read()?;
        let meta = r.open_table(META)?;
        Ok(meta.get(REVISION)?.map_or(0, |v| v.value()))
    }

    /// One object, if it exists.
    pub fn get(
        &self,
        resource: &ResourceKind,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, StoreError> {
        let r = self.db.begin_read()?;
        let t = r.open_table(OBJECTS)?;
        let key = object_key(resource, namespace, name);
        match t.get(key.as_str())? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    /// Every object of `resource` (in `namespace`, or all), and the revision this list is
    /// consistent at.
    pub fn list(
        &self,
        resource: &ResourceKind,
        namespace: Option<&str>,
    ) -> Result<(Vec<Value>, u64), StoreError> {
        let r = self.db.begin_read()?;
        let t = r.open_table(OBJECTS)?;
        let meta = r.open_table(META)?;
        let rev = meta.get(REVISION)?.map_or(0, |v| v.value());
        let p = prefix(resource, namespace);
        let mut out = Vec::new();
        for item in t.range(p.as_str()..)? {
            let (k, v) = item?;
            if !k.value().starts_with(p.as_str()) {
                break;
            }
            out.push(serde_json::from_slice(v.value())?);
        }
        Ok((out, rev))
    }

    /// Every change after revision `after`, and the current revision. `Gone` when `after`
    /// is older than the retained history.
    pub fn events_after(&self, after: u64) -> Result<(Vec<WatchEvent>, u64), StoreError> {
        let r = self.db.begin_read()?;
        let meta = r.open_table(META)?;
        let rev = meta.get(REVISION)?.map_or(0, |v| v.value());
        let compacted = meta.get(COMPACTED)?.map_or(0, |v| v.value());
        if after < compacted {
            return Err(StoreError::Gone {
                requested: after,
                oldest: compacted,
            });
        }
        let t = r.open_table(EVENTS)?;
        let mut out = Vec::new();
        for item in t.range(after + 1..)? {
            let (k, v) = item?;
            if let Some(e) = decode_event(k.value(), v.value())? {
                out.push(e);
            }
        }
        Ok((out, rev))
    }

    /// The oldest revision a watch may start from.
    pub fn compacted_revision(&self) -> Result<u64, StoreError> {
        let r = self.db.begin_read()?;
        let meta = r.open_table(META)?;
        Ok(meta.get(COMPACTED)?.map_or(0, |v| v.value()))
    }

    /// Applies `ops` in order in one durable transaction. Each op succeeds or fails on its
    /// own; the outer error means nothing was committed. Returns the per-op results and the
    /// change events to publish.
    pub fn apply_batch(
        &self,
        ops: Vec<WriteOp>,
        now: Timestamp,
    ) -> Result<(Vec<Result<WriteResult, StoreError>>, Committed), StoreError> {
        let w = self.db.begin_write()?;
        let results;
        let committed;
        {
            let mut meta = w.open_table(META)?;
            let revision = meta.get(REVISION)?.map_or(0, |v| v.value());
            let compacted = meta.get(COMPACTED)?.map_or(0, |v| v.value());
            let mut txn = Txn {
                objects: w.open_table(OBJECTS)?,
                events: w.open_table(EVENTS)?,
                revision,
                now,
                committed: Vec::new(),
            };
            let mut out = Vec::with_capacity(ops.len());
            for op in ops {
                let r = txn.apply(op);
                if let Err(StoreError::Storage(e)) = &r {
                    // A storage failure may have left this op half done: abort all.
                    return Err(StoreError::Storage(e.clone()));
                }
                out.push(r);
            }
            if txn.revision != revision {
                meta.insert(REVISION, txn.revision)?;
            }
            // Compact the change log in steps of a tenth of the history.
            let keep_from = txn.revision.saturating_sub(self.history);
            if keep_from > compacted + self.history / 10 {
                txn.events.retain_in(..keep_from, |_, _| false)?;
                meta.insert(COMPACTED, keep_from)?;
            }
            results = out;
            committed = std::mem::take(&mut txn.committed);
        }
        w.commit()?;
        Ok((results, committed))
    }
}

/// The wall clock, for callers of [`Db::apply_batch`].
pub fn now() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    Timestamp(secs)
}

fn decode_event(revision: u64, bytes: &[u8]) -> Result<Option<WatchEvent>, StoreError> {
    let v: Value = serde_json::from_slice(bytes)?;
    let key = v.get("key").and_then(Value::as_str).unwrap_or_default();
    let (Some(resource), Some(event_type)) = (
        resource_of_key(key),
        v.get("type")
            .and_then(Value::as_str)
            .and_then(EventType::parse),
    ) else {
        return Ok(None);
    };
    let namespace = key.split('/').nth(1).unwrap_or_default().to_string();
    let object = v.get("object").cloned().unwrap_or(Value::Null);
    Ok(Some(WatchEvent {
        revision,
        event_type,
        resource,
        namespace,
        object: Arc::new(object),
    }))
}

fn meta_str<'v>(obj: &'v Value, field: &str) -> &'v str {
    obj.get("metadata")
        .and_then(|m| m.get(field))
        .and_then(Value::as_str)
        .unwrap_or_default()
}

fn conflict(resource: &ResourceKind, name: &str, reason: &str) -> StoreError {
    StoreError::Conflict {
        resource: resource.qualified_plural(),
        name: name.to_string(),
        reason: reason.to_string(),
    }
}

const STALE: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

impl Txn<'_> {
    fn load(&self, key: &str) -> Result<Option<Value>, StoreError> {
        match self.objects.get(key)? {
            Some(v) => Ok(Some(serde_json::from_slice(v.value())?)),
            None => Ok(None),
        }
    }

    /// Stores `obj` under `key` at a new revision and logs the change.
    fn put(
        &mut self,
        resource: &'static ResourceKind,
        key: &str,
        mut obj: Value,
        event_type: EventType,
    ) -> Result<Value, StoreError> {
        self.revision += 1;
        let rev = self.revision;
        if let Some(m) = obj.get_mut("metadata").and_then(Value::as_object_mut) {
            m.insert("resourceVersion".into(), Value::String(rev.to_string()));
        }
        let bytes = serde_json::to_vec(&obj)?;
        if event_type == EventType::Deleted {
            self.objects.remove(key)?;
        } else {
            self.objects.insert(key, bytes.as_slice())?;
        }
        let ev = json!({"type": event_type.as_str(), "key": key, "object": &obj});
        self.events
            .insert(rev, serde_json::to_vec(&ev)?.as_slice())?;
        let namespace = key.split('/').nth(1).unwrap_or_default().to_string();
        self.committed.push(WatchEvent {
            revision: rev,
            event_type,
            resource,
            namespace,
            object: Arc::new(obj.clone()),
        });
        Ok(obj)
    }

    fn apply(&mut self, op: WriteOp) -> Result<WriteResult, StoreError> {
        match op {
            WriteOp::Create { resource, object } => self.create(resource, object),
            WriteOp::Update {
                resource,
                object,
                subresource,
                expected_revision,
            } => self.update(resource, object, subresource, expected_revision),
            WriteOp::Delete {
                resource,
                namespace,
                name,
                expected_uid,
                expected_revision,
                grace_seconds,
            } => self.delete(
                resource,
                &namespace,
                &name,
                expected_uid,
                expected_revision,
                grace_seconds,
            ),
        }
    }

    fn check_namespace(&self, resource: &ResourceKind, namespace: &str) -> Result<(), StoreError> {
        if !resource.namespaced {
            return Ok(());
        }
        let ns = kinds::by_kind("v1", "Namespace")
            .ok_or(StoreError::NamespaceNotFound(namespace.into()))?;
        match self.load(&object_key(ns, "", namespace))? {
            Some(o) if !write_rules::is_deleting(&o) => Ok(()),
            _ => Err(StoreError::NamespaceNotFound(namespace.to_string())),
        }
    }

    fn create(
        &mut self,
        resource: &'static ResourceKind,
        mut object: Value,
    ) -> Result<WriteResult, StoreError> {
        let namespace = meta_str(&object, "namespace").to_string();
        self.check_namespace(resource, &namespace)?;
        let mut name = meta_str(&object, "name").to_string();
        if name.is_empty() {
            let base = meta_str(&object, "generateName").to_string();
            if base.is_empty() {
                return Err(StoreError::BadRequest(
                    "name or generateName is required".into(),
                ));
            }
            name = self.generate_name(resource, &namespace, &base)?;
            if let Some(m) = object.get_mut("metadata").and_then(Value::as_object_mut) {
                m.insert("name".into(), Value::String(name.clone()));
            }
        }
        let key = object_key(resource, &namespace, &name);
        if self.load(&key)?.is_some() {
            return Err(StoreError::AlreadyExists {
                resource: resource.qualified_plural(),
                name,
            });
        }
        write_rules::on_create(&mut object, &new_uid(), self.now);
        let object = self.put(resource, &key, object, EventType::Added)?;
        Ok(WriteResult {
            object,
            outcome: Outcome::Created,
        })
    }

    fn generate_name(
        &self,
        resource: &ResourceKind,
        namespace: &str,
        base: &str,
    ) -> Result<String, StoreError> {
        const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
        let mut rng = rand::rng();
        let base: String = base.chars().take(58).collect();
        for _ in 0..16 {
            let suffix: String = (0..5)
                .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
                .collect();
            let name = format!("{base}{suffix}");
            if self
                .load(&object_key(resource, namespace, &name))?
                .is_none()
            {
                return Ok(name);
            }
        }
        Err(StoreError::AlreadyExists {
            resource: resource.qualified_plural(),
            name: format!("{base}(generated)"),
        })
    }

    fn update(
        &mut self,
        resource: &'static ResourceKind,
        object: Value,
        sub: Subresource,
        expected: Option<u64>,
    ) -> Result<WriteResult, StoreError> {
        let namespace = meta_str(&object, "namespace").to_string();
        let name = meta_str(&object, "name").to_string();
        let key = object_key(resource, &namespace, &name);
        let Some(old) = self.load(&key)? else {
            return Err(StoreError::NotFound {
                resource: resource.qualified_plural(),
                name,
            });
        };
        let old_rev: u64 = meta_str(&old, "resourceVersion").parse().unwrap_or(0);
        if expected.is_some_and(|e| e != old_rev) {
            return Err(conflict(resource, &name, STALE));
        }
        let new = write_rules::on_update(&old, &object, sub, resource.has_status);
        if write_rules::is_deleting(&new) && !write_rules::has_finalizers(&new) {
            let object = self.put(resource, &key, new, EventType::Deleted)?;
            return Ok(WriteResult {
                object,
                outcome: Outcome::Deleted,
            });
        }
        if write_rules::is_noop(&old, &new) {
            return Ok(WriteResult {
                object: old,
                outcome: Outcome::Unchanged,
            });
        }
        let object = self.put(resource, &key, new, EventType::Modified)?;
        Ok(WriteResult {
            object,
            outcome: Outcome::Updated,
        })
    }

    fn delete(
        &mut self,
        resource: &'static ResourceKind,
        namespace: &str,
        name: &str,
        expected_uid: Option<String>,
        expected_rev: Option<u64>,
        grace_seconds: Option<i64>,
    ) -> Result<WriteResult, StoreError> {
        let key = object_key(resource, namespace, name);
        let Some(mut old) = self.load(&key)? else {
            return Err(StoreError::NotFound {
                resource: resource.qualified_plural(),
                name: name.into(),
            });
        };
        if expected_uid
            .as_deref()
            .is_some_and(|u| u != meta_str(&old, "uid"))
        {
            return Err(conflict(
                resource,
                name,
                "Precondition failed: UID in precondition does not match the UID of the object",
            ));
        }
        let old_rev: u64 = meta_str(&old, "resourceVersion").parse().unwrap_or(0);
        if expected_rev.is_some_and(|e| e != old_rev) {
            return Err(conflict(resource, name, STALE));
        }
        let grace = grace_seconds.unwrap_or(0);
        if grace > 0 || write_rules::has_finalizers(&old) {
            if !write_rules::mark_deleting(&mut old, self.now, grace) {
                return Ok(WriteResult {
                    object: old,
                    outcome: Outcome::MarkedForDeletion,
                });
            }
            let object = self.put(resource, &key, old, EventType::Modified)?;
            return Ok(WriteResult {
                object,
                outcome: Outcome::MarkedForDeletion,
            });
        }
        if resource.kind == "Namespace" {
            self.delete_namespace_contents(name)?;
        }
        let object = self.put(resource, &key, old, EventType::Deleted)?;
        Ok(WriteResult {
            object,
            outcome: Outcome::Deleted,
        })
    }

    /// Deleting a namespace deletes everything in it, in the same transaction.
    fn delete_namespace_contents(&mut self, namespace: &str) -> Result<(), StoreError> {
        for resource in RESOURCES.iter().filter(|r| r.namespaced) {
            let p = prefix(resource, Some(namespace));
            let mut doomed = Vec::new();
            for item in self.objects.range(p.as_str()..)? {
                let (k, v) = item?;
                if !k.value().starts_with(p.as_str()) {
                    break;
                }
                doomed.push((
                    k.value().to_string(),
                    serde_json::from_slice::<Value>(v.value())?,
                ));
            }
            for (key, obj) in doomed {
                self.put(resource, &key, obj, EventType::Deleted)?;
            }
        }
        Ok(())
    }
}

fn new_uid() -> String {
    let b: [u8; 16] = rand::random();
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-4{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}
