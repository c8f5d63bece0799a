//! `describe deployment` and `describe replicaset`.

use super::containers::describe_pod_template;
use super::events::events_section;
use super::text::{controlled_by, format_selector, header, int, list, s, scalar, Doc};
use capstan_core::time::Timestamp;
use serde_json::Value;

/// A deployment as `kubectl describe deployment` shows it.
pub fn render_deployment(dep: &Value, events: &[Value], now: Timestamp) -> String {
    let mut d = Doc::new();
    header(&mut d, dep);
    d.field(
        0,
        "Selector",
        &format_selector(dep.pointer("/spec/selector")),
    );
    d.field(
        0,
        "Replicas",
        &format!(
            "{} desired | {} updated | {} total | {} available | {} unavailable",
            int(dep, "/spec/replicas", 1),
            int(dep, "/status/updatedReplicas", 0),
            int(dep, "/status/replicas", 0),
            int(dep, "/status/availableReplicas", 0),
            int(dep, "/status/unavailableReplicas", 0)
        ),
    );
    let strategy = match s(dep, "/spec/strategy/type") {
        "" => "RollingUpdate",
        t => t,
    };
    d.field(0, "StrategyType", strategy);
    d.field(
        0,
        "MinReadySeconds",
        &int(dep, "/spec/minReadySeconds", 0).to_string(),
    );
    if strategy == "RollingUpdate" {
        let ru = dep.pointer("/spec/strategy/rollingUpdate");
        let pick = |k: &str| {
            let v = scalar(ru.and_then(|r| r.get(k)));
            if v.is_empty() {
                "25%".to_string()
            } else {
                v
            }
        };
        d.field(
            0,
            "RollingUpdateStrategy",
            &format!(
                "{} max unavailable, {} max surge",
                pick("maxUnavailable"),
                pick("maxSurge")
            ),
        );
    }
    describe_pod_template(&mut d, dep.pointer("/spec/template"));
    conditions(&mut d, dep);
    events_section(&mut d, events, now);
    d.finish()
}

fn conditions(d: &mut Doc, obj: &Value) {
    let cs = list(obj, "/status/conditions");
    if cs.is_empty() {
        return;
    }
    d.line(0, "Conditions:");
    d.line(1, "Type\tStatus\tReason");
    d.line(1, "----\t------\t------");
    for c in cs {
        d.line(
            1,
            &format!(
                "{} \t{}\t{}",
                s(c, "/type"),
                s(c, "/status"),
                s(c, "/reason")
            ),
        );
    }
}

/// Pod phase counts for `Pods Status:`.
fn pods_status(pods: &[Value]) -> String {
    let count = |phases: &[&str]| {
        pods.iter()
            .filter(|p| phases.contains(&s(p, "/status/phase")))
            .count()
    };
    format!(
        "{} Running / {} Waiting / {} Succeeded / {} Failed",
        count(&["Running"]),
        count(&["Pending", ""]),
        count(&["Succeeded"]),
        count(&["Failed"])
    )
}

