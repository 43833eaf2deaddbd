//! `herald-cli send TO TEXT`: one text, sent once, and the server's answer. The exit code
//! says how it ended: 0 acked, 1 refused (or not sent), 2 bad input, 3 the session is in use,
//! 4 in doubt (written, but no ack came: it may have arrived; WhatsApp may show it once the
//! link is back, and sending it again with a new id could show it twice).

use std::time::Duration;

use herald_core::offline;
use herald_core::service::{Service, ServiceOptions};
use serde::Serialize;
use wa_client::{ConnectionState, Outcome, OutgoingMessage, Recipient, UnixMillis};

use crate::connect::{now_ms, runtime};
use crate::error::CliError;
use crate::printer::emit;

/// How long to wait for the connection before giving up with nothing sent.
const ONLINE_WAIT: Duration = Duration::from_secs(30);
pub(crate) const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What `--json` prints when the server acked.
#[derive(Serialize)]
#[serde(rename_all = "camelCase", tag = "event", rename = "sent")]
struct SentLine<'a> {
    id: &'a str,
    to: String,
    t: UnixMillis,
}

/// `send`.
pub fn run(to: &str, text: &str, options: ServiceOptions, json: bool) -> Result<(), CliError> {
    let recipient: Recipient = to
        .parse()
        .map_err(|e: wa_client::messaging::RecipientError| CliError::Usage(e.to_string()))?;
    if text.is_empty() {
        return Err(CliError::Usage("the message text is empty".into()));
    }
    let status = offline::status(&options.data_dir, UnixMillis::EPOCH)?;
    if !status.linked {
        return Err(CliError::Usage(
            "this data folder is not linked to a phone; run `herald-cli connect` first".into(),
        ));
    }
    let (id, chat, outcome) = runtime()?.block_on(async {
        let service = Service::start(options)?;
        let result = send_when_online(&service, recipient, text).await;
        if tokio::time::timeout(SHUTDOWN_GRACE, service.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("the engine did not stop in time; exiting anyway");
        }
        result
    })?;
    match outcome {
        Outcome::Acked { t } => {
            if json {
                let line = serde_json::to_string(&SentLine {
                    id: &id,
                    to: chat.clone(),
                    t,
                })
                .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
                emit(&format!("{line}\n"))
            } else {
                emit(&format!("Sent {id} to {chat}.\n"))
            }
        }
        Outcome::Rejected { code, advice, .. } => Err(CliError::Rejected(format!(
            "WhatsApp refused message {id} ({code}): {advice}"
        ))),
        Outcome::InDoubt => Err(CliError::InDoubt(format!(
            "message {id} was written but WhatsApp did not confirm it; it may have arrived"
        ))),
    }
}

/// Waits (bounded) until the link is online, then sends one text with a fresh id: (id, chat,
/// outcome).
pub(crate) async fn send_when_online(
    service: &Service,
    to: Recipient,
    text: &str,
) -> Result<(String, String, Outcome), CliError> {
    let engine = service.engine().await;
    let mut state = engine.state();
    let settled = state.wait_for(|s| {
        matches!(
            s,
            ConnectionState::Online { .. }
                | ConnectionState::LoggedOut
                | ConnectionState::Replaced
                | ConnectionState::Paused { .. }
        )
    });
    match tokio::time::timeout(ONLINE_WAIT, settled).await {
        Ok(Ok(s)) if matches!(*s, ConnectionState::Online { .. }) => {}
        Ok(Ok(s)) => {
            return Err(CliError::Ended(format!(
                "not sent: the connection is {}",
                s.name()
            )))
        }
        _ => {
            return Err(CliError::TimedOut(format!(
                "not sent: not connected within {} s",
                ONLINE_WAIT.as_secs()
            )))
        }
    }
    let own = engine.health().jid.unwrap_or_default();
    let own_user = own.split([':', '@']).next().unwrap_or("");
    let id = wa_core::ids::new_message_id(&mut rand::rngs::OsRng, now_ms() / 1000, own_user);
    let sent = engine
        .send(OutgoingMessage {
            id: id.clone(),
            to,
            text: text.to_owned(),
        })
        .await
        .map_err(CliError::Send)?;
    Ok((id, sent.prepared.chat.to_string(), sent.outcome))
}
