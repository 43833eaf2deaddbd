//! Giving memory back after a burst of work, so a process that idles for days (the tray app,
//! `herald-cli serve` on a small VM) does not keep what one busy minute needed.
//!
//! Three things stay behind otherwise: the phone-number library's compiled rules (it caches
//! up to 100 compiled regular expressions, about 150 kB each, and never drops them); free heap
//! that glibc's allocator keeps mapped because it is not at the top of the heap; and the
//! program's own code pages, which the kernel maps 64 kB at a time around each one used, so
//! after start-up most of a 20 MB binary is resident though an idle link runs a sliver of it.
//! Each burst of such work calls [`note_work`] (the service's start, each number check);
//! once none has come for [`IDLE`], the service's release task drops the compiled rules, asks
//! the allocator to return every free page, and hands the binary's code pages back to the
//! kernel. What is used again comes back: a rule is compiled again (well under a millisecond),
//! a code page is read again from the page cache or the disk.

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
        let pages = page_out_code();
        tracing::debug!(pages, "memory given back after a burst of work");
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

/// Asks the kernel to reclaim the resident pages of this program's read-only mappings (its
/// code and constants) now rather than under memory pressure, as it would for any idle
/// program; the few an idle link runs fault back in at once. Writable mappings are left
/// alone. Returns how many bytes were in the mappings it asked about (0 where the platform
/// has no such request: Linux before 5.4, other systems).
pub fn page_out_code() -> u64 {
    #[cfg(target_os = "linux")]
    {
        let Ok(exe) = std::fs::read_link("/proc/self/exe") else {
            return 0;
        };
        let Ok(maps) = std::fs::read_to_string("/proc/self/maps") else {
            return 0;
        };
        let mut asked = 0;
        for (start, end) in read_only_ranges(&maps, &exe.to_string_lossy()) {
            // SAFETY: the range is one of our own mappings, read-only and backed by the
            // executable file; MADV_PAGEOUT only drops pages the kernel can read back
            // unchanged, so no memory the program can observe changes.
            let rc = unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_PAGEOUT)
            };
            if rc == 0 {
                asked += (end - start) as u64;
            }
        }
        asked
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// The address ranges of `path`'s read-only mappings in a `/proc/PID/maps` text.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn read_only_ranges(maps: &str, path: &str) -> Vec<(usize, usize)> {
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let range = fields.next()?;
            let perms = fields.next()?;
            // offset, device, inode, then the path (which may hold spaces).
            let mapped: Vec<&str> = fields.skip(3).collect();
            if mapped.join(" ") != path || perms.as_bytes().get(1) != Some(&b'-') {
                return None;
            }
            let (start, end) = range.split_once('-')?;
            let start = usize::from_str_radix(start, 16).ok()?;
            let end = usize::from_str_radix(end, 16).ok()?;
            (end > start).then_some((start, end))
        })
        .collect()
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
    fn finds_the_read_only_mappings_of_the_program() {
        let maps = "\
55d000000000-55d000001000 r--p 00000000 fd:01 42     /usr/bin/herald cli
55d000001000-55d000009000 r-xp 00001000 fd:01 42     /usr/bin/herald cli
55d000009000-55d00000a000 rw-p 00009000 fd:01 42     /usr/bin/herald cli
55d00000a000-55d00000b000 r-xp 00000000 fd:01 43     /usr/lib/libc.so.6
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0      [stack]
garbage line
";
        assert_eq!(
            read_only_ranges(maps, "/usr/bin/herald cli"),
            vec![
                (0x55d0_0000_0000, 0x55d0_0000_1000),
                (0x55d0_0000_1000, 0x55d0_0000_9000)
            ]
        );
        assert!(read_only_ranges(maps, "/usr/bin/other").is_empty());
    }

    #[test]
    fn paging_out_code_keeps_the_program_running() {
        // The test binary's code is asked about (Linux 5.4 and later accept the request), and
        // runs on: a paged-out page faults back in.
        let asked = page_out_code();
        if cfg!(target_os = "linux") {
            assert!(asked > 0);
        }
        let mut v: Vec<u32> = (0..1000).rev().collect();
        v.sort_unstable();
        assert_eq!(v[10], 10);
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
