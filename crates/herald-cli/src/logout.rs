//! `herald-cli logout`: unlink this computer from the phone and archive the session.

use std::time::Duration;

use herald_core::offline;
use herald_core::service::{Service, ServiceOptions};
use serde::Serialize;
use wa_client::ConnectionState;

use crate::connect::runtime;
use crate::error::CliError;
use crate::printer::emit;

/// How long to wait for the connection, so WhatsApp itself can be told; after that the
/// session is archived locally and the phone notices later.
const ONLINE_WAIT: Duration = Duration::from_secs(15);
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    was_linked: bool,
    unlinked_on_server: bool,
    archive: Option<String>,
}

/// `logout`.
pub fn run(options: ServiceOptions, json: bool) -> Result<(), CliError> {
    let status = offline::status(&options.data_dir, wa_client::UnixMillis::EPOCH)?;
    if !status.linked {
        return print(
            json,
            &Report {
                was_linked: false,
                unlinked_on_server: false,
                archive: None,
            },
            "Not linked; there is nothing to unlink.",
        );
    }
    let outcome = runtime()?.block_on(async {
        let service = Service::start(options)?;
        let online = wait_online(&service).await;
        if !online {
            tracing::warn!("not online; unlinking locally only");
        }
        let outcome = service.logout().await;
        if tokio::time::timeout(SHUTDOWN_GRACE, service.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("the engine did not stop in time; exiting anyway");
        }
        outcome.map_err(CliError::from)
    })?;
    let mut text = if outcome.unlinked_on_server {
        "Unlinked: WhatsApp confirmed; the phone no longer lists this computer.".to_owned()
    } else {
        "Unlinked here, but WhatsApp did not confirm (not connected); the phone lists this \
         computer until it notices, or remove it there under Linked devices."
            .to_owned()
    };
    if let Some(path) = &outcome.archive {
        text.push_str(&format!("\nThe session was archived at {path}."));
    }
    print(
        json,
        &Report {
            was_linked: true,
            unlinked_on_server: outcome.unlinked_on_server,
            archive: outcome.archive.clone(),
        },
        &text,
    )
}

async fn wait_online(service: &Service) -> bool {
    let mut state = service.engine().await.state();
    let online = state.wait_for(|s| {
        matches!(
            s,
            ConnectionState::Online { .. }
                | ConnectionState::LoggedOut
                | ConnectionState::Replaced
                | ConnectionState::Paused { .. }
        )
    });
    let reached = matches!(
        tokio::time::timeout(ONLINE_WAIT, online).await,
        Ok(Ok(ref s)) if matches!(**s, ConnectionState::Online { .. })
    );
    reached
}

fn print(json: bool, report: &Report, text: &str) -> Result<(), CliError> {
    if json {
        let line = serde_json::to_string(report)
            .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
        emit(&format!("{line}\n"))
    } else {
        emit(&format!("{text}\n"))
    }
}
