//! Helpers shared by the verbs: argument validators, query strings, server error text, the clock.

use crate::client::{Client, Response};
use capstan_core::kinds::{self, ResourceKind};
use capstan_core::time::Timestamp;
use serde_json::Value;
use std::fmt;

/// An error that has already been printed to stderr; the verb only needs to exit non-zero.
#[derive(Debug)]
pub struct Reported;

impl fmt::Display for Reported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("errors were reported")
    }
}

impl std::error::Error for Reported {}

/// What a verb returns: `Err(Reported)` after printing its own errors.
pub type VerbResult = anyhow::Result<()>;

/// Turns "did any item fail" into the verb's result.
pub fn finish(failed: bool) -> VerbResult {
    if failed {
        Err(Reported.into())
    } else {
        Ok(())
    }
}

/// Writes `text` to stdout and flushes; exits quietly when stdout is gone (a closed pipe).
pub fn out(text: &str) {
    use std::io::Write;
    let mut so = std::io::stdout().lock();
    if so
        .write_all(text.as_bytes())
        .and_then(|()| so.flush())
        .is_err()
    {
        std::process::exit(1);
    }
}

/// Writes one line to stdout.
pub fn outln(line: &str) {
    out(&format!("{line}\n"));
}

/// Prints an error to stderr with kubectl's prefix (`error: ` unless it is a server error).
pub fn report(e: &anyhow::Error) {
    eprintln!("{}", error_line(&format!("{e:#}")));
}

/// `error: msg`, unless `msg` already says `Error from server` or `error:`.
pub fn error_line(msg: &str) -> String {
    if msg.starts_with("Error from server") || msg.starts_with("error:") {
        msg.to_string()
    } else {
        format!("error: {msg}")
    }
}

/// The clock, as core's timestamps.
pub fn now() -> Timestamp {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    Timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
}

/// Connects to the cluster named by `--kubeconfig` (or its defaults).
pub fn connect(kubeconfig: Option<&std::path::Path>) -> anyhow::Result<Client> {
    let path = crate::kubeconfig::locate(kubeconfig);
    Client::from_kubeconfig(&path)
}

/// clap validator for `-n/--namespace`: an RFC 1123 DNS label.
pub fn parse_namespace(s: &str) -> Result<String, String> {
    let problems = dns_label_problems(s);
    if problems.is_empty() {
        Ok(s.to_string())
    } else {
        Err(format!("invalid namespace {s:?}: {problems}"))
    }
}

fn dns_label_problems(s: &str) -> String {
    if s.is_empty() {
        return "must not be empty".into();
    }
    if s.len() > 63 {
        return "must be no more than 63 characters".into();
    }
    let ok_chars = s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let ok_ends = s.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && s.bytes().last().is_some_and(|b| b.is_ascii_alphanumeric());
    if ok_chars && ok_ends {
        String::new()
    } else {
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc')".into()
    }
}

/// Checks an object name given on the command line or in a manifest: it goes into a URL path,
/// so only the characters Kubernetes names may hold are accepted.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("resource name may not be empty".into());
    }
    if name.len() > 253 {
        return Err(format!(
            "invalid resource name {name:?}: must be no more than 253 characters"
        ));
    }
    if name == "." || name == ".." {
        return Err(format!(
            "invalid resource name {name:?}: may not be '.' or '..'"
        ));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b':'))
    {
        return Err(format!(
            "invalid resource name {name:?}: may only contain letters, digits, '-', '.', '_' and ':'"
        ));
    }
    Ok(())
}

/// clap validator for `-f`: `-` (stdin) or a path that exists.
pub fn parse_file_arg(s: &str) -> Result<String, String> {
    if s == "-" || std::path::Path::new(s).exists() {
        Ok(s.to_string())
    } else if s.is_empty() {
        Err("the filename must not be empty".into())
    } else {
        Err(format!("the path {s:?} does not exist"))
    }
}

/// The resource a command-line kind names, or kubectl's error.
pub fn resolve_kind(alias: &str) -> anyhow::Result<&'static ResourceKind> {
    kinds::by_alias(alias)
        .ok_or_else(|| anyhow::anyhow!("the server doesn't have a resource type {alias:?}"))
}

/// The kinds a command-line spec names: one alias, comma-separated aliases (`pods,svc`) or
/// `all` (every kind in the `all` category), without repeats.
pub fn resolve_kinds(spec: &str) -> anyhow::Result<Vec<&'static ResourceKind>> {
    let mut out: Vec<&'static ResourceKind> = Vec::new();
    for part in spec.split(',') {
        let found: Vec<&'static ResourceKind> = if part.eq_ignore_ascii_case("all") {
            kinds::RESOURCES
                .iter()
                .filter(|r| r.categories.contains(&"all"))
                .collect()
        } else if part.is_empty() {
            anyhow::bail!("invalid resource type list {spec:?}: empty name between commas");
        } else {
            vec![resolve_kind(part)?]
        };
        for r in found {
            if !out.contains(&r) {
                out.push(r);
            }
        }
    }
    Ok(out)
}

const SLASH_FORM: &str = "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'capstan get resource/<resource_name>' instead of 'capstan get resource resource/<resource_name>')";

