//! Test harness: a real simulator on 127.0.0.1 (in this process, on its own runtime) and real
//! `herald-cli` processes whose stdout lines are read as they come. Every wait is bounded.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use wa_sim::{KickKind, SimConfig, Simulator};

/// The longest any single step may take.
pub const STEP: Duration = Duration::from_secs(15);

/// The phone number of the simulated account.
pub const PHONE: &str = "15550000001";

/// A running simulator.
pub struct Sim {
    pub sim: Simulator,
    pub url: String,
    pub root_hex: String,
    rt: tokio::runtime::Runtime,
}

impl Sim {
    pub fn start() -> Sim {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let config = SimConfig {
            phone_number: PHONE.into(),
            ..SimConfig::default()
        };
        let sim = Simulator::new(config).unwrap();
        let (listener, addr) = rt.block_on(wa_sim::server::bind(0)).unwrap();
        rt.spawn(wa_sim::server::serve(sim.clone(), listener));
        let root_hex = sim.root_pub_hex().unwrap();
        Sim {
            sim,
            url: format!("ws://{addr}/ws/chat"),
            root_hex,
            rt,
        }
    }

    /// `--server URL --trust-root HEX`.
    pub fn server_args(&self) -> Vec<String> {
        vec![
            "--server".into(),
            self.url.clone(),
            "--trust-root".into(),
            self.root_hex.clone(),
        ]
    }

    /// Adds a contact (a phone with `companions` other devices, all simulated Signal peers).
    #[allow(dead_code)] // not every test binary that shares this module adds contacts
    pub fn add_contact(&self, pn: &str, companions: u16) {
        let _guard = self.rt.enter();
        self.sim
            .add_contact(&wa_sim::ContactSpec {
                pn: Some(pn.into()),
                companions,
                ..wa_sim::ContactSpec::default()
            })
            .expect("the simulator adds the contact");
    }

    /// The phone scans a QR code.
    pub fn scan(&self, qr: &str) {
        let _guard = self.rt.enter();
        self.sim.scan(qr).expect("the phone accepts the QR code");
    }

    /// The user types a pairing code into the phone.
    pub fn enter_code(&self, code: &str) {
        let _guard = self.rt.enter();
        self.sim
            .enter_pairing_code(code)
            .expect("the phone accepts the code");
    }

    /// Kicks every connection with a stream error; returns how many.
    pub fn kick(&self, kind: &str) -> usize {
        let _guard = self.rt.enter();
        self.sim.kick(kind.parse::<KickKind>().unwrap(), None)
    }

    /// How many devices the phone lists.
    pub fn devices(&self) -> usize {
        self.sim.devices().len()
    }
}

/// A fresh data folder, removed at the end.
pub fn data_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("herald-cli-test-")
        .tempdir()
        .unwrap()
}

/// A `herald-cli` process with its stdout read line by line.
pub struct Cli {
    child: Child,
    lines: Receiver<String>,
    /// Every stdout line so far.
    pub seen: Vec<String>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: Option<std::thread::JoinHandle<()>>,
}

impl Cli {
    pub fn spawn(args: &[&str], dir: &Path, sim: Option<&Sim>) -> Cli {
        let mut command = Command::new(env!("CARGO_BIN_EXE_herald-cli"));
        command.args(args).arg("--data-dir").arg(dir);
        if let Some(sim) = sim {
            command.args(sim.server_args());
        }
        Cli::spawn_command(command)
    }

    pub fn spawn_command(command: Command) -> Cli {
        Cli::spawn_piped(command, Stdio::null())
    }

    /// Like `spawn`, with a pipe to the process's stdin.
    pub fn spawn_with_stdin(
        args: &[&str],
        dir: &Path,
        sim: &Sim,
    ) -> (Cli, std::process::ChildStdin) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_herald-cli"));
        command
            .args(args)
            .arg("--data-dir")
            .arg(dir)
            .args(sim.server_args());
        let mut cli = Cli::spawn_piped(command, Stdio::piped());
        let stdin = cli.child.stdin.take().unwrap();
        (cli, stdin)
    }

    fn spawn_piped(mut command: Command, stdin: Stdio) -> Cli {
        for var in ["HERALD_DATA_DIR", "HERALD_SERVER", "HERALD_TRUST_ROOT"] {
            command.env_remove(var);
        }
        let mut child = command
            .env("RUST_LOG", "warn")
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err = child.stderr.take().unwrap();
        let stderr_reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Cli {
            child,
            lines,
            seen: Vec::new(),
            stderr,
            stderr_reader: Some(stderr_reader),
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The next JSON line that matches, within `STEP`. Every line must be a JSON object with
    /// an `event` key.
    pub fn wait_json(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + STEP;
        loop {
            let line = self.next_line(deadline, what);
            let value: Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("stdout line is not JSON ({e}): {line}"));
            assert!(
                value.get("event").and_then(Value::as_str).is_some(),
                "stdout line without an \"event\" key: {line}"
            );
            if pred(&value) {
                return value;
            }
        }
    }

    /// The next line containing `needle`, within `STEP`.
    pub fn wait_line(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + STEP;
        loop {
            let line = self.next_line(deadline, needle);
            if line.contains(needle) {
                return line;
            }
        }
    }

    fn next_line(&mut self, deadline: Instant, what: &str) -> String {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(line) => {
                self.seen.push(line.clone());
                line
            }
            Err(RecvTimeoutError::Timeout) => panic!(
                "timed out waiting for {what}\nstdout:\n{}\nstderr:\n{}",
                self.seen.join("\n"),
                self.stderr()
            ),
            Err(RecvTimeoutError::Disconnected) => {
                std::thread::sleep(Duration::from_millis(100));
                panic!(
                    "herald-cli ended ({:?}) before {what}\nstdout:\n{}\nstderr:\n{}",
                    self.child.try_wait(),
                    self.seen.join("\n"),
                    self.stderr()
                )
            }
        }
    }

    /// Waits for the next `online` state.
    pub fn wait_online(&mut self) -> Value {
        self.wait_json("online", |v| {
            v["event"] == "state" && v["state"] == "online"
        })
    }

    /// Waits for the process to end within `within`.
    pub fn wait_exit(&mut self, within: Duration) -> ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The pipe closes with the process: after this, stderr() has all of it.
                if let Some(reader) = self.stderr_reader.take() {
                    reader.join().unwrap();
                }
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "herald-cli still running after {within:?}\nstderr:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends a signal by name (`TERM`, `KILL`).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Every stdout line still unread, once the process has ended.
    pub fn drain(&mut self) -> Vec<String> {
        while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
            self.seen.push(line);
        }
        self.seen.clone()
    }
}

impl Drop for Cli {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs a short `herald-cli` command to the end: (exit code, stdout, stderr).
pub fn run(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_herald-cli"))
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env_remove("HERALD_SERVER")
        .env_remove("HERALD_TRUST_ROOT")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `connect --json` on a fresh folder, paired by QR through the simulated phone, and online
/// after the 515 restart.
pub fn pair(sim: &Sim, dir: &Path) -> Cli {
    let mut cli = Cli::spawn(&["connect", "--json"], dir, Some(sim));
    let qr = cli.wait_json("a QR code", |v| v["event"] == "qr");
    sim.scan(qr["qr"].as_str().unwrap());
    cli.wait_json("the 515 restart", |v| {
        v["event"] == "disconnected" && v["code"] == 515
    });
    cli.wait_online();
    cli
}

/// The folder's files, recursively (to see that nothing changed).
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(files(&path));
            }
            out.push(path);
        }
    }
    out.sort();
    out
}
