//! `capstan rollout status|history|undo|restart deployment/NAME` and `capstan scale`: the
//! Deployment verbs of kubectl, done the way kubectl does them (status from
//! `DeploymentStatusViewer`'s rules, history from the owned ReplicaSets' revision annotations,
//! undo as a JSON patch of the template, restart as a strategic-merge patch of a template
//! annotation, scale through the scale subresource).

use super::util::{connect, now, outln, parse_namespace, server_error, str_at, VerbResult};
use crate::client::Client;
use anyhow::{anyhow, bail};
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

const REVISION: &str = "deployment.kubernetes.io/revision";
const CHANGE_CAUSE: &str = "kubernetes.io/change-cause";
const HASH_LABEL: &str = "pod-template-hash";
const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";
/// Deployment annotations kubectl's rollback never copies from a ReplicaSet.
const SKIP_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
];

/// `capstan rollout ...`.
#[derive(Debug, clap::Args)]
pub struct RolloutArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: RolloutCommand,
}

/// The rollout sub-verbs.
#[derive(Debug, clap::Subcommand)]
pub enum RolloutCommand {
    /// Watch a rollout until it finishes (like `kubectl rollout status`).
    Status(StatusArgs),
    /// List a Deployment's revisions (like `kubectl rollout history`).
    History(TargetArgs),
    /// Roll back to the previous revision or to --to-revision (like `kubectl rollout undo`).
    Undo(UndoArgs),
    /// Restart every pod with a new rollout (like `kubectl rollout restart`).
    Restart(TargetArgs),
}

/// A Deployment and its namespace.
#[derive(Debug, clap::Args)]
pub struct TargetArgs {
    /// `deployment/NAME` or `deployment NAME`.
    #[arg(value_name = "TARGET", required = true, num_args = 1..=2)]
    pub target: Vec<String>,
    /// Namespace (else the kubeconfig's).
    #[arg(short = 'n', long, value_parser = parse_namespace)]
    pub namespace: Option<String>,
}

/// `rollout status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// How long to wait (`90s`, `5m`, `1h30m`; 0 waits forever).
    #[arg(long, default_value = "0", value_parser = parse_timeout)]
    pub timeout: Duration,
}

/// `rollout undo`.
#[derive(Debug, clap::Args)]
pub struct UndoArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// The revision to roll back to (0 = the previous one).
    #[arg(long, default_value_t = 0)]
    pub to_revision: i64,
}

/// `capstan scale`.
#[derive(Debug, clap::Args)]
pub struct ScaleArgs {
    /// `deployment/NAME`, `deployment NAME`, `replicaset/NAME` or `replicaset NAME`.
    #[arg(value_name = "TARGET", required = true, num_args = 1..=2)]
    pub target: Vec<String>,
    /// The new desired number of replicas.
    #[arg(long, value_parser = parse_replicas)]
    pub replicas: i64,
    /// Namespace (else the kubeconfig's).
    #[arg(short = 'n', long, value_parser = parse_namespace)]
    pub namespace: Option<String>,
}

/// The workload kinds these verbs take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// apps/v1 Deployment.
    Deployment,
    /// apps/v1 ReplicaSet.
    ReplicaSet,
}

impl Kind {
    fn plural(self) -> &'static str {
        match self {
            Kind::Deployment => "deployments",
            Kind::ReplicaSet => "replicasets",
        }
    }
    fn qualified(self) -> &'static str {
        match self {
            Kind::Deployment => "deployment.apps",
            Kind::ReplicaSet => "replicaset.apps",
        }
    }
}

fn kind_of(word: &str) -> Result<Kind, String> {
    match word.to_ascii_lowercase().as_str() {
        "deployment" | "deployments" | "deploy" | "deployment.apps" | "deployments.apps" => {
            Ok(Kind::Deployment)
        }
        "replicaset" | "replicasets" | "rs" | "replicaset.apps" | "replicasets.apps" => {
            Ok(Kind::ReplicaSet)
        }
        "" => Err("TARGET: the resource kind is empty".into()),
        other => Err(format!(
            "TARGET: unsupported resource kind {other:?} (want deployment or replicaset)"
        )),
    }
}

