//! When to raise a desktop notification: pure.
//!
//! Only for what the user must act on (the link is gone, taken over, outdated, banned, or
//! Herald gave up retrying), and once per episode: an episode ends when the connection is
//! online again or the user acts (reconnect, pair again), never per retry.

use std::collections::HashSet;

use wa_client::Disconnect;
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
}
