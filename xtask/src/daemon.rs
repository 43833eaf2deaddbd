//! A `wa-sim` and a `herald-cli serve` on 127.0.0.1 for the steps that drive the daemon from
//! outside (the API fuzzer, the daemon's measurements), and a small HTTP/1.1 client for them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the daemon and the simulator may take to say where they listen.
const START_WAIT: Duration = Duration::from_secs(20);

/// A child process that is stopped when dropped: SIGTERM first, so the daemon closes its
/// session cleanly, then SIGKILL after 5 s.
pub struct Running(pub Child);

impl Running {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        #[cfg(unix)]
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .status();
        for _ in 0..50 {
            if matches!(self.0.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The first stdout line that contains `needle`, within `START_WAIT`.
fn wait_line(out: ChildStdout, needle: &'static str) -> Result<String, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut found = false;
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            // Keep reading after the line: a closed pipe would stop the child's output.
            if !found && line.contains(needle) {
                found = true;
                let _ = tx.send(line);
            }
        }
    });
    rx.recv_timeout(START_WAIT)
        .map_err(|_| format!("no line with {needle:?} within {START_WAIT:?}"))
}

/// The string value of `"key":"…"` in a one-line JSON object.
pub fn json_field(line: &str, key: &str) -> Result<String, String> {
    let marker = format!("\"{key}\":\"");
    let start = line
        .find(&marker)
        .ok_or_else(|| format!("{key} missing in {line}"))?
        + marker.len();
    let end = line[start..]
        .find('"')
        .ok_or_else(|| format!("{key} unterminated in {line}"))?;
    Ok(line[start..start + end].to_owned())
}

/// A running simulator.
pub struct Sim {
    pub _process: Running,
    pub url: String,
    pub root_hex: String,
    /// `http://127.0.0.1:PORT/admin`.
    pub admin: String,
}

pub fn start_sim(exe: &Path, state: &Path) -> Result<Sim, String> {
    let mut child = Command::new(exe)
        .args(["serve", "--port", "0", "--state"])
        .arg(state)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    let out = child.stdout.take().ok_or("wa-sim has no stdout")?;
    let process = Running(child);
    let line = wait_line(out, "\"listening\"")?;
    Ok(Sim {
        url: json_field(&line, "url")?,
        root_hex: json_field(&line, "root_pub_hex")?,
        admin: json_field(&line, "admin")?,
        _process: process,
    })
}

/// Makes an API key in `data`; returns it.
pub fn create_key(cli: &Path, data: &Path) -> Result<String, String> {
    let made = Command::new(cli)
        .args([
            "api-key",
            "create",
            "--name",
            "xtask",
            "--json",
            "--data-dir",
        ])
        .arg(data)
        .output()
        .map_err(|e| format!("cannot run herald-cli: {e}"))?;
    if !made.status.success() {
        return Err(format!(
            "api-key create failed: {}",
            String::from_utf8_lossy(&made.stderr)
        ));
    }
    json_field(&String::from_utf8_lossy(&made.stdout), "key")
}

/// A running daemon.
pub struct Daemon {
    pub process: Running,
    /// `127.0.0.1:PORT`.
    pub addr: String,
}

/// Starts `serve` on `data` against `sim` with `extra` flags; its log goes to `log`.
pub fn start_serve(
    cli: &Path,
    data: &Path,
    sim: &Sim,
    extra: &[&str],
    log: &Path,
) -> Result<Daemon, String> {
    let mut child = Command::new(cli)
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data)
        .args(["--server", &sim.url, "--trust-root", &sim.root_hex])
        .args(extra)
        .env("HERALD_KEYCHAIN", "off")
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?)
        .spawn()
        .map_err(|e| format!("cannot start herald-cli serve: {e}"))?;
    let out = child.stdout.take().ok_or("serve has no stdout")?;
    let process = Running(child);
    let line = wait_line(out, "listening on http://")?;
    let addr = line
        .rsplit_once("http://")
        .map(|(_, a)| a.trim().to_owned())
        .ok_or("no address in serve's first line")?;
    Ok(Daemon { process, addr })
}

impl Daemon {
    /// Links the daemon: its QR text from `GET /qr.txt`, scanned through the simulator's admin
    /// API; returns once `/health/ready` answers 200.
    pub fn pair(&self, sim: &Sim, key: &str) -> Result<(), String> {
        let auth = [("X-API-Key", key)];
        let deadline = std::time::Instant::now() + START_WAIT;
        let qr = loop {
            let (status, body) = http(&self.addr, "GET", "/qr.txt", &auth, "")?;
            if status == 200 {
                break body;
            }
            if std::time::Instant::now() > deadline {
                return Err(format!("no QR code: {status} {body}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let admin = sim
            .admin
            .strip_prefix("http://")
            .ok_or("the admin URL is not http")?;
        let (host, base) = admin.split_once('/').unwrap_or((admin, ""));
        let (status, body) = http(host, "POST", &format!("/{base}/scan"), &[], &qr)?;
        if status != 200 {
            return Err(format!(
                "the simulated phone refused the QR code: {status} {body}"
            ));
        }
        loop {
            if http(&self.addr, "GET", "/health/ready", &[], "")?.0 == 200 {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err("linked, but never ready".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// One HTTP/1.1 request (`Connection: close`); returns the status and the body.
pub fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<(u16, String), String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| format!("{addr}: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| e.to_string())?;
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        request.push_str(&format!("{n}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream
        .write_all(request.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no header end")?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("bad status line in {head}"))?;
    Ok((status, body.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_simulators_first_line() {
        let line = r#"{"event":"listening","url":"ws://127.0.0.1:4/ws/chat","admin":"http://127.0.0.1:4/admin","root_pub_hex":"ab"}"#;
        assert_eq!(json_field(line, "url").unwrap(), "ws://127.0.0.1:4/ws/chat");
        assert_eq!(json_field(line, "root_pub_hex").unwrap(), "ab");
        assert_eq!(
            json_field(line, "admin").unwrap(),
            "http://127.0.0.1:4/admin"
        );
        assert!(json_field(line, "nope").is_err());
    }
}
