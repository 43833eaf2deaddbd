#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    #[cfg(target_os = "linux")]
    lighter_webkit();
    herald_app::run()
}

/// Memory settings for WebKitGTK and GTK, each measured with `cargo xtask measure` (README,
/// "Desktop app"). Set before GTK starts, while no other thread exists; a value already in the
/// environment wins, so each can be turned back on.
#[cfg(target_os = "linux")]
fn lighter_webkit() {
    let default = |name: &str, value: &str| {
        if std::env::var_os(name).is_none() {
            std::env::set_var(name, value);
        }
    };
    // Accelerated compositing keeps about 50 MB of extra buffers in the web process; Herald's
    // window has no animations that need it.
    default("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    let compositing_off =
        std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_some_and(|v| v != "0");
    if compositing_off {
        // Without compositing nothing in the app process draws with OpenGL, yet GTK opens GLX
        // when it connects to the display, which maps Mesa and its LLVM (about 20 MB) into a
        // process that may live in the tray for days without a window.
        default("GDK_GL", "disable");
        // Frames come from the web process in shared memory without compositing; the DMA-BUF
        // renderer only adds its set-up in the app process (5 MB).
        default("WEBKIT_DISABLE_DMABUF_RENDERER", "1");
    }
    // The page's scripts are a few kilobytes that run on events; JavaScriptCore's interpreter
    // is fast enough for them, and without its JIT compilers the web process is 6 MB smaller.
    default("JSC_useJIT", "0");
}
