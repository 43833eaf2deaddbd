//! Start at login: a login item that launches Herald hidden in the tray.
//!
//! Linux: an XDG autostart entry (`~/.config/autostart/herald.desktop`); macOS: a launch agent;
//! Windows: the `Run` registry key — all through the `auto-launch` crate.

use crate::error::UiError;

/// Registers (or removes) the login item for this executable.
pub fn apply(enabled: bool, demo: bool) -> Result<(), UiError> {
    if demo {
        // The demo is for watching; never make it start with the computer.
        tracing::info!(
            enabled,
            "demo mode: start at login is saved but not registered"
        );
        return Ok(());
    }
    let exe = std::env::current_exe().map_err(|e| failed(e.to_string()))?;
    let launcher = auto_launch::AutoLaunchBuilder::new()
        .set_app_name("Herald")
        .set_app_path(&exe.to_string_lossy())
        .set_args(&["--hidden"])
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let result = if enabled {
        launcher.enable()
    } else {
        launcher.disable()
    };
    result.map_err(|e| failed(e.to_string()))?;
    tracing::info!(enabled, "start at login updated");
    Ok(())
}

fn failed(why: String) -> UiError {
    UiError::new(
        "autostart",
        format!("Herald could not change its login item: {why}."),
        "The setting was saved; check your desktop's startup applications.",
    )
}
