//! The test proxy of `engine_proxy.py`, started on a socket in a temp dir and stopped on drop.
//! Included with `#[path]` by the test files that need an engine that misbehaves on cue.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// A running `engine_proxy.py` in front of the local engine.
pub struct Proxy {
    child: Child,
    pub socket: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Proxy {
    /// Starts the proxy with extra options (`--drop PREFIX`, `--die-at PREFIX`,
    /// `--hold-inspect FILE`; see the script).
    pub fn start(options: &[&str]) -> Proxy {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("engine.sock");
        let log = dir.path().join("requests.log");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/engine_proxy.py");
        let child = Command::new("python3")
            .arg(script)
            .arg(&socket)
            .arg("/var/run/docker.sock")
            .arg(&log)
            .args(options)
            .spawn()
            .expect("python3 runs the test proxy");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(Instant::now() < deadline, "the test proxy did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Proxy {
            child,
            socket,
            log,
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Every request so far, as `<verdict> <method> <path>`.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Waits until a logged request line contains `needle`; false after `timeout`.
    pub fn wait_for(&self, needle: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if self.requests().iter().any(|r| r.contains(needle)) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
