//! The phone-number library's compiled rules are what a burst of number checks leaves on the
//! heap; dropping them gives the megabytes back and checks keep working. Alone in its own
//! test binary, so no other test checks numbers while the heap is counted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use herald_core::memory::{heap_in_use, return_free_heap};
use herald_core::schedule::recipient::{compiled_rules, forget_compiled_rules, Recipient};

fn check_many() {
    for i in 0..200 {
        Recipient::parse(&format!("+447911{:06}", 100_000 + i)).unwrap();
        Recipient::parse(&format!("+4915123{:06}", 100_000 + i)).unwrap();
        Recipient::parse_national("US", &format!("202 555 {:04}", 100 + i)).unwrap();
    }
}

#[test]
fn forgetting_the_compiled_rules_gives_their_memory_back() {
    check_many();
    assert!(compiled_rules() > 5, "{}", compiled_rules());
    let Some(before) = heap_in_use() else {
        // Not glibc: nothing counts the heap here.
        return;
    };
    forget_compiled_rules();
    return_free_heap();
    let after = heap_in_use().unwrap();
    assert_eq!(compiled_rules(), 0);
    assert!(
        before > after + 1_000_000,
        "heap in use {before} B before, {after} B after"
    );

    // Checks work as before, compiling again what they need.
    assert_eq!(
        Recipient::parse("+49 151 2345 6789").unwrap(),
        Recipient::Phone("+4915123456789".into())
    );
    assert!(Recipient::parse("+49 000").is_err());
    assert!(compiled_rules() > 0);
}
