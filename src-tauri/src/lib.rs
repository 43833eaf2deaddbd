//! Herald's desktop shell.
//!
//! Thin by design: it turns UI commands into calls on the service, and service events into UI
//! events, tray updates and notifications. Nothing here decides anything about the connection.

pub mod autostart;
pub mod commands;
pub mod demo;
pub mod error;
pub mod events;
pub mod logging;
pub mod notify;
pub mod paths;
pub mod schedule_commands;
pub mod state;
pub mod tray;
pub mod updater;
pub mod window;
pub mod window_place;

use crate::demo::Demo;
use herald_core::service::{Service, ServiceOptions};
use tauri::{Manager, RunEvent, Runtime};

pub use state::AppState;

/// The builder shared by the real app and the tests (which pass `tauri::test::mock_builder()`).
pub fn configure<R: Runtime>(builder: tauri::Builder<R>, state: AppState) -> tauri::Builder<R> {
    builder
        .manage(state)
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::connection_state,
            commands::health,
            commands::history,
            commands::timeline,
            commands::export_history_csv,
            commands::save_support_bundle,
            commands::start_pairing,
            commands::pair_with_phone,
            commands::reconnect_now,
            commands::logout,
            commands::get_settings,
            commands::set_settings,
            commands::demo_scan,
            commands::demo_fault,
            commands::ui_ready,
            commands::quit,
            schedule_commands::list_schedules,
            schedule_commands::get_schedule,
            schedule_commands::create_schedule,
            schedule_commands::edit_schedule,
            schedule_commands::check_number,
            schedule_commands::pause_schedule,
            schedule_commands::resume_schedule,
            schedule_commands::duplicate_schedule,
            schedule_commands::delete_schedule,
            schedule_commands::send_schedule_now,
            schedule_commands::preview_schedule,
            schedule_commands::schedule_sends,
            schedule_commands::scheduler_status,
            schedule_commands::phone_countries,
            schedule_commands::time_zones,
            schedule_commands::account_groups,
        ])
}

/// Starts the service for this launch: against the real WhatsApp, or against the built-in
/// simulator in demo mode.
pub async fn start_service(
    options: &paths::LaunchOptions,
    data_dir: &std::path::Path,
) -> Result<AppState, String> {
    let demo = if options.demo {
        Some(
            Demo::start(&data_dir.join("simulator"))
                .await
                .map_err(|e| e.to_string())?,
        )
    } else {
        None
    };
    let service = Service::start(ServiceOptions {
        data_dir: data_dir.to_path_buf(),
        server: demo.as_ref().map(Demo::target).or(options.server.clone()),
        // Only the real WhatsApp publishes its version; the demo never leaves this computer.
        fetch_version: demo.is_none() && options.server.is_none(),
        program_name: "Herald".into(),
        // The demo's session is thrown away; it never needs a place in the user's keychain.
        keychain: demo
            .is_none()
            .then(|| herald_core::service::KEYCHAIN_SERVICE.to_owned()),
    })
    .map_err(|e| e.to_string())?;
    Ok(AppState::new(service, demo))
}

/// Starts the desktop app; returns when the user quits.
pub fn run() {
    let options = match paths::LaunchOptions::from_env_and_args() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("herald: {e}");
            std::process::exit(2);
        }
    };
    // GTK panics without a display; say what to do instead.
    if cfg!(target_os = "linux")
        && std::env::var_os("DISPLAY").is_none()
        && std::env::var_os("WAYLAND_DISPLAY").is_none()
    {
        eprintln!(
            "herald: no display to open a window on. Start it from a desktop session, use \
             `cargo xtask run` (which starts a virtual display), or run `herald-cli connect` \
             on a server."
        );
        std::process::exit(1);
    }
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

    let state = match tauri::async_runtime::block_on(start_service(&options, &data_dir)) {
        Ok(state) => state,
        Err(e) => {
            tracing::error!(error = %e, "Herald could not start its service");
            eprintln!("herald: {e}");
            std::process::exit(1);
        }
    };
    let service = state.service.clone();
    let hidden = options.hidden;

    let single_instance = tauri_plugin_single_instance::Builder::new()
        .dbus_id(paths::instance_id(&options))
        .callback(|app, _args, _cwd| {
            tracing::info!("second launch: focusing the running instance");
            window::show_main(app);
        })
        .build();

    let app = configure(tauri::Builder::default(), state)
        .plugin(single_instance)
        .setup(move |app| {
            let handle = app.handle().clone();
            let presence = tray::create(&handle);
            app.state::<AppState>().set_tray(presence);
            events::forward(handle.clone(), service.clone());
            updater::start(&handle);
            if hidden && presence == state::TrayPresence::Shown {
                tracing::info!("started in the tray; the window opens from the tray menu");
            } else {
                window::show_main(&handle);
            }
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
    app.run(|handle, event| match event {
        // The last window closed. Live on in the tray only where the user can see the tray
        // and get the window back from it; otherwise closing the window means quitting.
        RunEvent::ExitRequested {
            code: None, api, ..
        } if handle.state::<AppState>().lives_in_tray() => {
            tracing::info!("window closed; Herald keeps running in the tray");
            api.prevent_exit();
        }
        RunEvent::Exit => {
            let service = handle.state::<AppState>().service.clone();
            tauri::async_runtime::block_on(service.shutdown());
            tracing::info!("Herald stopped");
        }
        _ => {}
    });
}
