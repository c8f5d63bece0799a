//! Stock kubectl (v1.32 at /usr/bin/kubectl) as a real client of a running master.

use crate::support::{tempdir, Master};
use std::path::Path;
use std::process::{Command, Output};

const KUBECTL: &str = "/usr/bin/kubectl";

struct Kubectl<'a> {
    kubeconfig: &'a Path,
    home: &'a Path,
}

impl Kubectl<'_> {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(KUBECTL)
            .args(args)
            .env("KUBECONFIG", self.kubeconfig)
            .env("HOME", self.home)
            .env("KUBECACHEDIR", self.home.join("cache"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("kubectl runs")
    }

    /// Runs kubectl, asserts success, returns stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed: {}\nstdout: {stdout}\nstderr: {stderr}",
            out.status
        );
        assert!(
            !stderr.contains("warning: error calculating patch"),
            "kubectl warned: {stderr}"
        );
        stdout
    }
}

#[test]
fn kubectl_drives_the_master() {
    if !Path::new(KUBECTL).exists() {
        eprintln!("skipping: {KUBECTL} is not installed on this machine");
        return;
    }
    let dir = tempdir();
    let home = tempdir();
    let m = Master::start(&dir.path().join("master"));
    let k = Kubectl {
        kubeconfig: &m.kubeconfig,
        home: home.path(),
    };

    let v = k.ok(&["version"]);
    assert!(v.contains("Server Version: v1.32.0-capstan"), "{v}");

    let created = k.ok(&["apply", "-f", "examples/pod.yaml"]);
    assert_eq!(created.trim(), "pod/hello created");
    let again = k.ok(&["apply", "-f", "examples/pod.yaml"]);
    assert_eq!(again.trim(), "pod/hello unchanged");

    let table = k.ok(&["get", "pods"]);
    let mut lines = table.lines();
    let header: Vec<&str> = lines.next().expect("header").split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    let row: Vec<&str> = lines.next().expect("a row").split_whitespace().collect();
    assert_eq!(&row[..4], ["hello", "0/1", "Pending", "0"], "{table}");

    let wide = k.ok(&["get", "pods", "-o", "wide"]);
    assert!(
        wide.lines()
            .next()
            .is_some_and(|h| h.contains("NODE") && h.contains("IP")),
        "{wide}"
    );

    let yaml = k.ok(&["get", "pod", "hello", "-o", "yaml"]);
    for want in [
        "name: hello",
        "restartPolicy: Always",
        "image: busybox:1.36",
        "kubectl.kubernetes.io/last-applied-configuration",
        "cpu: 100m",
    ] {
        assert!(yaml.contains(want), "-o yaml lacks {want:?}:\n{yaml}");
    }

    let labeled = k.ok(&["label", "pod", "hello", "tier=frontend"]);
    assert_eq!(labeled.trim(), "pod/hello labeled");
    let labels = k.ok(&[
        "get",
        "pod",
        "hello",
        "-o",
        "jsonpath={.metadata.labels.tier}",
    ]);
    assert_eq!(labels, "frontend");
    let selected = k.ok(&["get", "pods", "-l", "tier=frontend", "-o", "name"]);
    assert_eq!(selected.trim(), "pod/hello");

    // A Deployment, then a changed manifest applied over it (strategic merge patch).
    let d = k.ok(&["apply", "-f", "examples/deployment.yaml"]);
    assert_eq!(d.trim(), "deployment.apps/web created");
    let manifest = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/deployment.yaml"),
    )
    .expect("example");
    let changed = manifest.replace("replicas: 3", "replicas: 5");
    let changed_path = home.path().join("deploy-5.yaml");
    std::fs::write(&changed_path, changed).expect("write");
    let d = k.ok(&["apply", "-f", changed_path.to_str().expect("utf8")]);
    assert_eq!(d.trim(), "deployment.apps/web configured");
    let replicas = k.ok(&["get", "deploy", "web", "-o", "jsonpath={.spec.replicas} {.metadata.generation} {.spec.template.spec.containers[0].command[0]}"]);
    assert_eq!(replicas, "5 2 sh");
    let deploys = k.ok(&["get", "deployments"]);
    assert!(
        deploys.starts_with("NAME") && deploys.contains("UP-TO-DATE") && deploys.contains("web"),
        "{deploys}"
    );

    // Unknown fields are refused by the server, naming the field.
    let bad_path = home.path().join("bad.yaml");
    std::fs::write(&bad_path, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bad\nspec:\n  colour: red\n  containers:\n  - name: c\n    image: x\n").expect("write");
    let out = k.run(&["apply", "-f", bad_path.to_str().expect("utf8")]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown field \"spec.colour\""), "{err}");

    let deleted = k.ok(&["delete", "pod", "hello"]);
    assert_eq!(deleted.trim(), "pod \"hello\" deleted");
    let out = k.run(&["get", "pod", "hello"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Error from server (NotFound): pods \"hello\" not found"),
        "{err}"
    );
}
