//! `herald-cli`: Herald without a window.

mod debug_node;
mod debug_proto;
mod node_json;
mod proto_json;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "herald-cli", version, about = "Herald without a window")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
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
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Debug {
            tool: DebugTool::Node { action },
        } => match action {
            NodeAction::Decode => debug_node::run(debug_node::Direction::Decode),
            NodeAction::Encode => debug_node::run(debug_node::Direction::Encode),
        },
        Command::Debug {
            tool: DebugTool::Proto { action },
        } => debug_proto::run(&action),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("herald-cli: {e}");
            ExitCode::FAILURE
        }
    }
}
