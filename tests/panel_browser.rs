//! The admin panel in a real browser (Debian's headless Chromium through chromedriver) against a
//! real cluster of a master and two workers. Each step opens its own browser session, fails on a
//! console error and leaves a screenshot under `target/panel-screenshots/`: log in; see both
//! nodes; scale a Deployment from 1 to 3 and see three Running pods appear without a reload;
//! open a pod and see its log line; apply a manifest with an invalid field and see the field
//! path; cordon a node and see it marked; restart the master and see the open page recover and
//! keep updating; the same pages at phone width.

use crate::support::webdriver::{self, Browser, Driver};
use crate::support::{tempdir, Cluster, Master};
use capstan_node::client::Client;
use serde_json::{json, Value};
use std::time::Duration;

const PATIENCE: Duration = Duration::from_secs(60);

struct Panel {
    url: String,
    token: String,
}

/// Logs in through the login page (a wrong token first) and waits for the overview.
fn login(b: &Browser, p: &Panel) {
    b.goto(&format!("{}/ui/", p.url));
    b.wait_for("the login page", PATIENCE, || {
        b.url().ends_with("/ui/login").then_some(())
    });
    let token = b.wait("#token", PATIENCE);
    b.type_into(&token, "not-the-token");
    b.click(&b.wait("#login button[type=submit]", PATIENCE));
    b.wait_for("the login error", PATIENCE, || {
        b.text_of("#login-error")
            .contains("not valid")
            .then_some(())
    });
    // The refused login is a 401 the browser reports on the console: the only error allowed.
    let unexpected: Vec<(String, String)> = b
        .console()
        .into_iter()
        .filter(|(level, msg)| level == "SEVERE" && !msg.contains("status of 401"))
        .collect();
    assert!(
        unexpected.is_empty(),
        "console errors on the login page: {unexpected:#?}"
    );
    let token = b.wait("#token", PATIENCE);
    b.type_into(&token, &p.token);
    b.click(&b.wait("#login button[type=submit]", PATIENCE));
    b.wait_for("the overview", PATIENCE, || {
        (b.url().contains("/ui/") && b.find("nav[aria-label=Main]").is_some()).then_some(())
    });
}

/// Goes to a page of the panel the way a user does, by its link (no reload).
fn open(b: &Browser, hash: &str) {
    let link = b.wait(&format!("nav[aria-label=Main] a[href='{hash}']"), PATIENCE);
    b.click(&link);
    b.wait_for(&format!("page {hash}"), PATIENCE, || {
        b.url().ends_with(hash).then_some(())
    });
}

fn cell(b: &Browser, row: &str, col: &str) -> String {
    b.text_of(&format!("{row} td[data-col='{col}']"))
}

/// Marks the page so a reload would show (the mark would be gone).
fn mark(b: &Browser) {
    b.execute("window.__capstanNoReload = 42; return true;", json!([]));
}

fn not_reloaded(b: &Browser) {
    assert_eq!(
        b.execute("return window.__capstanNoReload || null;", json!([])),
        json!(42),
        "the page was reloaded"
    );
}

fn deployment(name: &str, replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"terminationGracePeriodSeconds": 1,
                                       "containers": [{"name": "main", "image": "busybox",
                                           "command": ["sh", "-c", "echo hello from the panel test; sleep 3600"],
                                           "resources": {"requests": {"cpu": "50m", "memory": "16Mi"}}}]}}}})
}

fn step_login_and_nodes(d: &Driver, p: &Panel) {
    let b = d.session("login-nodes");
    login(&b, p);
    b.wait_for("two Ready nodes on the overview", PATIENCE, || {
        b.text_of("#view").contains("Ready").then_some(())
    });
    b.screenshot("overview");
    // First paint, as the browser measured it (reported, not asserted: timing is for
    // benchmarks).
    let paint = b.execute(
        "const p = performance.getEntriesByName('first-contentful-paint')[0]; return p ? p.startTime : null;",
        json!([]),
    );
    eprintln!("panel first contentful paint: {paint} ms");
    open(&b, "#/nodes");
    for node in ["w1", "w2"] {
        let row = format!("#nodes-table tr[data-node='{node}']");
        b.wait_for(&format!("{node} Ready"), PATIENCE, || {
            (cell(&b, &row, "status") == "Ready").then_some(())
        });
    }
    b.screenshot("nodes");
    b.assert_no_console_errors();
}

