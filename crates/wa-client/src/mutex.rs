//! The one way this workspace takes a `std::sync::Mutex`.
//!
//! A lock is poisoned when a thread panicked while holding it. Everything these mutexes guard
//! stays usable after such a panic: the session store writes each change in one SQLite
//! transaction, and the health snapshot, the app's shared view and the caches are plain values
//! that the next update overwrites. So the guard is taken back from the poison and used, in one
//! place, instead of each caller choosing between recovering, skipping the update, or failing.

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`, recovering it if a panic poisoned it (see the module docs for why that is
/// safe for every mutex in the workspace).
///
/// ```
/// use std::sync::Mutex;
/// let counter = Mutex::new(1);
/// *wa_client::mutex::lock(&counter) += 1;
/// assert_eq!(*wa_client::mutex::lock(&counter), 2);
/// ```
pub fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| {
        tracing::warn!("a lock was poisoned by a panic; its value is used as it was left");
        poisoned.into_inner()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn a_poisoned_lock_still_gives_its_last_value() {
        let m = Arc::new(Mutex::new(5));
        let m2 = m.clone();
        let panicked = std::thread::spawn(move || {
            let mut g = m2.lock().unwrap();
            *g = 6;
            panic!("poison it");
        })
        .join();
        assert!(panicked.is_err());
        assert!(m.is_poisoned());
        assert_eq!(*lock(&m), 6);
        *lock(&m) = 7;
        assert_eq!(*lock(&m), 7);
    }
}
