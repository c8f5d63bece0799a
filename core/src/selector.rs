//! Label selectors: the structured form used in specs (matchLabels + matchExpressions) and the
//! string form used in `?labelSelector=`.

use crate::validation::{label_value_errors, qualified_name_errors, LenUnit};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// A structured label selector, as in `spec.selector` of a ReplicaSet or Deployment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// Exact key/value matches, ANDed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// Set-based requirements, ANDed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

/// One set-based requirement: `key operator values`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelectorRequirement {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    /// The values for `In`/`NotIn`; empty for `Exists`/`DoesNotExist`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[cfg(test)]
mod tests;

/// Why a label selector (string or structured) is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// A requirement in the string form could not be parsed; wraps the reason.
    #[error("unable to parse requirement: {0}")]
    Requirement(Box<SelectorError>),
    /// The string form had an unexpected token (`found ')', expected: identifier`).
    #[error("found '{found}', expected: {expected}")]
    Unexpected {
        /// The offending token, or `end of string`.
        found: String,
        /// What would have been acceptable at that point.
        expected: String,
    },
    /// A key is not a qualified name (`[prefix/]name`).
    #[error("invalid label key {key:?}: {reason}")]
    InvalidKey {
        /// The rejected key.
        key: String,
        /// The broken rule.
        reason: String,
    },
    /// A value is not a valid label value.
    #[error("invalid label value {value:?} for key {key:?}: {reason}")]
    InvalidValue {
        /// The key the value belongs to.
        key: String,
        /// The rejected value.
        value: String,
        /// The broken rule.
        reason: String,
    },
    /// A structured requirement has an operator other than In, NotIn, Exists, DoesNotExist.
    #[error("{0:?} is not a valid label selector operator")]
    InvalidOperator(String),
    /// `in`/`notin` without values.
    #[error("key {0:?}: for 'in', 'notin' operators, values set can't be empty")]
    EmptyValues(String),
    /// `=`/`!=` with other than exactly one value.
    #[error("key {0:?}: exact-match compatibility requires one single value")]
    NotSingleValue(String),
    /// Exists/DoesNotExist with values.
    #[error("key {0:?}: values set must be empty for exists and does not exist")]
    UnexpectedValues(String),
}

/// The operator of a parsed requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    /// `key=value` or `key==value`: the label is present with that value.
    Equals,
    /// `key!=value`: the label is absent or has another value.
    NotEquals,
    /// `key in (a,b)`: the label is present with one of the values.
    In,
    /// `key notin (a,b)`: the label is absent or has none of the values.
    NotIn,
    /// `key`: the label is present.
    Exists,
    /// `!key`: the label is absent.
    DoesNotExist,
}

/// One requirement of a [`Selector`]: `key op values`. Values are sorted and deduplicated.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requirement {
    /// The label key (a qualified name, optionally `prefix/name`).
    pub key: String,
    /// The operator.
    pub op: Op,
    /// One value for Equals/NotEquals, at least one for In/NotIn, none for Exists/DoesNotExist.
    pub values: Vec<String>,
}

impl Requirement {
    /// Builds a validated requirement, like Kubernetes `labels.NewRequirement`: the key must be a
    /// qualified name, values valid label values, and their number must suit the operator.
    pub fn new(
        key: impl Into<String>,
        op: Op,
        values: Vec<String>,
    ) -> Result<Requirement, SelectorError> {
        let key = key.into();
        if let Some(reason) = validate_qualified_name(&key).into_iter().next() {
            return Err(SelectorError::InvalidKey { key, reason });
        }
        match op {
            Op::In | Op::NotIn if values.is_empty() => return Err(SelectorError::EmptyValues(key)),
            Op::Equals | Op::NotEquals if values.len() != 1 => {
                return Err(SelectorError::NotSingleValue(key))
            }
            Op::Exists | Op::DoesNotExist if !values.is_empty() => {
                return Err(SelectorError::UnexpectedValues(key))
            }
            _ => {}
        }
        for value in &values {
            if let Some(reason) = validate_label_value(value).into_iter().next() {
                return Err(SelectorError::InvalidValue {
                    key,
                    value: value.clone(),
                    reason,
                });
            }
        }
        let mut values = values;
        values.sort();
        values.dedup();
        Ok(Requirement { key, op, values })
    }

    /// Whether the labels satisfy this requirement. NotEquals, NotIn and DoesNotExist match
    /// when the key is absent.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.op.matches(labels.get(&self.key), &self.values)
    }
}

impl Op {
    /// The operator of a structured requirement (`In`, `NotIn`, `Exists`, `DoesNotExist`);
    /// `None` for anything else.
    fn from_expression_operator(operator: &str) -> Option<Op> {
        match operator {
            "In" => Some(Op::In),
            "NotIn" => Some(Op::NotIn),
            "Exists" => Some(Op::Exists),
            "DoesNotExist" => Some(Op::DoesNotExist),
            _ => None,
        }
    }

