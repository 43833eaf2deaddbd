//! Logs to stderr and to a daily-rotated file in the data folder.
//!
//! Both sinks go through non-blocking writers: a full pipe or a slow disk drops log lines
//! instead of stalling the thread that logged — the old service's connection died waiting on
//! its logger.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{fmt, layer::SubscriberExt, util::SubscriberInitExt, EnvFilter};

/// The filter used when `RUST_LOG` is unset or invalid.
pub const DEFAULT_FILTER: &str = "info";

/// Keeps the log writers running; dropping it flushes what is queued.
pub struct LogGuards {
    _stderr: WorkerGuard,
    _file: Option<WorkerGuard>,
}

/// Installs the global subscriber. Logging to the file is skipped (with a warning on stderr)
/// if the log folder cannot be created; the app still runs.
pub fn init(data_dir: &Path) -> LogGuards {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let (stderr, stderr_guard) = tracing_appender::non_blocking(std::io::stderr());
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let stderr_layer = fmt::layer()
        .with_writer(stderr)
        .with_target(false)
        .with_ansi(ansi);

    let log_dir = data_dir.join("logs");
    let file = std::fs::create_dir_all(&log_dir)
        .map_err(|e| e.to_string())
        .and_then(|()| {
            tracing_appender::rolling::Builder::new()
                .rotation(tracing_appender::rolling::Rotation::DAILY)
                .filename_prefix("herald")
                .filename_suffix("log")
                .max_log_files(14)
                .build(&log_dir)
                .map_err(|e| e.to_string())
        });
    let (file_layer, file_guard) = match file {
        Ok(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (
                Some(fmt::layer().with_writer(writer).with_ansi(false)),
                Some(guard),
            )
        }
        Err(e) => {
            eprintln!("herald: logging to {} is off: {e}", log_dir.display());
            (None, None)
        }
    };
    // A second init (tests) keeps the first subscriber; that is fine.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stderr_layer)
        .with(file_layer)
        .try_init();
    LogGuards {
        _stderr: stderr_guard,
        _file: file_guard,
    }
}
