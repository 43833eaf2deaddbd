//! SQLCipher links OpenSSL's libcrypto on Linux and Windows, and OpenSSL 3 registers its global
//! clean-up with `atexit` the first time it is used. At process exit that clean-up frees
//! OpenSSL's tables while another thread may still be encrypting a page (a store commit on a
//! blocking thread, the engine's last write as the app quits from the tray), and the process
//! crashes in its last moment — seen as a SIGSEGV after the app's mock-runtime tests passed,
//! about one run in twenty. Initialising libcrypto first with `OPENSSL_INIT_NO_ATEXIT` leaves
//! that memory to the operating system, which reclaims it at exit anyway.
//!
//! SQLCipher also frees its own private heap at exit (an `atexit` handler and a `.fini_array`
//! entry that nothing can switch off), so this is not enough on its own: a process must stop
//! its store writers before it exits — the service's `shutdown`, which the app awaits on quit
//! and the mock-runtime tests await when each test ends.
//!
//! [`skip_exit_cleanup`] runs from [`super::first_open::prepare`], before the process's first
//! SQLite connection.

/// Makes OpenSSL skip its exit-time clean-up. Called once per process, before SQLite starts.
pub(super) fn skip_exit_cleanup() {
    #[cfg(not(target_vendor = "apple"))]
    {
        // From openssl/crypto.h: `# define OPENSSL_INIT_NO_ATEXIT 0x00080000L`.
        const OPENSSL_INIT_NO_ATEXIT: u64 = 0x0008_0000;
        extern "C" {
            fn OPENSSL_init_crypto(opts: u64, settings: *const std::ffi::c_void) -> i32;
        }
        // SAFETY: a documented libcrypto entry point, called with a null settings pointer
        // (allowed: "settings may be NULL"); it only sets process-wide init flags, and
        // `first_open`'s `Once` makes it run once, before any other use of libcrypto by this
        // process's SQLite connections. Its return value only says whether initialisation
        // worked; a failure leaves OpenSSL to initialise itself later, as it would without
        // this call.
        let _ = unsafe { OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, std::ptr::null()) };
    }
}
