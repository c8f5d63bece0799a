use super::*;
use serde_json::json;

/// A parse case: `want` is the requirements as `(field, op, value)`, or an error fragment.
struct Case {
    name: &'static str,
    input: &'static str,
    want: Result<Vec<(&'static str, FieldOp, &'static str)>, &'static str>,
}

fn check(case: &Case) {
    let got = parse_field_selector(case.input);
    match (&got, &case.want) {
        (Ok(sel), Ok(want)) => {
            let got: Vec<(&str, FieldOp, &str)> = sel
                .requirements()
                .iter()
                .map(|r| (r.field.as_str(), r.op, r.value.as_str()))
                .collect();
            assert_eq!(&got, want, "case {}", case.name);
            // The canonical form parses back to the same selector.
            assert_eq!(
                parse_field_selector(&sel.to_string()).as_ref(),
                Ok(sel),
                "case {} round trip",
                case.name
            );
        }
        (Err(err), Err(fragment)) => {
            let msg = err.to_string();
            assert!(
                msg.contains(fragment),
                "case {}: error {msg:?} lacks {fragment:?}",
                case.name
            );
        }
        _ => panic!(
            "case {} ({:?}): got {got:?}, want {:?}",
            case.name, case.input, case.want
        ),
    }
}

#[test]
fn parse_table() {
    use FieldOp::{Equals as Eq, NotEquals as Ne};
    let cases = [
        Case {
            name: "empty",
            input: "",
            want: Ok(vec![]),
        },
        Case {
            name: "only commas",
            input: " , ,",
            want: Ok(vec![]),
        },
        Case {
            name: "equals",
            input: "metadata.name=foo",
            want: Ok(vec![("metadata.name", Eq, "foo")]),
        },
        Case {
            name: "double equals",
            input: "metadata.name==foo",
            want: Ok(vec![("metadata.name", Eq, "foo")]),
        },
        Case {
            name: "not equals",
            input: "status.phase!=Running",
            want: Ok(vec![("status.phase", Ne, "Running")]),
        },
        Case {
            name: "empty value",
            input: "spec.nodeName=",
            want: Ok(vec![("spec.nodeName", Eq, "")]),
        },
        Case {
            name: "empty not equals",
            input: "spec.nodeName!=",
            want: Ok(vec![("spec.nodeName", Ne, "")]),
        },
        Case {
            name: "sorted",
            input: "b=1,a!=2",
            want: Ok(vec![("a", Ne, "2"), ("b", Eq, "1")]),
        },
        Case {
            name: "whitespace",
            input: " a = b , c!= d ",
            want: Ok(vec![("a", Eq, "b"), ("c", Ne, "d")]),
        },
        Case {
            name: "escaped comma",
            input: r"a=x\,y",
            want: Ok(vec![("a", Eq, "x,y")]),
        },
        Case {
            name: "escaped equals",
            input: r"a=\=",
            want: Ok(vec![("a", Eq, "=")]),
        },
        Case {
            name: "escaped backslash",
            input: r"a=\\",
            want: Ok(vec![("a", Eq, "\\")]),
        },
        Case {
            name: "escaped backslash then comma",
            input: r"a=\\,b=c",
            want: Ok(vec![("a", Eq, "\\"), ("b", Eq, "c")]),
        },
        Case {
            name: "bang in value",
            input: "a=!b",
            want: Ok(vec![("a", Eq, "!b")]),
        },
        Case {
            name: "same field twice",
            input: "a!=x,a!=y",
            want: Ok(vec![("a", Ne, "x"), ("a", Ne, "y")]),
        },
        Case {
            name: "empty term skipped",
            input: "a=b,,c=d",
            want: Ok(vec![("a", Eq, "b"), ("c", Eq, "d")]),
        },
        // Errors.
        Case {
            name: "no operator",
            input: "metadata.name",
            want: Err("invalid selector: 'metadata.name'; can't understand 'metadata.name'"),
        },
        Case {
            name: "no field",
            input: "=b",
            want: Err("can't understand '=b'"),
        },
        Case {
            name: "blank field",
            input: " != b",
            want: Err("can't understand '!= b'"),
        },
        Case {
            name: "unescaped equals",
            input: "a=b=c",
            want: Err("unescaped character in value: '='"),
        },
        Case {
            name: "triple equals",
            input: "a===b",
            want: Err("unescaped character in value: '='"),
        },
        Case {
            name: "bad escape",
            input: r"a=\q",
            want: Err(r"invalid escape sequence: \q"),
        },
        Case {
            name: "trailing backslash",
            input: "a=b\\",
            want: Err("invalid escape sequence: \\"),
        },
        Case {
            name: "one bad term",
            input: "a=b,c",
            want: Err("invalid selector: 'a=b,c'; can't understand 'c'"),
        },
    ];
    for case in &cases {
        check(case);
    }
}

