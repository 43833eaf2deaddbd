//! `herald-cli`: Herald without a window. This file parses the command line and hands each
//! command to its module.

mod api_key;
mod api_keys;
mod connect;
mod debug_node;
mod debug_proto;
mod error;
mod gate_flags;
mod groups;
mod history;
mod logging;
mod logout;
mod node_json;
mod options;
mod pair_code;
mod printer;
mod proto_json;
mod schedule;
mod schedule_flags;
mod send;
mod send_batch;
mod serve;
mod status;
mod stop;
mod support_bundle;

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{Parser, Subcommand};

use error::{exit, CliError};
use options::{DataDirArg, ServerArgs};
use printer::Format;

const AFTER_HELP: &str = "Exit codes: 0 done, 1 failed, 2 bad input (nothing changed), \
3 the session is in use by another process, 4 (send) written but not confirmed.";

#[derive(Parser)]
#[command(name = "herald-cli", version, about = "Herald without a window", after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Connect and stay connected (showing a QR code to scan when not linked) until Ctrl-C.
    Connect {
        #[command(flatten)]
        data: DataDirArg,
        #[command(flatten)]
        server: ServerArgs,
        /// One JSON object per line on stdout: the engine's events, each with an "event" key.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        gate: gate_flags::GateArgs,
    },
    /// Link by phone number instead of a QR code, then stay connected like `connect`.
    PairCode {
        /// The full international number, e.g. +15551234567.
        #[arg(value_name = "+PHONE", allow_hyphen_values = true)]
        phone: String,
        #[command(flatten)]
        data: DataDirArg,
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long)]
        json: bool,
    },
    /// Whether a phone is linked, who runs the session, the last disconnect (no engine needed).
    Status {
        #[command(flatten)]
        data: DataDirArg,
        #[arg(long)]
        json: bool,
    },
    /// The reconnect history, newest first.
    History {
        #[command(flatten)]
        data: DataDirArg,
        /// How many rows, newest first.
        #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..))]
        limit: u32,
        /// A JSON array of rows.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// CSV (RFC 4180) with a header line.
        #[arg(long)]
        csv: bool,
    },
    /// Unlink this computer from the phone; the session is archived, not deleted.
    Logout {
        #[command(flatten)]
        data: DataDirArg,
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long)]
        json: bool,
    },
    /// Send one text now and wait for WhatsApp's ack. Exit 0 acked, 1 refused or not sent,
    /// 2 bad input, 3 session in use, 4 in doubt (written, not confirmed).
    Send {
        /// +E.164, digits@s.whatsapp.net, digits@lid or …@g.us.
        #[arg(
            value_name = "TO",
            allow_hyphen_values = true,
            required_unless_present = "batch"
        )]
        to: Option<String>,
        /// The text.
        #[arg(
            value_name = "TEXT",
            allow_hyphen_values = true,
            required_unless_present = "batch"
        )]
        text: Option<String>,
        /// Send many texts over one connection, one after the other, each waited for until
        /// its ack: one JSON object {"to":…,"text":…} per line of FILE (`-` for stdin), read
        /// as they come, one event per line. Not spaced like scheduled sends. Exit code: the
        /// worst outcome (4 in doubt, 1 refused or not sent, 2 a bad line, skipped).
        #[arg(long, value_name = "FILE", conflicts_with_all = ["to", "text"])]
        batch: Option<std::path::PathBuf>,
        #[command(flatten)]
        data: DataDirArg,
        #[command(flatten)]
        server: ServerArgs,
        /// Print `{"event":"sent","id":…,"to":…,"t":…}` when acked.
        #[arg(long)]
        json: bool,
    },
    /// The groups the account is in, with their members.
    Groups {
        #[command(flatten)]
        data: DataDirArg,
        #[command(flatten)]
        server: ServerArgs,
        #[arg(long)]
        json: bool,
    },
    /// Scheduled messages: add, preview, list, pause, resume, cancel, history.
    Schedule {
        #[command(subcommand)]
        action: schedule::ScheduleCommand,
    },
    /// Run the engine and an HTTP API on the app's service (127.0.0.1:8080 by default) until
    /// Ctrl-C or SIGTERM.
    Serve(serve::ServeArgs),
    /// The API keys `serve` accepts: create, list, revoke.
    ApiKey {
        #[command(subcommand)]
        action: api_key::ApiKeyCommand,
    },
    /// Write a zip for support: 14 days of logs, the history, settings, versions, OS and
    /// memory, with keys, phone numbers and message texts redacted.
    SupportBundle {
        /// Where to write the zip.
        #[arg(value_name = "FILE")]
        out: std::path::PathBuf,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Protocol debugging tools.
    Debug {
        #[command(subcommand)]
        tool: DebugTool,
    },
}

