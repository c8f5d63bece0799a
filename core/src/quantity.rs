//! Kubernetes resource quantities (`250m`, `2`, `128Mi`, `1G`, `1e3`), parsed exactly as integers.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// A quantity as written by the user (`"250m"`, `"1Gi"`). Kept as its canonical text on the wire;
/// numbers in JSON/YAML (`cpu: 1`) are accepted and turned into text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quantity(pub String);

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            I(i64),
            U(u64),
            F(f64),
        }
        Ok(Quantity(match Raw::deserialize(d)? {
            Raw::S(s) => s,
            Raw::I(i) => i.to_string(),
            Raw::U(u) => u.to_string(),
            Raw::F(f) => f.to_string(),
        }))
    }
}

#[cfg(test)]
mod tests;

/// The Kubernetes syntax message, reused verbatim so clients see familiar wording.
const FORMAT_MESSAGE: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/// Why a quantity string could not be turned into a number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The text does not follow `<sign><digits>[.<digits>][<suffix>]` (Kubernetes `ErrFormatWrong`).
    #[error("{}", FORMAT_MESSAGE)]
    Format,
    /// The text is shaped like a quantity but its suffix is unknown, e.g. `1Mii`, `1K`, `1e`
    /// (Kubernetes `ErrSuffix`).
    #[error("unable to parse quantity's suffix")]
    Suffix,
    /// The number is too precise or its exponent too large to be represented exactly
    /// (more than 38 significant digits, or an exponent beyond ±2^62). Carries the input.
    #[error("unable to parse numeric part of quantity: {0:?} is out of range")]
    OutOfRange(String),
}

/// The notation family a quantity was written in (Kubernetes `resource.Format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QuantityFormat {
    /// Power-of-two suffixes: `Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei`.
    BinarySI,
    /// Power-of-ten SI suffixes: `n`, `u`, `m`, none, `k`, `M`, `G`, `T`, `P`, `E`.
    DecimalSI,
    /// A decimal exponent: `1e3`, `5E-2`.
    DecimalExponent,
}

impl fmt::Display for QuantityFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            QuantityFormat::BinarySI => "BinarySI",
            QuantityFormat::DecimalSI => "DecimalSI",
            QuantityFormat::DecimalExponent => "DecimalExponent",
        })
    }
}

/// The exact value of a parsed quantity: `mantissa × 10^exp10 × 2^exp2`.
///
/// The mantissa carries the sign and has no trailing decimal zeros (they are folded into
/// `exp10`), so `"1500m"` is `15 × 10^-1 × 2^0` and `"1.5Gi"` is `15 × 10^-1 × 2^30`. No floating
/// point is ever involved; conversions to integers round up exactly like Kubernetes.
#[derive(Debug, Clone, Copy)]
pub struct ParsedQuantity {
    mantissa: i128,
    exp10: i64,
    exp2: u32,
    format: QuantityFormat,
}

/// Parses a Kubernetes quantity (`250m`, `2`, `0.5`, `128Mi`, `1G`, `1e3`, `1E-3`) exactly.
///
/// Accepts `<sign><digits>[.<digits>][<suffix>]` where at least one digit is present and the
/// suffix is a binary SI suffix, a decimal SI suffix or a decimal exponent. Whitespace anywhere,
/// several suffixes, hexadecimal, `NaN` and the like are rejected.
pub fn parse_quantity(s: &str) -> Result<ParsedQuantity, QuantityError> {
    let b = s.as_bytes();
    let mut pos = 0;
    let negative = match b.first() {
        None => return Err(QuantityError::Format),
        Some(b'-') => {
            pos = 1;
            true
        }
        Some(b'+') => {
            pos = 1;
            false
        }
        Some(_) => false,
    };
    let digits_while = |mut p: usize| {
        while p < b.len() && b[p].is_ascii_digit() {
            p += 1;
        }
        p
    };
    let int_start = pos;
    pos = digits_while(pos);
    let int_digits = &b[int_start..pos];
    let mut frac_digits: &[u8] = &[];
    if pos < b.len() && b[pos] == b'.' {
        let frac_start = pos + 1;
        pos = digits_while(frac_start);
        frac_digits = &b[frac_start..pos];
    }
    if int_digits.is_empty() && frac_digits.is_empty() {
        return Err(QuantityError::Format);
    }
    // The suffix: letters from the Kubernetes alphabet, an optional sign, then digits.
    let suffix_start = pos;
    while pos < b.len() && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < b.len() && (b[pos] == b'+' || b[pos] == b'-') {
        pos += 1;
    }
    pos = digits_while(pos);
    if pos != b.len() {
        return Err(QuantityError::Format);
    }
    let (format, suffix_exp10, exp2) = interpret_suffix(&s[suffix_start..], s)?;

    let out_of_range = || QuantityError::OutOfRange(s.to_string());
    let all: Vec<u8> = int_digits.iter().chain(frac_digits).copied().collect();
    let Some(first) = all.iter().position(|&c| c != b'0') else {
        return Ok(ParsedQuantity {
            mantissa: 0,
            exp10: 0,
            exp2: 0,
            format,
        });
    };
    let significant = &all[first..];
    let last = significant
        .iter()
        .rposition(|&c| c != b'0')
        .map_or(0, |i| i + 1);
    let trailing_zeros = (significant.len() - last) as i64;
    let significant = &significant[..last];
    if significant.len() > 38 {
        return Err(out_of_range());
    }
    let mut mantissa: i128 = 0;
    for &c in significant {
        mantissa = mantissa * 10 + i128::from(c - b'0');
    }
    if negative {
        mantissa = -mantissa;
    }
    let exp10 = suffix_exp10
        .checked_sub(frac_digits.len() as i64)
        .and_then(|e| e.checked_add(trailing_zeros))
        .filter(|e| e.unsigned_abs() <= 1 << 62)
        .ok_or_else(out_of_range)?;
    Ok(ParsedQuantity {
        mantissa,
        exp10,
        exp2,
        format,
    })
}

