//! Patch strategies of list fields for strategic merge patch.
//!
//! Kubernetes records, on each list field of its Go API types, how a strategic merge patch
//! combines the list (`patchStrategy` and `patchMergeKey` struct tags). Capstan has no Go
//! struct tags, so this module holds the same information as a table.
//!
//! Every entry is keyed by a [`Scope`] (the API struct the field belongs to, such as `PodSpec`)
//! and the field's path relative to that struct, made of map keys separated by dots (list
//! elements add no segment: `containers.env` is the `env` list of any container). Scopes are
//! found from an object's root by [`SCOPE_ROOTS`], so the same entries serve `spec` of a Pod and
//! `spec.template.spec` of a Deployment or ReplicaSet. A list that is not in the table is
//! replaced atomically, which is also what Kubernetes does for lists without a patch strategy.

/// How a strategic merge patch combines a list-valued field with the original list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStrategy {
    /// The patch's list replaces the original one (atomic list). The default.
    Replace,
    /// A list of objects merged element by element: elements with the same value of the named
    /// key are merged recursively, other patch elements are added.
    MergeByKey(&'static str),
    /// A list of primitive values merged as a set union (for example `metadata.finalizers`).
    MergePrimitives,
}

/// The API struct a field path is relative to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `ObjectMeta`: `metadata` of any object or pod template.
    ObjectMeta,
    /// `PodSpec`: `spec` of a Pod, `spec.template.spec` of a workload.
    PodSpec,
    /// `Container` (also init and ephemeral containers) inside a `PodSpec`.
    Container,
    /// `PodStatus`: `status` of a Pod.
    PodStatus,
    /// `NodeSpec`: `spec` of a Node.
    NodeSpec,
    /// `NodeStatus`: `status` of a Node.
    NodeStatus,
    /// `ServiceSpec`: `spec` of a Service.
    ServiceSpec,
    /// Any other `status` (Deployment, ReplicaSet, Namespace, Service): conditions by type.
    Status,
}

/// Where each [`Scope`] is rooted: the kinds it applies to (empty means every kind), the path of
/// map keys from the object's root, and the scope. The longest matching root wins; among roots
/// of the same length the first listed wins, so kind-specific roots come first.
pub const SCOPE_ROOTS: &[(&[&str], &[&str], Scope)] = &[
    (&["Pod"], &["spec"], Scope::PodSpec),
    (&["Pod"], &["status"], Scope::PodStatus),
    (&["Node"], &["spec"], Scope::NodeSpec),
    (&["Node"], &["status"], Scope::NodeStatus),
    (&["Service"], &["spec"], Scope::ServiceSpec),
    (&[], &["status"], Scope::Status),
    (&[], &["metadata"], Scope::ObjectMeta),
    (&[], &["spec", "template", "metadata"], Scope::ObjectMeta),
    (&[], &["spec", "template", "spec"], Scope::PodSpec),
    (
        &[],
        &["spec", "jobTemplate", "spec", "template", "metadata"],
        Scope::ObjectMeta,
    ),
    (
        &[],
        &["spec", "jobTemplate", "spec", "template", "spec"],
        Scope::PodSpec,
    ),
];

/// `PodSpec` fields whose elements are [`Scope::Container`]s.
const CONTAINER_LISTS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

