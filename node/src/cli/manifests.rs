//! `-f FILE|DIR|-`: reading manifest files (size-limited) and resolving each document to a
//! served resource, namespace and name.

use super::util::{check_name, parse_namespace};
use capstan_core::decode::parse_manifests;
use capstan_core::kinds::{self, ResourceKind};
use serde_json::{json, Value};
use std::io::Read;
use std::path::Path;

/// The largest manifest file (or stdin) read.
pub const MAX_FILE: u64 = 8 * 1024 * 1024;

/// One input file's documents, or why it could not be read.
#[derive(Debug)]
pub struct Source {
    /// The name errors use (`pod.yaml`, `dir/a.yaml`, `STDIN`).
    pub name: String,
    /// Its documents.
    pub docs: Result<Vec<Value>, String>,
}

/// Every file named by the `-f` arguments, in order; directories contribute their
/// `*.yaml|*.yml|*.json` files, sorted by name.
pub fn read_sources(args: &[String]) -> Vec<Source> {
    let mut out = Vec::new();
    for arg in args {
        if arg == "-" {
            let text = read_limited(std::io::stdin().lock(), "STDIN");
            out.push(Source {
                name: "STDIN".into(),
                docs: text.and_then(|t| parse(&t, "STDIN")),
            });
            continue;
        }
        let path = Path::new(arg);
        if path.is_dir() {
            match dir_files(path) {
                Ok(files) if files.is_empty() => out.push(Source {
                    name: arg.clone(),
                    docs: Err(format!("error: no objects passed to the command: {arg:?} holds no .yaml, .yml or .json files")),
                }),
                Ok(files) => {
                    for f in files {
                        let name = f.display().to_string();
                        out.push(Source { docs: read_file(&f, &name), name });
                    }
                }
                Err(e) => out.push(Source { name: arg.clone(), docs: Err(e) }),
            }
        } else {
            out.push(Source {
                name: arg.clone(),
                docs: read_file(path, arg),
            });
        }
    }
    out
}

fn dir_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("error: reading directory {:?}: {e}", dir.display()))?;
    let mut files = Vec::new();
    for e in entries {
        let e = e.map_err(|e| format!("error: reading directory {:?}: {e}", dir.display()))?;
        let p = e.path();
        let manifest_ext = p
            .extension()
            .and_then(|x| x.to_str())
            .is_some_and(|x| matches!(x, "yaml" | "yml" | "json"));
        if manifest_ext && p.is_file() {
            files.push(p);
        }
    }
    files.sort();
    Ok(files)
}

fn read_file(path: &Path, name: &str) -> Result<Vec<Value>, String> {
    let f = std::fs::File::open(path)
        .map_err(|e| format!("error: the path {name:?} cannot be read: {e}"))?;
    let text = read_limited(f, name)?;
    parse(&text, name)
}

fn read_limited(r: impl Read, name: &str) -> Result<String, String> {
    let mut buf = Vec::new();
    r.take(MAX_FILE + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("error: reading {name:?}: {e}"))?;
    if buf.len() as u64 > MAX_FILE {
        return Err(format!(
            "error: {name:?} is larger than the 8 MiB limit for a manifest file"
        ));
    }
    String::from_utf8(buf).map_err(|_| format!("error: {name:?} is not UTF-8 text"))
}

fn parse(text: &str, name: &str) -> Result<Vec<Value>, String> {
    parse_manifests(text).map_err(|e| format!("error: error parsing {name}: {e}"))
}

/// A document resolved to where it lives on the server.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// Its resource.
    pub resource: &'static ResourceKind,
    /// Its namespace (`""` for cluster-scoped kinds).
    pub namespace: String,
    /// Its name.
    pub name: String,
    /// The document, with `metadata.namespace` filled in for namespaced kinds.
    pub object: Value,
}

impl Manifest {
    /// The object's REST path.
    pub fn path(&self) -> String {
        self.resource.object_path(&self.namespace, &self.name)
    }

    /// `pod/web`, `deployment.apps/web`.
    pub fn display(&self) -> String {
        format!("{}/{}", self.resource.qualified_singular(), self.name)
    }
}

