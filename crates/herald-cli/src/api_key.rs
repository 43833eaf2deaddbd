//! `herald-cli api-key create|list|revoke`: the keys `serve` accepts. A new key is printed
//! once, here, and never again; a revoked key stops working at the daemon's next request.

use std::path::Path;

use clap::Subcommand;
use herald_core::db;
use herald_core::offline::APP_DB;
use rusqlite::Connection;
use serde_json::json;

use crate::api_keys::{self, KeyError};
use crate::error::CliError;
use crate::options::DataDirArg;
use crate::printer::emit;

/// `api-key` subcommands.
#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Make a new key and print it (once: only its SHA-256 digest is kept).
    Create {
        /// A name to revoke it by later (default: key-N).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        data: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// Every key's name and dates (never the keys).
    List {
        #[command(flatten)]
        data: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// Stop a key from working.
    Revoke {
        name: String,
        #[command(flatten)]
        data: DataDirArg,
        #[arg(long)]
        json: bool,
    },
}

/// `api-key …`.
pub fn run(command: ApiKeyCommand) -> Result<(), CliError> {
    let now = jiff::Timestamp::now();
    match command {
        ApiKeyCommand::Create { name, data, json } => {
            let conn = open(&data.resolve()?)?;
            let made = api_keys::create(&conn, name.as_deref(), now).map_err(key_error)?;
            if json {
                return emit(&format!(
                    "{}\n",
                    json!({"name": made.name, "key": made.key})
                ));
            }
            emit(&format!(
                "{}\n\nKey {:?} made. It is shown this once; keep it somewhere safe. Send it \
                 as `X-API-Key: KEY` or `Authorization: Bearer KEY`.\n",
                made.key, made.name
            ))
        }
        ApiKeyCommand::List { data, json } => {
            let conn = open(&data.resolve()?)?;
            let keys = api_keys::list(&conn).map_err(key_error)?;
            if json {
                return emit(&format!("{}\n", json!(keys)));
            }
            if keys.is_empty() {
                return emit("No API keys. Make one with `herald-cli api-key create`.\n");
            }
            let mut out = String::new();
            for k in &keys {
                let state = match k.revoked {
                    Some(at) => format!("revoked {}", at.strftime("%Y-%m-%d %H:%M UTC")),
                    None => "live".into(),
                };
                out.push_str(&format!(
                    "{:<24} made {}  {state}\n",
                    k.name,
                    k.created.strftime("%Y-%m-%d %H:%M UTC")
                ));
            }
            emit(&out)
        }
        ApiKeyCommand::Revoke { name, data, json } => {
            let conn = open(&data.resolve()?)?;
            api_keys::revoke(&conn, &name, now).map_err(key_error)?;
            if json {
                return emit(&format!("{}\n", json!({"name": name, "revoked": true})));
            }
            emit(&format!("Key {name:?} revoked.\n"))
        }
    }
}

/// A wrong name is bad input (exit 2, nothing changed); a database failure is a failure.
fn key_error(e: KeyError) -> CliError {
    match e {
        KeyError::Sqlite(_) => CliError::Keys(e),
        other => CliError::Usage(other.to_string()),
    }
}

fn open(dir: &Path) -> Result<Connection, CliError> {
    std::fs::create_dir_all(dir).map_err(CliError::Output)?;
    Ok(db::open(&dir.join(APP_DB))?)
}
