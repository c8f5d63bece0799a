//! `capstan up`: a whole local cluster from one config file. Starts the master and every
//! worker as separate OS processes, waits until every node is Ready, writes
//! `./.capstan/kubeconfig.yaml`, restarts a child that dies (with backoff, saying why), and on
//! Ctrl-C/SIGTERM stops every child and exits.

use crate::client::Client;
use crate::config::ClusterConfig;
use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// One supervised child process.
struct Proc {
    name: String,
    args: Vec<String>,
    child: Option<Child>,
    restarts: u32,
}

/// What the master printed when it became ready.
struct MasterReady {
    api: String,
    kubeconfig: PathBuf,
}

fn parse_ready(line: &str) -> Option<MasterReady> {
    let rest = line.strip_prefix("capstan master ready: ")?;
    let mut api = None;
    let mut kubeconfig = None;
    for field in rest.split_whitespace() {
        match field.split_once('=') {
            Some(("api", v)) => api = Some(v.to_string()),
            Some(("kubeconfig", v)) => kubeconfig = Some(PathBuf::from(v)),
            _ => {}
        }
    }
    Some(MasterReady {
        api: api?,
        kubeconfig: kubeconfig?,
    })
}

fn spawn(exe: &Path, p: &Proc, ready: Option<mpsc::UnboundedSender<String>>) -> Result<Child> {
    let mut child = Command::new(exe)
        .args(&p.args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", p.name))?;
    let prefix = p.name.clone();
    if let Some(out) = child.stdout.take() {
        let prefix = prefix.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(tx) = &ready {
                    if line.starts_with("capstan master ready: ") {
                        let _ = tx.send(line.clone());
                    }
                }
                println!("[{prefix}] {line}");
            }
        });
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(async move {
            let mut lines = BufReader::new(err).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("[{prefix}] {line}");
            }
        });
    }
    Ok(child)
}

fn terminate(child: &Child) {
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status();
    }
}

async fn stop_all(procs: &mut [Proc]) {
    // Workers first, then the master.
    for p in procs.iter().rev() {
        if let Some(c) = &p.child {
            terminate(c);
        }
    }
    for p in procs.iter_mut().rev() {
        if let Some(mut c) = p.child.take() {
            // Workers stop their pods first, each within its grace period.
            if tokio::time::timeout(Duration::from_secs(75), c.wait())
                .await
                .is_err()
            {
                let _ = c.kill().await;
            }
        }
    }
}