/// `["deployment/web"]` or `["deployment", "web"]` → (kind, name).
pub fn parse_target(args: &[String]) -> Result<(Kind, String), String> {
    let (kind, name) = match args {
        [one] => match one.split_once('/') {
            Some((k, n)) => (k, n),
            None => {
                return Err(format!(
                    "TARGET: {one:?} needs a name: use KIND/NAME or KIND NAME"
                ))
            }
        },
        [k, n] => {
            if k.contains('/') || n.contains('/') {
                return Err("TARGET: use either KIND/NAME or KIND NAME, not both".into());
            }
            (k.as_str(), n.as_str())
        }
        _ => return Err("TARGET: expected KIND/NAME or KIND NAME".into()),
    };
    let kind = kind_of(kind)?;
    super::util::check_name(name).map_err(|e| format!("TARGET: {e}"))?;
    if let Some(why) = capstan_core::validation::is_dns1123_subdomain(name).first() {
        return Err(format!("TARGET: invalid name {name:?}: {why}"));
    }
    Ok((kind, name.to_string()))
}

fn parse_replicas(s: &str) -> Result<i64, String> {
    let n: i64 = s
        .trim()
        .parse()
        .map_err(|_| format!("--replicas: {s:?} is not an integer"))?;
    if n < 0 {
        return Err(format!("--replicas: must be non-negative, got {n}"));
    }
    if n > i64::from(i32::MAX) {
        return Err(format!("--replicas: {n} is too large"));
    }
    Ok(n)
}

/// Go-style durations as kubectl takes them: `0`, `90s`, `5m`, `1h30m`, `500ms`.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let bad = || format!("--timeout: invalid duration {s:?} (use e.g. 90s, 5m, 1h30m)");
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = s;
    let mut total = Duration::ZERO;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total += Duration::try_from_secs_f64(number * scale).map_err(|_| bad())?;
    }
    Ok(total)
}

fn timeout_text(d: Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_millis() != 0 || secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    let (h, m, s) = (secs / 3600, (secs / 60) % 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out += &format!("{h}h");
    }
    if m > 0 {
        out += &format!("{m}m");
    }
    if s > 0 || out.is_empty() {
        out += &format!("{s}s");
    }
    out
}

/// What a Deployment's status says about its rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Still going: kubectl's waiting message.
    Waiting(String),
    /// Finished.
    Done(String),
    /// Stuck past its progress deadline.
    Failed(String),
}

