//! A private X display (Xvfb) and a private D-Bus session bus for headless runs and tests.
//!
//! Both are children that are stopped with SIGTERM on drop: SIGKILL would leave dbus-daemon's
//! socket behind and orphan what it started.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process stopped with SIGTERM when dropped.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        terminate(&mut self.0);
    }
}

/// Sends SIGTERM and reaps the child.
pub fn terminate(child: &mut Child) {
    let _ = Command::new("kill")
        .arg(child.id().to_string())
        .stderr(Stdio::null())
        .status();
    let _ = child.wait();
}

/// A running Xvfb.
pub struct Xvfb {
    pub display: String,
    _child: Guard,
}

impl Xvfb {
    /// Starts Xvfb on the first free display number at `width`×`height`.
    pub fn start(width: u32, height: u32) -> Result<Self, String> {
        for n in 90..190 {
            let socket = format!("/tmp/.X11-unix/X{n}");
            let lock = format!("/tmp/.X{n}-lock");
            if Path::new(&socket).exists() || Path::new(&lock).exists() {
                continue;
            }
            let display = format!(":{n}");
            let child = Command::new("Xvfb")
                .args([
                    display.as_str(),
                    "-screen",
                    "0",
                    &format!("{width}x{height}x24"),
                    "-nolisten",
                    "tcp",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| format!("cannot start Xvfb (run `cargo xtask setup`): {e}"))?;
            let guard = Guard(child);
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if Path::new(&socket).exists() {
                    return Ok(Self {
                        display,
                        _child: guard,
                    });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            return Err(format!("Xvfb did not open display {display} within 10 s"));
        }
        Err("no free X display number in :90–:189".into())
    }
}

/// A private D-Bus session bus.
pub struct SessionBus {
    pub address: String,
    _child: Guard,
}

impl SessionBus {
    pub fn start() -> Result<Self, String> {
        let mut child = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start dbus-daemon (run `cargo xtask setup`): {e}"))?;
        let stdout = child.stdout.take();
        let guard = Guard(child);
        let mut line = String::new();
        if let Some(out) = stdout {
            BufReader::new(out)
                .read_line(&mut line)
                .map_err(|e| format!("reading the D-Bus address: {e}"))?;
        }
        let address = line.trim().to_string();
        if address.is_empty() {
            return Err("dbus-daemon printed no address".into());
        }
        Ok(Self {
            address,
            _child: guard,
        })
    }
}
