//! `capstan rollout status|history|undo|restart` and `capstan scale` against a real master and
//! two workers: the binary's output, exit status and the effect on the Deployment.

use crate::support::{capstan_bin, eventually, tempdir, Cluster, Master, Proc};
use capstan_node::client::Client;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const PODS: &str = "/api/v1/namespaces/default/pods";
const RSS: &str = "/apis/apps/v1/namespaces/default/replicasets";
const DEPLOYS: &str = "/apis/apps/v1/namespaces/default/deployments";
const WEB: &str = "/apis/apps/v1/namespaces/default/deployments/web";
const REVISION: &str = "deployment.kubernetes.io/revision";

fn cluster(dir: &Path) -> (Master, Vec<Proc>) {
    const SIZE: &str = "cpu = \"4\"\nmemory = \"4Gi\"";
    let c = Cluster::start(dir, &[("w1", SIZE), ("w2", SIZE)]);
    (c.master, c.workers)
}

/// Runs `capstan ARGS` against the master: (success, stdout, stderr).
fn capstan(dir: &Path, m: &Master, args: &[&str]) -> (bool, String, String) {
    let out = std::process::Command::new(capstan_bin())
        .arg("--kubeconfig")
        .arg(&m.kubeconfig)
        .args(args)
        .env("HOME", dir)
        .env_remove("KUBECONFIG")
        .output()
        .expect("run capstan");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `capstan ARGS` must succeed; returns stdout.
fn ok(dir: &Path, m: &Master, args: &[&str]) -> String {
    let (success, stdout, stderr) = capstan(dir, m, args);
    assert!(success, "capstan {args:?} failed:\n{stdout}{stderr}");
    stdout
}

/// `capstan ARGS` must fail; returns stderr.
fn fails(dir: &Path, m: &Master, args: &[&str]) -> String {
    let (success, stdout, stderr) = capstan(dir, m, args);
    assert!(!success, "capstan {args:?} should fail:\n{stdout}{stderr}");
    stderr
}

fn get(c: &Client, path: &str) -> Value {
    c.get(path).expect("get").json().expect("json")
}

fn running_web_pods(c: &Client) -> usize {
    let list = get(c, &format!("{PODS}?labelSelector=app%3Dweb"));
    list["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
                .filter(|p| p["status"]["phase"] == "Running")
                .count()
        })
        .unwrap_or(0)
}

fn revisions(c: &Client) -> Vec<String> {
    let mut revs: Vec<String> = get(c, RSS)["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|rs| {
            rs["metadata"]["annotations"][REVISION]
                .as_str()
                .map(String::from)
        })
        .collect();
    revs.sort();
    revs
}

