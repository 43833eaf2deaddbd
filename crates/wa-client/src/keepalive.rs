//! Keepalive (protocol.md §7): a `w:p` ping at a random 20–30 s, answered within 10 s, and
//! WhatsApp Web's dead-socket rule — something sent and nothing at all received for 20 s means
//! the socket is dead, whatever the pings say. The deadline logic is pure; [`run`] is the task.

use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use wa_core::binary::Node;

use crate::config::KeepaliveConfig;
use crate::socket::{IqError, SocketHandle};
use crate::stanzas;

/// The wait before the next ping: uniform in `[min, max]` for `unit` in `[0, 1)`.
pub fn next_ping_delay(config: &KeepaliveConfig, unit: f64) -> Duration {
    let min = config.interval_min;
    let max = config.interval_max.max(min);
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.5
    };
    min + (max - min).mul_f64(unit)
}

/// Whether the dead-socket rule fires: a send at `first_unanswered_send` with nothing received
/// since, for at least `dead_after`.
pub fn is_dead(
    first_unanswered_send: Option<Instant>,
    now: Instant,
    dead_after: Option<Duration>,
) -> bool {
    match (first_unanswered_send, dead_after) {
        (Some(sent), Some(limit)) => now.saturating_duration_since(sent) >= limit,
        _ => false,
    }
}

/// Whether enough pings failed in a row to give up on the connection.
pub fn too_many_failures(failures: u32, config: &KeepaliveConfig) -> bool {
    config.max_failures > 0 && failures >= config.max_failures
}

/// What the keepalive task tells the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// A ping was answered after `rtt`.
    Pong { rtt: Duration },
    /// A ping went unanswered; `failures` in a row now.
    Timeout { failures: u32 },
    /// Answered again after `after_failures` failures.
    Restored { after_failures: u32 },
    /// The dead-socket rule fired.
    Dead,
    /// Too many pings failed in a row.
    GaveUp,
}

/// The ping stanza: `<iq xmlns="w:p" type="get" to=s.whatsapp.net/>` (whatsmeow's form).
pub fn ping() -> Node {
    Node::new("iq")
        .with_attr("xmlns", "w:p")
        .with_attr("type", "get")
        .with_attr("to", stanzas::server())
}

/// Pings until the connection ends or a rule fires; reports each outcome. Ends when `reports`
/// is closed (the connection is being torn down).
pub async fn run(socket: SocketHandle, config: KeepaliveConfig, reports: mpsc::Sender<Report>) {
    let mut failures = 0u32;
    let mut next_ping = Instant::now() + next_ping_delay(&config, rand::random());
    let check_every = config.check_every.max(Duration::from_millis(10));
    loop {
        let wake = next_ping.min(Instant::now() + check_every);
        tokio::time::sleep_until(wake).await;
        if is_dead(
            socket.activity().first_unanswered_send(),
            Instant::now(),
            config.dead_socket_after,
        ) {
            let _ = reports.send(Report::Dead).await;
            return;
        }
        if Instant::now() < next_ping {
            continue;
        }
        let sent = Instant::now();
        // The ping's own deadline runs beside the dead-socket check, which must keep firing
        // while a ping is out.
        let ping = socket.iq_with_timeout(ping(), config.response_deadline);
        tokio::pin!(ping);
        let outcome = loop {
            tokio::select! {
                r = &mut ping => break r,
                _ = tokio::time::sleep(check_every) => {
                    if is_dead(socket.activity().first_unanswered_send(), Instant::now(), config.dead_socket_after) {
                        let _ = reports.send(Report::Dead).await;
                        return;
                    }
                }
            }
        };
        let report = match outcome {
            // An error answer is still an answer: the socket is alive.
            Ok(_) | Err(IqError::ServerError { .. } | IqError::BadAnswer { .. }) => {
                let restored = failures;
                failures = 0;
                if restored > 0
                    && reports
                        .send(Report::Restored {
                            after_failures: restored,
                        })
                        .await
                        .is_err()
                {
                    return;
                }
                Report::Pong {
                    rtt: sent.elapsed(),
                }
            }
            Err(IqError::Timeout { .. }) => {
                failures += 1;
                if too_many_failures(failures, &config) {
                    let _ = reports.send(Report::Timeout { failures }).await;
                    let _ = reports.send(Report::GaveUp).await;
                    return;
                }
                Report::Timeout { failures }
            }
            Err(IqError::ConnectionLost { .. }) => return,
        };
        if reports.send(report).await.is_err() {
            return;
        }
        next_ping = Instant::now() + next_ping_delay(&config, rand::random());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_delays_stay_in_the_window() {
        let c = KeepaliveConfig::default();
        assert_eq!(next_ping_delay(&c, 0.0), Duration::from_secs(20));
        assert_eq!(next_ping_delay(&c, 0.5), Duration::from_secs(25));
        assert_eq!(next_ping_delay(&c, 1.0), Duration::from_secs(30));
        assert_eq!(next_ping_delay(&c, f64::NAN), Duration::from_secs(25));
        let fixed = KeepaliveConfig {
            interval_min: Duration::from_secs(60),
            interval_max: Duration::from_secs(60),
            ..c
        };
        assert_eq!(next_ping_delay(&fixed, 0.9), Duration::from_secs(60));
    }

    #[tokio::test(start_paused = true)]
    async fn dead_socket_rule() {
        let t0 = Instant::now();
        let limit = Some(Duration::from_secs(20));
        assert!(!is_dead(None, t0 + Duration::from_secs(100), limit));
        assert!(!is_dead(
            Some(t0),
            t0 + Duration::from_millis(19_999),
            limit
        ));
        assert!(is_dead(Some(t0), t0 + Duration::from_secs(20), limit));
        assert!(!is_dead(Some(t0), t0 + Duration::from_secs(100), None));
    }

    #[test]
    fn failures_threshold() {
        let c = KeepaliveConfig::default();
        assert!(!too_many_failures(2, &c));
        assert!(too_many_failures(3, &c));
        let never = KeepaliveConfig {
            max_failures: 0,
            ..c
        };
        assert!(!too_many_failures(100, &never));
    }
}
