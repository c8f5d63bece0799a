//! The resource registry: every kind the API server serves, with its REST names, scope, aliases
//! and the field selectors it supports. Discovery, routing, the CLI's kind aliases and the store's
//! keys all read this one table.

/// One served resource (`pods`, `deployments.apps`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceKind {
    /// `Pod`
    pub kind: &'static str,
    /// `pods` — the REST path segment.
    pub plural: &'static str,
    /// `pod`
    pub singular: &'static str,
    /// `""` for the core group, `"apps"` for apps/v1.
    pub group: &'static str,
    /// Always `v1` today.
    pub version: &'static str,
    /// Whether objects live in a namespace.
    pub namespaced: bool,
    /// kubectl short names (`po`, `deploy`).
    pub short_names: &'static [&'static str],
    /// Discovery categories (`all`).
    pub categories: &'static [&'static str],
    /// Whether the resource has a `/status` subresource.
    pub has_status: bool,
    /// Fields accepted in `?fieldSelector=` besides `metadata.name` and `metadata.namespace`.
    pub extra_field_selectors: &'static [&'static str],
}

impl ResourceKind {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pods` or `deployments.apps`, as kubectl prints resource names.
    pub fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `pod` or `deployment.apps`, as kubectl prints `pod/web created`.
    pub fn qualified_singular(&self) -> String {
        if self.group.is_empty() {
            self.singular.to_string()
        } else {
            format!("{}.{}", self.singular, self.group)
        }
    }

    /// Whether `?fieldSelector=` may name `field` for this resource.
    pub fn supports_field(&self, field: &str) -> bool {
        matches!(field, "metadata.name" | "metadata.namespace")
            || self.extra_field_selectors.contains(&field)
    }

    /// The REST path of the collection (`/api/v1/namespaces/default/pods`); `namespace` is
    /// ignored for cluster-scoped resources and `None` means all namespaces.
    pub fn collection_path(&self, namespace: Option<&str>) -> String {
        let prefix = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{prefix}/namespaces/{ns}/{}", self.plural),
            _ => format!("{prefix}/{}", self.plural),
        }
    }

    /// The REST path of one object.
    pub fn object_path(&self, namespace: &str, name: &str) -> String {
        format!("{}/{name}", self.collection_path(Some(namespace)))
    }
}

const ALL: &[&str] = &["all"];

/// Every served resource.
pub static RESOURCES: &[ResourceKind] = &[
    ResourceKind {
        kind: "Namespace",
        plural: "namespaces",
        singular: "namespace",
        group: "",
        version: "v1",
        namespaced: false,
        short_names: &["ns"],
        categories: &[],
        has_status: true,
        extra_field_selectors: &["status.phase"],
    },
    ResourceKind {
        kind: "Pod",
        plural: "pods",
        singular: "pod",
        group: "",
        version: "v1",
        namespaced: true,
        short_names: &["po"],
        categories: ALL,
        has_status: true,
        extra_field_selectors: &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
    },
    ResourceKind {
        kind: "Node",
        plural: "nodes",
        singular: "node",
        group: "",
        version: "v1",
        namespaced: false,
        short_names: &["no"],
        categories: &[],
        has_status: true,
        extra_field_selectors: &["spec.unschedulable"],
    },
    ResourceKind {
        kind: "Service",
        plural: "services",
        singular: "service",
        group: "",
        version: "v1",
        namespaced: true,
        short_names: &["svc"],
        categories: ALL,
        has_status: true,
        extra_field_selectors: &["spec.clusterIP", "spec.type"],
    },
    ResourceKind {
        kind: "Endpoints",
        plural: "endpoints",
        singular: "endpoints",
        group: "",
        version: "v1",
        namespaced: true,
        short_names: &["ep"],
        categories: &[],
        has_status: false,
        extra_field_selectors: &[],
    },
    ResourceKind {
        kind: "Event",
        plural: "events",
        singular: "event",
        group: "",
        version: "v1",
        namespaced: true,
        short_names: &["ev"],
        categories: &[],
        has_status: false,
        extra_field_selectors: &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
    },
    ResourceKind {
        kind: "Deployment",
        plural: "deployments",
        singular: "deployment",
        group: "apps",
        version: "v1",
        namespaced: true,
        short_names: &["deploy"],
        categories: ALL,
        has_status: true,
        extra_field_selectors: &[],
    },
    ResourceKind {
        kind: "ReplicaSet",
        plural: "replicasets",
        singular: "replicaset",
        group: "apps",
        version: "v1",
        namespaced: true,
        short_names: &["rs"],
        categories: ALL,
        has_status: true,
        extra_field_selectors: &[],
    },
];

/// Namespaces (cluster-scoped).
pub static NAMESPACES: &ResourceKind = &RESOURCES[0];
/// Pods.
pub static PODS: &ResourceKind = &RESOURCES[1];
/// Nodes (cluster-scoped).
pub static NODES: &ResourceKind = &RESOURCES[2];

/// The resource for a REST path: group (`""` or `apps`), version and plural.
pub fn by_path(group: &str, version: &str, plural: &str) -> Option<&'static ResourceKind> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resource for an object's `apiVersion` and `kind`.
pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static ResourceKind> {
    RESOURCES
        .iter()
        .find(|r| r.kind == kind && r.api_version() == api_version)
}

/// The resource a user means by `name` on the command line: plural, singular, short name or
/// kind, optionally qualified by group (`deployments.apps`, `deploy`, `Pod`, `po`).
pub fn by_alias(name: &str) -> Option<&'static ResourceKind> {
    let lower = name.to_ascii_lowercase();
    let (base, group) = match lower.split_once('.') {
        Some((b, g)) => (b.to_string(), Some(g.to_string())),
        None => (lower, None),
    };
    RESOURCES.iter().find(|r| {
        let name_ok = r.plural == base
            || r.singular == base
            || r.kind.eq_ignore_ascii_case(&base)
            || r.short_names.contains(&base.as_str());
        let group_ok = match &group {
            None => true,
            Some(g) => r.group == g || (r.group.is_empty() && g == "core"),
        };
        name_ok && group_ok
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_resolve_like_kubectl() {
        let cases = [
            ("po", Some("Pod")),
            ("pods", Some("Pod")),
            ("Pod", Some("Pod")),
            ("deploy", Some("Deployment")),
            ("deployments.apps", Some("Deployment")),
            ("deployment.apps", Some("Deployment")),
            ("rs", Some("ReplicaSet")),
            ("svc", Some("Service")),
            ("no", Some("Node")),
            ("ev", Some("Event")),
            ("ns", Some("Namespace")),
            ("ep", Some("Endpoints")),
            ("pods.apps", None),
            ("widgets", None),
        ];
        for (alias, want) in cases {
            assert_eq!(by_alias(alias).map(|r| r.kind), want, "alias {alias}");
        }
    }

    #[test]
    fn named_resources_point_at_their_kinds() {
        assert_eq!(
            (NAMESPACES.kind, PODS.kind, NODES.kind),
            ("Namespace", "Pod", "Node")
        );
    }

    #[test]
    fn paths_are_kubernetes_paths() {
        let pods = by_path("", "v1", "pods").expect("pods served");
        assert_eq!(
            pods.object_path("default", "web"),
            "/api/v1/namespaces/default/pods/web"
        );
        assert_eq!(pods.collection_path(None), "/api/v1/pods");
        let deploy = by_kind("apps/v1", "Deployment").expect("deployments served");
        assert_eq!(
            deploy.collection_path(Some("x")),
            "/apis/apps/v1/namespaces/x/deployments"
        );
        let nodes = by_path("", "v1", "nodes").expect("nodes served");
        assert_eq!(nodes.object_path("ignored", "n1"), "/api/v1/nodes/n1");
        assert!(pods.supports_field("spec.nodeName"));
        assert!(!deploy.supports_field("spec.nodeName"));
    }
}
