//! Validation of API objects with Kubernetes-style field paths
//! (`spec.containers[0].name: Required value`).

use std::fmt;

/// What is wrong with one field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldErrorKind {
    /// The field must be set (`FieldValueRequired`).
    Required,
    /// The value is not acceptable (`FieldValueInvalid`); carries the rendered bad value.
    Invalid(String),
    /// The value is not one of the supported ones (`FieldValueNotSupported`).
    NotSupported(String, Vec<String>),
    /// The value appears twice where it must be unique (`FieldValueDuplicate`).
    Duplicate(String),
    /// The field may not be set or changed (`FieldValueForbidden`).
    Forbidden,
    /// The value is longer than allowed (`FieldValueTooLong`); carries the limit.
    TooLong(usize),
}

/// One failing field, with its path from the object's root and a detail message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// `spec.containers[0].name`
    pub path: String,
    /// The kind of failure.
    pub kind: FieldErrorKind,
    /// Extra words, e.g. the DNS-1123 rule that was broken. May be empty.
    pub detail: String,
}

impl FieldError {
    /// The Kubernetes `StatusCause.reason` for this error.
    pub fn reason(&self) -> &'static str {
        match self.kind {
            FieldErrorKind::Required => "FieldValueRequired",
            FieldErrorKind::Invalid(_) => "FieldValueInvalid",
            FieldErrorKind::NotSupported(..) => "FieldValueNotSupported",
            FieldErrorKind::Duplicate(_) => "FieldValueDuplicate",
            FieldErrorKind::Forbidden => "FieldValueForbidden",
            FieldErrorKind::TooLong(_) => "FieldValueTooLong",
        }
    }

    /// The message without the path, as Kubernetes renders it (`Required value`,
    /// `Invalid value: "Foo": a lowercase RFC 1123 label must ...`).
    pub fn message(&self) -> String {
        let base = match &self.kind {
            FieldErrorKind::Required => "Required value".to_string(),
            FieldErrorKind::Invalid(v) => format!("Invalid value: {v}"),
            FieldErrorKind::NotSupported(v, ok) => {
                let ok: Vec<String> = ok.iter().map(|s| format!("\"{s}\"")).collect();
                format!(
                    "Unsupported value: {v}: supported values: {}",
                    ok.join(", ")
                )
            }
            FieldErrorKind::Duplicate(v) => format!("Duplicate value: {v}"),
            FieldErrorKind::Forbidden => "Forbidden".to_string(),
            FieldErrorKind::TooLong(n) => format!("Too long: may not be more than {n} bytes"),
        };
        if self.detail.is_empty() {
            base
        } else {
            format!("{base}: {}", self.detail)
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message())
    }
}

// ---------------------------------------------------------------------------------------------
// Everything below validates API objects; the rules mirror Kubernetes' `pkg/apis/*/validation`
// and `apimachinery/pkg/util/validation`, with the same paths and messages.
//
// Validation runs after defaulting (as in the Kubernetes API server). A field that defaulting
// always fills (`restartPolicy`, `imagePullPolicy`, ...) is accepted when still unset, so that
// validating a non-defaulted object does not drown the real problems in `Required value`s.
// Bad values rendered in messages follow Go's `%q` / `%#v`, as the Kubernetes API server prints
// them (`"Foo"`, `map[string]string{"app":"x"}`).
// ---------------------------------------------------------------------------------------------

mod apps;
mod event;
mod meta;
mod namespace;
mod node;
mod pod;
mod resources;
mod scheduling;
mod service;

#[cfg(test)]
mod tests;

pub use apps::{
    validate_deployment, validate_deployment_update, validate_replica_set,
    validate_replica_set_update,
};
pub use event::{validate_event, validate_event_update};
pub use meta::{
    validate_annotations, validate_finalizer_name, validate_label_selector, validate_labels,
    validate_object_meta, validate_object_meta_update, TOTAL_ANNOTATION_SIZE_LIMIT,
};
pub use namespace::{validate_namespace, validate_namespace_update};
pub use node::{validate_node, validate_node_update};
pub use pod::{validate_pod, validate_pod_spec, validate_pod_template_spec, validate_pod_update};
pub use scheduling::validate_tolerations;
pub use service::{
    validate_endpoints, validate_endpoints_update, validate_service, validate_service_update,
};

