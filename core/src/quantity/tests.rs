use super::*;
use QuantityFormat::{BinarySI, DecimalExponent, DecimalSI};

/// What parsing one input should give.
#[derive(Debug, PartialEq, Eq)]
struct Want {
    milli: i64,
    units: i64,
    format: QuantityFormat,
}

const fn ok(milli: i64, units: i64, format: QuantityFormat) -> Result<Want, QuantityError> {
    Ok(Want {
        milli,
        units,
        format,
    })
}

struct Case {
    name: &'static str,
    input: &'static str,
    want: Result<Want, QuantityError>,
}

fn check(case: &Case) {
    let got = parse_quantity(case.input).map(|p| Want {
        milli: p.milli_value(),
        units: p.value(),
        format: p.format(),
    });
    assert_eq!(got, case.want, "case {} ({:?})", case.name, case.input);
    // The Quantity convenience wrappers agree with the free function.
    let q = Quantity(case.input.to_string());
    match &case.want {
        Ok(w) => {
            assert_eq!(q.to_milli(), Ok(w.milli), "case {} to_milli", case.name);
            assert_eq!(q.to_units(), Ok(w.units), "case {} to_units", case.name);
        }
        Err(e) => {
            assert_eq!(q.to_milli().as_ref(), Err(e), "case {} to_milli", case.name);
            assert_eq!(q.to_units().as_ref(), Err(e), "case {} to_units", case.name);
        }
    }
}

fn out_of_range(s: &str) -> Result<Want, QuantityError> {
    Err(QuantityError::OutOfRange(s.to_string()))
}