#[test]
fn display_is_canonical_and_escaped() {
    let cases: &[(&str, &str)] = &[
        ("", ""),
        ("b==1, a!=2", "a!=2,b=1"),
        (r"a=x\,y\=z\\", r"a=x\,y\=z\\"),
        ("spec.nodeName=", "spec.nodeName="),
    ];
    for (input, want) in cases {
        assert_eq!(
            parse_field_selector(input).unwrap().to_string(),
            *want,
            "{input:?}"
        );
    }
    assert_eq!(escape_value(r"a,b=c\d"), r"a\,b\=c\\d");
    assert_eq!(unescape_value(r"a\,b\=c\\d").as_deref(), Ok(r"a,b=c\d"));
}

#[test]
fn matches_table() {
    let scheduled = json!({
        "metadata": {"name": "web-1", "namespace": "default"},
        "spec": {"nodeName": "node-1", "priority": 5},
        "status": {"phase": "Running"}
    });
    let pending = json!({
        "metadata": {"name": "web-2", "namespace": "default"},
        "spec": {},
        "status": {"phase": "Pending"}
    });
    let cases: &[(&str, bool, bool)] = &[
        // (selector, matches scheduled, matches pending)
        ("", true, true),
        ("metadata.name=web-1", true, false),
        ("metadata.name!=web-1", false, true),
        ("spec.nodeName=", false, true),
        ("spec.nodeName!=", true, false),
        ("spec.nodeName=node-1", true, false),
        ("status.phase!=Running", false, true),
        ("status.phase!=Succeeded,status.phase!=Failed", true, true),
        (
            "metadata.namespace=default,metadata.name=web-2",
            false,
            true,
        ),
        ("metadata.namespace=other", false, false),
        ("spec.priority=5", true, false),
        ("no.such.field=", true, true),
    ];
    for (input, want_scheduled, want_pending) in cases {
        let sel = parse_field_selector(input).unwrap();
        assert_eq!(
            sel.matches(|f| field_value(&scheduled, f)),
            *want_scheduled,
            "{input:?} scheduled"
        );
        assert_eq!(
            sel.matches(|f| field_value(&pending, f)),
            *want_pending,
            "{input:?} pending"
        );
    }
    assert!(FieldSelector::everything().matches(|_| None));
    assert!(FieldSelector::everything().is_everything());
}

#[test]
fn fields_and_exact_match() {
    let sel: FieldSelector = "spec.nodeName=n1,status.phase!=Failed,metadata.name=x"
        .parse()
        .unwrap();
    let fields: Vec<&str> = sel.fields().collect();
    assert_eq!(fields, ["metadata.name", "spec.nodeName", "status.phase"]);
    assert_eq!(sel.requires_exact_match("spec.nodeName"), Some("n1"));
    assert_eq!(sel.requires_exact_match("status.phase"), None);
    assert_eq!(sel.requires_exact_match("metadata.namespace"), None);
    let built = FieldSelector::from_requirements(vec![FieldRequirement {
        field: "spec.nodeName".into(),
        op: FieldOp::Equals,
        value: "n,1".into(),
    }]);
    assert_eq!(built.to_string(), r"spec.nodeName=n\,1");
}

#[test]
fn field_value_table() {
    let obj = json!({
        "metadata": {"name": "n1", "namespace": "", "labels": {"a.b/c": "d"}},
        "spec": {"unschedulable": true, "replicas": 3, "ratio": 0.5, "taints": [], "empty": null},
        "involvedObject": {"name": "pod-1", "kind": "Pod"},
        "type": "Warning"
    });
    let cases: &[(&str, Option<&str>)] = &[
        ("metadata.name", Some("n1")),
        ("metadata.namespace", Some("")),
        ("spec.unschedulable", Some("true")),
        ("spec.replicas", Some("3")),
        ("spec.ratio", Some("0.5")),
        ("involvedObject.name", Some("pod-1")),
        ("involvedObject.kind", Some("Pod")),
        ("type", Some("Warning")),
        ("spec.empty", None),
        ("spec.taints", None),
        ("metadata", None),
        ("metadata.uid", None),
        ("type.sub", None),
        ("spec.taints.0", None),
        ("", None),
    ];
    for (field, want) in cases {
        assert_eq!(
            field_value(&obj, field).as_deref(),
            *want,
            "field {field:?}"
        );
    }
    assert_eq!(field_value(&json!("scalar"), "a"), None);
}
