//! Shared helpers for the integration tests: start a real `capstan master` process on a fresh
//! data_dir and a free port, talk to it over real HTTPS, kill it.
#![allow(dead_code)]

use capstan_node::client::Client;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The `capstan` binary under test.
pub fn capstan_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_capstan"))
}

/// A running master process.
pub struct Master {
    child: Option<Child>,
    /// Its data_dir.
    pub data_dir: PathBuf,
    /// `https://127.0.0.1:PORT`
    pub url: String,
    /// The admin kubeconfig it wrote.
    pub kubeconfig: PathBuf,
    /// An admin client.
    pub client: Client,
}

impl Master {
    /// Starts a master on `data_dir` (created if needed) listening on a free port.
    pub fn start(data_dir: &Path) -> Master {
        std::fs::create_dir_all(data_dir).expect("create data_dir");
        let config = data_dir.join("master.toml");
        std::fs::write(
            &config,
            format!(
                "[master]\ndata_dir = {:?}\napi_listen = \"127.0.0.1:0\"\nwatch_history = 100\n",
                data_dir
            ),
        )
        .expect("write config");
        let mut child = Command::new(capstan_bin())
            .args(["master", "--config"])
            .arg(&config)
            .env("CAPSTAN_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn capstan master");
        let stdout = child.stdout.take().expect("stdout piped");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(rest) = line.strip_prefix("capstan master ready: api=") {
                    let _ = tx.send(rest.to_string());
                }
            }
        });
        let ready = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("master printed its ready line within 60s");
        let (url, kc) = ready
            .split_once(" kubeconfig=")
            .expect("ready line has url and kubeconfig");
        let kubeconfig = PathBuf::from(kc);
        let client = Client::from_kubeconfig(&kubeconfig).expect("kubeconfig loads");
        Master {
            child: Some(child),
            data_dir: data_dir.to_path_buf(),
            url: url.to_string(),
            kubeconfig,
            client,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(Child::id).unwrap_or(0)
    }

    /// SIGKILL, and wait for the process to be gone.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, and the exit status.
    pub fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(st)) = c.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = c.kill();
        c.wait().ok()
    }
}

impl Drop for Master {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A fresh temporary directory.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}
