//! A running `herald-cli serve` and an HTTP client for it: the daemon on 127.0.0.1 with a port
//! the OS picks (read from its first stdout line), its key, and linking through `GET /qr` with
//! the PNG decoded as a phone's camera would.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;
use ureq::http;

use crate::common::{run, Cli, Sim, STEP};

/// An answer, read whole.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}), status {}: {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The error code of an error answer.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// The daemon.
pub struct Daemon {
    pub cli: Cli,
    pub base: String,
    pub key: String,
    agent: ureq::Agent,
}

/// Makes a key in `dir`; returns it.
pub fn create_key(dir: &Path, name: &str) -> String {
    let (code, out, err) = run(&["api-key", "create", "--name", name, "--json"], dir);
    assert_eq!(code, 0, "{err}");
    let made: Value = serde_json::from_str(out.trim()).unwrap();
    made["key"].as_str().unwrap().to_owned()
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        // A fresh connection per request: a pooled one the daemon has closed meanwhile would
        // fail the next request with "peer disconnected" before it was sent.
        .max_idle_connections(0)
        .max_idle_connections_per_host(0)
        .timeout_global(Some(STEP))
        .build()
        .into()
}

impl Daemon {
    /// Starts `serve` on `dir` against `sim` with a fresh key.
    pub fn start(sim: &Sim, dir: &Path, extra: &[&str]) -> Daemon {
        let key = create_key(dir, "test");
        let mut args = vec!["serve", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(extra);
        let mut cli = Cli::spawn(&args, dir, Some(sim));
        let line = cli.wait_line("listening on http://");
        let base = line
            .rsplit_once("listening on ")
            .unwrap()
            .1
            .trim()
            .to_owned();
        Daemon {
            cli,
            base,
            key,
            agent: agent(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A request with `headers`, and a JSON body when given.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> Answer {
        let mut builder = http::Request::builder().method(method).uri(self.url(path));
        for (n, v) in headers {
            builder = builder.header(*n, *v);
        }
        let response = match body {
            Some(b) => {
                let request = builder.body(b.to_owned()).unwrap();
                self.agent.run(request)
            }
            None => self.agent.run(builder.body(()).unwrap()),
        }
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        let body = response
            .into_body()
            .with_config()
            .limit(16 * 1024 * 1024)
            .read_to_vec()
            .unwrap();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// Announces a body of `length` bytes but sends only its first kilobyte, then reads the
    /// answer: a server that refuses a body by its length must answer without reading it.
    pub fn announce_body(&self, path: &str, length: usize) -> Answer {
        use std::io::{Read, Write};
        let addr = self.base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(STEP)).unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nX-API-Key: {}\r\n\
             Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n",
            self.key
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&[b' '; 1024]).unwrap();
        let mut raw = Vec::new();
        let mut buf = [0u8; 4096];
        // Up to the end of the answer's body (it has a Content-Length) or the close.
        loop {
            match stream.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => raw.extend_from_slice(&buf[..n]),
            }
            let text = String::from_utf8_lossy(&raw).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let want = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length: ")
                            .map(str::to_owned)
                    })
                    .and_then(|v| v.trim().parse::<usize>().ok());
                if want.is_some_and(|w| body.len() >= w) {
                    break;
                }
            }
        }
        let text = String::from_utf8_lossy(&raw).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
        let status = head.split(' ').nth(1).unwrap().parse().unwrap();
        let headers = head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(": "))
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect();
        Answer {
            status,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    /// With the daemon's key.
    pub fn get(&self, path: &str) -> Answer {
        self.call("GET", path, &[("x-api-key", &self.key)], None)
    }

    /// Without any key.
    pub fn get_bare(&self, path: &str) -> Answer {
        self.call("GET", path, &[], None)
    }

    /// A JSON body, with the key.
    pub fn send_json(&self, method: &str, path: &str, body: &str) -> Answer {
        self.call(
            method,
            path,
            &[
                ("x-api-key", &self.key),
                ("content-type", "application/json"),
            ],
            Some(body),
        )
    }

    /// Polls `path` (with the key) until `done` holds, within `STEP`.
    pub fn wait_for(&self, path: &str, what: &str, done: impl Fn(&Answer) -> bool) -> Answer {
        let deadline = Instant::now() + STEP;
        loop {
            let a = self.get(path);
            if done(&a) {
                return a;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} on {path}: last {} {}",
                a.status,
                String::from_utf8_lossy(&a.body)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Links through `GET /qr`: the PNG is decoded and its text scanned by the simulated
    /// phone; returns once `/health` says connected.
    pub fn pair(&self, sim: &Sim) {
        let qr = self.wait_for("/qr", "a QR code", |a| a.status == 200);
        assert_eq!(qr.header("content-type"), Some("image/png"));
        assert!(qr.header("x-qr-expires-at").is_some());
        sim.scan(&decode_qr(&qr.body));
        self.wait_for("/health", "connected", |a| {
            a.status == 200 && a.json()["status"] == "connected"
        });
    }

    /// The event stream, one `(event, data)` per SSE event, read on a thread.
    pub fn events(&self) -> Receiver<(String, Value)> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let response = agent
            .get(&self.url("/events"))
            .header("x-api-key", &self.key)
            .call()
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let reader = BufReader::new(response.into_body().into_reader());
            let mut name = String::new();
            for line in reader.lines() {
                let Ok(line) = line else { break };
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_owned();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    let data: Value = serde_json::from_str(d).unwrap();
                    if tx.send((std::mem::take(&mut name), data)).is_err() {
                        break;
                    }
                }
            }
        });
        rx
    }
}

/// The text of the one QR code in a PNG.
pub fn decode_qr(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes.to_vec()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Grayscale);
    let (w, h) = (info.width as usize, info.height as usize);
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| buf[y * w + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the picture");
    grids[0].decode().unwrap().1
}

/// The next event named `name` within `STEP`, skipping others (returned in `skipped`).
pub fn next_event(
    rx: &Receiver<(String, Value)>,
    skipped: &mut Vec<(String, Value)>,
    pred: impl Fn(&str, &Value) -> bool,
) -> Value {
    let deadline = Instant::now() + STEP;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let (name, data) = rx
            .recv_timeout(left)
            .unwrap_or_else(|e| panic!("no matching event ({e}); saw {skipped:?}"));
        if pred(&name, &data) {
            return data;
        }
        skipped.push((name, data));
    }
}
