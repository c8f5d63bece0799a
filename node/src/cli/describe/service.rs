//! `describe service`.

use super::events::events_section;
use super::text::{header, int, list, map, or_none, s, scalar, Doc};
use capstan_core::time::Timestamp;
use serde_json::Value;

/// `ip:port,...` of the endpoints serving port `port_name` (at most 3, then `+ N more...`).
pub fn format_endpoints(endpoints: Option<&Value>, port_name: &str) -> String {
    let Some(ep) = endpoints else {
        return "<none>".into();
    };
    const MAX: usize = 3;
    let mut shown = Vec::new();
    let mut count = 0;
    for subset in list(ep, "/subsets") {
        let addrs = list(subset, "/addresses");
        let ports = list(subset, "/ports");
        if ports.is_empty() {
            for a in addrs {
                if shown.len() < MAX {
                    shown.push(s(a, "/ip").to_string());
                }
                count += 1;
            }
            continue;
        }
        for p in ports.iter().filter(|p| s(p, "/name") == port_name) {
            for a in addrs {
                if shown.len() < MAX {
                    let ip = s(a, "/ip");
                    let port = int(p, "/port", 0);
                    shown.push(if ip.contains(':') {
                        format!("[{ip}]:{port}")
                    } else {
                        format!("{ip}:{port}")
                    });
                }
                count += 1;
            }
        }
    }
    let text = or_none(&shown.join(","));
    if count > MAX {
        format!("{text} + {} more...", count - MAX)
    } else {
        text
    }
}

/// A service as `kubectl describe service` shows it; `endpoints` is its Endpoints object.
pub fn render_service(
    svc: &Value,
    endpoints: Option<&Value>,
    events: &[Value],
    now: Timestamp,
) -> String {
    let mut d = Doc::new();
    header(&mut d, svc);
    let mut selector: Vec<String> = map(svc, "/spec/selector")
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", scalar(Some(v))))
                .collect()
        })
        .unwrap_or_default();
    selector.sort();
    d.field(0, "Selector", &selector.join(","));
    d.field(0, "Type", s(svc, "/spec/type"));
    if !s(svc, "/spec/ipFamilyPolicy").is_empty() {
        d.field(0, "IP Family Policy", s(svc, "/spec/ipFamilyPolicy"));
    }
    let join = |key: &str| {
        list(svc, key)
            .iter()
            .map(|v| scalar(Some(v)))
            .collect::<Vec<_>>()
            .join(",")
    };
    if !join("/spec/ipFamilies").is_empty() {
        d.field(0, "IP Families", &join("/spec/ipFamilies"));
    }
    d.field(0, "IP", s(svc, "/spec/clusterIP"));
    if !join("/spec/clusterIPs").is_empty() {
        d.field(0, "IPs", &join("/spec/clusterIPs"));
    }
    if !join("/spec/externalIPs").is_empty() {
        d.field(0, "External IPs", &join("/spec/externalIPs"));
    }
    if !s(svc, "/spec/externalName").is_empty() {
        d.field(0, "External Name", s(svc, "/spec/externalName"));
    }
    for p in list(svc, "/spec/ports") {
        let name = or_unset(s(p, "/name"));
        let proto = match s(p, "/protocol") {
            "" => "TCP",
            other => other,
        };
        d.line(0, &format!("Port:\t{name}\t{}/{proto}", int(p, "/port", 0)));
        let target = match scalar(p.get("targetPort")) {
            t if t.is_empty() => int(p, "/port", 0).to_string(),
            t => t,
        };
        d.field(0, "TargetPort", &format!("{target}/{proto}"));
        if int(p, "/nodePort", 0) != 0 {
            d.line(
                0,
                &format!("NodePort:\t{name}\t{}/{proto}", int(p, "/nodePort", 0)),
            );
        }
        d.field(0, "Endpoints", &format_endpoints(endpoints, s(p, "/name")));
    }
    d.field(
        0,
        "Session Affinity",
        or_default(s(svc, "/spec/sessionAffinity"), "None"),
    );
    if !s(svc, "/spec/externalTrafficPolicy").is_empty() {
        d.field(
            0,
            "External Traffic Policy",
            s(svc, "/spec/externalTrafficPolicy"),
        );
    }
    if !s(svc, "/spec/internalTrafficPolicy").is_empty() {
        d.field(
            0,
            "Internal Traffic Policy",
            s(svc, "/spec/internalTrafficPolicy"),
        );
    }
    events_section(&mut d, events, now);
    d.finish()
}

fn or_unset(s: &str) -> &str {
    if s.is_empty() {
        "<unset>"
    } else {
        s
    }
}

fn or_default<'a>(s: &'a str, default: &'a str) -> &'a str {
    if s.is_empty() {
        default
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn services_show_ports_and_endpoints() {
        let svc = json!({
            "metadata": {"name": "web", "namespace": "default"},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "selector": {"app": "web"},
                "ports": [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]},
        });
        let ep = json!({"subsets": [{"addresses": [{"ip": "10.1.0.1"}, {"ip": "10.1.0.2"}, {"ip": "10.1.0.3"}, {"ip": "10.1.0.4"}],
            "ports": [{"name": "http", "port": 8080}]}]});
        let text = render_service(&svc, Some(&ep), &[], Timestamp(0));
        for want in [
            "Selector:           app=web\n",
            "Type:               ClusterIP\n",
            "IP:                 10.96.0.10\n",
            "Port:               http  80/TCP\n",
            "TargetPort:         8080/TCP\n",
            "Endpoints:          10.1.0.1:8080,10.1.0.2:8080,10.1.0.3:8080 + 1 more...\n",
            "Session Affinity:   None\n",
        ] {
            assert!(text.contains(want), "{want:?} missing from\n{text}");
        }
        assert_eq!(format_endpoints(None, "http"), "<none>");
        assert_eq!(format_endpoints(Some(&json!({})), "http"), "<none>");
    }
}
