//! The byte pipe under the Noise socket: whole WebSocket binary messages each way.
//!
//! [`Transport::dial`] opens one connection and returns a [`Link`]: a sender for messages to the
//! server and a receiver for messages from it. Dropping the sender closes the connection; the
//! receiver ending means the server (or the network) closed it, and [`Link::close_note`] then
//! says why if the transport knows. [`WebSocketTransport`] is the real one (tokio-tungstenite
//! over rustls, `Origin` header, binary messages only); [`MemoryTransport`] hands out links the
//! caller made, for tests against an in-process simulator.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use crate::mutex::lock;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{self, Message};

/// A boxed future, so [`Transport`] stays object-safe without a macro.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Messages buffered each way before the sender waits.
const LINK_CAPACITY: usize = 64;

/// Why the transport ended, when it knows (an I/O or protocol error rather than a clean close).
#[derive(Debug, Clone, Default)]
pub struct CloseNote(Arc<Mutex<Option<String>>>);

impl CloseNote {
    /// Records the error that ended the link (the first one wins).
    pub fn set(&self, detail: String) {
        lock(&self.0).get_or_insert(detail);
    }

    /// The recorded error, if any.
    pub fn get(&self) -> Option<String> {
        lock(&self.0).clone()
    }
}

/// One open connection.
pub struct Link {
    /// Whole binary messages to the server.
    pub to_server: mpsc::Sender<Vec<u8>>,
    /// Whole binary messages from the server; `None` once the connection is closed.
    pub from_server: mpsc::Receiver<Vec<u8>>,
    /// Why it closed, if it was an error.
    pub close_note: CloseNote,
    /// The task pumping the real socket, if any; awaited on teardown.
    pub pump: Option<JoinHandle<()>>,
}

impl Link {
    /// A link over two channels someone else pumps (an in-process simulator).
    pub fn from_channels(
        to_server: mpsc::Sender<Vec<u8>>,
        from_server: mpsc::Receiver<Vec<u8>>,
    ) -> Self {
        Self {
            to_server,
            from_server,
            close_note: CloseNote::default(),
            pump: None,
        }
    }
}

/// Why a dial failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum TransportError {
    /// The URL cannot be dialled.
    #[error("bad server URL {url}: {detail}")]
    BadUrl { url: String, detail: String },
    /// The TLS certificate of the server was rejected.
    #[error("TLS certificate rejected: {0}")]
    Certificate(String),
    /// TCP, DNS, TLS or WebSocket upgrade failed.
    #[error("{0}")]
    Network(String),
}

/// Opens connections to the chat server.
pub trait Transport: Send + Sync + 'static {
    /// Dials `url` once, sending `origin` as the `Origin` header where that applies.
    fn dial<'a>(
        &'a self,
        url: &'a str,
        origin: &'a str,
    ) -> BoxFuture<'a, Result<Link, TransportError>>;
}

/// WebSocket over TCP, with rustls for `wss://` (Mozilla's roots from `webpki-roots`; no
/// OpenSSL).
#[derive(Debug, Clone)]
pub struct WebSocketTransport {
    tls: Arc<rustls::ClientConfig>,
}

impl WebSocketTransport {
    /// A transport trusting the bundled web PKI roots.
    pub fn new() -> Result<Self, TransportError> {
        Ok(Self {
            tls: Arc::new(tls_config()?),
        })
    }
}

/// A rustls client config with the ring provider and the webpki roots.
pub(crate) fn tls_config() -> Result<rustls::ClientConfig, TransportError> {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| TransportError::Network(format!("TLS setup: {e}")))
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