fn int_at(v: &Value, pointer: &str) -> i64 {
    v.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// kubectl's `DeploymentStatusViewer.Status`.
pub fn deployment_progress(d: &Value) -> Progress {
    let name = str_at(d, "/metadata/name");
    if int_at(d, "/metadata/generation") > int_at(d, "/status/observedGeneration") {
        return Progress::Waiting("Waiting for deployment spec update to be observed...".into());
    }
    let progressing = d
        .pointer("/status/conditions")
        .and_then(Value::as_array)
        .and_then(|cs| cs.iter().find(|c| c["type"] == "Progressing"));
    if progressing.is_some_and(|c| c["reason"] == "ProgressDeadlineExceeded") {
        return Progress::Failed(format!(
            "deployment {name:?} exceeded its progress deadline"
        ));
    }
    let desired = d
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    let replicas = int_at(d, "/status/replicas");
    let updated = int_at(d, "/status/updatedReplicas");
    let available = int_at(d, "/status/availableReplicas");
    let waiting = |what: String| {
        Progress::Waiting(format!(
            "Waiting for deployment {name:?} rollout to finish: {what}..."
        ))
    };
    if updated < desired {
        return waiting(format!(
            "{updated} out of {desired} new replicas have been updated"
        ));
    }
    if replicas > updated {
        return waiting(format!(
            "{} old replicas are pending termination",
            replicas - updated
        ));
    }
    if available < updated {
        return waiting(format!(
            "{available} of {updated} updated replicas are available"
        ));
    }
    Progress::Done(format!("deployment {name:?} successfully rolled out"))
}

fn revision_of(rs: &Value) -> Option<i64> {
    rs.pointer("/metadata/annotations")
        .and_then(|a| a.get(REVISION))
        .and_then(Value::as_str)
        .and_then(|r| r.parse().ok())
}

/// The ReplicaSets in `list` whose controller is the Deployment `d`.
pub fn owned_replicasets(d: &Value, list: &Value) -> Vec<Value> {
    let uid = str_at(d, "/metadata/uid");
    list["items"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|rs| {
                    rs.pointer("/metadata/ownerReferences")
                        .and_then(Value::as_array)
                        .is_some_and(|refs| {
                            refs.iter().any(|r| {
                                r["controller"] == true && r["uid"] == uid && !uid.is_empty()
                            })
                        })
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// `(revision, change-cause)` of each owned ReplicaSet, sorted by revision.
pub fn history(owned: &[Value]) -> Vec<(i64, String)> {
    let mut rows: Vec<(i64, String)> = owned
        .iter()
        .filter_map(|rs| {
            let rev = revision_of(rs)?;
            let cause = rs
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(CHANGE_CAUSE))
                .and_then(Value::as_str)
                .filter(|c| !c.is_empty())
                .unwrap_or("<none>")
                .to_string();
            Some((rev, cause))
        })
        .collect();
    rows.sort_by_key(|r| r.0);
    rows.dedup_by_key(|r| r.0);
    rows
}

/// kubectl's history table (without the `deployment.apps/NAME` heading).
pub fn history_table(rows: &[(i64, String)]) -> String {
    let width = rows
        .iter()
        .map(|r| r.0.to_string().len())
        .chain(std::iter::once("REVISION".len()))
        .max()
        .unwrap_or(8)
        + 2;
    let mut out = format!("{:<width$}CHANGE-CAUSE\n", "REVISION");
    for (rev, cause) in rows {
        out += &format!("{:<width$}{cause}\n", rev.to_string());
    }
    out
}

/// The ReplicaSet to roll back to: revision `to` (> 0), else the one before the newest.
pub fn rollback_target<'a>(name: &str, owned: &'a [Value], to: i64) -> anyhow::Result<&'a Value> {
    if to > 0 {
        return owned
            .iter()
            .find(|rs| revision_of(rs) == Some(to))
            .ok_or_else(|| anyhow!("unable to find specified revision {to} in history"));
    }
    let mut revs: Vec<(i64, &Value)> = owned
        .iter()
        .filter_map(|rs| revision_of(rs).map(|r| (r, rs)))
        .collect();
    revs.sort_by_key(|r| std::cmp::Reverse(r.0));
    revs.get(1)
        .map(|r| r.1)
        .ok_or_else(|| anyhow!("no rollout history found for deployment {name:?}"))
}

/// The template with the `pod-template-hash` label removed.
pub fn template_without_hash(template: &Value) -> Value {
    let mut t = template.clone();
    if let Some(labels) = t
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(HASH_LABEL);
    }
    t
}

/// The Deployment's annotations after a rollback to `rs`, as kubectl computes them.
fn rollback_annotations(d: &Value, rs: &Value) -> Value {
    let mut ann = d
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(from) = rs
        .pointer("/metadata/annotations")
        .and_then(Value::as_object)
    {
        for (k, v) in from {
            if !SKIP_ANNOTATIONS.contains(&k.as_str()) {
                ann.insert(k.clone(), v.clone());
            }
        }
    }
    Value::Object(ann)
}

fn get_json(client: &Client, path: &str) -> anyhow::Result<Value> {
    let r = client.get(path)?;
    if !r.ok() {
        bail!(server_error(&r, None));
    }
    r.json()
}

struct Target {
    kind: Kind,
    name: String,
    ns: String,
}

impl Target {
    fn path(&self) -> String {
        format!(
            "/apis/apps/v1/namespaces/{}/{}/{}",
            self.ns,
            self.kind.plural(),
            self.name
        )
    }
    fn display(&self) -> String {
        format!("{}/{}", self.kind.qualified(), self.name)
    }
}

fn resolve(client: &Client, args: &TargetArgs, verb: &str) -> anyhow::Result<Target> {
    let (kind, name) = parse_target(&args.target).map_err(|e| anyhow!(e))?;
    if kind != Kind::Deployment {
        bail!(
            "rollout {verb}: only deployments are supported, not {}",
            kind.plural()
        );
    }
    let ns = args
        .namespace
        .clone()
        .unwrap_or_else(|| client.namespace.clone());
    Ok(Target { kind, name, ns })
}

/// Runs `rollout SUBCOMMAND`.
pub fn run(args: RolloutArgs, kubeconfig: Option<&Path>) -> VerbResult {
    // Arguments are checked before connecting.
    let target = match &args.command {
        RolloutCommand::Status(a) => &a.target,
        RolloutCommand::History(a) | RolloutCommand::Restart(a) => a,
        RolloutCommand::Undo(a) => &a.target,
    };
    parse_target(&target.target).map_err(|e| anyhow!(e))?;
    let client = connect(kubeconfig)?;
    match args.command {
        RolloutCommand::Status(a) => status(&client, &a),
        RolloutCommand::History(a) => show_history(&client, &a),
        RolloutCommand::Undo(a) => undo(&client, &a),
        RolloutCommand::Restart(a) => restart(&client, &a),
    }
}

