//! `herald-cli serve`: the engine and an HTTP API in one process, on the same service as the
//! desktop app, so schedules written here are the ones its scheduler sends.
//!
//! It listens on 127.0.0.1:8080 unless told otherwise; any other address needs a live API key
//! first (no key is ever implied). The port is bound before the engine starts, so a port in
//! use fails fast without touching the session. Ctrl-C or SIGTERM stops it cleanly: the
//! event streams end, requests in flight finish, then the engine closes its connection.

mod auth;
mod control;
mod error;
mod events;
mod extract;
mod health;
mod history;
mod messages;
mod metrics;
mod openapi;
mod pairing;
mod qr_png;
mod router;
mod schedule_body;
mod schedule_edit;
mod schedule_view;
mod schedules;
mod state;
mod status;
mod throttle;
mod views;

use std::future::IntoFuture;
use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use herald_core::db;
use herald_core::offline::APP_DB;
use herald_core::service::Service;
use tokio::sync::watch;

use crate::api_keys;
use crate::error::CliError;
use crate::options::{self, DataDirArg, ServerArgs};
use crate::stop::StopSignals;

/// How long requests in flight may take to finish once asked to stop.
const DRAIN: Duration = Duration::from_secs(5);
/// How long the engine may take to close.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// `serve`'s flags.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Where to listen. An address other than loopback needs an API key
    /// (`herald-cli api-key create`) before it starts.
    #[arg(
        long,
        value_name = "ADDR",
        default_value = "127.0.0.1:8080",
        env = "HERALD_LISTEN"
    )]
    pub listen: SocketAddr,
    /// Serve Prometheus metrics on GET /metrics (with a key, like the rest).
    #[arg(long)]
    pub metrics: bool,
    /// Wrong API keys one address may send before it must wait (doubling from 1 s, up to
    /// 15 min).
    #[arg(long, value_name = "N", default_value_t = throttle::ThrottleConfig::default().free_failures)]
    pub bad_key_limit: u32,
    #[command(flatten)]
    pub data: DataDirArg,
    #[command(flatten)]
    pub server: ServerArgs,
}

/// `serve`.
pub fn run(args: ServeArgs) -> Result<(), CliError> {
    let options = options::service_options(&args.data, &args.server)?;
    std::fs::create_dir_all(&options.data_dir).map_err(CliError::Output)?;
    let conn = db::open(&options.data_dir.join(APP_DB))?;
    api_keys::prepare(&conn)?;
    if !args.listen.ip().is_loopback() && api_keys::live_count(&conn)? == 0 {
        return Err(CliError::Usage(format!(
            "listening on {} (not loopback) needs an API key first: run `herald-cli api-key \
             create`, then start serve again",
            args.listen
        )));
    }
    crate::connect::runtime()?.block_on(async {
        let mut stop = StopSignals::install()?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .map_err(|source| CliError::Listen {
                addr: args.listen,
                source,
            })?;
        let local = listener.local_addr().map_err(|source| CliError::Listen {
            addr: args.listen,
            source,
        })?;
        let service = Service::start(options.clone())?;
        let (stopping_tx, stopping) = watch::channel(false);
        let app = state::AppState::new(state::StateParts {
            service: service.clone(),
            db: conn,
            throttle: throttle::Throttle::new(throttle::ThrottleConfig {
                free_failures: args.bad_key_limit,
                ..throttle::ThrottleConfig::default()
            }),
            data_dir: options.data_dir.clone(),
            metrics: args.metrics,
            stopping,
        });
        let (router, _) = router::build(app);
        // The line scripts and tests wait for; with port 0 it names the port chosen.
        crate::printer::emit(&format!("herald-cli serve: listening on http://{local}\n"))?;
        tracing::info!(%local, "serving");
        let mut drained = stopping_tx.subscribe();
        let server = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            stop.wait().await;
            // Ends the event streams, which would otherwise hold the shutdown open.
            let _ = stopping_tx.send(true);
        });
        let served = server.into_future();
        tokio::pin!(served);
        let result = tokio::select! {
            r = &mut served => r,
            // Stop asked and the drain took too long: stop waiting for slow clients.
            () = async {
                let _ = drained.wait_for(|s| *s).await;
                tokio::time::sleep(DRAIN).await;
            } => {
                tracing::warn!("requests still open after the drain; closing anyway");
                Ok(())
            }
        };
        if tokio::time::timeout(SHUTDOWN_GRACE, service.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("the engine did not stop in time; exiting anyway");
        }
        result.map_err(CliError::Output)
    })
}