fn step_scale_and_log(d: &Driver, p: &Panel, c: &Client) {
    let r = c
        .send_json(
            "POST",
            "/apis/apps/v1/namespaces/default/deployments",
            "application/json",
            &deployment("web", 1),
        )
        .expect("create deployment");
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let b = d.session("scale-log");
    login(&b, p);
    mark(&b);
    open(&b, "#/workloads");
    let row = "#deployments-table tr[data-deployment='default/web']";
    b.wait_for("web 1/1", PATIENCE, || {
        (cell(&b, row, "ready") == "1/1").then_some(())
    });
    let input = b.wait("input[data-replicas-for='default/web']", PATIENCE);
    b.clear(&input);
    b.type_into(&input, "3");
    b.click(&b.wait(
        "button[data-action='set-replicas'][data-deployment='default/web']",
        PATIENCE,
    ));
    b.wait_for("web 3/3", PATIENCE, || {
        (cell(&b, row, "ready") == "3/3").then_some(())
    });
    open(&b, "#/pods");
    b.wait_for("three web pods Running", PATIENCE, || {
        let rows = b.find_all("#pods-table tbody tr[data-pod^='default/web-']");
        let running = b
            .execute(
                "return [...document.querySelectorAll(\"#pods-table tbody tr[data-pod^='default/web-'] td[data-col='phase']\")].filter(td => td.textContent.trim() === 'Running').length;",
                json!([]),
            )
            .as_u64()
            .unwrap_or(0);
        (rows.len() == 3 && running == 3).then_some(())
    });
    not_reloaded(&b);
    b.screenshot("pods");

    // A pod's page tails its log.
    let link = b.wait(
        "#pods-table tbody tr[data-pod^='default/web-'] td[data-col='name'] a",
        PATIENCE,
    );
    b.click(&link);
    b.wait_for("the log line", PATIENCE, || {
        b.text_of("#log")
            .contains("hello from the panel test")
            .then_some(())
    });
    not_reloaded(&b);
    b.screenshot("pod-log");
    open(&b, "#/workloads");
    b.screenshot("workloads");
    open(&b, "#/overview");
    b.wait_for("pods on the overview", PATIENCE, || {
        b.text_of("#view").contains("Running").then_some(())
    });
    b.screenshot("overview");
    b.assert_no_console_errors();
}

fn step_apply_invalid(d: &Driver, p: &Panel, c: &Client) {
    let b = d.session("apply");
    login(&b, p);
    open(&b, "#/apply");
    let area = b.wait("#apply-yaml", PATIENCE);
    b.type_into(
        &area,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: typo\nspec:\n  replicass: 2\n  selector:\n    matchLabels: {app: typo}\n  template:\n    metadata:\n      labels: {app: typo}\n    spec:\n      containers:\n      - name: c\n        image: busybox\n",
    );
    b.click(&b.wait("#apply-submit", PATIENCE));
    let field = b.wait("#apply-result li[data-field='spec.replicass']", PATIENCE);
    assert!(
        b.text(&field).contains("spec.replicass"),
        "{}",
        b.text(&field)
    );
    assert_eq!(
        c.get("/apis/apps/v1/namespaces/default/deployments/typo")
            .expect("get")
            .status,
        404
    );
    b.screenshot("apply-invalid");
    // The refused apply is a 400 the browser reports on the console: the only error allowed.
    let unexpected: Vec<(String, String)> = b
        .console()
        .into_iter()
        .filter(|(level, msg)| level == "SEVERE" && !msg.contains("status of 400"))
        .collect();
    assert!(unexpected.is_empty(), "console errors: {unexpected:#?}");

    // A valid manifest applies and says what it did.
    b.clear(&area);
    b.type_into(
        &area,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: from-the-panel\n",
    );
    b.click(&b.wait("#apply-submit", PATIENCE));
    b.wait_for("created", PATIENCE, || {
        b.text_of("#apply-result")
            .contains("namespace/from-the-panel created")
            .then_some(())
    });
    b.assert_no_console_errors();
}

