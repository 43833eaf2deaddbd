#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // WebKitGTK's accelerated compositing keeps about 50 MB of extra buffers in the web
    // process; Herald's window has no animations that need it. Set before GTK starts (no
    // other thread exists yet); an explicit value in the environment wins.
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
    herald_app::run()
}
