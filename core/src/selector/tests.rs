use super::*;

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A parse case: `want` is the canonical string form, or a fragment of the error message.
struct Case {
    name: &'static str,
    input: &'static str,
    want: Result<&'static str, &'static str>,
}

fn check(case: &Case) {
    let got = parse_label_selector(case.input);
    match (&got, &case.want) {
        (Ok(sel), Ok(want)) => {
            assert_eq!(sel.to_string(), *want, "case {}", case.name);
            // The canonical form parses back to the same selector.
            assert_eq!(
                parse_label_selector(want).as_ref(),
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
    let long_value = format!("a={}", "v".repeat(64));
    let long_value: &'static str = Box::leak(long_value.into_boxed_str());
    let cases = [
        Case {
            name: "empty",
            input: "",
            want: Ok(""),
        },
        Case {
            name: "blank",
            input: "   ",
            want: Ok(""),
        },
        Case {
            name: "equals",
            input: "app=web",
            want: Ok("app=web"),
        },
        Case {
            name: "double equals",
            input: "app==web",
            want: Ok("app=web"),
        },
        Case {
            name: "not equals",
            input: "app!=web",
            want: Ok("app!=web"),
        },
        Case {
            name: "spaces",
            input: "  app = web ,  tier != db ",
            want: Ok("app=web,tier!=db"),
        },
        Case {
            name: "empty value",
            input: "app=",
            want: Ok("app="),
        },
        Case {
            name: "empty value then more",
            input: "app=,b",
            want: Ok("app=,b"),
        },
        Case {
            name: "in",
            input: "tier in (b, a)",
            want: Ok("tier in (a,b)"),
        },
        Case {
            name: "in no space",
            input: "tier in(a)",
            want: Ok("tier in (a)"),
        },
        Case {
            name: "notin dedup",
            input: "tier notin (x, y,x)",
            want: Ok("tier notin (x,y)"),
        },
        Case {
            name: "exists",
            input: "app",
            want: Ok("app"),
        },
        Case {
            name: "does not exist",
            input: "!app",
            want: Ok("!app"),
        },
        Case {
            name: "bang space",
            input: "! app",
            want: Ok("!app"),
        },
        Case {
            name: "sorted by key",
            input: "tier in (a,b),app=web",
            want: Ok("app=web,tier in (a,b)"),
        },
        Case {
            name: "all ops",
            input: "a,!b,c=1,d!=2,e in (3),f notin (4)",
            want: Ok("a,!b,c=1,d!=2,e in (3),f notin (4)"),
        },
        Case {
            name: "qualified key",
            input: "app.kubernetes.io/name=web",
            want: Ok("app.kubernetes.io/name=web"),
        },
        Case {
            name: "keyword as key",
            input: "in=notin",
            want: Ok("in=notin"),
        },
        Case {
            name: "keyword as value",
            input: "a in (in,notin)",
            want: Ok("a in (in,notin)"),
        },
        Case {
            name: "empty set",
            input: "a in ()",
            want: Ok("a in ()"),
        },
        Case {
            name: "empty member",
            input: "a in (x,,y)",
            want: Ok("a in (,x,y)"),
        },
        Case {
            name: "value chars",
            input: "a=A-b_c.9",
            want: Ok("a=A-b_c.9"),
        },
        // Bad syntax.
        Case {
            name: "missing value set",
            input: "a in",
            want: Err("found 'end of string', expected: '('"),
        },
        Case {
            name: "unclosed set",
            input: "a in (x",
            want: Err("expected: ',' or ')'"),
        },
        Case {
            name: "set without parens",
            input: "a in x",
            want: Err("found 'x', expected: '('"),
        },
        Case {
            name: "set missing comma",
            input: "a in (x y)",
            want: Err("found 'y', expected: ',' or ')'"),
        },
        Case {
            name: "paren as value",
            input: "a=(b)",
            want: Err("found '(', expected: identifier"),
        },
        Case {
            name: "no key",
            input: "=b",
            want: Err("found '=', expected: !, identifier"),
        },
        Case {
            name: "double comma",
            input: "a,,b",
            want: Err("found ',', expected: identifier after ','"),
        },
        Case {
            name: "trailing comma",
            input: "a,",
            want: Err("expected: identifier after ','"),
        },
        Case {
            name: "leading comma",
            input: ",a",
            want: Err("found ','"),
        },
        Case {
            name: "two words",
            input: "a b",
            want: Err("found 'b', expected: in, notin, =, ==, !="),
        },
        Case {
            name: "two values",
            input: "a=b c",
            want: Err("found 'c', expected: ',' or 'end of string'"),
        },
        Case {
            name: "chained equals",
            input: "a=b=c",
            want: Err("found '=', expected: ',' or 'end of string'"),
        },
        Case {
            name: "negated with value",
            input: "!a=b",
            want: Err("found '=', expected: ',' or 'end of string'"),
        },
        Case {
            name: "bang alone",
            input: "!",
            want: Err("found 'end of string', expected: identifier"),
        },
        Case {
            name: "greater than",
            input: "a>1",
            want: Err("found '>'"),
        },
        Case {
            name: "bad key",
            input: "-a=b",
            want: Err("invalid label key \"-a\""),
        },
        Case {
            name: "bad prefix",
            input: "Example.com/a=b",
            want: Err("prefix part a lowercase RFC 1123 subdomain"),
        },
        Case {
            name: "two slashes",
            input: "a/b/c=d",
            want: Err("a qualified name must consist"),
        },
        Case {
            name: "bad value",
            input: "a=-b",
            want: Err("invalid label value \"-b\" for key \"a\""),
        },
        Case {
            name: "bad set value",
            input: "a in (x,y!)",
            want: Err("found '!'"),
        },
        Case {
            name: "long value",
            input: long_value,
            want: Err("must be no more than 63 bytes"),
        },
    ];
    for case in &cases {
        check(case);
    }
}

#[test]
fn requirement_errors_are_wrapped() {
    let err = parse_label_selector("a in x").unwrap_err();
    assert_eq!(
        err.to_string(),
        "unable to parse requirement: found 'x', expected: '('"
    );
    assert!(matches!(err, SelectorError::Requirement(_)));
}

#[test]
fn matches_table() {
    let pod = labels(&[
        ("app", "web"),
        ("tier", "frontend"),
        ("app.kubernetes.io/name", "shop"),
    ]);
    let cases: &[(&str, bool)] = &[
        ("", true),
        ("app=web", true),
        ("app==web", true),
        ("app=db", false),
        ("app!=db", true),
        ("app!=web", false),
        ("missing!=x", true),
        ("missing=", false),
        ("app in (web,db)", true),
        ("app in (db)", false),
        ("app notin (web)", false),
        ("app notin (db)", true),
        ("missing notin (x)", true),
        ("missing in (x)", false),
        ("app", true),
        ("missing", false),
        ("!app", false),
        ("!missing", true),
        ("app=web,tier=frontend", true),
        ("app=web,tier=backend", false),
        ("app.kubernetes.io/name=shop", true),
        ("app.kubernetes.io/name in (shop, cart),!canary", true),
    ];
    for (input, want) in cases {
        let sel = parse_label_selector(input).unwrap();
        assert_eq!(sel.matches(&pod), *want, "selector {input:?}");
    }
    assert!(Selector::everything().matches(&BTreeMap::new()));
    assert!(Selector::everything().is_everything());
    assert!(!parse_label_selector("a").unwrap().is_everything());
    let from_map = Selector::from_labels(&labels(&[("tier", "frontend"), ("app", "web")]));
    assert_eq!(from_map.to_string(), "app=web,tier=frontend");
    assert!(from_map.matches(&pod));
    assert_eq!(
        "app=web".parse::<Selector>().unwrap().requirements().len(),
        1
    );
}

fn expr(key: &str, operator: &str, values: &[&str]) -> LabelSelectorRequirement {
    LabelSelectorRequirement {
        key: key.to_string(),
        operator: operator.to_string(),
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

fn selector(match_labels: &[(&str, &str)], exprs: Vec<LabelSelectorRequirement>) -> LabelSelector {
    LabelSelector {
        match_labels: labels(match_labels),
        match_expressions: exprs,
    }
}

#[test]
fn label_selector_matches_table() {
    let pod = labels(&[("app", "web"), ("tier", "frontend")]);
    let cases: Vec<(&str, LabelSelector, bool)> = vec![
        ("empty matches everything", LabelSelector::default(), true),
        ("match labels", selector(&[("app", "web")], vec![]), true),
        (
            "match labels all",
            selector(&[("app", "web"), ("tier", "backend")], vec![]),
            false,
        ),
        (
            "match labels missing",
            selector(&[("env", "prod")], vec![]),
            false,
        ),
        (
            "in",
            selector(&[], vec![expr("tier", "In", &["frontend", "x"])]),
            true,
        ),
        (
            "in miss",
            selector(&[], vec![expr("tier", "In", &["x"])]),
            false,
        ),
        (
            "in absent",
            selector(&[], vec![expr("env", "In", &["x"])]),
            false,
        ),
        (
            "in empty values",
            selector(&[], vec![expr("tier", "In", &[])]),
            false,
        ),
        (
            "notin",
            selector(&[], vec![expr("tier", "NotIn", &["frontend"])]),
            false,
        ),
        (
            "notin absent key",
            selector(&[], vec![expr("env", "NotIn", &["prod"])]),
            true,
        ),
        (
            "exists",
            selector(&[], vec![expr("app", "Exists", &[])]),
            true,
        ),
        (
            "exists absent",
            selector(&[], vec![expr("env", "Exists", &[])]),
            false,
        ),
        (
            "does not exist",
            selector(&[], vec![expr("env", "DoesNotExist", &[])]),
            true,
        ),
        (
            "does not exist present",
            selector(&[], vec![expr("app", "DoesNotExist", &[])]),
            false,
        ),
        (
            "unknown operator",
            selector(&[], vec![expr("app", "Maybe", &[])]),
            false,
        ),
        (
            "labels and expressions",
            selector(&[("app", "web")], vec![expr("tier", "NotIn", &["backend"])]),
            true,
        ),
    ];
    for (name, sel, want) in &cases {
        assert_eq!(sel.matches(&pod), *want, "case {name}");
        // The structured and string forms agree wherever the conversion succeeds.
        if let Ok(s) = sel.to_selector() {
            assert_eq!(s.matches(&pod), *want, "case {name} via to_selector");
        }
    }
    assert!(LabelSelector::default().is_empty());
    assert!(!selector(&[("a", "b")], vec![]).is_empty());
}

#[test]
fn to_selector_table() {
    let cases: Vec<(&str, LabelSelector, Result<&str, SelectorError>)> = vec![
        ("empty", LabelSelector::default(), Ok("")),
        (
            "match labels",
            selector(&[("app", "web")], vec![]),
            Ok("app=web"),
        ),
        (
            "sorted and combined",
            selector(
                &[("app", "web")],
                vec![
                    expr("tier", "In", &["b", "a"]),
                    expr("canary", "DoesNotExist", &[]),
                ],
            ),
            Ok("app=web,!canary,tier in (a,b)"),
        ),
        (
            "exists",
            selector(&[], vec![expr("gpu", "Exists", &[])]),
            Ok("gpu"),
        ),
        (
            "bad operator",
            selector(&[], vec![expr("a", "Like", &[])]),
            Err(SelectorError::InvalidOperator("Like".into())),
        ),
        (
            "in without values",
            selector(&[], vec![expr("a", "In", &[])]),
            Err(SelectorError::EmptyValues("a".into())),
        ),
        (
            "exists with values",
            selector(&[], vec![expr("a", "Exists", &["x"])]),
            Err(SelectorError::UnexpectedValues("a".into())),
        ),
    ];
    for (name, sel, want) in cases {
        let got = sel.to_selector().map(|s| s.to_string());
        assert_eq!(got.as_deref().map_err(Clone::clone), want, "case {name}");
    }
    let bad_key = selector(&[("bad key", "x")], vec![])
        .to_selector()
        .unwrap_err();
    assert!(
        matches!(bad_key, SelectorError::InvalidKey { .. }),
        "{bad_key}"
    );
    let bad_value = selector(&[("k", "x y")], vec![]).to_selector().unwrap_err();
    assert!(
        matches!(bad_value, SelectorError::InvalidValue { .. }),
        "{bad_value}"
    );
}

#[test]
fn qualified_name_and_value_table() {
    let names: &[(&str, bool)] = &[
        ("app", true),
        ("App_1.x-y", true),
        ("a", true),
        ("app.kubernetes.io/name", true),
        ("example.com/MyName", true),
        ("", false),
        ("-a", false),
        ("a-", false),
        ("a b", false),
        ("/a", false),
        ("a/", false),
        ("Example.com/a", false),
        ("a/b/c", false),
        ("ex_ample.com/a", false),
    ];
    for (name, ok) in names {
        assert_eq!(
            validate_qualified_name(name).is_empty(),
            *ok,
            "qualified name {name:?}"
        );
    }
    assert!(validate_qualified_name(&"a".repeat(63)).is_empty());
    assert!(!validate_qualified_name(&"a".repeat(64)).is_empty());
    assert!(!validate_qualified_name(&format!("{}/a", "a".repeat(254))).is_empty());
    let values: &[(&str, bool)] = &[
        ("", true),
        ("v1", true),
        ("A.b_c-d", true),
        ("-v", false),
        ("v ", false),
        ("v/1", false),
    ];
    for (value, ok) in values {
        assert_eq!(
            validate_label_value(value).is_empty(),
            *ok,
            "label value {value:?}"
        );
    }
    assert!(validate_label_value(&"v".repeat(63)).is_empty());
    assert_eq!(
        validate_label_value(&"v".repeat(64)),
        vec!["must be no more than 63 bytes".to_string()]
    );
}
