//! `wa-sim serve --port P --state DIR [--json]`: the simulator as a process. The first stdout
//! line is one JSON object with the WebSocket URL, the control API URL and the root public key
//! a client must trust; logs go to stderr.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use wa_sim::{init_tracing, server, SimConfig, Simulator};

const USAGE: &str = "usage: wa-sim serve --port P --state DIR [--json] [--ack-deadline-ms N] \
[--close-after-last-ref-ms N] [--pbkdf2-iterations N] [--refresh-on-scan] [--contacts N] \
[--contact-devices N] [--demo-world [--read-after-ms N]] [--history-sync]";

struct Args {
    port: u16,
    config: SimConfig,
    json: bool,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut it = args.iter();
    if it.next().map(String::as_str) != Some("serve") {
        return Err(USAGE.to_owned());
    }
    let mut port = None;
    let mut json = false;
    let mut config = SimConfig::default();
    let (mut contacts, mut companions, mut demo) = (0usize, 0u16, false);
    let mut read_after = std::time::Duration::from_millis(2_500);
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or(format!("{flag} needs a value"));
        let millis = |v: String| {
            v.parse::<u64>()
                .map(std::time::Duration::from_millis)
                .map_err(|_| format!("{flag}: {v:?} is not a number"))
        };
        match flag.as_str() {
            "--port" => {
                let v = value()?;
                port = Some(
                    v.parse()
                        .map_err(|_| format!("--port: {v:?} is not a port"))?,
                );
            }
            "--state" => config.state_dir = Some(PathBuf::from(value()?)),
            "--json" => json = true,
            "--ack-deadline-ms" => config.ack_deadline = millis(value()?)?,
            "--close-after-last-ref-ms" => config.close_after_last_ref = millis(value()?)?,
            "--pbkdf2-iterations" => {
                let v = value()?;
                config.pbkdf2_iterations = v
                    .parse()
                    .map_err(|_| format!("--pbkdf2-iterations: {v:?}"))?;
            }
            "--refresh-on-scan" => config.refresh_on_scan = true,
            "--contacts" => {
                let v = value()?;
                contacts = v
                    .parse()
                    .map_err(|_| format!("--contacts: {v:?} is not a number"))?;
            }
            "--contact-devices" => {
                let v = value()?;
                companions = v
                    .parse()
                    .map_err(|_| format!("--contact-devices: {v:?} is not a number"))?;
            }
            "--demo-world" => demo = true,
            "--history-sync" => config.history_sync = true,
            "--read-after-ms" => read_after = millis(value()?)?,
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    if demo {
        config = config.demo_world(read_after);
    }
    config
        .contacts
        .extend((0..contacts).map(|_| wa_sim::ContactSpec {
            companions,
            ..wa_sim::ContactSpec::default()
        }));
    let port = port.ok_or(format!("--port is required\n{USAGE}"))?;
    if config.state_dir.is_none() {
        return Err(format!("--state is required\n{USAGE}"));
    }
    Ok(Args { port, config, json })
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args = match parse_args(&args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(args.json);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("wa-sim: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wa-sim: {}", chain(&e));
            ExitCode::FAILURE
        }
    }
}

fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

async fn run(args: Args) -> Result<(), wa_sim::SimError> {
    let sim = Simulator::new(args.config)?;
    let (listener, addr) = server::bind(args.port).await?;
    // Written by hand so the keys keep this order (serde_json's map would sort them).
    let line = format!(
        r#"{{"event":"listening","url":"ws://{addr}/ws/chat","admin":"http://{addr}/admin","root_pub_hex":"{}"}}"#,
        sim.root_pub_hex()?
    );
    let mut stdout = std::io::stdout().lock();
    // A closed stdout must not stop the server; the line is for whoever started us.
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
    drop(stdout);
    tracing::info!(%addr, "wa-sim listening");
    server::serve(sim, listener).await
}
