//! Demo mode: a built-in WhatsApp simulator on 127.0.0.1, its simulated phone, and the faults
//! a person can inject to watch Herald's behaviour. Its state lives in the demo data folder,
//! apart from the real account.

use std::path::Path;
use std::time::Duration;

use tokio::task::JoinHandle;
use wa_sim::{KickKind, Simulator};

use crate::service::ServerTarget;

/// How long a demo stall lasts: longer than the dead-socket rule, so Herald detects it.
const STALL_FOR: Duration = Duration::from_secs(40);

/// A fault the demo panel can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoFault {
    /// Another client takes the session over (`<conflict type="replaced"/>`).
    Replaced,
    /// The phone unlinks this computer (`device_removed`).
    LoggedOut,
    /// The server starts refusing this app version (405 on the next login).
    ClientOutdated,
    /// The TCP connection drops without a word.
    Drop,
    /// The server stops answering while the socket stays open.
    Stall,
}

impl std::str::FromStr for DemoFault {
    type Err = DemoError;
    fn from_str(s: &str) -> Result<Self, DemoError> {
        Ok(match s {
            "replaced" => DemoFault::Replaced,
            "logged_out" => DemoFault::LoggedOut,
            "client_outdated" => DemoFault::ClientOutdated,
            "drop" => DemoFault::Drop,
            "stall" => DemoFault::Stall,
            other => return Err(DemoError::UnknownFault(other.to_string())),
        })
    }
}

/// Why a demo action failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the demo simulator could not start: {0}")]
    Sim(#[from] wa_sim::SimError),
    #[error("unknown demo fault {0:?}")]
    UnknownFault(String),
    #[error("there is no QR code on screen to scan")]
    NoQr,
    #[error("the simulated phone refused the scan: {0}")]
    ScanRefused(#[from] wa_sim::ScanRefused),
    #[error("no connection to inject that fault into; wait until Herald is connected")]
    NotConnected,
}

/// The running demo simulator.
pub struct Demo {
    sim: Simulator,
    target: ServerTarget,
    server: JoinHandle<()>,
}

impl Demo {
    /// Starts the simulator on a free loopback port, its state kept in `state_dir`.
    pub async fn start(state_dir: &Path) -> Result<Demo, DemoError> {
        // A few named contacts and a group whose phones confirm at once, read after a
        // short human-like delay and now and then reply.
        let sim = Simulator::new(
            wa_sim::SimConfig {
                state_dir: Some(state_dir.to_path_buf()),
                ..wa_sim::SimConfig::default()
            }
            .demo_world(std::time::Duration::from_millis(2_500)),
        )?;
        let (listener, addr) = wa_sim::server::bind(0).await?;
        let target = ServerTarget {
            url: format!("ws://{addr}/ws/chat"),
            trusted_root: *sim.root_public_key()?.as_bytes(),
        };
        let serving = sim.clone();
        let server = tokio::spawn(async move {
            if let Err(e) = wa_sim::server::serve(serving, listener).await {
                tracing::error!(error = %e, "the demo simulator stopped");
            }
        });
        tracing::info!(url = %target.url, "demo simulator listening");
        Ok(Demo {
            sim,
            target,
            server,
        })
    }

    /// Where the engine should connect, and the root it must trust.
    pub fn target(&self) -> ServerTarget {
        self.target.clone()
    }

    /// The simulated phone scans `qr`.
    pub fn scan(&self, qr: Option<&str>) -> Result<wa_sim::ScanReport, DemoError> {
        Ok(self.sim.scan(qr.ok_or(DemoError::NoQr)?)?)
    }

    /// Injects `fault`.
    pub fn inject(&self, fault: DemoFault) -> Result<(), DemoError> {
        let touched = match fault {
            DemoFault::Replaced => self.sim.kick(KickKind::Replaced, None),
            DemoFault::LoggedOut => self.sim.kick(KickKind::DeviceRemoved, None),
            DemoFault::ClientOutdated => {
                // Any version newer than every real one: the refresh cannot help, and a
                // version override in Settings above it can.
                self.sim.set_min_version(Some(wa_core::payload::AppVersion {
                    primary: 2,
                    secondary: 3000,
                    tertiary: 2_000_000_000,
                }));
                self.sim.kick(KickKind::RestartRequired, None)
            }
            DemoFault::Drop => self.sim.drop_connections(None),
            DemoFault::Stall => {
                self.sim.stall();
                let sim = self.sim.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(STALL_FOR).await;
                    sim.unstall();
                });
                1
            }
        };
        if touched == 0 {
            return Err(DemoError::NotConnected);
        }
        tracing::info!(?fault, "demo fault injected");
        Ok(())
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        self.server.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_names() {
        for (name, f) in [
            ("replaced", DemoFault::Replaced),
            ("logged_out", DemoFault::LoggedOut),
            ("client_outdated", DemoFault::ClientOutdated),
            ("drop", DemoFault::Drop),
            ("stall", DemoFault::Stall),
        ] {
            assert_eq!(name.parse::<DemoFault>().unwrap(), f);
        }
        assert!(matches!(
            "fire".parse::<DemoFault>(),
            Err(DemoError::UnknownFault(_))
        ));
    }
}