    /// Whether a label's value (`None` when the label is absent) satisfies `op values`.
    fn matches(self, value: Option<&String>, values: &[String]) -> bool {
        let listed = |v: &String| values.contains(v);
        match self {
            Op::Equals | Op::In => value.is_some_and(listed),
            Op::NotEquals | Op::NotIn => !value.is_some_and(listed),
            Op::Exists => value.is_some(),
            Op::DoesNotExist => value.is_none(),
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let values = self.values.join(",");
        match self.op {
            Op::Equals => write!(f, "{}={values}", self.key),
            Op::NotEquals => write!(f, "{}!={values}", self.key),
            Op::In => write!(f, "{} in ({values})", self.key),
            Op::NotIn => write!(f, "{} notin ({values})", self.key),
            Op::Exists => write!(f, "{}", self.key),
            Op::DoesNotExist => write!(f, "!{}", self.key),
        }
    }
}

/// A parsed label selector: requirements ANDed together, sorted by key. The empty selector
/// matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

impl Selector {
    /// The selector that matches every object (the empty string).
    pub fn everything() -> Selector {
        Selector::default()
    }

    /// True if the selector has no requirements and so matches everything.
    pub fn is_everything(&self) -> bool {
        self.requirements.is_empty()
    }

    /// A selector from requirements (sorted by key, stably, for a canonical string form).
    pub fn from_requirements(mut requirements: Vec<Requirement>) -> Selector {
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Selector { requirements }
    }

    /// The equality selector for a label map, like Kubernetes `SelectorFromSet` (e.g. a
    /// Service's `spec.selector`). Entries are not validated. An empty map gives everything.
    pub fn from_labels(labels: &BTreeMap<String, String>) -> Selector {
        Selector {
            requirements: labels
                .iter()
                .map(|(k, v)| Requirement {
                    key: k.clone(),
                    op: Op::Equals,
                    values: vec![v.clone()],
                })
                .collect(),
        }
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// Whether the labels satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }
}

/// The canonical string form, e.g. `app=web,tier in (a,b)`; empty for everything.
impl fmt::Display for Selector {
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

impl FromStr for Selector {
    type Err = SelectorError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_label_selector(s)
    }
}

impl LabelSelector {
    /// True if there are neither matchLabels nor matchExpressions (such a selector matches
    /// everything).
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    /// Whether the labels satisfy the selector, with Kubernetes semantics: the empty selector
    /// matches everything, NotIn and DoesNotExist match when the key is absent. A requirement
    /// with an unknown operator matches nothing (validation rejects it anyway).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|e| {
                Op::from_expression_operator(&e.operator)
                    .is_some_and(|op| op.matches(labels.get(&e.key), &e.values))
            })
    }

    /// Converts to the string-form selector, like Kubernetes `LabelSelectorAsSelector`;
    /// `{matchLabels: {app: web}}` becomes `app=web`, the empty selector becomes everything.
    pub fn to_selector(&self) -> Result<Selector, SelectorError> {
        let mut requirements = Vec::new();
        for (k, v) in &self.match_labels {
            requirements.push(Requirement::new(k.clone(), Op::Equals, vec![v.clone()])?);
        }
        for e in &self.match_expressions {
            let op = Op::from_expression_operator(&e.operator)
                .ok_or_else(|| SelectorError::InvalidOperator(e.operator.clone()))?;
            requirements.push(Requirement::new(e.key.clone(), op, e.values.clone())?);
        }
        Ok(Selector::from_requirements(requirements))
    }
}

// ---------------------------------------------------------------------------------------------
// Label key and value rules: those of [`crate::validation`] (Kubernetes `IsQualifiedName` and
// `IsValidLabelValue`), with length limits worded in bytes as this module always has.

/// Checks a label key (or annotation key) against the Kubernetes qualified-name rules: an
/// optional DNS-1123 subdomain prefix of at most 253 bytes and `/`, then a name of at most 63
/// bytes of alphanumerics, `-`, `_`, `.` starting and ending alphanumeric. Returns the Kubernetes
/// messages for each broken rule (empty if valid); see
/// [`is_qualified_name`](crate::validation::is_qualified_name).
pub fn validate_qualified_name(key: &str) -> Vec<String> {
    qualified_name_errors(key, LenUnit::Bytes)
}

/// Checks a label value: empty, or at most 63 bytes of alphanumerics, `-`, `_`, `.` starting
/// and ending alphanumeric. Returns the Kubernetes messages for each broken rule; see
/// [`is_valid_label_value`](crate::validation::is_valid_label_value).
pub fn validate_label_value(value: &str) -> Vec<String> {
    label_value_errors(value, LenUnit::Bytes)
}

// ---------------------------------------------------------------------------------------------
// The string form, parsed like k8s.io/apimachinery/pkg/labels.Parse.

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Bang,
    Equals,
    DoubleEquals,
    NotEquals,
    Greater,
    Less,
    Open,
    Close,
    Comma,
    End,
}

