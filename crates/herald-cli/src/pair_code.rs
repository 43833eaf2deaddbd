//! `herald-cli pair-code +PHONE`: link by phone number instead of a QR code, then stay
//! connected like `connect`.

use std::path::Path;
use std::time::Duration;

use herald_core::offline;
use herald_core::service::{Service, ServiceOptions};
use wa_client::pairing::normalize_phone;

use crate::connect::{runtime, stay_connected, Request};
use crate::error::CliError;
use crate::printer::Format;
use crate::stop::StopSignals;

/// How long the server may take to hand out a code.
const CODE_TIMEOUT: Duration = Duration::from_secs(30);

/// `pair-code`.
pub fn run(phone: &str, options: ServiceOptions, format: Format) -> Result<(), CliError> {
    // A wrong number is refused before anything starts, so it changes nothing.
    let number = normalize_phone(phone).map_err(|e| CliError::Usage(format!("{e}: {phone:?}")))?;
    refuse_if_linked(&options.data_dir)?;
    runtime()?.block_on(async {
        let mut stop = StopSignals::install()?;
        let service = Service::start(options)?;
        let request: Request<'_> = Box::pin(ask_for_code(&service, number.as_str().to_owned()));
        stay_connected(&service, format, &mut stop, Some(request)).await
    })
}

/// The engine would refuse too, but only after dialling in with the linked session.
fn refuse_if_linked(data_dir: &Path) -> Result<(), CliError> {
    let status = offline::status(data_dir, wa_client::UnixMillis::EPOCH)?;
    if status.linked {
        let who = status
            .account
            .map(|a| format!(" as {}", a.phone))
            .unwrap_or_default();
        return Err(CliError::Ended(format!(
            "{} is already linked{who}; run `herald-cli logout` first",
            data_dir.display()
        )));
    }
    Ok(())
}

async fn ask_for_code(service: &Service, digits: String) -> Result<(), CliError> {
    // The code reaches the output through the engine's own events (`pair_code`, then the
    // `pairing_code` state), in order with everything else.
    match tokio::time::timeout(CODE_TIMEOUT, service.pair_with_phone(&digits)).await {
        Ok(Ok(_code)) => Ok(()),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(CliError::TimedOut(format!(
            "no pairing code from the server within {} s",
            CODE_TIMEOUT.as_secs()
        ))),
    }
}
