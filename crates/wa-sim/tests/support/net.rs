//! Real-socket helpers for tests and the capacity example: a `wa-sim serve` child process, a
//! WebSocket bridged to the raw client's channels, and a minimal HTTP client for `/admin/`.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::{sign_pair_success, Keys, RawClient};
use wa_core::binary::Jid;
use wa_core::signal::PublicKey;
use wa_core::stanza::pair::{iq_result, PairDevice};

/// A running `wa-sim serve`.
pub struct SimProcess {
    pub child: Child,
    pub url: String,
    pub admin: String,
    pub root: PublicKey,
    pub root_hex: String,
}

impl SimProcess {
    pub fn start(binary: &Path, state: &Path) -> SimProcess {
        Self::start_with(binary, state, &[])
    }

    /// With more `wa-sim serve` arguments.
    pub fn start_with(binary: &Path, state: &Path, extra: &[&str]) -> SimProcess {
        let mut child = Command::new(binary)
            .args(["serve", "--port", "0", "--state"])
            .arg(state)
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("wa-sim starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("first line");
        let v: serde_json::Value = serde_json::from_str(&line).expect("JSON line");
        assert_eq!(v["event"], "listening");
        let root_hex = v["root_pub_hex"].as_str().expect("root").to_owned();
        let root = PublicKey::from_slice(&hex::decode(&root_hex).expect("hex")).expect("key");
        SimProcess {
            child,
            url: v["url"].as_str().expect("url").to_owned(),
            admin: v["admin"].as_str().expect("admin").to_owned(),
            root,
            root_hex,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens the WebSocket and bridges it to a raw client.
pub async fn connect_ws(url: &str) -> RawClient {
    let (ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("ws connect");
    let (mut sink, mut stream) = ws.split();
    let (to_server, mut outgoing) = mpsc::channel::<Vec<u8>>(64);
    let (incoming, from_server) = mpsc::channel::<Vec<u8>>(64);
    tokio::spawn(async move {
        while let Some(bytes) = outgoing.recv().await {
            if sink.send(Message::Binary(bytes.into())).await.is_err() {
                return;
            }
        }
        let _ = sink.close().await;
    });
    tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            if let Message::Binary(b) = msg {
                if incoming.send(b.to_vec()).await.is_err() {
                    return;
                }
            }
        }
    });
    RawClient::from_channels(to_server, from_server)
}

/// `METHOD url` with `body`; returns status and JSON body.
pub async fn http(method: &str, url: &str, body: &str) -> (u16, serde_json::Value) {
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest.split_once('/').expect("path");
    let mut stream = tokio::net::TcpStream::connect(host)
        .await
        .expect("http connect");
    let request = format!(
        "{method} /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("http write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("http read");
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let (_, body) = text.split_once("\r\n\r\n").expect("body");
    // axum answers with a fixed length here, never chunked.
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::Null),
    )
}

/// Pairs a new device over the WebSocket, scanning through `POST /admin/scan`.
pub async fn pair_ws(sim: &SimProcess) -> (Keys, Jid) {
    let keys = Keys::generate();
    let mut client = connect_ws(&sim.url).await;
    client
        .handshake(&keys.noise, &sim.root, &keys.registration())
        .await;
    let pd = PairDevice::parse(&client.recv().await).expect("pair-device");
    client.send_node(&iq_result(&pd.id)).await;
    let qr = keys.qr(&pd.refs[0]);
    let admin = sim.admin.clone();
    let scan = tokio::spawn(async move { http("POST", &format!("{admin}/scan"), &qr).await });
    let jid = sign_pair_success(&mut client, &keys).await;
    let rest = client.until_closed().await;
    assert_eq!(rest[0].attr_str("code"), Some("515"));
    let (status, body) = scan.await.expect("scan task");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"]["paired"], jid.to_string());
    (keys, jid)
}
