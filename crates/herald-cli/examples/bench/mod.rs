//! What the whole-process comparisons with Baileys share: a client process whose stdout JSON
//! lines are stamped as they are read, and a process's CPU time and memory from `/proc`.
// Each example uses its own part of this module.
#![allow(dead_code)]

use std::error::Error;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

pub type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// A client process whose stdout lines are stamped with the instant they were read.
pub struct Client {
    pub name: &'static str,
    child: Child,
    lines: Receiver<(Instant, Value)>,
    pub stdin: Option<ChildStdin>,
    pub jid: Option<String>,
}

impl Client {
    /// Spawns `command` with stdout read line by line; `stdin` piped when asked for.
    pub fn spawn(name: &'static str, mut command: Command, stdin: bool) -> Result<Client> {
        let mut child = command
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let at = Instant::now();
                match serde_json::from_str::<Value>(&line) {
                    Ok(v) => {
                        if tx.send((at, v)).is_err() {
                            break;
                        }
                    }
                    Err(_) => eprintln!("{name}: not JSON: {line}"),
                }
            }
        });
        let stdin = child.stdin.take();
        Ok(Client {
            name,
            child,
            lines,
            stdin,
            jid: None,
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The next line that matches within `within`, and when it was read.
    pub fn wait(
        &self,
        what: &str,
        within: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> Result<(Instant, Value)> {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (at, v) = self
                .lines
                .recv_timeout(left)
                .map_err(|e| format!("{}: no {what}: {e}", self.name))?;
            if pred(&v) {
                return Ok((at, v));
            }
        }
    }

    pub fn drain(&self) {
        while self.lines.try_recv().is_ok() {}
    }

    /// Closes stdin and waits for the exit code.
    pub fn finish(&mut self, within: Duration) -> Result<Option<i32>> {
        drop(self.stdin.take());
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status.code());
            }
            if Instant::now() > deadline {
                return Err(format!("{} still running after {within:?}", self.name).into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Process CPU time (user + system, all threads, ended ones too) in seconds, from
/// `/proc/PID/stat`.
pub fn cpu_seconds(pid: u32, ticks_per_sec: f64) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let after = stat.rsplit_once(") ").ok_or("bad stat")?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); `after` starts at field 3.
    let utime: f64 = fields.get(11).ok_or("no utime")?.parse()?;
    let stime: f64 = fields.get(12).ok_or("no stime")?.parse()?;
    Ok((utime + stime) / ticks_per_sec)
}

/// CPU time of the live threads in seconds, from each `/proc/PID/task/TID/schedstat` (in
/// nanoseconds, so an idle process's few milliseconds are not lost to 10 ms clock ticks).
pub fn cpu_seconds_precise(pid: u32) -> Result<f64> {
    let mut ns: u64 = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let path = task?.path().join("schedstat");
        // A thread that ended since the listing has nothing left to count.
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        ns += text
            .split_whitespace()
            .next()
            .ok_or("empty schedstat")?
            .parse::<u64>()?;
    }
    Ok(ns as f64 / 1e9)
}

/// A process's memory, in kB.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    pub rss: u64,
    pub pss: u64,
    /// Peak RSS.
    pub hwm: u64,
}

pub fn memory_kb(pid: u32) -> Result<Memory> {
    let field = |text: &str, name: &str| -> Result<u64> {
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .ok_or(format!("no {name}"))?;
        Ok(line.split_whitespace().nth(1).ok_or("no value")?.parse()?)
    };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))?;
    Ok(Memory {
        rss: field(&status, "VmRSS:")?,
        pss: field(&rollup, "Pss:")?,
        hwm: field(&status, "VmHWM:")?,
    })
}

pub fn ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

pub fn node_version() -> String {
    Command::new("node")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}
