//! Sender-key (group) cipher speed: encrypt and decrypt of a 100-byte padded plaintext, the
//! distribution message parse, and the record's store round trip.
//! `conformance/bench-sender-keys.mjs` has Baileys' GroupCipher do the same work.
//!
//! Each operation is the transactional one the client runs: it borrows a record and builds the
//! new one, so every iteration does the same work from the same state. Times are CPU time of
//! the benchmark thread (see `support/cpu_time.rs`).
//!
//! `cargo bench -p wa-core --bench sender_keys -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cpu_time.rs"]
mod cpu_time;

use std::hint::black_box;

use cpu_time::CpuTime;
use criterion::{criterion_group, criterion_main, Criterion};
use rand::rngs::StdRng;
use rand::SeedableRng;
use wa_core::signal::group::{SenderKeyDistributionMessage, SenderKeyRecord};

fn sender_keys(c: &mut Criterion<CpuTime>) {
    let mut rng = StdRng::seed_from_u64(1);
    let plaintext = [0x61u8; 100];
    let (own, skdm) = SenderKeyRecord::new_own(&mut rng);
    let receiver = SenderKeyRecord::new().process_distribution(&skdm);
    let message = own.encrypt(&plaintext, &mut rng).unwrap().message;
    // A receiver that has skipped 500 keys (a busy group while we were offline): the record
    // it clones and the list it searches are at a realistic worst.
    let mut behind = own.clone();
    let mut late = Vec::new();
    for i in 0..501 {
        let m = behind.encrypt(&plaintext, &mut rng).unwrap();
        behind = m.record;
        if i == 0 {
            late = m.message;
        }
    }
    let last = behind.encrypt(&plaintext, &mut rng).unwrap().message;
    let with_skipped = receiver.decrypt(&last).unwrap().record;
    let skdm_bytes = skdm.encode();

    let mut group = c.benchmark_group("sender_keys");
    group.bench_function("group_encrypt_100B", |b| {
        b.iter(|| own.encrypt(black_box(&plaintext), &mut rng).unwrap())
    });
    group.bench_function("group_decrypt_100B", |b| {
        b.iter(|| receiver.decrypt(black_box(&message)).unwrap())
    });
    group.bench_function("group_decrypt_late_of_500_skipped", |b| {
        b.iter(|| with_skipped.decrypt(black_box(&late)).unwrap())
    });
    group.bench_function("skdm_parse", |b| {
        b.iter(|| SenderKeyDistributionMessage::parse(black_box(&skdm_bytes)).unwrap())
    });
    let stored = receiver.decrypt(&message).unwrap().record.serialize();
    group.bench_function("record_deserialize_serialize", |b| {
        b.iter(|| {
            SenderKeyRecord::deserialize(black_box(&stored))
                .unwrap()
                .serialize()
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime::default());
    targets = sender_keys
}
criterion_main!(benches);