#[test]
fn parse_table() {
    const MAX: i64 = i64::MAX;
    const MIN: i64 = i64::MIN;
    let too_precise = "123456789012345678901234567890123456789";
    let huge_exp = "1e99999999999999999999";
    let cases = [
        // Plain and decimal SI.
        Case {
            name: "millicores",
            input: "250m",
            want: ok(250, 1, DecimalSI),
        },
        Case {
            name: "whole cores",
            input: "2",
            want: ok(2000, 2, DecimalSI),
        },
        Case {
            name: "fraction",
            input: "0.5",
            want: ok(500, 1, DecimalSI),
        },
        Case {
            name: "leading dot",
            input: ".5",
            want: ok(500, 1, DecimalSI),
        },
        Case {
            name: "trailing dot",
            input: "5.",
            want: ok(5000, 5, DecimalSI),
        },
        Case {
            name: "zero",
            input: "0",
            want: ok(0, 0, DecimalSI),
        },
        Case {
            name: "zero with suffix",
            input: "0Mi",
            want: ok(0, 0, BinarySI),
        },
        Case {
            name: "many zeros",
            input: "000.000",
            want: ok(0, 0, DecimalSI),
        },
        Case {
            name: "negative zero",
            input: "-0",
            want: ok(0, 0, DecimalSI),
        },
        Case {
            name: "leading zeros",
            input: "00012",
            want: ok(12000, 12, DecimalSI),
        },
        Case {
            name: "negative",
            input: "-1",
            want: ok(-1000, -1, DecimalSI),
        },
        Case {
            name: "explicit plus",
            input: "+5",
            want: ok(5000, 5, DecimalSI),
        },
        Case {
            name: "negative milli rounds up",
            input: "-250m",
            want: ok(-250, 0, DecimalSI),
        },
        Case {
            name: "negative fraction",
            input: "-1.5",
            want: ok(-1500, -1, DecimalSI),
        },
        Case {
            name: "nano rounds up",
            input: "100n",
            want: ok(1, 1, DecimalSI),
        },
        Case {
            name: "micro",
            input: "1u",
            want: ok(1, 1, DecimalSI),
        },
        Case {
            name: "fractional milli rounds up",
            input: "1.0001m",
            want: ok(2, 1, DecimalSI),
        },
        Case {
            name: "exact milli stays",
            input: "1.000m",
            want: ok(1, 1, DecimalSI),
        },
        Case {
            name: "kilo",
            input: "1k",
            want: ok(1_000_000, 1000, DecimalSI),
        },
        Case {
            name: "mega",
            input: "1.5M",
            want: ok(1_500_000_000, 1_500_000, DecimalSI),
        },
        Case {
            name: "giga",
            input: "1G",
            want: ok(1_000_000_000_000, 1_000_000_000, DecimalSI),
        },
        Case {
            name: "tera",
            input: "2T",
            want: ok(2_000_000_000_000_000, 2_000_000_000_000, DecimalSI),
        },
        Case {
            name: "peta",
            input: "1P",
            want: ok(1_000_000_000_000_000_000, 1_000_000_000_000_000, DecimalSI),
        },
        Case {
            name: "exa",
            input: "1E",
            want: ok(MAX, 1_000_000_000_000_000_000, DecimalSI),
        },
        // Binary SI.
        Case {
            name: "kibi",
            input: "1Ki",
            want: ok(1_024_000, 1024, BinarySI),
        },
        Case {
            name: "mebi",
            input: "128Mi",
            want: ok(134_217_728_000, 134_217_728, BinarySI),
        },
        Case {
            name: "fractional gibi",
            input: "1.5Gi",
            want: ok(1_610_612_736_000, 1_610_612_736, BinarySI),
        },
        Case {
            name: "tebi",
            input: "1Ti",
            want: ok(1_099_511_627_776_000, 1_099_511_627_776, BinarySI),
        },
        Case {
            name: "pebi",
            input: "1Pi",
            want: ok(1_125_899_906_842_624_000, 1_125_899_906_842_624, BinarySI),
        },
        Case {
            name: "exbi fraction",
            input: "1.5Ei",
            want: ok(MAX, 1_729_382_256_910_270_464, BinarySI),
        },
        Case {
            name: "fractional kibi rounds up",
            input: "0.001Ki",
            want: ok(1024, 2, BinarySI),
        },
        Case {
            name: "i64 max bytes saturate",
            input: "8Ei",
            want: ok(MAX, MAX, BinarySI),
        },
        Case {
            name: "i64 min bytes exact",
            input: "-8Ei",
            want: ok(MIN, MIN, BinarySI),
        },
        // Decimal exponent.
        Case {
            name: "exponent",
            input: "1e3",
            want: ok(1_000_000, 1000, DecimalExponent),
        },
        Case {
            name: "upper exponent",
            input: "1E3",
            want: ok(1_000_000, 1000, DecimalExponent),
        },
        Case {
            name: "plus exponent",
            input: "1e+3",
            want: ok(1_000_000, 1000, DecimalExponent),
        },
        Case {
            name: "negative exponent",
            input: "1E-3",
            want: ok(1, 1, DecimalExponent),
        },
        Case {
            name: "fraction exponent",
            input: "2.5e-1",
            want: ok(250, 1, DecimalExponent),
        },
        Case {
            name: "tiny exponent rounds up",
            input: "1e-1000",
            want: ok(1, 1, DecimalExponent),
        },
        Case {
            name: "tiny negative",
            input: "-1e-1000",
            want: ok(0, 0, DecimalExponent),
        },
        Case {
            name: "huge exponent saturates",
            input: "1e1000",
            want: ok(MAX, MAX, DecimalExponent),
        },
        Case {
            name: "huge negative saturates",
            input: "-1e1000",
            want: ok(MIN, MIN, DecimalExponent),
        },
        // Bounds.
        Case {
            name: "i64 max",
            input: "9223372036854775807",
            want: ok(MAX, MAX, DecimalSI),
        },
        Case {
            name: "beyond i64",
            input: "9223372036854775808",
            want: ok(MAX, MAX, DecimalSI),
        },
        Case {
            name: "i64 min",
            input: "-9223372036854775808",
            want: ok(MIN, MIN, DecimalSI),
        },
        Case {
            name: "long zeros ok",
            input: "1000000000000000000000000000000000000000000000",
            want: ok(MAX, MAX, DecimalSI),
        },
        Case {
            name: "long fraction ok",
            input: "0.000000000000000000000000000000000000000000001",
            want: ok(1, 1, DecimalSI),
        },
        Case {
            name: "too precise",
            input: too_precise,
            want: out_of_range(too_precise),
        },
        Case {
            name: "exponent overflow",
            input: huge_exp,
            want: out_of_range(huge_exp),
        },
        // Syntax errors.
        Case {
            name: "empty",
            input: "",
            want: Err(QuantityError::Format),
        },
        Case {
            name: "letters",
            input: "abc",
            want: Err(QuantityError::Format),
        },
        Case {
            name: "two dots",
            input: "1.2.3",
            want: Err(QuantityError::Format),
        },
        Case {
            name: "inner space",
            input: "12 Mi",
            want: Err(QuantityError::Format),
        },
        Case {
            name: "leading space",
            input: " 1",
            want: Err(QuantityError::Format),
        },
        Case {
            name: "trailing space",
            input: "1 ",
            want: Err(QuantityError::Format),
        },
        Case {
            name: "suffix only",
            input: "Mi",
            want: Err(QuantityError::Format),
        },
        Case {
            name: "double sign",
            input: "--1",
            want: Err(QuantityError::Format),
        },
        Case {
            name: "sign only",
            input: "-",
            want: Err(QuantityError::Format),
        },
        Case {
            name: "dot only",
            input: ".",
            want: Err(QuantityError::Format),
        },
        Case {
            name: "hex",
            input: "0x10",
            want: Err(QuantityError::Format),
        },
        Case {
            name: "nan",
            input: "NaN",
            want: Err(QuantityError::Format),
        },
        Case {
            name: "inf",
            input: "Inf",
            want: Err(QuantityError::Format),
        },
        Case {
            name: "dot in suffix",
            input: "1.1.M",
            want: Err(QuantityError::Format),
        },
        Case {
            name: "sign inside",
            input: "1+1.0M",
            want: Err(QuantityError::Format),
        },
        Case {
            name: "fractional exponent",
            input: "1e3.5",
            want: Err(QuantityError::Format),
        },
        Case {
            name: "double exponent",
            input: "1e3e3",
            want: Err(QuantityError::Format),
        },
        // Suffix errors.
        Case {
            name: "double suffix",
            input: "1Mii",
            want: Err(QuantityError::Suffix),
        },
        Case {
            name: "two suffixes",
            input: "1kM",
            want: Err(QuantityError::Suffix),
        },
        Case {
            name: "bare e",
            input: "1e",
            want: Err(QuantityError::Suffix),
        },
        Case {
            name: "exponent without digits",
            input: "1e-",
            want: Err(QuantityError::Suffix),
        },
        Case {
            name: "upper K",
            input: "1K",
            want: Err(QuantityError::Suffix),
        },
        Case {
            name: "bare i",
            input: "1i",
            want: Err(QuantityError::Suffix),
        },
        Case {
            name: "milli-ibi",
            input: "0.1mi",
            want: Err(QuantityError::Suffix),
        },
        Case {
            name: "suffix with digits",
            input: "1m3",
            want: Err(QuantityError::Suffix),
        },
    ];
    for case in &cases {
        check(case);
    }
}

