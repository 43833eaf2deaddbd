//! When to raise a desktop notification: pure.
//!
//! Only for what the user must act on (the link is gone, taken over, outdated, banned, or
//! Herald gave up retrying), and once per episode: an episode ends when the connection is
//! online again or the user acts (reconnect, pair again), never per retry.

use std::collections::HashSet;

use wa_client::Disconnect;

use crate::schedule::outbox::SendState;
use crate::schedule::runner::RunnerEvent;
use wa_core::disconnect::{Cause, EndState};

/// A notification to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub kind: AlertKind,
    pub summary: String,
    pub body: String,
}

/// What an alert is about; one of each per episode at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertKind {
    LoggedOut,
    Replaced,
    ClientOutdated,
    Banned,
    Paused,
    NeedsAttention,
    SendFailed,
    SendMissed,
    SendInDoubt,
}

/// Remembers what was already said in the current episode.
#[derive(Debug, Default)]
pub struct AlertPolicy {
    said: HashSet<AlertKind>,
}

impl AlertPolicy {
    /// The connection is online again: the next trouble is a new episode.
    pub fn on_online(&mut self) {
        self.said.clear();
    }

    /// The user acted (reconnect now, new pairing): likewise a new episode.
    pub fn on_user_action(&mut self) {
        self.said.clear();
    }

    /// A connection ended; the engine's record says whether it deserves a notification and
    /// where it stops.
    pub fn on_disconnect(&mut self, d: &Disconnect) -> Option<Alert> {
        if !d.notify {
            return None;
        }
        let (kind, summary, body) = match d.stop {
            Some(EndState::LoggedOut) => (
                AlertKind::LoggedOut,
                "WhatsApp link lost",
                "Herald was unlinked from your phone; scan again to reconnect.".to_string(),
            ),
            Some(EndState::Replaced) => (
                AlertKind::Replaced,
                "WhatsApp session taken over",
                "Another WhatsApp Web or Desktop took over this session; Herald stays off \
                 until you reconnect it."
                    .to_string(),
            ),
            Some(EndState::ClientOutdated) => (
                AlertKind::ClientOutdated,
                "WhatsApp version outdated",
                d.advice.clone(),
            ),
            Some(EndState::TempBanned { .. }) => (
                AlertKind::Banned,
                "WhatsApp account banned",
                d.advice.clone(),
            ),
            _ => (
                AlertKind::NeedsAttention,
                if d.cause == Cause::CertificateRejected {
                    "WhatsApp server not trusted"
                } else {
                    "Herald needs your attention"
                },
                d.advice.clone(),
            ),
        };
        self.say(kind, summary, body)
    }

    /// Every retry failed and Herald paused.
    pub fn on_paused(&mut self, attempts: u32) -> Option<Alert> {
        self.say(
            AlertKind::Paused,
            "Herald stopped reconnecting",
            format!(
                "WhatsApp could not be reached after {attempts} attempts; Herald waits until \
                 you press Reconnect now."
            ),
        )
    }

    fn say(&mut self, kind: AlertKind, summary: &str, body: String) -> Option<Alert> {
        self.said.insert(kind).then(|| Alert {
            kind,
            summary: summary.to_string(),
            body,
        })
    }
}

/// Notifications about scheduled sends: each failed or in-doubt send once (an in-doubt send
/// retried every half minute is not announced every time), each batch of missed ones once.
#[derive(Debug, Default)]
pub struct SendAlerts {
    said: HashSet<(i64, AlertKind)>,
}

/// Sends remembered as announced; beyond this the memory starts afresh (a repeat then is
/// better than memory that grows for ever).
const SEND_ALERT_MEMORY: usize = 1024;