fn status(client: &Client, args: &StatusArgs) -> VerbResult {
    let t = resolve(client, &args.target, "status")?;
    let start = Instant::now();
    let mut last = String::new();
    loop {
        let d = get_json(client, &t.path())?;
        match deployment_progress(&d) {
            Progress::Done(msg) => {
                outln(&msg);
                return Ok(());
            }
            Progress::Failed(msg) => bail!(msg),
            Progress::Waiting(msg) => {
                if msg != last {
                    outln(&msg);
                    last = msg;
                }
            }
        }
        if !args.timeout.is_zero() && start.elapsed() >= args.timeout {
            bail!(
                "timed out after {} waiting for deployment {:?} rollout to finish",
                timeout_text(args.timeout),
                t.name
            );
        }
        let mut pause = Duration::from_millis(500);
        if !args.timeout.is_zero() {
            pause = pause.min(args.timeout.saturating_sub(start.elapsed()));
        }
        std::thread::sleep(pause);
    }
}

fn owned(client: &Client, t: &Target, d: &Value) -> anyhow::Result<Vec<Value>> {
    let list = get_json(
        client,
        &format!("/apis/apps/v1/namespaces/{}/replicasets", t.ns),
    )?;
    Ok(owned_replicasets(d, &list))
}

fn show_history(client: &Client, args: &TargetArgs) -> VerbResult {
    let t = resolve(client, args, "history")?;
    let d = get_json(client, &t.path())?;
    let rows = history(&owned(client, &t, &d)?);
    outln(&t.display());
    super::util::out(&history_table(&rows));
    outln("");
    Ok(())
}

