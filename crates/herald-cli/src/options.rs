//! The options several commands share: the data folder, the server to talk to, and turning
//! them into the service's options.

use std::path::PathBuf;

use clap::Args;
use herald_core::service::{ServerTarget, ServiceOptions};

use crate::error::CliError;

/// Names this program in the session lock, so the desktop app can say who holds the session.
pub const PROGRAM_NAME: &str = "herald-cli";

/// `--data-dir`.
#[derive(Debug, Clone, Args)]
pub struct DataDirArg {
    /// The data folder (default: the desktop app's, so both share one session).
    #[arg(long, value_name = "DIR", env = "HERALD_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
}

impl DataDirArg {
    /// The folder to use: the flag, or the desktop app's default.
    pub fn resolve(&self) -> Result<PathBuf, CliError> {
        match &self.data_dir {
            Some(dir) if !dir.as_os_str().is_empty() => Ok(dir.clone()),
            _ => dirs::data_dir().map(|d| d.join("herald")).ok_or_else(|| {
                CliError::Usage(
                    "no per-user data folder is known on this system; pass --data-dir".into(),
                )
            }),
        }
    }
}

/// `--server` and `--trust-root`.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Another server than WhatsApp, e.g. a simulator: ws://127.0.0.1:PORT/ws/chat.
    #[arg(long, value_name = "URL", env = "HERALD_SERVER", value_parser = parse_server_url)]
    pub server: Option<String>,
    /// The root public key that server's certificates chain to (64 hex digits).
    #[arg(long, value_name = "HEX", env = "HERALD_TRUST_ROOT", value_parser = parse_trust_root)]
    pub trust_root: Option<TrustRoot>,
}

/// A 32-byte root key, parsed from hex.
#[derive(Debug, Clone, Copy)]
pub struct TrustRoot(pub [u8; 32]);

impl ServerArgs {
    /// The target, `None` for the real WhatsApp; both flags or neither.
    pub fn target(&self) -> Result<Option<ServerTarget>, CliError> {
        match (&self.server, self.trust_root) {
            (None, None) => Ok(None),
            (Some(url), Some(root)) => Ok(Some(ServerTarget {
                url: url.clone(),
                trusted_root: root.0,
            })),
            (Some(_), None) => Err(CliError::Usage(
                "--server needs --trust-root: the 64-hex-digit root key that server's certificates chain to".into(),
            )),
            (None, Some(_)) => Err(CliError::Usage(
                "--trust-root only applies with --server".into(),
            )),
        }
    }
}

/// The service's options for a command that runs the engine.
pub fn service_options(data: &DataDirArg, server: &ServerArgs) -> Result<ServiceOptions, CliError> {
    let server = server.target()?;
    Ok(ServiceOptions {
        data_dir: data.resolve()?,
        // Only the real server needs its current web version; a simulator takes ours.
        fetch_version: server.is_none(),
        server,
        program_name: PROGRAM_NAME.to_owned(),
        keychain: Some(herald_core::service::KEYCHAIN_SERVICE.to_owned()),
    })
}

fn parse_server_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("wss://")
        .or_else(|| text.strip_prefix("ws://"))
        .ok_or_else(|| "must start with ws:// or wss://".to_owned())?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = match authority.rsplit_once(':') {
        // A bracketed IPv6 address has colons of its own; only a trailing `:digits` is a port.
        Some((host, port)) if !port.contains(']') => {
            port.parse::<u16>()
                .map_err(|_| format!("{port:?} is not a port number"))?;
            host
        }
        _ => authority,
    };
    if host.is_empty() {
        return Err("has no host".into());
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("contains spaces or control characters".into());
    }
    Ok(text.to_owned())
}

fn parse_trust_root(text: &str) -> Result<TrustRoot, String> {
    let text = text.trim();
    if text.len() != 64 {
        return Err(format!("must be 64 hex digits, got {}", text.len()));
    }
    let bytes = hex::decode(text).map_err(|_| "must be 64 hex digits (0-9, a-f)".to_owned())?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&bytes);
    Ok(TrustRoot(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert!(parse_server_url("ws://127.0.0.1:4000/ws/chat").is_ok());
        assert!(parse_server_url("wss://web.whatsapp.com/ws/chat").is_ok());
        assert!(parse_server_url("ws://[::1]:80/ws/chat").is_ok());
        assert!(parse_server_url("http://127.0.0.1/ws/chat").is_err());
        assert!(parse_server_url("ws:///ws/chat").is_err());
        assert!(parse_server_url("ws://host:port/x").is_err());
        assert!(parse_server_url("ws://host /x").is_err());
    }

    #[test]
    fn roots() {
        assert_eq!(parse_trust_root(&"0a".repeat(32)).unwrap().0, [10; 32]);
        assert!(parse_trust_root("abc").is_err());
        assert!(parse_trust_root(&"zz".repeat(32)).is_err());
    }
}
