//! Ctrl-C and SIGTERM, the two ways a person or a service manager asks us to stop.

use crate::error::CliError;

/// Both stop signals, installed once so none is missed between two waits, and before the
/// engine starts so an early SIGTERM still ends in a clean shutdown.
pub struct StopSignals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl StopSignals {
    /// Installs the handlers. Must be called inside the runtime.
    pub fn install() -> Result<Self, CliError> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt()).map_err(CliError::Runtime)?,
                terminate: signal(SignalKind::terminate()).map_err(CliError::Runtime)?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// Returns when either signal arrives.
    pub async fn wait(&mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => {}
                _ = self.terminate.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