/// Resolves one document of `file`: kind (must be served), namespace (the document's, else
/// `-n`, else the context default) and name. Errors read like kubectl's.
pub fn resolve(
    mut doc: Value,
    file: &str,
    ns_flag: Option<&str>,
    ns_default: &str,
) -> Result<Manifest, String> {
    let api_version = doc
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let kind = doc
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let mut missing = Vec::new();
    if api_version.is_empty() {
        missing.push("apiVersion not set");
    }
    if kind.is_empty() {
        missing.push("kind not set");
    }
    if !missing.is_empty() {
        return Err(format!(
            "error: error validating {file:?}: error validating data: [{}]",
            missing.join(", ")
        ));
    }
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let doc_ns = doc
        .pointer("/metadata/namespace")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let Some(resource) = kinds::by_kind(&api_version, &kind) else {
        return Err(format!(
            "error: resource mapping not found for name: {name:?} namespace: {doc_ns:?} from {file:?}: no matches for kind {kind:?} in version {api_version:?}"
        ));
    };
    if name.is_empty() {
        return Err(format!(
            "error: {kind} in {file:?}: resource name may not be empty (metadata.name)"
        ));
    }
    check_name(&name).map_err(|e| format!("error: {kind} in {file:?}: {e}"))?;
    let namespace = if resource.namespaced {
        let ns = match (doc_ns.as_str(), ns_flag) {
            ("", Some(flag)) => flag.to_string(),
            ("", None) => ns_default.to_string(),
            (d, Some(flag)) if d != flag => {
                return Err(format!(
                    "error: the namespace from the provided object {d:?} does not match the namespace {flag:?}. You must pass '--namespace={d}' to perform this operation."
                ))
            }
            (d, _) => d.to_string(),
        };
        parse_namespace(&ns).map_err(|e| format!("error: {kind} {name:?} in {file:?}: {e}"))?;
        if let Some(meta) = doc.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("namespace".into(), json!(ns));
        }
        ns
    } else {
        String::new()
    };
    Ok(Manifest {
        resource,
        namespace,
        name,
        object: doc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (document, -n flag, Ok((kind, namespace, name)) or Err(message))
    type Case = (
        Value,
        Option<&'static str>,
        Result<(&'static str, &'static str, &'static str), &'static str>,
    );

    #[test]
    fn documents_resolve_or_explain() {
        let cases: Vec<Case> = vec![
            (json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}}), None, Ok(("Pod", "default", "web"))),
            (json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"}}), Some("dev"), Ok(("Pod", "dev", "web"))),
            (
                json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "prod"}}),
                None,
                Ok(("Deployment", "prod", "d")),
            ),
            (json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}), Some("dev"), Ok(("Node", "", "n1"))),
            (
                json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}),
                None,
                Err("error: resource mapping not found for name: \"w\" namespace: \"\" from \"f.yaml\": no matches for kind \"Widget\" in version \"example.com/v1\""),
            ),
            (
                json!({"apiVersion": "v1", "kind": "Deployment", "metadata": {"name": "d"}}),
                None,
                Err("error: resource mapping not found for name: \"d\" namespace: \"\" from \"f.yaml\": no matches for kind \"Deployment\" in version \"v1\""),
            ),
            (
                json!({"metadata": {"name": "x"}}),
                None,
                Err("error: error validating \"f.yaml\": error validating data: [apiVersion not set, kind not set]"),
            ),
            (
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}}),
                None,
                Err("error: Pod in \"f.yaml\": resource name may not be empty (metadata.name)"),
            ),
            (
                json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web", "namespace": "a"}}),
                Some("b"),
                Err("error: the namespace from the provided object \"a\" does not match the namespace \"b\". You must pass '--namespace=a' to perform this operation."),
            ),
        ];
        for (doc, flag, want) in cases {
            let got = resolve(doc.clone(), "f.yaml", flag, "default");
            match (got, want) {
                (Ok(m), Ok((kind, ns, name))) => {
                    assert_eq!(
                        (m.resource.kind, m.namespace.as_str(), m.name.as_str()),
                        (kind, ns, name),
                        "{doc}"
                    );
                    if !ns.is_empty() {
                        assert_eq!(m.object["metadata"]["namespace"], ns);
                    }
                }
                (Err(e), Err(w)) => assert_eq!(e, w, "{doc}"),
                (got, want) => panic!("{doc}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn directories_are_sorted_and_files_size_limited() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |n: &str, t: &str| std::fs::write(dir.path().join(n), t).expect("write");
        write(
            "b.yaml",
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: b\n",
        );
        write(
            "a.json",
            r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a"}}"#,
        );
        write("notes.txt", "ignored");
        write("c.yml", "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: c1\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: c2\n");
        let arg = dir.path().display().to_string();
        let sources = read_sources(std::slice::from_ref(&arg));
        let names: Vec<String> = sources
            .iter()
            .flat_map(|s| {
                s.docs.as_ref().expect("parsed").iter().map(|d| {
                    d["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                })
            })
            .collect();
        assert_eq!(names, vec!["a", "b", "c1", "c2"]);

        let big = dir.path().join("big.yaml");
        std::fs::write(&big, vec![b'#'; (MAX_FILE + 1) as usize]).expect("write big");
        let sources = read_sources(&[big.display().to_string()]);
        let err = sources[0].docs.as_ref().expect_err("too big");
        assert!(err.contains("larger than the 8 MiB limit"), "{err}");
    }
}
