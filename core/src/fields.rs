//! Field selectors (`?fieldSelector=spec.nodeName=node-1,status.phase!=Succeeded`), parsed and
//! matched like Kubernetes `k8s.io/apimachinery/pkg/fields`.

use std::fmt;
use std::str::FromStr;

#[cfg(test)]
mod tests;

/// Why a field selector string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldSelectorError {
    /// A term has no `=`, `==` or `!=` operator, or no field name before it.
    #[error("invalid selector: '{selector}'; can't understand '{term}'")]
    Syntax {
        /// The whole selector.
        selector: String,
        /// The term that could not be understood.
        term: String,
    },
    /// A backslash is followed by something other than `\`, `,` or `=` (or ends the value).
    #[error("invalid field selector: invalid escape sequence: {0}")]
    InvalidEscape(String),
    /// A value contains a `,` or `=` that is not escaped with a backslash.
    #[error("invalid field selector: unescaped character in value: {0:?}")]
    UnescapedCharacter(char),
}

/// The operator of a field requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldOp {
    /// `field=value` or `field==value`.
    Equals,
    /// `field!=value`.
    NotEquals,
}

/// One term of a field selector: `field op value` (value unescaped).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FieldRequirement {
    /// The dotted field path, e.g. `spec.nodeName`.
    pub field: String,
    /// The operator.
    pub op: FieldOp,
    /// The value to compare against; may be empty (`spec.nodeName=` means unscheduled).
    pub value: String,
}

impl FieldRequirement {
    /// Whether an object's field value (missing is the empty string) satisfies the term.
    pub fn matches(&self, actual: &str) -> bool {
        match self.op {
            FieldOp::Equals => actual == self.value,
            FieldOp::NotEquals => actual != self.value,
        }
    }
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            FieldOp::Equals => "=",
            FieldOp::NotEquals => "!=",
        };
        write!(f, "{}{op}{}", self.field, escape_value(&self.value))
    }
}

/// A parsed field selector: requirements ANDed together. The empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldSelector {
    requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// The selector that matches every object (the empty string).
    pub fn everything() -> FieldSelector {
        FieldSelector::default()
    }

    /// True if there are no requirements.
    pub fn is_everything(&self) -> bool {
        self.requirements.is_empty()
    }

    /// A selector from requirements, kept in the given order.
    pub fn from_requirements(requirements: Vec<FieldRequirement>) -> FieldSelector {
        FieldSelector { requirements }
    }

    /// The requirements.
    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.requirements
    }

    /// The field names used, in order (possibly repeated), so a server can reject the ones a
    /// resource does not support.
    pub fn fields(&self) -> impl Iterator<Item = &str> + '_ {
        self.requirements.iter().map(|r| r.field.as_str())
    }

    /// If the selector pins `field` to one value with `=`, that value (Kubernetes
    /// `RequiresExactMatch`), e.g. `spec.nodeName` for a kubelet's pod watch.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.field == field && r.op == FieldOp::Equals)
            .map(|r| r.value.as_str())
    }

    /// Whether an object satisfies every requirement. `get(field)` returns the object's value for
    /// the field; `None` counts as the empty string. Callers whose fields have defaults (Node
    /// `spec.unschedulable` is `"false"` when absent) should apply them in `get`.
    pub fn matches(&self, get: impl Fn(&str) -> Option<String>) -> bool {
        self.requirements
            .iter()
            .all(|r| r.matches(get(&r.field).as_deref().unwrap_or("")))
    }
}

/// The canonical string form (`a=b,c!=d`), values escaped; empty for everything.
impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl FromStr for FieldSelector {
    type Err = FieldSelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_field_selector(s)
    }
}

/// Escapes `\`, `,` and `=` in a value with a backslash, like Kubernetes `fields.EscapeValue`.
pub fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Reverses [`escape_value`], like Kubernetes `fields.UnescapeValue`: `\\`, `\,` and `\=` are
/// the only escapes, and a bare `,` or `=` is an error.
pub fn unescape_value(value: &str) -> Result<String, FieldSelectorError> {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                Some(e) => return Err(FieldSelectorError::InvalidEscape(format!("\\{e}"))),
                None => return Err(FieldSelectorError::InvalidEscape("\\".to_string())),
            },
            ',' | '=' => return Err(FieldSelectorError::UnescapedCharacter(c)),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Splits on commas not preceded by an escaping backslash; escapes are kept in the pieces.
fn split_terms(s: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ',' {
            terms.push(&s[start..i]);
            start = i + 1;
        }
    }
    terms.push(&s[start..]);
    terms
}

/// Parses a field selector: comma-separated `field=value`, `field==value` or `field!=value`
/// terms (whitespace around fields and values is trimmed, empty terms are skipped). Values may
/// be empty and use `\,`, `\=` and `\\` escapes. Like Kubernetes, terms are sorted, so the
/// [`Display`](fmt::Display) form is canonical. The empty string selects everything.
pub fn parse_field_selector(s: &str) -> Result<FieldSelector, FieldSelectorError> {
    let mut terms: Vec<&str> = split_terms(s)
        .into_iter()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    terms.sort_unstable();
    let mut requirements = Vec::with_capacity(terms.len());
    for term in terms {
        let syntax = || FieldSelectorError::Syntax {
            selector: s.to_string(),
            term: term.to_string(),
        };
        // The field may not contain escapes: split at the first operator.
        let (field, op, rest) = term
            .char_indices()
            .find_map(|(i, _)| {
                let tail = &term[i..];
                [
                    ("!=", FieldOp::NotEquals),
                    ("==", FieldOp::Equals),
                    ("=", FieldOp::Equals),
                ]
                .into_iter()
                .find(|(lit, _)| tail.starts_with(lit))
                .map(|(lit, op)| (&term[..i], op, &tail[lit.len()..]))
            })
            .ok_or_else(syntax)?;
        let field = field.trim();
        if field.is_empty() {
            return Err(syntax());
        }
        requirements.push(FieldRequirement {
            field: field.to_string(),
            op,
            value: unescape_value(rest.trim())?,
        });
    }
    Ok(FieldSelector { requirements })
}

/// The value at a dotted path (`metadata.name`, `spec.nodeName`, `involvedObject.name`) of a JSON
/// object, as field selectors see it: strings as-is, numbers and booleans via `to_string`
/// (`spec.unschedulable` → `"true"`). Missing fields, `null`, objects and arrays give `None`.
pub fn field_value(obj: &serde_json::Value, field: &str) -> Option<String> {
    let mut cur = obj;
    for part in field.split('.') {
        cur = cur.as_object()?.get(part)?;
    }
    match cur {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}
