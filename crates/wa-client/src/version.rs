//! The WhatsApp Web version we claim (protocol.md §3.5): a user override, else a version
//! fetched from `https://web.whatsapp.com/sw.js` (`client_revision`) and cached for 24 h in the
//! store, else the compiled-in fallback. A `<failure reason="405">` forces one fresh fetch.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use wa_core::payload::AppVersion;

use crate::clock::Clock;
use crate::config::VersionConfig;
use crate::events::VersionSource;
use crate::mutex::lock;
use crate::store::Store;
use crate::transport::{tls_config, BoxFuture, TransportError};

/// The most of sw.js we read (it is a few hundred kB).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// A desktop Chrome user agent: sw.js answers 400 to requests that do not look like a browser
/// (Baileys issue #1929).
const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 Safari/537.36";

/// Why a fetch failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum VersionError {
    #[error("bad version URL {0}")]
    BadUrl(String),
    #[error("fetching the version: {0}")]
    Network(String),
    #[error("version server answered HTTP {0}")]
    Status(u16),
    #[error("no client_revision in the response")]
    NotFound,
    #[error("version fetch timed out")]
    Timeout,
}

/// Where the current version comes from.
pub trait VersionFetcher: Send + Sync + 'static {
    /// Fetches the current version from `url`.
    fn fetch<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<AppVersion, VersionError>>;
}

/// Fetches sw.js over HTTPS (rustls) or plain HTTP, with browser-like headers.
#[derive(Debug, Clone)]
pub struct SwJsFetcher {
    tls: Arc<rustls::ClientConfig>,
}

impl SwJsFetcher {
    /// A fetcher trusting the bundled web PKI roots.
    pub fn new() -> Result<Self, TransportError> {
        Ok(Self {
            tls: Arc::new(tls_config()?),
        })
    }
}

impl VersionFetcher for SwJsFetcher {
    fn fetch<'a>(&'a self, url: &'a str) -> BoxFuture<'a, Result<AppVersion, VersionError>> {
        Box::pin(async move {
            let body = http_get(&self.tls, url).await?;
            let text = String::from_utf8_lossy(&body);
            parse_client_revision(&text)
                .map(|tertiary| AppVersion {
                    primary: 2,
                    secondary: 3000,
                    tertiary,
                })
                .ok_or(VersionError::NotFound)
        })
    }
}

/// The first `client_revision` number in sw.js, whether the key is plain (`"client_revision":
/// 123`) or inside an escaped JSON string (`\"client_revision\":123`).
pub fn parse_client_revision(text: &str) -> Option<u32> {
    let mut rest = text;
    while let Some(at) = rest.find("client_revision") {
        let after = &rest[at + "client_revision".len()..];
        let value = after.trim_start_matches(['\\', '"', ' ']);
        if let Some(value) = value.strip_prefix(':') {
            let digits: String = value
                .trim_start()
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if let Ok(n) = digits.parse() {
                return Some(n);
            }
        }
        rest = after;
    }
    None
}

/// Picks the version for the next dial. `force_fetch` ignores the cache (after a 405).
pub(crate) async fn resolve(
    config: &VersionConfig,
    store: &Mutex<Store>,
    fetcher: &dyn VersionFetcher,
    clock: &dyn Clock,
    force_fetch: bool,
) -> (AppVersion, VersionSource) {
    if let Some(v) = config.override_version {
        return (v, VersionSource::Override);
    }
    let cached = lock(store).cached_version().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "version cache unreadable");
        None
    });
    let now = clock.now_ms();
    if let Some((v, at)) = cached {
        if !force_fetch && is_fresh(at, now, config.cache_for) {
            return (v, VersionSource::Cached);
        }
    }
    if let Some(url) = &config.sw_js_url {
        match tokio::time::timeout(config.fetch_timeout, fetcher.fetch(url)).await {
            Ok(Ok(v)) => {
                if let Err(e) = lock(store).save_version(v, now) {
                    tracing::warn!(error = %e, "could not cache the version");
                }
                return (v, VersionSource::Fetched);
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "version fetch failed"),
            Err(_) => tracing::warn!(error = %VersionError::Timeout, "version fetch failed"),
        }
    }
    // A stale cached version is still newer than the compiled-in one.
    match cached {
        Some((v, _)) => (v, VersionSource::Cached),
        None => (config.fallback, VersionSource::Fallback),
    }
}

