//! The `capstan` CLI as a user runs it, against a real master.

use crate::support::{capstan_bin, tempdir, Master};
use std::process::{Command, Output};

fn capstan(m: &Master, args: &[&str]) -> Output {
    Command::new(capstan_bin())
        .arg("--kubeconfig")
        .arg(&m.kubeconfig)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("capstan runs")
}

fn ok(m: &Master, args: &[&str]) -> String {
    let out = capstan(m, args);
    assert!(
        out.status.success(),
        "capstan {args:?} failed: {}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(str::to_string).collect();
    v.sort();
    v
}

#[test]
fn apply_get_describe_delete() {
    let dir = tempdir();
    let m = Master::start(dir.path());

    let created = ok(&m, &["apply", "-f", "examples/"]);
    assert_eq!(
        sorted_lines(&created),
        [
            "deployment.apps/web created",
            "namespace/staging created",
            "pod/hello created",
            "pod/hello-worker-1 created",
            "pod/limited created",
            "service/web created"
        ]
    );
    let again = ok(&m, &["apply", "-f", "examples/"]);
    assert!(again.lines().all(|l| l.ends_with(" unchanged")), "{again}");

    // A changed manifest from stdin is configured.
    let manifest = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/deployment.yaml"),
    )
    .expect("example");
    let mut child = Command::new(capstan_bin())
        .arg("--kubeconfig")
        .arg(&m.kubeconfig)
        .args(["apply", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(manifest.replace("replicas: 3", "replicas: 4").as_bytes())
            .expect("write");
    }
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "deployment.apps/web configured"
    );

    let pods = ok(&m, &["get", "pods"]);
    let header: Vec<&str> = pods
        .lines()
        .next()
        .expect("header")
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert!(
        pods.lines().nth(1).is_some_and(|l| l.starts_with("hello ")),
        "{pods}"
    );

    let wide = ok(&m, &["get", "po", "-o", "wide"]);
    assert!(
        wide.lines().next().is_some_and(|h| h.contains("NODE")),
        "{wide}"
    );

    let names = ok(&m, &["get", "deploy", "-o", "name"]);
    assert_eq!(names.trim(), "deployment.apps/web");

    let json: serde_json::Value =
        serde_json::from_str(&ok(&m, &["get", "deployment", "web", "-o", "json"]))
            .expect("json output");
    assert_eq!(json["spec"]["replicas"], 4);
    let yaml = ok(&m, &["get", "svc", "web", "-o", "yaml"]);
    assert!(yaml.contains("targetPort: 8080"), "{yaml}");

    let all_ns = ok(&m, &["get", "ns"]);
    assert!(
        all_ns.contains("staging") && all_ns.contains("kube-system"),
        "{all_ns}"
    );
    let labeled = ok(
        &m,
        &["get", "pods", "-A", "-l", "app=hello", "--show-labels"],
    );
    let header = labeled.lines().next().expect("header");
    assert!(
        header.starts_with("NAMESPACE") && header.ends_with("LABELS"),
        "{labeled}"
    );

    let described = ok(&m, &["describe", "pod", "hello"]);
    for want in [
        "Name:",
        "hello",
        "Namespace:",
        "default",
        "busybox:1.36",
        "Events:",
    ] {
        assert!(
            described.contains(want),
            "describe lacks {want:?}:\n{described}"
        );
    }

    let deleted = ok(&m, &["delete", "-f", "examples/pod.yaml"]);
    assert_eq!(deleted.trim(), "pod \"hello\" deleted");
    let out = capstan(&m, &["get", "pod", "hello"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("Error from server (NotFound): pods \"hello\" not found"));

    let out = capstan(&m, &["get", "widgets"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("the server doesn't have a resource type \"widgets\""));

    let v = ok(&m, &["version"]);
    assert!(
        v.contains("Client Version:") && v.contains("Server Version: v1.32.0-capstan"),
        "{v}"
    );
}

#[test]
fn invalid_manifests_fail_with_field_errors_and_change_nothing() {
    let dir = tempdir();
    let m = Master::start(dir.path());
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: Bad_Name\nspec:\n  containers:\n  - name: c\n").expect("write");
    let out = capstan(&m, &["apply", "-f", bad.to_str().expect("utf8")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("metadata.name") && err.contains("spec.containers[0].image: Required value"),
        "{err}"
    );
    let broken = dir.path().join("broken.yaml");
    std::fs::write(&broken, "apiVersion: v1\nkind: Pod\nmetadata: [\n").expect("write");
    let out = capstan(&m, &["apply", "-f", broken.to_str().expect("utf8")]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line"),
        "names the line"
    );
    let pods = capstan(&m, &["get", "pods"]);
    assert!(pods.status.success());
    assert!(
        String::from_utf8_lossy(&pods.stdout).trim().is_empty(),
        "nothing was created"
    );
    assert!(
        String::from_utf8_lossy(&pods.stderr).contains("No resources found in default namespace.")
    );
}
