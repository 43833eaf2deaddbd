//! Herald's desktop shell.
//!
//! Thin by design: it turns UI commands into calls on the service, and service events into UI
//! events, tray updates and notifications. Nothing here decides anything about the connection.

pub mod commands;
pub mod logging;
pub mod notify;
pub mod paths;
pub mod state;
pub mod tray;
pub mod window;

use tauri::{Manager, RunEvent, Runtime};

pub use state::{AppState, ConnectionView};

/// The builder shared by the real app and the tests (which pass `tauri::test::mock_builder()`).
pub fn configure<R: Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder
        .manage(AppState::default())
        .invoke_handler(tauri::generate_handler![
            commands::connection_state,
            commands::ui_ready,
            commands::quit,
        ])
}

/// Starts the desktop app; returns when the user quits.
pub fn run() {
    let options = paths::LaunchOptions::from_env_and_args();
    let data_dir = match paths::data_dir(&options) {
        Ok(dir) => dir,
        Err(e) => {
            eprintln!("herald: {e}");
            std::process::exit(1);
        }
    };
    // Keep the guard alive for the whole run: dropping it flushes and stops the log writer.
    let _log_guard = logging::init(&data_dir);
    tracing::info!(data_dir = %data_dir.display(), demo = options.demo, "herald starting");

    let single_instance = tauri_plugin_single_instance::Builder::new()
        .dbus_id(paths::instance_id(&options))
        .callback(|app, _args, _cwd| {
            tracing::info!("second launch: focusing the running instance");
            window::show_main(app);
        })
        .build();

    let app = configure(tauri::Builder::default())
        .plugin(single_instance)
        .setup(move |app| {
            let handle = app.handle().clone();
            let tray = tray::create(&handle);
            app.state::<AppState>().set_tray(tray);
            window::show_main(&handle);
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match app {
        Ok(app) => app,
        Err(e) => {
            tracing::error!(error = %e, "the desktop shell could not start");
            eprintln!("herald: could not start: {e}");
            std::process::exit(1);
        }
    };
    app.run(|handle, event| {
        if let RunEvent::ExitRequested {
            code: None, api, ..
        } = event
        {
            // The last window closed. Live on in the tray only where the user can see the tray
            // and get the window back from it; otherwise closing the window means quitting.
            if handle.state::<AppState>().lives_in_tray() {
                tracing::info!("window closed; Herald keeps running in the tray");
                api.prevent_exit();
            }
        }
    });
}