/// Constructors, one per [`FieldErrorKind`]. Values passed as `value` are already rendered the
/// way Kubernetes prints them (see [`quote`]).
impl FieldError {
    fn new(path: impl Into<String>, kind: FieldErrorKind, detail: impl Into<String>) -> Self {
        FieldError {
            path: path.into(),
            kind,
            detail: detail.into(),
        }
    }

    /// `path: Required value[: detail]`.
    pub fn required(path: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(path, FieldErrorKind::Required, detail)
    }

    /// `path: Invalid value: <value>[: detail]`.
    pub fn invalid(
        path: impl Into<String>,
        value: impl Into<String>,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(path, FieldErrorKind::Invalid(value.into()), detail)
    }

    /// `path: Unsupported value: <value>: supported values: "a", "b"`.
    pub fn not_supported(
        path: impl Into<String>,
        value: impl Into<String>,
        supported: &[&str],
    ) -> Self {
        let supported = supported.iter().map(|s| s.to_string()).collect();
        Self::new(
            path,
            FieldErrorKind::NotSupported(value.into(), supported),
            "",
        )
    }

    /// `path: Duplicate value: <value>`.
    pub fn duplicate(path: impl Into<String>, value: impl Into<String>) -> Self {
        Self::new(path, FieldErrorKind::Duplicate(value.into()), "")
    }

    /// `path: Forbidden[: detail]`.
    pub fn forbidden(path: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(path, FieldErrorKind::Forbidden, detail)
    }

    /// `path: Too long: may not be more than <max> bytes`.
    pub fn too_long(path: impl Into<String>, max: usize) -> Self {
        Self::new(path, FieldErrorKind::TooLong(max), "")
    }
}

/// A string rendered as Go's `%q` does (`"Foo"`, with `\"`, `\\`, `\n`, `\x01` escapes).
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A `map[string]string` rendered as Go's `%#v` does (`map[string]string{"a":"b", "c":"d"}`,
/// `map[string]string(nil)` when empty).
pub fn go_string_map(map: &std::collections::BTreeMap<String, String>) -> String {
    if map.is_empty() {
        return "map[string]string(nil)".to_string();
    }
    let items: Vec<String> = map
        .iter()
        .map(|(k, v)| format!("{}:{}", quote(k), quote(v)))
        .collect();
    format!("map[string]string{{{}}}", items.join(", "))
}

/// A `[]string` rendered as Go's `%#v` does.
fn go_string_slice(items: &[String]) -> String {
    if items.is_empty() {
        return "[]string(nil)".to_string();
    }
    let items: Vec<String> = items.iter().map(|s| quote(s)).collect();
    format!("[]string{{{}}}", items.join(", "))
}

/// Appends `.name` to a path (`spec` + `containers` = `spec.containers`).
pub(crate) fn child(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// Appends `[i]` to a path.
pub(crate) fn index(path: &str, i: usize) -> String {
    format!("{path}[{i}]")
}

/// Appends `[key]` to a path (`resources.limits[cpu]`).
pub(crate) fn key(path: &str, k: &str) -> String {
    format!("{path}[{k}]")
}

// --- apimachinery/pkg/util/validation --------------------------------------------------------

/// Maximum length of a DNS-1123 label.
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;
/// Maximum length of a DNS-1123 subdomain.
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;
/// Maximum length of a label value and of the name part of a qualified name.
pub const LABEL_VALUE_MAX_LENGTH: usize = 63;

const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const DNS1035_LABEL_ERR: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";

/// Kubernetes `RegexError`: the message, examples and the regex.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    if examples.is_empty() {
        return format!("{msg} (regex used for validation is '{fmt}')");
    }
    let mut out = format!("{msg} (e.g. ");
    for (i, e) in examples.iter().enumerate() {
        if i > 0 {
            out.push_str(" or ");
        }
        out.push_str(&format!("'{e}', "));
    }
    out.push_str(&format!("regex used for validation is '{fmt}')"));
    out
}

/// Kubernetes `MaxLenError`.
pub(crate) fn max_len_error(n: usize) -> String {
    max_len_error_in(n, LenUnit::Characters)
}

