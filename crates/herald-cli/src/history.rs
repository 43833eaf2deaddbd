//! `herald-cli history`: the reconnect history, newest first, read like `status` (no engine,
//! no lock).

use std::path::Path;

use herald_core::export::{csv, iso8601};
use herald_core::history::DisconnectRecord;
use herald_core::offline;

use crate::error::CliError;
use crate::printer::emit;

/// How the rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// `history`.
pub fn run(data_dir: &Path, limit: u32, format: Format) -> Result<(), CliError> {
    let rows = offline::history(data_dir, limit)?;
    match format {
        Format::Json => {
            let text = serde_json::to_string(&rows)
                .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
            emit(&format!("{text}\n"))
        }
        Format::Csv => emit(&csv(&rows).map_err(|e| CliError::Output(std::io::Error::other(e)))?),
        Format::Table if rows.is_empty() => emit("No disconnects recorded.\n"),
        Format::Table => emit(&table(&rows)),
    }
}

fn table(rows: &[DisconnectRecord]) -> String {
    let mut out = String::new();
    for r in rows {
        let code = r.code.map(|c| c.to_string()).unwrap_or_else(|| "-".into());
        let wait = r
            .delay_ms
            .map(|d| format!(" after {:.1} s", d as f64 / 1000.0))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}  {:<22} {:>4}  {}{wait}\n    {} — {}\n",
            iso8601(r.at_ms).replace('T', " "),
            r.cause,
            code,
            r.decision,
            r.title,
            r.advice
        ));
    }
    out
}
