//! A second, real dockerd for end-to-end tests, beside the system one.
//!
//! Each daemon gets its own directory (socket, `--data-root`, `--exec-root`, `--pidfile`,
//! `--config-file`), its own bridge `br-dpT<pid>` on 172.31.250.0/24 and the vfs storage
//! driver, with iptables and masquerading off so the host's rules are not touched. It is never
//! started with `--bridge none`: a daemon started that way deletes the shared `docker0` and
//! breaks the system engine's networking. Optional extras: a TCP listener with TLS (certificates
//! made with openssl), or socket activation through a wrapper that listens itself and starts
//! dockerd with `-H fd://`, `LISTEN_FDS` and `LISTEN_PID`, as systemd does. Daemons run one at a
//! time per slot ([`SecondDaemon::start`] holds the slot's lock; [`Options::slot`] 1 has its own
//! bridge and subnet, so two daemons can serve a fleet test) and are stopped and cleaned up on
//! drop.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Serialises daemons of one slot: they share the slot's bridge subnet.
static ONE_AT_A_TIME: [Mutex<()>; 2] = [Mutex::new(()), Mutex::new(())];

/// The bridge address of a slot's daemon: 172.31.250.1/24 for slot 0, .251 for slot 1.
fn subnet_addr(slot: u8) -> String {
    format!("172.31.{}.1/24", 250 + u16::from(slot))
}

/// How to start the daemon.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Contents of its daemon.json.
    pub daemon_json: serde_json::Value,
    /// Also listen on 127.0.0.1 with TLS (client certificates required).
    pub tls_tcp: bool,
    /// Start through a socket-activation wrapper (`-H fd://`).
    pub socket_activation: bool,
    /// 0 or 1: daemons of different slots (own bridge and subnet) may run at the same time.
    pub slot: u8,
}

/// Client TLS material made for the daemon.
#[derive(Debug, Clone)]
pub struct Tls {
    /// Directory with `ca.pem`, `cert.pem`, `key.pem` (the client's), as DOCKER_CERT_PATH wants.
    pub client_dir: PathBuf,
    pub port: u16,
}

/// A running second daemon.
pub struct SecondDaemon {
    pub dir: tempfile::TempDir,
    pub socket: PathBuf,
    pub data_root: PathBuf,
    pub config_file: PathBuf,
    pub bridge: String,
    pub tls: Option<Tls>,
    /// The process started: dockerd, or the activation wrapper.
    child: Child,
    _lock: MutexGuard<'static, ()>,
}

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn run_ok(cmd: &mut Command) {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Whether dockerd can be started here (root, dockerd and ip installed); panics under CI when not.
pub fn available() -> bool {
    let ok = Path::new("/usr/sbin/dockerd").exists()
        && unsafe_free_is_root()
        && Command::new("ip").arg("-V").output().is_ok();
    if !ok {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI=true but a second dockerd cannot be started (needs root, dockerd, ip)");
        }
        eprintln!("SKIPPED: cannot start a second dockerd here");
    }
    ok
}

fn unsafe_free_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