/// Maps a suffix to (format, power of ten, power of two), as Kubernetes' `quantitySuffixer`.
fn interpret_suffix(
    suffix: &str,
    input: &str,
) -> Result<(QuantityFormat, i64, u32), QuantityError> {
    use QuantityFormat::*;
    let found = match suffix {
        "Ki" => (BinarySI, 0, 10),
        "Mi" => (BinarySI, 0, 20),
        "Gi" => (BinarySI, 0, 30),
        "Ti" => (BinarySI, 0, 40),
        "Pi" => (BinarySI, 0, 50),
        "Ei" => (BinarySI, 0, 60),
        "n" => (DecimalSI, -9, 0),
        "u" => (DecimalSI, -6, 0),
        "m" => (DecimalSI, -3, 0),
        "" => (DecimalSI, 0, 0),
        "k" => (DecimalSI, 3, 0),
        "M" => (DecimalSI, 6, 0),
        "G" => (DecimalSI, 9, 0),
        "T" => (DecimalSI, 12, 0),
        "P" => (DecimalSI, 15, 0),
        "E" => (DecimalSI, 18, 0),
        _ => {
            let Some(exp) = suffix.strip_prefix(['e', 'E']) else {
                return Err(QuantityError::Suffix);
            };
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return Err(QuantityError::Suffix);
            }
            let exp: i64 = exp
                .parse()
                .map_err(|_| QuantityError::OutOfRange(input.to_string()))?;
            (DecimalExponent, exp, 0)
        }
    };
    Ok(found)
}

impl FromStr for ParsedQuantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_quantity(s)
    }
}

impl ParsedQuantity {
    /// The notation the quantity was written in.
    pub fn format(&self) -> QuantityFormat {
        self.format
    }

    /// The signed significant digits (no trailing zeros); the value is
    /// `mantissa() × 10^exp10() × 2^exp2()`.
    pub fn mantissa(&self) -> i128 {
        self.mantissa
    }

    /// The power of ten of the value (see [`ParsedQuantity::mantissa`]).
    pub fn exp10(&self) -> i64 {
        self.exp10
    }

    /// The power of two of the value, from a binary suffix (see [`ParsedQuantity::mantissa`]).
    pub fn exp2(&self) -> u32 {
        self.exp2
    }

    /// True if the value is exactly zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// True if the value is below zero.
    pub fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    /// `ceil(value × 1000)`, saturating at the `i64` bounds, like Kubernetes `MilliValue`
    /// (`100n` → 1, `250m` → 250, `2` → 2000).
    pub fn milli_value(&self) -> i64 {
        self.scaled_value(3)
    }

    /// `ceil(value)`, saturating at the `i64` bounds, like Kubernetes `Value`
    /// (`250m` → 1, `128Mi` → 134217728).
    pub fn value(&self) -> i64 {
        self.scaled_value(0)
    }