/// How a length limit is worded. Kubernetes' `MaxLenError` counts "characters"; the parser of
/// string-form label selectors ([`crate::selector`]) has always said "bytes". The limits are
/// the same (both compare byte lengths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LenUnit {
    /// `must be no more than 63 characters` (Kubernetes field validation).
    Characters,
    /// `must be no more than 63 bytes` (string-form label selectors).
    Bytes,
}

/// [`max_len_error`] worded in `unit`.
fn max_len_error_in(n: usize, unit: LenUnit) -> String {
    let unit = match unit {
        LenUnit::Characters => "characters",
        LenUnit::Bytes => "bytes",
    };
    format!("must be no more than {n} {unit}")
}

/// Kubernetes `InclusiveRangeError`.
pub(crate) fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

/// Kubernetes `IsNegativeErrorMsg`.
pub(crate) const NEGATIVE_ERROR: &str = "must be greater than or equal to 0";
/// Kubernetes `FieldImmutableErrorMsg`.
pub(crate) const IMMUTABLE_ERROR: &str = "field is immutable";

fn is_lower_alnum(c: u8) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

/// Matches `[a-z0-9]([-a-z0-9]*[a-z0-9])?` (or with a letter first when `letter_first`).
fn matches_label(s: &str, letter_first: bool) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    let first_ok = if letter_first {
        first.is_ascii_lowercase()
    } else {
        is_lower_alnum(first)
    };
    first_ok && is_lower_alnum(last) && b.iter().all(|&c| is_lower_alnum(c) || c == b'-')
}

/// Matches `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
fn matches_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Kubernetes `IsDNS1123Label`: the reasons `value` is not a DNS-1123 label (empty when it is).
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_label(value, false) {
        errs.push(regex_error(
            DNS1123_LABEL_ERR,
            DNS1123_LABEL_FMT,
            &["my-name", "123-abc"],
        ));
    }
    errs
}

/// Kubernetes `IsDNS1123Subdomain`.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    dns1123_subdomain_errors(value, LenUnit::Characters)
}

/// [`is_dns1123_subdomain`] with the length limit worded in `unit`.
fn dns1123_subdomain_errors(value: &str, unit: LenUnit) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error_in(DNS1123_SUBDOMAIN_MAX_LENGTH, unit));
    }
    if !value.split('.').all(|part| matches_label(part, false)) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// Kubernetes `IsDNS1035Label` (Service names).
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !matches_label(value, true) {
        errs.push(regex_error(
            DNS1035_LABEL_ERR,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// Kubernetes `IsQualifiedName`: label keys, annotation keys, finalizers (`prefix/name`).
pub fn is_qualified_name(value: &str) -> Vec<String> {
    qualified_name_errors(value, LenUnit::Characters)
}

/// [`is_qualified_name`] with length limits worded in `unit`.
pub(crate) fn qualified_name_errors(value: &str, unit: LenUnit) -> Vec<String> {
    let mut errs = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => *name,
        [prefix, name] => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else {
                errs.extend(
                    dns1123_subdomain_errors(prefix, unit)
                        .into_iter()
                        .map(|m| format!("prefix part {m}")),
                );
            }
            *name
        }
        _ => {
            errs.push(format!(
                "a qualified name {} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
                regex_error(QUALIFIED_NAME_ERR, QUALIFIED_NAME_FMT, &["MyName", "my.name", "123-abc"])
            ));
            return errs;
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else if name.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(format!(
            "name part {}",
            max_len_error_in(LABEL_VALUE_MAX_LENGTH, unit)
        ));
    }
    if !matches_qualified_name_part(name) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// Kubernetes `IsValidLabelValue`.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    label_value_errors(value, LenUnit::Characters)
}

/// [`is_valid_label_value`] with the length limit worded in `unit`.
pub(crate) fn label_value_errors(value: &str, unit: LenUnit) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(max_len_error_in(LABEL_VALUE_MAX_LENGTH, unit));
    }
    if !value.is_empty() && !matches_qualified_name_part(value) {
        errs.push(regex_error(
            LABEL_VALUE_ERR,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// Kubernetes `IsValidPortNum`: 1..65535.
pub fn is_valid_port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec![inclusive_range_error(1, 65535)]
    }
}

/// Kubernetes `IsValidPortName` (IANA_SVC_NAME).
pub fn is_valid_port_name(port: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if port.len() > 15 {
        errs.push(max_len_error(15));
    }
    let b = port.as_bytes();
    if b.is_empty() || !b.iter().all(|&c| is_lower_alnum(c) || c == b'-') {
        errs.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string(),
        );
    }
    if !b.iter().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".to_string());
    }
    if port.contains("--") {
        errs.push("must not contain consecutive hyphens".to_string());
    }
    if b.first() == Some(&b'-') || b.last() == Some(&b'-') {
        errs.push("must not begin or end with a hyphen".to_string());
    }
    errs
}