impl Transport for WebSocketTransport {
    fn dial<'a>(
        &'a self,
        url: &'a str,
        origin: &'a str,
    ) -> BoxFuture<'a, Result<Link, TransportError>> {
        Box::pin(async move {
            let mut request = url
                .into_client_request()
                .map_err(|e| TransportError::BadUrl {
                    url: url.to_owned(),
                    detail: e.to_string(),
                })?;
            let origin = HeaderValue::from_str(origin).map_err(|e| TransportError::BadUrl {
                url: url.to_owned(),
                detail: format!("origin header: {e}"),
            })?;
            let headers = request.headers_mut();
            headers.insert("Origin", origin);
            headers.insert("Cache-Control", HeaderValue::from_static("no-cache"));
            headers.insert("Pragma", HeaderValue::from_static("no-cache"));
            let connector = tokio_tungstenite::Connector::Rustls(self.tls.clone());
            // TCP_NODELAY, as browsers set it for WebSockets: with Nagle's algorithm on, a
            // small frame written while the previous one is unacknowledged (an ack for a
            // receipt, then the next message) waits for the peer's delayed ACK, up to 40 ms.
            let disable_nagle = true;
            let (ws, _response) = tokio_tungstenite::connect_async_tls_with_config(
                request,
                None,
                disable_nagle,
                Some(connector),
            )
            .await
            .map_err(dial_error)?;
            Ok(spawn_pump(ws))
        })
    }
}

fn dial_error(e: tungstenite::Error) -> TransportError {
    match &e {
        tungstenite::Error::Tls(tls) => {
            let text = tls.to_string();
            if text.contains("certificate") || text.contains("Certificate") {
                TransportError::Certificate(text)
            } else {
                TransportError::Network(format!("TLS: {text}"))
            }
        }
        tungstenite::Error::Io(io) if io.to_string().contains("certificate") => {
            TransportError::Certificate(io.to_string())
        }
        tungstenite::Error::Http(resp) => {
            TransportError::Network(format!("WebSocket upgrade refused: HTTP {}", resp.status()))
        }
        _ => TransportError::Network(e.to_string()),
    }
}

/// Moves messages between the WebSocket and the link's channels until either side ends.
fn spawn_pump<S>(ws: tokio_tungstenite::WebSocketStream<S>) -> Link
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (to_server, mut outgoing) = mpsc::channel::<Vec<u8>>(LINK_CAPACITY);
    let (incoming, from_server) = mpsc::channel::<Vec<u8>>(LINK_CAPACITY);
    let note = CloseNote::default();
    let task_note = note.clone();
    let pump = tokio::spawn(async move {
        let (mut sink, mut stream) = ws.split();
        loop {
            tokio::select! {
                out = outgoing.recv() => match out {
                    Some(bytes) => {
                        if let Err(e) = sink.send(Message::binary(bytes)).await {
                            task_note.set(e.to_string());
                            break;
                        }
                    }
                    // The socket's owner let go: close politely.
                    None => {
                        let _ = sink.send(Message::Close(None)).await;
                        break;
                    }
                },
                inc = stream.next() => match inc {
                    Some(Ok(Message::Binary(bytes))) => {
                        if incoming.send(bytes.to_vec()).await.is_err() {
                            break;
                        }
                    }
                    Some(Ok(Message::Text(_))) => {
                        // WhatsApp speaks binary only; whatsmeow also ignores text.
                        tracing::warn!("ignoring a text WebSocket message");
                    }
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Ok(_)) => {} // ping/pong are answered by tungstenite
                    // The server ended the TCP stream without a close frame: that is the
                    // server hanging up without a word, not a network failure.
                    Some(Err(tokio_tungstenite::tungstenite::Error::Protocol(
                        tokio_tungstenite::tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
                    ))) => break,
                    Some(Err(e)) => {
                        task_note.set(e.to_string());
                        break;
                    }
                },
            }
        }
    });
    Link {
        to_server,
        from_server,
        close_note: note,
        pump: Some(pump),
    }
}

/// Hands out links made elsewhere, one per dial, e.g. from
/// `wa_sim::Simulator::connect_in_memory`.
pub struct MemoryTransport {
    #[allow(clippy::type_complexity)]
    make: Box<dyn Fn() -> BoxFuture<'static, Result<Link, TransportError>> + Send + Sync>,
}

impl MemoryTransport {
    /// A transport that calls `make` for each dial.
    pub fn new<F, Fut>(make: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Link, TransportError>> + Send + 'static,
    {
        Self {
            make: Box::new(move || Box::pin(make())),
        }
    }
}

impl Transport for MemoryTransport {
    fn dial<'a>(
        &'a self,
        _url: &'a str,
        _origin: &'a str,
    ) -> BoxFuture<'a, Result<Link, TransportError>> {
        (self.make)()
    }
}