struct Url<'a> {
    tls: bool,
    host: &'a str,
    port: u16,
    path: &'a str,
}

fn parse_url(url: &str) -> Result<Url<'_>, VersionError> {
    let bad = || VersionError::BadUrl(url.to_owned());
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(bad());
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, p.parse().map_err(|_| bad())?),
        None => (authority, if tls { 443 } else { 80 }),
    };
    if host.is_empty() {
        return Err(bad());
    }
    Ok(Url {
        tls,
        host,
        port,
        path,
    })
}

/// A minimal HTTP/1.1 GET (`Connection: close`) returning the body of a 200 answer.
async fn http_get(tls: &Arc<rustls::ClientConfig>, url: &str) -> Result<Vec<u8>, VersionError> {
    let u = parse_url(url)?;
    let net = |e: std::io::Error| VersionError::Network(e.to_string());
    let tcp = TcpStream::connect((u.host, u.port)).await.map_err(net)?;
    let request = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {USER_AGENT}\r\nAccept: */*\r\n\
         Accept-Language: en-US,en;q=0.9\r\nSec-Fetch-Dest: script\r\nSec-Fetch-Mode: no-cors\r\n\
         Sec-Fetch-Site: none\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n",
        u.path, u.host
    );
    if u.tls {
        let name = rustls::pki_types::ServerName::try_from(u.host.to_owned())
            .map_err(|_| VersionError::BadUrl(url.to_owned()))?;
        let stream = tokio_rustls::TlsConnector::from(tls.clone())
            .connect(name, tcp)
            .await
            .map_err(net)?;
        exchange(stream, request.as_bytes()).await
    } else {
        exchange(tcp, request.as_bytes()).await
    }
}

async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    request: &[u8],
) -> Result<Vec<u8>, VersionError> {
    let net = |e: std::io::Error| VersionError::Network(e.to_string());
    stream.write_all(request).await.map_err(net)?;
    let mut raw = Vec::new();
    let mut limited = (&mut stream).take(MAX_BODY as u64);
    // A TLS peer that closes without close_notify still delivered the body; keep what came.
    if let Err(e) = limited.read_to_end(&mut raw).await {
        if raw.is_empty() {
            return Err(net(e));
        }
    }
    parse_response(&raw)
}

/// Splits an HTTP/1.1 response, checks for 200 and undoes chunked transfer encoding.
fn parse_response(raw: &[u8]) -> Result<Vec<u8>, VersionError> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| VersionError::Network("truncated HTTP response".into()))?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let body = &raw[split + 4..];
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| VersionError::Network("bad HTTP status line".into()))?;
    if status != 200 {
        return Err(VersionError::Status(status));
    }
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    if chunked {
        Ok(dechunk(body))
    } else {
        Ok(body.to_vec())
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    while let Some(eol) = body.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&body[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let Ok(size) = usize::from_str_radix(size_text, 16) else {
            break;
        };
        body = &body[eol + 2..];
        if size == 0 || body.len() < size {
            out.extend_from_slice(&body[..size.min(body.len())]);
            break;
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or(&[]);
    }
    out
}

/// How long a version is considered fresh, for tests and the health view.
pub fn is_fresh(fetched_at_ms: u64, now_ms: u64, cache_for: Duration) -> bool {
    now_ms.saturating_sub(fetched_at_ms) < u64::try_from(cache_for.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
#[path = "version_tests.rs"]
mod tests;
