//! Logs go to stderr only, so `--json` output on stdout stays one object per line.

use tracing_subscriber::EnvFilter;

/// `RUST_LOG` when set; otherwise warnings and errors only.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