/// A replica set as `kubectl describe replicaset` shows it; `pods` are the pods it controls
/// (`None` when they could not be listed).
pub fn render_replicaset(
    rs: &Value,
    pods: Option<&[Value]>,
    events: &[Value],
    now: Timestamp,
) -> String {
    let mut d = Doc::new();
    header(&mut d, rs);
    d.field(
        0,
        "Selector",
        &format_selector(rs.pointer("/spec/selector")),
    );
    if let Some(c) = controlled_by(rs) {
        d.field(0, "Controlled By", &c);
    }
    d.field(
        0,
        "Replicas",
        &format!(
            "{} current / {} desired",
            int(rs, "/status/replicas", 0),
            int(rs, "/spec/replicas", 1)
        ),
    );
    d.field(
        0,
        "Pods Status",
        &pods.map(pods_status).unwrap_or_else(|| "<unknown>".into()),
    );
    describe_pod_template(&mut d, rs.pointer("/spec/template"));
    conditions(&mut d, rs);
    events_section(&mut d, events, now);
    d.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment() -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "default", "creationTimestamp": "2024-01-01T00:00:00Z", "labels": {"app": "web"}},
            "spec": {
                "replicas": 3,
                "selector": {"matchLabels": {"app": "web"}},
                "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.25", "ports": [{"containerPort": 80}],
                        "env": [{"name": "MODE", "value": "prod"}]}]},
                },
            },
            "status": {
                "replicas": 3, "updatedReplicas": 3, "availableReplicas": 3, "readyReplicas": 3,
                "conditions": [
                    {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"},
                    {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
                ],
            },
        })
    }

    #[test]
    fn deployments_describe_like_kubectl() {
        let now = Timestamp::parse_rfc3339("2024-01-01T01:00:00Z").expect("time");
        let events = vec![
            json!({"type": "Normal", "reason": "ScalingReplicaSet", "message": "Scaled up replica set web-abc to 3",
            "source": {"component": "deployment-controller"}, "lastTimestamp": "2024-01-01T00:00:00Z", "firstTimestamp": "2024-01-01T00:00:00Z", "count": 1}),
        ];
        let text = render_deployment(&deployment(), &events, now);
        let want = "\
Name:                   web
Namespace:              default
Labels:                 app=web
Annotations:            <none>
CreationTimestamp:      Mon, 01 Jan 2024 00:00:00 +0000
Selector:               app=web
Replicas:               3 desired | 3 updated | 3 total | 3 available | 0 unavailable
StrategyType:           RollingUpdate
MinReadySeconds:        0
RollingUpdateStrategy:  25% max unavailable, 25% max surge
Pod Template:
  Labels:  app=web
  Containers:
   web:
    Image:      nginx:1.25
    Port:       80/TCP
    Host Port:  0/TCP
    Environment:
      MODE:        prod
    Mounts:        <none>
  Volumes:         <none>
  Node-Selectors:  <none>
  Tolerations:     <none>
Conditions:
  Type          Status  Reason
  ----          ------  ------
  Available     True    MinimumReplicasAvailable
  Progressing   True    NewReplicaSetAvailable
Events:
  Type    Reason             Age   From                   Message
  ----    ------             ----  ----                   -------
  Normal  ScalingReplicaSet  60m   deployment-controller  Scaled up replica set web-abc to 3
";
        assert_eq!(text, want, "\n{text}");
    }

    #[test]
    fn deployment_defaults_fill_missing_fields() {
        let dep = json!({"metadata": {"name": "d", "namespace": "x"}, "spec": {"template": {"spec": {"containers": []}}}});
        let text = render_deployment(&dep, &[], Timestamp(0));
        assert!(
            text.contains("1 desired | 0 updated | 0 total | 0 available | 0 unavailable"),
            "{text}"
        );
        assert!(
            text.contains("RollingUpdateStrategy:  25% max unavailable, 25% max surge"),
            "{text}"
        );
        assert!(text.contains("Selector:               <none>"), "{text}");
    }

    #[test]
    fn replicasets_count_pods() {
        let mut rs = deployment();
        rs["kind"] = json!("ReplicaSet");
        rs["metadata"]["ownerReferences"] =
            json!([{"kind": "Deployment", "name": "web", "controller": true}]);
        let pods = vec![
            json!({"status": {"phase": "Running"}}),
            json!({"status": {"phase": "Pending"}}),
            json!({"status": {"phase": "Running"}}),
        ];
        let text = render_replicaset(&rs, Some(&pods), &[], Timestamp(0));
        for want in [
            "Controlled By:",
            "Deployment/web",
            "3 current / 3 desired",
            "2 Running / 1 Waiting / 0 Succeeded / 0 Failed",
            "Pod Template:",
        ] {
            assert!(text.contains(want), "{want:?} missing from\n{text}");
        }
    }
}