/// Waits (through a watch) until `want` nodes are Ready.
fn wait_nodes_ready(kubeconfig: &Path, want: usize, timeout: Duration) -> Result<()> {
    let client = Client::from_kubeconfig(kubeconfig)?;
    let deadline = std::time::Instant::now() + timeout;
    let mut ready = std::collections::BTreeSet::new();
    while std::time::Instant::now() < deadline {
        let list = client.get("/api/v1/nodes")?.json()?;
        for n in list["items"].as_array().cloned().unwrap_or_default() {
            let name = n["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            if capstan_core::node_status::ready_status(&n) == Some("True") {
                ready.insert(name);
            } else {
                ready.remove(&name);
            }
        }
        if ready.len() >= want {
            return Ok(());
        }
        let rv = list["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or("0")
            .to_string();
        let left = deadline
            .saturating_duration_since(std::time::Instant::now())
            .as_secs()
            .max(1);
        client.watch(
            &format!("/api/v1/nodes?watch=true&resourceVersion={rv}&timeoutSeconds={left}"),
            "application/json",
            |ev| {
                let n = &ev["object"];
                let name = n["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if capstan_core::node_status::ready_status(n) == Some("True") {
                    ready.insert(name);
                } else {
                    ready.remove(&name);
                }
                ready.len() < want
            },
        )?;
        if ready.len() >= want {
            return Ok(());
        }
    }
    bail!(
        "only {} of {want} nodes became Ready within {}s",
        ready.len(),
        timeout.as_secs()
    )
}

/// Runs `capstan up` with the config at `config`.
pub fn run(config: &Path) -> Result<()> {
    let cfg = ClusterConfig::load(config)?;
    if cfg.master.is_none() {
        bail!("{}: `capstan up` needs a [master] table", config.display());
    }
    let exe = std::env::current_exe().context("finding the capstan binary")?;
    let config_arg = config.display().to_string();
    let mut procs = vec![Proc {
        name: "master".into(),
        args: vec!["master".into(), "--config".into(), config_arg.clone()],
        child: None,
        restarts: 0,
    }];
    for w in &cfg.worker {
        procs.push(Proc {
            name: w.name.clone(),
            args: vec![
                "worker".into(),
                "--config".into(),
                config_arg.clone(),
                "--name".into(),
                w.name.clone(),
            ],
            child: None,
            restarts: 0,
        });
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(supervise(&exe, procs, cfg.worker.len()))
}

async fn supervise(exe: &Path, mut procs: Vec<Proc>, workers: usize) -> Result<()> {
    let mut shutdown = crate::signals::Shutdown::install().context("installing signal handlers")?;
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
    procs[0].child = Some(spawn(exe, &procs[0], Some(ready_tx.clone()))?);
    let line = tokio::select! {
        l = tokio::time::timeout(Duration::from_secs(120), ready_rx.recv()) => l.ok().flatten(),
        _ = shutdown.recv() => { stop_all(&mut procs).await; return Ok(()); }
    };
    let Some(ready) = line.as_deref().and_then(parse_ready) else {
        stop_all(&mut procs).await;
        bail!("the master did not become ready");
    };
    for p in procs.iter_mut().skip(1) {
        p.child = Some(spawn(exe, p, None)?);
    }
    let kubeconfig = ready.kubeconfig.clone();
    let waited = tokio::task::spawn_blocking(move || {
        wait_nodes_ready(&kubeconfig, workers, Duration::from_secs(120))
    });
    let outcome = tokio::select! {
        r = waited => r.map_err(|e| anyhow!("{e}"))?,
        _ = shutdown.recv() => { stop_all(&mut procs).await; return Ok(()); }
    };
    if let Err(e) = outcome {
        stop_all(&mut procs).await;
        return Err(e);
    }
    let local = PathBuf::from(".capstan/kubeconfig.yaml");
    std::fs::create_dir_all(".capstan")?;
    let local_abs = std::env::current_dir()?.join(&local);
    if std::fs::canonicalize(&ready.kubeconfig).ok() != std::fs::canonicalize(&local_abs).ok() {
        let text = std::fs::read(&ready.kubeconfig)?;
        crate::pki::write_private(&local_abs, &text)?;
    }
    println!();
    println!("Capstan is up: {} node(s) Ready.", workers);
    println!("  API:        {}", ready.api);
    println!("  kubeconfig: {}", local_abs.display());
    let token_file = ready
        .kubeconfig
        .parent()
        .map(|d| d.join("admin-token"))
        .unwrap_or_default();
    println!(
        "  panel:      {}/ui/  (token: {})",
        ready.api,
        token_file.display()
    );
    println!();
    println!("  export KUBECONFIG={}", local_abs.display());
    println!();
    println!("Press Ctrl-C to stop the cluster.");
    loop {
        let mut exited = None;
        for (i, p) in procs.iter_mut().enumerate() {
            if let Some(c) = p.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    exited = Some((i, status));
                    break;
                }
            }
        }
        if let Some((i, status)) = exited {
            let p = &mut procs[i];
            p.child = None;
            p.restarts += 1;
            let delay = Duration::from_secs(1u64 << p.restarts.min(5)).min(Duration::from_secs(30));
            eprintln!(
                "[up] {} exited ({status}); restarting in {}s (restart #{})",
                p.name,
                delay.as_secs(),
                p.restarts
            );
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = shutdown.recv() => break,
            }
            let p = &mut procs[i];
            match spawn(exe, p, None) {
                Ok(c) => p.child = Some(c),
                Err(e) => eprintln!("[up] could not restart {}: {e:#}", p.name),
            }
            continue;
        }
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            _ = shutdown.recv() => break,
        }
    }
    eprintln!("[up] stopping the cluster");
    stop_all(&mut procs).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn ready_line_parses() {
        let r = super::parse_ready("capstan master ready: api=https://127.0.0.1:6443 kubeconfig=/x/k.yaml nodes=127.0.0.1:7443 node-token=/x/t")
            .expect("parses");
        assert_eq!(r.api, "https://127.0.0.1:6443");
        assert_eq!(r.kubeconfig, std::path::PathBuf::from("/x/k.yaml"));
        assert!(super::parse_ready("something else").is_none());
    }
}
