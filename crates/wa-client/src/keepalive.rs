//! Keepalive (protocol.md §7), driven by silence rather than a timer: a `w:p` ping goes out
//! when nothing at all has been received for the interval (20 s), and the socket is dead when
//! that ping's deadline (10 s) passes with still nothing received. A stall is therefore caught
//! at most interval + deadline (30 s) after it starts, whatever the phase of the cycle, and an
//! idle link costs one ping per 20 s of silence while a busy one costs none. WhatsApp Web's
//! dead-socket rule (a request sent and nothing received for 20 s) stays beside it.
//!
//! [`decide`] is the whole policy, pure; [`run`] is the task that follows it.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use wa_core::binary::Node;

use crate::config::KeepaliveConfig;
use crate::socket::{IqError, SocketHandle};
use crate::stanzas;

/// What the policy knows about the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    /// When anything last arrived, or when the connection opened if nothing has.
    pub last_received: Instant,
    /// When our ping went out, while its answer is still awaited.
    pub ping_sent: Option<Instant>,
    /// When the oldest request that nothing has been received after went out.
    pub first_unanswered_send: Option<Instant>,
}

/// What to do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing until this instant (then decide again; what arrives meanwhile moves it).
    WaitUntil(Instant),
    /// The link has been silent for the interval: ping.
    Ping,
    /// Nothing arrived within the ping's deadline, or the dead-socket rule fired.
    Dead,
}

/// The silence after which a ping goes out. The lower end of the configured window: the
/// window's randomness was for a fixed timer, and the 30 s bound needs the short end.
pub fn silence_interval(config: &KeepaliveConfig) -> Duration {
    config.silence_before_ping
}

/// The keepalive policy.
pub fn decide(link: &Link, now: Instant, config: &KeepaliveConfig) -> Action {
    let mut wake = None;
    if let (Some(sent), Some(limit)) = (link.first_unanswered_send, config.dead_socket_after) {
        if now.saturating_duration_since(sent) >= limit {
            return Action::Dead;
        }
        wake = Some(sent + limit);
    }
    let next = match link.ping_sent {
        // Nothing at all since the ping: its deadline decides.
        Some(sent) if link.last_received < sent => {
            let deadline = sent + config.response_deadline;
            if now >= deadline {
                return Action::Dead;
            }
            deadline
        }
        // Other traffic proved the link alive; one ping at a time, so this one's answer is
        // awaited until its deadline.
        Some(sent) if now < sent + config.response_deadline => sent + config.response_deadline,
        // No ping out, or one that is settled: silence decides.
        _ => {
            let due = link.last_received + silence_interval(config);
            if now >= due {
                return Action::Ping;
            }
            due
        }
    };
    Action::WaitUntil(wake.map_or(next, |w| w.min(next)))
}

/// What the keepalive task tells the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// A ping was answered after `rtt`.
    Pong { rtt: Duration },
    /// A ping went unanswered past its deadline with nothing else received (`failures` is 1:
    /// the socket is declared dead at once, so failures never accumulate).
    Timeout { failures: u32 },
    /// The socket is dead: a ping's deadline passed with nothing received, or the dead-socket
    /// rule fired.
    Dead,
}

/// The ping stanza: `<iq xmlns="w:p" type="get" to=s.whatsapp.net/>` (whatsmeow's form).
pub fn ping() -> Node {
    Node::new("iq")
        .with_attr("xmlns", "w:p")
        .with_attr("type", "get")
        .with_attr("to", stanzas::server())
}

type PingAnswer<'a> = Pin<Box<dyn Future<Output = Result<Node, IqError>> + Send + 'a>>;

/// Follows [`decide`] until the socket is dead or the connection ends; reports each outcome.
/// Ends when `reports` is closed (the connection is being torn down).
pub async fn run(socket: SocketHandle, config: KeepaliveConfig, reports: mpsc::Sender<Report>) {
    let opened = Instant::now();
    // The last ping stays "sent" until answered: a timed-out ping is still the policy's
    // evidence of silence.
    let mut ping_sent: Option<Instant> = None;
    let mut answer: Option<PingAnswer<'_>> = None;
    loop {
        let activity = socket.activity();
        let link = Link {
            last_received: activity.last_received().map_or(opened, |t| t.max(opened)),
            ping_sent,
            first_unanswered_send: activity.first_unanswered_send(),
        };
        let now = Instant::now();
        match decide(&link, now, &config) {
            Action::Dead => {
                if ping_sent.is_some_and(|sent| link.last_received < sent) {
                    let _ = reports.send(Report::Timeout { failures: 1 }).await;
                }
                let _ = reports.send(Report::Dead).await;
                return;
            }
            Action::Ping => {
                ping_sent = Some(now);
                answer = Some(Box::pin(
                    socket.iq_with_timeout(ping(), config.response_deadline),
                ));
            }
            Action::WaitUntil(at) => {
                let Some(pending) = answer.as_mut() else {
                    tokio::time::sleep_until(at).await;
                    continue;
                };
                tokio::select! {
                    // The answer first, so one that is due with the deadline is not missed.
                    biased;
                    outcome = pending.as_mut() => {
                        answer = None;
                        match outcome {
                            // An error answer is still an answer: the socket is alive.
                            Ok(_) | Err(IqError::ServerError { .. } | IqError::BadAnswer { .. }) => {
                                let rtt = ping_sent.take().map_or(Duration::ZERO, |s| s.elapsed());
                                if reports.send(Report::Pong { rtt }).await.is_err() {
                                    return;
                                }
                            }
                            // Unanswered: the policy decides, from what else arrived.
                            Err(IqError::Timeout { .. }) => {}
                            Err(IqError::ConnectionLost { .. }) => return,
                        }
                    }
                    _ = tokio::time::sleep_until(at) => {}
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "keepalive_tests.rs"]
mod tests;