    /// `ceil(value × 10^scale)`, saturating at the `i64` bounds (`scale` 3 is milli, -3 is kilo).
    pub fn scaled_value(&self, scale: i32) -> i64 {
        if self.mantissa == 0 {
            return 0;
        }
        let negative = self.mantissa < 0;
        let saturated = if negative { i64::MIN } else { i64::MAX };
        let mut n = Magnitude::new(self.mantissa.unsigned_abs());
        let mut shift = self.exp2;
        while shift > 0 {
            let step = shift.min(31);
            n.mul_small(1 << step);
            shift -= step;
        }
        let e = self.exp10 + i64::from(scale);
        let mut inexact = false;
        if e > 0 {
            if e > 40 {
                // |value| >= 10^41: far beyond i64.
                return saturated;
            }
            for _ in 0..e {
                n.mul_small(10);
            }
        } else {
            for _ in 0..e.unsigned_abs() {
                if n.is_zero() {
                    break;
                }
                inexact |= n.div_small(10) != 0;
            }
        }
        // |value| lies in [n, n + 1) and equals n unless `inexact`.
        let Some(q) = n.to_u128() else {
            return saturated;
        };
        if negative {
            // ceil(-x) = -floor(x)
            if q > i64::MAX as u128 + 1 {
                i64::MIN
            } else {
                (-(q as i128)) as i64
            }
        } else {
            let q = q + u128::from(inexact);
            i64::try_from(q).unwrap_or(i64::MAX)
        }
    }
}

/// A tiny unsigned big integer (little-endian base 2^32), enough for `10^38 × 2^60 × 10^40`.
struct Magnitude(Vec<u32>);

impl Magnitude {
    fn new(v: u128) -> Self {
        Magnitude((0..4).map(|i| (v >> (32 * i)) as u32).collect())
    }

    fn is_zero(&self) -> bool {
        self.0.iter().all(|&l| l == 0)
    }

    fn mul_small(&mut self, m: u32) {
        let mut carry = 0u64;
        for limb in &mut self.0 {
            let v = u64::from(*limb) * u64::from(m) + carry;
            *limb = v as u32;
            carry = v >> 32;
        }
        if carry != 0 {
            self.0.push(carry as u32);
        }
    }

    /// Divides in place, returning the remainder.
    fn div_small(&mut self, d: u32) -> u32 {
        let mut rem = 0u64;
        for limb in self.0.iter_mut().rev() {
            let v = (rem << 32) | u64::from(*limb);
            *limb = (v / u64::from(d)) as u32;
            rem = v % u64::from(d);
        }
        rem as u32
    }

    fn to_u128(&self) -> Option<u128> {
        if self.0.iter().skip(4).any(|&l| l != 0) {
            return None;
        }
        Some(
            self.0
                .iter()
                .take(4)
                .enumerate()
                .fold(0u128, |acc, (i, &l)| acc | (u128::from(l) << (32 * i))),
        )
    }
}

impl Quantity {
    /// Parses the quantity exactly (see [`parse_quantity`]).
    pub fn parse(&self) -> Result<ParsedQuantity, QuantityError> {
        parse_quantity(&self.0)
    }

    /// The value in thousandths, rounded up: CPU in millicores (`250m` → 250, `2` → 2000).
    pub fn to_milli(&self) -> Result<i64, QuantityError> {
        Ok(self.parse()?.milli_value())
    }

    /// The value in whole units, rounded up: bytes for memory (`128Mi` → 134217728).
    pub fn to_units(&self) -> Result<i64, QuantityError> {
        Ok(self.parse()?.value())
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Quantity {
    fn from(s: &str) -> Self {
        Quantity(s.to_string())
    }
}

impl From<String> for Quantity {
    fn from(s: String) -> Self {
        Quantity(s)
    }
}

/// Renders millicores the way Kubernetes does: whole cores without suffix (`2000` → `"2"`),
/// otherwise millicores (`250` → `"250m"`, `1500` → `"1500m"`).
pub fn format_milli_cpu(m: i64) -> String {
    if m % 1000 == 0 {
        (m / 1000).to_string()
    } else {
        format!("{m}m")
    }
}

/// Renders bytes with the largest binary suffix that divides them exactly
/// (`134217728` → `"128Mi"`, `2048` → `"2Ki"`, `1536` → `"1536"`, `1000` → `"1000"`).
pub fn format_bytes(b: i64) -> String {
    if b == 0 {
        return "0".to_string();
    }
    for (suffix, shift) in [
        ("Ei", 60),
        ("Pi", 50),
        ("Ti", 40),
        ("Gi", 30),
        ("Mi", 20),
        ("Ki", 10),
    ] {
        let unit = 1i64 << shift;
        if b % unit == 0 {
            return format!("{}{suffix}", b / unit);
        }
    }
    b.to_string()
}
