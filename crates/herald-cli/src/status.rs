//! `herald-cli status`: what the data folder says, read without starting an engine or taking
//! the session lock, so it works next to a running app or `connect`.

use std::path::Path;
use wa_client::UnixMillis;

use herald_core::export::iso8601;
use herald_core::offline::{self, OfflineStatus};
use serde::Serialize;

use crate::connect::now_ms;
use crate::error::CliError;
use crate::printer::emit;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    data_dir: String,
    #[serde(flatten)]
    status: &'a OfflineStatus,
}

/// `status`.
pub fn run(data_dir: &Path, json: bool) -> Result<(), CliError> {
    let status = offline::status(data_dir, wa_client::UnixMillis(now_ms()))?;
    if json {
        let report = Report {
            data_dir: data_dir.display().to_string(),
            status: &status,
        };
        let line = serde_json::to_string(&report)
            .map_err(|e| CliError::Output(std::io::Error::other(e)))?;
        return emit(&format!("{line}\n"));
    }
    emit(&describe(data_dir, &status))
}

fn describe(data_dir: &Path, s: &OfflineStatus) -> String {
    let mut out = format!("Data folder: {}\n", data_dir.display());
    let linked = match (&s.account, s.linked) {
        (Some(a), _) => {
            let platform = s
                .platform
                .as_deref()
                .map(|p| format!(", {p}"))
                .unwrap_or_default();
            let since = s
                .paired_at_ms
                .map(|t| format!(", since {}", time(UnixMillis(t))))
                .unwrap_or_default();
            format!("yes, {} ({}{platform}{since})", a.phone, a.jid)
        }
        (None, true) => "yes".into(),
        (None, false) => "no".into(),
    };
    out.push_str(&format!("Linked: {linked}\n"));
    match &s.running {
        Some(h) => {
            out.push_str(&format!(
                "Running: {} (pid {}, since {})\n",
                h.program,
                h.pid,
                time(UnixMillis(h.since_ms))
            ));
            if let Some(t) = s.last_transition {
                let what = if t.online { "online" } else { "offline" };
                out.push_str(&format!("Connection: {what} since {}\n", time(t.at_ms)));
            }
        }
        None => out.push_str("Running: no\n"),
    }
    match &s.last_disconnect {
        Some(d) => {
            let code = d.code.map(|c| format!(", code {c}")).unwrap_or_default();
            out.push_str(&format!(
                "Last disconnect: {} {} ({}{code}) → {}\n  {}\n",
                time(d.at_ms),
                d.title,
                d.cause,
                d.decision,
                d.advice
            ));
        }
        None => out.push_str("Last disconnect: none recorded\n"),
    }
    out.push_str(&format!(
        "Disconnects: {} in total, {} in the last 24 h\nArchived sessions: {}\nPrekeys stored: {}\n",
        s.disconnects, s.disconnects_last_24h, s.archived_sessions, s.prekeys
    ));
    out
}

fn time(at: UnixMillis) -> String {
    iso8601(at).replace('T', " ")
}