#[test]
fn parsed_parts_are_normalised() {
    let p = parse_quantity("1500m").unwrap();
    assert_eq!((p.mantissa(), p.exp10(), p.exp2()), (15, -1, 0));
    let p = parse_quantity("-1.5Gi").unwrap();
    assert_eq!((p.mantissa(), p.exp10(), p.exp2()), (-15, -1, 30));
    assert!(p.is_negative() && !p.is_zero());
    let p: ParsedQuantity = "0.000".parse().unwrap();
    assert!(p.is_zero() && !p.is_negative());
    assert_eq!(parse_quantity("3k").unwrap().scaled_value(-3), 3);
    assert_eq!(parse_quantity("3500").unwrap().scaled_value(-3), 4);
}

#[test]
fn error_messages() {
    assert_eq!(
        QuantityError::Format.to_string(),
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    );
    assert_eq!(
        QuantityError::Suffix.to_string(),
        "unable to parse quantity's suffix"
    );
    assert!(QuantityError::OutOfRange("1e99".into())
        .to_string()
        .contains("\"1e99\" is out of range"));
}

#[test]
fn format_milli_cpu_table() {
    let cases: [(i64, &str); 7] = [
        (0, "0"),
        (250, "250m"),
        (1000, "1"),
        (2000, "2"),
        (1500, "1500m"),
        (-250, "-250m"),
        (-3000, "-3"),
    ];
    for (input, want) in cases {
        assert_eq!(format_milli_cpu(input), want, "format_milli_cpu({input})");
        // Round trip.
        assert_eq!(Quantity(want.to_string()).to_milli(), Ok(input));
    }
}

#[test]
fn format_bytes_table() {
    let cases: [(i64, &str); 10] = [
        (0, "0"),
        (1, "1"),
        (1000, "1000"),
        (1024, "1Ki"),
        (1536, "1536"),
        (2048, "2Ki"),
        (134_217_728, "128Mi"),
        (1_610_612_736, "1536Mi"),
        (1 << 30, "1Gi"),
        (i64::MIN, "-8Ei"),
    ];
    for (input, want) in cases {
        assert_eq!(format_bytes(input), want, "format_bytes({input})");
        assert_eq!(Quantity(want.to_string()).to_units(), Ok(input));
    }
}

#[test]
fn quantity_conversions_and_serde_unchanged() {
    let q: Quantity = serde_json::from_str("1").unwrap();
    assert_eq!(q, Quantity::from("1"));
    assert_eq!(q.to_milli(), Ok(1000));
    let q: Quantity = serde_json::from_str("\"64Mi\"").unwrap();
    assert_eq!(q.to_string(), "64Mi");
    assert_eq!(serde_json::to_string(&q).unwrap(), "\"64Mi\"");
    assert_eq!(Quantity::from(String::from("2")).to_units(), Ok(2));
    assert_eq!(QuantityFormat::BinarySI.to_string(), "BinarySI");
}