fn undo(client: &Client, args: &UndoArgs) -> VerbResult {
    if args.to_revision < 0 {
        bail!(
            "--to-revision: must be non-negative, got {}",
            args.to_revision
        );
    }
    let t = resolve(client, &args.target, "undo")?;
    for _attempt in 0..5 {
        let d = get_json(client, &t.path())?;
        if d.pointer("/spec/paused") == Some(&json!(true)) {
            bail!(
                "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume deployment/{}' and try again",
                t.name
            );
        }
        let rss = owned(client, &t, &d)?;
        let rs = rollback_target(&t.name, &rss, args.to_revision)?;
        let template = template_without_hash(&rs["spec"]["template"]);
        if template_without_hash(&d["spec"]["template"]) == template {
            outln(&format!(
                "{} skipped rollback (current template already matches revision {})",
                t.display(),
                revision_of(rs).unwrap_or_default()
            ));
            return Ok(());
        }
        let patch = json!([
            {"op": "test", "path": "/metadata/resourceVersion",
             "value": str_at(&d, "/metadata/resourceVersion")},
            {"op": "replace", "path": "/spec/template", "value": template},
            {"op": "add", "path": "/metadata/annotations",
             "value": rollback_annotations(&d, rs)},
        ]);
        let r = client.send_json("PATCH", &t.path(), "application/json-patch+json", &patch)?;
        if r.ok() {
            outln(&format!("{} rolled back", t.display()));
            return Ok(());
        }
        // A failed `test` (422) or a conflict (409) means someone wrote in between: reread.
        if r.status != 409 && r.status != 422 {
            bail!(server_error(&r, None));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    bail!(
        "deployment {:?} kept changing; rollback not applied",
        t.name
    )
}

fn restart(client: &Client, args: &TargetArgs) -> VerbResult {
    let t = resolve(client, args, "restart")?;
    let d = get_json(client, &t.path())?;
    if d.pointer("/spec/paused") == Some(&json!(true)) {
        bail!("can't restart paused deployment (run rollout resume first)");
    }
    let patch = json!({"spec": {"template": {"metadata": {"annotations":
        {RESTARTED_AT: now().to_rfc3339()}}}}});
    let r = client.send_json(
        "PATCH",
        &t.path(),
        "application/strategic-merge-patch+json",
        &patch,
    )?;
    if !r.ok() {
        bail!(server_error(&r, None));
    }
    outln(&format!("{} restarted", t.display()));
    Ok(())
}

/// Runs `scale KIND/NAME --replicas N`.
pub fn scale(args: ScaleArgs, kubeconfig: Option<&Path>) -> VerbResult {
    let (kind, name) = parse_target(&args.target).map_err(|e| anyhow!(e))?;
    let client = connect(kubeconfig)?;
    let ns = args
        .namespace
        .clone()
        .unwrap_or_else(|| client.namespace.clone());
    let t = Target { kind, name, ns };
    let r = client.send_json(
        "PATCH",
        &format!("{}/scale", t.path()),
        "application/merge-patch+json",
        &json!({"spec": {"replicas": args.replicas}}),
    )?;
    if !r.ok() {
        bail!(server_error(&r, None));
    }
    outln(&format!("{} scaled", t.display()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deploy(gen: i64, observed: i64, spec: i64, st: [i64; 3], reason: &str) -> Value {
        json!({
            "metadata": {"name": "web", "generation": gen, "uid": "u1"},
            "spec": {"replicas": spec},
            "status": {"observedGeneration": observed, "replicas": st[0],
                       "updatedReplicas": st[1], "availableReplicas": st[2],
                       "conditions": [{"type": "Progressing", "status": "True", "reason": reason}]}
        })
    }

    #[test]
    fn status_follows_kubectl_rules() {
        let w = |s: &str| {
            Progress::Waiting(format!(
                "Waiting for deployment \"web\" rollout to finish: {s}..."
            ))
        };
        assert_eq!(
            deployment_progress(&deploy(3, 2, 3, [3, 3, 3], "NewReplicaSetAvailable")),
            Progress::Waiting("Waiting for deployment spec update to be observed...".into())
        );
        assert_eq!(
            deployment_progress(&deploy(2, 2, 6, [7, 2, 6], "ReplicaSetUpdated")),
            w("2 out of 6 new replicas have been updated")
        );
        assert_eq!(
            deployment_progress(&deploy(2, 2, 6, [7, 6, 6], "ReplicaSetUpdated")),
            w("1 old replicas are pending termination")
        );
        assert_eq!(
            deployment_progress(&deploy(2, 2, 6, [6, 6, 2], "ReplicaSetUpdated")),
            w("2 of 6 updated replicas are available")
        );
        assert_eq!(
            deployment_progress(&deploy(2, 3, 6, [6, 6, 6], "NewReplicaSetAvailable")),
            Progress::Done("deployment \"web\" successfully rolled out".into())
        );
        assert_eq!(
            deployment_progress(&deploy(2, 2, 6, [7, 2, 6], "ProgressDeadlineExceeded")),
            Progress::Failed("deployment \"web\" exceeded its progress deadline".into())
        );
        // Missing status counts as zero; missing spec.replicas defaults to 1.
        let bare = json!({"metadata": {"name": "web"}, "spec": {}});
        assert_eq!(
            deployment_progress(&bare),
            w("0 out of 1 new replicas have been updated")
        );
    }

    fn rs(name: &str, owner: &str, rev: Option<&str>, cause: Option<&str>, image: &str) -> Value {
        let mut ann = serde_json::Map::new();
        if let Some(r) = rev {
            ann.insert(REVISION.into(), json!(r));
        }
        if let Some(c) = cause {
            ann.insert(CHANGE_CAUSE.into(), json!(c));
        }
        json!({
            "metadata": {"name": name, "annotations": ann,
                         "ownerReferences": [{"kind": "Deployment", "name": "web", "uid": owner, "controller": true}]},
            "spec": {"template": {"metadata": {"labels": {"app": "web", HASH_LABEL: name}},
                                  "spec": {"containers": [{"name": "c", "image": image}]}}}
        })
    }

    #[test]
    fn history_table_from_owned_replicasets() {
        let d = deploy(1, 1, 3, [3, 3, 3], "");
        let list = json!({"items": [
            rs("b", "u1", Some("10"), Some("kubectl set image"), "b"),
            rs("a", "u1", Some("2"), None, "a"),
            rs("other", "u2", Some("1"), None, "x"),
            rs("c", "u1", Some("1"), Some(""), "c"),
        ]});
        let owned = owned_replicasets(&d, &list);
        assert_eq!(owned.len(), 3);
        let rows = history(&owned);
        assert_eq!(
            history_table(&rows),
            "REVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n10        kubectl set image\n"
        );
        assert_eq!(history_table(&[]), "REVISION  CHANGE-CAUSE\n");
    }

    #[test]
    fn rollback_picks_previous_or_named_revision() {
        let owned = vec![
            rs("a", "u1", Some("1"), None, "a"),
            rs("c", "u1", Some("3"), None, "c"),
            rs("b", "u1", Some("2"), None, "b"),
        ];
        assert_eq!(
            rollback_target("web", &owned, 0).unwrap()["metadata"]["name"],
            "b"
        );
        assert_eq!(
            rollback_target("web", &owned, 1).unwrap()["metadata"]["name"],
            "a"
        );
        assert_eq!(
            rollback_target("web", &owned, 7).unwrap_err().to_string(),
            "unable to find specified revision 7 in history"
        );
        assert_eq!(
            rollback_target("web", &owned[..1], 0)
                .unwrap_err()
                .to_string(),
            "no rollout history found for deployment \"web\""
        );
        let t = template_without_hash(&owned[0]["spec"]["template"]);
        assert_eq!(t["metadata"]["labels"], json!({"app": "web"}));
        let d = json!({"metadata": {"annotations": {REVISION: "3", "keep": "1"}}});
        let src = json!({"metadata": {"annotations": {REVISION: "1", CHANGE_CAUSE: "v1"}}});
        assert_eq!(
            rollback_annotations(&d, &src),
            json!({REVISION: "3", "keep": "1", CHANGE_CAUSE: "v1"})
        );
    }

    #[test]
    fn arguments_are_validated() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_target(&s(&["deployment/web"])),
            Ok((Kind::Deployment, "web".into()))
        );
        assert_eq!(
            parse_target(&s(&["deploy", "web"])),
            Ok((Kind::Deployment, "web".into()))
        );
        assert_eq!(
            parse_target(&s(&["rs/web-1"])),
            Ok((Kind::ReplicaSet, "web-1".into()))
        );
        for bad in [
            &["web"][..],
            &["pod/web"],
            &["deployment/"],
            &["deployment/Bad_Name"],
            &["deployment/a", "b"],
        ] {
            let e = parse_target(&s(bad)).unwrap_err();
            assert!(e.starts_with("TARGET"), "{bad:?}: {e}");
        }
        assert_eq!(parse_replicas("5"), Ok(5));
        assert!(parse_replicas("-1").unwrap_err().contains("--replicas"));
        assert!(parse_replicas("x").unwrap_err().contains("--replicas"));
        assert_eq!(parse_timeout("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_timeout("1h30m10s"), Ok(Duration::from_secs(5410)));
        assert_eq!(parse_timeout("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_timeout("0"), Ok(Duration::ZERO));
        for bad in ["", "5", "m", "5x", "-5s", "5m-"] {
            assert!(
                parse_timeout(bad).unwrap_err().contains("--timeout"),
                "{bad}"
            );
        }
        assert_eq!(timeout_text(Duration::from_secs(300)), "5m");
        assert_eq!(timeout_text(Duration::from_secs(5410)), "1h30m10s");
        assert_eq!(timeout_text(Duration::from_millis(1500)), "1500ms");
    }

    #[test]
    fn command_line_is_parsed() {
        use clap::Parser;
        let parse = |args: &[&str]| {
            crate::cli::Cli::try_parse_from(std::iter::once("capstan").chain(args.iter().copied()))
        };
        for ok in [
            &[
                "rollout",
                "status",
                "deployment/web",
                "--timeout",
                "5m",
                "-n",
                "dev",
            ][..],
            &["rollout", "history", "deploy", "web"],
            &["rollout", "undo", "deployment/web", "--to-revision", "2"],
            &["rollout", "restart", "deployment/web"],
            &["scale", "deployment/web", "--replicas", "0"],
            &["scale", "replicaset", "web-1", "--replicas=3"],
        ] {
            assert!(parse(ok).is_ok(), "{ok:?}: {:?}", parse(ok).err());
        }
        for (bad, want) in [
            (
                &["rollout", "status", "deployment/web", "--timeout", "5y"][..],
                "--timeout",
            ),
            (
                &["scale", "deployment/web", "--replicas", "-1"],
                "--replicas",
            ),
            (&["scale", "deployment/web"], "--replicas"),
            (&["rollout", "status"], "TARGET"),
            (
                &["rollout", "undo", "deployment/web", "--to-revision", "x"],
                "--to-revision",
            ),
        ] {
            let err = parse(bad).expect_err("must be rejected").to_string();
            assert!(err.contains(want), "{bad:?}: {err}");
        }
    }
}
