//! `cargo xtask run`: build and start the app, headless when there is no display.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::display::{terminate, SessionBus, Xvfb};
use crate::setup;
use crate::step::sh;

/// The window's size; a screenshot display is made exactly this big so that the root window
/// is the app's window.
const WINDOW: (u32, u32) = (980, 700);

/// The line the app logs once the UI has painted.
const READY_LINE: &str = "ui ready";

pub struct RunOptions {
    pub release: bool,
    pub demo: bool,
    pub screenshot: Option<PathBuf>,
    /// An app already built, run instead of building one (the test run's screenshot step).
    pub binary: Option<PathBuf>,
}

impl RunOptions {
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut o = RunOptions {
            release: false,
            demo: false,
            screenshot: None,
            binary: None,
        };
        let mut it = args.iter();
        while let Some(a) = it.next() {
            match a.as_str() {
                "--release" => o.release = true,
                "--demo" => o.demo = true,
                "--screenshot" => {
                    let path = it.next().ok_or("--screenshot needs a file path")?;
                    o.screenshot = Some(PathBuf::from(path));
                }
                "--binary" => {
                    let path = it.next().ok_or("--binary needs the app's path")?;
                    o.binary = Some(PathBuf::from(path));
                }
                other => return Err(format!("unknown option for run: {other}")),
            }
        }
        Ok(o)
    }
}

/// Builds the app and runs it until it exits (or, with `--screenshot`, until the picture is
/// taken).
pub fn run(o: &RunOptions) -> Result<(), String> {
    setup::ensure(setup::Mode::Quiet)?;
    let binary = match &o.binary {
        Some(b) => b.clone(),
        None => build(o.release, o.demo)?,
    };
    let mut app = Command::new(&binary);
    if o.demo {
        app.arg("--demo");
    }

    // A screenshot always uses a private display of the window's size, so that it shows just
    // the window whatever the desktop looks like.
    let headless = cfg!(target_os = "linux")
        && (o.screenshot.is_some() || std::env::var_os("DISPLAY").is_none());
    let session = if headless {
        Some(Headless::start(&mut app, o.screenshot.is_some())?)
    } else {
        None
    };

    match &o.screenshot {
        None => sh(&mut app),
        Some(path) => {
            let display = session.as_ref().map(|s| s.xvfb.display.clone());
            screenshot(app, display, path)
        }
    }
}

/// The private display (and, where needed, session bus) of a headless run.
pub struct Headless {
    pub xvfb: Xvfb,
    /// Held only to keep the private bus alive for the run.
    _bus: Option<SessionBus>,
}

impl Headless {
    /// Starts Xvfb (and a private bus when there is none, or when `private_bus`) and points
    /// `app` at them.
    pub fn start(app: &mut Command, private_bus: bool) -> Result<Self, String> {
        let xvfb = Xvfb::start(WINDOW.0, WINDOW.1)?;
        println!(
            "run: no display in use; Herald runs under Xvfb on {} (invisible)",
            xvfb.display
        );
        app.env("DISPLAY", &xvfb.display)
            .env_remove("WAYLAND_DISPLAY");
        let bus = if private_bus || std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            let bus = SessionBus::start()?;
            app.env("DBUS_SESSION_BUS_ADDRESS", &bus.address);
            Some(bus)
        } else {
            None
        };
        Ok(Self { xvfb, _bus: bus })
    }
}

fn build(release: bool, demo: bool) -> Result<PathBuf, String> {
    let mut cargo = Command::new(crate::cargo());
    cargo
        .current_dir(crate::root())
        .args(["build", "-p", "herald"]);
    if demo {
        cargo.args(["--features", "demo"]);
    }
    if release {
        cargo.args(["--release", "--features", "tauri/custom-protocol"]);
    }
    sh(&mut cargo)?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join("target"));
    let exe = if cfg!(windows) {
        "herald.exe"
    } else {
        "herald"
    };
    Ok(target
        .join(if release { "release" } else { "debug" })
        .join(exe))
}

/// Starts the app, waits until its UI reports it has painted, saves the screen, and stops it.
pub fn screenshot(mut app: Command, display: Option<String>, path: &PathBuf) -> Result<(), String> {
    let display = display.ok_or("--screenshot needs Linux with Xvfb")?;
    let mut child = app
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start Herald: {e}"))?;
    let (tx, rx) = mpsc::channel();
    if let Some(stderr) = child.stderr.take() {
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                eprintln!("{line}");
                if line.contains(READY_LINE) {
                    let _ = tx.send(());
                }
            }
        });
    }
    let ready = rx.recv_timeout(Duration::from_secs(90));
    let result = match ready {
        Ok(()) => {
            // The UI says it painted after two animation frames; give the compositor-less
            // X server a moment to receive the last damage.
            std::thread::sleep(Duration::from_millis(700));
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            sh(Command::new("import")
                .env("DISPLAY", &display)
                .args(["-window", "root"])
                .arg(path))
            .map(|()| println!("run: screenshot saved to {}", path.display()))
        }
        Err(_) => Err("Herald did not report a painted window within 90 s".into()),
    };
    terminate(&mut child);
    result
}