/// Kubernetes `IsValidPercent`: `[0-9]+%`.
pub fn is_valid_percent(value: &str) -> Vec<String> {
    let ok = value
        .strip_suffix('%')
        .is_some_and(|d| !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit()));
    if ok {
        Vec::new()
    } else {
        vec![regex_error(
            "a valid percent string must be a numeric string followed by an ending '%'",
            "[0-9]+%",
            &["1%", "93%"],
        )]
    }
}

/// A rule for object names: `(name, is_prefix) -> reasons it is invalid`. With `is_prefix` the
/// value is a `generateName` and may end in `-`.
pub type NameRule = fn(&str, bool) -> Vec<String>;

fn mask_trailing_dash(name: &str, prefix: bool) -> String {
    match name.strip_suffix('-') {
        Some(rest) if prefix && !rest.is_empty() => format!("{rest}a"),
        _ => name.to_string(),
    }
}

/// Kubernetes `NameIsDNSSubdomain` (most kinds).
pub fn name_is_dns_subdomain(name: &str, prefix: bool) -> Vec<String> {
    is_dns1123_subdomain(&mask_trailing_dash(name, prefix))
}

/// Kubernetes `NameIsDNSLabel` (Namespace).
pub fn name_is_dns_label(name: &str, prefix: bool) -> Vec<String> {
    is_dns1123_label(&mask_trailing_dash(name, prefix))
}

/// Kubernetes `NameIsDNS1035Label` (Service).
pub fn name_is_dns1035_label(name: &str, prefix: bool) -> Vec<String> {
    is_dns1035_label(&mask_trailing_dash(name, prefix))
}

/// One `Invalid` error per message of a rule (`ValidateDNS1123Label` and friends).
pub(crate) fn invalid_each(path: &str, value: &str, msgs: Vec<String>) -> Vec<FieldError> {
    msgs.into_iter()
        .map(|m| FieldError::invalid(path, quote(value), m))
        .collect()
}

/// Kubernetes `ValidatePortNumOrName`'s number case: `Invalid value: <port>: must be between 1
/// and 65535, inclusive` unless `port` is a valid port number.
pub(crate) fn validate_port_num(port: i64, path: &str) -> Vec<FieldError> {
    is_valid_port_num(port)
        .into_iter()
        .map(|m| FieldError::invalid(path, port.to_string(), m))
        .collect()
}

/// `must be greater than or equal to 0` when `value < 0` (Kubernetes `ValidateNonnegativeField`).
pub(crate) fn validate_nonnegative(value: i64, path: &str) -> Vec<FieldError> {
    if value < 0 {
        vec![FieldError::invalid(path, value.to_string(), NEGATIVE_ERROR)]
    } else {
        Vec::new()
    }
}

/// Taint effects, in the order Kubernetes lists them.
pub(crate) const TAINT_EFFECTS: &[&str] = &["NoSchedule", "PreferNoSchedule", "NoExecute"];

/// One of `supported`, else `Unsupported value`; an explicitly empty value is `Required`; an
/// unset one (left for defaulting) passes.
pub(crate) fn check_enum(value: Option<&str>, supported: &[&str], path: &str) -> Vec<FieldError> {
    match value {
        None => Vec::new(),
        Some("") => vec![FieldError::required(path, "")],
        Some(v) if supported.contains(&v) => Vec::new(),
        Some(v) => vec![FieldError::not_supported(path, quote(v), supported)],
    }
}

/// Drops repeated errors, keeping the first of each (an update re-runs create validation).
pub(crate) fn dedup(errs: Vec<FieldError>) -> Vec<FieldError> {
    let mut out: Vec<FieldError> = Vec::with_capacity(errs.len());
    for e in errs {
        if !out.contains(&e) {
            out.push(e);
        }
    }
    out
}