/// The list strategies, as in the `patchStrategy`/`patchMergeKey` tags of Kubernetes' core/v1
/// and apps/v1 types. `Replace` entries are listed for documentation (it is the default).
pub const LIST_STRATEGIES: &[(Scope, &str, ListStrategy)] = &[
    // ObjectMeta
    (
        Scope::ObjectMeta,
        "finalizers",
        ListStrategy::MergePrimitives,
    ),
    (
        Scope::ObjectMeta,
        "ownerReferences",
        ListStrategy::MergeByKey("uid"),
    ),
    (Scope::ObjectMeta, "managedFields", ListStrategy::Replace),
    // PodSpec
    (
        Scope::PodSpec,
        "containers",
        ListStrategy::MergeByKey("name"),
    ),
    (
        Scope::PodSpec,
        "initContainers",
        ListStrategy::MergeByKey("name"),
    ),
    (
        Scope::PodSpec,
        "ephemeralContainers",
        ListStrategy::MergeByKey("name"),
    ),
    (Scope::PodSpec, "volumes", ListStrategy::MergeByKey("name")),
    (
        Scope::PodSpec,
        "imagePullSecrets",
        ListStrategy::MergeByKey("name"),
    ),
    (
        Scope::PodSpec,
        "hostAliases",
        ListStrategy::MergeByKey("ip"),
    ),
    (
        Scope::PodSpec,
        "topologySpreadConstraints",
        ListStrategy::MergeByKey("topologyKey"),
    ),
    (
        Scope::PodSpec,
        "schedulingGates",
        ListStrategy::MergeByKey("name"),
    ),
    (
        Scope::PodSpec,
        "resourceClaims",
        ListStrategy::MergeByKey("name"),
    ),
    (Scope::PodSpec, "tolerations", ListStrategy::Replace),
    (Scope::PodSpec, "readinessGates", ListStrategy::Replace),
    // Container (and init/ephemeral containers)
    (
        Scope::Container,
        "ports",
        ListStrategy::MergeByKey("containerPort"),
    ),
    (Scope::Container, "env", ListStrategy::MergeByKey("name")),
    (
        Scope::Container,
        "volumeMounts",
        ListStrategy::MergeByKey("mountPath"),
    ),
    (
        Scope::Container,
        "volumeDevices",
        ListStrategy::MergeByKey("devicePath"),
    ),
    (Scope::Container, "envFrom", ListStrategy::Replace),
    (Scope::Container, "resizePolicy", ListStrategy::Replace),
    // PodStatus
    (
        Scope::PodStatus,
        "conditions",
        ListStrategy::MergeByKey("type"),
    ),
    (Scope::PodStatus, "podIPs", ListStrategy::MergeByKey("ip")),
    (Scope::PodStatus, "hostIPs", ListStrategy::MergeByKey("ip")),
    (
        Scope::PodStatus,
        "resourceClaimStatuses",
        ListStrategy::MergeByKey("name"),
    ),
    (Scope::PodStatus, "containerStatuses", ListStrategy::Replace),
    (
        Scope::PodStatus,
        "initContainerStatuses",
        ListStrategy::Replace,
    ),
    (
        Scope::PodStatus,
        "ephemeralContainerStatuses",
        ListStrategy::Replace,
    ),
    // NodeSpec
    (Scope::NodeSpec, "podCIDRs", ListStrategy::MergePrimitives),
    (Scope::NodeSpec, "taints", ListStrategy::Replace),
    // NodeStatus
    (
        Scope::NodeStatus,
        "conditions",
        ListStrategy::MergeByKey("type"),
    ),
    (
        Scope::NodeStatus,
        "addresses",
        ListStrategy::MergeByKey("type"),
    ),
    (Scope::NodeStatus, "images", ListStrategy::Replace),
    (Scope::NodeStatus, "volumesInUse", ListStrategy::Replace),
    (Scope::NodeStatus, "volumesAttached", ListStrategy::Replace),
    // ServiceSpec
    (
        Scope::ServiceSpec,
        "ports",
        ListStrategy::MergeByKey("port"),
    ),
    // Other statuses (DeploymentStatus, ReplicaSetStatus, NamespaceStatus, ServiceStatus)
    (
        Scope::Status,
        "conditions",
        ListStrategy::MergeByKey("type"),
    ),
];

/// Finds the scope a path (map keys from the object's root) lies in, and the rest of the path
/// relative to that scope.
pub fn resolve_scope<'p, S: AsRef<str>>(kind: &str, path: &'p [S]) -> Option<(Scope, &'p [S])> {
    let mut best: Option<(usize, Scope)> = None;
    for (kinds, root, scope) in SCOPE_ROOTS {
        if !kinds.is_empty() && !kinds.contains(&kind) {
            continue;
        }
        let matches =
            root.len() <= path.len() && root.iter().zip(path).all(|(r, p)| *r == p.as_ref());
        if matches && best.is_none_or(|(len, _)| root.len() > len) {
            best = Some((root.len(), *scope));
        }
    }
    let (len, scope) = best?;
    let rest = &path[len..];
    if scope == Scope::PodSpec && rest.len() > 1 && CONTAINER_LISTS.contains(&rest[0].as_ref()) {
        return Some((Scope::Container, &rest[1..]));
    }
    Some((scope, rest))
}

/// The strategy for the list at `path` (map keys from the root of an object of `kind`, list
/// elements adding no segment), e.g. `["spec", "template", "spec", "containers", "env"]`.
/// Lists not in [`LIST_STRATEGIES`] are [`ListStrategy::Replace`].
pub fn list_strategy<S: AsRef<str>>(kind: &str, path: &[S]) -> ListStrategy {
    let Some((scope, rest)) = resolve_scope(kind, path) else {
        return ListStrategy::Replace;
    };
    LIST_STRATEGIES
        .iter()
        .find(|(s, field, _)| {
            *s == scope
                && field.split('.').count() == rest.len()
                && field.split('.').zip(rest).all(|(f, r)| f == r.as_ref())
        })
        .map_or(ListStrategy::Replace, |(_, _, strategy)| *strategy)
}
