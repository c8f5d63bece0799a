//! Facts about the machine a worker runs on (CPU, memory, kernel, OS) and the node's declared
//! labels and taints, as they go into the Node object.

use anyhow::{bail, Result};

/// `key=value:Effect` or `key:Effect`, checked.
pub fn parse_taint(s: &str) -> Result<(String, String, String)> {
    let (kv, effect) = s
        .rsplit_once(':')
        .ok_or_else(|| anyhow::anyhow!("taint {s:?}: want key=value:Effect"))?;
    if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
        bail!("taint {s:?}: effect must be NoSchedule, PreferNoSchedule or NoExecute");
    }
    let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
    if let Some(why) = capstan_core::validation::is_qualified_name(key).first() {
        bail!("taint {s:?}: key {key:?}: {why}");
    }
    if let Some(why) = capstan_core::validation::is_valid_label_value(value).first() {
        bail!("taint {s:?}: value {value:?}: {why}");
    }
    Ok((key.to_string(), value.to_string(), effect.to_string()))
}

/// CPU cores this process may use.
pub fn cpu_millis() -> i64 {
    std::thread::available_parallelism().map_or(1, |n| n.get() as i64) * 1000
}

/// MemTotal from /proc/meminfo, in bytes.
pub fn memory_bytes() -> i64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<i64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// The kernel release (`uname -r`).
pub fn kernel_version() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// PRETTY_NAME from /etc/os-release.
pub fn os_image() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("PRETTY_NAME="))
                .map(|v| v.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| "Linux".to_string())
}

/// `amd64`, `arm64`, … as Kubernetes names architectures.
pub fn architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

/// /etc/machine-id, if present.
pub fn machine_id() -> String {
    std::fs::read_to_string("/etc/machine-id")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taints_parse_or_name_the_problem() {
        assert_eq!(
            parse_taint("dedicated=gpu:NoSchedule").expect("valid"),
            ("dedicated".into(), "gpu".into(), "NoSchedule".into())
        );
        assert_eq!(parse_taint("maintenance:NoExecute").expect("valid").1, "");
        for bad in [
            "x",
            "a=b:Sometimes",
            "bad key=x:NoSchedule",
            "k=bad value:NoSchedule",
        ] {
            assert!(parse_taint(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn machine_facts_are_plausible() {
        assert!(cpu_millis() >= 1000);
        assert!(memory_bytes() > 64 * 1024 * 1024);
        assert!(!architecture().is_empty());
    }
}
