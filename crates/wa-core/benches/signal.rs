//! Pairwise Signal work, the same as `conformance/bench-signal.mjs` does with libsignal-node:
//! X3DH on each side (the initiator from a bundle, the responder decrypting the first pkmsg),
//! and a 100-byte message encrypted and decrypted in an established session, once along one
//! chain and once alternating (a DH ratchet step per message). Each iteration takes the record
//! and stores the new one, as the store does.
//!
//! Times are CPU time of the benchmark thread (`support/cpu_time.rs`).
//!
//! `cargo bench -p wa-core --bench signal -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/cpu_time.rs"]
mod cpu_time;

use std::hint::black_box;

use cpu_time::CpuTime;
use criterion::{criterion_group, criterion_main, Criterion};
use rand::rngs::StdRng;
use rand::SeedableRng;
use wa_core::signal::{
    KeyPair, LocalIdentity, PreKeyBundle, PreKeyLookup, PreKeyRecord, SessionRecord,
    SignedPreKeyRecord,
};

const MESSAGE: [u8; 100] = [0x42; 100];

struct Keys {
    signed: SignedPreKeyRecord,
    one_time: PreKeyRecord,
}

impl PreKeyLookup for Keys {
    fn pre_key(&self, id: u32) -> Option<PreKeyRecord> {
        (id == self.one_time.id).then(|| self.one_time.clone())
    }
    fn signed_pre_key(&self, id: u32) -> Option<SignedPreKeyRecord> {
        (id == self.signed.id).then(|| self.signed.clone())
    }
}

fn signal(c: &mut Criterion<CpuTime>) {
    let mut rng = StdRng::seed_from_u64(1);
    let alice = LocalIdentity {
        key_pair: KeyPair::generate(&mut rng),
        registration_id: 1,
    };
    let bob = LocalIdentity {
        key_pair: KeyPair::generate(&mut rng),
        registration_id: 2,
    };
    let keys = Keys {
        signed: SignedPreKeyRecord::generate(1, &bob.key_pair, &mut rng),
        one_time: PreKeyRecord::generate(7, &mut rng),
    };
    let bundle = PreKeyBundle::from_local(&bob, &keys.signed, Some(&keys.one_time));

    let mut x3dh = c.benchmark_group("x3dh");
    // Part of the initiator's work that libsignal-node's initOutgoing leaves out.
    x3dh.bench_function("bundle_signature_check", |b| {
        b.iter(|| black_box(&bundle).verify_signature().unwrap())
    });
    x3dh.bench_function("initiator_from_bundle", |b| {
        b.iter(|| {
            SessionRecord::new()
                .initiate(&alice, black_box(&bundle), None, &mut rng)
                .unwrap()
        })
    });
    let started = SessionRecord::new()
        .initiate(&alice, &bundle, None, &mut rng)
        .unwrap();
    let (_, first) = started.encrypt(&MESSAGE).unwrap();
    x3dh.bench_function("responder_first_pkmsg", |b| {
        b.iter(|| {
            SessionRecord::new()
                .decrypt_prekey_message(&bob, &keys, None, black_box(first.serialized()), &mut rng)
                .unwrap()
        })
    });
    x3dh.finish();

    // An established session: Alice started it, Bob answered, Alice read the answer.
    let opened = SessionRecord::new()
        .decrypt_prekey_message(&bob, &keys, None, first.serialized(), &mut rng)
        .unwrap();
    let (bob_record, reply) = opened.record.encrypt(b"reply").unwrap();
    let alice_record = started
        .decrypt_message(reply.serialized(), &mut rng)
        .unwrap()
        .record;

    let mut message = c.benchmark_group("message_100B");
    let (mut a, mut b_rec) = (alice_record.clone(), bob_record.clone());
    message.bench_function("encrypt_decrypt_same_chain", |bench| {
        bench.iter(|| {
            let (next, out) = a.encrypt(black_box(&MESSAGE)).unwrap();
            a = next;
            let got = b_rec.decrypt_message(out.serialized(), &mut rng).unwrap();
            b_rec = got.record;
            black_box(got.plaintext)
        })
    });
    let (mut a, mut b_rec) = (alice_record, bob_record);
    let mut alice_turn = true;
    message.bench_function("encrypt_decrypt_alternating", |bench| {
        bench.iter(|| {
            let (from, to) = if alice_turn {
                (&mut a, &mut b_rec)
            } else {
                (&mut b_rec, &mut a)
            };
            alice_turn = !alice_turn;
            let (next, out) = from.encrypt(black_box(&MESSAGE)).unwrap();
            *from = next;
            let got = to.decrypt_message(out.serialized(), &mut rng).unwrap();
            *to = got.record;
            black_box(got.plaintext)
        })
    });
    message.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().with_measurement(CpuTime::default());
    targets = signal
}
criterion_main!(benches);
