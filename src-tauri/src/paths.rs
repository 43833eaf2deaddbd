//! Where Herald keeps its data, and how this launch was asked to run.

use std::path::PathBuf;

use herald_core::service::ServerTarget;

/// How the app was launched.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaunchOptions {
    /// `--demo`: run against the built-in simulator, with data kept apart from the real account.
    pub demo: bool,
    /// `--hidden`: start in the tray without opening the window (how start-at-login launches
    /// Herald). Ignored where no tray can bring the window back.
    pub hidden: bool,
    /// `HERALD_DATA_DIR`: an explicit data folder (tests and portable installs use it).
    pub data_dir: Option<PathBuf>,
    /// `HERALD_SERVER` + `HERALD_TRUST_ROOT` (hex): another server than WhatsApp, such as a
    /// `wa-sim serve` on this machine.
    pub server: Option<ServerTarget>,
}

impl LaunchOptions {
    /// Reads the command line and the environment of this process.
    pub fn from_env_and_args() -> Result<Self, PathError> {
        let mut options = Self::parse(
            std::env::args().skip(1),
            std::env::var_os("HERALD_DATA_DIR").map(PathBuf::from),
        );
        if let Ok(url) = std::env::var("HERALD_SERVER") {
            let root = std::env::var("HERALD_TRUST_ROOT").unwrap_or_default();
            options.server = Some(server_target(&url, &root)?);
        }
        Ok(options)
    }

    fn parse(args: impl Iterator<Item = String>, data_dir: Option<PathBuf>) -> Self {
        let args: Vec<String> = args.collect();
        let has = |flag: &str| args.iter().any(|a| a == flag);
        Self {
            demo: has("--demo"),
            hidden: has("--hidden"),
            data_dir: data_dir.filter(|d| !d.as_os_str().is_empty()),
            server: None,
        }
    }
}

/// A server target from its URL and the hex of its root key.
pub fn server_target(url: &str, root_hex: &str) -> Result<ServerTarget, PathError> {
    if !(url.starts_with("ws://") || url.starts_with("wss://")) {
        return Err(PathError::Server(format!(
            "{url:?} is not a ws:// or wss:// URL"
        )));
    }
    let bytes = hex_32(root_hex.trim()).ok_or_else(|| {
        PathError::Server("the trusted root must be 64 hex digits (32 bytes)".into())
    })?;
    Ok(ServerTarget {
        url: url.to_string(),
        trusted_root: bytes,
    })
}

fn hex_32(text: &str) -> Option<[u8; 32]> {
    if text.len() != 64 || !text.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Why no data folder could be set up.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// The platform reports no per-user data folder (no home directory).
    #[error("no per-user data folder is known on this system; set HERALD_DATA_DIR")]
    NoDataDir,
    /// `HERALD_SERVER` / `HERALD_TRUST_ROOT` are unusable.
    #[error("HERALD_SERVER: {0}")]
    Server(String),
    /// The folder exists as something else or cannot be created.
    #[error("cannot create the data folder {path}: {source}")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The data folder for this launch, created if missing: the platform's per-user data folder
/// (`~/.local/share/herald`, `~/Library/Application Support/herald`, `%APPDATA%\herald`) or
/// `HERALD_DATA_DIR`; demo mode uses its `demo` subfolder so it never touches the real account.
pub fn data_dir(options: &LaunchOptions) -> Result<PathBuf, PathError> {
    let base = match &options.data_dir {
        Some(dir) => dir.clone(),
        None => dirs::data_dir().ok_or(PathError::NoDataDir)?.join("herald"),
    };
    let dir = if options.demo {
        base.join("demo")
    } else {
        base
    };
    std::fs::create_dir_all(&dir).map_err(|source| PathError::Create {
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}

/// The single-instance identity: one running Herald per data folder kind, so a demo can run
/// beside the real app but two real instances never share (and fight over) one session.
pub fn instance_id(options: &LaunchOptions) -> &'static str {
    if options.demo {
        "dev.herald.desktop.demo"
    } else {
        "dev.herald.desktop"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> impl Iterator<Item = String> {
        list.iter()
            .map(|s| s.to_string())
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn demo_flag_and_data_dir_override() {
        let o = LaunchOptions::parse(args(&["--demo"]), Some("/x".into()));
        assert!(o.demo);
        assert!(!o.hidden);
        assert!(LaunchOptions::parse(args(&["--hidden"]), None).hidden);
        assert_eq!(o.data_dir, Some(PathBuf::from("/x")));
        let o = LaunchOptions::parse(args(&[]), Some("".into()));
        assert!(!o.demo);
        assert_eq!(o.data_dir, None, "an empty HERALD_DATA_DIR means unset");
    }

    #[test]
    fn server_targets_are_checked() {
        let root = "142375574d0a587166aae71ebe516437c4a28b73e3695c6ce1f7f9545da8ee6b";
        let t = server_target("ws://127.0.0.1:1/ws/chat", root).unwrap();
        assert_eq!(t.trusted_root[0], 0x14);
        assert!(server_target("http://x", root).is_err());
        assert!(server_target("ws://x", "abc").is_err());
        assert!(server_target("ws://x", &"zz".repeat(32)).is_err());
    }

    #[test]
    fn demo_data_lives_apart() {
        let tmp = std::env::temp_dir().join(format!("herald-paths-{}", std::process::id()));
        let real = data_dir(&LaunchOptions {
            data_dir: Some(tmp.clone()),
            ..Default::default()
        })
        .unwrap();
        let demo = data_dir(&LaunchOptions {
            demo: true,
            data_dir: Some(tmp.clone()),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(real, tmp);
        assert_eq!(demo, tmp.join("demo"));
        assert!(demo.is_dir());
        assert_ne!(
            instance_id(&LaunchOptions {
                demo: true,
                ..Default::default()
            }),
            instance_id(&LaunchOptions::default())
        );
        std::fs::remove_dir_all(tmp).unwrap();
    }
}
