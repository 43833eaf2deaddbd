//! What must happen once per process before its first SQLite connection, and be finished
//! before any second one opens.
//!
//! * OpenSSL is told to leave its exit-time clean-up alone ([`super::openssl_exit`]).
//! * SQLite is initialised on one thread, to the end. SQLCipher hooks its own start-up into
//!   `sqlite3_initialize` (`SQLITE_EXTRA_INIT`), but SQLite marks itself initialised *before*
//!   it runs that hook, outside its init mutex. A second thread opening a connection in that
//!   window finds SQLite ready and SQLCipher not, and its `PRAGMA key` fails ("An error
//!   occurred with PRAGMA key or rekey…"). The engine's store and the app database open on
//!   different threads at start-up, and a key that seems not to open its store gets the store
//!   archived; `tests/first_open.rs` hit the window in one run of eight before this.
//!
//! [`prepare`] runs both under one `Once`: every other caller waits until they are done.
//! Every opener in this crate and in herald-core calls it first; after the first call it
//! costs one atomic load.

use std::sync::Once;

/// Readies the process for SQLite; idempotent and cheap.
pub fn prepare() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        super::openssl_exit::skip_exit_cleanup();
        // Opening a connection runs `sqlite3_initialize`, SQLCipher's hook included, on this
        // thread; the connection itself is not needed. If it fails, SQLite stays
        // uninitialised and the caller's own open reports the error.
        if let Err(error) = rusqlite::Connection::open_in_memory() {
            tracing::warn!(%error, "SQLite could not start");
        }
    });
}
