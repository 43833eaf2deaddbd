//! Giving memory back after a burst of work, so a process that idles for days (the tray app,
//! `herald-cli serve` on a small VM) does not keep what one busy minute needed.
//!
//! Two things stay behind otherwise: the phone-number library's compiled rules (it caches up
//! to 100 compiled regular expressions, about 150 kB each, and never drops them), and free
//! heap that glibc's allocator keeps mapped because it is not at the top of the heap. Each
//! piece of work that fills them calls [`note_work`]; once none has come for [`IDLE`], the
//! service's release task drops the compiled rules and asks the allocator to return every
//! free page. The next number check compiles the few rules it needs again (well under a
//! millisecond each).

use std::future::Future;
use std::time::Duration;

use tokio::sync::Notify;

/// How long without work before memory is given back: longer than the gaps inside a burst
/// (a person typing numbers, a script creating schedules), short next to a day of idling.
pub const IDLE: Duration = Duration::from_secs(10);

/// Wakes release tasks when work was done; one shared by the whole process, since what is
/// released (the library's cache, the allocator's free pages) is process-wide too.
static WORK: IdleRelease = IdleRelease::new();

/// Records that work which leaves memory behind just ran.
pub fn note_work() {
    WORK.note();
}

/// The process's release task: runs until dropped, [`IDLE`] after each burst calling
/// `forget` (the caches the caller knows of) and then giving the free heap back.
pub(crate) fn release_task(forget: fn()) -> impl Future<Output = ()> {
    WORK.run(IDLE, move || {
        forget();
        return_free_heap();
    })
}

/// A burst detector: `note` on each piece of work, `run` releases once no note came for the
/// idle time.
pub struct IdleRelease {
    work: Notify,
}

impl IdleRelease {
    pub const fn new() -> IdleRelease {
        IdleRelease {
            work: Notify::const_new(),
        }
    }

    /// Records work. Notes that come while no task waits are kept as one pending note.
    pub fn note(&self) {
        self.work.notify_one();
    }

    /// Calls `release` once after every burst: a burst starts with a note and ends when
    /// `idle` passes without another.
    pub async fn run(&self, idle: Duration, mut release: impl FnMut()) {
        loop {
            self.work.notified().await;
            // Each note within `idle` of the previous one extends the burst.
            while tokio::time::timeout(idle, self.work.notified())
                .await
                .is_ok()
            {}
            release();
        }
    }
}

impl Default for IdleRelease {
    fn default() -> Self {
        IdleRelease::new()
    }
}

/// Returns every free page of the heap to the system. glibc gives back only the top of its
/// heaps by itself; free chunks below a live one stay mapped until asked.
pub fn return_free_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks the allocator's own free lists, under its own locks.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Bytes the allocator has handed out and not had back, where the allocator says (glibc).
pub fn heap_in_use() -> Option<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 reads the allocator's counters and returns them by value.
        let info = unsafe { libc::mallinfo2() };
        // Small allocations (`uordblks`) plus the big ones glibc maps on their own (`hblkhd`).
        Some((info.uordblks + info.hblkhd) as u64)
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    async fn settle() {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn releases_once_per_burst_after_the_idle_time() {
        let release = Arc::new(IdleRelease::new());
        let count = Arc::new(AtomicUsize::new(0));
        let task = {
            let (release, count) = (release.clone(), count.clone());
            tokio::spawn(async move {
                release
                    .run(Duration::from_secs(10), || {
                        count.fetch_add(1, Ordering::SeqCst);
                    })
                    .await;
            })
        };
        settle().await;
        // Nothing done yet: nothing to release, however long it idles.
        tokio::time::advance(Duration::from_secs(60)).await;
        settle().await;
        assert_eq!(count.load(Ordering::SeqCst), 0);

        // A burst: notes 9 s apart keep extending it.
        for _ in 0..5 {
            release.note();
            settle().await;
            tokio::time::advance(Duration::from_secs(9)).await;
            settle().await;
            assert_eq!(count.load(Ordering::SeqCst), 0);
        }
        tokio::time::advance(Duration::from_secs(2)).await;
        settle().await;
        assert_eq!(count.load(Ordering::SeqCst), 1);

        // Idle again: no second release without new work.
        tokio::time::advance(Duration::from_secs(60)).await;
        settle().await;
        assert_eq!(count.load(Ordering::SeqCst), 1);

        // Many notes at once are one burst.
        for _ in 0..100 {
            release.note();
        }
        settle().await;
        tokio::time::advance(Duration::from_secs(11)).await;
        settle().await;
        assert_eq!(count.load(Ordering::SeqCst), 2);
        task.abort();
    }

    #[test]
    fn the_heap_is_counted_and_trimming_keeps_live_data() {
        let Some(before) = heap_in_use() else {
            return;
        };
        let block = vec![7u8; 4 << 20];
        let during = heap_in_use().unwrap();
        assert!(during >= 4 << 20 && before > 0, "{before} then {during}");
        return_free_heap();
        assert!(block.iter().all(|&b| b == 7));
    }
}
