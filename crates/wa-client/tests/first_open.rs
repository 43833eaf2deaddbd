//! The process's first SQLite connections, opened by many threads at once: every encrypted
//! store opens. SQLite marks itself initialised before SQLCipher's start-up hook has run, so
//! a thread that opened a keyed store in that window used to get "An error occurred with
//! PRAGMA key or rekey" — and a store whose key seemed not to open it is archived. The race
//! exists only once per process, so this file holds one test and nothing else.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Barrier};

use wa_client::store::{KeySource, Store};

#[test]
fn many_threads_opening_their_first_stores_at_once_all_succeed() {
    const THREADS: usize = 12;
    let root = std::env::temp_dir().join(format!(
        "wa-client-first-open-{}-{}",
        std::process::id(),
        rand::random::<u64>()
    ));
    // Each thread makes a store, closes it, and opens it again with its key: the second open
    // is the one that needs SQLCipher ready when it sets the key.
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let dir = root.join(format!("store-{i}"));
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                let first = Store::open_with(&dir, &KeySource::default()).map(drop);
                let again = Store::open_with(&dir, &KeySource::default()).map(drop);
                (
                    first.map_err(|e| e.to_string()),
                    again.map_err(|e| e.to_string()),
                )
            })
        })
        .collect();
    let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let _ = std::fs::remove_dir_all(&root);
    for (i, (first, again)) in results.iter().enumerate() {
        assert!(first.is_ok(), "store {i}, first open: {first:?}");
        assert!(again.is_ok(), "store {i}, opened again: {again:?}");
    }
}