impl Token {
    fn literal(&self) -> &str {
        match self {
            Token::Ident(s) => s,
            Token::Bang => "!",
            Token::Equals => "=",
            Token::DoubleEquals => "==",
            Token::NotEquals => "!=",
            Token::Greater => ">",
            Token::Less => "<",
            Token::Open => "(",
            Token::Close => ")",
            Token::Comma => ",",
            Token::End => "end of string",
        }
    }
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_special(c: char) -> bool {
    matches!(c, '=' | '!' | '(' | ')' | ',' | '>' | '<')
}

fn lex(s: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = s.chars().peekable();
    while let Some(&c) = chars.peek() {
        if is_space(c) {
            chars.next();
            continue;
        }
        if is_special(c) {
            chars.next();
            let followed_by_eq = chars.peek() == Some(&'=');
            let tok = match c {
                '=' if followed_by_eq => Token::DoubleEquals,
                '!' if followed_by_eq => Token::NotEquals,
                '=' => Token::Equals,
                '!' => Token::Bang,
                '(' => Token::Open,
                ')' => Token::Close,
                ',' => Token::Comma,
                '>' => Token::Greater,
                _ => Token::Less,
            };
            if matches!(tok, Token::DoubleEquals | Token::NotEquals) {
                chars.next();
            }
            tokens.push(tok);
            continue;
        }
        let mut ident = String::new();
        while let Some(&c) = chars.peek() {
            if is_space(c) || is_special(c) {
                break;
            }
            ident.push(c);
            chars.next();
        }
        tokens.push(Token::Ident(ident));
    }
    tokens.push(Token::End);
    tokens
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

fn unexpected(found: &Token, expected: &str) -> SelectorError {
    SelectorError::Unexpected {
        found: found.literal().to_string(),
        expected: expected.to_string(),
    }
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn next(&mut self) -> Token {
        let t = self.peek().clone();
        self.pos += 1;
        t
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, SelectorError> {
        let mut requirements = Vec::new();
        loop {
            match self.peek() {
                Token::Ident(_) | Token::Bang => {
                    let r = self
                        .requirement()
                        .map_err(|e| SelectorError::Requirement(Box::new(e)))?;
                    requirements.push(r);
                    match self.next() {
                        Token::End => return Ok(requirements),
                        Token::Comma => match self.peek() {
                            Token::Ident(_) | Token::Bang => {}
                            t => return Err(unexpected(t, "identifier after ','")),
                        },
                        t => return Err(unexpected(&t, "',' or 'end of string'")),
                    }
                }
                Token::End => return Ok(requirements),
                t => return Err(unexpected(t, "!, identifier, or 'end of string'")),
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        let mut tok = self.next();
        let negated = tok == Token::Bang;
        if negated {
            tok = self.next();
        }
        let Token::Ident(key) = tok else {
            return Err(unexpected(&tok, "identifier"));
        };
        if negated || matches!(self.peek(), Token::End | Token::Comma) {
            let op = if negated {
                Op::DoesNotExist
            } else {
                Op::Exists
            };
            return Requirement::new(key, op, Vec::new());
        }
        let tok = self.next();
        let op = match &tok {
            Token::Equals | Token::DoubleEquals => Op::Equals,
            Token::NotEquals => Op::NotEquals,
            Token::Ident(s) if s == "in" => Op::In,
            Token::Ident(s) if s == "notin" => Op::NotIn,
            _ => return Err(unexpected(&tok, "in, notin, =, ==, !=")),
        };
        let values = match op {
            Op::In | Op::NotIn => self.value_set()?,
            _ => vec![self.exact_value()?],
        };
        Requirement::new(key, op, values)
    }

    /// `a=` means the empty value.
    fn exact_value(&mut self) -> Result<String, SelectorError> {
        match self.peek() {
            Token::End | Token::Comma => Ok(String::new()),
            Token::Ident(_) => Ok(self.next().literal().to_string()),
            t => Err(unexpected(t, "identifier")),
        }
    }

    /// `(a, b)`; like Kubernetes, empty members (`()`, `(a,)`) stand for the empty value.
    fn value_set(&mut self) -> Result<Vec<String>, SelectorError> {
        let tok = self.next();
        if tok != Token::Open {
            return Err(unexpected(&tok, "'('"));
        }
        let mut values = Vec::new();
        let mut expect_value = true;
        loop {
            match self.next() {
                Token::Ident(v) if expect_value => {
                    values.push(v);
                    expect_value = false;
                }
                Token::Comma => {
                    if expect_value {
                        values.push(String::new());
                    }
                    expect_value = true;
                }
                Token::Close => {
                    if expect_value {
                        values.push(String::new());
                    }
                    return Ok(values);
                }
                t if expect_value => return Err(unexpected(&t, "',', ')' or identifier")),
                t => return Err(unexpected(&t, "',' or ')'")),
            }
        }
    }
}

/// Parses the string form of a label selector as kubectl and `?labelSelector=` write it:
/// `a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x, y)`, `a`, `!a`, comma-separated, with
/// whitespace around tokens ignored. The empty string selects everything. Keys must be qualified
/// names and values label values.
pub fn parse_label_selector(s: &str) -> Result<Selector, SelectorError> {
    let mut parser = Parser {
        tokens: lex(s),
        pos: 0,
    };
    Ok(Selector::from_requirements(parser.parse()?))
}
