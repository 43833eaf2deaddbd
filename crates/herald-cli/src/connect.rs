//! `herald-cli connect`: run the engine in the foreground, show the QR code when there is no
//! session, and stay connected until Ctrl-C or SIGTERM.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use herald_core::schedule::runner::RunnerConfig;
use herald_core::scheduler::SchedulerSetup;
use herald_core::service::{Service, ServiceEvent, ServiceOptions};
use tokio::sync::broadcast::error::RecvError;
use wa_client::{ConnectionState, EngineEvent};

use crate::error::CliError;
use crate::printer::{Format, Printer};
use crate::stop::StopSignals;

/// How long a clean shutdown may take before we give up waiting and exit anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A command to run on the engine while the events are printed (e.g. asking for a pairing
/// code); its error ends the run.
pub type Request<'a> = Pin<Box<dyn Future<Output = Result<(), CliError>> + 'a>>;

/// `connect`: the engine, and the scheduler sending through it with the gate's `runner`
/// limits.
pub fn run(options: ServiceOptions, runner: RunnerConfig, format: Format) -> Result<(), CliError> {
    runtime()?.block_on(async {
        let mut stop = StopSignals::install()?;
        let setup = SchedulerSetup {
            sender: Some(herald_core::scheduler::engine_sender()),
            runner,
            ..SchedulerSetup::default()
        };
        let service = Service::start_with(options, setup)?;
        stay_connected(&service, format, &mut stop, None).await
    })
}

/// One thread is plenty for one connection, and keeps the idle footprint small. It also
/// means no service task runs before the caller subscribes, so no event is missed.
pub fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CliError::Runtime)
}

/// Prints the service's events until a stop signal, then shuts the engine down. Ends early
/// with an error when `request` fails or every pairing code expires unused.
pub async fn stay_connected(
    service: &Service,
    format: Format,
    stop: &mut StopSignals,
    request: Option<Request<'_>>,
) -> Result<(), CliError> {
    let mut events = service.subscribe();
    let mut printer = Printer::new(format);
    if format != Format::Json {
        printer.event(
            &ServiceEvent::Connection(service.connection().await),
            now_ms(),
        )?;
    }
    let mut request = request;
    let mut ticker = tokio::time::interval(Duration::from_secs(1));
    let outcome = loop {
        tokio::select! {
            () = stop.wait() => break Ok(()),
            result = poll_request(&mut request), if request.is_some() => {
                request = None;
                if let Err(e) = result {
                    break Err(e);
                }
            }
            received = events.recv() => match received {
                Ok(event) => {
                    printer.event(&event, now_ms())?;
                    if let ServiceEvent::Engine(EngineEvent::State {
                        state: ConnectionState::QrExpired,
                        ..
                    }) = event
                    {
                        break Err(CliError::Ended(
                            "every code expired before the phone linked; run the command again \
                             when the phone is at hand"
                                .into(),
                        ));
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "output fell behind the engine; re-reading the state");
                    let view = service.connection().await;
                    printer.event(&ServiceEvent::Connection(view), now_ms())?;
                }
                Err(RecvError::Closed) => break Ok(()),
            },
            _ = ticker.tick(), if printer.counting() => printer.tick(now_ms())?,
        }
    };
    printer.line("Stopping…")?;
    if tokio::time::timeout(SHUTDOWN_GRACE, service.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("the engine did not stop in time; exiting anyway");
    }
    // What the engine said while stopping, down to its `closed` state.
    while let Ok(event) = events.try_recv() {
        printer.event(&event, now_ms())?;
    }
    outcome
}

async fn poll_request(request: &mut Option<Request<'_>>) -> Result<(), CliError> {
    match request {
        Some(future) => future.await,
        None => std::future::pending().await,
    }
}

/// Unix milliseconds now, for countdowns: the engine's one wall clock.
pub fn now_ms() -> u64 {
    wa_client::Clock::now_ms(&wa_client::SystemClock)
}
