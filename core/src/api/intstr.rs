//! `IntOrString`: a field that holds either an integer or a string (`8080` or `"http"`,
//! `1` or `"25%"`), as Kubernetes' `intstr.IntOrString`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An integer or a string. On the wire it is a bare JSON number or a bare JSON string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    /// A plain integer (`8080`, `1`).
    Int(i32),
    /// A string: a port name (`"http"`) or a percentage (`"25%"`).
    String(String),
}

impl Default for IntOrString {
    fn default() -> Self {
        IntOrString::Int(0)
    }
}

impl From<i32> for IntOrString {
    fn from(v: i32) -> Self {
        IntOrString::Int(v)
    }
}

impl From<&str> for IntOrString {
    fn from(v: &str) -> Self {
        IntOrString::String(v.to_string())
    }
}

impl From<String> for IntOrString {
    fn from(v: String) -> Self {
        IntOrString::String(v)
    }
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrString::Int(i) => write!(f, "{i}"),
            IntOrString::String(s) => f.write_str(s),
        }
    }
}

impl IntOrString {
    /// The value as a plain integer and whether it was a percentage (`"25%"` gives
    /// `(25, true)`); Kubernetes' `getIntOrPercentValueSafely`.
    pub fn int_or_percent(&self) -> Result<(i32, bool), String> {
        match self {
            IntOrString::Int(i) => Ok((*i, false)),
            IntOrString::String(s) => {
                let Some(digits) = s.strip_suffix('%') else {
                    return Err("invalid type: string is not a percentage".to_string());
                };
                digits
                    .parse::<i32>()
                    .map(|v| (v, true))
                    .map_err(|e| format!("invalid value {s:?}: {e}"))
            }
        }
    }

    /// Kubernetes' `GetScaledValueFromIntOrPercent`: a plain integer is returned as is; a
    /// percentage is applied to `total` and rounded up (`round_up`) or down. A string that is
    /// not a percentage is an error.
    pub fn scaled_value(&self, total: i32, round_up: bool) -> Result<i32, String> {
        let (value, is_percent) = self
            .int_or_percent()
            .map_err(|e| format!("invalid value for IntOrString: {e}"))?;
        if !is_percent {
            return Ok(value);
        }
        let product = i64::from(value) * i64::from(total);
        let scaled = if round_up {
            product.div_euclid(100) + i64::from(product.rem_euclid(100) != 0)
        } else {
            product.div_euclid(100)
        };
        i32::try_from(scaled)
            .map_err(|_| format!("invalid value for IntOrString: {self} of {total} overflows"))
    }
}

#[cfg(test)]
mod tests {
    use super::IntOrString;

    struct Case {
        name: &'static str,
        input: IntOrString,
        total: i32,
        round_up: bool,
        want: Result<i32, &'static str>,
    }

    fn check(c: &Case) {
        let got = c.input.scaled_value(c.total, c.round_up);
        match (&got, &c.want) {
            (Ok(g), Ok(w)) => assert_eq!(g, w, "{}", c.name),
            (Err(g), Err(w)) => assert!(g.contains(w), "{}: error {g:?} lacks {w:?}", c.name),
            _ => panic!("{}: got {got:?}, want {:?}", c.name, c.want),
        }
    }

    #[test]
    fn scaled_value_cases() {
        let cases = [
            Case {
                name: "plain int",
                input: 3.into(),
                total: 10,
                round_up: true,
                want: Ok(3),
            },
            Case {
                name: "25% of 10 up",
                input: "25%".into(),
                total: 10,
                round_up: true,
                want: Ok(3),
            },
            Case {
                name: "25% of 10 down",
                input: "25%".into(),
                total: 10,
                round_up: false,
                want: Ok(2),
            },
            Case {
                name: "exact percent",
                input: "50%".into(),
                total: 10,
                round_up: true,
                want: Ok(5),
            },
            Case {
                name: "0% of 10",
                input: "0%".into(),
                total: 10,
                round_up: true,
                want: Ok(0),
            },
            Case {
                name: "100% of 7",
                input: "100%".into(),
                total: 7,
                round_up: false,
                want: Ok(7),
            },
            Case {
                name: "1% of 1 up",
                input: "1%".into(),
                total: 1,
                round_up: true,
                want: Ok(1),
            },
            Case {
                name: "1% of 1 down",
                input: "1%".into(),
                total: 1,
                round_up: false,
                want: Ok(0),
            },
            Case {
                name: "not a percentage",
                input: "abc".into(),
                total: 10,
                round_up: true,
                want: Err("string is not a percentage"),
            },
            Case {
                name: "bad percentage",
                input: "x%".into(),
                total: 10,
                round_up: true,
                want: Err("invalid value \"x%\""),
            },
        ];
        for c in &cases {
            check(c);
        }
    }

    #[test]
    fn wire_form() {
        let v: Vec<IntOrString> = serde_json::from_str(r#"[8080, "http", "25%"]"#).unwrap();
        assert_eq!(v, vec![IntOrString::Int(8080), "http".into(), "25%".into()]);
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"[8080,"http","25%"]"#);
        assert_eq!(IntOrString::default(), IntOrString::Int(0));
    }
}
