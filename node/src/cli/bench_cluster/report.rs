//! The results of `capstan bench cluster`: the summary table, `result.json`, a Markdown report
//! and SVG line plots (drawn here, no plotting library).

use serde_json::Value;
use std::fmt::Write as _;
use std::path::Path;

/// A line plot of `points` (x, y) as a standalone SVG.
pub fn svg_plot(title: &str, x_label: &str, y_label: &str, points: &[(f64, f64)]) -> String {
    const W: f64 = 640.0;
    const H: f64 = 360.0;
    const L: f64 = 70.0;
    const B: f64 = 50.0;
    const T: f64 = 40.0;
    const R: f64 = 20.0;
    let max_x = points.iter().map(|p| p.0).fold(0.0_f64, f64::max).max(1e-9);
    let max_y = points.iter().map(|p| p.1).fold(0.0_f64, f64::max).max(1e-9);
    let sx = |x: f64| L + x / max_x * (W - L - R);
    let sy = |y: f64| H - B - y / max_y * (H - B - T);
    let mut path = String::new();
    for (i, (x, y)) in points.iter().enumerate() {
        let _ = write!(
            path,
            "{}{:.1},{:.1}",
            if i == 0 { "M" } else { " L" },
            sx(*x),
            sy(*y)
        );
    }
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;");
    format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" font-family="sans-serif" font-size="12">
<rect width="{W}" height="{H}" fill="#ffffff"/>
<text x="{L}" y="24" font-size="15" font-weight="bold">{title}</text>
<line x1="{L}" y1="{yb}" x2="{xr}" y2="{yb}" stroke="#444"/>
<line x1="{L}" y1="{T}" x2="{L}" y2="{yb}" stroke="#444"/>
<text x="{L}" y="{yl}" text-anchor="middle">0</text>
<text x="{xr}" y="{yl}" text-anchor="end">{max_x:.1}</text>
<text x="{xm}" y="{yx}" text-anchor="middle">{x_label}</text>
<text x="{yt}" y="{yb}" text-anchor="end">0</text>
<text x="{yt}" y="{T}" text-anchor="end" dominant-baseline="hanging">{max_y:.1}</text>
<text x="16" y="{ym}" transform="rotate(-90 16 {ym})" text-anchor="middle">{y_label}</text>
<path d="{path}" fill="none" stroke="#1f6feb" stroke-width="2"/>
</svg>
"##,
        title = esc(title),
        x_label = esc(x_label),
        y_label = esc(y_label),
        yb = H - B,
        xr = W - R,
        yl = H - B + 16.0,
        xm = (L + W - R) / 2.0,
        yx = H - 12.0,
        yt = L - 6.0,
        ym = (T + H - B) / 2.0,
    )
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => "—".to_string(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 => format!("{f:.1}"),
            _ => n.to_string(),
        },
        other => other.to_string().trim_matches('"').to_string(),
    }
}

/// The rows of the summary (label, key in the result).
pub const ROWS: [(&str, &str); 18] = [
    ("hollow nodes", "nodes"),
    ("pods", "pods"),
    ("pods bound per second", "pods_per_second"),
    ("pod startup p50 (ms)", "startup_p50_ms"),
    ("pod startup p90 (ms)", "startup_p90_ms"),
    ("pod startup p99 (ms)", "startup_p99_ms"),
    ("created → bound p50 (ms)", "scheduling_p50_ms"),
    ("created → bound p99 (ms)", "scheduling_p99_ms"),
    ("API write p50 (ms)", "api_p50_ms"),
    ("API write p99 (ms)", "api_p99_ms"),
    ("API writes retried", "api_write_retries"),
    ("QUIC frames per second", "transport_msgs_per_second"),
    ("node loss → replaced (s)", "node_loss_recovery_s"),
    ("master RSS peak (MiB)", "master_rss_mb"),
    ("master CPU mean (cores)", "master_cpu_cores"),
    ("lost pods", "lost_pods"),
    ("duplicate pods", "duplicate_pods"),
    ("overcommitted nodes", "overcommitted_nodes"),
];

/// The summary as a text table.
pub fn table(result: &Value) -> String {
    let mut out = String::from("METRIC                      VALUE\n");
    for (label, key) in ROWS {
        let _ = writeln!(out, "{label:<28}{}", cell(&result[key]));
    }
    out
}

/// The Markdown report.
pub fn markdown(result: &Value, command: &str) -> String {
    let mut out =
        format!("# capstan bench cluster\n\n`{command}`\n\n| metric | value |\n| --- | --- |\n");
    for (label, key) in ROWS {
        let _ = writeln!(out, "| {label} | {} |", cell(&result[key]));
    }
    out.push_str(
        "\n![pods Running over time](pods-running.svg)\n\n![pod startup latency CDF](startup-cdf.svg)\n\n![master RSS over time](master-rss.svg)\n",
    );
    out
}

/// Writes result.json, report.md and the plots into `dir`.
pub fn write_all(
    dir: &Path,
    result: &Value,
    command: &str,
    running: &[(f64, f64)],
    cdf: &[(f64, f64)],
    rss: &[(f64, f64)],
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(
        dir.join("result.json"),
        serde_json::to_string_pretty(result).unwrap_or_default(),
    )?;
    std::fs::write(dir.join("report.md"), markdown(result, command))?;
    std::fs::write(
        dir.join("pods-running.svg"),
        svg_plot("Pods Running", "seconds", "pods", running),
    )?;
    std::fs::write(
        dir.join("startup-cdf.svg"),
        svg_plot(
            "Pod startup latency (CDF)",
            "milliseconds",
            "fraction of pods",
            cdf,
        ),
    )?;
    std::fs::write(
        dir.join("master-rss.svg"),
        svg_plot("Master RSS", "seconds", "MiB", rss),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_are_svg_with_one_path_and_tables_show_every_row() {
        let svg = svg_plot("t<1>", "x", "y", &[(0.0, 0.0), (1.0, 2.0), (2.0, 1.0)]);
        assert!(svg.starts_with("<svg") && svg.contains("M70.0,310.0 L"));
        assert!(svg.contains("t&lt;1>"));
        let r =
            serde_json::json!({"nodes": 3, "pods_per_second": 12.5, "node_loss_recovery_s": null});
        let t = table(&r);
        assert!(t.contains("hollow nodes                3"));
        assert!(t.contains("12.5"));
        assert_eq!(t.lines().count(), ROWS.len() + 1);
    }
}
