//! The scheduler's [`Sender`] over the real engine: `prepare` is the engine's prepare (the
//! stanza committed with its Signal state on the engine's side, and handed back for the
//! outbox), `transmit` writes those bytes — the first time and after a lost ack — and reads
//! the server's answer.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use wa_client::{EngineHandle, OutgoingMessage, SendError};

use wa_core::binary::{Jid, Server};
use wa_core::pair::code::PhoneNumber;

use super::recipient::Recipient;
use super::sender::{Outcome, Outgoing, Rejection, Sender};

/// How long the gate pauses after a rate-limit refusal.
const RATE_LIMIT_PAUSE: Duration = Duration::from_secs(60);

/// Sends through one engine.
#[derive(Clone)]
pub struct EngineSender {
    engine: Arc<EngineHandle>,
}

impl EngineSender {
    /// A sender over `engine`.
    pub fn new(engine: Arc<EngineHandle>) -> Self {
        Self { engine }
    }
}

/// What a send error means for a schedule.
pub fn rejection_of(error: &SendError) -> Rejection {
    let advice = match error {
        SendError::NotConnected | SendError::Stopped => {
            "Herald is not connected to WhatsApp; it sends when the link is back.".to_owned()
        }
        SendError::NotLinked => "Link Herald to your phone first.".to_owned(),
        SendError::NotOnWhatsApp(_) => {
            "That number has no WhatsApp account; check it and schedule again.".to_owned()
        }
        SendError::NoDevices(_) | SendError::NoUsableDevice { .. } => {
            "WhatsApp lists no device that can receive it; the contact may have left WhatsApp."
                .to_owned()
        }
        SendError::Group { reason, .. } => format!("The group cannot be messaged: {reason}."),
        other => format!("The message could not be prepared: {other}."),
    };
    Rejection {
        code: error.code().to_owned(),
        retryable: error.retryable(),
        advice,
    }
}

/// The scheduler's outcome for the engine's.
pub fn outcome_of(result: Result<wa_client::Outcome, SendError>) -> Outcome {
    match result {
        Ok(wa_client::Outcome::Acked { t }) => Outcome::Acked {
            at: i64::try_from(t.as_millis())
                .ok()
                .and_then(|ms| Timestamp::from_millisecond(ms).ok())
                .unwrap_or_else(Timestamp::now),
        },
        Ok(wa_client::Outcome::Rejected { code: 429, .. }) => Outcome::RateLimited {
            code: "429".to_owned(),
            retry_after: RATE_LIMIT_PAUSE,
        },
        Ok(wa_client::Outcome::Rejected {
            code,
            retryable,
            advice,
        }) => Outcome::Rejected(Rejection {
            code: code.to_string(),
            retryable,
            advice,
        }),
        Ok(wa_client::Outcome::InDoubt) => Outcome::InDoubt,
        // Nothing was written: the stored bytes go out later, unchanged.
        Err(e) => Outcome::Rejected(rejection_of(&e)),
    }
}

impl Sender for EngineSender {
    async fn prepare(&self, message: Outgoing<'_>) -> Result<Vec<u8>, Rejection> {
        let to = message.to.value().parse().map_err(|e| Rejection {
            code: "recipient".to_owned(),
            retryable: false,
            advice: format!("The recipient is not valid: {e}."),
        })?;
        self.engine
            .prepare(OutgoingMessage {
                id: message.message_id.to_owned(),
                to,
                text: message.text.to_owned(),
            })
            .await
            .map(|p| p.stanza)
            .map_err(|e| rejection_of(&e))
    }

    async fn transmit(&self, message_id: &str, stanza: &[u8]) -> Outcome {
        outcome_of(self.engine.transmit(message_id, stanza).await)
    }

    async fn other_chats(&self, to: &Recipient) -> Vec<String> {
        let Ok(user) = to.chat_jid().parse::<Jid>() else {
            return Vec::new();
        };
        if user.server == Server::Group {
            return Vec::new();
        }
        match self.engine.counterpart(&user) {
            Ok(Some(other)) => return vec![other.to_string()],
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(error = %e, "the LID of a recipient could not be read");
                return Vec::new();
            }
        }
        // A number whose LID is not known yet: the contact query its first send makes anyway
        // tells it (and remembers it), so ask now, before deciding whether to skip.
        let Recipient::Phone(e164) = to else {
            return Vec::new();
        };
        let Ok(phone) = PhoneNumber::parse(e164.trim_start_matches('+')) else {
            return Vec::new();
        };
        match self.engine.lookup(&phone).await {
            Ok(contact) => contact.lid.map(|l| l.to_string()).into_iter().collect(),
            Err(e) => {
                tracing::debug!(error = %e, "the LID of a number could not be asked");
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wa_client::UnixMillis;

    #[test]
    fn engine_outcomes_map_to_the_runners() {
        assert_eq!(
            outcome_of(Ok(wa_client::Outcome::Acked {
                t: UnixMillis(1_764_000_000_000)
            })),
            Outcome::Acked {
                at: Timestamp::from_millisecond(1_764_000_000_000).unwrap()
            }
        );
        assert_eq!(
            outcome_of(Ok(wa_client::Outcome::InDoubt)),
            Outcome::InDoubt
        );
        assert!(matches!(
            outcome_of(Ok(wa_client::Outcome::Rejected {
                code: 429,
                retryable: true,
                advice: String::new()
            })),
            Outcome::RateLimited { .. }
        ));
        let Outcome::Rejected(r) = outcome_of(Ok(wa_client::Outcome::Rejected {
            code: 463,
            retryable: false,
            advice: "a".into(),
        })) else {
            panic!("not a rejection")
        };
        assert_eq!((r.code.as_str(), r.retryable), ("463", false));
        let Outcome::Rejected(r) = outcome_of(Err(SendError::NotConnected)) else {
            panic!("not a rejection")
        };
        assert_eq!((r.code.as_str(), r.retryable), ("offline", true));
        let r = rejection_of(&SendError::NotOnWhatsApp("15559990000".into()));
        assert_eq!((r.code.as_str(), r.retryable), ("not-on-whatsapp", false));
    }
}
