//! `herald-cli support-bundle FILE`: the zip to hand over when the link keeps dropping, with
//! secrets, numbers and message texts redacted. Read like `status` (no engine, no lock), so it
//! works beside a running app.

use std::path::Path;

use herald_core::support_bundle::{self, BundleRequest};

use crate::error::CliError;
use crate::printer::emit;

/// `support-bundle`.
pub fn run(data_dir: &Path, out: &Path, now: wa_client::UnixMillis) -> Result<(), CliError> {
    let request = BundleRequest {
        data_dir: data_dir.to_owned(),
        program: format!("herald-cli {}", env!("CARGO_PKG_VERSION")),
        now,
        live_health: None,
    };
    let summary = support_bundle::write(&request, out)?;
    emit(&format!(
        "Wrote {} ({} bytes): {}\n",
        summary.path.display(),
        summary.bytes,
        summary.entries.join(", ")
    ))
}