#[derive(Subcommand)]
enum DebugTool {
    /// Binary (WABinary) nodes.
    Node {
        #[command(subcommand)]
        action: NodeAction,
    },
    /// Protobuf messages and pairing crypto, for cross-checks.
    #[command(hide = true)]
    Proto {
        #[command(subcommand)]
        action: debug_proto::ProtoAction,
    },
}

#[derive(Subcommand)]
enum NodeAction {
    /// Reads one hex frame plaintext per line (flags byte included), writes one JSON node per line.
    Decode,
    /// Reads one JSON node per line, writes one hex frame plaintext per line (flags byte `00`).
    ///
    /// An attribute value containing '@' that parses as a JID is encoded as a JID (as Baileys
    /// does); any other value is encoded as a string.
    Encode,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            return ExitCode::from(exit::USAGE);
        }
        Err(e) => {
            eprintln!("herald-cli: {} (see --help)", one_line(&e.to_string()));
            return ExitCode::from(exit::USAGE);
        }
    };
    logging::init();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("herald-cli: {}", error::chain(&e));
            e.exit_code()
        }
    }
}

fn dispatch(command: Command) -> Result<(), CliError> {
    let human = |json: bool, show_qr: bool| {
        if json {
            Format::Json
        } else {
            Format::Human { show_qr }
        }
    };
    match command {
        Command::Connect {
            data,
            server,
            json,
            gate,
        } => connect::run(
            options::service_options(&data, &server)?,
            gate.runner(),
            human(json, true),
        ),
        Command::PairCode {
            phone,
            data,
            server,
            json,
        } => pair_code::run(
            &phone,
            options::service_options(&data, &server)?,
            human(json, false),
        ),
        Command::Status { data, json } => status::run(&data.resolve()?, json),
        Command::History {
            data,
            limit,
            json,
            csv,
        } => {
            let format = match (json, csv) {
                (true, _) => history::Format::Json,
                (_, true) => history::Format::Csv,
                _ => history::Format::Table,
            };
            history::run(&data.resolve()?, limit, format)
        }
        Command::Logout { data, server, json } => {
            logout::run(options::service_options(&data, &server)?, json)
        }
        Command::Send {
            to,
            text,
            batch,
            data,
            server,
            json,
        } => {
            let options = options::service_options(&data, &server)?;
            match (batch, to, text) {
                (Some(file), _, _) => send_batch::run(&file, options, json),
                (None, Some(to), Some(text)) => send::run(&to, &text, options, json),
                // clap requires TO and TEXT without --batch.
                _ => Err(error::CliError::Usage(
                    "send needs TO and TEXT, or --batch FILE".into(),
                )),
            }
        }
        Command::Groups { data, server, json } => {
            groups::run(options::service_options(&data, &server)?, json)
        }
        Command::Schedule { action } => schedule::run(action),
        Command::Serve(args) => serve::run(args),
        Command::ApiKey { action } => api_key::run(action),
        Command::SupportBundle { out, data } => support_bundle::run(
            &data.resolve()?,
            &out,
            wa_client::Clock::now(&wa_client::SystemClock),
        ),
        Command::Debug {
            tool: DebugTool::Node { action },
        } => match action {
            NodeAction::Decode => debug_node::run(debug_node::Direction::Decode),
            NodeAction::Encode => debug_node::run(debug_node::Direction::Encode),
        }
        .map_err(CliError::Output),
        Command::Debug {
            tool: DebugTool::Proto { action },
        } => debug_proto::run(&action).map_err(CliError::Output),
    }
}

/// clap's message without its tips and usage block: the first paragraph on one line,
/// `error: ` dropped (a missing argument is named on the line after the first).
fn one_line(message: &str) -> String {
    let paragraph: Vec<&str> = message
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    paragraph.join(" ").trim_start_matches("error: ").to_owned()
}
