//! `herald-cli groups`: the groups the account is in, with their members.

use std::time::Duration;

use herald_core::service::{Service, ServiceOptions};
use serde::Serialize;
use wa_client::ConnectionState;

use crate::connect::runtime;
use crate::error::CliError;
use crate::printer::emit;

const ONLINE_WAIT: Duration = Duration::from_secs(30);
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupLine {
    jid: String,
    subject: String,
    addressing: &'static str,
    participants: Vec<String>,
}

/// `groups`.
pub fn run(options: ServiceOptions, json: bool) -> Result<(), CliError> {
    let groups = runtime()?.block_on(async {
        let service = Service::start(options)?;
        let engine = service.engine().await;
        let mut state = engine.state();
        // Read into a bool at once: the watch's guard must not be held across an await, or
        // the engine could not publish its next state.
        let online = matches!(
            tokio::time::timeout(
                ONLINE_WAIT,
                state.wait_for(|s| matches!(s, ConnectionState::Online { .. })),
            )
            .await,
            Ok(Ok(_))
        );
        let result = if online {
            engine.groups().await.map_err(CliError::Send)
        } else {
            Err(CliError::TimedOut(format!(
                "not connected within {} s",
                ONLINE_WAIT.as_secs()
            )))
        };
        if tokio::time::timeout(SHUTDOWN_GRACE, service.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("the engine did not stop in time; exiting anyway");
        }
        result
    })?;
    let lines: Vec<GroupLine> = groups
        .into_iter()
        .map(|g| GroupLine {
            jid: g.jid.to_string(),
            subject: g.subject,
            addressing: if g.lid_addressing { "lid" } else { "pn" },
            participants: g.participants.iter().map(|p| p.jid.to_string()).collect(),
        })
        .collect();
    if json {
        let text = serde_json::to_string(&lines)
            .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
        return emit(&format!("{text}\n"));
    }
    if lines.is_empty() {
        return emit("No groups.\n");
    }
    for g in &lines {
        emit(&format!(
            "{}  {}  ({} members)\n    {}\n",
            g.jid,
            g.subject,
            g.participants.len(),
            g.participants.join(", ")
        ))?;
    }
    Ok(())
}