/// `KIND[,KIND...] NAME...` or `KIND/NAME...` on the command line → (resource, names); names
/// may be empty only in the first form.
pub fn parse_targets(args: &[String]) -> anyhow::Result<Vec<(&'static ResourceKind, Vec<String>)>> {
    let Some(first) = args.first() else {
        anyhow::bail!("you must specify the type of resource");
    };
    let mut out: Vec<(&'static ResourceKind, Vec<String>)> = Vec::new();
    if first.contains('/') {
        for a in args {
            let Some((k, n)) = a.split_once('/') else {
                anyhow::bail!(SLASH_FORM);
            };
            let r = resolve_kind(k)?;
            check_name(n).map_err(anyhow::Error::msg)?;
            match out.iter_mut().find(|(rk, _)| *rk == r) {
                Some((_, names)) => names.push(n.to_string()),
                None => out.push((r, vec![n.to_string()])),
            }
        }
    } else {
        let mut names = Vec::new();
        for n in &args[1..] {
            if n.contains('/') {
                anyhow::bail!(SLASH_FORM);
            }
            check_name(n).map_err(anyhow::Error::msg)?;
            names.push(n.clone());
        }
        for r in resolve_kinds(first)? {
            out.push((r, names.clone()));
        }
    }
    Ok(out)
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved characters).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `path?k=v&k2=v2` with encoded values; empty values are left out.
pub fn with_query(path: &str, params: &[(&str, &str)]) -> String {
    let q: Vec<String> = params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v)))
        .collect();
    if q.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", q.join("&"))
    }
}

/// `Error from server (Reason): <context>: message` (the context like kubectl's
/// `error when creating "pod.yaml"`), or the plain error text when the body is not a Status.
pub fn server_error(resp: &Response, context: Option<&str>) -> String {
    let ctx = match context {
        Some(c) if resp.status != 401 => c,
        _ => return resp.error_text(),
    };
    match serde_json::from_slice::<Value>(&resp.body) {
        Ok(v) if v.get("kind").and_then(Value::as_str) == Some("Status") => {
            let reason = v.get("reason").and_then(Value::as_str).unwrap_or("Unknown");
            let msg = v.get("message").and_then(Value::as_str).unwrap_or_default();
            format!("Error from server ({reason}): {ctx}: {msg}")
        }
        _ => format!(
            "error: {ctx}: the server answered {}: {}",
            resp.status,
            String::from_utf8_lossy(&resp.body)
        ),
    }
}

/// Prints the server's `Warning` headers like kubectl.
pub fn print_warnings(resp: &Response) {
    for w in &resp.warnings {
        eprintln!("Warning: {w}");
    }
}

/// A string field by JSON pointer, or "".
pub fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_must_be_dns_labels() {
        for (ns, ok) in [
            ("default", true),
            ("kube-system", true),
            ("a1", true),
            ("Bad", false),
            ("-x", false),
            ("", false),
            ("a_b", false),
        ] {
            assert_eq!(parse_namespace(ns).is_ok(), ok, "{ns:?}");
        }
        let long = "a".repeat(64);
        assert!(parse_namespace(&long).is_err());
    }

    #[test]
    fn names_are_url_safe() {
        for (n, ok) in [
            ("web", true),
            ("node1.example.com", true),
            ("a/b", false),
            ("a b", false),
            ("..", false),
            ("", false),
            ("x?y", false),
        ] {
            assert_eq!(check_name(n).is_ok(), ok, "{n:?}");
        }
    }

    #[test]
    fn targets_parse_both_forms() {
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let t = parse_targets(&args(&["po", "a", "b"])).expect("kind names");
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].0.kind, "Pod");
        assert_eq!(t[0].1, vec!["a", "b"]);
        let t = parse_targets(&args(&["pod/a", "deploy/b", "pods/c"])).expect("slash form");
        assert_eq!(
            t.iter().map(|(r, n)| (r.kind, n.len())).collect::<Vec<_>>(),
            vec![("Pod", 2), ("Deployment", 1)]
        );
        let err = parse_targets(&args(&["widgets"])).expect_err("unknown kind");
        assert_eq!(
            err.to_string(),
            "the server doesn't have a resource type \"widgets\""
        );
        assert!(parse_targets(&args(&["pod", "pod/a"])).is_err());
        let t = parse_targets(&args(&["po,svc,pods"])).expect("comma list");
        assert_eq!(
            t.iter().map(|(r, _)| r.kind).collect::<Vec<_>>(),
            vec!["Pod", "Service"]
        );
        let t = parse_targets(&args(&["all"])).expect("all");
        assert_eq!(
            t.iter().map(|(r, _)| r.kind).collect::<Vec<_>>(),
            vec!["Pod", "Service", "Deployment", "ReplicaSet"]
        );
        assert!(parse_targets(&args(&["po,,svc"])).is_err());
        assert!(parse_targets(&args(&["po,widgets"])).is_err());
        assert!(parse_targets(&args(&[])).is_err());
    }

    #[test]
    fn queries_are_encoded() {
        assert_eq!(
            with_query(
                "/api/v1/pods",
                &[
                    ("labelSelector", "app in (a,b)"),
                    ("fieldSelector", ""),
                    ("watch", "true")
                ]
            ),
            "/api/v1/pods?labelSelector=app%20in%20%28a%2Cb%29&watch=true"
        );
        assert_eq!(with_query("/x", &[]), "/x");
    }

    #[test]
    fn server_errors_carry_context() {
        let resp = Response {
            status: 400,
            body: br#"{"kind":"Status","reason":"BadRequest","message":"bad things"}"#.to_vec(),
            warnings: vec![],
        };
        assert_eq!(
            server_error(&resp, Some("error when creating \"pod.yaml\"")),
            "Error from server (BadRequest): error when creating \"pod.yaml\": bad things"
        );
        assert_eq!(
            server_error(&resp, None),
            "Error from server (BadRequest): bad things"
        );
    }
}
