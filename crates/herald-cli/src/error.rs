//! Why a command failed, and the exit code each failure maps to.

use std::process::ExitCode;

use herald_core::offline::OfflineError;
use herald_core::service::ServiceError;
use wa_client::{CommandError, StartError};

/// Exit codes, documented in `--help` and the README.
pub mod exit {
    /// Something failed at run time.
    pub const FAILURE: u8 = 1;
    /// Bad input: unknown flag, bad hex, bad URL, bad phone number. Nothing was changed.
    pub const USAGE: u8 = 2;
    /// Another process holds this data folder's session.
    pub const LOCKED: u8 = 3;
    /// `send`: the message was written but no ack came; it may have arrived.
    pub const IN_DOUBT: u8 = 4;
}

/// A failed command.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The input is wrong; nothing was done.
    #[error("{0}")]
    Usage(String),
    #[error("{}", service_message(.0))]
    Service(#[from] ServiceError),
    #[error("{0}")]
    Offline(#[from] OfflineError),
    #[error("app database: {0}")]
    Db(#[from] herald_core::db::DbError),
    #[error("schedules: {0}")]
    Schedule(#[from] herald_core::schedule::store::StoreError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
    /// The engine ended in a state the command cannot go on from.
    #[error("{0}")]
    Ended(String),
    /// A wait ran out.
    #[error("{0}")]
    TimedOut(String),
    #[error("support bundle: {0}")]
    Bundle(#[from] herald_core::support_bundle::BundleError),
    #[error("API keys: {0}")]
    Keys(#[from] crate::api_keys::KeyError),
    /// `serve` could not listen where it was asked to.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// A message could not be sent; nothing left.
    #[error("not sent: {0}")]
    Send(#[source] wa_client::SendError),
    /// The server refused a message.
    #[error("{0}")]
    Rejected(String),
    /// A message was written but not confirmed.
    #[error("{0}")]
    InDoubt(String),
    /// `send --batch` ended with this exit code; each line's event says why.
    #[error("{}", batch_message(*.0))]
    Batch(u8),
}

impl CliError {
    /// The process exit code for this failure.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            Self::Usage(_)
            | Self::Service(ServiceError::Command(CommandError::InvalidPhone(_))) => exit::USAGE,
            Self::Service(ServiceError::Start(StartError::Locked { .. })) => exit::LOCKED,
            Self::InDoubt(_) => exit::IN_DOUBT,
            Self::Batch(code) => *code,
            _ => exit::FAILURE,
        })
    }
}

fn batch_message(code: u8) -> &'static str {
    match code {
        exit::IN_DOUBT => {
            "some messages were written but not confirmed; they may have arrived (see their events)"
        }
        exit::USAGE => "some lines were not valid and were skipped (see their events)",
        _ => "some messages were not sent (see their events)",
    }
}

fn service_message(e: &ServiceError) -> String {
    match e {
        ServiceError::Start(locked @ StartError::Locked { .. }) => {
            format!("{locked}; stop it first, or use another --data-dir")
        }
        ServiceError::Command(CommandError::AlreadyPaired) => {
            "this data folder is already linked to a phone; run `herald-cli logout` first".into()
        }
        other => chain(other),
    }
}

/// An error with its sources, on one line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        // Wrappers that print their source (`transparent`, `{0}`) would say it twice.
        if !text.contains(&next) {
            text = format!("{text}: {next}");
        }
        source = s.source();
    }
    text
}