fn step_cordon(d: &Driver, p: &Panel, c: &Client) {
    let b = d.session("cordon");
    login(&b, p);
    open(&b, "#/nodes");
    let row = "#nodes-table tr[data-node='w2']";
    b.click(&b.wait("button[data-action='cordon'][data-node='w2']", PATIENCE));
    b.click(&b.wait("#confirm-ok", PATIENCE));
    b.wait_for("w2 SchedulingDisabled", PATIENCE, || {
        (cell(&b, row, "status") == "Ready,SchedulingDisabled").then_some(())
    });
    let n: Value = c
        .get("/api/v1/nodes/w2")
        .expect("get")
        .json()
        .expect("json");
    assert_eq!(n["spec"]["unschedulable"], true);
    // The row now offers the opposite action.
    b.wait("button[data-action='uncordon'][data-node='w2']", PATIENCE);
    b.screenshot("cordoned");
    b.assert_no_console_errors();
}

/// The open page survives a master restart: it shows it is reconnecting, then keeps updating.
fn step_master_restart(d: &Driver, p: &Panel, master: Master, config: &std::path::Path) -> Master {
    let b = d.session("restart");
    login(&b, p);
    open(&b, "#/nodes");
    mark(&b);
    let row = "#nodes-table tr[data-node='w2']";
    b.wait_for("w2 listed", PATIENCE, || b.find(row));
    let data_dir = master.data_dir.clone();
    drop(master);
    let master = Master::start_with_config(&data_dir, config);
    // A change made after the restart shows up in the page that was open all along.
    let r = master
        .client
        .request(
            "PATCH",
            "/api/v1/nodes/w2",
            Some((
                "application/merge-patch+json",
                json!({"spec": {"unschedulable": null}})
                    .to_string()
                    .into_bytes(),
            )),
            "application/json",
        )
        .expect("uncordon");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    b.wait_for("w2 uncordoned, seen live", PATIENCE, || {
        (cell(&b, row, "status") == "Ready").then_some(())
    });
    not_reloaded(&b);
    b.screenshot("after-restart");
    // While the master was down the stream's reconnects failed: the only errors allowed.
    let unexpected: Vec<(String, String)> = b
        .console()
        .into_iter()
        .filter(|(level, msg)| {
            level == "SEVERE"
                && !msg.contains("/ui/api/stream")
                && !msg.contains("ERR_CONNECTION_REFUSED")
        })
        .collect();
    assert!(unexpected.is_empty(), "console errors: {unexpected:#?}");
    master
}

fn step_phone_width(d: &Driver, p: &Panel) {
    let b = d.session("phone");
    login(&b, p);
    b.resize(390, 844);
    for hash in ["#/overview", "#/nodes", "#/workloads", "#/pods"] {
        open(&b, hash);
        // Nothing wider than the screen but the tables' own scrollers.
        let overflow = b.execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
            json!([]),
        );
        assert!(
            overflow.as_i64().is_some_and(|o| o <= 1),
            "{hash} is {overflow} px wider than a phone"
        );
        b.screenshot(&format!("phone-{}", hash.trim_start_matches("#/")));
    }
    b.assert_no_console_errors();
}

#[test]
fn the_panel_in_a_real_browser() {
    if !webdriver::available() {
        eprintln!("skipped: no {} here", webdriver::CHROMEDRIVER);
        return;
    }
    let dir = tempdir();
    const SIZE: &str = "cpu = \"4\"\nmemory = \"4Gi\"";
    let Cluster {
        master,
        workers: _workers,
        config,
    } = Cluster::start(dir.path(), &[("w1", SIZE), ("w2", SIZE)]);
    let panel = Panel {
        url: master.url.clone(),
        token: std::fs::read_to_string(master.data_dir.join("admin-token"))
            .expect("admin token")
            .trim()
            .to_string(),
    };
    let driver = Driver::start();
    step_login_and_nodes(&driver, &panel);
    step_scale_and_log(&driver, &panel, &master.client);
    step_apply_invalid(&driver, &panel, &master.client);
    step_cordon(&driver, &panel, &master.client);
    let _master = step_master_restart(&driver, &panel, master, &config);
    step_phone_width(&driver, &panel);
}