fn command_of(d: &Value) -> String {
    d["spec"]["template"]["spec"]["containers"][0]["command"][2]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

const ROLLOUT_TIMEOUT: &str = "--timeout=150s";

#[test]
fn rollout_and_scale_verbs() {
    let dir = tempdir();
    let d = dir.path();
    let (m, _workers) = cluster(d);
    let c = &m.client;
    let v1 = "while true; do sleep 3600; done";
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "labels": {"app": "web"}},
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate",
                         "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{
                    "name": "web", "image": "busybox:1.36",
                    "command": ["sh", "-c", v1],
                    "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}
                }]}
            }
        }
    });
    let r = c
        .send_json("POST", DEPLOYS, "application/json", &deployment)
        .expect("create");
    assert!(r.ok(), "create: {}", r.error_text());

    // Argument errors name the argument, before any request.
    assert!(fails(d, &m, &["scale", "deployment/web", "--replicas", "-3"]).contains("--replicas"));
    assert!(fails(d, &m, &["rollout", "status", "pod/web"]).contains("TARGET"));
    assert!(fails(
        d,
        &m,
        &["rollout", "status", "deployment/web", "--timeout", "soon"]
    )
    .contains("--timeout"));

    // rollout status waits for the first rollout.
    let out = ok(
        d,
        &m,
        &["rollout", "status", "deployment/web", ROLLOUT_TIMEOUT],
    );
    assert!(
        out.trim_end()
            .ends_with("deployment \"web\" successfully rolled out"),
        "{out}"
    );
    assert_eq!(running_web_pods(c), 3);

    // scale through the scale subresource, both target forms.
    let out = ok(d, &m, &["scale", "deployment/web", "--replicas", "5"]);
    assert_eq!(out, "deployment.apps/web scaled\n");
    eventually(Duration::from_secs(120), "5 running web pods", || {
        (running_web_pods(c) == 5).then_some(())
    });
    assert_eq!(get(c, WEB)["spec"]["replicas"], 5);
    let out = ok(d, &m, &["scale", "deployment", "web", "--replicas=5"]);
    assert_eq!(out, "deployment.apps/web scaled\n");
    let missing = fails(d, &m, &["scale", "deployment/nope", "--replicas", "1"]);
    assert!(
        missing.contains("NotFound") || missing.contains("not found"),
        "{missing}"
    );

    // A template change, then rollout status follows it to the end.
    let v2 = "echo v2; while true; do sleep 3600; done";
    let r = c
        .send_json(
            "PATCH",
            WEB,
            "application/merge-patch+json",
            &json!({"spec": {"template": {"spec": {"containers": [{
                "name": "web", "image": "busybox:1.36", "command": ["sh", "-c", v2],
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}
            }]}}}}),
        )
        .expect("patch");
    assert!(r.ok(), "patch: {}", r.error_text());
    let out = ok(
        d,
        &m,
        &["rollout", "status", "deployment/web", ROLLOUT_TIMEOUT],
    );
    assert!(out.contains("successfully rolled out"), "{out}");
    let dep = get(c, WEB);
    assert_eq!(command_of(&dep), v2);
    assert_eq!(dep["metadata"]["annotations"][REVISION], "2");
    assert_eq!(dep["status"]["updatedReplicas"], 5);

    // history: revisions 1 and 2.
    let out = ok(d, &m, &["rollout", "history", "deployment/web"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&"deployment.apps/web"), "{out}");
    assert!(
        lines[1].starts_with("REVISION") && lines[1].contains("CHANGE-CAUSE"),
        "{out}"
    );
    let revs: Vec<&str> = lines[2..]
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(revs, ["1", "2"], "{out}");
    assert!(lines[2].contains("<none>"), "{out}");

    // undo errors, then undo to the previous revision: the first template, as revision 3.
    let err = fails(
        d,
        &m,
        &["rollout", "undo", "deployment/web", "--to-revision", "9"],
    );
    assert!(
        err.contains("unable to find specified revision 9 in history"),
        "{err}"
    );
    let out = ok(d, &m, &["rollout", "undo", "deployment/web"]);
    assert_eq!(out, "deployment.apps/web rolled back\n");
    let dep = get(c, WEB);
    assert_eq!(command_of(&dep), v1);
    assert!(
        dep["spec"]["template"]["metadata"]["labels"]
            .get("pod-template-hash")
            .is_none(),
        "{dep:#}"
    );
    let out = ok(
        d,
        &m,
        &["rollout", "status", "deployment/web", ROLLOUT_TIMEOUT],
    );
    assert!(out.contains("successfully rolled out"), "{out}");
    eventually(
        Duration::from_secs(60),
        "revision 3 from the first ReplicaSet",
        || {
            (get(c, WEB)["metadata"]["annotations"][REVISION] == "3" && revisions(c) == ["2", "3"])
                .then_some(())
        },
    );
    let out = ok(d, &m, &["rollout", "history", "deploy", "web"]);
    assert!(out.lines().any(|l| l.starts_with("3 ")), "{out}");

    // restart: a new template annotation and so a new ReplicaSet.
    let out = ok(d, &m, &["rollout", "restart", "deployment/web"]);
    assert_eq!(out, "deployment.apps/web restarted\n");
    let dep = get(c, WEB);
    let at = dep["spec"]["template"]["metadata"]["annotations"]
        ["kubectl.kubernetes.io/restartedAt"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        capstan_core::time::Timestamp::parse_rfc3339(&at).is_some(),
        "restartedAt {at:?}"
    );
    assert_eq!(command_of(&dep), v1);
    let out = ok(
        d,
        &m,
        &["rollout", "status", "deployment/web", ROLLOUT_TIMEOUT],
    );
    assert!(out.contains("successfully rolled out"), "{out}");
    eventually(Duration::from_secs(60), "a third ReplicaSet", || {
        let revs = revisions(c);
        (revs.len() == 3 && revs.contains(&"4".to_string())).then_some(())
    });
    eventually(Duration::from_secs(120), "5 running web pods again", || {
        (running_web_pods(c) == 5).then_some(())
    });

    // A status that cannot finish in time names its timeout.
    let r = c
        .send_json(
            "PATCH",
            WEB,
            "application/merge-patch+json",
            &json!({"spec": {"template": {"spec": {"nodeSelector": {"capstan-test": "nowhere"}}}}}),
        )
        .expect("patch");
    assert!(r.ok(), "patch: {}", r.error_text());
    let err = fails(
        d,
        &m,
        &["rollout", "status", "deployment/web", "--timeout", "2s"],
    );
    assert!(err.contains("timed out after 2s"), "{err}");
}