impl SecondDaemon {
    /// Starts the daemon and waits until it answers.
    pub fn start(opts: &Options) -> Self {
        let slot = opts.slot.min(1);
        let lock = ONE_AT_A_TIME[usize::from(slot)]
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Short paths: unix socket paths are limited to 108 bytes.
        let dir = tempfile::Builder::new()
            .prefix("dpT")
            .tempdir_in("/tmp")
            .expect("temp dir");
        let d = dir.path();
        let socket = d.join("docker.sock");
        let data_root = d.join("data");
        let config_file = d.join("daemon.json");
        std::fs::write(&config_file, opts.daemon_json.to_string()).expect("daemon.json");
        let bridge = match slot {
            0 => format!("br-dpT{}", std::process::id() % 100_000),
            n => format!("br-dpT{}-{n}", std::process::id() % 100_000),
        };
        let _ = run(Command::new("ip").args(["link", "del", &bridge]));
        run_ok(Command::new("ip").args(["link", "add", &bridge, "type", "bridge"]));
        run_ok(Command::new("ip").args(["addr", "add", &subnet_addr(slot), "dev", &bridge]));
        run_ok(Command::new("ip").args(["link", "set", &bridge, "up"]));

        let mut args: Vec<String> = vec![
            "--config-file".into(),
            config_file.display().to_string(),
            "--data-root".into(),
            data_root.display().to_string(),
            "--exec-root".into(),
            d.join("exec").display().to_string(),
            "--pidfile".into(),
            d.join("pid").display().to_string(),
            "--bridge".into(),
            bridge.clone(),
            "--iptables=false".into(),
            "--ip-masq=false".into(),
            "--storage-driver".into(),
            "vfs".into(),
        ];
        let tls = opts.tls_tcp.then(|| {
            let port = free_port();
            let client_dir = make_certs(d);
            args.extend([
                "--tlsverify".into(),
                "--tlscacert".into(),
                d.join("certs/ca.pem").display().to_string(),
                "--tlscert".into(),
                d.join("certs/server-cert.pem").display().to_string(),
                "--tlskey".into(),
                d.join("certs/server-key.pem").display().to_string(),
                "-H".into(),
                format!("tcp://127.0.0.1:{port}"),
            ]);
            Tls { client_dir, port }
        });
        let log = std::fs::File::create(d.join("dockerd.log")).expect("log file");
        let child = if opts.socket_activation {
            args.extend(["-H".into(), "fd://".into()]);
            let mut cmd = Command::new("python3");
            cmd.arg("-c")
                .arg(ACTIVATOR)
                .arg(&socket)
                .arg("/usr/sbin/dockerd")
                .args(&args);
            cmd.stdout(log.try_clone().expect("log")).stderr(log);
            cmd.spawn().expect("activation wrapper starts")
        } else {
            args.extend(["-H".into(), format!("unix://{}", socket.display())]);
            Command::new("/usr/sbin/dockerd")
                .args(&args)
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .spawn()
                .expect("dockerd starts")
        };
        let mut daemon = SecondDaemon {
            dir,
            socket,
            data_root,
            config_file,
            bridge,
            tls,
            child,
            _lock: lock,
        };
        daemon.wait_ready();
        daemon
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let out = run(Command::new("docker").args([
                "-H",
                &self.url(),
                "version",
                "--format",
                "{{.Server.Version}}",
            ]));
            if out.status.success() {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "the second dockerd exited ({status}): {}",
                    self.log()
                        .lines()
                        .rev()
                        .take(15)
                        .collect::<Vec<_>>()
                        .join("\n")
                );
            }
            assert!(
                Instant::now() < deadline,
                "the second dockerd did not answer within 90 s: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// `unix://` URL of its socket.
    pub fn url(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Its log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dockerd.log")).unwrap_or_default()
    }

    /// Pid of dockerd itself (from its pidfile).
    pub fn dockerd_pid(&self) -> u32 {
        std::fs::read_to_string(self.dir.path().join("pid"))
            .expect("pidfile")
            .trim()
            .parse()
            .expect("pid")
    }

    /// Pid of the process the test started (the wrapper under socket activation).
    pub fn started_pid(&self) -> u32 {
        self.child.id()
    }

    /// `docker -H <this daemon> ARGS`, which must succeed; trimmed stdout.
    pub fn docker(&self, args: &[&str]) -> String {
        let out = run(Command::new("docker").arg("-H").arg(self.url()).args(args));
        assert!(
            out.status.success(),
            "docker {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for SecondDaemon {
    fn drop(&mut self) {
        let pid = std::fs::read_to_string(self.dir.path().join("pid")).ok();
        // SIGTERM to dockerd lets it stop its containerd and unmount; then the wrapper.
        if let Some(pid) = pid.as_deref().map(str::trim) {
            let _ = run(Command::new("kill").args(["-TERM", pid]));
        }
        let _ = run(Command::new("kill").args(["-TERM", &self.child.id().to_string()]));
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(pid) = pid.as_deref().map(str::trim) {
            let _ = run(Command::new("kill").args(["-KILL", pid]));
        }
        let _ = run(Command::new("ip").args(["link", "del", &self.bridge]));
        // vfs layers and exec-root mounts: unmount whatever is left before the directory goes.
        let _ = run(Command::new("sh").arg("-c").arg(format!(
            "grep -o ' {0}[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l",
            self.dir.path().display()
        )));
    }
}

/// Listens on argv[1], then forks: the child becomes dockerd (argv[2..]) with the socket as fd 3
/// and LISTEN_FDS/LISTEN_PID set; the parent keeps the socket open and waits, as systemd does.
const ACTIVATOR: &str = r#"
import os, socket, sys, signal
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(64)
pid = os.fork()
if pid == 0:
    os.dup2(s.fileno(), 3)
    os.set_inheritable(3, True)
    env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()))
    os.execve(sys.argv[2], sys.argv[2:], env)
def stop(*_):
    os.kill(pid, signal.SIGTERM)
signal.signal(signal.SIGTERM, stop)
while True:
    try:
        os.waitpid(pid, 0)
        break
    except InterruptedError:
        continue
    except ChildProcessError:
        break
"#;

/// A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl.
/// Returns the client directory (`ca.pem`, `cert.pem`, `key.pem`).
fn make_certs(d: &Path) -> PathBuf {
    let certs = d.join("certs");
    let client = d.join("client");
    std::fs::create_dir_all(&certs).expect("certs dir");
    std::fs::create_dir_all(&client).expect("client dir");
    let script = format!(
        r#"set -e
cd {certs}
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=dockproof-test-ca -keyout ca-key.pem -out ca.pem
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server-key.pem -out server.csr
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -days 2 -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -extfile server.ext -out server-cert.pem
openssl req -newkey rsa:2048 -nodes -subj /CN=client -keyout {client}/key.pem -out client.csr
printf 'extendedKeyUsage=clientAuth\n' > client.ext
openssl x509 -req -days 2 -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -extfile client.ext -out {client}/cert.pem
cp ca.pem {client}/ca.pem
"#,
        certs = certs.display(),
        client = client.display()
    );
    run_ok(Command::new("sh").arg("-c").arg(script));
    client
}
