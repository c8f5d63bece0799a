//! Parsing Kubernetes REST paths into what they address.

use capstan_core::kinds::{self, ResourceKind};

/// What a REST path addresses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The resource.
    pub resource: &'static ResourceKind,
    /// The namespace in the path (`None` for cluster-wide collections and cluster-scoped kinds).
    pub namespace: Option<String>,
    /// The object's name, for object paths.
    pub name: Option<String>,
    /// `status` and the like.
    pub subresource: Option<String>,
}

/// Parses the segments after `/api/v1` (group `""`) or `/apis/{group}/{version}`.
/// `None` means no such route.
pub fn parse(group: &str, version: &str, segs: &[&str]) -> Option<Target> {
    let res = |plural: &str| kinds::by_path(group, version, plural);
    let t = |resource, namespace: Option<&str>, name: Option<&str>, sub: Option<&str>| Target {
        resource,
        namespace: namespace.map(str::to_string),
        name: name.map(str::to_string),
        subresource: sub.map(str::to_string),
    };
    let target = match segs {
        [plural] => t(res(plural)?, None, None, None),
        [plural, name] => t(res(plural)?, None, Some(name), None),
        ["namespaces", ns, plural]
            if group.is_empty() && (*plural == "status" || *plural == "finalize") =>
        {
            t(res("namespaces")?, None, Some(ns), Some(plural))
        }
        ["namespaces", ns, plural] => t(res(plural)?, Some(ns), None, None),
        [plural, name, sub] => t(res(plural)?, None, Some(name), Some(sub)),
        ["namespaces", ns, plural, name] => t(res(plural)?, Some(ns), Some(name), None),
        ["namespaces", ns, plural, name, sub] => t(res(plural)?, Some(ns), Some(name), Some(sub)),
        _ => return None,
    };
    // A namespaced path for a cluster-scoped kind, or an object path of a namespaced kind
    // without its namespace, does not exist.
    match (target.resource.namespaced, &target.namespace, &target.name) {
        (false, Some(_), _) => None,
        (true, None, Some(_)) => None,
        _ => Some(target),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// kind, namespace, name, subresource
    type Want = (
        &'static str,
        Option<&'static str>,
        Option<&'static str>,
        Option<&'static str>,
    );

    struct Case {
        name: &'static str,
        group: &'static str,
        path: &'static str,
        want: Option<Want>,
    }

    fn check(c: &Case) {
        let segs: Vec<&str> = c.path.split('/').filter(|s| !s.is_empty()).collect();
        let got = parse(c.group, "v1", &segs);
        let got = got.as_ref().map(|t| {
            (
                t.resource.kind,
                t.namespace.as_deref(),
                t.name.as_deref(),
                t.subresource.as_deref(),
            )
        });
        assert_eq!(got, c.want, "case {}", c.name);
    }

    #[test]
    fn paths() {
        let cases = [
            Case {
                name: "all pods",
                group: "",
                path: "pods",
                want: Some(("Pod", None, None, None)),
            },
            Case {
                name: "pods in ns",
                group: "",
                path: "namespaces/a/pods",
                want: Some(("Pod", Some("a"), None, None)),
            },
            Case {
                name: "one pod",
                group: "",
                path: "namespaces/a/pods/p",
                want: Some(("Pod", Some("a"), Some("p"), None)),
            },
            Case {
                name: "pod status",
                group: "",
                path: "namespaces/a/pods/p/status",
                want: Some(("Pod", Some("a"), Some("p"), Some("status"))),
            },
            Case {
                name: "namespaces",
                group: "",
                path: "namespaces",
                want: Some(("Namespace", None, None, None)),
            },
            Case {
                name: "one namespace",
                group: "",
                path: "namespaces/a",
                want: Some(("Namespace", None, Some("a"), None)),
            },
            Case {
                name: "namespace status",
                group: "",
                path: "namespaces/a/status",
                want: Some(("Namespace", None, Some("a"), Some("status"))),
            },
            Case {
                name: "node",
                group: "",
                path: "nodes/n1",
                want: Some(("Node", None, Some("n1"), None)),
            },
            Case {
                name: "node status",
                group: "",
                path: "nodes/n1/status",
                want: Some(("Node", None, Some("n1"), Some("status"))),
            },
            Case {
                name: "deployment",
                group: "apps",
                path: "namespaces/d/deployments/web",
                want: Some(("Deployment", Some("d"), Some("web"), None)),
            },
            Case {
                name: "pod without namespace",
                group: "",
                path: "pods/p",
                want: None,
            },
            Case {
                name: "node in namespace",
                group: "",
                path: "namespaces/a/nodes/n1",
                want: None,
            },
            Case {
                name: "unknown resource",
                group: "",
                path: "namespaces/a/widgets",
                want: None,
            },
            Case {
                name: "wrong group",
                group: "apps",
                path: "namespaces/a/pods",
                want: None,
            },
            Case {
                name: "too deep",
                group: "",
                path: "namespaces/a/pods/p/status/x",
                want: None,
            },
        ];
        for c in &cases {
            check(c);
        }
    }
}