impl SendAlerts {
    /// What to post for a runner event about a send to `to`.
    pub fn on_runner(&mut self, event: &RunnerEvent, to: &str) -> Option<Alert> {
        let (key, kind, summary, body) = match event {
            RunnerEvent::Send {
                send_id,
                state: SendState::Failed,
                advice,
                ..
            } => (
                *send_id,
                AlertKind::SendFailed,
                "A scheduled message failed",
                format!(
                    "Your message to {to} was not sent. {}",
                    advice.as_deref().unwrap_or("")
                )
                .trim_end()
                .to_owned(),
            ),
            RunnerEvent::Send {
                send_id,
                state: SendState::InDoubt,
                ..
            } => (
                *send_id,
                AlertKind::SendInDoubt,
                "A scheduled message may not have gone out",
                format!(
                    "WhatsApp did not confirm your message to {to}. Herald sends the very same \
                     message again; it cannot show twice."
                ),
            ),
            RunnerEvent::Missed { count, .. } => (
                -1,
                AlertKind::SendMissed,
                if *count == 1 {
                    "A scheduled message was missed"
                } else {
                    "Scheduled messages were missed"
                },
                format!(
                    "{count} scheduled message{} to {to} came due while Herald could not send and \
                     {} too late to go now; see the schedule's log.",
                    if *count == 1 { "" } else { "s" },
                    if *count == 1 { "was" } else { "were" },
                ),
            ),
            RunnerEvent::Send { .. } => return None,
        };
        // Missed batches are each new; a send is announced once per kind.
        if key >= 0 {
            if self.said.len() >= SEND_ALERT_MEMORY {
                self.said.clear();
            }
            if !self.said.insert((key, kind)) {
                return None;
            }
        }
        Some(Alert {
            kind,
            summary: summary.to_owned(),
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wa_core::disconnect::{
        classify, ClassifyContext, CloseReason, Failure, FailureReason, StreamError,
    };

    fn verdict(r: CloseReason) -> Disconnect {
        let v = classify(
            &r,
            ClassifyContext {
                version_refreshed: true,
            },
        );
        Disconnect::from_verdict(&v, wa_client::UnixMillis(1_000), 0, None, 0)
    }

    fn failure(reason: u16) -> CloseReason {
        CloseReason::Failure(Failure {
            reason: FailureReason::from_code(reason),
            ban_code: None,
            expire_secs: None,
            location: None,
            message: None,
        })
    }

    #[test]
    fn table() {
        let cases: Vec<(CloseReason, Option<(AlertKind, &str)>)> = vec![
            (
                CloseReason::StreamError(StreamError::DeviceRemoved { code: 401 }),
                Some((AlertKind::LoggedOut, "WhatsApp link lost")),
            ),
            (
                failure(401),
                Some((AlertKind::LoggedOut, "WhatsApp link lost")),
            ),
            (
                CloseReason::StreamError(StreamError::Replaced { code: None }),
                Some((AlertKind::Replaced, "WhatsApp session taken over")),
            ),
            (
                failure(405),
                Some((AlertKind::ClientOutdated, "WhatsApp version outdated")),
            ),
            (
                failure(402),
                Some((AlertKind::Banned, "WhatsApp account banned")),
            ),
            (
                failure(409),
                Some((AlertKind::NeedsAttention, "Herald needs your attention")),
            ),
            (failure(503), None),
            (CloseReason::StreamError(StreamError::RestartRequired), None),
            (CloseReason::DeadSocket, None),
            (CloseReason::QrExhausted, None),
            (CloseReason::LocalLogout, None),
        ];
        for (reason, want) in cases {
            let mut p = AlertPolicy::default();
            let got = p.on_disconnect(&verdict(reason.clone()));
            assert_eq!(
                got.as_ref().map(|a| (a.kind, a.summary.as_str())),
                want,
                "{reason:?}"
            );
        }
    }

    #[test]
    fn once_per_episode() {
        let mut p = AlertPolicy::default();
        let replaced = verdict(CloseReason::StreamError(StreamError::Replaced {
            code: None,
        }));
        assert!(p.on_disconnect(&replaced).is_some());
        assert!(
            p.on_disconnect(&replaced).is_none(),
            "no repeat within the episode"
        );
        assert!(p.on_paused(10).is_some());
        assert!(p.on_paused(10).is_none());
        p.on_user_action();
        assert!(
            p.on_disconnect(&replaced).is_some(),
            "a new episode after the user acts"
        );
        p.on_online();
        let paused = p.on_paused(10).unwrap();
        assert_eq!(
            paused.body,
            "WhatsApp could not be reached after 10 attempts; Herald waits until you press \
             Reconnect now."
        );
    }

    #[test]
    fn scheduled_sends_table() {
        let send = |id: i64, state: SendState, advice: Option<&str>| RunnerEvent::Send {
            schedule_id: 1,
            send_id: id,
            state,
            error_code: None,
            advice: advice.map(str::to_owned),
        };
        let mut p = SendAlerts::default();
        let cases: Vec<(RunnerEvent, Option<(AlertKind, &str)>)> = vec![
            (send(1, SendState::Sent, None), None),
            (send(1, SendState::Delivered, None), None),
            (send(1, SendState::Cancelled, None), None),
            (
                send(2, SendState::Failed, Some("This number does not use WhatsApp.")),
                Some((
                    AlertKind::SendFailed,
                    "Your message to +4915123456789 was not sent. This number does not use WhatsApp.",
                )),
            ),
            (
                send(3, SendState::InDoubt, None),
                Some((
                    AlertKind::SendInDoubt,
                    "WhatsApp did not confirm your message to +4915123456789. Herald sends the \
                     very same message again; it cannot show twice.",
                )),
            ),
            // The same send in doubt again after its retry: already said.
            (send(3, SendState::InDoubt, None), None),
            (
                RunnerEvent::Missed {
                    schedule_id: 1,
                    count: 3,
                },
                Some((
                    AlertKind::SendMissed,
                    "3 scheduled messages to +4915123456789 came due while Herald could not \
                     send and were too late to go now; see the schedule's log.",
                )),
            ),
        ];
        for (event, want) in cases {
            let got = p.on_runner(&event, "+4915123456789");
            assert_eq!(
                got.as_ref().map(|a| (a.kind, a.body.as_str())),
                want,
                "{event:?}"
            );
        }
    }
}
